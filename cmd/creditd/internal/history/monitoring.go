package history

import (
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/monitor"
	chsink "github.com/creditrisk/creditd/feeds/clickhouse"
	"github.com/creditrisk/creditd/scoring"
)

// Monitored writes one scanned part of a model monitoring scan (the
// monitor's Export): the score bands of each model with a reference
// (score_bands), and with a challenger the agreement matrix
// (challenger_agreement) and the challenger's tiers with their inspection
// counts (challenger_tiers).
func (h *History) Monitored(at time.Time, part string, d *monitor.Doc) {
	bands := func(role string, md *monitor.ModelDoc) {
		for i, b := range md.Drift.Bands {
			h.add(h.sink.AddScoreBand(chsink.ScoreBand{ScannedAt: at, Part: part, Role: role, Model: md.Model, Band: i,
				Entities: int(b.Entities)}))
		}
	}
	bands("champion", &d.Champion)
	c := d.Challenger
	if c == nil {
		return
	}
	bands("challenger", c)
	a := d.Agreement
	for i, row := range a.Counts {
		for j, n := range row {
			h.add(h.sink.AddChallengerCell(chsink.ChallengerCell{ScannedAt: at, Part: part, ChampionModel: d.Champion.Model,
				ChallengerModel: c.Model, ChampionTier: a.ChampionTiers[i], ChallengerTier: a.ChallengerTiers[j], Entities: int(n)}))
		}
	}
	for _, t := range c.Tiers {
		h.add(h.sink.AddChallengerTier(chsink.ChallengerTier{ScannedAt: at, Part: part, ChallengerModel: c.Model, Tier: t.Tier,
			Entities: int(t.Entities), Inspections: int(deref(t.Inspections)), Found: int(deref(t.ProblemsFound)),
			Adverse: int(deref(t.Adverse))}))
	}
}

// driftQuery is the tier history's PSI of model m: against its reference,
// or a note when it has none (nil m: no PSI column).
func driftQuery(m *scoring.Model) *chsink.DriftQuery {
	if m == nil {
		return nil
	}
	ref := m.Reference
	if ref == nil {
		return &chsink.DriftQuery{Note: "the model artifact of " + m.Name() + " has no reference score distribution, so its drift cannot be measured"}
	}
	return &chsink.DriftQuery{Model: m.Name(), Bands: len(ref.Shares), PSI: func(counts []int64) float64 {
		return scoring.PSI(ref.Shares, scoring.Distribution(counts))
	}}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
