package scoring

import (
	"fmt"
	"math"
	"time"
)

// Model governance (domain.md §8): a fitted model carries how it was
// fitted (Training) and what its score means as a probability
// (Calibration), so that a reviewer can judge it from the artifact alone
// and eval can check the probability on later inspections. Both are
// optional members; the built-in models, reasoned from the rules, have
// neither.

// Calibration maps a score to the estimated probability that an inspection
// finds a problem: P = σ(Intercept + Slope · ℓ(s)), where ℓ(s) = −ln
// base_odds − (s − base_score) · ln 2 / pdo is the log-odds of a finding
// that the score's scaling implies and σ the logistic function. A model
// whose scaling is exact has Intercept 0 and Slope 1.
type Calibration struct {
	Intercept float64 `json:"intercept"`
	Slope     float64 `json:"slope"`
	// From and Until (YYYY-MM-DD, Until exclusive) bound the inspections
	// it was fitted on; Inspections and Findings count them.
	From        string `json:"from"`
	Until       string `json:"until"`
	Inspections int    `json:"inspections"`
	Findings    int    `json:"findings"`
}

// Training records how a fitted model was estimated.
type Training struct {
	// From and Until (YYYY-MM-DD, Until exclusive) bound the training
	// inspections; features are each entity's records as of the instant
	// before its inspection.
	From        string `json:"from"`
	Until       string `json:"until"`
	Inspections int    `json:"inspections"`
	Findings    int    `json:"findings"`
	// Prior is the model the coefficients were shrunk toward (its Name)
	// and PriorSD the prior's standard deviation in log-odds.
	Prior   string  `json:"prior"`
	PriorSD float64 `json:"prior_sd"`
	// Intercept is the fitted log-odds of a finding with no scored record
	// (base_odds is its rounded exponential), with its standard error.
	Intercept   float64 `json:"intercept"`
	InterceptSE float64 `json:"intercept_se"`
	// Coefficients are the estimates with their standard errors and 95 %
	// intervals, in feature order.
	Coefficients []Coefficient `json:"coefficients"`
	// HeldOut are the metrics on the later held-out period.
	HeldOut *HeldOut `json:"held_out,omitempty"`
}

// Coefficient is one feature's estimate.
type Coefficient struct {
	Code     string  `json:"code"`
	Prior    float64 `json:"prior"`
	Estimate float64 `json:"estimate"`
	// SE is the posterior standard deviation (0 when held at the prior).
	SE      float64 `json:"se"`
	Lower   float64 `json:"lower"`
	Upper   float64 `json:"upper"`
	Support int     `json:"support"` // training inspections with a nonzero weight
	// SignFlagged: the estimate contradicted the prior's direction; Held:
	// it was therefore held at the prior (no explicit override).
	SignFlagged bool `json:"sign_flagged,omitempty"`
	Held        bool `json:"held,omitempty"`
	// IV is the information value of the feature's monotone WOE bins.
	IV float64 `json:"iv"`
}

// HeldOut are a model's metrics on a held-out period.
type HeldOut struct {
	From        string  `json:"from"`
	Until       string  `json:"until"`
	Inspections int     `json:"inspections"`
	Findings    int     `json:"findings"`
	AUC         float64 `json:"auc"`
	AUCLower    float64 `json:"auc_lower"`
	AUCUpper    float64 `json:"auc_upper"`
	KS          float64 `json:"ks"`
	Brier       float64 `json:"brier"`
	// PriorAUC is the prior model's AUC on the same inspections.
	PriorAUC float64 `json:"prior_auc"`
}

// ImpliedLogOdds is ℓ(s), the log-odds of a finding that the scaling
// assigns to score s.
func (m *Model) ImpliedLogOdds(score int32) float64 {
	return -math.Log(m.Scaling.BaseOdds) - float64(int(score)-m.Scaling.BaseScore)*math.Ln2/m.Scaling.PDO
}

// Probability is the estimated probability that an inspection of an
// entity with this score finds a problem: the calibration's when the
// artifact has one, else the scaling's own.
func (m *Model) Probability(score int32) float64 {
	z := m.ImpliedLogOdds(score)
	if c := m.Calibration; c != nil {
		z = c.Intercept + c.Slope*z
	}
	return 1 / (1 + math.Exp(-z))
}

func validDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// validateGovernance checks the optional calibration and training members.
func (m *Model) validateGovernance() error {
	if c := m.Calibration; c != nil {
		if math.IsNaN(c.Intercept) || math.IsInf(c.Intercept, 0) || !(c.Slope > 0) || math.IsInf(c.Slope, 0) {
			return fmt.Errorf("model %s: calibration needs a finite intercept and a positive slope", m.ID)
		}
		if !validDate(c.From) || !validDate(c.Until) || c.Until <= c.From || c.Findings < 0 || c.Findings > c.Inspections {
			return fmt.Errorf("model %s: calibration window %q–%q or counts invalid", m.ID, c.From, c.Until)
		}
	}
	if t := m.Training; t != nil {
		if !validDate(t.From) || !validDate(t.Until) || t.Until <= t.From || t.Findings < 0 || t.Findings > t.Inspections {
			return fmt.Errorf("model %s: training window %q–%q or counts invalid", m.ID, t.From, t.Until)
		}
		if len(t.Coefficients) != len(m.Features) {
			return fmt.Errorf("model %s: %d training coefficients for %d features", m.ID, len(t.Coefficients), len(m.Features))
		}
		for i, c := range t.Coefficients {
			if c.Code != m.Features[i].Code {
				return fmt.Errorf("model %s: training coefficient %d is %q, feature is %q", m.ID, i, c.Code, m.Features[i].Code)
			}
		}
		if h := t.HeldOut; h != nil && (!validDate(h.From) || !validDate(h.Until) || h.Until <= h.From || h.From < t.Until) {
			return fmt.Errorf("model %s: held-out window %q–%q must follow the training window", m.ID, h.From, h.Until)
		}
	}
	return nil
}
