package clickhouse

// Design of the sink's hot path (Add*): scoring calls it for every applied
// event, tier change and inspection, and must never wait on ClickHouse. An
// Add takes one mutex for an append to the table's open batch and returns;
// it never does I/O. Two goroutines do the rest:
//
//   - the flusher seals open batches older than FlushInterval (a full batch
//     is sealed by Add itself) and moves sealed batches from memory to the
//     spool when memory passes MaxMemRows, when ClickHouse is failing, when
//     a batch has waited longer than SpoolAfter, or always (SpoolAlways);
//   - the inserter inserts the oldest batch: the spool's first record if the
//     spool is not empty (spooled batches are older than those in memory),
//     else the first sealed batch in memory. A transient failure puts the
//     batch back and backs off; a batch ClickHouse refuses as invalid (or
//     keeps refusing with an error not known to pass) goes to quarantine so
//     it cannot block the stream.
//
// The stream is therefore a FIFO whose older part is on disk and newer part
// in memory. Order is kept except for a batch whose insert fails while
// newer batches were being spooled: it is retried after them. Order does not
// matter to the tables (ReplacingMergeTree keeps the highest version
// whatever the insert order, and every query deduplicates).
//
// If memory reaches HardMaxMemRows (the spool is disabled, failing, or
// slower than the producer: it took 1.4 M rows/s in bench/chbench), Add
// refuses rows with ErrOverloaded and counts them: bounded memory beats an
// out-of-memory crash of the scorer, and the durable log can refill history.
// A hard crash loses the rows still in memory (normally at most MaxMemRows,
// and about FlushInterval of rows while ClickHouse keeps up; SpoolAlways
// cuts that to the open batches).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ErrClosed is returned by Add* after Close.
var ErrClosed = errors.New("clickhouse sink: closed")

// ErrOverloaded is returned by Add* when HardMaxMemRows rows are held in
// memory and the spool cannot take more; the row is dropped and counted.
var ErrOverloaded = errors.New("clickhouse sink: overloaded, row dropped")

// Sink writes history rows to ClickHouse in large batches without ever
// blocking its callers. It is safe for concurrent use.
type Sink struct {
	opts  Options
	log   *slog.Logger
	conn  driver.Conn
	q     *Querier
	spool *spool // nil when DisableSpool
	m     *metrics

	insertSQL [numTables]string

	mu            sync.Mutex
	open          [numTables]*batch
	free          [numTables][]*batch // recycled batches, to keep row slices
	queue         []*batch            // sealed, in memory, oldest first
	memRows       int                 // rows in open, queue and inflight
	inflight      *batch              // in-memory batch being inserted
	busyFirst     int64               // firstAdded of the batch being inserted (memory or spool), 0 if none
	spoolingFirst int64               // firstAdded of the batch being spooled, 0 if none
	nextSeq       uint64
	pending       map[uint64]struct{} // seqs sealed but not yet inserted, quarantined or dropped
	progress      chan struct{}       // closed and replaced whenever pending shrinks
	closed        bool

	wakeFlush  chan struct{}
	wakeInsert chan struct{}
	down       atomic.Bool // the last insert or migration failed
	migrated   atomic.Bool
	// liftPartitionLimit is set for servers (≥ 20) whose
	// max_partitions_per_insert_block (default 100) could refuse a batch
	// of events spread over more than 100 years; 18.16 has no such limit
	// and no such setting.
	liftPartitionLimit atomic.Bool

	stopInsert  context.CancelFunc
	insertDone  chan struct{}
	stopFlush   chan struct{}
	flushDone   chan struct{}
	closeOnce   sync.Once
	closeResult error

	inserted    [numTables]atomic.Uint64
	dropped     atomic.Uint64
	quarantined atomic.Uint64
}

// New starts a sink. It opens (and replays on its own) the spool, then tries
// to create and migrate the schema within ctx; if ClickHouse is not
// reachable, New still succeeds: rows are buffered and spooled, and the
// schema is migrated before the first insert once the server answers.
func New(ctx context.Context, opts Options) (*Sink, error) {
	if err := opts.EnsureDefaults(); err != nil {
		return nil, err
	}
	conn, err := openConn(&opts)
	if err != nil {
		return nil, err
	}
	s := &Sink{
		opts:       opts,
		log:        opts.Logger,
		conn:       conn,
		q:          &Querier{conn: conn, db: opts.Database, timeout: opts.QueryTimeout},
		pending:    map[uint64]struct{}{},
		progress:   make(chan struct{}),
		wakeFlush:  make(chan struct{}, 1),
		wakeInsert: make(chan struct{}, 1),
		stopFlush:  make(chan struct{}),
		flushDone:  make(chan struct{}),
		insertDone: make(chan struct{}),
	}
	s.m = newMetrics(s)
	for t := range numTables {
		s.insertSQL[t] = fmt.Sprintf("INSERT INTO %s.%s (%s)", opts.Database, tableNames[t], tableDefs[t].insertColumns())
	}
	if !opts.DisableSpool {
		sp, err := openSpool(opts.SpoolDir, opts.SegmentBytes, s.log, func() uint64 { s.nextSeq++; return s.nextSeq - 1 })
		if err != nil {
			conn.Close()
			return nil, err
		}
		s.spool = sp
		for _, seq := range sp.pendingSeqs(nil) {
			s.pending[seq] = struct{}{}
		}
		if st := sp.stats(); st.rows > 0 {
			s.log.Info("clickhouse sink: replaying spool from an earlier run", "dir", opts.SpoolDir, "rows", st.rows, "records", st.records)
		}
	}
	mctx, cancel := context.WithTimeout(ctx, opts.DialTimeout+opts.QueryTimeout)
	if _, err := s.q.Migrate(mctx); err != nil {
		s.setDown("migrate", err)
	} else {
		s.connected()
	}
	cancel()
	ictx, stop := context.WithCancel(context.Background())
	s.stopInsert = stop
	go s.flushLoop()
	go s.insertLoop(ictx)
	return s, nil
}

// Querier returns the sink's Querier. It shares the sink's connection pool
// and is usable until Close.
func (s *Sink) Querier() *Querier { return s.q }

// Options returns the sink's options with defaults filled in.
func (s *Sink) Options() Options { return s.opts }

// --- Add: the hot path -------------------------------------------------------

// AddAppliedEvent queues an applied event. It never blocks on ClickHouse;
// it fails only for an invalid row (ErrInvalidRow), after Close (ErrClosed)
// or under overload (ErrOverloaded).
func (s *Sink) AddAppliedEvent(r AppliedEvent) error {
	if err := r.validate(); err != nil {
		return err
	}
	b, err := s.begin(tblApplied)
	if err != nil {
		return err
	}
	b.applied = append(b.applied, r)
	s.end(b)
	return nil
}

// AddRejectedEvent queues a dead-letter record (see AddAppliedEvent).
func (s *Sink) AddRejectedEvent(r RejectedEvent) error {
	if err := r.validate(time.Now()); err != nil {
		return err
	}
	b, err := s.begin(tblRejected)
	if err != nil {
		return err
	}
	b.rejected = append(b.rejected, r)
	s.end(b)
	return nil
}

// AddTierChange queues a tier change (see AddAppliedEvent).
func (s *Sink) AddTierChange(r TierChange) error {
	if err := r.validate(); err != nil {
		return err
	}
	b, err := s.begin(tblTierChanges)
	if err != nil {
		return err
	}
	b.tiers = append(b.tiers, r)
	s.end(b)
	return nil
}

// AddDraw queues a draw (see AddAppliedEvent).
func (s *Sink) AddDraw(r Draw) error {
	if err := r.validate(); err != nil {
		return err
	}
	b, err := s.begin(tblDraws)
	if err != nil {
		return err
	}
	b.draws = append(b.draws, r)
	s.end(b)
	return nil
}

// AddDrawSelection queues one selected entity of a draw (see
// AddAppliedEvent). The Inspectors slice is kept, not copied: do not modify
// it afterwards.
func (s *Sink) AddDrawSelection(r DrawSelection) error {
	if err := r.validate(); err != nil {
		return err
	}
	b, err := s.begin(tblDrawSelections)
	if err != nil {
		return err
	}
	b.selections = append(b.selections, r)
	s.end(b)
	return nil
}

// AddInspection queues an inspection outcome (see AddAppliedEvent).
func (s *Sink) AddInspection(r Inspection) error {
	if err := r.validate(); err != nil {
		return err
	}
	b, err := s.begin(tblInspections)
	if err != nil {
		return err
	}
	b.inspects = append(b.inspects, r)
	s.end(b)
	return nil
}

// begin locks the sink and returns t's open batch; on success the caller
// appends one row and calls end, which unlocks.
func (s *Sink) begin(t table) (*batch, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if s.memRows >= s.opts.HardMaxMemRows {
		s.mu.Unlock()
		s.drop(t, 1, "overload")
		return nil, ErrOverloaded
	}
	b := s.open[t]
	if b == nil {
		b = s.newBatchLocked(t)
		s.open[t] = b
	}
	return b, nil
}

func (s *Sink) end(b *batch) {
	s.memRows++
	full := b.len() >= s.opts.BatchRows
	if full {
		s.sealLocked(b.tbl)
	}
	s.mu.Unlock()
	if full {
		signal(s.wakeInsert)
		signal(s.wakeFlush)
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (s *Sink) newBatchLocked(t table) *batch {
	now := time.Now()
	if n := len(s.free[t]); n > 0 {
		b := s.free[t][n-1]
		s.free[t] = s.free[t][:n-1]
		b.opened, b.firstAdded = now, now.UnixNano()
		return b
	}
	// The high-volume tables get a full batch at once: growing a 50,000-row
	// slice by doubling copied more than the rows cost to add. Batches are
	// recycled after their insert, so this is paid rarely.
	b := &batch{tbl: t, opened: now, firstAdded: now.UnixNano()}
	switch c := s.opts.BatchRows; t {
	case tblApplied:
		b.applied = make([]AppliedEvent, 0, c)
	case tblTierChanges:
		b.tiers = make([]TierChange, 0, c)
	case tblInspections:
		b.inspects = make([]Inspection, 0, c)
	}
	return b
}

// recycle keeps an inserted in-memory batch's row slice for reuse.
func (s *Sink) recycle(b *batch) {
	clear(b.applied)
	clear(b.rejected)
	clear(b.tiers)
	clear(b.draws)
	clear(b.selections)
	clear(b.inspects)
	*b = batch{tbl: b.tbl, applied: b.applied[:0], rejected: b.rejected[:0], tiers: b.tiers[:0],
		draws: b.draws[:0], selections: b.selections[:0], inspects: b.inspects[:0]}
	s.mu.Lock()
	if len(s.free[b.tbl]) < 4 {
		s.free[b.tbl] = append(s.free[b.tbl], b)
	}
	s.mu.Unlock()
}

func (s *Sink) sealLocked(t table) {
	b := s.open[t]
	s.open[t] = nil
	b.seq = s.nextSeq
	s.nextSeq++
	b.sealed = time.Now()
	s.pending[b.seq] = struct{}{}
	s.queue = append(s.queue, b)
}

// sealAllLocked seals every non-empty open batch.
func (s *Sink) sealAllLocked() {
	for t := range numTables {
		if b := s.open[t]; b != nil && b.len() > 0 {
			s.sealLocked(t)
		}
	}
}

func (s *Sink) drop(t table, rows int, reason string) {
	s.dropped.Add(uint64(rows))
	s.m.dropped.WithLabelValues(t.String(), reason).Add(float64(rows))
}

// done retires a batch's seq and wakes Flush/Close waiters.
func (s *Sink) done(seq uint64) {
	s.mu.Lock()
	delete(s.pending, seq)
	close(s.progress)
	s.progress = make(chan struct{})
	s.mu.Unlock()
}

// connected records a successful migration and looks at the server.
func (s *Sink) connected() {
	s.migrated.Store(true)
	v, err := s.conn.ServerVersion()
	if err != nil {
		return
	}
	s.liftPartitionLimit.Store(v.Version.Major >= 20)
	s.log.Debug("clickhouse sink: connected", "addr", s.opts.Addr, "server", v.Version, "database", s.opts.Database, "schema", SchemaVersion())
}

func (s *Sink) setDown(what string, err error) {
	if s.down.CompareAndSwap(false, true) {
		s.log.Warn("clickhouse sink: ClickHouse unavailable; buffering rows and spooling them to disk",
			"op", what, "addr", s.opts.Addr, "err", err)
	}
}

func (s *Sink) setUp() {
	if s.down.CompareAndSwap(true, false) {
		s.log.Info("clickhouse sink: ClickHouse available again", "addr", s.opts.Addr)
	}
}

// --- Flush, Close, Stats -----------------------------------------------------

// Flush seals the open batches and waits until every row added before the
// call is in ClickHouse (or quarantined), or ctx ends. While ClickHouse is
// down it waits (rows meanwhile go to the spool); it does not block Add*.
func (s *Sink) Flush(ctx context.Context) error {
	s.mu.Lock()
	s.sealAllLocked()
	target := s.nextSeq
	s.mu.Unlock()
	signal(s.wakeInsert)
	return s.waitDone(ctx, target, false)
}

// waitDone waits until no seq below target is pending. With stopIfDown it
// also returns (nil) as soon as ClickHouse is failing and a spool exists.
func (s *Sink) waitDone(ctx context.Context, target uint64, stopIfDown bool) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		outstanding := false
		for seq := range s.pending {
			if seq < target {
				outstanding = true
				break
			}
		}
		ch := s.progress
		s.mu.Unlock()
		if !outstanding {
			return nil
		}
		if stopIfDown && s.spool != nil && s.down.Load() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("clickhouse sink: flush: %w", ctx.Err())
		case <-ch:
		case <-tick.C:
		}
	}
}

// Close stops accepting rows and flushes: it waits (within ctx) until every
// row is inserted. If ClickHouse is failing or ctx ends first, the rows not
// inserted are written to the spool and inserted by the next sink opened on
// the same SpoolDir. Close returns an error only if rows could be neither
// inserted nor spooled (they are counted as dropped). Calling it again
// returns the first result.
func (s *Sink) Close(ctx context.Context) error {
	s.closeOnce.Do(func() { s.closeResult = s.close(ctx) })
	return s.closeResult
}

func (s *Sink) close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.sealAllLocked()
	target := s.nextSeq
	s.mu.Unlock()
	signal(s.wakeInsert)
	_ = s.waitDone(ctx, target, true)

	s.stopInsert()
	<-s.insertDone
	close(s.stopFlush)
	<-s.flushDone

	s.mu.Lock()
	rest := s.queue
	s.queue = nil
	s.mu.Unlock()
	lost := 0
	for _, b := range rest {
		if s.spool != nil {
			err := s.spool.append(b)
			if err == nil {
				s.m.spooled.WithLabelValues(b.tbl.String()).Add(float64(b.len()))
				continue
			}
			s.log.Error("clickhouse sink: cannot spool at close", "table", b.tbl.String(), "rows", b.len(), "err", err)
		}
		lost += b.len()
		s.drop(b.tbl, b.len(), "close")
	}
	s.mu.Lock()
	s.memRows = 0
	s.mu.Unlock()
	if s.spool != nil {
		if st := s.spool.stats(); st.rows > 0 {
			s.log.Info("clickhouse sink: closed with rows in the spool; they are inserted on the next start",
				"dir", s.opts.SpoolDir, "rows", st.rows)
		}
		s.spool.close()
	}
	s.conn.Close()
	if lost > 0 {
		return fmt.Errorf("clickhouse sink: %d rows could be neither inserted nor spooled", lost)
	}
	return nil
}

// abandon stops the sink as a crash would: rows in memory are lost, the
// spool is left as it is. For tests.
func (s *Sink) abandon() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.stopInsert()
		<-s.insertDone
		close(s.stopFlush)
		<-s.flushDone
		if s.spool != nil {
			s.spool.close()
		}
		s.conn.Close()
		s.closeResult = ErrClosed
	})
}

// Stats is a snapshot of the sink's state.
type Stats struct {
	// Up is false while inserts or migrations are failing.
	Up bool
	// Lag is the age of the oldest row not yet inserted (0 if none).
	Lag time.Duration
	// MemRows are rows held in memory; SpoolRows, SpoolBytes and
	// SpoolFiles describe the spool.
	MemRows    int
	SpoolRows  int
	SpoolBytes int64
	SpoolFiles int
	// Inserted counts rows inserted per table name since New.
	Inserted map[string]uint64
	// Dropped and Quarantined count rows lost (refused under overload or at
	// Close) and rows set aside under SpoolDir/quarantine since New.
	Dropped, Quarantined uint64
}

// Stats returns a snapshot of the sink's state.
func (s *Sink) Stats() Stats {
	st := Stats{Up: !s.down.Load(), Inserted: make(map[string]uint64, numTables),
		Dropped: s.dropped.Load(), Quarantined: s.quarantined.Load()}
	for t := range numTables {
		st.Inserted[tableNames[t]] = s.inserted[t].Load()
	}
	var oldest int64
	older := func(ns int64) {
		if ns != 0 && (oldest == 0 || ns < oldest) {
			oldest = ns
		}
	}
	s.mu.Lock()
	st.MemRows = s.memRows
	for _, b := range s.open {
		if b != nil && b.len() > 0 {
			older(b.firstAdded)
		}
	}
	for _, b := range s.queue {
		older(b.firstAdded)
	}
	older(s.busyFirst)
	older(s.spoolingFirst)
	s.mu.Unlock()
	if s.spool != nil {
		sp := s.spool.stats()
		st.SpoolRows, st.SpoolBytes, st.SpoolFiles = sp.rows, sp.bytes, sp.segments
		older(sp.oldest)
	}
	if oldest != 0 {
		st.Lag = max(0, time.Duration(time.Now().UnixNano()-oldest))
	}
	return st
}

// fnv64 hashes a rejected input for the rejected_events sorting key.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
