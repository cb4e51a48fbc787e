package api

import (
	"errors"

	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/scoring"
)

// TierStatsDoc is the GET /v1/stats/tiers document. Both modes build it
// the same way: one part per engine (local mode) or per member's answer
// (Kafka mode), summed by Add, rates computed by Finish.
type TierStatsDoc struct {
	AsOf         string          `json:"as_of"`
	TierScheme   string          `json:"tier_scheme"`
	RegionPrefix string          `json:"region_prefix"`
	Entities     int             `json:"entities"`
	Tiers        []tierStatsLine `json:"tiers"`
	Definition   string          `json:"definition"`
}

// tierStatsLine is one tier's line of a TierStatsDoc.
type tierStatsLine struct {
	Tier                string         `json:"tier"`
	Entities            int            `json:"entities"`
	Inspections         int            `json:"inspections"`
	ProblemsFound       int            `json:"problems_found"`
	HitRateBP           *int           `json:"hit_rate_bp"`
	Adverse             int            `json:"adverse"`
	AdverseRateBP       *int           `json:"adverse_rate_bp"`
	InspectionsByResult map[string]int `json:"inspections_by_result"`
}

const tierStatsDefinition = "Inspections are counted under the tier the entity had just before each inspection. " +
	"problems_found = problem_found + corrected; hit_rate_bp = problems_found per 10,000 inspections; " +
	"adverse = problems_found + refused + unreachable (every result but no_problem), adverse_rate_bp per 10,000; " +
	"null when there were no inspections"

// newTierStatsDoc is one engine's part.
func newTierStatsDoc(st scoring.TierStats) *TierStatsDoc {
	d := &TierStatsDoc{AsOf: report.Instant(st.AsOf), TierScheme: st.Scheme, RegionPrefix: st.RegionPrefix,
		Entities: st.Entities, Tiers: []tierStatsLine{}, Definition: tierStatsDefinition}
	for _, t := range st.Tiers {
		by := map[string]int{}
		for k, n := range t.ByResult {
			by[k] = n
		}
		d.Tiers = append(d.Tiers, tierStatsLine{Tier: t.Tier, Entities: t.Entities, Inspections: t.Inspections,
			ProblemsFound: t.Found, Adverse: t.Adverse, InspectionsByResult: by})
	}
	return d
}

// Add sums another part into d; parts must be of the same scheme, instant
// and region prefix.
func (d *TierStatsDoc) Add(o *TierStatsDoc) error {
	if o.TierScheme != d.TierScheme || len(o.Tiers) != len(d.Tiers) {
		return errors.New("members answered with different tier schemes: they run different models")
	}
	if o.AsOf != d.AsOf || o.RegionPrefix != d.RegionPrefix {
		return errors.New("parts answered for different instants or regions")
	}
	d.Entities += o.Entities
	for i := range d.Tiers {
		a, b := &d.Tiers[i], &o.Tiers[i]
		if a.Tier != b.Tier {
			return errors.New("members answered with different tier labels: they run different models")
		}
		a.Entities += b.Entities
		a.Inspections += b.Inspections
		a.ProblemsFound += b.ProblemsFound
		a.Adverse += b.Adverse
		if a.InspectionsByResult == nil {
			a.InspectionsByResult = map[string]int{}
		}
		for k, n := range b.InspectionsByResult {
			a.InspectionsByResult[k] += n
		}
	}
	return nil
}

// Finish computes the rates from the summed counts (rounded to the
// nearest basis point; null without inspections).
func (d *TierStatsDoc) Finish() {
	d.Definition = tierStatsDefinition
	for i := range d.Tiers {
		a := &d.Tiers[i]
		a.HitRateBP, a.AdverseRateBP = nil, nil
		if a.InspectionsByResult == nil {
			a.InspectionsByResult = map[string]int{}
		}
		if a.Inspections > 0 {
			bp := (a.ProblemsFound*10000 + a.Inspections/2) / a.Inspections
			abp := (a.Adverse*10000 + a.Inspections/2) / a.Inspections
			a.HitRateBP, a.AdverseRateBP = &bp, &abp
		}
	}
}
