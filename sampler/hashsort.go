package sampler

// Sorting by hash values without comparisons. The selection's candidates
// (ordered by priority, a SHA-256 value) and the assignment's service
// order (by S_0, another) are sorted by keys that are uniform over their
// range, so one distribution pass on the key's leading bits puts about two
// elements in each bucket, and a few comparisons finish each bucket. The
// comparison function decides every tie of the leading bits, so the order
// is exactly the comparison sort's (slices.SortFunc with the same cmp) for
// any input; a bucket that is unexpectedly full (inputs that are not
// hashes, in tests) is sorted with slices.SortFunc.

import (
	"math/bits"
	"slices"
)

// hashSortMin is the length below which hashSort uses slices.SortFunc.
const hashSortMin = 256

// hashSort sorts a by cmp, given top(x), the leading 64 bits of x's key
// (cmp orders by top first). scratch is reused and grown to len(a).
func hashSort[T any](a []T, scratch *[]T, counts *[]int32, top func(*T) uint64, cmp func(a, b T) int) {
	n := len(a)
	if n < hashSortMin {
		slices.SortFunc(a, cmp)
		return
	}
	var hi uint64
	for i := range a {
		hi = max(hi, top(&a[i]))
	}
	// about two elements per bucket over [0, hi]
	b := bits.Len(uint(n)) - 1
	shift := max(bits.Len64(hi)-b, 0)
	nb := int(hi>>shift) + 1
	if cap(*counts) < nb+1 {
		*counts = make([]int32, nb+1)
	}
	c := (*counts)[:nb+1]
	clear(c)
	for i := range a {
		c[top(&a[i])>>shift+1]++
	}
	for i := 1; i <= nb; i++ {
		c[i] += c[i-1]
	}
	if cap(*scratch) < n {
		*scratch = make([]T, n)
	}
	s := (*scratch)[:n]
	for i := range a {
		k := top(&a[i]) >> shift
		s[c[k]] = a[i]
		c[k]++
	}
	// c[k] is now bucket k's end; insertion sort within the buckets
	lo := 0
	for k := range nb {
		end := int(c[k])
		if end-lo > 32 {
			slices.SortFunc(s[lo:end], cmp)
		} else {
			for i := lo + 1; i < end; i++ {
				for j := i; j > lo && cmp(s[j-1], s[j]) > 0; j-- {
					s[j-1], s[j] = s[j], s[j-1]
				}
			}
		}
		lo = end
	}
	copy(a, s)
}

// sortCands sorts candidates by priority.
func sortCands(a []cand, mem *drawMem) {
	hashSort(a, &mem.candScratch, &mem.counts, func(c *cand) uint64 { return c.prio[0] },
		func(x, y cand) int { return prioCmp(&x.prio, &y.prio) })
}
