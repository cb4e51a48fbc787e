package fit

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/creditrisk/creditd/scoring"
)

// Data drawn from a known logistic model are fitted back to it.
func TestLogisticRecoversCoefficients(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	truth := []float64{0.7, 1.5, -0.4}
	b0 := -2.9
	var obs []Observation
	for i := 0; i < 40000; i++ {
		x := make([]float64, 3)
		for j := range x {
			if r.Float64() < 0.3 {
				x[j] = []float64{1, 0.6, 0.3}[r.IntN(3)]
			}
		}
		z := b0
		for j := range x {
			z += truth[j] * x[j]
		}
		obs = append(obs, Observation{X: x, Problem: r.Float64() < 1/(1+math.Exp(-z))})
	}
	res, err := Logistic(obs, []float64{0, 0, 0}, -3, Options{L2: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Intercept-b0) > 0.1 {
		t.Errorf("intercept %.3f, want %.3f", res.Intercept, b0)
	}
	for j := range truth {
		if math.Abs(res.Beta[j]-truth[j]) > 0.15 {
			t.Errorf("beta %d = %.3f, want %.3f", j, res.Beta[j], truth[j])
		}
	}
	// Refit keeps a valid model and moves only supported features.
	m, _ := scoring.DefaultModel("national-4")
	big := &Result{Intercept: -3, Beta: make([]float64, len(m.Features)), Support: make([]int, len(m.Features))}
	for i, f := range m.Features {
		big.Beta[i] = f.LogOdds
	}
	big.Beta[0], big.Support[0] = 2.0, 100
	fm, err := Refit(m, big, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fm.Features[0].Points != -115 || fm.Features[1].Points != m.Features[1].Points || fm.Scaling.BaseOdds != 20.09 {
		t.Errorf("refit: %+v base odds %v", fm.Features[0], fm.Scaling.BaseOdds)
	}
	if m.Features[0].Points == fm.Features[0].Points {
		t.Error("refit changed the input model")
	}
}

func TestAUCAndSpearman(t *testing.T) {
	if a := AUC([]float64{1, 2, 3, 4}, []bool{false, false, true, true}); math.Abs(a-1) > 1e-9 {
		t.Errorf("perfect AUC = %v", a)
	}
	if a := AUC([]float64{1, 2, 3, 4}, []bool{true, true, false, false}); math.Abs(a) > 1e-9 {
		t.Errorf("inverse AUC = %v", a)
	}
	if s := Spearman([]float64{1, 2, 3, 4}, []float64{10, 20, 30, 400}); math.Abs(s-1) > 1e-9 {
		t.Errorf("spearman = %v", s)
	}
}
