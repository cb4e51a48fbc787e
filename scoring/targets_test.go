package scoring

import (
	"slices"
	"testing"
)

func TestCutoffsForTargets(t *testing.T) {
	// 10 entities with scores 100..1000 step 100, no floors; targets
	// 30/40/20/10 %: A = the top 3 (≥ 800), A+B = top 7 (≥ 400), A+B+C =
	// top 9 (≥ 200).
	var pop []Scored
	for s := int32(100); s <= 1000; s += 100 {
		pop = append(pop, Scored{Score: s})
	}
	got, err := CutoffsForTargets(pop, []float64{0.3, 0.4, 0.2, 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{800, 400, 200}; !slices.Equal(got, want) {
		t.Fatalf("cutoffs %v, want %v", got, want)
	}
	// Floors: the two best-scoring entities are forced to at least tier C
	// (index 2), so A can take only from the other 8: 3 of them (≥ 600).
	pop[9].Floor, pop[8].Floor = 2, 2
	got, _ = CutoffsForTargets(pop, []float64{0.3, 0.4, 0.2, 0.1})
	if want := []int{600, 200, 200 - 1}; got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("with floors: cutoffs %v, want %v", got, want)
	}
	// Ties: 6 entities at 500, 4 at 900; a 50 % target for A can only be
	// 40 % (≥ 900) or 100 % (≥ 500); 40 % is nearer.
	pop = pop[:0]
	for i := 0; i < 6; i++ {
		pop = append(pop, Scored{Score: 500})
	}
	for i := 0; i < 4; i++ {
		pop = append(pop, Scored{Score: 900})
	}
	got, _ = CutoffsForTargets(pop, []float64{0.5, 0.5})
	if got[0] != 900 {
		t.Fatalf("ties: cutoff %v, want 900", got)
	}
	// A zero target for A puts the cut-off above everyone; cut-offs stay
	// strictly decreasing.
	got, _ = CutoffsForTargets(pop, []float64{0, 0, 1})
	if got[0] != 901 || got[1] != 900 {
		t.Fatalf("zero targets: cutoffs %v, want [901 900]", got)
	}
}
