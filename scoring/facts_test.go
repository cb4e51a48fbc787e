package scoring

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/tier"
)

// The facts Apply returns are what a second query would answer, worked
// out by hand: the region (registered, else the USCC's division) and the
// tier an inspection found (just before it, with later-arriving but
// earlier-dated events counted; domain.md §8).
func TestApplyFactsByHand(t *testing.T) {
	clock := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	m := rulesModel(t, "national-4") // hand-worked against the fixture's cut-offs (fixture_test.go)
	e, _ := New(Options{Model: m, Now: func() time.Time { return clock }, Shards: 2})
	c := testCode(7) // 91370007…: division 370007
	apply := func(ev *event.Event) Result {
		t.Helper()
		res, err := e.Apply(ev, nil)
		if err != nil || res.Outcome != Applied {
			t.Fatalf("%s: %v %v", ev.ID, res.Outcome, err)
		}
		return res
	}
	// Before its registration an entity's region is its USCC's division.
	i0 := apply(&event.Event{ID: "I0", USCC: c, Type: event.TypeInspection, Sub: event.ResultNoProblem, Authority: "A",
		OccurredAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	if i0.Region != "370007" || i0.InspectedTier != 1 {
		t.Fatalf("unregistered inspection: %+v, want region 370007 and tier 1 (A: base score, not yet registered)", i0.Facts)
	}
	reg := apply(&event.Event{ID: "R", USCC: c, Type: event.TypeRegistered, OccurredAt: clock.Add(-48 * time.Hour),
		Name: "n", Region: "370102", RegisteredOn: civil.MakeDate(2020, 4, 29)})
	if reg.Region != "370102" || reg.InspectedTier != tier.None {
		t.Fatalf("registration: %+v, want region 370102 and no inspected tier", reg.Facts)
	}
	// A serious penalty on 2026-04-01 raises the tier to 2 (B).
	pen := apply(&event.Event{ID: "P", USCC: c, Type: event.TypePenalty, Sub: event.SeveritySerious, Authority: "A",
		OccurredAt: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)})
	if pen.NChanges != 1 || pen.Changes[0].To != 2 || pen.Region != "370102" || pen.InspectedTier != tier.None {
		t.Fatalf("penalty: %+v", pen)
	}
	// Inspections one second after and exactly at the penalty: the first
	// found tier 2, the second (evaluated at 1 s before) still tier 1, though
	// its own finding then raises the tier now.
	after := apply(&event.Event{ID: "I1", USCC: c, Type: event.TypeInspection, Sub: event.ResultProblemFound, Authority: "A",
		OccurredAt: time.Date(2026, 4, 1, 0, 0, 1, 0, time.UTC)})
	at := apply(&event.Event{ID: "I2", USCC: c, Type: event.TypeInspection, Sub: event.ResultProblemFound, Authority: "A",
		OccurredAt: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)})
	if after.InspectedTier != 2 || at.InspectedTier != 1 {
		t.Fatalf("inspections around the penalty: after %+v, at %+v; want tiers 2 and 1", after, at)
	}
	// A duplicate or a rejection carries no facts.
	if res, _ := e.Apply(&event.Event{ID: "P", USCC: c, Type: event.TypePenalty, Sub: event.SeveritySerious, Authority: "A",
		OccurredAt: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}, nil); res.Outcome != Duplicate || res.Facts != (Facts{}) {
		t.Fatalf("duplicate: %+v", res)
	}
}

// Over random histories applied in time order (the entity's cache covers
// the instant before an inspection) and shuffled (it often does not), the
// facts equal what Entity and TierAt answer right after the apply.
func TestPropertyApplyFactsMatchQueries(t *testing.T) {
	for trial := range 4 {
		r := rand.New(rand.NewPCG(uint64(trial), 23))
		evs := genEvents(r, 300)
		if trial%2 == 0 {
			evs = shuffleTopo(r, evs)
		} else {
			// Time order keeps every ref after its target.
			slices.SortStableFunc(evs, func(a, b *event.Event) int { return a.OccurredAt.Compare(b.OccurredAt) })
		}
		e := newTestEngine(t, "national-4")
		var covered, evaluated int
		for _, ev := range evs {
			T := ev.OccurredAt.Unix() - 1
			if ev.Type == event.TypeInspection {
				if s, idx, ok := e.rlockEntity(ev.USCC); ok {
					if cacheValid(s.ent(idx), T) {
						covered++
					} else {
						evaluated++
					}
					s.mu.RUnlock()
				} else {
					evaluated++
				}
			}
			res, err := e.Apply(ev, nil)
			if err != nil || res.Outcome != Applied {
				t.Fatalf("trial %d: %s %s: %v %v", trial, ev.ID, ev.Type, res.Outcome, err)
			}
			v, ok := e.Entity(ev.USCC, testNow, false)
			if !ok || res.Region != v.Region || res.Region == "" {
				t.Fatalf("trial %d: %s: region %q, Entity says %q", trial, ev.ID, res.Region, v.Region)
			}
			want := tier.None
			if ev.Type == event.TypeInspection {
				want, _, _ = e.TierAt(ev.USCC, ev.OccurredAt.Add(-time.Second))
			}
			if res.InspectedTier != want {
				t.Fatalf("trial %d: %s %s at %s: inspected tier %d, TierAt says %d", trial, ev.ID, ev.Type, ev.OccurredAt, res.InspectedTier, want)
			}
		}
		if covered == 0 || evaluated == 0 {
			t.Fatalf("trial %d: %d inspections answered from the cache, %d evaluated: both paths must be exercised", trial, covered, evaluated)
		}
	}
}
