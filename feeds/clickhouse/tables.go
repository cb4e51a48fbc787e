package clickhouse

import "time"

// The sink's tables, each declared once (columns.go derives the DDL, the
// INSERT and the spool encoding from these lists). Column order is the
// ClickHouse column order and the spool field order: changing a list
// changes both, so it needs a new migration and a new spool format
// version (TestMigration1Unchanged and TestSpoolFormatGolden fail
// otherwise). Engine, partition and sorting keys follow the schema rules in
// schema.go.

var tableDefs = [numTables]tableSpec{
	tblApplied:        appliedEvents,
	tblRejected:       rejectedEvents,
	tblTierChanges:    tierChanges,
	tblDraws:          draws,
	tblDrawSelections: drawSelections,
	tblInspections:    inspections,
	// migration 2: model monitoring (monitoring.go)
	tblScoreBands:          scoreBands,
	tblChallengerAgreement: challengerAgreement,
	tblChallengerTiers:     challengerTiers,
}

// Short names of the row types, for the accessors below.
type (
	ae = AppliedEvent
	re = RejectedEvent
	tc = TierChange
	dr = Draw
	ds = DrawSelection
	in = Inspection
)

var appliedEvents = &tableDef[ae]{
	name:        "applied_events",
	engine:      "ReplacingMergeTree(seq)",
	partitionBy: "toYear(occurred_at)",
	orderBy:     "(uscc, event_id)",
	rows:        func(b *batch) *[]ae { return &b.applied },
	cols: []column[ae]{
		strCol[ae]{"event_id", func(r *ae) *string { return &r.EventID }},
		strCol[ae]{"uscc", func(r *ae) *string { return &r.USCC }},
		strCol[ae]{"type", func(r *ae) *string { return &r.Type }},
		timeCol[ae]{"occurred_at", "occurred_ms", func(r *ae) *time.Time { return &r.OccurredAt }},
		strCol[ae]{"authority", func(r *ae) *string { return &r.Authority }},
		strCol[ae]{"region", func(r *ae) *string { return &r.Region }},
		strCol[ae]{"attrs", func(r *ae) *string { return &r.Attrs }},
		timeCol[ae]{"applied_at", "applied_ms", func(r *ae) *time.Time { return &r.AppliedAt }},
		strCol[ae]{"source", func(r *ae) *string { return &r.Source }},
		u64Col[ae]{"seq", func(r *ae) *uint64 { return &r.Seq }},
	},
}

var rejectedEvents = &tableDef[re]{
	name:        "rejected_events",
	engine:      "ReplacingMergeTree",
	partitionBy: "toYear(at)",
	orderBy:     "(at, at_ms, source, reason, event_id, original_hash)",
	rows:        func(b *batch) *[]re { return &b.rejected },
	cols: []column[re]{
		timeCol[re]{"at", "at_ms", func(r *re) *time.Time { return &r.At }},
		strCol[re]{"source", func(r *re) *string { return &r.Source }},
		strCol[re]{"reason", func(r *re) *string { return &r.Reason }},
		strCol[re]{"detail", func(r *re) *string { return &r.Detail }},
		strCol[re]{"event_id", func(r *re) *string { return &r.EventID }},
		strCol[re]{"original", func(r *re) *string { return &r.Original }},
		derivedCol[re]{"original_hash", func(r *re) uint64 { return fnv64(r.Original) }},
	},
}

var tierChanges = &tableDef[tc]{
	name:        "tier_changes",
	engine:      "ReplacingMergeTree",
	partitionBy: "toYear(at)",
	orderBy:     "(uscc, at, at_ms, cause)",
	rows:        func(b *batch) *[]tc { return &b.tiers },
	cols: []column[tc]{
		strCol[tc]{"uscc", func(r *tc) *string { return &r.USCC }},
		strCol[tc]{"region", func(r *tc) *string { return &r.Region }},
		timeCol[tc]{"at", "at_ms", func(r *tc) *time.Time { return &r.At }},
		strCol[tc]{"old_tier", func(r *tc) *string { return &r.OldTier }},
		strCol[tc]{"new_tier", func(r *tc) *string { return &r.NewTier }},
		strCol[tc]{"scheme", func(r *tc) *string { return &r.Scheme }},
		i32Col[tc]{"score", func(r *tc) *int32 { return &r.Score }},
		strCol[tc]{"cause", func(r *tc) *string { return &r.Cause }},
	},
}

var draws = &tableDef[dr]{
	name:        "draws",
	engine:      "ReplacingMergeTree",
	partitionBy: "toYear(as_of)",
	orderBy:     "draw_id",
	rows:        func(b *batch) *[]dr { return &b.draws },
	cols: []column[dr]{
		strCol[dr]{"draw_id", func(r *dr) *string { return &r.DrawID }},
		strCol[dr]{"plan_id", func(r *dr) *string { return &r.PlanID }},
		timeCol[dr]{"as_of", "as_of_ms", func(r *dr) *time.Time { return &r.AsOf }},
		strCol[dr]{"scheme", func(r *dr) *string { return &r.Scheme }},
		strCol[dr]{"population_digest", func(r *dr) *string { return &r.PopulationDigest }},
		countCol[dr, uint64]{"eligible", func(r *dr) *int { return &r.Eligible }},
		countCol[dr, uint64]{"selected", func(r *dr) *int { return &r.Selected }},
		strCol[dr]{"record_json", func(r *dr) *string { return &r.RecordJSON }},
	},
}

var drawSelections = &tableDef[ds]{
	name:        "draw_selections",
	engine:      "ReplacingMergeTree",
	partitionBy: "toYear(as_of)",
	orderBy:     "(draw_id, uscc)",
	rows:        func(b *batch) *[]ds { return &b.selections },
	cols: []column[ds]{
		strCol[ds]{"draw_id", func(r *ds) *string { return &r.DrawID }},
		strCol[ds]{"plan_id", func(r *ds) *string { return &r.PlanID }},
		timeCol[ds]{"as_of", "as_of_ms", func(r *ds) *time.Time { return &r.AsOf }},
		strCol[ds]{"uscc", func(r *ds) *string { return &r.USCC }},
		strCol[ds]{"region", func(r *ds) *string { return &r.Region }},
		strCol[ds]{"tier", func(r *ds) *string { return &r.Tier }},
		strCol[ds]{"priority", func(r *ds) *string { return &r.Priority }},
		strsCol[ds]{"inspectors", func(r *ds) *[]string { return &r.Inspectors }},
		countCol[ds, uint32]{"unassigned", func(r *ds) *int { return &r.Unassigned }},
	},
}

var inspections = &tableDef[in]{
	name:        "inspections",
	engine:      "ReplacingMergeTree",
	partitionBy: "toYear(at)",
	orderBy:     "(uscc, event_id)",
	rows:        func(b *batch) *[]in { return &b.inspects },
	cols: []column[in]{
		strCol[in]{"event_id", func(r *in) *string { return &r.EventID }},
		strCol[in]{"uscc", func(r *in) *string { return &r.USCC }},
		strCol[in]{"region", func(r *in) *string { return &r.Region }},
		timeCol[in]{"at", "at_ms", func(r *in) *time.Time { return &r.At }},
		strCol[in]{"plan_id", func(r *in) *string { return &r.PlanID }},
		strCol[in]{"result", func(r *in) *string { return &r.Result }},
		strCol[in]{"tier_at_inspection", func(r *in) *string { return &r.TierAtInspection }},
		strCol[in]{"scheme", func(r *in) *string { return &r.Scheme }},
	},
}
