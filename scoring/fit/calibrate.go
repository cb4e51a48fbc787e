package fit

import (
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/creditrisk/creditd/scoring"
)

// FitCalibration fits P(finding) = σ(a + b·ℓ) by maximum likelihood
// (Platt scaling on the log-odds ℓ the score's scaling implies), the
// calibration a fitted artifact carries (scoring.Calibration).
func FitCalibration(logOdds []float64, finding []bool) (a, b float64, err error) {
	obs := make([]Observation, len(logOdds))
	for i, z := range logOdds {
		obs[i] = Observation{X: []float64{z}, Finding: finding[i]}
	}
	r, err := Logistic(obs, []float64{1}, 0, Options{Unpenalised: true})
	if err != nil {
		return 0, 0, err
	}
	return r.Intercept, r.Beta[0], nil
}

// Band is one line of a calibration table: the inspections whose score
// lies in [MinScore, MaxScore], their mean estimated probability and the
// observed rate of findings with its interval.
type Band struct {
	MinScore, MaxScore int32
	N, Findings        int
	Expected           float64  // mean estimated probability
	Observed           Interval // observed rate, Wilson interval at the table's z
	// Within: Expected lies inside the Observed interval.
	Within bool
}

// GateZ is the normal quantile of a Bonferroni-adjusted two-sided 95 %
// interval over bands intervals: the calibration gate asks every band's
// expected rate to lie inside its interval, and with this z the chance
// that a well-calibrated model fails anyway is at most 5 %.
func GateZ(bands int) float64 {
	return distuv.UnitNormal.Quantile(1 - 0.05/(2*float64(max(bands, 1))))
}

// CalibrationTable groups inspections into about nbands bands of equal
// size by score (ties never split) and compares each band's mean
// probability p with its observed finding rate, using z for the interval.
func CalibrationTable(score []int32, p []float64, finding []bool, nbands int, z float64) []Band {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return score[idx[a]] > score[idx[b]] }) // lowest risk first
	var out []Band
	target := float64(len(idx)) / float64(max(nbands, 1))
	for i := 0; i < len(idx); {
		want := int(math.Round(float64(len(out)+1)*target)) - i
		j := i + max(want, int(target/2), 1) // a band after an overshoot keeps at least half its size
		for j < len(idx) && score[idx[j]] == score[idx[j-1]] {
			j++
		}
		j = min(j, len(idx))
		b := Band{MaxScore: score[idx[i]], MinScore: score[idx[j-1]], N: j - i}
		sum := 0.0
		for _, k := range idx[i:j] {
			sum += p[k]
			if finding[k] {
				b.Findings++
			}
		}
		b.Expected = sum / float64(b.N)
		b.Observed = Wilson(b.Findings, b.N, z)
		b.Within = b.Expected >= b.Observed.Lower && b.Expected <= b.Observed.Upper
		out = append(out, b)
		i = j
	}
	return out
}

// Calibrated reports whether every band's expected rate lies inside its
// interval.
func Calibrated(bands []Band) bool {
	for _, b := range bands {
		if !b.Within {
			return false
		}
	}
	return len(bands) > 0
}

// Reference returns the score distribution of a population (scores) as
// the artifact's drift baseline: band edges at the deciles of the scores
// (repeated edges dropped, so heavy ties give fewer bands) and the shares
// per band.
func Reference(scores []int32, asOf string) *scoring.ScoreReference {
	s := append([]int32(nil), scores...)
	slices.Sort(s)
	ref := &scoring.ScoreReference{AsOf: asOf, Entities: len(s)}
	for q := 1; q < 10; q++ {
		e := s[q*len(s)/10]
		if (len(ref.Edges) == 0 || e > ref.Edges[len(ref.Edges)-1]) && e > s[0] {
			ref.Edges = append(ref.Edges, e)
		}
	}
	if len(ref.Edges) == 0 {
		ref.Edges = []int32{s[0] + 1}
	}
	counts := make([]int64, len(ref.Edges)+1)
	for _, v := range s {
		counts[ref.Band(v)]++
	}
	ref.Shares = scoring.Distribution(counts)
	return ref
}
