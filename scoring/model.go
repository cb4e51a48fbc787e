package scoring

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/record"
	"github.com/creditrisk/creditd/models/tier"
)

// ModelFormat is the format name of risk model artifacts.
const ModelFormat = "creditd-risk-model/v1"

// Model is the risk model artifact: a points-based scorecard with
// PDO/odds scaling, time decay, tier cut-offs and overrides. It is plain
// JSON (see scoring/models/*.json and scoring/models/MODEL.md); its
// identity is ID@Version plus the SHA-256 of its canonical encoding, so a
// score can always be traced to the exact model that produced it.
//
// Score scale: higher is better credit (lower risk), like the tax credit
// points of domain.md §2.4. With Scaling {BaseScore s0, BaseOdds o0, PDO p},
// a score s means odds (no problem : problem on inspection) of
// o0 · 2^((s − s0)/p). A feature with log-odds coefficient β (the change in
// ln(odds of a problem) it brings) is worth round(−β · p / ln 2) points.
type Model struct {
	Format     string `json:"format"`
	ID         string `json:"id"`
	Version    string `json:"version"`
	TierScheme string `json:"tier_scheme"`
	// Description is free text for people.
	Description string  `json:"description,omitempty"`
	Scaling     Scaling `json:"scaling"`
	// MinScore and MaxScore bound the score.
	MinScore int `json:"min_score"`
	MaxScore int `json:"max_score"`
	// Decay is the step decay of a record's points by age, in ascending
	// FromDays; a record older than the last band's UntilDays counts 0.
	Decay []DecayBand `json:"decay"`
	// Features are the scored record features.
	Features []Feature `json:"features"`
	// Cutoffs are the minimum scores of the tiers from lowest risk up, one
	// fewer than the scheme has tiers: a score ≥ Cutoffs[0] is tier A, else
	// ≥ Cutoffs[1] is B, …; below the last cut-off is the highest tier.
	Cutoffs []int `json:"cutoffs"`
	// Overrides put an entity into at least a given tier while a condition
	// holds, whatever its score.
	Overrides []Override `json:"overrides"`
	// Reference is the score distribution of the population the model
	// was fitted on, the baseline of drift monitoring (drift.go); nil
	// when the artifact has none.
	Reference *ScoreReference `json:"reference,omitempty"`
	// TierTargets are the planned shares of entities per tier, from the
	// lowest risk up, summing to 1 (targets.go); nil when not documented.
	TierTargets []float64 `json:"tier_targets,omitempty"`
	// Calibration maps the score to a probability of a finding and
	// Training records how the model was fitted (governance.go); nil for
	// a model reasoned from the rules.
	Calibration *Calibration `json:"calibration,omitempty"`
	Training    *Training    `json:"training,omitempty"`
}

// Scaling holds the PDO/odds scaling parameters.
type Scaling struct {
	BaseScore int     `json:"base_score"` // score of an entity with no scored records
	BaseOdds  float64 `json:"base_odds"`  // odds no-problem:problem at BaseScore
	PDO       float64 `json:"pdo"`        // points to double the odds
}

// DecayBand is one step of the decay schedule.
type DecayBand struct {
	FromDays  int `json:"from_days"`
	UntilDays int `json:"until_days"`
	Permille  int `json:"permille"` // weight in 1/1000
}

// Feature is one scored kind of record.
type Feature struct {
	// Code is the reason code reported when the feature affects a score.
	Code string `json:"code"`
	// Event is the event type whose records the feature scores.
	Event string `json:"event"`
	// Match selects records: the enumerated attribute's wire value
	// ("serious", "problem_found", "A", "national"), or for annual_report
	// "on_time"/"late", complaint "substantiated", commitment_made
	// "breached"/"fulfilled", abnormal_listed "unresolved_3y", registered
	// "clean_years" (Points per full year without adverse records, up to
	// MaxCount years; clean.go); "" = any.
	Match string `json:"match"`
	// LogOdds is β, the change in ln(odds of a problem) one such record
	// brings; Points must equal round(−β · PDO / ln 2).
	LogOdds float64 `json:"log_odds"`
	Points  int     `json:"points"`
	// Decay applies the decay schedule by the record's age.
	Decay bool `json:"decay"`
	// WindowDays limits the effect to this many days from the record's
	// start (0 = until the record's publicity ends or it is removed).
	WindowDays int `json:"window_days"`
	// MaxCount caps how many records of the feature count (0 = all); the
	// largest effects count first.
	MaxCount int `json:"max_count"`
	// LatestOnly scores only the entity's latest record of the event type
	// (by year): annual reports and tax ratings replace each other.
	LatestOnly bool `json:"latest_only"`
	// Text explains the reason code.
	Text string `json:"text"`
}

// Override conditions.
const (
	CondDishonestList = "dishonest_list"    // on the serious illegal and dishonest list
	CondAbnormal3y    = "abnormal_3y"       // abnormal listing unresolved for 3 years
	CondAbnormalList  = "abnormal_list"     // on the abnormal-operations list
	CondCourtDebtor   = "court_debtor"      // a dishonest judgment debtor
	CondCommitBreach  = "commitment_breach" // an unrepaired breached commitment within its period
)

// Override is a tier floor while a condition holds.
type Override struct {
	Code      string `json:"code"`
	Condition string `json:"condition"`
	MinTier   string `json:"min_tier"`
	Text      string `json:"text"`
}

//go:embed models/*.json
var builtinModels embed.FS

// DefaultModel returns the built-in model for a tier scheme ("national-4"
// or "shandong-5").
func DefaultModel(scheme string) (*Model, error) {
	b, err := builtinModels.ReadFile("models/" + scheme + ".json")
	if err != nil {
		return nil, fmt.Errorf("no built-in model for tier scheme %q", scheme)
	}
	return ParseModel(b)
}

// ParseModel parses and validates a model artifact. Unknown members are
// refused: a model is reviewed as a whole, and a misspelt member would
// otherwise silently change nothing.
func ParseModel(b []byte) (*Model, error) {
	var m Model
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Hash returns the lowercase hex SHA-256 of the model's canonical encoding
// (encoding/json of the parsed model), independent of the file's layout.
func (m *Model) Hash() string {
	b, _ := json.Marshal(m)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Name is the model's identity as reports show it: id@version+sha256:<12 hex>.
func (m *Model) Name() string {
	return m.ID + "@" + m.Version + "+sha256:" + m.Hash()[:12]
}

// Validate checks the model for consistency.
func (m *Model) Validate() error {
	if m.Format != ModelFormat {
		return fmt.Errorf("model: format %q, want %q", m.Format, ModelFormat)
	}
	if m.ID == "" || m.Version == "" {
		return fmt.Errorf("model: id and version are required")
	}
	if m.Reference != nil {
		if err := m.Reference.Validate(); err != nil {
			return fmt.Errorf("model: %w", err)
		}
	}
	scheme, err := tier.LookupScheme(m.TierScheme)
	if err != nil {
		return fmt.Errorf("model %s: %w", m.ID, err)
	}
	if err := m.validateTargets(scheme); err != nil {
		return err
	}
	if err := m.validateGovernance(); err != nil {
		return err
	}
	if m.Scaling.PDO <= 0 || m.Scaling.BaseOdds <= 0 {
		return fmt.Errorf("model %s: scaling needs pdo > 0 and base_odds > 0", m.ID)
	}
	if m.MinScore >= m.MaxScore || m.Scaling.BaseScore < m.MinScore || m.Scaling.BaseScore > m.MaxScore {
		return fmt.Errorf("model %s: need min_score < base_score < max_score", m.ID)
	}
	for i, d := range m.Decay {
		if d.FromDays < 0 || d.UntilDays <= d.FromDays || d.Permille < 0 || d.Permille > 1000 ||
			(i > 0 && d.FromDays != m.Decay[i-1].UntilDays) || (i == 0 && d.FromDays != 0) {
			return fmt.Errorf("model %s: decay band %d must be contiguous from day 0 with 0 ≤ permille ≤ 1000", m.ID, i)
		}
		if i > 0 && d.Permille > m.Decay[i-1].Permille {
			return fmt.Errorf("model %s: decay band %d increases the weight", m.ID, i)
		}
	}
	factor := m.Scaling.PDO / math.Ln2
	codes := map[string]bool{}
	for _, f := range m.Features {
		if f.Code == "" || codes[f.Code] {
			return fmt.Errorf("model %s: feature code %q empty or repeated", m.ID, f.Code)
		}
		codes[f.Code] = true
		if _, err := compileMatch(f); err != nil {
			return fmt.Errorf("model %s: feature %s: %w", m.ID, f.Code, err)
		}
		if want := int(math.Round(-f.LogOdds * factor)); want != f.Points {
			return fmt.Errorf("model %s: feature %s: points %d, but log_odds %.4f gives %d at pdo %g",
				m.ID, f.Code, f.Points, f.LogOdds, want, m.Scaling.PDO)
		}
		if f.WindowDays < 0 || f.MaxCount < 0 || f.Text == "" {
			return fmt.Errorf("model %s: feature %s: window and max_count ≥ 0, text required", m.ID, f.Code)
		}
	}
	if len(m.Cutoffs) != scheme.Len()-1 {
		return fmt.Errorf("model %s: %d cut-offs for %d tiers", m.ID, len(m.Cutoffs), scheme.Len())
	}
	for i := 1; i < len(m.Cutoffs); i++ {
		if m.Cutoffs[i] >= m.Cutoffs[i-1] {
			return fmt.Errorf("model %s: cut-offs must decrease (tier A has the highest minimum score)", m.ID)
		}
	}
	for _, o := range m.Overrides {
		if _, err := scheme.Parse(o.MinTier); err != nil {
			return fmt.Errorf("model %s: override %s: %w", m.ID, o.Code, err)
		}
		switch o.Condition {
		case CondDishonestList, CondAbnormal3y, CondAbnormalList, CondCourtDebtor, CondCommitBreach:
		default:
			return fmt.Errorf("model %s: override %s: unknown condition %q", m.ID, o.Code, o.Condition)
		}
		if o.Code == "" || codes[o.Code] || o.Text == "" {
			return fmt.Errorf("model %s: override code %q empty or repeated, or no text", m.ID, o.Code)
		}
		codes[o.Code] = true
	}
	return nil
}

// match kinds beyond the enumerated sub-code
const (
	matchAny        = 0
	matchOnTime     = 1
	matchLate       = 2
	matchSubst      = 3
	matchBreached   = 4
	matchFulfilled  = 5
	matchUnresolved = 6
	matchSub        = 7 // compare the sub-code
	matchCleanYears = 8 // registered "clean_years": full years without adverse records (clean.go)
)

type compiledMatch struct {
	typ  event.Type
	kind uint8
	sub  uint8
}

func compileMatch(f Feature) (compiledMatch, error) {
	t, ok := event.ParseType(f.Event)
	if !ok {
		return compiledMatch{}, fmt.Errorf("unknown event type %q", f.Event)
	}
	cm := compiledMatch{typ: t}
	if t == event.TypeRegistered && f.Match == "clean_years" {
		cm.kind = matchCleanYears
		// Any sign: a fitted model may find clean years uninformative.
		if f.MaxCount <= 0 || f.Decay || f.WindowDays != 0 || f.LatestOnly {
			return cm, fmt.Errorf("clean_years needs max_count > 0 (years) and no decay, window or latest_only")
		}
		return cm, nil
	}
	if record.CategoryOf(t) == record.CatNone {
		return cm, fmt.Errorf("event type %s creates no record to score", f.Event)
	}
	switch {
	case f.Match == "":
		cm.kind = matchAny
	case t == event.TypeAnnualReport && f.Match == "on_time":
		cm.kind = matchOnTime
	case t == event.TypeAnnualReport && f.Match == "late":
		cm.kind = matchLate
	case t == event.TypeComplaint && f.Match == "substantiated":
		cm.kind = matchSubst
	case t == event.TypeCommitmentMade && f.Match == "breached":
		cm.kind = matchBreached
	case t == event.TypeCommitmentMade && f.Match == "fulfilled":
		cm.kind = matchFulfilled
	case t == event.TypeAbnormalListed && f.Match == "unresolved_3y":
		cm.kind = matchUnresolved
	default:
		for sub := uint8(1); sub < 16; sub++ {
			if event.SubName(t, sub) == f.Match {
				cm.kind, cm.sub = matchSub, sub
				return cm, nil
			}
		}
		return cm, fmt.Errorf("match %q is not a value of %s", f.Match, f.Event)
	}
	return cm, nil
}

// compiled is the model in the form the evaluator uses.
type compiled struct {
	m        *Model
	scheme   *tier.Scheme
	name     string
	features []compiledFeature
	// byType lists feature indexes per event type.
	byType    [32][]int
	decay     []DecayBand
	cutoffs   []int32
	overrides []compiledOverride
}

type compiledFeature struct {
	Feature
	match compiledMatch
}

type compiledOverride struct {
	Override
	min tier.Tier
}

func compile(m *Model) (*compiled, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	scheme, _ := tier.LookupScheme(m.TierScheme)
	c := &compiled{m: m, scheme: scheme, name: m.Name(), decay: m.Decay}
	for i, f := range m.Features {
		cm, _ := compileMatch(f)
		c.features = append(c.features, compiledFeature{Feature: f, match: cm})
		c.byType[cm.typ] = append(c.byType[cm.typ], i)
	}
	for _, v := range m.Cutoffs {
		c.cutoffs = append(c.cutoffs, int32(v))
	}
	for _, o := range m.Overrides {
		t, _ := scheme.Parse(o.MinTier)
		c.overrides = append(c.overrides, compiledOverride{Override: o, min: t})
	}
	// Strongest overrides first, so the first that holds is the binding one.
	sort.SliceStable(c.overrides, func(i, j int) bool { return c.overrides[i].min > c.overrides[j].min })
	return c, nil
}

// tierOf maps a score to a tier by the cut-offs.
func (c *compiled) tierOf(score int32) tier.Tier {
	for i, cut := range c.cutoffs {
		if score >= cut {
			return tier.Tier(i)
		}
	}
	return tier.Tier(len(c.cutoffs))
}

// decayPermille returns the decay weight at an age in seconds, and the age
// (seconds) at which the weight next changes (-1 if never).
func (c *compiled) decayPermille(age int64) (int, int64) {
	if len(c.decay) == 0 {
		return 1000, -1
	}
	for _, d := range c.decay {
		until := int64(d.UntilDays) * 86400
		if age < until {
			return d.Permille, until
		}
	}
	return 0, -1
}
