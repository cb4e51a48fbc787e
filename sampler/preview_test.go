package sampler

import (
	"context"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/draw"
)

// The preview is the draw without the drawing: for ratio and budget
// allocations its N_t (counted here independently from the units), n_t,
// π_t and warnings are those of the record the draw then makes, and it
// selects, stores and commits nothing (a draw of the same plan still runs).
func TestPreviewV2MatchesDraw(t *testing.T) {
	units := testUnits(31, 3000, []int{30, 55, 12, 3}, false)
	for _, alloc := range []draw.Allocation{ratios(10000, 20000, 50000, 300000), weights(120, 1, 2, 4, 8)} {
		store, err := OpenStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		s := New(store, Options{Now: func() time.Time { return testAsOf.Add(-24 * time.Hour) }})
		src := &MemSource{Units: units, Parts: 3}
		req := v2Request(units, 1000)
		req.Allocation = alloc
		p, err := s.PrepareV2(req, src)
		if err != nil {
			t.Fatal(err)
		}
		pv, err := s.PreviewV2(context.Background(), p, src)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{}
		for _, u := range units {
			if u.RegisteredAt <= testAsOf.Unix() && (u.DeregisteredAt == 0 || u.DeregisteredAt > testAsOf.Unix()) {
				want[p.scheme.Labels[u.Tier]]++
			}
		}
		if _, err := s.Commit(req.PlanID, draw.SeedDigest(req.SeedBytes())); err != nil {
			t.Fatal(err)
		}
		p2, _ := s.PrepareV2(req, src)
		rec, _, err := s.RunPreparedV2(context.Background(), p2, src)
		if err != nil {
			t.Fatalf("the draw after a preview: %v", err)
		}
		if pv.Population != rec.PopulationSize || pv.Sample != rec.SampleSize || pv.TierScheme != rec.TierScheme {
			t.Errorf("totals: preview %d/%d %s, draw %d/%d %s", pv.Sample, pv.Population, pv.TierScheme, rec.SampleSize, rec.PopulationSize, rec.TierScheme)
		}
		for _, st := range pv.Strata {
			d := rec.TierStrata[st.Tier]
			if st.N != want[st.Tier] || st.N != d.N || st.N2 != d.N2 || st.Pi != d.Pi {
				t.Errorf("tier %s: preview N=%d n=%d π=%s; counted N=%d; draw N=%d n=%d π=%s", st.Tier, st.N, st.N2, st.Pi, want[st.Tier], d.N, d.N2, d.Pi)
			}
		}
		if len(pv.Warnings) != len(rec.Warnings) {
			t.Errorf("warnings: preview %q, draw %q", pv.Warnings, rec.Warnings)
		}
	}
}
