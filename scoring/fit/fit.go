// Package fit estimates a risk model's coefficients from inspection
// outcomes, calibrates its score to a probability of a finding, and judges
// a model on a held-out period (AUC, KS, Brier, calibration bands, hit
// rates per tier, PSI), the scorecard habits of credit-risk teams
// (domain.md §8: a model is judged by how much more often inspections of
// its high-risk tiers find problems).
//
// The built-in models' coefficients are reasoned from the rules (see
// scoring/models/MODEL.md). Once inspections accumulate, they can be
// estimated instead: a logistic regression of "the inspection found a
// problem" (Finding) on the entity's feature weights just before the
// inspection (scoring.Engine.FeatureWeights), fitted as the posterior mode
// under a Gaussian prior centred on the model's reasoned coefficients
// (Logistic). The prior's standard deviation is the documented doubt about
// the reasoned values, so a coefficient moves away from its prior in
// proportion to the evidence: with standard error s of the unpenalised
// estimate and prior SD τ, the estimate is close to the precision-weighted
// mean (β_prior/τ² + β̂/s²)/(1/τ² + 1/s²). No count threshold is involved.
package fit

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Observation is one inspection: the entity's feature weights just before
// it, and whether it found a problem (models/event.Finding).
type Observation struct {
	X       []float64
	Finding bool
}

// DefaultPriorSD is the prior standard deviation of each coefficient
// around its reasoned value, in log-odds: 0.5 says the reasoned value is
// right within a factor e^(±2·0.5) ≈ 2.7 of the odds with 95 % prior
// probability — the precision of an argument from the rules, not of a
// measurement. It is documented in scoring/models/MODEL.md.
const DefaultPriorSD = 0.5

// Options tune the fit.
type Options struct {
	// PriorSD is the prior standard deviation of the coefficients around
	// the prior (DefaultPriorSD when 0). The intercept has a flat prior.
	PriorSD float64
	// Unpenalised fits the plain maximum-likelihood estimate (no prior, no
	// sign holding): the independent check against statsmodels' Logit.
	Unpenalised bool
	// AllowFlip lists features (by index) whose estimate may take the sign
	// opposite to their prior; others are held at their prior when it does.
	AllowFlip map[int]bool
	// Fixed lists features (by index) held at their prior from the start
	// (for example those without support in an unpenalised fit).
	Fixed map[int]bool
}

// Result is a fitted logistic regression.
type Result struct {
	Intercept, InterceptSE float64
	Beta                   []float64 // per feature, in model order
	// SE are the standard errors from the observed information at the
	// optimum (the penalised Hessian: posterior standard deviations); NaN
	// for a feature held at its prior.
	SE []float64
	// Held marks features held at their prior because their estimate
	// contradicted the prior's sign (SignFlagged) without an AllowFlip.
	Held, SignFlagged []bool
	Support           []int // observations with a nonzero weight, per feature
	N, Findings       int
	LogLik            float64 // log-likelihood at the optimum, without the prior
	Iterations        int
}

// CI95 returns the 95 % interval of feature j (±1.96 standard errors).
func (r *Result) CI95(j int) (lo, hi float64) {
	return r.Beta[j] - 1.96*r.SE[j], r.Beta[j] + 1.96*r.SE[j]
}

// design is the observations in compressed sparse rows: row i's nonzero
// features are idx[ptr[i]:ptr[i+1]] with values val[…], ascending.
type design struct {
	ptr []int
	idx []int32
	val []float64
	y   []float64
}

func toDesign(obs []Observation) design {
	nnz := 0
	for _, o := range obs {
		for _, x := range o.X {
			if x != 0 {
				nnz++
			}
		}
	}
	d := design{ptr: make([]int, 1, len(obs)+1), idx: make([]int32, 0, nnz), val: make([]float64, 0, nnz), y: make([]float64, len(obs))}
	for i, o := range obs {
		for j, x := range o.X {
			if x != 0 {
				d.idx = append(d.idx, int32(j))
				d.val = append(d.val, x)
			}
		}
		d.ptr = append(d.ptr, len(d.idx))
		if o.Finding {
			d.y[i] = 1
		}
	}
	return d
}

// eta is row i's linear predictor under w (w[0] the intercept).
func (d *design) eta(i int, w []float64) float64 {
	z := w[0]
	for t := d.ptr[i]; t < d.ptr[i+1]; t++ {
		z += w[d.idx[t]+1] * d.val[t]
	}
	return z
}

// Logistic fits logit P(finding) = β0 + Σ β_k x_k as the posterior mode
// under independent N(prior_k, PriorSD²) priors (flat for β0), by Newton's
// method with step halving; or, with Unpenalised, by maximum likelihood
// (the design must then be of full rank). A feature whose estimate has the
// sign opposite to a nonzero prior is flagged and, unless AllowFlip names
// it, held at its prior while the others are refitted.
func Logistic(obs []Observation, prior []float64, priorIntercept float64, opts Options) (*Result, error) {
	if len(obs) == 0 {
		return nil, errors.New("fit: no observations")
	}
	k := len(prior)
	for _, o := range obs {
		if len(o.X) != k {
			return nil, fmt.Errorf("fit: observation with %d features, model has %d", len(o.X), k)
		}
	}
	if opts.PriorSD == 0 {
		opts.PriorSD = DefaultPriorSD
	}
	if !(opts.PriorSD > 0) {
		return nil, fmt.Errorf("fit: prior SD %v must be positive", opts.PriorSD)
	}
	rows := toDesign(obs)
	res := &Result{N: len(obs), Support: make([]int, k), Held: make([]bool, k), SignFlagged: make([]bool, k)}
	for _, y := range rows.y {
		res.Findings += int(y)
	}
	for _, j := range rows.idx {
		res.Support[j]++
	}
	if res.Findings == 0 || res.Findings == res.N {
		return nil, fmt.Errorf("fit: %d of %d inspections found problems: nothing to fit", res.Findings, res.N)
	}
	for j := range opts.Fixed {
		if j >= 0 && j < k {
			res.Held[j] = true
		}
	}
	prec := 1 / (opts.PriorSD * opts.PriorSD)
	if opts.Unpenalised {
		prec = 0
	}
	w := append([]float64{priorIntercept}, prior...)
	for {
		cov, ll, it, err := newton(rows, w, prior, res.Held, prec)
		if err != nil {
			return nil, err
		}
		res.LogLik, res.Iterations = ll, it
		res.Intercept, res.InterceptSE = w[0], math.Sqrt(cov.At(0, 0))
		res.Beta, res.SE = w[1:], make([]float64, k)
		for j := range k {
			res.SE[j] = math.NaN()
			if !res.Held[j] {
				res.SE[j] = math.Sqrt(cov.At(j+1, j+1))
			}
		}
		if opts.Unpenalised {
			return res, nil
		}
		changed := false
		for j := range k {
			if !res.Held[j] && prior[j]*w[j+1] < 0 {
				res.SignFlagged[j] = true
				if !opts.AllowFlip[j] {
					res.Held[j], w[j+1], changed = true, prior[j], true
				}
			}
		}
		if !changed {
			return res, nil
		}
	}
}

// newton maximises the (penalised) log-likelihood over the free
// coefficients of w in place (held ones stay at their prior) and returns
// the inverse of the penalised information at the optimum (the covariance,
// zero rows and columns for held features), the unpenalised
// log-likelihood and the iterations used.
func newton(rows design, w, prior []float64, held []bool, prec float64) (*mat.SymDense, float64, int, error) {
	k := len(prior)
	free := []int{0}
	for j := range k {
		if !held[j] {
			free = append(free, j+1)
		}
	}
	pos := make([]int, k+1) // column of w index in the free system, -1 if held
	for i := range pos {
		pos[i] = -1
	}
	for c, i := range free {
		pos[i] = c
	}
	nf := len(free)
	obj := func(w []float64) (float64, float64) { // penalised objective (to maximise), log-likelihood
		ll := 0.0
		for i, y := range rows.y {
			z := rows.eta(i, w)
			ll += y*z - softplus(z)
		}
		pen := 0.0
		for j := range k {
			d := w[j+1] - prior[j]
			pen += 0.5 * prec * d * d
		}
		return ll - pen, ll
	}
	grad := make([]float64, nf)
	hess := mat.NewSymDense(nf, nil)
	step := make([]float64, nf)
	trial := make([]float64, len(w))
	cur, _ := obj(w)
	var ll float64
	var chol mat.Cholesky
	for it := 1; it <= 200; it++ {
		for i := range grad {
			grad[i] = 0
		}
		h := hess.RawSymmetric()
		for i := range h.Data {
			h.Data[i] = 0
		}
		for i, y := range rows.y {
			p := sigmoid(rows.eta(i, w))
			g, v := y-p, p*(1-p)
			grad[0] += g
			h.Data[0] += v
			end := rows.ptr[i+1]
			for t := rows.ptr[i]; t < end; t++ {
				a := pos[rows.idx[t]+1]
				if a < 0 {
					continue
				}
				x := rows.val[t]
				grad[a] += g * x
				h.Data[a] += v * x // row 0, column a
				row := h.Data[a*h.Stride:]
				for u := t; u < end; u++ {
					if b := pos[rows.idx[u]+1]; b >= 0 {
						row[b] += v * x * rows.val[u]
					}
				}
			}
		}
		for c := 1; c < nf; c++ {
			i := free[c]
			grad[c] -= prec * (w[i] - prior[i-1])
			h.Data[c*h.Stride+c] += prec
		}
		// mirror the upper triangle (row 0 was filled in its row; the
		// per-row loop fills a ≤ b only when idx is ascending, which it is)
		for a := 0; a < nf; a++ {
			for b := 0; b < a; b++ {
				h.Data[a*h.Stride+b] = h.Data[b*h.Stride+a]
			}
		}
		if ok := chol.Factorize(hess); !ok {
			return nil, 0, it, errors.New("fit: the information matrix is singular (a feature without support, or a design not of full rank); fit with a prior")
		}
		if err := chol.SolveVecTo(mat.NewVecDense(nf, step), mat.NewVecDense(nf, grad)); err != nil {
			return nil, 0, it, fmt.Errorf("fit: %w", err)
		}
		maxStep := 0.0
		for t := 1.0; ; t /= 2 {
			copy(trial, w)
			for c, i := range free {
				trial[i] += t * step[c]
			}
			nv, nll := obj(trial)
			if nv >= cur-1e-12*math.Abs(cur) || t < 1e-10 {
				for c := range step {
					maxStep = math.Max(maxStep, math.Abs(t*step[c]))
				}
				copy(w, trial)
				cur, ll = nv, nll
				break
			}
		}
		if maxStep < 1e-10 {
			var cov mat.SymDense
			if err := chol.InverseTo(&cov); err != nil {
				return nil, 0, it, fmt.Errorf("fit: %w", err)
			}
			full := mat.NewSymDense(k+1, nil)
			for a, i := range free {
				for b, j := range free {
					if b >= a {
						full.SetSym(i, j, cov.At(a, b))
					}
				}
			}
			return full, ll, it, nil
		}
	}
	return nil, 0, 200, errors.New("fit: Newton's method did not converge in 200 iterations")
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// softplus is log(1+e^z), computed stably.
func softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}
