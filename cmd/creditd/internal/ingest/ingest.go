// Package ingest is creditd's durability protocol in local mode: one
// goroutine (the Ingester) applies every event to the engine after
// appending it to the durable log, answers a group of batches after one
// log sync (group commit), writes and retains snapshots and truncates the
// log behind them (snapshots.go); Recover restores the state at start
// (recover.go); File and Demo feed it (feed.go).
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/metrics"
	"github.com/creditrisk/creditd/feeds/deadletter"
	"github.com/creditrisk/creditd/feeds/wal"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/scoring"
)

// Ingest design.
//
// One goroutine, the ingester, applies every event: the engine's state,
// the durable log and the snapshots change in one order, so the log is an
// exact history and a snapshot's position is exact. Callers (HTTP
// requests, files, the demo loader, Kafka) decode their lines on their own
// goroutines and hand the ingester batches. The ingester takes every
// pending batch at once (group commit), and for each event: validates it
// against the state, appends its original bytes to the log (buffered), and
// applies it; then it syncs the log once and the dead letters once, and
// only then answers the batches. An acknowledged event is therefore on
// disk; an event whose batch was not answered may or may not be, and a
// retry is harmless because duplicate ids are no-ops.

// Observer sees what the ingester did, after the batch is durable. It
// must not block (history stores and publishers buffer).
type Observer interface {
	Applied(ev *event.Event, f scoring.Facts, raw []byte, source string, pos uint64)
	Rejected(l deadletter.Letter)
	TierChanged(c scoring.TierChange)
}

// Line is one input line of a batch (DecodeLine, RejectedLine).
type Line struct {
	raw  []byte
	num  int64 // 1-based line number in its source
	ev   *event.Event
	rej  *event.RejectError // decode-time rejection
	kpos string             // source position for dead letters (defaults to source:num)
}

// Rejection is one rejected line in an ingest answer.
type Rejection struct {
	Line   int64  `json:"line"`
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

// Result answers a batch.
type Result struct {
	Applied    int         `json:"applied"`
	Duplicates int         `json:"duplicates"`
	Rejected   []Rejection `json:"rejected"`
}

type ingestBatch struct {
	source string
	lines  []Line
	// letterBudget is how many bytes of dead letters the batch may write
	// one by one; beyond it rejected lines are summarised (letterUse).
	// Negative: no limit.
	letterBudget int64
	done         chan batchDone
}

type batchDone struct {
	res     Result
	letters LetterUse
	err     error
}

// LetterUse is what a batch's dead letters cost.
type LetterUse struct {
	Bytes   int64 // bytes of the letters written one by one
	Written int   // letters written one by one
	Omitted int   // rejected lines over the budget, covered by one summary letter
}

// ReasonLettersOmitted is the reason of the letter that stands for the
// rejected lines of a batch over its dead-letter budget.
const ReasonLettersOmitted = "dead_letters_omitted"

// OmittedLetter is the one letter that stands for n rejected lines, from
// source first to last, not dead-lettered one by one because a request's
// dead letters reached their budget: none is lost without a trace.
func OmittedLetter(at time.Time, first, last string, n int) deadletter.Letter {
	return deadletter.Letter{At: at, Source: first, Reason: ReasonLettersOmitted,
		Detail: fmt.Sprintf("%d rejected lines from %s to %s are not dead-lettered one by one: the request's dead letters reached their budget",
			n, first, last)}
}

// errStopped is returned for batches submitted after the ingester stopped.
var errStopped = errors.New("ingest stopped")

// Ingester owns all writes to the engine, the log and the snapshots.
type Ingester struct {
	eng       *scoring.Engine
	log       *wal.Log
	dlq       deadletter.Sink
	m         *metrics.Set
	logger    *slog.Logger
	snaps     *snapshotSet
	observers []Observer

	snapEvery  time.Duration
	snapEvents int
	sweepEvery time.Duration

	in       chan *ingestBatch
	stopped  chan struct{}
	sinceSnp int
	failed   atomic.Pointer[error]
	mu       sync.Mutex // guards observers
	applied  atomic.Int64
}

// Options configure an Ingester.
type Options struct {
	SnapshotDir      string
	SnapshotInterval time.Duration // 0: only on shutdown
	SnapshotEvents   int           // 0: no event-count trigger
	SweepInterval    time.Duration // default 1 minute
}

// New returns an ingester; Run starts it.
func New(eng *scoring.Engine, log *wal.Log, dlq deadletter.Sink, m *metrics.Set, logger *slog.Logger, o Options) *Ingester {
	if o.SweepInterval <= 0 {
		o.SweepInterval = time.Minute
	}
	return &Ingester{eng: eng, log: log, dlq: dlq, m: m, logger: logger, snaps: &snapshotSet{dir: o.SnapshotDir},
		snapEvery: o.SnapshotInterval, snapEvents: o.SnapshotEvents, sweepEvery: o.SweepInterval,
		in: make(chan *ingestBatch, 64), stopped: make(chan struct{})}
}

// AddObserver registers an observer; call before Run.
func (g *Ingester) AddObserver(o Observer) {
	g.mu.Lock()
	g.observers = append(g.observers, o)
	g.mu.Unlock()
}

// Submit hands a batch to the ingester and waits for its durable outcome.
func (g *Ingester) Submit(ctx context.Context, source string, lines []Line) (Result, error) {
	d := g.submit(ctx, &ingestBatch{source: source, lines: lines, letterBudget: -1})
	return d.res, d.err
}

// SubmitBudget is Submit for a batch that may write budget bytes of dead
// letters one by one (beyond them, one OmittedLetter stands for the rest);
// it also returns what the batch's letters cost.
func (g *Ingester) SubmitBudget(ctx context.Context, source string, lines []Line, budget int64) (Result, LetterUse, error) {
	d := g.submit(ctx, &ingestBatch{source: source, lines: lines, letterBudget: budget})
	return d.res, d.letters, d.err
}

// Err is why the ingester stopped accepting events (a storage failure),
// or nil.
func (g *Ingester) Err() error {
	if p := g.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// submit hands b to the ingester and waits for its durable outcome.
func (g *Ingester) submit(ctx context.Context, b *ingestBatch) batchDone {
	if p := g.failed.Load(); p != nil {
		return batchDone{err: *p}
	}
	b.done = make(chan batchDone, 1)
	select {
	case g.in <- b:
	case <-g.stopped:
		return batchDone{err: errStopped}
	case <-ctx.Done():
		return batchDone{err: ctx.Err()}
	}
	// Once submitted, the batch is processed even if the caller goes away:
	// wait for it so that the answer reflects what happened.
	select {
	case d := <-b.done:
		return d
	case <-g.stopped:
		select {
		case d := <-b.done:
			return d
		default:
			return batchDone{err: errStopped}
		}
	}
}

// Run applies batches until ctx is cancelled, then drains what was
// submitted, writes a final snapshot and returns.
func (g *Ingester) Run(ctx context.Context) error {
	defer close(g.stopped)
	var snapC <-chan time.Time
	if g.snapEvery > 0 {
		t := time.NewTicker(g.snapEvery)
		defer t.Stop()
		snapC = t.C
	}
	sweep := time.NewTicker(g.sweepEvery)
	defer sweep.Stop()
	g.sweep()
	pending := make([]*ingestBatch, 0, 64)
	for {
		select {
		case b := <-g.in:
			pending = append(pending[:0], b)
			lines := len(b.lines)
		drain:
			for len(pending) < cap(pending) && lines < 200_000 {
				select {
				case b2 := <-g.in:
					pending = append(pending, b2)
					lines += len(b2.lines)
				default:
					break drain
				}
			}
			if err := g.process(ctx, pending); err != nil {
				g.fail(err)
				return err
			}
			if g.snapEvents > 0 && g.sinceSnp >= g.snapEvents {
				g.snapshot()
			}
		case <-sweep.C:
			g.sweep()
		case <-snapC:
			if g.sinceSnp > 0 {
				g.snapshot()
			}
		case <-ctx.Done():
			// Drain batches already handed over, then snapshot.
			for {
				select {
				case b := <-g.in:
					if err := g.process(ctx, []*ingestBatch{b}); err != nil {
						g.fail(err)
						return err
					}
					continue
				default:
				}
				break
			}
			if g.sinceSnp > 0 {
				g.snapshot()
			}
			return nil
		}
	}
}

func (g *Ingester) fail(err error) {
	e := fmt.Errorf("ingest stopped after a storage failure: %w", err)
	g.failed.Store(&e)
	g.logger.Error("ingest failed; no further events are accepted", "err", err)
}

type pendingAck struct {
	ev     *event.Event
	facts  scoring.Facts
	raw    []byte
	source string
	pos    uint64
}

// process applies a group of batches with one log sync.
func (g *Ingester) process(ctx context.Context, batches []*ingestBatch) error {
	start := time.Now()
	now := g.eng.Now()
	results := make([]batchDone, len(batches))
	var acks []pendingAck
	var scratch []byte
	var letters []deadletter.Letter
	var changes []scoring.TierChange
	for bi, b := range batches {
		res, use := &results[bi].res, &results[bi].letters
		res.Rejected = []Rejection{}
		var firstOmitted, lastOmitted string
		for i := range b.lines {
			l := &b.lines[i]
			src := l.kpos
			if src == "" {
				src = fmt.Sprintf("%s:%d", b.source, l.num)
			}
			rej := l.rej
			var pos uint64
			if rej == nil {
				t0 := time.Now()
				r, err := g.eng.ApplyAt(l.ev, now, true, func() error {
					p, err := g.log.Append(l.raw)
					pos = uint64(p)
					return err
				})
				g.m.ApplySeconds.Observe(time.Since(t0).Seconds())
				switch {
				case err == nil && r.Outcome == scoring.Duplicate:
					res.Duplicates++
					g.m.Events.WithLabelValues("duplicate", "").Inc()
					continue
				case err == nil:
					res.Applied++
					g.sinceSnp++
					g.m.WALBytes.Add(float64(len(l.raw) + 8))
					g.m.Events.WithLabelValues("applied", "").Inc()
					acks = append(acks, pendingAck{ev: l.ev, facts: r.Facts, raw: l.raw, source: src, pos: pos})
					changes = append(changes, r.TierChanges()...)
					continue
				case errors.As(err, &rej):
				default:
					return fmt.Errorf("appending to the log: %w", err)
				}
			}
			id := ""
			if l.ev != nil {
				id = l.ev.ID
			}
			res.Rejected = append(res.Rejected, Rejection{Line: l.num, ID: id, Reason: rej.Reason, Detail: rej.Detail})
			g.m.Events.WithLabelValues("rejected", rej.Reason).Inc()
			letter := deadletter.Letter{At: now, Source: src, Reason: rej.Reason, Detail: rej.Detail, EventID: id, Original: l.raw}
			if b.letterBudget >= 0 {
				scratch = letter.AppendJSON(scratch[:0])
				if use.Bytes+int64(len(scratch))+1 > b.letterBudget {
					if use.Omitted == 0 {
						firstOmitted = src
					}
					lastOmitted = src
					use.Omitted++
					continue
				}
				use.Bytes += int64(len(scratch)) + 1
			}
			use.Written++
			if err := g.writeLetter(ctx, &letters, letter); err != nil {
				return err
			}
		}
		if use.Omitted > 0 {
			// One letter stands for the lines over the budget, so that none
			// is lost without a trace (the answer lists their reasons).
			if err := g.writeLetter(ctx, &letters, OmittedLetter(now, firstOmitted, lastOmitted, use.Omitted)); err != nil {
				return err
			}
		}
	}
	t0 := time.Now()
	if err := g.log.Sync(); err != nil {
		return fmt.Errorf("syncing the log: %w", err)
	}
	g.m.WALSync.Observe(time.Since(t0).Seconds())
	if len(letters) > 0 {
		if err := g.dlq.Sync(); err != nil {
			return fmt.Errorf("syncing dead letters: %w", err)
		}
	}
	g.applied.Add(int64(len(acks)))
	for bi, b := range batches {
		b.done <- results[bi]
	}
	g.m.BatchSeconds.Observe(time.Since(start).Seconds())
	g.notify(acks, letters, changes)
	return nil
}

// writeLetter writes l to the dead letters and keeps it for the observers.
func (g *Ingester) writeLetter(ctx context.Context, letters *[]deadletter.Letter, l deadletter.Letter) error {
	*letters = append(*letters, l)
	if err := g.dlq.Write(context.WithoutCancel(ctx), l); err != nil {
		return fmt.Errorf("writing a dead letter: %w", err)
	}
	return nil
}

func (g *Ingester) notify(acks []pendingAck, letters []deadletter.Letter, changes []scoring.TierChange) {
	for _, c := range changes {
		kind := "event"
		if len(c.Cause) > 5 && c.Cause[:5] == "time:" {
			kind = "time"
		}
		g.m.TierChanges.WithLabelValues(kind).Inc()
	}
	g.mu.Lock()
	obs := g.observers
	g.mu.Unlock()
	for _, o := range obs {
		for _, a := range acks {
			o.Applied(a.ev, a.facts, a.raw, a.source, a.pos)
		}
		for _, l := range letters {
			o.Rejected(l)
		}
		for _, c := range changes {
			o.TierChanged(c)
		}
	}
}

// sweep applies time rules up to now and refreshes the entities gauge.
func (g *Ingester) sweep() {
	var changes []scoring.TierChange
	n := g.eng.Advance(g.eng.Now(), func(c scoring.TierChange) { changes = append(changes, c) })
	g.m.Swept.Add(float64(n))
	g.notify(nil, nil, changes)
	st, err := g.eng.TierStats(context.Background(), g.eng.Now(), "")
	if err == nil {
		g.m.Entities.Set(float64(st.Entities))
	}
}

// snapshot writes a snapshot at the log's next position, checks it, keeps
// the two newest verified ones, and drops log segments older than the older
// of them (snapshots.go).
func (g *Ingester) snapshot() {
	if err := g.log.Sync(); err != nil {
		g.logger.Error("snapshot: syncing the log", "err", err)
		return
	}
	t0 := time.Now()
	pos := uint64(g.log.Next())
	path, err := g.eng.WriteSnapshotFile(g.snaps.dir, pos)
	if err == nil {
		err = g.snaps.verifyWritten(path, pos)
	}
	if err != nil {
		g.logger.Error("snapshot failed", "err", err)
		return
	}
	d := time.Since(t0)
	g.m.Snapshot.Observe(d.Seconds())
	g.m.SnapshotPos.Set(float64(pos))
	if fi, err := os.Stat(path); err == nil {
		g.m.SnapshotSize.Set(float64(fi.Size()))
	}
	g.sinceSnp = 0
	g.logger.Info("snapshot written", "path", filepath.Base(path), "position", pos, "seconds", d.Seconds())
	if before, ok := g.snaps.prune(g.logger); ok {
		if err := g.log.TruncateBefore(before); err != nil {
			g.logger.Warn("truncating the log", "err", err)
		}
	}
}

// Applied is the number of events applied since start.
func (g *Ingester) Applied() int64 { return g.applied.Load() }
