package sampler

import (
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
)

func TestSampleSizesRatios(t *testing.T) {
	a := ratios(0, 0, 0, 0)
	for _, tc := range []struct {
		r, N, want int64
	}{
		{50000, 10, 1},    // 0.5 rounds up
		{50000, 9, 0},     // 0.45
		{150000, 10, 2},   // 1.5 → 2
		{250000, 10, 3},   // 2.5 → 3 (half up, not to even)
		{1, 500000, 1},    // 0.5 → 1
		{1, 499999, 0},    //
		{1_000_000, 7, 7}, // capped at N
		{333333, 3, 1},    //
		{0, 1_000_000, 0}, //
		{20000, 14_000_000, 280000},
	} {
		a.Ratios[0].Value = tc.r
		if got := SampleSizes(&a, []int64{tc.r}, []int64{tc.N}); got[0] != tc.want {
			t.Errorf("r=%d N=%d: n=%d, want %d", tc.r, tc.N, got[0], tc.want)
		}
	}
}

func TestSampleSizesBudget(t *testing.T) {
	for _, tc := range []struct {
		budget int64
		w, N   []int64
		want   []int64
	}{
		// λ = 60/(1·100+2·100+5·20+30·10) = 0.0857: D (λ·30 = 2.6) is full;
		// then λ = 50/400 = 0.125: C (0.625) is not
		{60, []int64{1, 2, 5, 30}, []int64{100, 100, 20, 10}, []int64{13, 25, 12, 10}},
		// budget beyond the population: everything
		{1000, []int64{1, 2, 5, 30}, []int64{100, 100, 20, 10}, []int64{100, 100, 20, 10}},
		// zero weight: nothing; T counts only weighted strata
		{1000, []int64{0, 2, 5, 30}, []int64{100, 100, 20, 10}, []int64{0, 100, 20, 10}},
		// ties in the fractional parts go to the lower-risk tier
		{6, []int64{0, 1, 1, 1}, []int64{27, 20, 20, 10}, []int64{0, 3, 2, 1}},
		// equal weights, a full top stratum spills over
		{30, []int64{1, 1, 1, 1}, []int64{40, 30, 20, 10}, []int64{12, 9, 6, 3}},
		// empty strata
		{5, []int64{1, 2, 3, 4}, []int64{0, 0, 0, 7}, []int64{0, 0, 0, 5}},
		{0, []int64{1, 2, 3, 4}, []int64{5, 5, 5, 5}, []int64{0, 0, 0, 0}},
		// D full, C not: q = 17.5, 5.83, 11.67 → 17, 5, 11 and the 2 left go to B (.83) and C (.67)
		{40, []int64{1, 1, 10, 100}, []int64{300, 100, 20, 5}, []int64{17, 6, 12, 5}},
		// cascade: D full, then C full; q = 56.25, 18.75 → B gets the one left
		{100, []int64{1, 1, 10, 100}, []int64{300, 100, 20, 5}, []int64{56, 19, 20, 5}},
	} {
		a := weights(tc.budget, tc.w...)
		if got := SampleSizes(&a, tc.w, tc.N); !slices.Equal(got, tc.want) {
			t.Errorf("budget %d w %v N %v: n %v, want %v", tc.budget, tc.w, tc.N, got, tc.want)
		}
	}
}

// TestBudgetProperties checks the budget rule's invariants on random
// inputs with exact rationals: Σn = T; full strata (those with λ·w ≥ 1 for
// the final λ, found here by trying every cut of the weight order) get N;
// every other weighted stratum gets floor(q) or floor(q)+1 of its quota
// q = λ·w·N; unweighted strata get 0.
func TestBudgetProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		k := 2 + rng.IntN(4)
		w, N := make([]int64, k), make([]int64, k)
		for j := range k {
			w[j] = int64(rng.IntN(40))
			N[j] = int64(rng.IntN(2000))
			if rng.IntN(5) == 0 {
				N[j] = int64(rng.IntN(5))
			}
		}
		slices.Sort(w)
		budget := int64(rng.IntN(3000))
		n := budgetSizes(budget, w, N)
		var total, sum int64
		for j := range k {
			if w[j] > 0 {
				total += N[j]
			}
			sum += n[j]
		}
		T := min(budget, total)
		if sum != T {
			t.Fatalf("case %d: Σn %d, T %d (w %v N %v n %v)", i, sum, T, w, N, n)
		}
		// F = strata with weight ≥ cut; the valid cut is the largest one
		// (smallest F) for which every stratum outside F has λ·w < 1
		var lambda *big.Rat
		full := make([]bool, k)
		for cut := int64(1 << 62); ; {
			var C int64
			S := new(big.Rat)
			for j := range k {
				if w[j] > 0 && w[j] >= cut {
					C += N[j]
				} else if w[j] > 0 {
					S.Add(S, new(big.Rat).SetInt64(w[j]*N[j]))
				}
			}
			ok := true
			if S.Sign() > 0 {
				lambda = new(big.Rat).Quo(new(big.Rat).SetInt64(T-C), S)
				for j := range k {
					if w[j] > 0 && w[j] < cut && N[j] > 0 && new(big.Rat).Mul(lambda, new(big.Rat).SetInt64(w[j])).Cmp(big.NewRat(1, 1)) >= 0 {
						ok = false
					}
				}
			}
			if ok {
				for j := range k {
					full[j] = w[j] > 0 && w[j] >= cut
				}
				break
			}
			// next cut: the largest weight below the current cut
			next := int64(0)
			for j := range k {
				if w[j] < cut && w[j] > next {
					next = w[j]
				}
			}
			if next == 0 {
				t.Fatalf("case %d: no valid F", i)
			}
			cut = next
		}
		for j := range k {
			switch {
			case w[j] == 0:
				if n[j] != 0 {
					t.Fatalf("case %d: unweighted tier %d got %d", i, j, n[j])
				}
			case full[j]:
				if n[j] != N[j] {
					t.Fatalf("case %d: full tier %d got %d of %d (w %v N %v n %v)", i, j, n[j], N[j], w, N, n)
				}
			case lambda == nil:
				if n[j] != 0 {
					t.Fatalf("case %d: tier %d got %d with nothing to share", i, j, n[j])
				}
			default:
				q := new(big.Rat).Mul(lambda, new(big.Rat).SetInt64(w[j]*N[j]))
				fl := new(big.Int).Quo(q.Num(), q.Denom()).Int64()
				if n[j] != fl && n[j] != fl+1 {
					t.Fatalf("case %d: tier %d got %d, quota %s (w %v N %v n %v)", i, j, n[j], q.FloatString(3), w, N, n)
				}
			}
		}
	}
}

// The strata's warnings, values and text worked out by hand: 10 of 400 is
// 2.50% (below the 3% floor), 12 of 400 is 3% exactly (no warning), and
// tier B's 0/3 falls below tier A's 1/10.
func TestStrataWarnings(t *testing.T) {
	s := tier.National4
	for _, c := range []struct {
		N, n []int64
		want []draw.Warning
		text []string
	}{
		{[]int64{100, 100, 100, 100}, []int64{1, 2, 3, 4},
			[]draw.Warning{{Code: draw.WarnFloor, Share: 250, Sample: 10, Population: 400, Floor: 3}},
			[]string{"the sample is 2.50% of the eligible population (10 of 400), below the 3% floor for publicity-information spot checks (企业公示信息抽查办法 Art. 4)"}},
		{[]int64{100, 100, 100, 100}, []int64{3, 3, 3, 3}, nil, nil},
		{[]int64{0, 0, 0, 0}, []int64{0, 0, 0, 0},
			[]draw.Warning{{Code: draw.WarnEmpty}}, []string{"the eligible population is empty: nothing was drawn"}},
		{[]int64{10, 3, 10, 10}, []int64{1, 0, 5, 10},
			[]draw.Warning{{Code: draw.WarnOrder, Tier: "B", Pi: 0, Lower: "A", LowerPi: 100000}},
			[]string{"after rounding, tier B's inclusion probability 0.000000 is below tier A's 0.100000"}},
	} {
		ws := strataWarnings(s, c.N, c.n)
		if !slices.Equal(ws, c.want) || !slices.Equal(draw.Strings(ws), c.text) {
			t.Errorf("N %v n %v: %+v\n%q", c.N, c.n, ws, draw.Strings(ws))
		}
	}
}
