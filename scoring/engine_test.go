package scoring

import (
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/tier"
)

// Tier changes report entering and leaving the population, each dated by
// its cause, including a deregistration that takes effect later (sweep).
func TestTierChangesEnterLeave(t *testing.T) {
	clock := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	m := rulesModel(t, "national-4") // hand-worked against the fixture's cut-offs (fixture_test.go)
	e, _ := New(Options{Model: m, Now: func() time.Time { return clock }, Shards: 2})
	c := testCode(7)
	reg := &event.Event{ID: "R", USCC: c, Type: event.TypeRegistered, OccurredAt: clock.Add(-48 * time.Hour),
		Name: "n", Region: "370102", RegisteredOn: civil.MakeDate(2026, 4, 29)}
	res, err := e.Apply(reg, nil)
	if err != nil || res.NChanges != 1 || res.Changes[0].From != tier.None || res.Changes[0].To != 1 ||
		res.Changes[0].Cause != "R" || !res.Changes[0].At.Equal(reg.OccurredAt) {
		t.Fatalf("registration: %+v %v", res, err)
	}
	pen := &event.Event{ID: "P", USCC: c, Type: event.TypePenalty, Sub: event.SeveritySerious, Authority: "A",
		OccurredAt: clock.Add(-time.Hour)}
	res, _ = e.Apply(pen, nil)
	if res.NChanges != 1 || res.Changes[0].From != 1 || res.Changes[0].To != 2 || res.Changes[0].Cause != "P" {
		t.Fatalf("penalty: %+v", res)
	}
	// A deregistration 12 hours ahead (within the 24-hour allowance).
	dereg := &event.Event{ID: "D", USCC: c, Type: event.TypeDeregistered, Authority: "A", OccurredAt: clock.Add(12 * time.Hour)}
	res, _ = e.Apply(dereg, nil)
	if res.NChanges != 0 {
		t.Fatalf("future deregistration changed the tier now: %+v", res)
	}
	var got []TierChange
	clock = clock.Add(13 * time.Hour)
	e.Advance(clock, func(tc TierChange) { got = append(got, tc) })
	if len(got) != 1 || got[0].To != tier.None || got[0].From != 2 || got[0].Cause != "D" || !got[0].At.Equal(dereg.OccurredAt) {
		t.Fatalf("sweep after deregistration: %+v", got)
	}
	// Events about a deregistered entity change its record, not the population.
	insp := &event.Event{ID: "I", USCC: c, Type: event.TypeInspection, Sub: event.ResultProblemFound, Authority: "A", OccurredAt: clock.Add(-time.Hour)}
	if res, _ = e.Apply(insp, nil); res.NChanges != 0 {
		t.Fatalf("change reported for a deregistered entity: %+v", res)
	}
}
