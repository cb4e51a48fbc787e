package clickhouse

import (
	"errors"
	"fmt"
	"time"
)

// The row types below are the sink's own: it does not import the scoring
// engine or the sampler. Times are stored in ClickHouse as DateTime('UTC')
// (whole seconds) plus a UInt16 milliseconds column, so a time round-trips
// with millisecond precision. Every time must lie in [1970-01-01, 2106-01-01),
// the range of ClickHouse's DateTime; Add* refuses rows outside it rather than
// letting one row poison a whole insert.

// AppliedEvent is one credit event the engine applied (table applied_events).
type AppliedEvent struct {
	// EventID is the event's id (credit-event/v1 "id"); required.
	EventID string
	// USCC is the entity's unified social credit code; required.
	USCC string
	// Type is the event type ("penalty", "inspection", ...).
	Type string
	// OccurredAt is when it happened in the world; required.
	OccurredAt time.Time
	// Authority is the issuing department.
	Authority string
	// Region is the entity's 6-digit administrative division code.
	Region string
	// Attrs is the event's attrs object as raw JSON text.
	Attrs string
	// AppliedAt is when the engine applied it; required.
	AppliedAt time.Time
	// Source names where it came from: "http", "file:<path>:<line>",
	// "kafka:<topic>/<partition>@<offset>".
	Source string
	// Seq is the event's position in the durable log. It is the
	// ReplacingMergeTree version: re-inserting an event keeps the row with
	// the highest Seq.
	Seq uint64
}

// RejectedEvent is one input that was not applied (table rejected_events):
// the dead-letter record.
type RejectedEvent struct {
	// At is when it was rejected; a zero At is replaced by the time of Add
	// (a dead letter is never refused for lack of a timestamp).
	At time.Time
	// Source names where it came from (as AppliedEvent.Source).
	Source string
	// Reason is the machine-readable reason ("invalid_uscc", "duplicate", ...).
	Reason string
	// Detail is the human-readable explanation.
	Detail string
	// EventID is the event's id if one could be read, else "".
	EventID string
	// Original is the original input bytes, verbatim.
	Original string
}

// TierChange is one change of an entity's tier (table tier_changes).
type TierChange struct {
	// USCC is the entity; required.
	USCC string
	// Region is the entity's 6-digit administrative division code.
	Region string
	// At is when the new tier took effect; required. It should be a
	// deterministic function of the cause (the event's occurred_at or the
	// time rule's due instant), so that replaying the log yields identical
	// rows, which then deduplicate.
	At time.Time
	// OldTier and NewTier are tier labels; "" when the entity had no tier
	// before (first tier) or has none after (deregistered).
	OldTier, NewTier string
	// Scheme is the tier scheme id ("national-4", "shandong-5").
	Scheme string
	// Score is the entity's risk score after the change.
	Score int32
	// Cause is the id of the event that caused the change, or
	// "time:<rule>" for a change made by a time rule.
	Cause string
}

// Draw is one published inspection draw (table draws).
type Draw struct {
	// DrawID identifies the draw; required.
	DrawID string
	// PlanID is the regulator's plan id.
	PlanID string
	// AsOf is the draw's as_of instant; required.
	AsOf time.Time
	// Scheme is the tier scheme id.
	Scheme string
	// PopulationDigest is the lowercase hex SHA-256 of the population lines.
	PopulationDigest string
	// Eligible and Selected are the population and sample sizes.
	Eligible, Selected int
	// RecordJSON is the whole draw/v1 record as published.
	RecordJSON string
}

// DrawSelection is one selected entity of a draw (table draw_selections).
type DrawSelection struct {
	// DrawID, PlanID and AsOf repeat the draw's; DrawID and AsOf are required.
	DrawID, PlanID string
	AsOf           time.Time
	// USCC is the selected entity; required.
	USCC string
	// Region is the 6-digit division code used for inspector regions.
	Region string
	// Tier is the entity's tier label as of AsOf.
	Tier string
	// Priority is the selection priority, lowercase hex.
	Priority string
	// Inspectors are the assigned inspector ids in rank order.
	Inspectors []string
	// Unassigned is how many inspectors could not be assigned.
	Unassigned int
}

// Inspection is one inspection outcome (table inspections), the input of
// the hit-rate statistics.
type Inspection struct {
	// EventID is the id of the inspection event; required.
	EventID string
	// USCC is the inspected entity; required.
	USCC string
	// Region is the entity's 6-digit administrative division code.
	Region string
	// At is when the inspection happened (the event's occurred_at); required.
	At time.Time
	// PlanID is the inspection plan ("" if none).
	PlanID string
	// Result is the credit-event/v1 result: no_problem, corrected,
	// problem_found, refused or unreachable.
	Result string
	// TierAtInspection is the entity's tier label just before the
	// inspection was applied ("" if it had none).
	TierAtInspection string
	// Scheme is the tier scheme id of TierAtInspection.
	Scheme string
}

// Inspection results of credit-event/v1.
const (
	ResultNoProblem    = "no_problem"
	ResultCorrected    = "corrected"
	ResultProblemFound = "problem_found"
	ResultRefused      = "refused"
	ResultUnreachable  = "unreachable"
)

// table identifies one of the sink's tables.
type table uint8

const (
	tblApplied table = iota
	tblRejected
	tblTierChanges
	tblDraws
	tblDrawSelections
	tblInspections
	tblScoreBands
	tblChallengerAgreement
	tblChallengerTiers
	numTables
)

// tableNames are the tables' names (declared in tables.go) by table.
var tableNames = func() (names [numTables]string) {
	for t, d := range tableDefs {
		names[t] = d.tableName()
	}
	return names
}()

func (t table) String() string {
	if t < numTables {
		return tableNames[t]
	}
	return fmt.Sprintf("table(%d)", t)
}

// Tables lists the names of the tables the sink writes, in a fixed order.
func Tables() []string { return append([]string(nil), tableNames[:]...) }

var (
	minTime = time.Unix(0, 0)
	// maxTime is exclusive; ClickHouse's DateTime ends on 2106-02-07.
	maxTime = time.Date(2106, 1, 1, 0, 0, 0, 0, time.UTC)
)

// ErrInvalidRow wraps every validation error of Add*.
var ErrInvalidRow = errors.New("clickhouse sink: invalid row")

func checkTime(field string, t time.Time) error {
	if t.IsZero() {
		return fmt.Errorf("%w: %s is missing", ErrInvalidRow, field)
	}
	if t.Before(minTime) || !t.Before(maxTime) {
		return fmt.Errorf("%w: %s %s is outside [1970-01-01, 2106-01-01)", ErrInvalidRow, field, t.UTC().Format(time.RFC3339))
	}
	return nil
}

func checkRequired(field, v string) error {
	if v == "" {
		return fmt.Errorf("%w: %s is empty", ErrInvalidRow, field)
	}
	return nil
}

func (r *AppliedEvent) validate() error {
	return errors.Join(checkRequired("event id", r.EventID), checkRequired("uscc", r.USCC),
		checkTime("occurred_at", r.OccurredAt), checkTime("applied_at", r.AppliedAt))
}

func (r *RejectedEvent) validate(now time.Time) error {
	if r.At.IsZero() {
		r.At = now
	}
	return checkTime("at", r.At)
}

func (r *TierChange) validate() error {
	return errors.Join(checkRequired("uscc", r.USCC), checkTime("at", r.At))
}

func (r *Draw) validate() error {
	return errors.Join(checkRequired("draw id", r.DrawID), checkTime("as_of", r.AsOf))
}

func (r *DrawSelection) validate() error {
	return errors.Join(checkRequired("draw id", r.DrawID), checkRequired("uscc", r.USCC), checkTime("as_of", r.AsOf))
}

func (r *Inspection) validate() error {
	return errors.Join(checkRequired("event id", r.EventID), checkRequired("uscc", r.USCC), checkTime("at", r.At))
}

// splitTime returns t as whole UTC seconds and its millisecond part, the
// DateTime('UTC') + UInt16 pair every table stores.
func splitTime(t time.Time) (time.Time, uint16) {
	ms := t.UnixMilli()
	sec := ms / 1000
	return time.Unix(sec, 0).UTC(), uint16(ms - sec*1000)
}
