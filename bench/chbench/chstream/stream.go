// Package chstream generates a deterministic stream of history rows shaped
// like the scorer's output (applied events and the tier changes they cause)
// and drives a ClickHouse sink with it. bench/chbench uses it to measure
// sustained insert rates; a scoring benchmark can use Drive to load the
// sink alongside the engine and measure the slow-down.
package chstream

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/creditrisk/creditd/feeds/clickhouse"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// Adder is the part of *clickhouse.Sink that Drive uses.
type Adder interface {
	AddAppliedEvent(clickhouse.AppliedEvent) error
	AddTierChange(clickhouse.TierChange) error
	AddInspection(clickhouse.Inspection) error
}

// Options shape a Stream. Zero fields take the defaults noted.
type Options struct {
	// Seed makes the stream reproducible. Default 1.
	Seed uint64
	// Entities is the number of distinct USCCs. Default 200,000.
	Entities int
	// TierChangeRatio is the share of events that change the entity's tier.
	// Default 0.25.
	TierChangeRatio float64
	// End is the latest occurred_at; events spread over Years years before
	// it (so inserts touch several yearly partitions, as a backfill does).
	// Defaults: 2026-01-01 UTC and 3.
	End   time.Time
	Years int
}

// Stream yields applied events and tier changes. Not safe for concurrent
// use.
type Stream struct {
	o      Options
	r      *rand.Rand
	usccs  []string
	region []string
	tier   []uint8 // current tier index per entity, 255 = none
	seq    uint64
	span   int64 // ms
	start  int64 // ms
}

var (
	eventTypes = []string{"annual_report", "penalty", "inspection", "abnormal_listed", "abnormal_removed", "commitment_made", "tax_rating", "honor", "complaint", "repair"}
	regions    = []string{"370202", "370211", "370102", "370612", "440106", "440305", "310115", "110105"}
	attrs      = []string{
		`{"year":2025,"on_time":true}`,
		`{"severity":"general","decision_no":"青市监罚〔2025〕123号","amount_yuan":5000}`,
		`{"plan_id":"SD-2025-07","result":"no_problem"}`,
		`{"reason":"annual_report_missing"}`,
		`{"ref":"SAMR-370200-2025-000123"}`,
		`{"commitment_no":"CN-2025-88","matter":"食品经营许可"}`,
		`{"year":2024,"level":"B"}`,
		`{"title":"守合同重信用","level":"provincial"}`,
		`{"substantiated":false}`,
		`{"ref":"SAMR-370200-2024-000777","decided_on":"2025-03-01"}`,
	}
)

// New makes a stream.
func New(o Options) *Stream {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Entities <= 0 {
		o.Entities = 200_000
	}
	if o.TierChangeRatio <= 0 {
		o.TierChangeRatio = 0.25
	}
	if o.End.IsZero() {
		o.End = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.Years <= 0 {
		o.Years = 3
	}
	s := &Stream{o: o, r: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))}
	s.span = int64(o.Years) * 365 * 24 * 3600 * 1000
	s.start = o.End.UnixMilli() - s.span
	s.usccs = make([]string, o.Entities)
	s.region = make([]string, o.Entities)
	s.tier = make([]uint8, o.Entities)
	for i := range s.usccs {
		s.region[i] = regions[i%len(regions)]
		s.usccs[i] = makeUSCC(s.region[i], i)
		s.tier[i] = 255
	}
	return s
}

// makeUSCC builds a valid code: 9 (市场监管) 1 (企业), the region, an
// organisation code with its check character, and the final check.
func makeUSCC(region string, i int) string {
	body := []byte("91" + region + fmt.Sprintf("%08d", i))
	body = append(body, uscc.OrgCheckCharacter(body[8:16]))
	body = append(body, uscc.CheckCharacter(body))
	return string(body)
}

// USCC returns entity i's code.
func (s *Stream) USCC(i int) string { return s.usccs[i] }

// Rows are what one applied event produces.
type Rows struct {
	Event clickhouse.AppliedEvent
	// TierChange is set when the event changed the entity's tier.
	TierChange    clickhouse.TierChange
	HasTierChange bool
	// Inspection is set for events of type "inspection": the outcome,
	// likelier to find a problem the higher the entity's tier.
	Inspection    clickhouse.Inspection
	HasInspection bool
}

var results = []string{clickhouse.ResultCorrected, clickhouse.ResultProblemFound, clickhouse.ResultRefused, clickhouse.ResultUnreachable}

// Next returns the rows of the next applied event.
func (s *Stream) Next() Rows {
	s.seq++
	e := s.r.IntN(len(s.usccs))
	k := s.r.IntN(len(eventTypes))
	at := time.UnixMilli(s.start + s.r.Int64N(s.span)).UTC()
	var out Rows
	out.Event = clickhouse.AppliedEvent{
		EventID:    fmt.Sprintf("BENCH-%s-%012d", s.region[e], s.seq),
		USCC:       s.usccs[e],
		Type:       eventTypes[k],
		OccurredAt: at,
		Authority:  "SAMR-" + s.region[e],
		Region:     s.region[e],
		Attrs:      attrs[k],
		AppliedAt:  at.Add(time.Duration(s.r.IntN(3600)) * time.Second),
		Source:     fmt.Sprintf("kafka:credit.events/%d@%d", e%12, s.seq),
		Seq:        s.seq,
	}
	ev := &out.Event
	old := ""
	if s.tier[e] != 255 {
		old = tier.National4.Labels[s.tier[e]]
	}
	if ev.Type == "inspection" {
		res := clickhouse.ResultNoProblem
		risk := 0.0
		if s.tier[e] != 255 {
			risk = float64(s.tier[e])
		}
		if s.r.Float64() < 0.04+0.08*risk {
			res = results[s.r.IntN(len(results))]
		}
		out.Inspection = clickhouse.Inspection{EventID: ev.EventID, USCC: ev.USCC, Region: ev.Region, At: at,
			PlanID: fmt.Sprintf("SD-%d-%02d", at.Year(), at.Month()), Result: res, TierAtInspection: old, Scheme: tier.National4.ID}
		out.HasInspection = true
	}
	if s.tier[e] != 255 && s.r.Float64() >= s.o.TierChangeRatio {
		return out
	}
	nt := uint8(s.r.IntN(4))
	if nt == s.tier[e] {
		nt = (nt + 1) % 4
	}
	s.tier[e] = nt
	out.TierChange = clickhouse.TierChange{USCC: ev.USCC, Region: ev.Region, At: at, OldTier: old, NewTier: tier.National4.Labels[nt],
		Scheme: tier.National4.ID, Score: int32(s.r.IntN(1000)), Cause: ev.EventID}
	out.HasTierChange = true
	return out
}

// Result reports a Drive.
type Result struct {
	// Events, TierChanges and Inspections are the rows offered; Refused
	// those the sink refused (ErrOverloaded).
	Events, TierChanges, Inspections, Refused int
	// AddTime is the time spent inside Add* calls (generation excluded).
	AddTime time.Duration
	// Elapsed is the wall time of the whole drive.
	Elapsed time.Duration
}

// Rows is the number of rows offered.
func (r Result) Rows() int { return r.Events + r.TierChanges + r.Inspections }

// Drive feeds n events from st (with their tier changes and inspections)
// to sink, at most rate events per second (0: as fast as possible). Rows
// are generated in chunks outside the timed Add calls. It stops early if
// ctx ends; an error other than ErrOverloaded stops it and is returned.
func Drive(ctx context.Context, sink Adder, st *Stream, n int, rate float64) (Result, error) {
	const chunk = 4096
	var res Result
	rows := make([]Rows, 0, chunk)
	start := time.Now()
	count := func(err error) error {
		if err != nil {
			if !errors.Is(err, clickhouse.ErrOverloaded) {
				return err
			}
			res.Refused++
		}
		return nil
	}
	for done := 0; done < n; {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		rows = rows[:0]
		for k := 0; k < chunk && done+k < n; k++ {
			rows = append(rows, st.Next())
		}
		t := time.Now()
		for i := range rows {
			r := &rows[i]
			if err := count(sink.AddAppliedEvent(r.Event)); err != nil {
				return res, err
			}
			if r.HasTierChange {
				if err := count(sink.AddTierChange(r.TierChange)); err != nil {
					return res, err
				}
				res.TierChanges++
			}
			if r.HasInspection {
				if err := count(sink.AddInspection(r.Inspection)); err != nil {
					return res, err
				}
				res.Inspections++
			}
		}
		res.AddTime += time.Since(t)
		res.Events += len(rows)
		done += len(rows)
		if rate > 0 {
			due := start.Add(time.Duration(float64(done) / rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				select {
				case <-ctx.Done():
					return res, ctx.Err()
				case <-time.After(d):
				}
			}
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}
