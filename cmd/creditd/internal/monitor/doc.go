package monitor

import (
	"errors"
	"math"

	chsink "github.com/creditrisk/creditd/feeds/clickhouse"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/scoring"
)

// Doc is one monitoring scan as GET /v1/stats/challenger and GET
// /v1/stats/drift serve it: counts (which Add sums over Kafka members)
// and what Finish derives from them (shares, PSI, hit rates).
type Doc struct {
	AsOf string `json:"as_of"`
	// Partitions are the Kafka partitions the scan covered (Kafka mode).
	Partitions []int    `json:"partitions,omitempty"`
	Entities   int64    `json:"entities"`
	Champion   ModelDoc `json:"champion"`
	// Challenger is null when creditd runs without --challenger.
	Challenger *ModelDoc     `json:"challenger"`
	Agreement  *AgreementDoc `json:"agreement"`
	Definition string        `json:"definition"`
}

// ModelDoc is one model's part of a Doc.
type ModelDoc struct {
	Model      string     `json:"model"`
	TierScheme string     `json:"tier_scheme"`
	Tiers      []TierLine `json:"tiers"`
	Drift      DriftDoc   `json:"drift"`
}

// TierLine is one tier of a model. The inspection columns are the
// challenger's only (the champion's are GET /v1/stats/tiers): inspections
// counted under the tier the challenger gave the entity just before each.
type TierLine struct {
	Tier          string `json:"tier"`
	Entities      int64  `json:"entities"`
	Inspections   *int64 `json:"inspections,omitempty"`
	ProblemsFound *int64 `json:"problems_found,omitempty"`
	Adverse       *int64 `json:"adverse,omitempty"`
	// HitRate = adverse / inspections with its Wilson 95 %
	// interval; null without inspections.
	HitRate     *float64 `json:"hit_rate,omitempty"`
	HitRateLow  *float64 `json:"hit_rate_low,omitempty"`
	HitRateHigh *float64 `json:"hit_rate_high,omitempty"`
}

// DriftDoc is the PSI of a model's score distribution against the
// reference in its artifact.
type DriftDoc struct {
	// Reference is null when the artifact has none; PSI is then null too
	// and Note says so.
	Reference *RefDoc  `json:"reference"`
	Bands     []Band   `json:"bands"`
	PSI       *float64 `json:"psi"`
	// Level is "stable" (PSI < 0.1), "watch" (< 0.25) or "alert"; "" when
	// there is no PSI.
	Level string `json:"level"`
	Note  string `json:"note,omitempty"`
}

// RefDoc identifies a model's reference distribution.
type RefDoc struct {
	AsOf     string `json:"as_of"`
	Entities int    `json:"entities"`
}

// Band is one score band: scores in [lo, hi) (lo null: no lower bound,
// hi null: no upper bound).
type Band struct {
	Lo             *int32  `json:"lo"`
	Hi             *int32  `json:"hi"`
	ReferenceShare float64 `json:"reference_share"`
	Entities       int64   `json:"entities"`
	Share          float64 `json:"share"`
}

// AgreementDoc is the agreement matrix: Counts[i][j] entities are in
// champion tier i and challenger tier j.
type AgreementDoc struct {
	ChampionTiers   []string  `json:"champion_tiers"`
	ChallengerTiers []string  `json:"challenger_tiers"`
	Counts          [][]int64 `json:"counts"`
	// Agreeing counts the entities with the same tier label under both;
	// AgreementRate = agreeing / entities (null without entities).
	Agreeing      int64    `json:"agreeing"`
	AgreementRate *float64 `json:"agreement_rate"`
}

// Definition explains a Doc.
const Definition = "A monitoring scan evaluates every registered, not deregistered entity as of as_of under the champion " +
	"(the --model that sets tiers, reports and draws) and, in shadow, the challenger (--challenger), which changes nothing. " +
	"agreement.counts[i][j] = entities in champion tier i and challenger tier j. Challenger inspections are counted under the " +
	"tier the challenger gave the entity just before each inspection; problems_found = problem_found + corrected; " +
	"adverse = the findings, every result but no_problem (problem_found, corrected, refused, unreachable: domain.md §8, " +
	"the definition creditctl model fit and eval use); hit_rate = adverse / inspections with a Wilson 95% interval. drift.psi = population stability index of the " +
	"score distribution over the reference's bands against the reference in the model artifact (empty bands floored at " +
	"1e-4); level: stable below 0.1, watch below 0.25, alert from 0.25; null when the artifact has no reference."

// noReference is the note of a model without a reference distribution.
const noReference = "the model artifact has no reference score distribution (\"reference\"), so its drift cannot be measured"

// newDoc is one scan's Doc (counts only; Finish derives the rest).
func newDoc(mon *scoring.Monitoring, champ *scoring.Model, champName string, chall *scoring.Shadow, champLabels []string) *Doc {
	d := &Doc{AsOf: report.Instant(mon.AsOf), Entities: mon.Entities, Definition: Definition}
	d.Champion = ModelDoc{Model: champName, TierScheme: champ.TierScheme, Tiers: []TierLine{},
		Drift: driftDoc(champ.Reference, mon.ChampionBands)}
	for i, l := range champLabels {
		d.Champion.Tiers = append(d.Champion.Tiers, TierLine{Tier: l, Entities: mon.ChampionTiers[i]})
	}
	if chall == nil {
		return d
	}
	cm := chall.Model()
	c := &ModelDoc{Model: chall.Name(), TierScheme: chall.Scheme().ID, Tiers: []TierLine{},
		Drift: driftDoc(cm.Reference, mon.ChallengerBands)}
	for i, l := range chall.Scheme().Labels {
		c.Tiers = append(c.Tiers, TierLine{Tier: l, Entities: mon.ChallengerTiers[i], Inspections: ptr(mon.Inspections[i]),
			ProblemsFound: ptr(mon.Found[i]), Adverse: ptr(mon.Adverse[i])})
	}
	d.Challenger = c
	a := &AgreementDoc{ChampionTiers: champLabels, ChallengerTiers: chall.Scheme().Labels, Counts: [][]int64{}}
	for _, row := range mon.Agreement {
		a.Counts = append(a.Counts, append([]int64(nil), row...))
	}
	d.Agreement = a
	return d
}

func ptr[T any](v T) *T { return &v }

// driftDoc is the bands of ref with their counts (nil ref: no bands).
func driftDoc(ref *scoring.ScoreReference, counts []int64) DriftDoc {
	if ref == nil {
		return DriftDoc{Bands: []Band{}, Note: noReference}
	}
	dd := DriftDoc{Reference: &RefDoc{AsOf: ref.AsOf, Entities: ref.Entities}, Bands: []Band{}}
	for i, s := range ref.Shares {
		b := Band{ReferenceShare: s, Entities: counts[i]}
		if i > 0 {
			b.Lo = ptr(ref.Edges[i-1])
		}
		if i < len(ref.Edges) {
			b.Hi = ptr(ref.Edges[i])
		}
		dd.Bands = append(dd.Bands, b)
	}
	return dd
}

var errMismatch = errors.New("members answered for different models or schemes: they run different --model or --challenger")

// Add sums another member's Doc into d (Kafka mode); both must be of the
// same models and instant.
func (d *Doc) Add(o *Doc) error {
	if d.AsOf != o.AsOf && o.AsOf != "" {
		// Members scan on their own clocks: the merged Doc is as of the
		// oldest part.
		d.AsOf = min(d.AsOf, o.AsOf)
	}
	if err := d.Champion.add(&o.Champion); err != nil {
		return err
	}
	if (d.Challenger == nil) != (o.Challenger == nil) {
		return errMismatch
	}
	if d.Challenger != nil {
		if err := d.Challenger.add(o.Challenger); err != nil {
			return err
		}
		for i := range d.Agreement.Counts {
			for j := range d.Agreement.Counts[i] {
				d.Agreement.Counts[i][j] += o.Agreement.Counts[i][j]
			}
		}
	}
	d.Entities += o.Entities
	d.Partitions = append(d.Partitions, o.Partitions...)
	return nil
}

func (m *ModelDoc) add(o *ModelDoc) error {
	if m.Model != o.Model || m.TierScheme != o.TierScheme || len(m.Tiers) != len(o.Tiers) || len(m.Drift.Bands) != len(o.Drift.Bands) {
		return errMismatch
	}
	for i := range m.Tiers {
		a, b := &m.Tiers[i], &o.Tiers[i]
		a.Entities += b.Entities
		addPtr(&a.Inspections, b.Inspections)
		addPtr(&a.ProblemsFound, b.ProblemsFound)
		addPtr(&a.Adverse, b.Adverse)
	}
	for i := range m.Drift.Bands {
		m.Drift.Bands[i].Entities += o.Drift.Bands[i].Entities
	}
	return nil
}

func addPtr(dst **int64, src *int64) {
	if *dst != nil && src != nil {
		**dst += *src
	}
}

// Finish derives shares, PSI, levels, hit rates and the agreement rate
// from the counts.
func (d *Doc) Finish() {
	d.Definition = Definition
	d.Champion.finish()
	if d.Challenger == nil {
		return
	}
	d.Challenger.finish()
	a := d.Agreement
	a.Agreeing = 0
	for i, row := range a.Counts {
		for j, n := range row {
			if a.ChampionTiers[i] == a.ChallengerTiers[j] {
				a.Agreeing += n
			}
		}
	}
	a.AgreementRate = nil
	if d.Entities > 0 {
		a.AgreementRate = ptr(float64(a.Agreeing) / float64(d.Entities))
	}
}

func (m *ModelDoc) finish() {
	for i := range m.Tiers {
		t := &m.Tiers[i]
		t.HitRate, t.HitRateLow, t.HitRateHigh = nil, nil, nil
		if t.Inspections != nil && *t.Inspections > 0 {
			lo, hi := chsink.Wilson(*t.Adverse, *t.Inspections)
			t.HitRate = ptr(float64(*t.Adverse) / float64(*t.Inspections))
			t.HitRateLow, t.HitRateHigh = &lo, &hi
		}
	}
	dd := &m.Drift
	dd.PSI, dd.Level = nil, ""
	if dd.Reference == nil {
		dd.Note = noReference
		return
	}
	counts := make([]int64, len(dd.Bands))
	ref := make([]float64, len(dd.Bands))
	for i, b := range dd.Bands {
		counts[i], ref[i] = b.Entities, b.ReferenceShare
	}
	shares := scoring.Distribution(counts)
	for i := range dd.Bands {
		dd.Bands[i].Share = shares[i]
	}
	var n int64
	for _, c := range counts {
		n += c
	}
	if n == 0 {
		dd.Note = "no entities scanned: no distribution to compare"
		return
	}
	dd.Note = ""
	psi := scoring.PSI(ref, shares)
	dd.PSI, dd.Level = &psi, Level(psi)
}

// Level names a PSI's reading (scoring.PSIWatch, scoring.PSIAlert).
func Level(psi float64) string {
	switch {
	case math.IsNaN(psi):
		return ""
	case psi < scoring.PSIWatch:
		return "stable"
	case psi < scoring.PSIAlert:
		return "watch"
	}
	return "alert"
}
