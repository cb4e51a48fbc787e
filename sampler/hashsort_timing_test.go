package sampler

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// BenchmarkSortCands sorts 300k candidates by priority (about the 14M
// draw's kept candidates): the distribution pass against slices.SortFunc.
func BenchmarkSortCands(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	src := make([]cand, 300_000)
	for i := range src {
		for w := range 4 {
			src[i].prio[w] = rng.Uint64()
		}
	}
	a := make([]cand, len(src))
	b.Run("hash", func(b *testing.B) {
		var mem drawMem
		b.ReportAllocs()
		for b.Loop() {
			copy(a, src)
			sortCands(a, &mem)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(src)), "ns/cand")
	})
	b.Run("comparison", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			copy(a, src)
			slices.SortFunc(a, func(x, y cand) int { return prioCmp(&x.prio, &y.prio) })
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(src)), "ns/cand")
	})
}
