package sampler

import (
	"fmt"
	"math/big"
	"math/bits"
	"slices"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
)

// SampleSizes returns n_t for every tier (spec "Sample sizes") given the
// stratum sizes N (in scheme order) and the allocation's resolved values
// (DrawAllocation.Resolve): micro-unit ratios, or weights with budget.
// All arithmetic is exact integer arithmetic.
func SampleSizes(a *draw.Allocation, vals, N []int64) []int64 {
	if a.IsBudget() {
		return budgetSizes(a.Budget, vals, N)
	}
	n := make([]int64, len(N))
	for t := range N {
		// n_t = floor((r_t·10^6 · N_t + 500000) / 10^6), capped at N_t;
		// r ≤ 10^6 and N ≤ 2^40 keep the product below 2^60.
		n[t] = min((vals[t]*N[t]+draw.MicroUnit/2)/draw.MicroUnit, N[t])
	}
	return n
}

// budgetSizes implements the budget rule: T = min(budget, Σ_{w>0} N_t);
// strata are made full in descending weight while λ·w_t ≥ 1 with
// λ = (T − C) / Σ_{t∉F} w_t N_t; the others get q_t = (T − C)·w_t N_t / S,
// floored, and the remaining units go to the largest fractional parts
// (ties: lower-risk tier first).
func budgetSizes(budget int64, w, N []int64) []int64 {
	nt := len(N)
	n := make([]int64, nt)
	var total int64
	for t := range N {
		if w[t] > 0 {
			total += N[t]
		}
	}
	T := min(budget, total)
	full := make([]bool, nt)
	var C int64
	bi := func(v int64) *big.Int { return big.NewInt(v) }
	S := new(big.Int)
	for {
		// S = Σ_{t active, ∉F} w_t N_t and the largest weight among them
		S.SetInt64(0)
		var wmax int64
		for t := range N {
			if w[t] > 0 && N[t] > 0 && !full[t] {
				S.Add(S, new(big.Int).Mul(bi(w[t]), bi(N[t])))
				wmax = max(wmax, w[t])
			}
		}
		if S.Sign() == 0 {
			break
		}
		// λ·wmax ≥ 1  ⇔  (T − C)·wmax ≥ S
		if new(big.Int).Mul(bi(T-C), bi(wmax)).Cmp(S) < 0 {
			break
		}
		for t := range N {
			if w[t] == wmax && N[t] > 0 && !full[t] {
				full[t] = true
				C += N[t]
			}
		}
	}
	type part struct {
		t   int
		rem *big.Int // numerator of q_t's fractional part (denominator S)
	}
	var parts []part
	left := T - C
	for t := range N {
		switch {
		case full[t]:
			n[t] = N[t]
		case w[t] > 0 && N[t] > 0:
			num := new(big.Int).Mul(bi(T-C), new(big.Int).Mul(bi(w[t]), bi(N[t])))
			q, r := new(big.Int).QuoRem(num, S, new(big.Int))
			n[t] = q.Int64()
			left -= n[t]
			parts = append(parts, part{t, r})
		}
	}
	// largest fractional parts first; ties: lower-risk tier first
	slices.SortStableFunc(parts, func(a, b part) int { return b.rem.Cmp(a.rem) })
	for i := 0; left > 0 && i < len(parts); i++ {
		n[parts[i].t]++
		left--
	}
	return n
}

// checkAllocation applies the Options' policy to resolved allocation
// values: whether the lowest tier may be exempt.
func checkAllocation(a *draw.Allocation, vals []int64, s *tier.Scheme, o *Options) error {
	if vals[0] == 0 && !o.AllowZeroLowestTier {
		kind, path := "ratio", "allocation.ratios."
		if a.IsBudget() {
			kind, path = "weight", "allocation.weights."
		}
		return &draw.Error{Path: path + s.Labels[0], Msg: fmt.Sprintf(
			"%s 0 exempts tier %s from inspection, which this service does not allow (no entity is exempt: 不免抽)", kind, s.Labels[0])}
	}
	return nil
}

// warningFloorPercent is the national floor for publicity-information spot
// checks: at least 3% of enterprises (企业公示信息抽查办法 Art. 4).
const warningFloorPercent = 3

// strataWarnings returns the record's warnings that follow from the strata.
func strataWarnings(s *tier.Scheme, N, n []int64) []draw.Warning {
	var ws []draw.Warning
	var sumN, sumn int64
	for t := range N {
		sumN += N[t]
		sumn += n[t]
	}
	switch {
	case sumN == 0:
		ws = append(ws, draw.EmptyWarning())
	case 100*sumn < warningFloorPercent*sumN:
		ws = append(ws, draw.FloorWarning(sumn, sumN, warningFloorPercent))
	}
	for t := 1; t < len(N); t++ {
		// π_t < π_{t-1}  ⇔  n_t·N_{t-1} < n_{t-1}·N_t (both strata non-empty)
		if N[t] > 0 && N[t-1] > 0 && mulLess(n[t], N[t-1], n[t-1], N[t]) {
			ws = append(ws, draw.OrderWarning(s.Labels[t], n[t], N[t], s.Labels[t-1], n[t-1], N[t-1]))
		}
	}
	return ws
}

// mulLess reports a·b < c·d for non-negative operands in 128 bits: stratum
// sizes up to draw.MaxCount (2^40) make int64 products overflow.
func mulLess(a, b, c, d int64) bool {
	h1, l1 := bits.Mul64(uint64(a), uint64(b))
	h2, l2 := bits.Mul64(uint64(c), uint64(d))
	return h1 < h2 || h1 == h2 && l1 < l2
}
