package kafkamode

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/history"
	"github.com/creditrisk/creditd/feeds/deadletter"
	kf "github.com/creditrisk/creditd/feeds/kafka"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/scoring"
)

// kafkaState is one source partition's state: a scoring.Engine of its own.
type kafkaState struct {
	eng   *scoring.Engine
	dec   event.Decoder
	ev    event.Event
	tiers string
	km    *kafkaMetrics
	hist  *history.History // ClickHouse history, nil without --clickhouse-dsn
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
		var rej *event.RejectError
		if !errors.As(err, &rej) {
			rej = &event.RejectError{Reason: event.ReasonInvalidField, Detail: err.Error()}
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
		var rej *event.RejectError
		if !errors.As(err, &rej) {
			rej = &event.RejectError{Reason: event.ReasonInvalidField, Detail: err.Error()}
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
		if !m.Replay && c.From != tier.None {
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
		if c.From != tier.None {
			emit(s.tierOutput(c, nil))
		}
	})
}

// tierOutput is c's record of the tier-changes topic (tier.Change);
// m is the source message, nil for a time rule's change.
func (s *kafkaState) tierOutput(c scoring.TierChange, m *kf.Message) kf.Output {
	scheme := s.eng.Scheme()
	tc := tier.Change{USCC: c.USCC, Region: c.Region, Scheme: scheme.ID, Score: int(c.Score), At: c.At, Cause: c.Cause}
	if c.From != tier.None {
		tc.OldTier = scheme.Label(c.From)
	}
	if c.To != tier.None {
		tc.NewTier = scheme.Label(c.To) // NoTier: deregistered, no longer in a tier
	}
	if m != nil {
		tc.Source = &tier.ChangeSource{Topic: m.Topic, Partition: int32(m.Partition), Offset: m.Offset}
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

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
