package fit

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/creditrisk/creditd/scoring"
)

// draw simulates n inspections from a known logistic model over sparse
// count-like features.
func draw(r *rand.Rand, n int, b0 float64, truth []float64, density float64) []Observation {
	obs := make([]Observation, n)
	for i := range obs {
		x := make([]float64, len(truth))
		z := b0
		for j := range x {
			if r.Float64() < density {
				x[j] = []float64{1, 0.6, 0.3, 2}[r.IntN(4)]
			}
			z += truth[j] * x[j]
		}
		obs[i] = Observation{X: x, Finding: r.Float64() < sigmoid(z)}
	}
	return obs
}

// Unpenalised: data drawn from a known model are fitted back to it, each
// coefficient within 3.5 of its standard errors.
func TestLogisticRecoversCoefficients(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	truth, b0 := []float64{0.7, 1.5, -0.4}, -2.0
	res, err := Logistic(draw(r, 40000, b0, truth, 0.3), []float64{0, 0, 0}, 0, Options{Unpenalised: true})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Intercept-b0) > 3.5*res.InterceptSE {
		t.Errorf("intercept %.3f ± %.3f, want %.3f", res.Intercept, res.InterceptSE, b0)
	}
	for j := range truth {
		if math.Abs(res.Beta[j]-truth[j]) > 3.5*res.SE[j] || !(res.SE[j] > 0.01 && res.SE[j] < 0.1) {
			t.Errorf("beta %d = %.3f ± %.3f, want %.3f", j, res.Beta[j], res.SE[j], truth[j])
		}
	}
}

// Shrinkage in proportion to the evidence: with the prior far from the
// truth, a small sample stays near the prior, a large one reaches the
// unpenalised estimate; the posterior mode always lies between the prior
// and the unpenalised estimate.
func TestShrinkageFollowsEvidence(t *testing.T) {
	truth, prior := []float64{1.2}, []float64{0.2}
	var dist []float64
	for _, n := range []int{300, 3000, 60000} {
		obs := draw(rand.New(rand.NewPCG(uint64(n), 9)), n, -2, truth, 0.3)
		mle, err := Logistic(obs, prior, -2, Options{Unpenalised: true})
		if err != nil {
			t.Fatal(err)
		}
		post, err := Logistic(obs, prior, -2, Options{PriorSD: 0.3})
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := min(prior[0], mle.Beta[0]), max(prior[0], mle.Beta[0])
		if post.Beta[0] < lo || post.Beta[0] > hi {
			t.Errorf("n=%d: posterior %.3f outside [prior %.3f, MLE %.3f]", n, post.Beta[0], prior[0], mle.Beta[0])
		}
		if post.SE[0] >= mle.SE[0] || post.SE[0] >= 0.3 {
			t.Errorf("n=%d: posterior SD %.3f not below both the MLE's SE %.3f and the prior SD", n, post.SE[0], mle.SE[0])
		}
		dist = append(dist, math.Abs(post.Beta[0]-mle.Beta[0]))
	}
	if !(dist[0] > dist[1] && dist[1] > dist[2] && dist[2] < 0.02) {
		t.Errorf("|posterior − MLE| by sample size = %v, want shrinking to < 0.02", dist)
	}
}

// A feature whose estimate contradicts the prior's sign is flagged and
// held at the prior, unless explicitly allowed to flip.
func TestSignContradictionHeldAtPrior(t *testing.T) {
	obs := draw(rand.New(rand.NewPCG(5, 5)), 30000, -2, []float64{0.8, -0.9}, 0.3)
	prior := []float64{0.5, 0.3} // feature 1 documented as risk-raising, truly lowering
	res, err := Logistic(obs, prior, -2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.SignFlagged[1] || !res.Held[1] || res.Beta[1] != 0.3 || !math.IsNaN(res.SE[1]) {
		t.Errorf("feature 1: flagged %v held %v β %v se %v, want held at 0.3", res.SignFlagged[1], res.Held[1], res.Beta[1], res.SE[1])
	}
	if res.SignFlagged[0] || res.Held[0] || math.Abs(res.Beta[0]-0.8) > 0.15 {
		t.Errorf("feature 0: flagged %v held %v β %v", res.SignFlagged[0], res.Held[0], res.Beta[0])
	}
	res, err = Logistic(obs, prior, -2, Options{AllowFlip: map[int]bool{1: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.SignFlagged[1] || res.Held[1] || res.Beta[1] > -0.5 {
		t.Errorf("allowed flip: flagged %v held %v β %v, want about −0.9", res.SignFlagged[1], res.Held[1], res.Beta[1])
	}
}

func TestLogisticRefusesNothingToFit(t *testing.T) {
	obs := []Observation{{X: []float64{1}}, {X: []float64{0}}}
	if _, err := Logistic(obs, []float64{1}, 0, Options{}); err == nil {
		t.Error("no findings: want an error")
	}
	if _, err := Logistic([]Observation{{X: []float64{1, 2}}}, []float64{1}, 0, Options{}); err == nil {
		t.Error("feature count mismatch: want an error")
	}
	// unpenalised with a feature that is always 0: singular, refused
	obs = []Observation{{X: []float64{0}, Finding: true}, {X: []float64{0}}, {X: []float64{0}}}
	if _, err := Logistic(obs, []float64{1}, 0, Options{Unpenalised: true}); err == nil {
		t.Error("singular design: want an error")
	}
}

func TestCalibrationRecovered(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var lo []float64
	var fd []bool
	for range 50000 {
		z := -3 + 2*r.Float64()
		lo = append(lo, z)
		fd = append(fd, r.Float64() < sigmoid(0.4+0.8*z))
	}
	a, b, err := FitCalibration(lo, fd)
	if err != nil || math.Abs(a-0.4) > 0.15 || math.Abs(b-0.8) > 0.08 {
		t.Errorf("calibration %.3f + %.3f ℓ (%v), want 0.4 + 0.8 ℓ", a, b, err)
	}
}

func TestRefit(t *testing.T) {
	m, _ := scoring.DefaultModel("national-4")
	res := &Result{Intercept: -3, Beta: make([]float64, len(m.Features))}
	for i, f := range m.Features {
		res.Beta[i] = f.LogOdds
	}
	res.Beta[0], res.Beta[1] = 2.0, 0.004 // 0.004 rounds to 0 points: kept at −1
	fm, err := Refit(m, res)
	if err != nil {
		t.Fatal(err)
	}
	// −2.0 · 40/ln 2 = −115.4; base odds e³ = 20.09
	if fm.Features[0].Points != -115 || fm.Features[1].Points != -1 || fm.Features[2].Points != m.Features[2].Points ||
		fm.Scaling.BaseOdds != 20.09 || fm.Version != m.Version+"+fit" {
		t.Errorf("refit: %+v %+v base odds %v", fm.Features[0], fm.Features[1], fm.Scaling.BaseOdds)
	}
	if m.Features[0].Points != -90 {
		t.Error("refit changed the input model")
	}
}
