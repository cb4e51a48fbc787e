package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/creditrisk/creditd/models/deadletter"
)

// Partitions: a held source partition, its goroutine, and the consumer
// loop that applies its fetched batches to its State.

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
