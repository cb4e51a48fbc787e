// Package fit refits a risk model's coefficients on inspection outcomes
// and evaluates a model's tiers against ground truth.
//
// The built-in models' coefficients are reasoned from the rules (see
// scoring/models/MODEL.md). Once inspections accumulate, the coefficients
// can be estimated instead: a logistic regression of "the inspection found
// a problem" on the entity's feature weights just before the inspection
// (scoring.Engine.FeatureWeights), with an L2 penalty that pulls each
// coefficient toward the model's prior, so that rarely seen features keep
// their reasoned values. The fitted model keeps the score scale (base
// score, PDO) and the tier cut-offs; only the odds and the points move.
package fit

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/integrate"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/stat"

	"github.com/creditrisk/creditd/scoring"
)

// Observation is one inspection: the entity's feature weights just before
// it, and whether it found a problem.
type Observation struct {
	X       []float64
	Problem bool
}

// Options tune the fit. Zero fields take their defaults (EnsureDefaults).
type Options struct {
	// L2 is the penalty weight λ on (β − β_prior)². Default 1.
	L2 float64
	// MinSupport is how many observations with a nonzero weight a feature
	// needs before its fitted coefficient replaces the prior. Default 30.
	MinSupport int
}

// EnsureDefaults fills unset fields.
func (o *Options) EnsureDefaults() {
	if o.L2 <= 0 {
		o.L2 = 1
	}
	if o.MinSupport <= 0 {
		o.MinSupport = 30
	}
}

// Result is a fitted logistic regression.
type Result struct {
	Intercept float64   // log-odds of a problem with no scored records
	Beta      []float64 // per feature, in model order
	Support   []int     // observations with a nonzero weight, per feature
	N         int       // observations
	Problems  int       // observations that found a problem
	LogLik    float64   // log-likelihood at the optimum (without penalty)
	Status    string
}

// Logistic fits logit P(problem) = β0 + Σ β_k x_k by penalised maximum
// likelihood (BFGS, gonum/optimize) with the penalty centred on prior and
// priorIntercept.
func Logistic(obs []Observation, prior []float64, priorIntercept float64, opts Options) (*Result, error) {
	opts.EnsureDefaults()
	if len(obs) == 0 {
		return nil, errors.New("fit: no observations")
	}
	k := len(prior)
	for _, o := range obs {
		if len(o.X) != k {
			return nil, fmt.Errorf("fit: observation with %d features, model has %d", len(o.X), k)
		}
	}
	res := &Result{N: len(obs), Support: make([]int, k)}
	for _, o := range obs {
		if o.Problem {
			res.Problems++
		}
		for j, x := range o.X {
			if x != 0 {
				res.Support[j]++
			}
		}
	}
	center := append([]float64{priorIntercept}, prior...)
	nll := func(w []float64, grad []float64) float64 {
		var f float64
		for i := range grad {
			grad[i] = 0
		}
		for _, o := range obs {
			z := w[0] + floats.Dot(w[1:], o.X)
			// log(1+e^z) computed stably
			var lse float64
			if z > 0 {
				lse = z + math.Log1p(math.Exp(-z))
			} else {
				lse = math.Log1p(math.Exp(z))
			}
			y := 0.0
			if o.Problem {
				y = 1
			}
			f += lse - y*z
			if grad != nil {
				p := 1 / (1 + math.Exp(-z))
				grad[0] += p - y
				for j, x := range o.X {
					grad[j+1] += (p - y) * x
				}
			}
		}
		for i := 1; i < len(w); i++ { // the intercept is not penalised
			d := w[i] - center[i]
			f += opts.L2 * d * d
			if grad != nil {
				grad[i] += 2 * opts.L2 * d
			}
		}
		return f
	}
	p := optimize.Problem{
		Func: func(w []float64) float64 { return nll(w, nil) },
		Grad: func(grad, w []float64) { nll(w, grad) },
	}
	r, err := optimize.Minimize(p, append([]float64(nil), center...), &optimize.Settings{GradientThreshold: 1e-4}, &optimize.LBFGS{})
	if err != nil && r == nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	res.Intercept, res.Beta, res.Status = r.X[0], r.X[1:], r.Status.String()
	// Unpenalised log-likelihood at the optimum.
	for _, o := range obs {
		z := r.X[0] + floats.Dot(r.X[1:], o.X)
		pr := 1 / (1 + math.Exp(-z))
		if o.Problem {
			res.LogLik += math.Log(math.Max(pr, 1e-300))
		} else {
			res.LogLik += math.Log(math.Max(1-pr, 1e-300))
		}
	}
	return res, nil
}

// Refit returns a copy of m with the fitted coefficients of features
// whose support reaches opts.MinSupport (others keep their prior), the
// points recomputed from them, and base_odds from the intercept. The
// version gets a "+fit" suffix; validation runs on the result.
func Refit(m *scoring.Model, r *Result, opts Options) (*scoring.Model, error) {
	opts.EnsureDefaults()
	if len(r.Beta) != len(m.Features) {
		return nil, errors.New("fit: result does not match the model's features")
	}
	out := *m
	out.Features = append([]scoring.Feature(nil), m.Features...)
	out.Version = m.Version + "+fit"
	factor := m.Scaling.PDO / math.Ln2
	for i := range out.Features {
		if r.Support[i] < opts.MinSupport {
			continue
		}
		b := math.Round(r.Beta[i]*1e4) / 1e4
		pts := int(math.Round(-b * factor))
		if pts == 0 { // a feature worth nothing would be refused; keep its sign minimal
			if b > 0 {
				pts = -1
			} else {
				pts = 1
			}
			b = -float64(pts) / factor
			b = math.Round(b*1e6) / 1e6
			pts = int(math.Round(-b * factor))
		}
		out.Features[i].LogOdds, out.Features[i].Points = b, pts
	}
	out.Scaling.BaseOdds = math.Round(math.Exp(-r.Intercept)*100) / 100
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return &out, nil
}

// AUC is the area under the ROC curve of scores predicting positives
// (higher score = more likely positive), computed with gonum/stat.
func AUC(scores []float64, positive []bool) float64 {
	if len(scores) == 0 {
		return math.NaN()
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	y := make([]float64, len(scores))
	cls := make([]bool, len(scores))
	for i, j := range idx {
		y[i], cls[i] = scores[j], positive[j]
	}
	tpr, fpr, _ := stat.ROC(nil, y, cls, nil)
	return integrate.Trapezoidal(fpr, tpr)
}

// Spearman is the rank correlation of a and b.
func Spearman(a, b []float64) float64 {
	return stat.Correlation(ranks(a), ranks(b), nil)
}

func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}
