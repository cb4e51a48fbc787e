package sampler

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// hashSort gives exactly slices.SortFunc's order: on uniform keys (as
// priorities are), on keys crowded in a narrow range or all equal in their
// leading 64 bits (ties decided by the rest), and on every size around
// the thresholds.
func TestHashSortEqualsComparisonSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var mem drawMem
	for _, n := range []int{0, 1, 2, 255, 256, 257, 1000, 5000, 70000} {
		for _, shape := range []string{"uniform", "narrow", "equal", "top"} {
			a := make([]cand, n)
			for i := range a {
				for w := range 4 {
					a[i].prio[w] = rng.Uint64()
				}
				switch shape {
				case "narrow": // 64 distinct leading words: big buckets
					a[i].prio[0] &= 63
				case "equal":
					a[i].prio[0] = 42
				case "top": // near 2^64, as a limit of MaxUint64 keeps
					a[i].prio[0] |= 0xffff_ff00_0000_0000
				}
				if i > 0 && rng.IntN(50) == 0 { // exact duplicates of the leading word
					a[i].prio[0] = a[i-1].prio[0]
				}
				a[i].uscc[0] = byte(i)
			}
			want := slices.Clone(a)
			slices.SortFunc(want, func(x, y cand) int { return prioCmp(&x.prio, &y.prio) })
			sortCands(a, &mem)
			if !slices.Equal(a, want) {
				t.Fatalf("n=%d %s: hashSort's order differs from slices.SortFunc's", n, shape)
			}
		}
	}
}
