package clickhouse

import (
	"context"
	"testing"
	"time"
)

// The tier history's monthly PSI takes, per month, each part's latest scan
// of the champion model and sums the parts (worked by hand below): a part
// scanned twice in a month counts once, with its later scan; another
// model's rows, the challenger's rows and months without a scan give
// nothing; re-inserted rows change nothing.
func TestMonthlyPSI(t *testing.T) {
	addr, db := chAddr(t), testDB(t)
	s := newSink(t, testOptions(t, addr, db))
	at := func(m time.Month, d, h int) time.Time { return time.Date(2026, m, d, h, 0, 0, 0, time.UTC) }
	scan := func(when time.Time, part, role, model string, counts ...int) {
		for i, n := range counts {
			if err := s.AddScoreBand(ScoreBand{ScannedAt: when, Part: part, Role: role, Model: model, Band: i, Entities: n}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The tier history needs a series to put the months' psi on.
	if err := s.AddTierChange(TierChange{USCC: "91370100MA0000001X", Region: "370100", At: at(1, 1, 0), NewTier: "B", Scheme: "national-4"}); err != nil {
		t.Fatal(err)
	}
	// March: p0 scanned twice (the later scan counts), p1 once → [3+1, 5+1].
	scan(at(3, 2, 0), "p0", "champion", "M", 9, 9)
	scan(at(3, 30, 0), "p0", "champion", "M", 3, 5)
	scan(at(3, 10, 0), "p1", "champion", "M", 1, 1)
	scan(at(3, 31, 0), "p1", "challenger", "M", 50, 0) // the challenger role: not counted
	scan(at(3, 31, 0), "p1", "champion", "other", 50, 0)
	// April: only p0 → [2, 2]. May: no scan. June: a scan of zeros.
	scan(at(4, 5, 0), "p0", "champion", "M", 2, 2)
	scan(at(4, 5, 0), "p0", "champion", "M", 2, 2) // re-inserted
	scan(at(6, 5, 0), "p0", "champion", "M", 0, 0)
	flush(t, s)
	var seen [][]int64
	dq := &DriftQuery{Model: "M", Bands: 2, PSI: func(c []int64) float64 {
		seen = append(seen, append([]int64(nil), c...))
		return float64(c[0]*100 + c[1]) // a PSI that shows the counts it was given
	}}
	th, err := s.Querier().TierHistory(context.Background(), TierHistoryQuery{From: at(3, 1, 0), To: at(6, 1, 0), Drift: dq})
	if err != nil {
		t.Fatal(err)
	}
	if len(th.Series) != 1 || len(th.Series[0].Months) != 4 || th.PSIModel != "M" {
		t.Fatalf("tier history %+v", th)
	}
	want := []float64{406, 202, -1, -1} // -1: null
	for i, m := range th.Series[0].Months {
		got := -1.0
		if m.PSI != nil {
			got = *m.PSI
		}
		if got != want[i] {
			t.Errorf("%s: psi %v, want %v (counts given %v)", m.Month, got, want[i], seen)
		}
	}
	// Without a reference the note stands in for every month's psi.
	th, err = s.Querier().TierHistory(context.Background(), TierHistoryQuery{From: at(3, 1, 0), To: at(6, 1, 0),
		Drift: &DriftQuery{Note: "no reference"}})
	if err != nil || th.PSINote != "no reference" || th.Series[0].Months[0].PSI != nil {
		t.Fatalf("no reference: %v %+v", err, th)
	}
}
