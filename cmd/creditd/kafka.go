package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creditrisk/creditd/cmd/creditd/internal/ingest"
	"github.com/creditrisk/creditd/cmd/creditd/internal/metrics"
	"github.com/creditrisk/creditd/feeds/deadletter"
	kf "github.com/creditrisk/creditd/feeds/kafka"
	"github.com/creditrisk/creditd/models"
	"github.com/creditrisk/creditd/scoring"
)

// Kafka mode.
//
// With --kafka-brokers, creditd is one member of a consumer group over the
// events topic. feeds/kafka owns the group protocol, the partitions'
// restore, consumption, outputs, snapshots and commits; this file gives it
// the per-partition state (a scoring.Engine per source partition, so that a
// partition's state can move alone), routes queries to the partition that
// holds an entity (here, or another member over HTTP), and serves the
// Kafka-specific endpoints. See docs/kafka.md.

// kafkaEngineShards is the shard count of each partition's engine. It is
// part of the snapshot format: changing it makes existing snapshots
// unreadable (the partitions are then rebuilt from the source topic).
const kafkaEngineShards = 8

// Headers between members.
const (
	// hdrForwarded marks a request proxied by a member: it is never proxied
	// again (no loops while ownership changes).
	hdrForwarded = "X-Creditd-Forwarded-By"
	// hdrLocal asks a member for its local part of a fan-out query.
	hdrLocal = "X-Creditd-Local"
	// hdrPartitions lists the partitions a local answer covers.
	hdrPartitions = "X-Creditd-Partitions"
	// hdrServedBy names the member that answered.
	hdrServedBy = "X-Creditd-Served-By"
)

// kafkaMetrics are Kafka mode's metrics; the per-partition gauges are read
// from the manager's status at scrape time.
type kafkaMetrics struct {
	applied, duplicate prometheus.Counter
	rejected           *prometheus.CounterVec // curried: outcome=rejected
	tierEvent          prometheus.Counter
	tierTime           prometheus.Counter
	proxied            *prometheus.CounterVec // by result
}

func newKafkaMetrics(m *metrics.Set, mgr *kf.Manager) *kafkaMetrics {
	km := &kafkaMetrics{
		applied:   m.Events.WithLabelValues("applied", ""),
		duplicate: m.Events.WithLabelValues("duplicate", ""),
		rejected:  m.Events.MustCurryWith(prometheus.Labels{"outcome": "rejected"}),
		tierEvent: m.TierChanges.WithLabelValues("event"),
		tierTime:  m.TierChanges.WithLabelValues("time"),
		proxied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creditd_kafka_proxied_requests_total",
			Help: "Requests for entities of partitions held by another member, by result (proxied, unavailable)."}, []string{"result"}),
	}
	m.Registry.MustRegister(km.proxied, &kafkaCollector{mgr: mgr})
	return km
}

// kafkaCollector exports the manager's status.
type kafkaCollector struct{ mgr *kf.Manager }

var (
	kdPhase = prometheus.NewDesc("creditd_kafka_partition_phase",
		"Held partitions by phase (1 for the partition's current phase: restoring, live, retained).", []string{"partition", "phase"}, nil)
	kdLag = prometheus.NewDesc("creditd_kafka_consumer_lag",
		"Messages between a held partition's position and its high watermark when last fetched.", []string{"partition"}, nil)
	kdPos = prometheus.NewDesc("creditd_kafka_position",
		"Next offset to apply, per held partition.", []string{"partition"}, nil)
	kdCommitted = prometheus.NewDesc("creditd_kafka_committed_offset",
		"Committed offset per held partition (-1: none).", []string{"partition"}, nil)
	kdProgress = prometheus.NewDesc("creditd_kafka_restore_progress",
		"Restore progress of a held partition in [0, 1]; 1 once live.", []string{"partition"}, nil)
	kdRestoreBytes = prometheus.NewDesc("creditd_kafka_restore_snapshot_bytes",
		"Snapshot bytes read by the current or last restore of a partition.", []string{"partition"}, nil)
	kdReplayLeft = prometheus.NewDesc("creditd_kafka_restore_replay_remaining",
		"Messages left to replay before a restoring partition is live.", []string{"partition"}, nil)
	kdRestoreSecs = prometheus.NewDesc("creditd_kafka_restore_seconds",
		"Duration of a partition's last completed restore.", []string{"partition"}, nil)
	kdSnapOffset = prometheus.NewDesc("creditd_kafka_snapshot_offset",
		"Source offset of the snapshot the partition's commit names (-1: none).", []string{"partition"}, nil)
	kdEntities = prometheus.NewDesc("creditd_kafka_partition_entities",
		"Entities in a held partition's state.", []string{"partition"}, nil)
	kdReady = prometheus.NewDesc("creditd_kafka_ready",
		"1 when this member has joined its group and every partition it holds is live.", nil, nil)
	kdGeneration = prometheus.NewDesc("creditd_kafka_generation", "Consumer group generation.", nil, nil)
	kdMembers    = prometheus.NewDesc("creditd_kafka_group_members", "Members of the consumer group.", nil, nil)
	kdCounters   = map[string]*prometheus.Desc{}
)

var kafkaCounterNames = []struct{ name, help string }{
	{"rebalances", "Consumer group generations joined."},
	{"snapshots", "Partition snapshots written to the snapshot topic."},
	{"snapshot_bytes", "Bytes of partition snapshots written."},
	{"snapshot_failures", "Partition snapshots that failed."},
	{"outputs", "Records written to the dead-letter and tier-change topics."},
	{"output_errors", "Failed (and retried) output writes."},
	{"commits", "Partition offsets committed."},
	{"commit_errors", "Failed offset commits."},
	{"restore_gaps", "Restores that found source records deleted before they were applied."},
	{"produced", "Events produced to the source topic by POST /v1/events."},
}

func init() {
	for _, c := range kafkaCounterNames {
		kdCounters[c.name] = prometheus.NewDesc("creditd_kafka_"+c.name+"_total", c.help, nil, nil)
	}
}

func (c *kafkaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{kdPhase, kdLag, kdPos, kdCommitted, kdProgress, kdRestoreBytes, kdReplayLeft,
		kdRestoreSecs, kdSnapOffset, kdEntities, kdReady, kdGeneration, kdMembers} {
		ch <- d
	}
	for _, d := range kdCounters {
		ch <- d
	}
}

func (c *kafkaCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.mgr.Status()
	g := func(d *prometheus.Desc, v float64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
	}
	for _, p := range st.Held {
		ps := strconv.Itoa(p.Partition)
		g(kdPhase, 1, ps, p.Phase)
		g(kdLag, float64(p.Lag), ps)
		g(kdPos, float64(p.Position), ps)
		g(kdCommitted, float64(p.Committed), ps)
		g(kdProgress, p.Progress, ps)
		g(kdRestoreBytes, float64(p.RestoreBytes), ps)
		left := int64(0)
		if p.Phase == "restoring" && p.ReplayTo > p.Position {
			left = p.ReplayTo - max(p.Position, p.ReplayFrom)
		}
		g(kdReplayLeft, float64(left), ps)
		g(kdRestoreSecs, p.RestoreSeconds, ps)
		g(kdSnapOffset, float64(p.SnapshotOffset), ps)
		g(kdEntities, float64(p.Entities), ps)
	}
	ready := 0.0
	if st.Ready {
		ready = 1
	}
	g(kdReady, ready)
	g(kdGeneration, float64(st.Generation))
	g(kdMembers, float64(len(st.Members)))
	vals := map[string]int64{"rebalances": st.Rebalances, "snapshots": st.Snapshots, "snapshot_bytes": st.SnapshotBytes,
		"snapshot_failures": st.SnapshotFailures, "outputs": st.Outputs, "output_errors": st.OutputErrors,
		"commits": st.Commits, "commit_errors": st.CommitErrors, "restore_gaps": st.RestoreGaps, "produced": st.Produced}
	for name, d := range kdCounters {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(vals[name]))
	}
}

// kafkaState is one source partition's state: a scoring.Engine of its own.
type kafkaState struct {
	eng   *scoring.Engine
	dec   models.EventDecoder
	ev    models.Event
	tiers string
	km    *kafkaMetrics
	hist  *history // ClickHouse history, nil without --clickhouse-dsn
	// Counted here and added to the shared counters once per batch: twelve
	// goroutines incrementing one counter per event fight over its cache
	// line.
	nApplied, nDuplicate, nTier int
}

// Apply implements kf.State. The time rules' "now" (the 24-hour future
// rule, the instant of a tier change) is the record's timestamp, or the
// clock if that is earlier: a replay then decides exactly as the first
// application did.
func (s *kafkaState) Apply(m *kf.Message, emit kf.Emit) kf.Result {
	// The decoder borrows m.Value (Borrow mode): nothing decoded outlives
	// this call — the engine copies what it keeps, and outputs (dead
	// letters, tier changes) are encoded before Apply returns.
	if err := s.dec.Decode(m.Value, &s.ev); err != nil {
		var rej *models.RejectError
		if !errors.As(err, &rej) {
			rej = &models.RejectError{Reason: models.ReasonInvalidField, Detail: err.Error()}
		}
		s.km.rejected.WithLabelValues(rej.Reason).Inc()
		return kf.Result{Outcome: kf.Rejected, Reason: rej.Reason, Detail: rej.Detail}
	}
	if string(m.Key) != string(s.ev.USCC[:]) {
		s.km.rejected.WithLabelValues(kf.ReasonKeyMismatch).Inc()
		return kf.Result{Outcome: kf.Rejected, Reason: kf.ReasonKeyMismatch, EventID: s.ev.ID,
			Detail: fmt.Sprintf("the message key %q is not the event's USCC %s (keys are the canonical upper-case code)", truncateText(string(m.Key), 40), s.ev.USCC)}
	}
	now := m.Fetched
	if now.IsZero() {
		now = time.Now()
	}
	if !m.Time.IsZero() && m.Time.Before(now) {
		now = m.Time
	}
	r, err := s.eng.ApplyAt(&s.ev, now, true, nil)
	if err != nil {
		var rej *models.RejectError
		if !errors.As(err, &rej) {
			rej = &models.RejectError{Reason: models.ReasonInvalidField, Detail: err.Error()}
		}
		s.km.rejected.WithLabelValues(rej.Reason).Inc()
		return kf.Result{Outcome: kf.Rejected, Reason: rej.Reason, Detail: rej.Detail, EventID: s.ev.ID}
	}
	if r.Outcome == scoring.Duplicate {
		s.nDuplicate++
		return kf.Result{Outcome: kf.Duplicate, EventID: s.ev.ID}
	}
	s.nApplied++
	if s.hist != nil && !m.Replay {
		s.hist.Applied(&s.ev, r.Facts, m.Value, deadletter.KafkaSource(m.Topic, int32(m.Partition), m.Offset), uint64(m.Offset))
		for _, c := range r.TierChanges() {
			s.hist.TierChanged(c)
		}
	}
	for _, c := range r.TierChanges() {
		s.nTier++
		// An entity's first tier is not a change: it is not published (a
		// province loading its population would send every subscriber
		// millions of records without news; the tier is in the report).
		if !m.Replay && c.From != models.NoTier {
			emit(s.tierOutput(c, m))
		}
	}
	return kf.Result{Outcome: kf.Applied, EventID: s.ev.ID}
}

// EndBatch implements kf.BatchEnder: the counts go to the metrics.
func (s *kafkaState) EndBatch() {
	if s.nApplied > 0 {
		s.km.applied.Add(float64(s.nApplied))
	}
	if s.nDuplicate > 0 {
		s.km.duplicate.Add(float64(s.nDuplicate))
	}
	if s.nTier > 0 {
		s.km.tierEvent.Add(float64(s.nTier))
	}
	s.nApplied, s.nDuplicate, s.nTier = 0, 0, 0
}

// Tick implements kf.State: the time rules.
func (s *kafkaState) Tick(now time.Time, emit kf.Emit) {
	s.eng.Advance(now, func(c scoring.TierChange) {
		s.km.tierTime.Inc()
		if s.hist != nil {
			s.hist.TierChanged(c)
		}
		if c.From != models.NoTier {
			emit(s.tierOutput(c, nil))
		}
	})
}

// tierOutput is c's record of the tier-changes topic (models.TierChange);
// m is the source message, nil for a time rule's change.
func (s *kafkaState) tierOutput(c scoring.TierChange, m *kf.Message) kf.Output {
	scheme := s.eng.Scheme()
	tc := models.TierChange{USCC: c.USCC, Region: c.Region, Scheme: scheme.ID, Score: int(c.Score), At: c.At, Cause: c.Cause}
	if c.From != models.NoTier {
		tc.OldTier = scheme.Label(c.From)
	}
	if c.To != models.NoTier {
		tc.NewTier = scheme.Label(c.To) // NoTier: deregistered, no longer in a tier
	}
	if m != nil {
		tc.Source = &models.TierChangeSource{Topic: m.Topic, Partition: int32(m.Partition), Offset: m.Offset}
	}
	return kf.Output{Topic: s.tiers, Key: []byte(c.USCC.String()), Value: tc.AppendJSON(make([]byte, 0, 256))}
}

// WriteSnapshot implements kf.State.
func (s *kafkaState) WriteSnapshot(w io.Writer, offset int64) error {
	return s.eng.WriteSnapshot(w, uint64(offset))
}

// ReadSnapshot implements kf.State.
func (s *kafkaState) ReadSnapshot(r io.Reader) (int64, error) {
	pos, err := s.eng.ReadSnapshot(r)
	return int64(pos), err
}

// Entities implements kf.State.
func (s *kafkaState) Entities() int { return s.eng.Len() }

// kafkaRouter is the Server's EntityRouter in Kafka mode.
type kafkaRouter struct {
	mgr    *kf.Manager
	self   string
	km     *kafkaMetrics
	logger *slog.Logger
	client *http.Client
	mu     sync.Mutex
	proxy  map[string]*httputil.ReverseProxy
}

func newKafkaRouter(mgr *kf.Manager, self string, km *kafkaMetrics, logger *slog.Logger) *kafkaRouter {
	tr := &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 32, IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: 60 * time.Second}
	return &kafkaRouter{mgr: mgr, self: self, km: km, logger: logger, client: &http.Client{Transport: tr, Timeout: 2 * time.Minute},
		proxy: map[string]*httputil.ReverseProxy{}}
}

// Route implements EntityRouter.
func (k *kafkaRouter) Route(w http.ResponseWriter, r *http.Request, code models.USCC) (*scoring.Engine, bool) {
	p := k.mgr.PartitionFor(code[:])
	if p < 0 {
		unavailable(w, r, 2, "this instance has not joined its consumer group yet")
		return nil, false
	}
	st, ph := k.mgr.Lookup(p)
	switch ph {
	case kf.PhaseLive, kf.PhaseRetained:
		w.Header().Set(hdrServedBy, k.self)
		return st.(*kafkaState).eng, true
	case kf.PhaseRestoring:
		retry, detail := 2, fmt.Sprintf("partition %d, which holds %s, is being restored", p, code)
		for _, ps := range k.mgr.Status().Held {
			if ps.Partition == p {
				detail += fmt.Sprintf(" (%.0f%% done)", 100*ps.Progress)
			}
		}
		unavailable(w, r, retry, detail)
		return nil, false
	}
	owner, ok := k.mgr.Owner(p)
	if r.Header.Get(hdrForwarded) != "" || !ok || owner.Self || owner.Addr == "" || owner.Addr == k.self {
		k.mgr.RefreshOwners()
		k.km.proxied.WithLabelValues("unavailable").Inc()
		unavailable(w, r, 1, fmt.Sprintf("partition %d, which holds %s, is changing owner", p, code))
		return nil, false
	}
	k.km.proxied.WithLabelValues("proxied").Inc()
	k.reverseProxy(owner.Addr).ServeHTTP(w, r)
	return nil, false
}

// Engines implements EntityRouter: the states held here that may be
// queried.
func (k *kafkaRouter) Engines() []*scoring.Engine {
	sts := k.mgr.States()
	ps := make([]int, 0, len(sts))
	for p := range sts {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	out := make([]*scoring.Engine, 0, len(ps))
	for _, p := range ps {
		out = append(out, sts[p].(*kafkaState).eng)
	}
	return out
}

// localPartitions lists the partitions Engines covers.
func (k *kafkaRouter) localPartitions() []int {
	var ps []int
	for p := range k.mgr.States() {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

func (k *kafkaRouter) reverseProxy(addr string) *httputil.ReverseProxy {
	k.mu.Lock()
	defer k.mu.Unlock()
	if p := k.proxy[addr]; p != nil {
		return p
	}
	target := &url.URL{Scheme: "http", Host: addr}
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
			pr.Out.Header.Set(hdrForwarded, k.self)
		},
		Transport: k.client.Transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			k.logger.Warn("proxying to the partition's owner failed", "owner", addr, "err", err)
			k.mgr.RefreshOwners()
			unavailable(w, r, 1, "the instance that holds this entity's partition did not answer; ownership is probably changing")
		},
	}
	k.proxy[addr] = p
	return p
}

func unavailable(w http.ResponseWriter, r *http.Request, retryAfter int, detail string) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	writeProblem(w, r, http.StatusServiceUnavailable, detail)
}

// kafkaMode holds Kafka mode's handlers.
type kafkaMode struct {
	s         *Server
	mgr       *kf.Manager
	router    *kafkaRouter
	cfg       *Config
	modelName string
	schemeID  string
}

// handler routes Kafka mode's own endpoints and hands the rest to the
// Server.
func (k *kafkaMode) handler() http.Handler {
	s := k.s
	mux := http.NewServeMux()
	mux.Handle("POST /v1/events", s.wrap("POST /v1/events", s.ingestGate(k.handleEvents)))
	mux.Handle("GET /readyz", s.wrap("GET /readyz", k.handleReady))
	mux.Handle("GET /{$}", s.wrap("GET /{$}", k.handleIndex))
	mux.Handle("GET /v1/stats/tiers", s.wrap("GET /v1/stats/tiers", k.handleTierStats))
	mux.Handle("GET /v1/kafka/status", k.wrap("GET /v1/kafka/status", nil, k.handleStatus))
	mux.Handle("GET /v1/kafka/partitions/{partition}/events", k.wrap("GET /v1/kafka/partitions/{partition}/events",
		[]Role{RoleRegulator}, k.handleExport))
	// Elsewhere the Server routes; a path of these routes with another
	// method gets 405 with the methods of both.
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(allowedMethods(r, mux)) > 0 {
			methodNotAllowed(w, r, allowedMethods(r, mux, s.mux))
			return
		}
		s.ServeHTTP(w, r)
	}))
	return mux
}

// wrap authorises a Kafka-mode route (nil roles: anyone) and counts it.
func (k *kafkaMode) wrap(route string, roles []Role, fn http.HandlerFunc) http.Handler {
	return k.s.wrapRoles(route, roles, fn)
}

func (k *kafkaMode) handleReady(w http.ResponseWriter, r *http.Request) {
	st := k.mgr.Status()
	restoring := []map[string]any{}
	for _, p := range st.Held {
		if p.Phase == "restoring" {
			restoring = append(restoring, map[string]any{"partition": p.Partition, "progress": p.Progress})
		}
	}
	if !st.Ready {
		detail := "joining the consumer group " + st.Group
		if st.Joined {
			detail = fmt.Sprintf("restoring %d of the %d partitions held", len(restoring), len(st.Held))
		}
		unavailable(w, r, 2, detail)
		return
	}
	entities := 0
	held := make([]int, 0, len(st.Held))
	for _, p := range st.Held {
		entities += p.Entities
		held = append(held, p.Partition)
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "entities": entities, "partitions": held,
		"of": st.Partitions, "group": st.Group, "generation": st.Generation})
}

func (k *kafkaMode) handleIndex(w http.ResponseWriter, r *http.Request) {
	s := k.s
	writeJSON(w, http.StatusOK, map[string]any{
		"service": "creditd", "mode": "kafka", "model": k.modelName, "tier_scheme": k.schemeID,
		"issuer": s.issuer.Code, "key_id": s.issuer.KeyID,
		"kafka": map[string]any{"topic": k.mgr.Options().Topic, "group": k.mgr.Options().Group,
			"partitioner": k.mgr.Options().Partitioner.Name(), "partitions": k.router.localPartitions()},
		"endpoints": []string{"GET /v1/entities/{uscc}", "GET /v1/reports/{uscc}", "GET /v1/keys", "POST /v1/events",
			"POST /v1/draws", "GET /v1/draws/{draw_id}", "GET /v1/draws/{draw_id}/population", "GET /v1/stats/tiers",
			"GET /v1/kafka/status", "GET /v1/kafka/partitions/{partition}/events", "GET /metrics", "GET /healthz", "GET /readyz"},
	})
}

func (k *kafkaMode) handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, k.mgr.Status())
}

// handleExport writes a held partition's state as credit-event/v1 NDJSON:
// each entity's applied events in an order that rebuilds it exactly, entity
// after entity in USCC order. It is the portable form of the partition
// (re-ingesting it anywhere rebuilds the same state).
func (k *kafkaMode) handleExport(w http.ResponseWriter, r *http.Request) {
	p, err := strconv.Atoi(r.PathValue("partition"))
	if err != nil || p < 0 {
		writeProblem(w, r, http.StatusBadRequest, "partition must be a partition number")
		return
	}
	st, ph := k.mgr.Lookup(p)
	if st == nil {
		if ph == kf.PhaseRestoring {
			unavailable(w, r, 2, fmt.Sprintf("partition %d is being restored", p))
			return
		}
		if owner, ok := k.mgr.Owner(p); ok && !owner.Self && owner.Addr != "" && r.Header.Get(hdrForwarded) == "" {
			k.router.reverseProxy(owner.Addr).ServeHTTP(w, r)
			return
		}
		unavailable(w, r, 1, fmt.Sprintf("partition %d is not held here and its owner is unknown", p))
		return
	}
	eng := st.(*kafkaState).eng
	var codes []models.USCC
	asOf := time.Now()
	for shard := range eng.Shards() {
		err := eng.Scan(r.Context(), shard, asOf, scoring.ScanOptions{}, func(e *scoring.EntityAt) error {
			codes = append(codes, e.USCC)
			return nil
		})
		if err != nil {
			return
		}
	}
	slices.SortFunc(codes, func(a, b models.USCC) int { return strings.Compare(string(a[:]), string(b[:])) })
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set(hdrServedBy, k.router.self)
	bw := newBufferedWriter(w)
	for _, c := range codes {
		lines, ok := eng.EntityEvents(c)
		if !ok {
			continue
		}
		for _, l := range lines {
			bw.Write(l)
			bw.Write([]byte{'\n'})
		}
	}
	bw.Flush()
}

// handleEvents produces an NDJSON body's events to the source topic, each
// keyed by its USCC on the partition the configured partitioner gives it,
// and answers 202 once the brokers acknowledged them. Applying is
// asynchronous: duplicates and state-dependent rejections (a ref to an
// unknown record, a repair too early) are decided by the partition's owner
// and go to the dead-letter topic. Lines that fail decoding are rejected
// here, reported, and dead-lettered.
func (k *kafkaMode) handleEvents(w http.ResponseWriter, r *http.Request) {
	s := k.s
	st := &kafkaStream{k: k, ctx: r.Context(), reqID: s.newRequestID(), dec: models.EventDecoder{Exceptions: s.exc},
		ans: eventsAnswer{Rejected: []ingest.Rejection{}}}
	err := s.bodyLines(w, r, st.add)
	if err == nil {
		err = st.flush()
	}
	var be *bodyError
	switch {
	case errors.As(err, &be):
		if st.chunks == 0 {
			writeProblem(w, r, be.status, be.msg+"; nothing was produced")
			return
		}
		writeProblem(w, r, be.status, fmt.Sprintf("%s; lines 1-%d were produced before (accepted %d, rejected %d, dead letters under source http:%s) and the rest was not read: sending the whole body again is safe, duplicate ids are no-ops",
			be.msg, st.last, st.ans.Applied, st.ans.RejectedTotal, st.reqID))
		return
	case err != nil:
		detail := err.Error() + "; nothing was produced"
		if st.chunks > 0 {
			detail = fmt.Sprintf("%s; lines 1-%d were produced before: sending the whole body again is safe (duplicate ids are no-ops)", err, st.last)
		}
		unavailable(w, r, 5, detail)
		return
	}
	ans := map[string]any{"accepted": st.ans.Applied, "rejected": st.ans.Rejected, "rejected_total": st.ans.RejectedTotal,
		"rejected_omitted": st.ans.Omitted, "topic": k.mgr.Options().Topic,
		"note": "accepted events are applied asynchronously by the consumer group; duplicates and rejections found against the state go to the dead-letter topic"}
	if st.ans.RejectedTotal > 0 {
		ans["dead_letters"] = map[string]any{"topic": k.mgr.Options().DeadLetterTopic, "source": "http:" + st.reqID,
			"written": st.dl.Written, "omitted": st.dl.Omitted}
	}
	writeJSON(w, http.StatusAccepted, ans)
}

// kafkaStream produces one POST /v1/events body to the topics chunk by
// chunk, with the limits of the local mode's eventStream: one chunk in
// memory (chunkLines lines or chunkBytes bytes), at most answerRejectedMax
// rejections listed, and dead letters within letterBudgetFactor bytes per
// body byte plus letterBudgetSlack (beyond that one summary letter per
// chunk names the rejected lines it stands for).
type kafkaStream struct {
	k     *kafkaMode
	ctx   context.Context
	reqID string
	dec   models.EventDecoder
	ev    models.Event

	recs    []kf.Record
	letters []deadletter.Letter
	bytes   int   // raw bytes pending
	read    int64 // body bytes read up to the end of the last line
	chunks  int   // chunks produced
	last    int64 // number of the last line produced

	usedLetters         int64 // bytes of letters produced one by one
	omitted             int   // this chunk's rejected lines over the budget
	firstOmit, lastOmit string
	scratch             []byte
	ans                 eventsAnswer // Applied counts accepted (produced) events
	dl                  deadLettersRef
}

func (st *kafkaStream) add(num int64, b []byte, end int64, rej *models.RejectError) error {
	var raw []byte
	if rej == nil {
		raw = append([]byte(nil), b...)
		if err := st.dec.Decode(raw, &st.ev); err != nil {
			if !errors.As(err, &rej) {
				rej = &models.RejectError{Reason: models.ReasonInvalidField, Detail: err.Error()}
			}
		}
	}
	st.read = end
	st.bytes += len(raw)
	if rej != nil {
		st.reject(num, rej, raw)
	} else {
		st.recs = append(st.recs, kf.Record{Key: []byte(st.ev.USCC.String()), Value: raw})
	}
	st.last = num
	if len(st.recs)+len(st.letters)+st.omitted >= chunkLines || st.bytes >= chunkBytes {
		return st.flush()
	}
	return nil
}

func (st *kafkaStream) reject(num int64, rej *models.RejectError, raw []byte) {
	a := &st.ans
	a.RejectedTotal++
	if len(a.Rejected) < answerRejectedMax {
		a.Rejected = append(a.Rejected, ingest.Rejection{Line: num, Reason: rej.Reason, Detail: rej.Detail})
	} else {
		a.Omitted++
	}
	src := deadletter.HTTPSource(st.reqID, num)
	l := deadletter.Letter{At: time.Now(), Source: src, Reason: rej.Reason, Detail: rej.Detail, Original: raw}
	st.scratch = l.AppendJSON(st.scratch[:0])
	size := int64(len(st.scratch)) + 1
	if st.usedLetters+size > letterBudgetFactor*st.read+letterBudgetSlack {
		if st.omitted == 0 {
			st.firstOmit = src
		}
		st.lastOmit = src
		st.omitted++
		st.dl.Omitted++
		return
	}
	st.usedLetters += size
	st.dl.Written++
	st.letters = append(st.letters, l)
}

// flush produces the pending dead letters, then the pending events.
func (st *kafkaStream) flush() error {
	if st.omitted > 0 {
		st.letters = append(st.letters, ingest.OmittedLetter(time.Now(), st.firstOmit, st.lastOmit, st.omitted))
		st.omitted = 0
	}
	if len(st.recs) == 0 && len(st.letters) == 0 {
		return nil
	}
	if err := st.k.mgr.WriteDeadLetters(st.ctx, st.letters, nil); err != nil {
		return err
	}
	if err := st.k.mgr.ProduceEvents(st.ctx, st.recs); err != nil {
		return err
	}
	st.ans.Applied += len(st.recs)
	st.chunks++
	clear(st.recs)
	clear(st.letters)
	st.recs, st.letters, st.bytes = st.recs[:0], st.letters[:0], 0
	return nil
}

// handleTierStats answers GET /v1/stats/tiers for the whole province: each
// member answers for the partitions it holds (hdrLocal), and the parts are
// summed once they cover every partition.
func (k *kafkaMode) handleTierStats(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(hdrLocal) != "" {
		w.Header().Set(hdrPartitions, joinInts(k.router.localPartitions()))
		k.s.handleTierStats(w, r)
		return
	}
	n := k.mgr.Partitions()
	type part struct {
		body  []byte
		parts []int
		err   error
	}
	var parts []part
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, mb := range k.mgr.Members() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p part
			if mb.Self {
				rec := httptest.NewRecorder()
				lr := r.Clone(r.Context())
				lr.Header.Set(hdrLocal, "1")
				k.handleTierStats(rec, lr)
				if rec.Code != http.StatusOK {
					p.err = fmt.Errorf("local part: %d %s", rec.Code, rec.Body.String())
				}
				p.body, p.parts = rec.Body.Bytes(), splitInts(rec.Header().Get(hdrPartitions))
			} else {
				p.body, p.parts, p.err = k.fetchLocal(r, mb.Addr)
			}
			mu.Lock()
			parts = append(parts, p)
			mu.Unlock()
		}()
	}
	wg.Wait()
	covered := map[int]bool{}
	var merged *tierStatsDoc
	for _, p := range parts {
		if p.err != nil {
			continue
		}
		var ts tierStatsDoc
		if len(p.parts) == 0 || json.Unmarshal(p.body, &ts) != nil {
			continue // a member holding no partition adds nothing
		}
		dup := false
		for _, q := range p.parts {
			dup = dup || covered[q]
		}
		if dup {
			continue // two members answered for one partition (ownership moving): retry
		}
		for _, q := range p.parts {
			covered[q] = true
		}
		if merged == nil {
			merged = &ts
		} else if err := merged.add(&ts); err != nil {
			unavailable(w, r, 1, err.Error())
			return
		}
	}
	if merged == nil || len(covered) < n {
		missing := []int{}
		for q := range n {
			if !covered[q] {
				missing = append(missing, q)
			}
		}
		unavailable(w, r, 2, fmt.Sprintf("partitions %v are being restored or are changing owner", missing))
		return
	}
	merged.finish()
	writeJSON(w, http.StatusOK, merged)
}

func (k *kafkaMode) fetchLocal(r *http.Request, addr string) ([]byte, []int, error) {
	u := url.URL{Scheme: "http", Host: addr, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set(hdrLocal, "1")
	req.Header.Set(hdrForwarded, k.router.self)
	if a := r.Header.Get("Authorization"); a != "" {
		req.Header.Set("Authorization", a)
	}
	resp, err := k.router.client.Do(req)
	if err != nil {
		k.mgr.RefreshOwners()
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%s answered %d", addr, resp.StatusCode)
	}
	return b, splitInts(resp.Header.Get(hdrPartitions)), nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func splitInts(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// bufferedWriter batches small writes of a streamed answer.
type bufferedWriter struct {
	w   io.Writer
	buf []byte
}

func newBufferedWriter(w io.Writer) *bufferedWriter {
	return &bufferedWriter{w: w, buf: make([]byte, 0, 64<<10)}
}

func (b *bufferedWriter) Write(p []byte) {
	if len(b.buf)+len(p) > cap(b.buf) {
		b.Flush()
	}
	b.buf = append(b.buf, p...)
}

func (b *bufferedWriter) Flush() {
	if len(b.buf) > 0 {
		_, _ = b.w.Write(b.buf)
		b.buf = b.buf[:0]
	}
}

// runKafka is creditd in Kafka mode: a member of the consumer group
// --kafka-group over --kafka-topic.
func runKafka(ctx context.Context, c *common) error {
	cfg := c.cfg
	part, err := kf.ParsePartitioner(cfg.KafkaPartition)
	if err != nil {
		return fmt.Errorf("%w: --kafka-partitioner: %v", errUsage, err)
	}
	probe, err := scoring.New(scoring.Options{Model: c.model, Shards: 1})
	if err != nil {
		return err
	}
	scheme := probe.Scheme()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	advertise := cfg.AdvertiseAddr
	if advertise == "" {
		advertise = ln.Addr().String()
		if host, _, err := net.SplitHostPort(advertise); err == nil && net.ParseIP(host).IsUnspecified() {
			c.logger.Warn("listening on all interfaces without --advertise-addr: other instances cannot proxy to this one", "listen", advertise)
		}
	}
	m := metrics.New()
	logger := c.logger
	var km *kafkaMetrics
	var hist *history
	newState := func(int) (kf.State, error) {
		eng, err := scoring.New(scoring.Options{Model: c.model, Shards: kafkaEngineShards})
		if err != nil {
			return nil, err
		}
		return &kafkaState{eng: eng, dec: models.EventDecoder{Exceptions: c.exc, Borrow: true}, tiers: cfg.KafkaTiers, km: km, hist: hist}, nil
	}
	mgr, err := kf.New(kf.Options{
		Brokers: []string{cfg.KafkaBrokers}, Topic: cfg.KafkaTopic, Group: cfg.KafkaGroup, DeadLetterTopic: cfg.KafkaDLQ,
		OutputTopics: []string{cfg.KafkaTiers}, AdvertiseAddr: advertise, Partitioner: part,
		SessionTimeout: cfg.KafkaSessionTimeout, SnapshotEvents: int64(cfg.SnapshotEvents),
		SnapshotInterval: cfg.SnapshotInterval, TickInterval: cfg.SweepInterval,
		Logger: logger.With("component", "kafka"),
	}, newState)
	if err != nil {
		ln.Close()
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	km = newKafkaMetrics(m, mgr)
	router := newKafkaRouter(mgr, advertise, km, logger.With("component", "router"))
	srv := NewServer(&Server{cfg: cfg, owner: router, tokens: c.tokens, issuer: c.issuer, jwks: c.jwks, m: m,
		logger: logger, exc: c.exc, renderHTML: reportHTML})
	complete := func() error {
		st := mgr.Status()
		live := 0
		for _, p := range st.Held {
			if p.Phase == "live" || p.Phase == "retained" {
				live++
			}
		}
		if st.Partitions == 0 || live < st.Partitions {
			return fmt.Errorf("it holds %d of the %d partitions of %s; a draw needs the whole population (run it on an instance that holds every partition, e.g. a single-member group)",
				live, st.Partitions, cfg.KafkaTopic)
		}
		return nil
	}
	draws, err := newDrawServiceFor(c.dirs["draws"], router.Engines, complete, scheme, cfg, m, logger.With("component", "draws"))
	if err != nil {
		ln.Close()
		return err
	}
	srv.draws = draws
	if cfg.ClickHouseDSN != "" {
		hist, err = openHistory(ctx, cfg, cfg.Data, m, logger.With("component", "clickhouse"))
		if err != nil {
			ln.Close()
			return err
		}
		hist.scheme = scheme.ID
		hist.eng = func(code models.USCC) *scoring.Engine {
			if st, _ := mgr.Lookup(mgr.PartitionFor(code[:])); st != nil {
				if ks, ok := st.(*kafkaState); ok {
					return ks.eng
				}
			}
			return nil
		}
		srv.history = hist
		draws.onDraw = hist.DrawDone
		defer hist.Close(context.Background())
	}
	km2 := &kafkaMode{s: srv, mgr: mgr, router: router, cfg: cfg, modelName: probe.ModelName(), schemeID: scheme.ID}

	hs := newHTTPServer(km2.handler(), logger)
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Serve(limitConns(ln, cfg.MaxConns)) }()
	logger.Info("listening", "addr", ln.Addr().String(), "advertise", advertise, "mode", "kafka", "brokers", cfg.KafkaBrokers,
		"topic", cfg.KafkaTopic, "group", cfg.KafkaGroup, "partitioner", part.Name(), "model", probe.ModelName())
	fmt.Fprintf(c.stdout, "creditd listening on http://%s (model %s, kafka group %s on %s)\n", ln.Addr(), probe.ModelName(),
		cfg.KafkaGroup, cfg.KafkaTopic)

	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	runDone := make(chan error, 1)
	go func() { runDone <- mgr.Run(runCtx, cfg.ShutdownTimeout) }()

	// Readiness and the per-tier entity gauges.
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		wasReady := false
		lastTiers := time.Time{}
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
			}
			st := mgr.Status()
			if st.Joined {
				srv.ready.Store(true) // per-partition readiness is the router's
			}
			if st.Ready != wasReady {
				wasReady = st.Ready
				if st.Ready {
					m.Ready.Set(1)
					n := 0
					for _, p := range st.Held {
						n += p.Entities
					}
					logger.Info("ready", "partitions", len(st.Held), "entities", n)
					fmt.Fprintf(c.stdout, "creditd ready: %d partitions, %d entities\n", len(st.Held), n)
				} else {
					m.Ready.Set(0)
				}
			}
			if time.Since(lastTiers) >= cfg.SweepInterval {
				lastTiers = time.Now()
				refreshEntitiesGauge(runCtx, m, router.Engines())
			}
		}
	}()

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-httpDone:
		logger.Error("http server stopped", "err", err)
	case runErr = <-runDone:
		runDone <- runErr
		logger.Error("kafka consumer stopped", "err", runErr)
	}
	logger.Info("shutting down")
	srv.ready.Store(false)
	m.Ready.Set(0)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// Snapshot, commit and leave the group while in-flight requests finish.
	stopRun()
	srv.draws.Stop() // a running draw is cancelled, not waited for
	if err := hs.Shutdown(sctx); err != nil {
		logger.Warn("http shutdown", "err", err)
	}
	runErr = <-runDone
	st := mgr.Status()
	logger.Info("stopped", "snapshots", st.Snapshots, "commits", st.Commits)
	return runErr
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

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
