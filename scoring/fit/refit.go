package fit

import (
	"errors"
	"math"

	"github.com/creditrisk/creditd/scoring"
)

// Refit returns a copy of m with the fitted coefficients (points
// recomputed from them, base_odds from the intercept) and a "+fit" version
// suffix; Reference, Calibration and Training are cleared for the caller
// to set from the new model's own scores. A coefficient that rounds to 0
// points keeps its sign with one point, since a feature worth nothing is
// refused. Validation runs on the result.
func Refit(m *scoring.Model, r *Result) (*scoring.Model, error) {
	if len(r.Beta) != len(m.Features) {
		return nil, errors.New("fit: result does not match the model's features")
	}
	out := *m
	out.Features = append([]scoring.Feature(nil), m.Features...)
	out.Cutoffs = append([]int(nil), m.Cutoffs...)
	out.Version = m.Version + "+fit"
	out.Reference, out.Calibration, out.Training = nil, nil, nil
	factor := m.Scaling.PDO / math.Ln2
	for i := range out.Features {
		b := math.Round(r.Beta[i]*1e4) / 1e4
		pts := int(math.Round(-b * factor))
		if pts == 0 {
			pts = 1
			if b > 0 || (b == 0 && m.Features[i].Points < 0) {
				pts = -1
			}
			b = math.Round(-float64(pts)/factor*1e6) / 1e6
		}
		out.Features[i].LogOdds, out.Features[i].Points = b, pts
	}
	out.Scaling.BaseOdds = math.Round(math.Exp(-r.Intercept)*100) / 100
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return &out, nil
}
