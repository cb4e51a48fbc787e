package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Manager runs one member of the consumer group: it owns the partitions the
// group assigns it, restores their States, applies their messages, writes
// their outputs and snapshots, and commits their positions.
type Manager struct {
	opts      Options
	newState  NewState
	log       *slog.Logger
	transport *kafkago.Transport
	cl        *kafkago.Client
	writer    *kafkago.Writer
	snaps     *snapStore
	bal       *stickyBalancer
	snapSem   chan struct{}
	snapBufs  chan []byte     // serialization buffers, reused: fresh memory is slow to fault in
	bg        context.Context // lives until Run returns; uploads and tombstones use it
	bgCancel  context.CancelFunc
	bgWG      sync.WaitGroup

	mu    sync.Mutex // guards parts and gen
	parts map[int]*partition
	gen   *kafkago.Generation

	view       atomic.Pointer[map[int]*partition]
	owners     atomic.Pointer[ownerMap]
	nparts     atomic.Int32
	joined     atomic.Bool
	running    atomic.Bool
	crash      atomic.Bool // tests: stop as a crash would (no final commit, outputs abandoned)
	refreshReq chan struct{}
	topicParts sync.Map // output topic -> partition count

	rebalances       atomic.Int64
	snapshots        atomic.Int64
	snapshotBytes    atomic.Int64
	snapshotFailures atomic.Int64
	snapshotSeconds  atomic.Int64 // nanoseconds of the last snapshot (serialize and upload)
	outputs          atomic.Int64
	outputErrors     atomic.Int64
	commits          atomic.Int64
	commitErrors     atomic.Int64
	restoreGaps      atomic.Int64
	produced         atomic.Int64
}

// New returns a Manager; Run starts it.
func New(opts Options, newState NewState) (*Manager, error) {
	if err := opts.EnsureDefaults(); err != nil {
		return nil, err
	}
	if newState == nil {
		return nil, errors.New("kafka: no State constructor")
	}
	codec, _ := compressionCodec(opts.SnapshotCompression)
	tr := &kafkago.Transport{ClientID: opts.ClientID, MetadataTTL: 5 * time.Second, DialTimeout: 5 * time.Second}
	cl := &kafkago.Client{Addr: kafkago.TCP(opts.Brokers...), Timeout: 30 * time.Second, Transport: tr}
	host, _ := os.Hostname()
	m := &Manager{opts: opts, newState: newState, log: opts.Logger, transport: tr, cl: cl,
		writer: newWriter(&opts, tr),
		snaps: &snapStore{cl: cl, topic: opts.SnapshotTopic, source: opts.Topic, chunk: opts.SnapshotChunkBytes, codec: codec,
			fetchBytes: max(opts.FetchMaxBytes, 4*opts.SnapshotChunkBytes), writer: host + ":" + strconv.Itoa(os.Getpid()), now: opts.Now},
		bal: &stickyBalancer{}, snapSem: make(chan struct{}, opts.SnapshotsInFlight),
		snapBufs: make(chan []byte, opts.SnapshotsInFlight),
		parts:    map[int]*partition{}, refreshReq: make(chan struct{}, 1)}
	m.bal.set(opts.AdvertiseAddr, nil)
	empty := map[int]*partition{}
	m.view.Store(&empty)
	m.owners.Store(&ownerMap{})
	return m, nil
}

// Options returns the effective options.
func (m *Manager) Options() Options { return m.opts }

// Partitions returns the source topic's partition count (0 before Run has
// read it).
func (m *Manager) Partitions() int { return int(m.nparts.Load()) }

// PartitionFor returns the partition of a key under the configured
// partitioner, or -1 before the partition count is known.
func (m *Manager) PartitionFor(key []byte) int {
	n := m.Partitions()
	if n == 0 {
		return -1
	}
	return m.opts.Partitioner.Partition(key, n)
}

// Phase is where a held partition is.
type Phase int32

// Phases.
const (
	// PhaseNone: this member does not hold the partition.
	PhaseNone Phase = iota
	// PhaseRestoring: loading its snapshot or replaying to its committed
	// offset; queries must wait.
	PhaseRestoring
	// PhaseLive: restored and consuming.
	PhaseLive
	// PhaseRetained: restored, held between generations (during a
	// rebalance); its state is valid up to its position.
	PhaseRetained
)

// String names the phase.
func (p Phase) String() string {
	return [...]string{"none", "restoring", "live", "retained"}[p]
}

// Lookup returns the State of partition p if this member holds it, and its
// phase. Only PhaseLive and PhaseRetained states may be queried.
func (m *Manager) Lookup(p int) (State, Phase) {
	if part := (*m.view.Load())[p]; part != nil {
		ph := Phase(part.phase.Load())
		if ph == PhaseLive || ph == PhaseRetained {
			return part.state, ph
		}
		return nil, ph
	}
	return nil, PhaseNone
}

// States returns the states this member holds that may be queried (live or
// retained), by partition.
func (m *Manager) States() map[int]State {
	out := map[int]State{}
	for p, part := range *m.view.Load() {
		if ph := Phase(part.phase.Load()); ph == PhaseLive || ph == PhaseRetained {
			out[p] = part.state
		}
	}
	return out
}

// Run joins the group and consumes until ctx is cancelled; then it stops
// applying, writes the pending outputs, snapshots the partitions that
// changed since their last snapshot, commits, and leaves the group, within
// shutdownTimeout.
func (m *Manager) Run(ctx context.Context, shutdownTimeout time.Duration) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("kafka: Run called twice")
	}
	m.bg, m.bgCancel = context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		m.bgWG.Wait()
		m.bgCancel()
		_ = m.writer.Close()
		m.transport.CloseIdleConnections()
	}()
	var n int
	for {
		var err error
		if n, err = m.ensureTopics(ctx); err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		m.log.Error("kafka topics not ready; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
	m.nparts.Store(int32(n))
	cg, err := kafkago.NewConsumerGroup(kafkago.ConsumerGroupConfig{
		ID: m.opts.Group, Brokers: m.opts.Brokers, Topics: []string{m.opts.Topic},
		GroupBalancers:    []kafkago.GroupBalancer{m.bal},
		HeartbeatInterval: m.opts.HeartbeatInterval, SessionTimeout: m.opts.SessionTimeout,
		RebalanceTimeout: m.opts.RebalanceTimeout, JoinGroupBackoff: m.opts.JoinBackoff,
		WatchPartitionChanges: true, PartitionWatchInterval: 10 * time.Second, StartOffset: kafkago.FirstOffset,
		Timeout:     10 * time.Second,
		ErrorLogger: kafkago.LoggerFunc(func(f string, a ...any) { m.log.Warn("kafka-go: " + fmt.Sprintf(f, a...)) }),
		Dialer:      &kafkago.Dialer{ClientID: m.opts.ClientID, Timeout: 10 * time.Second, DualStack: true},
	})
	if err != nil {
		return err
	}
	go m.ownerLoop(ctx)
	for {
		gen, err := cg.Next(ctx)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			if errors.Is(err, kafkago.InvalidSessionTimeout) {
				_ = cg.Close()
				return fmt.Errorf("the broker refuses a session timeout of %v (outside its group.min/max.session.timeout.ms): %w",
					m.opts.SessionTimeout, err)
			}
			m.log.Warn("joining the consumer group", "group", m.opts.Group, "err", err)
			continue
		}
		genDone, final := m.startGeneration(ctx, gen, shutdownTimeout)
		select {
		case <-genDone:
			continue
		case <-final:
		}
		break
	}
	m.joined.Store(false)
	err = cg.Close() // leaves the group
	m.mu.Lock()
	for p, part := range m.parts {
		part.phase.Store(int32(PhaseNone))
		delete(m.parts, p)
	}
	m.mu.Unlock()
	m.publishView()
	if err != nil && !errors.Is(err, kafkago.ErrGroupClosed) {
		m.log.Warn("leaving the consumer group", "err", err)
	}
	return nil
}

// startGeneration runs one generation in kafka-go's generation goroutine.
// genDone closes when the generation ended (a rebalance); final closes
// when the shutdown's final commit is done.
func (m *Manager) startGeneration(ctx context.Context, gen *kafkago.Generation, shutdownTimeout time.Duration) (<-chan struct{}, <-chan struct{}) {
	genDone, final := make(chan struct{}), make(chan struct{})
	gen.Start(func(gctx context.Context) {
		defer close(genDone)
		m.runGeneration(ctx, gctx, gen, shutdownTimeout, final)
	})
	return genDone, final
}

func (m *Manager) runGeneration(ctx, gctx context.Context, gen *kafkago.Generation, shutdownTimeout time.Duration, final chan struct{}) {
	m.rebalances.Add(1)
	assigned := gen.Assignments[m.opts.Topic]
	if n, err := partitionCount(gctx, m.cl, m.opts.Topic); err == nil && n > 0 {
		m.nparts.Store(int32(n))
	}
	pctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()

	// Keep the retained partitions that came back; drop the others.
	m.mu.Lock()
	m.gen = gen
	keep := map[int]int64{}
	for _, a := range assigned {
		keep[a.ID] = a.Offset
	}
	for p, part := range m.parts {
		if _, ok := keep[p]; !ok {
			part.phase.Store(int32(PhaseNone))
			delete(m.parts, p)
			m.log.Info("partition moved away; state dropped", "partition", p)
		}
	}
	var run []*partition
	owned := make([]int, 0, len(assigned))
	for _, a := range assigned {
		part := m.parts[a.ID]
		if part == nil {
			part = newPartition(a.ID)
			m.parts[a.ID] = part
		}
		part.committedAtJoin = a.Offset
		run = append(run, part)
		owned = append(owned, a.ID)
	}
	m.mu.Unlock()
	slices.Sort(owned)
	m.bal.set(m.opts.AdvertiseAddr, owned)
	m.publishView()
	m.joined.Store(true)
	m.log.Info("generation", "id", gen.ID, "member", gen.MemberID, "partitions", owned)
	m.requestRefresh()

	var wg sync.WaitGroup
	for _, part := range run {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.runPartition(pctx, part)
		}()
	}
	commitDone := make(chan struct{})
	go func() {
		defer close(commitDone)
		t := time.NewTicker(m.opts.CommitInterval)
		defer t.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-t.C:
				m.commit(pctx, gen, run)
			}
		}
	}()

	select {
	case <-gctx.Done():
	case <-ctx.Done():
	}
	shutdown := ctx.Err() != nil
	stop() // partitions stop applying and drain their outputs
	wg.Wait()
	<-commitDone
	if m.crash.Load() {
		m.mu.Lock()
		for p, part := range m.parts {
			part.phase.Store(int32(PhaseNone))
			delete(m.parts, p)
		}
		m.mu.Unlock()
		m.publishView()
		if shutdown {
			close(final)
			<-gctx.Done()
		}
		return
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(shutdownTimeout, time.Second))
	defer cancel()
	if shutdown {
		m.finalSnapshots(fctx, run)
	}
	m.commit(fctx, gen, run)
	var retained []int
	for _, part := range run {
		if Phase(part.phase.Load()) == PhaseLive && part.durable.Load() == part.pos.Load() {
			part.phase.Store(int32(PhaseRetained))
			retained = append(retained, part.id)
			continue
		}
		// Not restored, or outputs not written: a later owner (perhaps this
		// member) must restore it from the committed position.
		m.mu.Lock()
		if m.parts[part.id] == part {
			delete(m.parts, part.id)
		}
		m.mu.Unlock()
		part.phase.Store(int32(PhaseNone))
	}
	slices.Sort(retained)
	m.bal.set(m.opts.AdvertiseAddr, retained) // the states this member can keep
	m.publishView()
	if shutdown {
		close(final)
		select { // the group's Close ends the generation
		case <-gctx.Done():
		case <-time.After(shutdownTimeout + 5*time.Second):
		}
	}
}

func (m *Manager) publishView() {
	m.mu.Lock()
	v := make(map[int]*partition, len(m.parts))
	for p, part := range m.parts {
		v[p] = part
	}
	m.mu.Unlock()
	m.view.Store(&v)
}
