package scoring

import (
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
)

// TestShippedCleanYears works the clean-years feature of the shipped models
// (MODEL.md "Clean years": CLEAN_YEARS, 4 points a year accrued by full
// quarter, i.e. 1 point a quarter, up to 10 years; counted from the later
// of registration and the latest adverse record, civil dates CST) and the
// shipped cut-offs (national-4 A ≥ 629, B ≥ 601, C ≥ 552; shandong-5
// A ≥ 639, B ≥ 616, C ≥ 601, D ≥ 552) by hand, on an entity with no other
// record and on one whose general penalty restarts the count.
func TestShippedCleanYears(t *testing.T) {
	type check struct {
		at         string
		score      int
		nat, shd   string
		cleanPts   int // CLEAN_YEARS reason's points, 0 = no such reason
		nextChange string
	}
	run := func(t *testing.T, scheme string, evs []*event.Event, checks []check) {
		m, err := DefaultModel(scheme)
		if err != nil {
			t.Fatal(err)
		}
		e, err := New(Options{Model: m, Now: func() time.Time { return time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC) }, Shards: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if _, err := e.Apply(ev, nil); err != nil {
				t.Fatalf("%s: %v", ev.ID, err)
			}
		}
		for _, c := range checks {
			at, _ := time.Parse(time.RFC3339, c.at)
			v, ok := e.Entity(evs[0].USCC, at, false)
			if !ok {
				t.Fatal("entity not found")
			}
			want := c.nat
			if scheme == "shandong-5" {
				want = c.shd
			}
			if v.Score != c.score || v.TierLabel != want {
				t.Errorf("%s at %s: score %d tier %s, want %d %s", scheme, c.at, v.Score, v.TierLabel, c.score, want)
			}
			pts := 0
			for _, r := range v.Reasons {
				if r.Code == "CLEAN_YEARS" {
					pts = r.Points
					if len(r.Records) != 0 {
						t.Errorf("%s at %s: CLEAN_YEARS cites records %v", scheme, c.at, r.Records)
					}
				}
			}
			if pts != c.cleanPts {
				t.Errorf("%s at %s: CLEAN_YEARS %+d points, want %+d", scheme, c.at, pts, c.cleanPts)
			}
			if c.nextChange != "" {
				if got := v.NextChange.UTC().Format(time.RFC3339); got != c.nextChange {
					t.Errorf("%s at %s: next change %s, want %s", scheme, c.at, got, c.nextChange)
				}
			}
		}
	}
	reg := func(code int, on civil.Date) *event.Event {
		return &event.Event{ID: "R", USCC: testCode(code), Type: event.TypeRegistered, Name: "n", Region: "370102",
			OccurredAt: on.Time(), RegisteredOn: on}
	}
	for _, scheme := range []string{"national-4", "shandong-5"} {
		// Registered 2020-03-10 (00:00 CST = 2020-03-09T16:00Z), nothing else.
		run(t, scheme, []*event.Event{reg(1, civil.MakeDate(2020, 3, 10))}, []check{
			{"2020-03-09T16:00:00Z", 600, "C", "D", 0, "2020-06-09T16:00:00Z"},
			{"2020-06-09T15:59:59Z", 600, "C", "D", 0, "2020-06-09T16:00:00Z"},
			{"2020-06-09T16:00:00Z", 601, "B", "C", 1, "2020-09-09T16:00:00Z"},  // first quarter
			{"2025-03-09T16:00:00Z", 620, "B", "B", 20, ""},                     // 5 years = 20 quarters
			{"2027-06-09T16:00:00Z", 629, "A", "B", 29, ""},                     // 29 quarters: national A
			{"2029-09-09T16:00:00Z", 638, "A", "B", 38, "2029-12-09T16:00:00Z"}, // 2020-03 + 114 months
			{"2029-12-09T16:00:00Z", 639, "A", "A", 39, "2030-03-09T16:00:00Z"}, // 39: Shandong A
			{"2030-03-09T16:00:00Z", 640, "A", "A", 40, "0001-01-01T00:00:00Z"}, // capped at 10 years
			{"2030-12-31T00:00:00Z", 640, "A", "A", 40, ""},
		})
		// Registered 2015-01-05; a general penalty on 2024-01-15 10:00 CST
		// (Order 58 regime: published 3 years, decays 100/60/30 %) restarts
		// the count from 2024-01-15; a clean inspection does not.
		pen := &event.Event{ID: "P1", USCC: testCode(2), Type: event.TypePenalty, Sub: event.SeverityGeneral,
			Authority: "A", OccurredAt: time.Date(2024, 1, 15, 2, 0, 0, 0, time.UTC)}
		insp := &event.Event{ID: "I1", USCC: testCode(2), Type: event.TypeInspection, Sub: event.ResultNoProblem,
			Authority: "A", PlanID: "37-2024-05", OccurredAt: time.Date(2024, 5, 6, 2, 0, 0, 0, time.UTC)}
		run(t, scheme, []*event.Event{reg(2, civil.MakeDate(2015, 1, 5)), pen, insp}, []check{
			// 2015-01-05 + 36 quarters = 2024-01-05 ≤ T: +36.
			{"2024-01-15T01:59:59Z", 636, "A", "B", 36, ""},
			// The penalty: −40, count restarts at 2024-01-15 00:00 CST.
			{"2024-01-15T02:00:00Z", 560, "C", "D", 0, "2024-04-14T16:00:00Z"},
			{"2024-04-14T16:00:00Z", 561, "C", "D", 1, ""},
			// The clean inspection: +10, no restart.
			{"2024-05-06T02:00:00Z", 571, "C", "D", 1, ""},
			// The penalty's first year ends 365 days later (2024 is a leap
			// year): 2025-01-14 02:00Z, −24 from then; 3 quarters so far.
			{"2025-01-14T01:59:59Z", 573, "C", "D", 3, "2025-01-14T02:00:00Z"},
			{"2025-01-14T02:00:00Z", 589, "C", "D", 3, "2025-01-14T16:00:00Z"},
			// 2025-01-15 00:00 CST: the fourth quarter.
			{"2025-01-14T16:00:00Z", 590, "C", "D", 4, "2025-04-14T16:00:00Z"},
		})
	}
}

// TestCleanYearsValidation: a clean_years feature needs a cap in years and
// no decay, window or latest-only; "registered" takes no other match.
func TestCleanYearsValidation(t *testing.T) {
	for _, c := range []struct {
		name   string
		modify func(*Feature)
		ok     bool
	}{
		{"shipped", func(*Feature) {}, true},
		{"negative points (a fit may find it)", func(f *Feature) { f.LogOdds, f.Points = 0.0693, -4 }, true},
		{"no cap", func(f *Feature) { f.MaxCount = 0 }, false},
		{"decay", func(f *Feature) { f.Decay = true }, false},
		{"window", func(f *Feature) { f.WindowDays = 365 }, false},
		{"latest only", func(f *Feature) { f.LatestOnly = true }, false},
		{"other match", func(f *Feature) { f.Match = "years" }, false},
	} {
		m, _ := DefaultModel("national-4")
		found := false
		for i := range m.Features {
			if m.Features[i].Code == "CLEAN_YEARS" {
				c.modify(&m.Features[i])
				found = true
			}
		}
		if !found {
			t.Fatal("no CLEAN_YEARS in the shipped model")
		}
		if err := m.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", c.name, err, c.ok)
		}
	}
}
