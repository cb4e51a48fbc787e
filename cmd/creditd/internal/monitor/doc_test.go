package monitor

import (
	"math"
	"testing"

	"github.com/creditrisk/creditd/scoring"
)

// The PSI levels at the documented thresholds (scoring.PSIWatch 0.1 and
// scoring.PSIAlert 0.25, domain.md §8): a threshold belongs to the band
// above it.
func TestLevelBoundaries(t *testing.T) {
	for _, c := range []struct {
		psi  float64
		want string
	}{{0, "stable"}, {0.0999999, "stable"}, {0.1, "watch"}, {0.2499999, "watch"}, {0.25, "alert"}, {3, "alert"}, {math.NaN(), ""}} {
		if got := Level(c.psi); got != c.want {
			t.Errorf("Level(%v) = %q, want %q", c.psi, got, c.want)
		}
	}
}

// part is a Doc of a hand-made scan part: a champion of two tiers
// (A, B) with a reference of two bands (shares 0.5/0.5), a challenger of
// tiers A, B without a reference. findings counts the challenger's
// inspections with a finding (adverse); half of them (rounded down) are
// problems found, so a hit rate computed from problems_found would differ.
func part(entA, entB int64, bandLo, bandHi int64, agree [][]int64, insp, findings []int64) *Doc {
	ref := &scoring.ScoreReference{AsOf: "2026-01-01", Entities: 10, Edges: []int32{600}, Shares: []float64{0.5, 0.5}}
	d := &Doc{AsOf: "2026-12-01T00:00:00Z", Entities: entA + entB}
	d.Champion = ModelDoc{Model: "champ", TierScheme: "x", Tiers: []TierLine{{Tier: "A", Entities: entA}, {Tier: "B", Entities: entB}},
		Drift: driftDoc(ref, []int64{bandLo, bandHi})}
	var ct []TierLine
	for i, l := range []string{"A", "B"} {
		ct = append(ct, TierLine{Tier: l, Entities: agree[0][i] + agree[1][i], Inspections: ptr(insp[i]), ProblemsFound: ptr(findings[i] / 2), Adverse: ptr(findings[i])})
	}
	d.Challenger = &ModelDoc{Model: "chall", TierScheme: "x", Tiers: ct, Drift: driftDoc(nil, nil)}
	d.Agreement = &AgreementDoc{ChampionTiers: []string{"A", "B"}, ChallengerTiers: []string{"A", "B"}, Counts: agree}
	return d
}

// Two members' parts sum to the province: counts add, and the rates are
// computed once from the sums (worked by hand below).
func TestDocAddFinish(t *testing.T) {
	a := part(6, 4, 3, 7, [][]int64{{5, 1}, {0, 4}}, []int64{10, 0}, []int64{1, 0})
	b := part(2, 8, 9, 1, [][]int64{{1, 1}, {2, 6}}, []int64{10, 4}, []int64{3, 2})
	b.Partitions = []int{1}
	a.Partitions = []int{0}
	if err := a.Add(b); err != nil {
		t.Fatal(err)
	}
	a.Finish()
	// Entities 20; bands 12/8 → shares 0.6/0.4 against 0.5/0.5:
	// PSI = 0.1·ln(1.2) − 0.1·ln(0.8) = 0.1·ln(1.5).
	want := 0.1 * math.Log(1.5)
	if a.Entities != 20 || math.Abs(*a.Champion.Drift.PSI-want) > 1e-15 || a.Champion.Drift.Level != "stable" {
		t.Fatalf("entities %d, psi %v (want %v), level %s", a.Entities, *a.Champion.Drift.PSI, want, a.Champion.Drift.Level)
	}
	if a.Champion.Drift.Bands[0].Share != 0.6 || a.Champion.Drift.Bands[0].Hi == nil || *a.Champion.Drift.Bands[0].Hi != 600 ||
		a.Champion.Drift.Bands[0].Lo != nil || a.Champion.Drift.Bands[1].Hi != nil {
		t.Fatalf("bands %+v", a.Champion.Drift.Bands)
	}
	// Agreement [[6 2] [2 10]]: 16 of 20 agree.
	if a.Agreement.Agreeing != 16 || *a.Agreement.AgreementRate != 0.8 || a.Agreement.Counts[1][0] != 2 {
		t.Fatalf("agreement %+v", a.Agreement)
	}
	// Challenger A: 20 inspections, 4 findings (adverse; 0 + 1 problems
	// found) → 0.2, Wilson 95 % [0.0807, 0.4160]; B: 4 inspections, 2
	// findings (1 problem found) → 0.5.
	ca := a.Challenger.Tiers[0]
	if *ca.Inspections != 20 || *ca.ProblemsFound != 1 || *ca.HitRate != 0.2 || math.Abs(*ca.HitRateLow-0.0807) > 5e-4 || math.Abs(*ca.HitRateHigh-0.4160) > 5e-4 {
		t.Fatalf("challenger A %+v low %v high %v", ca, *ca.HitRateLow, *ca.HitRateHigh)
	}
	if cb := a.Challenger.Tiers[1]; *cb.HitRate != 0.5 || cb.Entities != 12 {
		t.Fatalf("challenger B %+v", cb)
	}
	if d := a.Challenger.Drift; d.PSI != nil || d.Reference != nil || d.Note != noReference {
		t.Fatalf("challenger without reference: %+v", d)
	}
	// Parts of other models do not add.
	c := part(1, 1, 1, 1, [][]int64{{1, 0}, {0, 1}}, []int64{0, 0}, []int64{0, 0})
	c.Challenger.Model = "another"
	if err := a.Add(c); err == nil {
		t.Fatal("a part of another challenger was added")
	}
	c.Challenger = nil
	if err := a.Add(c); err == nil {
		t.Fatal("a part without a challenger was added to one with")
	}
}

// No entities: no PSI, and the note says why.
func TestDocNoEntities(t *testing.T) {
	d := part(0, 0, 0, 0, [][]int64{{0, 0}, {0, 0}}, []int64{0, 0}, []int64{0, 0})
	d.Finish()
	if d.Champion.Drift.PSI != nil || d.Champion.Drift.Note == "" || d.Agreement.AgreementRate != nil || d.Challenger.Tiers[0].HitRate != nil {
		t.Fatalf("empty scan: %+v %+v", d.Champion.Drift, d.Agreement)
	}
}
