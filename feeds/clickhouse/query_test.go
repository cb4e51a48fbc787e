package clickhouse

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/tier"
)

// history is a random but consistent tier history: per entity a chain of
// tier changes (old tier = previous new tier), plus the applied events
// that caused them.
type history struct {
	changes []TierChange
	events  []AppliedEvent
}

func genHistory(seed uint64, entities int) history {
	r := rand.New(rand.NewPCG(seed, seed+1))
	regions := []string{"370202", "370211", "440106", "110105"}
	start := time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	end := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	var h history
	for e := range entities {
		region := regions[r.IntN(len(regions))]
		uscc := fmt.Sprintf("91%sMA%08d", region, e)
		k := 1 + r.IntN(6)
		times := map[int64]bool{}
		for len(times) < k {
			times[start+r.Int64N(end-start)] = true
		}
		ts := slices.Sorted(func(yield func(int64) bool) {
			for t := range times {
				if !yield(t) {
					return
				}
			}
		})
		old := ""
		for j, ms := range ts {
			if e%37 == 0 && j == len(ts)/2 {
				region = "440106" // the entity moves province (and scheme)
			}
			scheme := tier.National4
			if strings.HasPrefix(region, "37") {
				scheme = tier.Shandong5
			}
			next := scheme.Labels[r.IntN(scheme.Len())]
			if j == len(ts)-1 && r.IntN(10) == 0 {
				next = "" // deregistered
			}
			c := TierChange{USCC: uscc, Region: region, At: time.UnixMilli(ms).UTC(), OldTier: old, NewTier: next,
				Scheme: scheme.ID, Score: int32(r.IntN(1000)), Cause: fmt.Sprintf("EV-%d-%d", e, j)}
			if r.IntN(5) == 0 {
				c.Cause = "time:publicity_expired"
			} else {
				h.events = append(h.events, AppliedEvent{EventID: c.Cause, USCC: uscc, Type: []string{"penalty", "repair", "inspection"}[r.IntN(3)],
					OccurredAt: c.At, Region: region, Attrs: "{}", AppliedAt: c.At.Add(time.Second), Source: "test", Seq: uint64(len(h.events) + 1)})
			}
			h.changes = append(h.changes, c)
			old = next
		}
	}
	return h
}

// load sends h (and a random 30% of it a second time) through a sink.
func (h history) load(t *testing.T, s *Sink) {
	t.Helper()
	r := rand.New(rand.NewPCG(99, 100))
	for _, c := range h.changes {
		for range 1 + b2i(r.IntN(10) < 3) {
			if err := s.AddTierChange(c); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, e := range h.events {
		if err := s.AddAppliedEvent(e); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, s)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// bruteTierHistory computes TierHistory's counts directly from the rows.
func bruteTierHistory(changes []TierChange, prefix, scheme string, first, last int) map[string]map[string]map[string]int64 {
	out := map[string]map[string]map[string]int64{} // scheme → month → tier → n
	byEntity := map[string][]TierChange{}
	for _, c := range changes {
		byEntity[c.USCC] = append(byEntity[c.USCC], c)
	}
	for m := first; m <= last; m++ {
		end := monthStart(m + 1)
		for _, cs := range byEntity {
			var latest *TierChange
			for i := range cs {
				if cs[i].At.Before(end) && (latest == nil || cs[i].At.After(latest.At)) {
					latest = &cs[i]
				}
			}
			if latest == nil || latest.NewTier == "" || !strings.HasPrefix(latest.Region, prefix) || (scheme != "" && latest.Scheme != scheme) {
				continue
			}
			if out[latest.Scheme] == nil {
				out[latest.Scheme] = map[string]map[string]int64{}
			}
			if out[latest.Scheme][monthLabel(m)] == nil {
				out[latest.Scheme][monthLabel(m)] = map[string]int64{}
			}
			out[latest.Scheme][monthLabel(m)][latest.NewTier]++
		}
	}
	return out
}

func TestTierHistoryMatchesBruteForce(t *testing.T) {
	addr, db := chAddr(t), testDB(t)
	s := newSink(t, testOptions(t, addr, db))
	h := genHistory(1, 400)
	h.load(t, s)
	q := s.Querier()
	from, to := time.Date(2024, 12, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	first, last := monthIndex(from), monthIndex(to)
	for _, tc := range []struct{ prefix, scheme string }{{"", ""}, {"3702", ""}, {"", "national-4"}, {"44", "national-4"}, {"370211", "shandong-5"}, {"99", ""}} {
		t.Run(tc.prefix+"/"+tc.scheme, func(t *testing.T) {
			got, err := q.TierHistory(context.Background(), TierHistoryQuery{Prefix: tc.prefix, From: from, To: to, Scheme: tc.scheme})
			if err != nil {
				t.Fatal(err)
			}
			if got.From != "2024-12" || got.To != "2026-03" {
				t.Fatalf("range %s..%s", got.From, got.To)
			}
			want := bruteTierHistory(h.changes, tc.prefix, tc.scheme, first, last)
			var schemes []string
			for _, ser := range got.Series {
				schemes = append(schemes, ser.Scheme)
				sc, _ := tier.LookupScheme(ser.Scheme)
				if !slices.Equal(ser.Tiers, sc.Labels) {
					t.Errorf("%s tiers %v", ser.Scheme, ser.Tiers)
				}
				if len(ser.Months) != last-first+1 {
					t.Fatalf("%s: %d months", ser.Scheme, len(ser.Months))
				}
				for _, m := range ser.Months {
					var total int64
					for _, l := range ser.Tiers {
						if m.Counts[l] != want[ser.Scheme][m.Month][l] {
							t.Errorf("%s %s tier %s: %d, want %d", ser.Scheme, m.Month, l, m.Counts[l], want[ser.Scheme][m.Month][l])
						}
						total += m.Counts[l]
					}
					if total != m.Total {
						t.Errorf("%s %s: total %d, counts sum %d", ser.Scheme, m.Month, m.Total, total)
					}
				}
			}
			wantSchemes := slices.Sorted(func(yield func(string) bool) {
				for k := range want {
					if !yield(k) {
						return
					}
				}
			})
			if tc.scheme != "" && len(wantSchemes) == 0 {
				wantSchemes = []string{tc.scheme}
			}
			if !slices.Equal(schemes, wantSchemes) {
				t.Errorf("schemes %v, want %v", schemes, wantSchemes)
			}
		})
	}
}

// inspectionSet is random inspections with a known truth, some sent twice.
func genInspections(seed uint64, n int) []Inspection {
	r := rand.New(rand.NewPCG(seed, seed+1))
	results := []string{ResultNoProblem, ResultCorrected, ResultProblemFound, ResultRefused, ResultUnreachable}
	var out []Inspection
	start := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	end := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for i := range n {
		region := []string{"370202", "370211", "440106"}[r.IntN(3)]
		scheme := tier.National4
		if strings.HasPrefix(region, "37") {
			scheme = tier.Shandong5
		}
		tier := r.IntN(scheme.Len())
		label := scheme.Labels[tier]
		if r.IntN(50) == 0 {
			label = "" // no tier known
		}
		// Problems get likelier as risk rises.
		res := ResultNoProblem
		if r.Float64() < 0.05+0.12*float64(tier) {
			res = results[1+r.IntN(4)]
		}
		if r.IntN(100) == 0 {
			res = "closed" // outside the five results: counted as other
		}
		out = append(out, Inspection{EventID: fmt.Sprintf("INS-%06d", i), USCC: fmt.Sprintf("91%sMA%07d", region, r.IntN(500)), Region: region,
			At: time.UnixMilli(start + r.Int64N(end-start)).UTC(), PlanID: []string{"P-RAND-1", "P-RAND-2", "P-TARGET"}[r.IntN(3)],
			Result: res, TierAtInspection: label, Scheme: scheme.ID})
	}
	return out
}

func expectHitRates(ins []Inspection, hq HitRateQuery, randomPlans map[string]bool) (rows, totals []HitRateRow) {
	type key struct{ month, scheme, tier string }
	cells := map[key]*HitRateRow{}
	tot := map[key]*HitRateRow{}
	first, last, _ := monthRange(hq.From, hq.To)
	for _, in := range ins {
		m := monthIndex(in.At)
		if m < first || m > last || !strings.HasPrefix(in.Region, hq.Prefix) || (hq.Scheme != "" && in.Scheme != hq.Scheme) ||
			(hq.PlanID != "" && in.PlanID != hq.PlanID) || (hq.RandomOnly && !randomPlans[in.PlanID]) {
			continue
		}
		for _, k := range []key{{monthLabel(m), in.Scheme, in.TierAtInspection}, {"", in.Scheme, in.TierAtInspection}} {
			set := cells
			if k.month == "" {
				set = tot
			}
			c := set[k]
			if c == nil {
				c = &HitRateRow{Month: k.month, Scheme: k.scheme, Tier: k.tier}
				set[k] = c
			}
			c.Inspections++
			switch in.Result {
			case ResultProblemFound:
				c.ProblemFound++
			case ResultCorrected:
				c.Corrected++
			case ResultNoProblem:
				c.NoProblem++
			case ResultRefused:
				c.Refused++
			case ResultUnreachable:
				c.Unreachable++
			default:
				c.Other++
			}
		}
	}
	flat := func(m map[key]*HitRateRow) []HitRateRow {
		var out []HitRateRow
		for _, c := range m {
			c.Found = c.ProblemFound + c.Corrected
			c.HitRate = float64(c.Found) / float64(c.Inspections)
			c.HitRateLow, c.HitRateHigh = Wilson(c.Found, c.Inspections)
			c.AdverseRate = float64(c.Found+c.Refused+c.Unreachable) / float64(c.Inspections)
			out = append(out, *c)
		}
		slices.SortFunc(out, func(a, b HitRateRow) int {
			return cmp.Or(strings.Compare(a.Month, b.Month), strings.Compare(a.Scheme, b.Scheme), tierCompare(a.Scheme, a.Tier, b.Tier))
		})
		return out
	}
	return flat(cells), flat(tot)
}

func TestHitRatesMatchIndependentCount(t *testing.T) {
	addr, db := chAddr(t), testDB(t)
	s := newSink(t, testOptions(t, addr, db))
	ins := genInspections(5, 4000)
	for i, in := range ins {
		if err := s.AddInspection(in); err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 { // a replayed duplicate: must not count twice
			if err := s.AddInspection(in); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range []string{"P-RAND-1", "P-RAND-2"} {
		if err := s.AddDraw(Draw{DrawID: "D-" + p, PlanID: p, AsOf: time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC), Scheme: "national-4"}); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, s)
	q := s.Querier()
	from, to := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	random := map[string]bool{"P-RAND-1": true, "P-RAND-2": true}
	for name, hq := range map[string]HitRateQuery{
		"all":         {From: from, To: to},
		"prefix":      {From: from, To: to, Prefix: "3702"},
		"scheme":      {From: from, To: to, Scheme: "national-4"},
		"plan":        {From: from, To: to, PlanID: "P-TARGET"},
		"random only": {From: from, To: to, RandomOnly: true},
		"two months":  {From: time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), Prefix: "440106"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := q.HitRates(context.Background(), hq)
			if err != nil {
				t.Fatal(err)
			}
			wantRows, wantTotals := expectHitRates(ins, hq, random)
			if len(wantRows) == 0 {
				t.Fatal("test data selects nothing")
			}
			compareRates(t, "rows", got.Rows, wantRows)
			compareRates(t, "totals", got.Totals, wantTotals)
		})
	}
	// The rates rise with the tier in this data, as a sound model's should.
	got, _ := q.HitRates(context.Background(), HitRateQuery{From: from, To: to, Scheme: "shandong-5"})
	var prev float64 = -1
	for _, r := range got.Totals {
		if r.Tier == "" {
			continue
		}
		if r.HitRate <= prev {
			t.Errorf("hit rate of %s %.3f not above the tier below (%.3f)", r.Tier, r.HitRate, prev)
		}
		prev = r.HitRate
	}
}

func compareRates(t *testing.T, what string, got, want []HitRateRow) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if math.Abs(g.HitRate-w.HitRate) > 1e-12 || math.Abs(g.AdverseRate-w.AdverseRate) > 1e-12 ||
			math.Abs(g.HitRateLow-w.HitRateLow) > 1e-12 || math.Abs(g.HitRateHigh-w.HitRateHigh) > 1e-12 {
			t.Errorf("%s %d rates %+v, want %+v", what, i, g, w)
		}
		g.HitRate, g.AdverseRate, g.HitRateLow, g.HitRateHigh = 0, 0, 0, 0
		w.HitRate, w.AdverseRate, w.HitRateLow, w.HitRateHigh = 0, 0, 0, 0
		if g != w {
			t.Errorf("%s %d: %+v, want %+v", what, i, g, w)
		}
	}
}

func TestTierChangesQuery(t *testing.T) {
	addr, db := chAddr(t), testDB(t)
	s := newSink(t, testOptions(t, addr, db))
	h := genHistory(3, 300)
	h.load(t, s)
	q := s.Querier()
	types := map[string]string{}
	for _, e := range h.events {
		types[e.USCC+"/"+e.EventID] = e.Type
	}
	from, to := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 15, 12, 0, 0, 500e6, time.UTC)
	expect := func(cq TierChangeQuery) []TierChange {
		var out []TierChange
		for _, c := range h.changes {
			if strings.HasPrefix(c.Region, cq.Prefix) && (cq.From.IsZero() || !c.At.Before(cq.From)) && (cq.To.IsZero() || c.At.Before(cq.To)) &&
				(cq.USCC == "" || c.USCC == cq.USCC) {
				out = append(out, c)
			}
		}
		slices.SortFunc(out, func(a, b TierChange) int {
			return cmp.Or(b.At.Compare(a.At), strings.Compare(a.USCC, b.USCC), strings.Compare(a.Cause, b.Cause))
		})
		return out
	}
	for _, cq := range []TierChangeQuery{
		{From: from, To: to, Prefix: "3702", Limit: 10_000},
		{From: from, To: to, Limit: 7},
		{USCC: h.changes[10].USCC},
		{Prefix: "44", To: to, Limit: 10_000},
	} {
		t.Run(fmt.Sprintf("%s-%d-%s", cq.Prefix, cq.Limit, cq.USCC), func(t *testing.T) {
			got, err := q.TierChanges(context.Background(), cq)
			if err != nil {
				t.Fatal(err)
			}
			want := expect(cq)
			limit := cmp.Or(cq.Limit, 100)
			if got.Truncated != (len(want) > limit) {
				t.Errorf("truncated %v with %d matching, limit %d", got.Truncated, len(want), limit)
			}
			want = want[:min(len(want), limit)]
			if len(got.Changes) != len(want) {
				t.Fatalf("%d changes, want %d", len(got.Changes), len(want))
			}
			for i, g := range got.Changes {
				w := want[i]
				if g.USCC != w.USCC || !g.At.Equal(w.At) || g.OldTier != w.OldTier || g.NewTier != w.NewTier || g.Scheme != w.Scheme ||
					g.Score != w.Score || g.Cause != w.Cause || g.Region != w.Region {
					t.Fatalf("change %d: %+v, want %+v", i, g, w)
				}
				wantType := types[w.USCC+"/"+w.Cause]
				if strings.HasPrefix(w.Cause, "time:") {
					wantType = "time"
				}
				if g.CauseType != wantType {
					t.Errorf("change %d cause type %q, want %q", i, g.CauseType, wantType)
				}
				if g.Direction != direction(w.Scheme, w.OldTier, w.NewTier) {
					t.Errorf("direction %q", g.Direction)
				}
			}
		})
	}
}

func TestDirection(t *testing.T) {
	for _, tc := range []struct{ scheme, old, new, want string }{
		{"national-4", "", "B", "entered"},
		{"national-4", "B", "", "left"},
		{"national-4", "A", "D", "raised"},
		{"shandong-5", "E", "C", "lowered"},
		{"national-4", "B", "B", ""},
		{"unknown", "A", "B", ""},
		{"national-4", "A", "Z", ""},
	} {
		if got := direction(tc.scheme, tc.old, tc.new); got != tc.want {
			t.Errorf("direction(%s, %q, %q) = %q, want %q", tc.scheme, tc.old, tc.new, got, tc.want)
		}
	}
}

func TestWilson(t *testing.T) {
	// Reference values (Wilson score interval, z = 1.96).
	lo, hi := Wilson(10, 100)
	if math.Abs(lo-0.0552) > 5e-4 || math.Abs(hi-0.1744) > 5e-4 {
		t.Fatalf("Wilson(10,100) = %.4f, %.4f", lo, hi)
	}
	if lo, hi := Wilson(0, 20); lo != 0 || math.Abs(hi-0.1611) > 5e-4 {
		t.Fatalf("Wilson(0,20) = %.4f, %.4f", lo, hi)
	}
}

func TestQueryParamsChecked(t *testing.T) {
	q := &Querier{db: "x", timeout: time.Second} // never reaches a server
	ctx := context.Background()
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, err := range map[string]error{
		"prefix letters": func() error { _, err := q.TierHistory(ctx, TierHistoryQuery{Prefix: "37a"}); return err }(),
		"prefix long":    func() error { _, err := q.HitRates(ctx, HitRateQuery{Prefix: "3702021"}); return err }(),
		"from after to": func() error {
			_, err := q.HitRates(ctx, HitRateQuery{From: jan, To: jan.AddDate(0, -1, 0)})
			return err
		}(),
		"too many months": func() error {
			_, err := q.TierHistory(ctx, TierHistoryQuery{From: jan.AddDate(-30, 0, 0), To: jan})
			return err
		}(),
		"limit":     func() error { _, err := q.TierChanges(ctx, TierChangeQuery{Limit: 10_001}); return err }(),
		"like meta": func() error { _, err := q.TierChanges(ctx, TierChangeQuery{Prefix: "%"}); return err }(),
	} {
		if !errors.Is(err, ErrBadQuery) {
			t.Errorf("%s: %v, want ErrBadQuery", name, err)
		}
	}
	if m, err := ParseMonth("2026-02"); err != nil || !m.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatal(m, err)
	}
	if _, err := ParseMonth("2026-13"); !errors.Is(err, ErrBadQuery) {
		t.Fatal(err)
	}
	if got := monthStart(monthIndex(time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC))); !got.Equal(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatal(got)
	}
}
