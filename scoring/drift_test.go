package scoring

import (
	"math"
	"testing"
)

// TestPSI checks the index against values worked out by hand:
// Σ (a−e)·ln(a/e).
func TestPSI(t *testing.T) {
	cases := []struct {
		name string
		e, a []float64
		want float64
	}{
		{"identical", []float64{0.25, 0.25, 0.5}, []float64{0.25, 0.25, 0.5}, 0},
		// (0.6−0.5)·ln(1.2) + (0.4−0.5)·ln(0.8) = 0.0182322 + 0.0223144
		{"shift", []float64{0.5, 0.5}, []float64{0.6, 0.4}, 0.1*math.Log(1.2) - 0.1*math.Log(0.8)},
		// an empty band is floored at 1e-4: (1e-4−0.5)·ln(1e-4/0.5) + (1−0.5)·ln(2)
		{"empty band", []float64{0.5, 0.5}, []float64{0, 1}, (1e-4-0.5)*math.Log(1e-4/0.5) + 0.5*math.Log(2)},
	}
	for _, c := range cases {
		if got := PSI(c.e, c.a); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: PSI = %v, want %v", c.name, got, c.want)
		}
	}
	// symmetric in its arguments, non-negative
	if a, b := PSI([]float64{0.2, 0.8}, []float64{0.7, 0.3}), PSI([]float64{0.7, 0.3}, []float64{0.2, 0.8}); math.Abs(a-b) > 1e-12 || a <= PSIAlert {
		t.Errorf("PSI not symmetric or too small: %v %v", a, b)
	}
}

func TestScoreReferenceBand(t *testing.T) {
	r := ScoreReference{AsOf: "2026-01-01", Entities: 10, Edges: []int32{600, 700, 800}, Shares: []float64{0.1, 0.2, 0.3, 0.4}}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		s    int32
		band int
	}{{0, 0}, {599, 0}, {600, 1}, {699, 1}, {700, 2}, {799, 2}, {800, 3}, {1000, 3}} {
		if got := r.Band(c.s); got != c.band {
			t.Errorf("Band(%d) = %d, want %d", c.s, got, c.band)
		}
	}
	bad := []ScoreReference{
		{AsOf: "x", Entities: 1, Edges: []int32{700, 600}, Shares: []float64{0.3, 0.3, 0.4}},
		{AsOf: "x", Entities: 1, Edges: []int32{600}, Shares: []float64{1}},
		{AsOf: "x", Entities: 1, Edges: []int32{600}, Shares: []float64{0.5, 0.6}},
		{AsOf: "x", Entities: 0, Edges: []int32{600}, Shares: []float64{0.5, 0.5}},
	}
	for i, b := range bad {
		if b.Validate() == nil {
			t.Errorf("bad reference %d accepted", i)
		}
	}
	if d := Distribution([]int64{1, 3}); d[0] != 0.25 || d[1] != 0.75 {
		t.Errorf("Distribution = %v", d)
	}
}
