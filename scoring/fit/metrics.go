package fit

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
)

// Metrics of a risk score on held-out inspections (domain.md §8). Scores
// passed here are risks: higher means more likely to find a problem (the
// negated credit score, or a probability).

// z95 is the two-sided 95 % normal quantile.
const z95 = 1.959963984540054

// midranks returns the 1-based ranks of v, ties sharing their mean rank.
func midranks(v []float64) []float64 {
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

// delong holds the structural components of DeLong's AUC variance for
// one score: v10 per positive, v01 per negative (Sun & Xu's fast form).
type delong struct {
	auc      float64
	v10, v01 []float64
}

func delongOf(risk []float64, positive []bool) delong {
	var pos, neg []float64
	for i, s := range risk {
		if positive[i] {
			pos = append(pos, s)
		} else {
			neg = append(neg, s)
		}
	}
	m, n := len(pos), len(neg)
	if m == 0 || n == 0 {
		return delong{auc: math.NaN()}
	}
	all := append(append([]float64(nil), pos...), neg...)
	tz, tx, ty := midranks(all), midranks(pos), midranks(neg)
	d := delong{v10: make([]float64, m), v01: make([]float64, n)}
	sum := 0.0
	for i := range m {
		sum += tz[i]
		d.v10[i] = (tz[i] - tx[i]) / float64(n)
	}
	for j := range n {
		d.v01[j] = 1 - (tz[m+j]-ty[j])/float64(m)
	}
	d.auc = (sum - float64(m)*float64(m+1)/2) / (float64(m) * float64(n))
	return d
}

// AUC is the area under the ROC curve of risk for positive (ties count
// one half: the Mann–Whitney statistic, as scikit-learn's roc_auc_score).
func AUC(risk []float64, positive []bool) float64 {
	return delongOf(risk, positive).auc
}

// Interval is an estimate with a 95 % interval.
type Interval struct {
	Value float64 `json:"value"`
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
}

// AUCInterval is the AUC with DeLong's 95 % interval (clamped to [0, 1]).
func AUCInterval(risk []float64, positive []bool) Interval {
	d := delongOf(risk, positive)
	se := math.Sqrt(stat.Variance(d.v10, nil)/float64(len(d.v10)) + stat.Variance(d.v01, nil)/float64(len(d.v01)))
	return Interval{d.auc, math.Max(0, d.auc-z95*se), math.Min(1, d.auc+z95*se)}
}

// AUCDifference is AUC(b) − AUC(a) of two risks on the same inspections,
// with the 95 % interval of DeLong's paired test (DeLong, DeLong &
// Clarke-Pearson 1988).
func AUCDifference(a, b []float64, positive []bool) Interval {
	da, db := delongOf(a, positive), delongOf(b, positive)
	diff := db.auc - da.auc
	if math.IsNaN(diff) {
		return Interval{math.NaN(), math.NaN(), math.NaN()}
	}
	v := func(x, y []float64) float64 {
		return (stat.Variance(x, nil) + stat.Variance(y, nil) - 2*stat.Covariance(x, y, nil)) / float64(len(x))
	}
	se := math.Sqrt(v(da.v10, db.v10) + v(da.v01, db.v01))
	return Interval{diff, diff - z95*se, diff + z95*se}
}

// KS is the Kolmogorov–Smirnov statistic: the largest gap between the
// cumulative distributions of risk among positives and negatives.
func KS(risk []float64, positive []bool) float64 {
	idx := make([]int, len(risk))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return risk[idx[a]] < risk[idx[b]] })
	var np, nn float64
	for _, p := range positive {
		if p {
			np++
		} else {
			nn++
		}
	}
	if np == 0 || nn == 0 {
		return math.NaN()
	}
	var cp, cn, ks float64
	for i := 0; i < len(idx); {
		j := i
		for ; j < len(idx) && risk[idx[j]] == risk[idx[i]]; j++ {
			if positive[idx[j]] {
				cp++
			} else {
				cn++
			}
		}
		ks = math.Max(ks, math.Abs(cp/np-cn/nn))
		i = j
	}
	return ks
}

// Brier is the mean squared error of probabilities p against outcomes.
func Brier(p []float64, positive []bool) float64 {
	s := 0.0
	for i, v := range p {
		y := 0.0
		if positive[i] {
			y = 1
		}
		s += (v - y) * (v - y)
	}
	return s / float64(len(p))
}

// Wilson is the Wilson score interval of k successes in n trials at the
// normal quantile z (z95 for 95 %).
func Wilson(k, n int, z float64) Interval {
	if n == 0 {
		return Interval{math.NaN(), 0, 1}
	}
	p, nf := float64(k)/float64(n), float64(n)
	den := 1 + z*z/nf
	c := (p + z*z/(2*nf)) / den
	h := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return Interval{p, math.Max(0, c-h), math.Min(1, c+h)}
}

// RateRatio is the ratio of two proportions k1/n1 over k2/n2 with the
// Katz log interval (95 %).
func RateRatio(k1, n1, k2, n2 int) Interval {
	if k1 == 0 || k2 == 0 || n1 == 0 || n2 == 0 {
		return Interval{math.NaN(), math.NaN(), math.NaN()}
	}
	r := (float64(k1) / float64(n1)) / (float64(k2) / float64(n2))
	se := math.Sqrt(1/float64(k1) - 1/float64(n1) + 1/float64(k2) - 1/float64(n2))
	return Interval{r, r * math.Exp(-z95*se), r * math.Exp(z95*se)}
}

// Spearman is the rank correlation of a and b.
func Spearman(a, b []float64) float64 {
	return stat.Correlation(midranks(a), midranks(b), nil)
}
