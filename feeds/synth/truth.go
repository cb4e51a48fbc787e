package synth

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// Truth is the hidden ground truth of one entity: what a scorer tries to
// recover from the events.
type Truth struct {
	USCC     uscc.Code
	Kind     string // "enterprise", "individual_business", "farmers_cooperative"
	Region   string // six-digit division code (USCC positions 3–8)
	Industry string // GB/T 4754 division, "F52"
	// RegisteredOn is the registration date; DeregisteredOn the
	// deregistration date, zero while the entity is active at the end.
	RegisteredOn, DeregisteredOn time.Time
	// Z is the latent risk score, N(0,1); Risk = exp(σZ − σ²/2) is the
	// multiplier of its negative-event rates (mean 1); Percentile = Φ(Z)
	// is its rank in the population.
	Z, Risk, Percentile float64
	// HitProb is the probability that an inspection finds a problem (while
	// the entity is not on the abnormal list, which raises it).
	HitProb float64
	// Tier4 and Tier5 are the true tiers by Percentile in the national
	// four-tier and Shandong five-tier schemes (cut points in README.md).
	Tier4, Tier5 tier.Tier
}

// TruthCSVHeader is the header line of AppendCSV's format.
const TruthCSVHeader = "uscc,kind,region,industry,registered_on,deregistered_on,latent_z,latent_risk,risk_percentile,inspect_hit_prob,tier_national4,tier_shandong5"

// AppendCSV appends t as one CSV line (no newline) matching TruthCSVHeader.
// No field needs quoting.
func (t *Truth) AppendCSV(b []byte) []byte {
	b = append(b, t.USCC[:]...)
	b = append(b, ',')
	b = append(b, t.Kind...)
	b = append(b, ',')
	b = append(b, t.Region...)
	b = append(b, ',')
	b = append(b, t.Industry...)
	b = append(b, ',')
	b = t.RegisteredOn.AppendFormat(b, time.DateOnly)
	b = append(b, ',')
	if !t.DeregisteredOn.IsZero() {
		b = t.DeregisteredOn.AppendFormat(b, time.DateOnly)
	}
	b = append(b, ',')
	b = strconv.AppendFloat(b, t.Z, 'f', 4, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, t.Risk, 'f', 4, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, t.Percentile, 'f', 4, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, t.HitProb, 'f', 4, 64)
	b = append(b, ',')
	b = append(b, tier.National4.Label(t.Tier4)...)
	b = append(b, ',')
	b = append(b, tier.Shandong5.Label(t.Tier5)...)
	return b
}

func tierOf(p float64, cuts []float64) tier.Tier {
	t := 0
	for t < len(cuts) && p > cuts[t] {
		t++
	}
	return tier.Tier(t)
}

func dayTime(n int32) time.Time { return time.Unix(int64(n)*86400, 0).UTC() }

// truth calls opts.Truth for every entity.
func (g *Generator) truth(ctx context.Context) error {
	var t Truth
	for i := range g.ents {
		e := &g.ents[i]
		z := float64(e.z)
		t = Truth{
			USCC:         g.uscc(int32(i), e),
			Kind:         kindNames[e.kind],
			Region:       g.reg.divs[e.div].code,
			Industry:     industries[e.ind].code,
			RegisteredOn: dayTime(e.reg),
			Z:            z,
			Risk:         math.Exp(logRisk(e.z)),
			Percentile:   phi(z),
			HitProb:      hitProb(e.z, e.kind, false),
		}
		if e.dereg != none {
			t.DeregisteredOn = dayTime(g.start + int32(e.dereg))
		}
		t.Tier4 = tierOf(t.Percentile, truthCuts4)
		t.Tier5 = tierOf(t.Percentile, truthCuts5)
		if err := g.opts.Truth(&t); err != nil {
			return err
		}
		if i&0xFFFF == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Stats counts what a run produced.
type Stats struct {
	Entities int
	// Events counts good lines; Bad counts bad lines by BadClasses index.
	Events int64
	Bad    [numBad]int64
	byType [numTypes]int64
	// Inspections and Hits count inspections and those with a finding
	// (any result but no_problem) by quintile of latent risk (0 lowest).
	Inspections, Hits [5]int64
}

// ByType returns the number of good events of each type, by wire name.
func (s *Stats) ByType() map[string]int64 {
	m := make(map[string]int64, numTypes)
	for t, n := range s.byType {
		if n > 0 {
			m[typeNames[t]] = n
		}
	}
	return m
}

// HitRate is the share of inspections with a finding, overall.
func (s *Stats) HitRate() float64 {
	var n, h int64
	for q := range s.Inspections {
		n += s.Inspections[q]
		h += s.Hits[q]
	}
	if n == 0 {
		return 0
	}
	return float64(h) / float64(n)
}

// Stats returns the counts of the run so far.
func (g *Generator) Stats() Stats { return g.stats }
