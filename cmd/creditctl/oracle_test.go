package main

import (
	"context"
	"testing"

	"github.com/creditrisk/creditd/feeds/synth"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
	"github.com/creditrisk/creditd/scoring/fit"
)

// TestOracleHitRatio (issue 13: at the documented tier shares the highest
// tier's finding rate must be ≥ 5× the lowest's). An ORACLE tiering, by
// the generator's true latent risk z at the built-in national model's
// tier targets (30/50/15/5 % by the percentile Φ(z), synth.Truth), is the
// best any model can do; if even it fell below 5× on the generator's
// inspections, the target would be unreachable because the generator's
// inspection-finding model (feeds/synth hitProb: logistic(−2.6 + 1.25z …))
// were too flat, not because of the model. Findings are models/event.Finding
// over every inspection of a 40,000-entity, three-year province (about
// 3,300 inspections; z is fixed, so no held-out split is needed).
//
// The test requires the lower end of the Katz 95 % interval of D/A to be
// ≥ 5, i.e. the data must show the ratio above 5×, not merely a point
// estimate above it: on 200,000 entities the oracle ratio is 33× (seed 7),
// 27× (8), 28× (9) (bench/RESULTS.md), and at this size the interval's
// lower end is about half the estimate, so a true ratio near 5× fails.
// Two seeds, neither the benchmark's.
func TestOracleHitRatio(t *testing.T) {
	m, err := scoring.DefaultModel("national-4")
	if err != nil {
		t.Fatal(err)
	}
	cum, cuts := 0.0, []float64{}
	for _, s := range m.TierTargets[:len(m.TierTargets)-1] {
		cum += s
		cuts = append(cuts, cum)
	}
	for _, seed := range []uint64{3, 11} {
		opts := synth.Options{Entities: 40_000, Days: 1095, Seed: seed, End: engineEnd}
		n, k := oracleTierHits(t, opts, cuts)
		last := len(n) - 1
		r := fit.RateRatio(k[last], n[last], k[0], n[0])
		t.Logf("seed %d: oracle tiers %v inspections, %v findings; D/A %.2f× [%.2f, %.2f]", seed, n, k, r.Value, r.Lower, r.Upper)
		if !(r.Lower >= 5) {
			t.Errorf("seed %d: oracle D/A ratio %.2f× [%.2f, %.2f]: the generator's finding model is too flat for the ≥ 5× target",
				seed, r.Value, r.Lower, r.Upper)
		}
		for i := 1; i < len(n); i++ {
			if float64(k[i])/float64(n[i]) <= float64(k[i-1])/float64(n[i-1]) {
				t.Errorf("seed %d: oracle tier %d hit rate not above tier %d's", seed, i, i-1)
			}
		}
	}
}

// oracleTierHits counts inspections and findings per true tier, the tier
// being the number of cumulative shares cuts below the entity's Φ(z).
func oracleTierHits(t *testing.T, opts synth.Options, cuts []float64) (n, k []int) {
	t.Helper()
	pct := map[uscc.Code]float64{}
	opts.Truth = func(tr *synth.Truth) error { pct[tr.USCC] = tr.Percentile; return nil }
	type insp struct {
		code    uscc.Code
		finding bool
	}
	var ins []insp
	var dec event.Decoder
	var ev event.Event
	err := synth.Generate(context.Background(), opts, func(l []byte) error {
		if err := dec.Decode(l, &ev); err != nil {
			return err
		}
		if ev.Type == event.TypeInspection {
			ins = append(ins, insp{ev.USCC, event.Finding(ev.Sub)})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, k = make([]int, len(cuts)+1), make([]int, len(cuts)+1)
	for _, in := range ins {
		p, ok := pct[in.code]
		if !ok {
			t.Fatalf("inspection of %s, an entity without truth", in.code)
		}
		tr := 0
		for tr < len(cuts) && p > cuts[tr] {
			tr++
		}
		n[tr]++
		if in.finding {
			k[tr]++
		}
	}
	return n, k
}
