package kafka

import (
	"bytes"
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

	"github.com/creditrisk/creditd/models/deadletter"
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

// partition is one held source partition.
type partition struct {
	id    int
	state State
	phase atomic.Int32

	// Owned by the partition's goroutines.
	next        int64 // next offset to apply
	replayUntil int64 // offsets below are applied with Replay set
	sinceSnap   int64
	lastSnap    time.Time
	lastTick    time.Time

	committedAtJoin int64 // from the generation's assignment (negative: none)

	pos       atomic.Int64 // = next, for readers
	durable   atomic.Int64 // outputs written for offsets below this
	committed atomic.Int64 // last committed offset, -1 if none
	hwm       atomic.Int64
	logStart  atomic.Int64
	snapBusy  atomic.Bool

	restoreBytes      atomic.Int64
	restoreBytesTotal atomic.Int64
	replayFrom        atomic.Int64
	replayTo          atomic.Int64
	restoreNanos      atomic.Int64 // duration of the last completed restore

	applied, duplicates, rejected atomic.Int64

	mu            sync.Mutex // guards the snapshot pointers and restoreT0
	restoreT0     time.Time
	snapCommitted *snapPointer
	snapPending   []*snapPointer
}

func newPartition(id int) *partition {
	p := &partition{id: id, committedAtJoin: -1}
	p.committed.Store(-1)
	p.durable.Store(-1)
	p.pos.Store(-1)
	return p
}

// runPartition restores (or resumes) a partition and applies it until ctx
// ends, then drains its outputs.
func (m *Manager) runPartition(ctx context.Context, part *partition) {
	if part.committedAtJoin >= 0 {
		part.committed.Store(part.committedAtJoin)
	}
	if Phase(part.phase.Load()) == PhaseRetained {
		// Resume: the state is exact up to part.next. If another member
		// committed further meanwhile, replay up to there without outputs.
		part.replayUntil = max(part.next, part.committedAtJoin)
		part.replayFrom.Store(part.next)
		part.replayTo.Store(part.replayUntil)
		if part.replayUntil > part.next {
			part.phase.Store(int32(PhaseRestoring))
		} else {
			part.phase.Store(int32(PhaseLive))
		}
		m.log.Info("partition resumed", "partition", part.id, "offset", part.next, "replay_until", part.replayUntil)
	} else {
		part.phase.Store(int32(PhaseRestoring))
		if !m.restore(ctx, part) {
			return
		}
	}
	// The outputs of this generation are drained on a context of their own,
	// so that stopping applying does not abandon written-but-unacknowledged
	// records.
	drainCtx, cancelDrain := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelDrain()
	pp := m.startPipe(drainCtx, &part.durable)
	m.consume(ctx, part, pp)
	if m.crash.Load() {
		cancelDrain()
	}
	close(pp.ch)
	select {
	case <-pp.done:
	case <-time.After(m.opts.RebalanceTimeout / 2):
		cancelDrain()
		<-pp.done
		m.log.Warn("outputs not written before the revocation deadline; the partition will be restored from its commit", "partition", part.id)
	}
}

// consume is the fetch/apply loop.
func (m *Manager) consume(ctx context.Context, part *partition, pp *pipe) {
	batches := make(chan *fetchedBatch, 1)
	free := make(chan *fetchedBatch, 3)
	for range 3 {
		// Sized once: growing (and faulting in) arenas batch after batch
		// costs more than the fetches.
		free <- &fetchedBatch{data: make([]byte, 0, m.opts.FetchMaxBytes+64<<10), recs: make([]rec, 0, m.opts.FetchMaxBytes/128)}
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(batches)
		next := part.next
		backoff := 50 * time.Millisecond
		for {
			var b *fetchedBatch
			select {
			case <-fctx.Done():
				return
			case b = <-free:
			}
			err := fetchInto(fctx, m.cl, m.opts.Topic, part.id, next, m.opts.FetchMaxBytes, m.opts.FetchMaxWait, b)
			if err != nil {
				free <- b
				if fctx.Err() != nil {
					return
				}
				next = m.fetchError(fctx, part, next, err)
				select {
				case <-fctx.Done():
					return
				case <-time.After(backoff):
				}
				backoff = min(backoff*2, 2*time.Second)
				continue
			}
			backoff = 50 * time.Millisecond
			next = b.next
			select {
			case batches <- b:
			case <-fctx.Done():
				return
			}
		}
	}()

	ap := applier{m: m, part: part, n: m.Partitions()}
	ap.emit = func(o Output) {
		if ap.replay {
			return
		}
		msg := kafkago.Message{Topic: o.Topic, Key: o.Key, Value: o.Value}
		for _, h := range o.Headers {
			msg.Headers = append(msg.Headers, kafkago.Header{Key: h.Key, Value: h.Value})
		}
		ap.out = append(ap.out, msg)
	}
	for b := range batches {
		if ctx.Err() != nil {
			return
		}
		ap.n = m.Partitions()
		ap.applyBatch(b)
		free <- b
		now := m.opts.Now()
		if Phase(part.phase.Load()) == PhaseLive && m.opts.TickInterval > 0 && now.Sub(part.lastTick) >= m.opts.TickInterval {
			part.lastTick = now
			ap.replay = false
			part.state.Tick(now, ap.emit)
		}
		select {
		case pp.ch <- outItem{msgs: ap.out, end: part.next}:
		case <-ctx.Done():
			return
		}
		ap.out = nil
		m.maybeSnapshot(part, now)
	}
}

// applier applies fetched batches to a partition.
type applier struct {
	m      *Manager
	part   *partition
	n      int
	msg    Message
	replay bool
	out    []kafkago.Message
	emit   Emit
}

// applyBatch is the hot path: no allocation per message here beyond what
// the State does (dead letters and outputs aside).
func (a *applier) applyBatch(b *fetchedBatch) {
	part, o := a.part, &a.m.opts
	msg := &a.msg
	msg.Topic, msg.Partition, msg.Fetched = o.Topic, part.id, b.fetched
	var applied, dups, rejected int64
	for i := range b.recs {
		r := &b.recs[i]
		if r.offset < part.next {
			continue
		}
		msg.Offset = r.offset
		msg.Time = time.Time{}
		if r.timeMs > 0 {
			msg.Time = time.UnixMilli(r.timeMs)
		}
		msg.Key, msg.Value = b.key(r), b.value(r)
		msg.Replay = r.offset < part.replayUntil
		a.replay = msg.Replay
		var res Result
		switch {
		case msg.Key == nil:
			res = Result{Outcome: Rejected, Reason: ReasonMissingKey, Detail: "the message has no key; the key must be the event's USCC"}
		case !o.AcceptMisrouted && a.n > 0 && o.Partitioner.Partition(msg.Key, a.n) != part.id:
			res = Result{Outcome: Rejected, Reason: ReasonWrongPartition,
				Detail: fmt.Sprintf("key %q belongs to partition %d under the %s partitioner, not %d; the producer uses another partitioner (see --kafka-partitioner)",
					truncateBytes(msg.Key, 64), o.Partitioner.Partition(msg.Key, a.n), o.Partitioner.Name(), part.id)}
		default:
			res = part.state.Apply(msg, a.emit)
		}
		switch res.Outcome {
		case Applied:
			applied++
		case Duplicate:
			dups++
		default:
			rejected++
			if !msg.Replay {
				l := deadletter.Letter{At: o.Now(), Source: deadletter.KafkaSource(o.Topic, int32(part.id), r.offset),
					Reason: res.Reason, Detail: res.Detail, EventID: res.EventID}
				if msg.Value != nil {
					l.Original = msg.Value
				}
				if l.Validate() != nil {
					l.Reason = "invalid"
				}
				a.out = append(a.out, letterMessage(o.DeadLetterTopic, l, msg.Key, part.id, r.offset))
			}
		}
		part.next = r.offset + 1
	}
	if b.next > part.next && len(b.recs) == 0 {
		part.next = b.next // stepped over offsets with no records
	}
	msg.Key, msg.Value = nil, nil
	if be, ok := part.state.(BatchEnder); ok {
		be.EndBatch()
	}
	part.sinceSnap += applied
	part.applied.Add(applied)
	part.duplicates.Add(dups)
	part.rejected.Add(rejected)
	part.pos.Store(part.next)
	part.hwm.Store(b.hwm)
	part.logStart.Store(b.logStart)
	if part.next >= part.replayUntil && Phase(part.phase.Load()) == PhaseRestoring {
		part.restoreNanos.Store(int64(time.Since(part.restoreStart())))
		part.phase.Store(int32(PhaseLive))
		a.m.log.Info("partition restored", "partition", part.id, "offset", part.next, "entities", part.state.Entities(),
			"seconds", time.Duration(part.restoreNanos.Load()).Seconds())
	}
}

func (p *partition) restoreStart() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.restoreT0
}

func truncateBytes(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// fetchError handles a failed fetch and returns the offset to fetch next.
func (m *Manager) fetchError(ctx context.Context, part *partition, next int64, err error) int64 {
	if !errors.Is(err, kafkago.OffsetOutOfRange) {
		m.log.Warn("fetch failed; retrying", "partition", part.id, "offset", next, "err", err)
		return next
	}
	first, last, lerr := m.offsetRange(ctx, m.opts.Topic, part.id)
	if lerr != nil {
		return next
	}
	switch {
	case next < first:
		m.restoreGaps.Add(1)
		m.log.Error("source records were deleted before they were applied: the state misses them (raise the source topic's retention above the snapshot interval)",
			"partition", part.id, "from", next, "to", first)
		return first
	case next > last:
		m.log.Error("the source partition is shorter than the applied position (topic recreated or truncated); continuing at its end",
			"partition", part.id, "position", next, "end", last)
		return last
	}
	return next
}

// offsetRange returns a partition's log start and end offsets.
func (m *Manager) offsetRange(ctx context.Context, topic string, p int) (int64, int64, error) {
	res, err := m.cl.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{
		topic: {kafkago.FirstOffsetOf(p), kafkago.LastOffsetOf(p)}}})
	if err != nil {
		return 0, 0, err
	}
	for _, po := range res.Topics[topic] {
		if po.Partition == p {
			if po.Error != nil {
				return 0, 0, po.Error
			}
			return po.FirstOffset, po.LastOffset, nil
		}
	}
	return 0, 0, fmt.Errorf("no offsets for %s/%d", topic, p)
}

// restore loads a partition's newest committed snapshot and sets where to
// replay from and to. It returns false if ctx ended first.
func (m *Manager) restore(ctx context.Context, part *partition) bool {
	part.mu.Lock()
	part.restoreT0 = time.Now()
	part.mu.Unlock()
	backoff := 200 * time.Millisecond
	for {
		err := m.tryRestore(ctx, part)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		m.log.Warn("restoring partition failed; retrying", "partition", part.id, "err", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (m *Manager) tryRestore(ctx context.Context, part *partition) error {
	p := part.id
	st, err := m.newState(p)
	if err != nil {
		return err
	}
	res, err := m.cl.OffsetFetch(ctx, &kafkago.OffsetFetchRequest{GroupID: m.opts.Group, Topics: map[string][]int{m.opts.Topic: {p}}})
	if err != nil {
		return fmt.Errorf("fetching the committed offset: %w", err)
	}
	if res.Error != nil {
		return fmt.Errorf("fetching the committed offset: %w", res.Error)
	}
	committed, meta := int64(-1), ""
	for _, po := range res.Topics[m.opts.Topic] {
		if po.Partition == p && po.Error == nil {
			committed, meta = po.CommittedOffset, po.Metadata
		}
	}
	first, last, err := m.offsetRange(ctx, m.opts.Topic, p)
	if err != nil {
		return fmt.Errorf("listing offsets: %w", err)
	}
	// The snapshot: the one the commit names, else the newest complete one
	// in the snapshot partition.
	var ptr *snapPointer
	snapOffset := int64(-1)
	progress := func(n int64) { part.restoreBytes.Store(n) }
	if cm, ok := parseCommitMeta(meta); ok && cm.Snap != nil {
		part.restoreBytesTotal.Store(cm.Snap.Bytes)
		off, err := m.snaps.load(ctx, p, cm.Snap, st, progress)
		if err == nil {
			ptr, snapOffset = cm.Snap, off
		} else if ctx.Err() != nil {
			return err
		} else {
			m.log.Warn("the committed snapshot cannot be read; scanning for another", "partition", p, "snapshot", cm.Snap.ID, "err", err)
			if st, err = m.newState(p); err != nil {
				return err
			}
		}
	}
	if ptr == nil {
		sf, sl, err := m.offsetRange(ctx, m.opts.SnapshotTopic, p)
		if err != nil {
			return fmt.Errorf("listing snapshot offsets: %w", err)
		}
		if sl > sf {
			cands, err := m.snaps.scan(ctx, p, sf, sl)
			if err != nil {
				return fmt.Errorf("scanning snapshots: %w", err)
			}
			for _, c := range cands {
				if committed >= 0 && c.Offset > committed {
					// Its outputs may not have been written; a newer owner
					// may also have diverged. Take an older one.
					continue
				}
				part.restoreBytesTotal.Store(c.Bytes)
				off, err := m.snaps.load(ctx, p, c, st, progress)
				if err == nil {
					ptr, snapOffset = c, off
					break
				}
				if ctx.Err() != nil {
					return err
				}
				m.log.Warn("skipping a snapshot that cannot be read", "partition", p, "snapshot", c.ID, "err", err)
				if st, err = m.newState(p); err != nil {
					return err
				}
			}
		}
	}
	start := snapOffset
	if start < 0 {
		start = first
		if committed > first && first > 0 {
			m.restoreGaps.Add(1)
			m.log.Error("no snapshot, and the source no longer starts at 0: the events before its start are missing from the state",
				"partition", p, "log_start", first, "committed", committed)
		}
	} else if start < first {
		m.restoreGaps.Add(1)
		m.log.Error("the snapshot is older than the source's retention: events between them are missing from the state",
			"partition", p, "snapshot_offset", start, "log_start", first)
		start = first
	}
	replayUntil := max(committed, start)
	if replayUntil > last {
		m.log.Error("the committed offset is beyond the source's end (topic recreated?); replaying to the end", "partition", p,
			"committed", committed, "end", last)
		replayUntil = last
	}
	part.state = st
	part.next, part.replayUntil = start, replayUntil
	part.pos.Store(start)
	part.durable.Store(start)
	part.committed.Store(committed)
	part.replayFrom.Store(start)
	part.replayTo.Store(replayUntil)
	part.sinceSnap = replayUntil - start
	part.lastSnap, part.lastTick = m.opts.Now(), time.Time{}
	part.mu.Lock()
	part.snapCommitted, part.snapPending = ptr, nil
	part.mu.Unlock()
	m.log.Info("partition restoring", "partition", p, "snapshot_offset", snapOffset, "entities", st.Entities(),
		"replay_from", start, "replay_to", replayUntil, "end", last)
	if start >= replayUntil {
		part.restoreNanos.Store(int64(time.Since(part.restoreStart())))
		part.phase.Store(int32(PhaseLive))
		m.log.Info("partition restored", "partition", p, "offset", start, "entities", st.Entities(),
			"seconds", time.Duration(part.restoreNanos.Load()).Seconds())
	}
	return nil
}

// maybeSnapshot serializes the partition's state when due and uploads it
// in the background.
func (m *Manager) maybeSnapshot(part *partition, now time.Time) {
	o := &m.opts
	age := now.Sub(part.lastSnap)
	due := (o.SnapshotEvents > 0 && part.sinceSnap >= o.SnapshotEvents) ||
		(o.SnapshotInterval > 0 && part.sinceSnap > 0 && part.sinceSnap >= o.SnapshotEvents/100 && age >= o.SnapshotInterval) ||
		(part.sinceSnap > 0 && age >= o.SnapshotMaxAge)
	if !due || Phase(part.phase.Load()) != PhaseLive || part.snapBusy.Load() {
		return
	}
	select {
	case m.snapSem <- struct{}{}:
	default:
		return // enough snapshots in flight; try after the next batch
	}
	data, err := m.serialize(part)
	if err != nil {
		<-m.snapSem
		m.snapshotFailures.Add(1)
		m.log.Error("serializing a snapshot failed", "partition", part.id, "err", err)
		part.lastSnap = now
		return
	}
	part.sinceSnap, part.lastSnap = 0, now
	part.snapBusy.Store(true)
	m.bgWG.Add(1)
	go func() {
		defer m.bgWG.Done()
		defer func() { <-m.snapSem; part.snapBusy.Store(false) }()
		m.upload(m.bg, part, data)
	}()
}

type snapData struct {
	b      []byte
	offset int64
	t0     time.Time
}

func (m *Manager) serialize(part *partition) (snapData, error) {
	t0 := time.Now()
	var b []byte
	select {
	case b = <-m.snapBufs:
	default:
	}
	buf := bytes.NewBuffer(b[:0])
	if err := part.state.WriteSnapshot(buf, part.next); err != nil {
		m.releaseBuf(buf.Bytes())
		return snapData{}, err
	}
	return snapData{b: buf.Bytes(), offset: part.next, t0: t0}, nil
}

// releaseBuf keeps a serialization buffer for the next snapshot.
func (m *Manager) releaseBuf(b []byte) {
	select {
	case m.snapBufs <- b[:0]:
	default:
	}
}

func (m *Manager) upload(ctx context.Context, part *partition, d snapData) {
	entities := part.state.Entities()
	ptr, err := m.snaps.upload(ctx, part.id, d.b, d.offset, entities)
	m.releaseBuf(d.b)
	if err != nil {
		m.snapshotFailures.Add(1)
		m.log.Error("uploading a snapshot failed", "partition", part.id, "err", err)
		return
	}
	m.snapshots.Add(1)
	m.snapshotBytes.Add(int64(len(d.b)))
	m.snapshotSeconds.Store(int64(time.Since(d.t0)))
	m.log.Info("snapshot written", "partition", part.id, "offset", d.offset, "bytes", len(d.b), "entities", entities,
		"seconds", time.Since(d.t0).Seconds())
	part.mu.Lock()
	part.snapPending = append(part.snapPending, ptr)
	part.mu.Unlock()
	if Phase(part.phase.Load()) == PhaseNone {
		// The partition moved away meanwhile: nobody will name it.
		m.dropSnapshots(part.id, ptr)
	}
}

// finalSnapshots snapshots, at shutdown, every live partition that applied
// anything since its last snapshot, and waits for the uploads.
func (m *Manager) finalSnapshots(ctx context.Context, parts []*partition) {
	var wg sync.WaitGroup
	for _, part := range parts {
		if Phase(part.phase.Load()) != PhaseLive || part.sinceSnap == 0 || part.durable.Load() != part.pos.Load() {
			continue
		}
		select {
		case m.snapSem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		for part.snapBusy.Load() && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		data, err := m.serialize(part)
		if err != nil {
			<-m.snapSem
			m.log.Error("serializing a snapshot failed", "partition", part.id, "err", err)
			continue
		}
		part.sinceSnap = 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-m.snapSem }()
			m.upload(ctx, part, data)
		}()
	}
	wg.Wait()
	// Uploads started earlier may still be running.
	for _, part := range parts {
		for part.snapBusy.Load() && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// commit commits the durable position of each partition with a pointer to
// its newest snapshot at or below it.
func (m *Manager) commit(ctx context.Context, gen *kafkago.Generation, parts []*partition) {
	type change struct {
		part *partition
		off  int64
		ptr  *snapPointer
	}
	if m.crash.Load() {
		return
	}
	var changes []change
	var req []kafkago.OffsetCommit
	for _, part := range parts {
		ph := Phase(part.phase.Load())
		if ph != PhaseLive && ph != PhaseRestoring {
			continue
		}
		x := part.durable.Load()
		if x < 0 {
			continue
		}
		part.mu.Lock()
		ptr := part.snapCommitted
		for _, c := range part.snapPending {
			if c.Offset <= x && (ptr == nil || newer(c, ptr)) {
				ptr = c
			}
		}
		changed := ptr != part.snapCommitted
		part.mu.Unlock()
		if x <= part.committed.Load() && !changed {
			continue
		}
		if x < part.committed.Load() {
			x = part.committed.Load() // never move a commit back (only the pointer changes)
		}
		changes = append(changes, change{part, x, ptr})
		req = append(req, kafkago.OffsetCommit{Partition: part.id, Offset: x, Metadata: commitMeta{V: 1, Snap: ptr}.String()})
	}
	if len(req) == 0 {
		return
	}
	res, err := m.cl.OffsetCommit(ctx, &kafkago.OffsetCommitRequest{GroupID: m.opts.Group, GenerationID: int(gen.ID),
		MemberID: gen.MemberID, Topics: map[string][]kafkago.OffsetCommit{m.opts.Topic: req}})
	if err != nil {
		m.commitErrors.Add(1)
		m.log.Warn("committing offsets failed", "err", err)
		return
	}
	failed := map[int]error{}
	for _, pr := range res.Topics[m.opts.Topic] {
		if pr.Error != nil {
			failed[pr.Partition] = pr.Error
		}
	}
	for _, c := range changes {
		if e := failed[c.part.id]; e != nil {
			m.commitErrors.Add(1)
			m.log.Warn("committing an offset failed", "partition", c.part.id, "err", e)
			continue
		}
		m.commits.Add(1)
		c.part.committed.Store(c.off)
		c.part.mu.Lock()
		old := c.part.snapCommitted
		var drop []*snapPointer
		if c.ptr != old {
			if old != nil {
				drop = append(drop, old)
			}
			var keep []*snapPointer
			for _, s := range c.part.snapPending {
				switch {
				case s == c.ptr:
				case newer(s, c.ptr):
					keep = append(keep, s)
				default:
					drop = append(drop, s)
				}
			}
			c.part.snapCommitted, c.part.snapPending = c.ptr, keep
		}
		c.part.mu.Unlock()
		if len(drop) > 0 {
			m.dropSnapshots(c.part.id, drop...)
		}
	}
}

// dropSnapshots tombstones snapshots no commit names any more.
func (m *Manager) dropSnapshots(p int, ptrs ...*snapPointer) {
	m.bgWG.Add(1)
	go func() {
		defer m.bgWG.Done()
		ctx, cancel := context.WithTimeout(m.bg, time.Minute)
		defer cancel()
		for _, ptr := range ptrs {
			if err := m.snaps.tombstone(ctx, p, ptr); err != nil {
				m.log.Warn("deleting an old snapshot failed (compaction will not reclaim it)", "partition", p, "snapshot", ptr.ID, "err", err)
			}
		}
	}()
}
