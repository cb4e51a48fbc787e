package fit

import (
	"math/rand/v2"
	"testing"
)

// go test -run XXX -bench Logistic ./scoring/fit (timings in bench/RESULTS.md only)
func BenchmarkLogistic(b *testing.B) {
	truth := make([]float64, 30)
	r := rand.New(rand.NewPCG(1, 1))
	for j := range truth {
		truth[j] = -1 + 2.5*r.Float64()
	}
	obs := draw(r, 200000, -2.2, truth, 0.2)
	b.ResetTimer()
	for range b.N {
		if _, err := Logistic(obs, make([]float64, 30), 0, Options{Unpenalised: true}); err != nil {
			b.Fatal(err)
		}
	}
}
