package clickhouse

import (
	"errors"
	"time"
)

// Model monitoring rows (creditd's periodic monitoring scan, domain.md
// §8): the score distribution of each model over its reference's bands
// (drift), the agreement of a challenger with the champion and the
// challenger's inspection counts per tier. Every scan writes one row per
// band, cell and tier for each scanned part: "local" in local mode, "p<N>"
// for Kafka partition N, so that the scans of one month are summed over
// parts by taking each part's latest scan (a partition that moved between
// members is still counted once).

// ScoreBand is one band of one model's score distribution in one scan
// (table score_bands).
type ScoreBand struct {
	ScannedAt time.Time
	// Part is the scanned part: "local" or "p<N>".
	Part string
	// Role is "champion" or "challenger"; Model its identity.
	Role, Model string
	// Band is the index of the band of the model's reference.
	Band     int
	Entities int
}

// ChallengerCell is one cell of the agreement matrix of one scan (table
// challenger_agreement).
type ChallengerCell struct {
	ScannedAt                      time.Time
	Part                           string
	ChampionModel, ChallengerModel string
	ChampionTier, ChallengerTier   string
	Entities                       int
}

// ChallengerTier is one challenger tier's counts in one scan (table
// challenger_tiers): entities, and inspections under the tier the
// challenger gave the entity just before each (problems_found =
// problem_found + corrected; adverse = every result but no_problem).
type ChallengerTier struct {
	ScannedAt                             time.Time
	Part                                  string
	ChallengerModel, Tier                 string
	Entities, Inspections, Found, Adverse int
}

func (r *ScoreBand) validate() error {
	return errors.Join(checkTime("scanned_at", r.ScannedAt), checkRequired("part", r.Part), checkRequired("model", r.Model))
}

func (r *ChallengerCell) validate() error {
	return errors.Join(checkTime("scanned_at", r.ScannedAt), checkRequired("part", r.Part), checkRequired("challenger model", r.ChallengerModel))
}

func (r *ChallengerTier) validate() error {
	return errors.Join(checkTime("scanned_at", r.ScannedAt), checkRequired("part", r.Part), checkRequired("challenger model", r.ChallengerModel))
}

type (
	sb = ScoreBand
	cc = ChallengerCell
	ct = ChallengerTier
)

var scoreBands = &tableDef[sb]{
	name:        "score_bands",
	engine:      "ReplacingMergeTree",
	partitionBy: "toYear(scanned_at)",
	orderBy:     "(model, role, part, scanned_at, scanned_ms, band)",
	rows:        func(b *batch) *[]sb { return &b.bands },
	cols: []column[sb]{
		timeCol[sb]{"scanned_at", "scanned_ms", func(r *sb) *time.Time { return &r.ScannedAt }},
		strCol[sb]{"part", func(r *sb) *string { return &r.Part }},
		strCol[sb]{"role", func(r *sb) *string { return &r.Role }},
		strCol[sb]{"model", func(r *sb) *string { return &r.Model }},
		countCol[sb, uint32]{"band", func(r *sb) *int { return &r.Band }},
		countCol[sb, uint64]{"entities", func(r *sb) *int { return &r.Entities }},
	},
}

var challengerAgreement = &tableDef[cc]{
	name:        "challenger_agreement",
	engine:      "ReplacingMergeTree",
	partitionBy: "toYear(scanned_at)",
	orderBy:     "(challenger_model, part, scanned_at, scanned_ms, champion_tier, challenger_tier)",
	rows:        func(b *batch) *[]cc { return &b.cells },
	cols: []column[cc]{
		timeCol[cc]{"scanned_at", "scanned_ms", func(r *cc) *time.Time { return &r.ScannedAt }},
		strCol[cc]{"part", func(r *cc) *string { return &r.Part }},
		strCol[cc]{"champion_model", func(r *cc) *string { return &r.ChampionModel }},
		strCol[cc]{"challenger_model", func(r *cc) *string { return &r.ChallengerModel }},
		strCol[cc]{"champion_tier", func(r *cc) *string { return &r.ChampionTier }},
		strCol[cc]{"challenger_tier", func(r *cc) *string { return &r.ChallengerTier }},
		countCol[cc, uint64]{"entities", func(r *cc) *int { return &r.Entities }},
	},
}

var challengerTiers = &tableDef[ct]{
	name:        "challenger_tiers",
	engine:      "ReplacingMergeTree",
	partitionBy: "toYear(scanned_at)",
	orderBy:     "(challenger_model, part, scanned_at, scanned_ms, tier)",
	rows:        func(b *batch) *[]ct { return &b.challTiers },
	cols: []column[ct]{
		timeCol[ct]{"scanned_at", "scanned_ms", func(r *ct) *time.Time { return &r.ScannedAt }},
		strCol[ct]{"part", func(r *ct) *string { return &r.Part }},
		strCol[ct]{"challenger_model", func(r *ct) *string { return &r.ChallengerModel }},
		strCol[ct]{"tier", func(r *ct) *string { return &r.Tier }},
		countCol[ct, uint64]{"entities", func(r *ct) *int { return &r.Entities }},
		countCol[ct, uint64]{"inspections", func(r *ct) *int { return &r.Inspections }},
		countCol[ct, uint64]{"problems_found", func(r *ct) *int { return &r.Found }},
		countCol[ct, uint64]{"adverse", func(r *ct) *int { return &r.Adverse }},
	},
}

// AddScoreBand queues a score band row (see AddAppliedEvent).
func (s *Sink) AddScoreBand(r ScoreBand) error {
	return addRow(s, tblScoreBands, &r, r.validate)
}

// AddChallengerCell queues an agreement cell (see AddAppliedEvent).
func (s *Sink) AddChallengerCell(r ChallengerCell) error {
	return addRow(s, tblChallengerAgreement, &r, r.validate)
}

// AddChallengerTier queues a challenger tier row (see AddAppliedEvent).
func (s *Sink) AddChallengerTier(r ChallengerTier) error {
	return addRow(s, tblChallengerTiers, &r, r.validate)
}

// addRow validates r and appends it to t's open batch.
func addRow[R any](s *Sink, t table, r *R, validate func() error) error {
	if err := validate(); err != nil {
		return err
	}
	b, err := s.begin(t)
	if err != nil {
		return err
	}
	rows := tableDefs[t].(*tableDef[R]).rows(b)
	*rows = append(*rows, *r)
	s.end(b)
	return nil
}
