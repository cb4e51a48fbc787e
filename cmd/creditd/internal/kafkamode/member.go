package kafkamode

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/history"
	"github.com/creditrisk/creditd/cmd/creditd/internal/metrics"
	kf "github.com/creditrisk/creditd/feeds/kafka"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
)

// ErrUsage marks an error in Kafka mode's flags (creditd exits 2).
var ErrUsage = errors.New("usage")

// Options configure a Member: the --kafka-* flags and what every mode
// shares.
type Options struct {
	Brokers, Topic, Group, TiersTopic, DeadLetterTopic string
	Partitioner                                        string // --kafka-partitioner
	Advertise                                          string // --advertise-addr; default: the listen address
	SessionTimeout                                     time.Duration
	SnapshotEvents                                     int
	SnapshotInterval                                   time.Duration
	SweepInterval                                      time.Duration
	ShutdownTimeout                                    time.Duration
	ClickHouseDSN                                      string
	DataDir, DrawDir                                   string

	// Shared is what every mode takes: configuration, model, keys,
	// tokens, observability.
	api.Shared
}

// Member is creditd in Kafka mode: a member of the consumer group
// --kafka-group over --kafka-topic, serving the HTTP API over the
// partitions it holds (and proxying the others').
type Member struct {
	o         Options
	mgr       *kf.Manager
	router    *kafkaRouter
	km        *kafkaMetrics
	hist      *history.History // nil without --clickhouse-dsn
	srv       *api.Server
	handler   http.Handler
	part      kf.Partitioner
	advertise string
	modelName string
}

// New builds the member listening on addr; Run joins the group.
func New(ctx context.Context, o Options, addr net.Addr) (*Member, error) {
	part, err := kf.ParsePartitioner(o.Partitioner)
	if err != nil {
		return nil, fmt.Errorf("%w: --kafka-partitioner: %v", ErrUsage, err)
	}
	probe, err := scoring.New(scoring.Options{Model: o.Model, Shards: 1})
	if err != nil {
		return nil, err
	}
	scheme := probe.Scheme()
	logger := o.Logger
	advertise := o.Advertise
	if advertise == "" {
		advertise = addr.String()
		if host, _, err := net.SplitHostPort(advertise); err == nil && net.ParseIP(host).IsUnspecified() {
			logger.Warn("listening on all interfaces without --advertise-addr: other instances cannot proxy to this one", "listen", advertise)
		}
	}
	m := &Member{o: o, part: part, advertise: advertise, modelName: probe.ModelName()}
	// States are made once Run holds partitions, after New set km and hist.
	newState := func(int) (kf.State, error) {
		eng, err := scoring.New(scoring.Options{Model: o.Model, Shards: kafkaEngineShards})
		if err != nil {
			return nil, err
		}
		return &kafkaState{eng: eng, dec: event.Decoder{Exceptions: o.Exceptions, Borrow: true}, tiers: o.TiersTopic, km: m.km, hist: m.hist}, nil
	}
	m.mgr, err = kf.New(kf.Options{
		Brokers: []string{o.Brokers}, Topic: o.Topic, Group: o.Group, DeadLetterTopic: o.DeadLetterTopic,
		OutputTopics: []string{o.TiersTopic}, AdvertiseAddr: advertise, Partitioner: part,
		SessionTimeout: o.SessionTimeout, SnapshotEvents: int64(o.SnapshotEvents),
		SnapshotInterval: o.SnapshotInterval, TickInterval: o.SweepInterval,
		Logger: logger.With("component", "kafka"),
	}, newState)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	mgr := m.mgr
	m.km = newKafkaMetrics(o.Metrics, mgr)
	m.router = newKafkaRouter(mgr, advertise, m.km, logger.With("component", "router"))
	ao := api.Options{Config: o.API, Router: m.router, Tokens: o.Tokens, Issuer: o.Issuer, JWKS: o.JWKS, Metrics: o.Metrics,
		Logger: logger, Exceptions: o.Exceptions, RenderHTML: o.RenderHTML,
		DrawDir: o.DrawDir, DrawScheme: scheme, DrawComplete: m.complete,
		// Objection events go to the source topic like POST /v1/events.
		EventSink: func(ctx context.Context, key, line []byte) error {
			return mgr.ProduceEvents(ctx, []kf.Record{{Key: key, Value: line}})
		}}
	if o.ClickHouseDSN != "" {
		m.hist, err = history.Open(ctx, history.Options{DSN: o.ClickHouseDSN, DataDir: o.DataDir, Metrics: o.Metrics,
			Logger: logger.With("component", "clickhouse"), Scheme: scheme.ID, Engine: m.engineOf})
		if err != nil {
			return nil, err
		}
		ao.History, ao.OnDraw = m.hist, m.hist.DrawDone
	}
	m.srv, err = api.New(ao)
	if err != nil {
		m.Close(ctx)
		return nil, err
	}
	m.handler = (&kafkaMode{s: m.srv, mgr: mgr, router: m.router, exc: o.Exceptions, issuer: o.Issuer,
		modelName: probe.ModelName(), schemeID: scheme.ID}).handler()
	return m, nil
}

// engineOf is the engine of the partition holding code, if held here.
func (m *Member) engineOf(code uscc.Code) *scoring.Engine {
	if st, _ := m.mgr.Lookup(m.mgr.PartitionFor(code[:])); st != nil {
		if ks, ok := st.(*kafkaState); ok {
			return ks.eng
		}
	}
	return nil
}

// complete says whether this member holds the whole province, as a draw
// needs.
func (m *Member) complete() error {
	st := m.mgr.Status()
	live := 0
	for _, p := range st.Held {
		if p.Phase == "live" || p.Phase == "retained" {
			live++
		}
	}
	if st.Partitions == 0 || live < st.Partitions {
		return fmt.Errorf("it holds %d of the %d partitions of %s; a draw needs the whole population (run it on an instance that holds every partition, e.g. a single-member group)",
			live, st.Partitions, m.o.Topic)
	}
	return nil
}

// Server is the member's HTTP API.
func (m *Member) Server() *api.Server { return m.srv }

// Handler serves the API with Kafka mode's routes.
func (m *Member) Handler() http.Handler { return m.handler }

// Listening describes the member for the "listening" lines.
func (m *Member) Listening() (attrs []any, note string) {
	o := m.o
	return []any{"advertise", m.advertise, "mode", "kafka", "brokers", o.Brokers, "topic", o.Topic, "group", o.Group,
			"partitioner", m.part.Name(), "model", m.modelName},
		fmt.Sprintf("model %s, kafka group %s on %s", m.modelName, o.Group, o.Topic)
}

// Recover does nothing: partitions restore once Run holds them.
func (m *Member) Recover(context.Context) error { return nil }

// Run is the consumer group member until ctx ends; it then snapshots,
// commits and leaves the group within --shutdown-timeout.
func (m *Member) Run(ctx context.Context) error { return m.mgr.Run(ctx, m.o.ShutdownTimeout) }

// StopRunFirst is true: the member snapshots, commits and leaves the group
// while requests in flight finish.
func (m *Member) StopRunFirst() bool { return true }

// Start watches readiness (the Server's once the group is joined,
// per-partition readiness is the router's) and refreshes the entities
// gauge, until runCtx ends.
func (m *Member) Start(_, runCtx context.Context) error {
	go m.watch(runCtx)
	return nil
}

func (m *Member) watch(ctx context.Context) {
	mt, logger := m.o.Metrics, m.o.Logger
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	wasReady := false
	lastTiers := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st := m.mgr.Status()
		if st.Joined {
			m.srv.SetReady(true) // per-partition readiness is the router's
		}
		if st.Ready != wasReady {
			wasReady = st.Ready
			if st.Ready {
				mt.Ready.Set(1)
				n := 0
				for _, p := range st.Held {
					n += p.Entities
				}
				logger.Info("ready", "partitions", len(st.Held), "entities", n)
				fmt.Fprintf(m.o.Stdout, "creditd ready: %d partitions, %d entities\n", len(st.Held), n)
			} else {
				mt.Ready.Set(0)
			}
		}
		if time.Since(lastTiers) >= m.o.SweepInterval {
			lastTiers = time.Now()
			refreshEntitiesGauge(ctx, mt, m.router.Engines())
		}
	}
}

// Stopped is what the "stopped" line says.
func (m *Member) Stopped() []any {
	st := m.mgr.Status()
	return []any{"snapshots", st.Snapshots, "commits", st.Commits}
}

// Close flushes the history store.
func (m *Member) Close(ctx context.Context) {
	if m.hist != nil {
		m.hist.Close(ctx)
	}
}

// refreshEntitiesGauge sets creditd_entities from the held partitions.
func refreshEntitiesGauge(ctx context.Context, m *metrics.Set, engs []*scoring.Engine) {
	n := 0
	for _, e := range engs {
		st, err := e.TierStats(ctx, time.Now(), "")
		if err != nil {
			return
		}
		n += st.Entities
	}
	m.Entities.Set(float64(n))
}
