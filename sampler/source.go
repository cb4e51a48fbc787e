package sampler

import (
	"context"
	"fmt"
	"time"

	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// Unit is one market entity as the sampler sees it at a draw's as_of. The
// service adapts its scoring engine to Units; the sampler never sees more.
type Unit struct {
	USCC uscc.Code
	// Region is the 6-digit division code used for the population filter
	// (region_prefix) and inspector regions. It is usually the USCC's own
	// division (positions 3–8), but the adapter may use another code (for
	// example the division of the current address).
	Region [6]byte
	// Industry is the entity's industry code (GB/T 4754, the registered
	// event's industry attribute; "" if unknown) for the draw/v2
	// population filter industries.
	Industry string
	// Tier is the entity's tier as of the draw's as_of in the scheme in
	// force; tier.None leaves the entity out of the population (counted
	// in Stats.Excluded.Untiered and noted in the record's warnings).
	Tier tier.Tier
	// RegisteredAt is the unix time (seconds) of registration; entities
	// registered after as_of are not eligible.
	RegisteredAt int64
	// DeregisteredAt is the unix time (seconds) of deregistration, 0 = not
	// deregistered. An entity deregistered at or before as_of is not eligible.
	DeregisteredAt int64
	// Inspections are the entity's inspections (from inspection events) at
	// or before as_of, newest first; may be nil. They count towards
	// exclude_selected_within_days and max_inspections_per_year.
	Inspections []Inspection
}

// Inspection is one inspection of an entity.
type Inspection struct {
	// At is the unix time (seconds) of the inspection.
	At int64
	// PlanID is the plan the inspection belonged to, "" if none. An
	// inspection whose plan selected the entity in a draw counts as one
	// occasion with that selection (see Ledger).
	PlanID string
}

// Source is the population a draw is taken from. Scan calls fn for every
// registered entity of partition part as of asOf, in any order; partitions
// are disjoint and may be scanned concurrently.
//
// A ratio draw scans the source once (the single pass defines the
// population and the sample); a budget draw, or a ratio draw whose single
// pass could not prove its sample (an 8-sigma event), scans it twice: a
// counting pass (stratum sizes, entities per USCC prefix) and a selection
// pass, which alone defines the population and the sample. The source
// should therefore present a stable view for a given asOf (a snapshot, or
// tiers as of a past instant). If the two passes
// disagree on the counts, the draw repeats them (Options.MaxPasses) and then
// fails with ErrPopulationChanged; it never publishes an inconsistent record.
type Source interface {
	// Partitions is the number of independent partitions.
	Partitions() int
	// Scan calls fn for each unit of partition part; fn must not retain
	// the *Unit (the source may reuse it). Scan stops and returns fn's
	// error, or ctx's error when ctx is done.
	Scan(ctx context.Context, part int, asOf time.Time, fn func(*Unit) error) error
}

// SchemeSource is a Source that names the tier scheme of its units' tiers.
// When the Source implements it, the sampler uses that scheme instead of
// Options.Scheme.
type SchemeSource interface {
	Source
	TierScheme() *tier.Scheme
}

// MemSource is a Source over units held in memory, split into Parts
// contiguous partitions (Parts ≤ 0 means one). It serves tests, benchmarks
// and offline draws (creditctl draw run). Scheme, when set, makes it a
// SchemeSource.
type MemSource struct {
	Units  []Unit
	Parts  int
	Scheme *tier.Scheme
}

// Partitions implements Source.
func (m *MemSource) Partitions() int { return max(m.Parts, 1) }

// Scan implements Source. The units are passed as they are; asOf is not
// applied (the sampler applies registration dates and inspection times).
func (m *MemSource) Scan(ctx context.Context, part int, _ time.Time, fn func(*Unit) error) error {
	p := m.Partitions()
	if part < 0 || part >= p {
		return fmt.Errorf("partition %d out of range [0,%d)", part, p)
	}
	lo, hi := len(m.Units)*part/p, len(m.Units)*(part+1)/p
	for i := lo; i < hi; i++ {
		if i&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := fn(&m.Units[i]); err != nil {
			return err
		}
	}
	return nil
}

// TierScheme implements SchemeSource; nil means "not said".
func (m *MemSource) TierScheme() *tier.Scheme { return m.Scheme }
