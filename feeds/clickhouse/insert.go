package clickhouse

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// insertColumns names the columns of each table's INSERT, in the order
// insertBatch appends them. Columns are always named: 18.16 rejects the
// bare INSERT form the driver would otherwise send.
var insertColumns = [numTables]string{
	tblApplied:        "event_id, uscc, type, occurred_at, occurred_ms, authority, region, attrs, applied_at, applied_ms, source, seq",
	tblRejected:       "at, at_ms, source, reason, detail, event_id, original, original_hash",
	tblTierChanges:    "uscc, region, at, at_ms, old_tier, new_tier, scheme, score, cause",
	tblDraws:          "draw_id, plan_id, as_of, as_of_ms, scheme, population_digest, eligible, selected, record_json",
	tblDrawSelections: "draw_id, plan_id, as_of, as_of_ms, uscc, region, tier, priority, inspectors, unassigned",
	tblInspections:    "event_id, uscc, region, at, at_ms, plan_id, result, tier_at_inspection, scheme",
}

// insertBatch inserts one batch as one INSERT, column by column (the
// driver's columnar append avoids per-row reflection).
func (s *Sink) insertBatch(ctx context.Context, b *batch) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.InsertTimeout)
	defer cancel()
	if s.liftPartitionLimit.Load() {
		ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"max_partitions_per_insert_block": 0}))
	}
	cols := columnsOf(b)
	bt, err := s.conn.PrepareBatch(ctx, s.insertSQL[b.tbl])
	if err != nil {
		return fmt.Errorf("clickhouse insert %s: prepare: %w", b.tbl, err)
	}
	defer bt.Close()
	for i, c := range cols {
		if err := bt.Column(i).Append(c); err != nil {
			_ = bt.Abort()
			return &permanentError{fmt.Errorf("clickhouse insert %s: column %d: %w", b.tbl, i, err)}
		}
	}
	if err := bt.Send(); err != nil {
		return fmt.Errorf("clickhouse insert %s: %d rows: %w", b.tbl, b.len(), err)
	}
	return nil
}

type timeCol struct {
	sec []time.Time
	ms  []uint16
}

func newTimeCol(n int) timeCol { return timeCol{make([]time.Time, n), make([]uint16, n)} }

func (c timeCol) set(i int, t time.Time) { c.sec[i], c.ms[i] = splitTime(t) }

// columnsOf builds b's column slices in insertColumns order.
func columnsOf(b *batch) []any {
	n := b.len()
	strs := func(k int) [][]string {
		out := make([][]string, k)
		for i := range out {
			out[i] = make([]string, n)
		}
		return out
	}
	switch b.tbl {
	case tblApplied:
		s := strs(7) // event_id uscc type authority region attrs source
		occ, app := newTimeCol(n), newTimeCol(n)
		seq := make([]uint64, n)
		for i := range b.applied {
			r := &b.applied[i]
			s[0][i], s[1][i], s[2][i], s[3][i], s[4][i], s[5][i], s[6][i] = r.EventID, r.USCC, r.Type, r.Authority, r.Region, r.Attrs, r.Source
			occ.set(i, r.OccurredAt)
			app.set(i, r.AppliedAt)
			seq[i] = r.Seq
		}
		return []any{s[0], s[1], s[2], occ.sec, occ.ms, s[3], s[4], s[5], app.sec, app.ms, s[6], seq}
	case tblRejected:
		s := strs(5) // source reason detail event_id original
		at := newTimeCol(n)
		h := make([]uint64, n)
		for i := range b.rejected {
			r := &b.rejected[i]
			at.set(i, r.At)
			s[0][i], s[1][i], s[2][i], s[3][i], s[4][i] = r.Source, r.Reason, r.Detail, r.EventID, r.Original
			h[i] = fnv64(r.Original)
		}
		return []any{at.sec, at.ms, s[0], s[1], s[2], s[3], s[4], h}
	case tblTierChanges:
		s := strs(6) // uscc region old new scheme cause
		at := newTimeCol(n)
		score := make([]int32, n)
		for i := range b.tiers {
			r := &b.tiers[i]
			s[0][i], s[1][i], s[2][i], s[3][i], s[4][i], s[5][i] = r.USCC, r.Region, r.OldTier, r.NewTier, r.Scheme, r.Cause
			at.set(i, r.At)
			score[i] = r.Score
		}
		return []any{s[0], s[1], at.sec, at.ms, s[2], s[3], s[4], score, s[5]}
	case tblDraws:
		s := strs(5) // draw_id plan_id scheme digest record
		at := newTimeCol(n)
		el, se := make([]uint64, n), make([]uint64, n)
		for i := range b.draws {
			r := &b.draws[i]
			s[0][i], s[1][i], s[2][i], s[3][i], s[4][i] = r.DrawID, r.PlanID, r.Scheme, r.PopulationDigest, r.RecordJSON
			at.set(i, r.AsOf)
			el[i], se[i] = uint64(max(r.Eligible, 0)), uint64(max(r.Selected, 0))
		}
		return []any{s[0], s[1], at.sec, at.ms, s[2], s[3], el, se, s[4]}
	case tblDrawSelections:
		s := strs(6) // draw_id plan_id uscc region tier priority
		at := newTimeCol(n)
		insp := make([][]string, n)
		un := make([]uint32, n)
		for i := range b.selections {
			r := &b.selections[i]
			s[0][i], s[1][i], s[2][i], s[3][i], s[4][i], s[5][i] = r.DrawID, r.PlanID, r.USCC, r.Region, r.Tier, r.Priority
			at.set(i, r.AsOf)
			insp[i] = r.Inspectors
			if insp[i] == nil {
				insp[i] = []string{}
			}
			un[i] = uint32(max(r.Unassigned, 0))
		}
		return []any{s[0], s[1], at.sec, at.ms, s[2], s[3], s[4], s[5], insp, un}
	case tblInspections:
		s := strs(7) // event_id uscc region plan_id result tier scheme
		at := newTimeCol(n)
		for i := range b.inspects {
			r := &b.inspects[i]
			s[0][i], s[1][i], s[2][i], s[3][i], s[4][i], s[5][i], s[6][i] = r.EventID, r.USCC, r.Region, r.PlanID, r.Result, r.TierAtInspection, r.Scheme
			at.set(i, r.At)
		}
		return []any{s[0], s[1], s[2], at.sec, at.ms, s[3], s[4], s[5], s[6]}
	}
	return nil
}
