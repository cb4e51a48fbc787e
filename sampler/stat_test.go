package sampler

import (
	"context"
	"fmt"
	"io"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// TestInclusionStatistics runs many draws with fixed seeds over one small
// population and checks, per stratum, that (a) the inclusion frequency is
// π_t = n_t/N_t, and (b) every unit of the stratum is equally likely to be
// selected: the per-unit selection counts pass a chi-square uniformity test
// at the 0.999 quantile. It also checks that inspectors are picked
// uniformly when no cap or region binds. Deterministic (fixed seeds).
func TestInclusionStatistics(t *testing.T) {
	const draws = 1200
	units := testUnits(99, 260, []int{120, 90, 40, 10}, false)
	var pool []draw.Inspector
	for i := range 8 {
		pool = append(pool, draw.Inspector{ID: fmt.Sprintf("i%d", i)})
	}
	scheme := tier.National4
	counts := make(map[uscc.Code]int, len(units))
	assigned := make(map[string]int)
	var selectedPerTier [4]int64
	var N, n [4]int64
	for s := range draws {
		req := &draw.Request{
			PlanID: "stat", AsOf: testAsOf,
			Allocation: ratios(100000, 200000, 400000, 700000),
			Inspectors: draw.Inspectors{Pool: pool, PerEntity: 2, MaxLoad: 1 << 30},
			Seed:       fmt.Sprintf("%032x", s+1),
		}
		rec, _, err := Draw(context.Background(), req, &MemSource{Units: units, Parts: 3}, nil, io.Discard, Options{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		for t, st := range rec.Strata {
			N[t], n[t] = st.N, st.Sample
		}
		for _, sel := range rec.Selected {
			counts[sel.USCC]++
			selectedPerTier[sel.Tier]++
			for _, id := range sel.Inspectors {
				assigned[id]++
			}
		}
	}
	for tr := range 4 {
		pi := float64(n[tr]) / float64(N[tr])
		// (a) per-stratum inclusion frequency
		if freq := float64(selectedPerTier[tr]) / float64(draws*N[tr]); freq != pi {
			t.Errorf("stratum %s: inclusion frequency %.6f, π = %.6f", scheme.Labels[tr], freq, pi)
		}
		if pi == 1 {
			continue
		}
		// (b) uniformity within the stratum: each unit's count is
		// Binomial(draws, π); Σ (c − Sπ)² / (Sπ(1−π)) is χ² with N−1 df
		exp := draws * pi
		var x2 float64
		for _, u := range units {
			if u.Tier == tier.Tier(tr) {
				d := float64(counts[u.USCC]) - exp
				x2 += d * d / (exp * (1 - pi))
			}
		}
		limit := distuv.ChiSquared{K: float64(N[tr] - 1)}.Quantile(0.999)
		t.Logf("stratum %s: N %d n %d χ² %.1f (0.999 quantile %.1f)", scheme.Labels[tr], N[tr], n[tr], x2, limit)
		if x2 > limit {
			t.Errorf("stratum %s: units are not equally likely: χ² %.1f > %.1f", scheme.Labels[tr], x2, limit)
		}
	}
	// inspectors: each assignment picks 2 of 8, uniformly
	var total int
	for _, c := range assigned {
		total += c
	}
	exp := float64(total) / float64(len(pool))
	var x2 float64
	for _, in := range pool {
		d := float64(assigned[in.ID]) - exp
		x2 += d * d / exp
	}
	if limit := (distuv.ChiSquared{K: float64(len(pool) - 1)}).Quantile(0.999); x2 > limit {
		t.Errorf("inspectors are not equally likely: χ² %.1f > %.1f (%v)", x2, limit, assigned)
	}
}
