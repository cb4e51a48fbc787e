package scoring

import (
	"context"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
)

// An entity does not exist before its registration (00:00 CST of
// registered_on, the instant draws use for eligibility): Entity answers
// not found and TierStats does not count it; from its deregistration on it
// is not counted either. Entity, TierStats and Scan (filtered as draws
// filter it) agree at every boundary instant.
func TestAsOfBeforeRegistration(t *testing.T) {
	clock := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	m, _ := DefaultModel("national-4")
	e, err := New(Options{Model: m, Now: func() time.Time { return clock }, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	a, b, x := testCode(1), testCode(2), testCode(3)
	regA := civil.MakeDate(2020, 3, 10) // 2020-03-10 00:00 CST = 2020-03-09 16:00 UTC
	regB := civil.MakeDate(2019, 1, 1)
	deregB := time.Date(2021, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, ev := range []*event.Event{
		// A's registration arrives late (recorded in 2024 for a 2020 registration).
		{ID: "RA", USCC: a, Type: event.TypeRegistered, OccurredAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
			Name: "a", Region: "370102", RegisteredOn: regA},
		{ID: "RB", USCC: b, Type: event.TypeRegistered, OccurredAt: regB.Time().Add(time.Hour), Name: "b", Region: "370102", RegisteredOn: regB},
		{ID: "DB", USCC: b, Type: event.TypeDeregistered, Authority: "A", OccurredAt: deregB},
		// X has records but no registration: never counted, still described.
		{ID: "PX", USCC: x, Type: event.TypePenalty, Sub: event.SeveritySerious, Authority: "A", OccurredAt: time.Date(2019, 5, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if _, err := e.Apply(ev, nil); err != nil {
			t.Fatalf("%s: %v", ev.ID, err)
		}
	}
	regAt := time.Unix(regA.Unix(), 0)
	if want := time.Date(2020, 3, 9, 16, 0, 0, 0, time.UTC); !regAt.Equal(want) {
		t.Fatalf("registration instant %v, want %v", regAt, want)
	}
	cases := []struct {
		name        string
		at          time.Time
		aExists     bool
		bExists     bool // B answers (registered by then, deregistered or not)
		wantCounted int  // registered, not deregistered
		bDereg      bool
	}{
		{"year 1000", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), false, false, 0, false},
		{"B's registration instant - 1ns", time.Unix(regB.Unix(), 0).Add(-time.Nanosecond), false, false, 0, false},
		{"B's registration instant", time.Unix(regB.Unix(), 0), false, true, 1, false},
		{"a day before A's registration", regAt.Add(-24 * time.Hour), false, true, 1, false},
		{"1s before A's registration", regAt.Add(-time.Second), false, true, 1, false},
		{"1ns before A's registration", regAt.Add(-time.Nanosecond), false, true, 1, false},
		{"A's registration instant", regAt, true, true, 2, false},
		{"1ns after A's registration", regAt.Add(time.Nanosecond), true, true, 2, false},
		{"A's registration day in UTC, before 16:00", time.Date(2020, 3, 9, 15, 59, 59, 0, time.UTC), false, true, 1, false},
		{"1ns before B's deregistration", deregB.Add(-time.Nanosecond), true, true, 2, false},
		{"B's deregistration", deregB, true, true, 1, true},
		{"now", clock, true, true, 1, true},
	}
	for _, tc := range cases {
		va, okA := e.Entity(a, tc.at, true)
		vb, okB := e.Entity(b, tc.at, false)
		if okA != tc.aExists || okB != tc.bExists {
			t.Errorf("%s: Entity found A %v B %v, want %v %v", tc.name, okA, okB, tc.aExists, tc.bExists)
		}
		if okA && (!va.Registered || va.Deregistered) {
			t.Errorf("%s: A %+v", tc.name, va)
		}
		if okB && vb.Deregistered != tc.bDereg {
			t.Errorf("%s: B deregistered %v, want %v", tc.name, vb.Deregistered, tc.bDereg)
		}
		if _, ok := e.Entity(x, tc.at, false); !ok {
			t.Errorf("%s: X (no registration) not found", tc.name)
		}
		st, err := e.TierStats(context.Background(), tc.at, "")
		if err != nil {
			t.Fatal(err)
		}
		perTier := 0
		for _, ts := range st.Tiers {
			perTier += ts.Entities
		}
		if st.Entities != tc.wantCounted || perTier != tc.wantCounted {
			t.Errorf("%s: TierStats counts %d (tiers %d), want %d", tc.name, st.Entities, perTier, tc.wantCounted)
		}
		// Scan, filtered as draws filter it, counts the same.
		scanned := 0
		for p := 0; p < e.Shards(); p++ {
			_ = e.Scan(context.Background(), p, tc.at, ScanOptions{}, func(u *EntityAt) error {
				if u.Registered && u.RegisteredOn.Unix() <= tc.at.Unix() && !u.Deregistered {
					scanned++
				}
				return nil
			})
		}
		if scanned != tc.wantCounted {
			t.Errorf("%s: Scan counts %d, want %d", tc.name, scanned, tc.wantCounted)
		}
	}
}
