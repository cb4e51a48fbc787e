package fit

import (
	"math"
	"math/rand/v2"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// Values worked out by hand.
func TestMetricsByHand(t *testing.T) {
	// pairs (pos, neg): 2>1, 2=2 (½), 3>1, 3>2 → 3.5/4
	if a := AUC([]float64{1, 2, 2, 3}, []bool{false, false, true, true}); !near(a, 0.875, 1e-12) {
		t.Errorf("AUC = %v, want 0.875", a)
	}
	if a := AUC([]float64{1, 2, 3, 4}, []bool{true, true, false, false}); a != 0 {
		t.Errorf("inverse AUC = %v", a)
	}
	// positives at 3,4, negatives at 1,2 … perfect: KS 1; one swap: KS ½
	if k := KS([]float64{1, 2, 3, 4}, []bool{false, false, true, true}); k != 1 {
		t.Errorf("KS = %v", k)
	}
	if k := KS([]float64{1, 2, 3, 4}, []bool{false, true, false, true}); !near(k, 0.5, 1e-12) {
		t.Errorf("KS = %v, want 0.5", k)
	}
	if b := Brier([]float64{0.2, 0.9}, []bool{false, true}); !near(b, (0.04+0.01)/2, 1e-12) {
		t.Errorf("Brier = %v", b)
	}
	// Wilson 5/10 at 1.96: centre 0.5, half-width 1.96·sqrt(0.025+0.0096)/1.3842 = 0.2634
	w := Wilson(5, 10, 1.96)
	if !near(w.Lower, 0.2366, 1e-4) || !near(w.Upper, 0.7634, 1e-4) {
		t.Errorf("Wilson(5,10) = %+v", w)
	}
	if w := Wilson(0, 20, 1.96); w.Lower != 0 || !near(w.Upper, 0.1611, 1e-4) {
		t.Errorf("Wilson(0,20) = %+v", w)
	}
	// ratio (20/100)/(5/100) = 4, se = sqrt(1/20−1/100+1/5−1/100) = sqrt(0.23) = 0.47958
	rr := RateRatio(20, 100, 5, 100)
	if !near(rr.Value, 4, 1e-12) || !near(rr.Lower, 4*math.Exp(-z95*0.47958), 1e-3) {
		t.Errorf("rate ratio %+v", rr)
	}
	if g := GateZ(1); !near(g, z95, 1e-9) {
		t.Errorf("GateZ(1) = %v", g)
	}
}

// DeLong: a score against itself differs by exactly 0; a shuffled score
// is significantly worse than an informative one.
func TestAUCDifference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	n := 4000
	good, bad, y := make([]float64, n), make([]float64, n), make([]bool, n)
	for i := range n {
		z := r.NormFloat64()
		good[i] = z + 0.3*r.NormFloat64()
		y[i] = r.Float64() < sigmoid(-2+1.5*z)
	}
	copy(bad, good)
	r.Shuffle(n, func(i, j int) { bad[i], bad[j] = bad[j], bad[i] })
	if d := AUCDifference(good, good, y); d.Value != 0 || d.Lower != 0 || d.Upper != 0 {
		t.Errorf("self difference %+v", d)
	}
	d := AUCDifference(good, bad, y)
	if !(d.Upper < 0) || !near(d.Value, AUC(bad, y)-AUC(good, y), 1e-12) {
		t.Errorf("shuffled − good = %+v", d)
	}
	ci := AUCInterval(good, y)
	if !(ci.Lower < ci.Value && ci.Value < ci.Upper && ci.Upper-ci.Lower < 0.06) {
		t.Errorf("AUC interval %+v", ci)
	}
}

// Monotone bins: the finding rate moves in the documented direction, and
// every bin holds at least MinBinShare of the data.
func TestMonotoneBins(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 1))
	n := 20000
	x, y := make([]float64, n), make([]bool, n)
	for i := range n {
		x[i] = []float64{0, 0, 0, 0.3, 0.6, 1, 1, 2, 3}[r.IntN(9)]
		p := 0.1 + 0.05*x[i]
		if x[i] == 0.6 {
			p = 0.05 // a dip the binning must pool away
		}
		y[i] = r.Float64() < p
	}
	bins, iv := MonotoneBins(x, y, true)
	total := 0
	for i, b := range bins {
		total += b.N
		if b.N < int(MinBinShare*float64(n)) {
			t.Errorf("bin %d has %d", i, b.N)
		}
		if i > 0 && float64(b.Findings)/float64(b.N) < float64(bins[i-1].Findings)/float64(bins[i-1].N) {
			t.Errorf("rate falls at bin %d: %+v", i, bins)
		}
		if i > 0 && b.WOE < bins[i-1].WOE {
			t.Errorf("WOE falls at bin %d", i)
		}
	}
	if total != n || len(bins) < 2 || !(iv > 0) {
		t.Errorf("bins %+v iv %v", bins, iv)
	}
}

func TestCalibrationTable(t *testing.T) {
	// 1,000 inspections at 10 scores; probabilities exact: every band within.
	r := rand.New(rand.NewPCG(2, 2))
	var sc []int32
	var p []float64
	var y []bool
	for i := range 20000 {
		s := int32(500 + 10*(i%10))
		q := 0.3 - float64(s-500)/400
		sc, p, y = append(sc, s), append(p, q), append(y, r.Float64() < q)
	}
	bands := CalibrationTable(sc, p, y, 5, GateZ(5))
	if len(bands) != 5 || bands[0].MinScore != 580 || bands[4].MaxScore != 510 || !Calibrated(bands) {
		t.Errorf("bands %+v", bands)
	}
	// probabilities off by a factor of 2: not calibrated
	for i := range p {
		p[i] /= 2
	}
	if Calibrated(CalibrationTable(sc, p, y, 5, GateZ(5))) {
		t.Error("halved probabilities pass as calibrated")
	}
	ref := Reference(sc, "2026-01-01")
	if err := ref.Validate(); err != nil || len(ref.Edges) != 9 {
		t.Errorf("reference %+v: %v", ref, err)
	}
}
