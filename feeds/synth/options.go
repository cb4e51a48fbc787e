package synth

import (
	"fmt"
	"math"
	"time"
)

// Limits on Options.
const (
	// MaxEntities bounds the population: organisation codes come from
	// bijections on 10^8 legacy codes and 31^6 "MA" codes, and entity
	// links are int32.
	MaxEntities = 50_000_000
	// MaxDays bounds the stream length: days inside the stream are kept
	// as uint16 offsets.
	MaxDays = 36_500
)

// DefaultEnd is the end of the stream when neither Options.Start nor
// Options.End is set. The library never reads the clock, so that output
// depends only on the options; callers that want a stream ending today
// (creditctl gen does by default) pass End explicitly.
var DefaultEnd = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Options configure Generate. The zero value is usable: EnsureDefaults
// fills every unset field.
type Options struct {
	// Entities is the number of entities in the stream: those registered
	// before Start (whose registered events open the stream) plus those
	// registering during it. Default 10,000; at most MaxEntities.
	Entities int
	// Days is the length of the live part of the stream in days. Default
	// 365; at most MaxDays.
	Days int
	// Seed selects the random world; 0 is a valid seed. Equal options give
	// byte-identical output.
	Seed uint64
	// Region is the two-digit GB/T 2260 province code. Default "37"
	// (Shandong, with its real divisions); other provinces get synthetic
	// divisions.
	Region string
	// Start is the first day of the live stream (UTC; truncated to the
	// day). Default: End minus Days.
	Start time.Time
	// End is the first day after the stream (exclusive; UTC, truncated to
	// the day): every event occurs before End 00:00 UTC. It is used only
	// when Start is zero, and then defaults to DefaultEnd. With Start set,
	// End is Start plus Days.
	End time.Time
	// BadRate is the probability that a deliberately invalid line follows
	// a good line (0 ≤ BadRate ≤ 1; default 0). Bad lines have ids
	// "BAD-<class>-NNNNNN" (see BadClasses) and test ingest paths.
	BadRate float64
	// ConsumerComplaints adds the consumer complaints to the 12315 platform
	// (consumer.go, README "Consumer complaints"). Off by default: the
	// built-in models' cut-offs were set on the province without them
	// (scoring/models/MODEL.md "Tier targets"), and the other events do
	// not change when it is switched on.
	ConsumerComplaints bool
	// Truth, when set, is called once per entity, in entity order, after
	// the last event: the hidden ground truth the stream was drawn from.
	// The *Truth is reused between calls.
	Truth func(*Truth) error
}

// EnsureDefaults fills unset fields with their defaults and normalises Start
// and End to whole UTC days, End = Start + Days.
func (o *Options) EnsureDefaults() {
	if o.Entities == 0 {
		o.Entities = 10_000
	}
	if o.Days == 0 {
		o.Days = 365
	}
	if o.Region == "" {
		o.Region = "37"
	}
	if o.Start.IsZero() {
		end := o.End
		if end.IsZero() {
			end = DefaultEnd
		}
		end = truncDay(end)
		o.Start = end.AddDate(0, 0, -o.Days)
	}
	o.Start = truncDay(o.Start)
	o.End = o.Start.AddDate(0, 0, o.Days)
}

// Validate reports the first invalid field after EnsureDefaults.
func (o *Options) Validate() error {
	switch {
	case o.Entities < 1 || o.Entities > MaxEntities:
		return fmt.Errorf("synth: entities %d out of range 1..%d", o.Entities, MaxEntities)
	case o.Days < 1 || o.Days > MaxDays:
		return fmt.Errorf("synth: days %d out of range 1..%d", o.Days, MaxDays)
	case math.IsNaN(o.BadRate) || o.BadRate < 0 || o.BadRate > 1:
		return fmt.Errorf("synth: bad rate %v out of range 0..1", o.BadRate)
	case o.Start.Year() < 1990 || o.End.Year() > 2150:
		return fmt.Errorf("synth: stream %s..%s outside 1990..2150", o.Start.Format(time.DateOnly), o.End.Format(time.DateOnly))
	}
	if _, ok := lookupProvince(o.Region); !ok {
		return fmt.Errorf("synth: region %q is not a GB/T 2260 province code", o.Region)
	}
	return nil
}

func truncDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
