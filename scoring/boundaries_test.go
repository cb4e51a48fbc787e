package scoring

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/uscc"
)

// Exact boundaries of the shipped models, worked out by hand from
// scoring/models/MODEL.md ("Tiers", "Decay") and domain.md §4–§5: the
// expected values are literals, not read from the model files the code
// uses.

// TestShippedTierCutoffs: the score exactly at each cut-off and one point
// either side (MODEL.md "Tiers", set by creditctl model cutoffs to the tier
// targets on the demo province: national-4 A ≥ 629, B 601–628, C 552–600,
// D < 552; shandong-5 A ≥ 639, B 616–638, C 601–615, D 552–600, E < 552).
// An entity with nothing on record (600) is C nationally and D in Shandong
// until its first clean quarter (601).
func TestShippedTierCutoffs(t *testing.T) {
	for _, c := range []struct {
		scheme string
		want   map[int32]string
	}{
		{"national-4", map[int32]string{
			900: "A", 630: "A", 629: "A", 628: "B",
			602: "B", 601: "B", 600: "C",
			553: "C", 552: "C", 551: "D", 300: "D",
		}},
		{"shandong-5", map[int32]string{
			900: "A", 640: "A", 639: "A", 638: "B",
			617: "B", 616: "B", 615: "C",
			602: "C", 601: "C", 600: "D",
			553: "D", 552: "D", 551: "E", 300: "E",
		}},
	} {
		m, err := DefaultModel(c.scheme)
		if err != nil {
			t.Fatal(err)
		}
		cm, err := compile(m)
		if err != nil {
			t.Fatal(err)
		}
		for score, want := range c.want {
			if got := cm.scheme.Label(cm.tierOf(score)); got != want {
				t.Errorf("%s: score %d → tier %s, want %s", c.scheme, score, got, want)
			}
		}
	}
}

// TestShippedDecaySteps: 100 % in the first year, 60 % in the second, 30 %
// in the third, 0 from day 1,096 (MODEL.md "Decay"), ages in seconds since
// the record's instant.
func TestShippedDecaySteps(t *testing.T) {
	const day = 86400
	for _, scheme := range []string{"national-4", "shandong-5"} {
		m, err := DefaultModel(scheme)
		if err != nil {
			t.Fatal(err)
		}
		cm, _ := compile(m)
		for _, c := range []struct {
			age        int64
			permille   int
			nextStepAt int64
		}{
			{0, 1000, 365 * day},
			{365*day - 1, 1000, 365 * day},
			{365 * day, 600, 730 * day},
			{730*day - 1, 600, 730 * day},
			{730 * day, 300, 1096 * day},
			{1096*day - 1, 300, 1096 * day},
			{1096 * day, 0, -1},
		} {
			p, next := cm.decayPermille(c.age)
			if p != c.permille || next != c.nextStepAt {
				t.Errorf("%s: age %ds: permille %d next %d, want %d %d", scheme, c.age, p, next, c.permille, c.nextStepAt)
			}
		}
	}
}

// boundaryEngine is a test engine whose clock is far after every event
// here, so that 2027 repairs are not in the future.
func boundaryEngine(t *testing.T, scheme string) *Engine {
	t.Helper()
	m := rulesModel(t, scheme) // fixture_test.go
	e, err := New(Options{Model: m, Now: func() time.Time { return time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC) }, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

const boundaryUSCC = "914403001922038216" // domain.md §1.6: Huawei, valid

func applyLine(t *testing.T, e *Engine, line string) error {
	t.Helper()
	var d event.Decoder
	var ev event.Event
	if err := d.Decode([]byte(line), &ev); err != nil {
		t.Fatalf("decode %s: %v", line, err)
	}
	_, err := e.Apply(&ev, nil)
	return err
}

func register(t *testing.T, e *Engine) {
	t.Helper()
	if err := applyLine(t, e, `{"id":"REG","uscc":"`+boundaryUSCC+`","type":"registered","occurred_at":"2015-01-10T02:00:00Z","attrs":{"name":"华为技术有限公司","region":"440300","registered_on":"1987-09-15"}}`); err != nil {
		t.Fatal(err)
	}
}

// recordLine is an event creating a record dated day (10:00 CST).
func recordLine(id, typ, day, attrs string) string {
	return fmt.Sprintf(`{"id":%q,"uscc":%q,"type":%q,"occurred_at":"%sT02:00:00Z","authority":"SAMR-440300","attrs":%s}`, id, boundaryUSCC, typ, day, attrs)
}

func repairLine(id, ref, decided string) string {
	return recordLine(id, "repair", decided, fmt.Sprintf(`{"ref":%q,"decided_on":%q}`, ref, decided))
}

// TestRepairBoundaryDays applies repairs on the day before, at and after
// each minimum repair period and each end, through the engine: the
// rejection reason and the date it names are literals from domain.md.
func TestRepairBoundaryDays(t *testing.T) {
	const (
		general = `{"severity":"general","decision_no":"深市监罚〔2023〕1号","amount_yuan":20000}`
		serious = `{"severity":"serious","decision_no":"深市监罚〔2023〕2号","amount_yuan":900000}`
		minor   = `{"severity":"minor","decision_no":"深市监罚〔2023〕3号","amount_yuan":500}`
	)
	for _, c := range []struct {
		name           string
		typ, day, attr string
		repair         string
		reason         string // "" applied
		possibleFrom   string // repair_too_early only
	}{
		// 527号 general (§4.1): min 3 months → from 2023-07-30.
		{"2019 general −1", "penalty", "2023-04-30", general, "2023-07-29", event.ReasonRepairEarly, "2023-07-30"},
		{"2019 general at min", "penalty", "2023-04-30", general, "2023-07-30", "", ""},
		// 527号 serious (§4.1): min 6 months → from 2023-10-30.
		{"2019 serious −1", "penalty", "2023-04-30", serious, "2023-10-29", event.ReasonRepairEarly, "2023-10-30"},
		{"2019 serious at min", "penalty", "2023-04-30", serious, "2023-10-30", "", ""},
		// 527号 general: display ends after 1 year; last day 2024-04-29.
		{"2019 general last day", "penalty", "2023-04-30", general, "2024-04-29", "", ""},
		{"2019 general after end", "penalty", "2023-04-30", general, "2024-04-30", event.ReasonAlreadyEnded, ""},
		// Order 58 (§4.1): min 3 months → from 2023-08-01; max 3 years, last day 2026-04-30.
		{"2023 serious −1", "penalty", "2023-05-01", serious, "2023-07-31", event.ReasonRepairEarly, "2023-08-01"},
		{"2023 serious at min", "penalty", "2023-05-01", serious, "2023-08-01", "", ""},
		{"2023 general last day", "penalty", "2023-05-01", general, "2026-04-30", "", ""},
		{"2023 general after end", "penalty", "2023-05-01", general, "2026-05-01", event.ReasonAlreadyEnded, ""},
		// Minor before 2026: stops after 3 months by itself, never repaired (Order 45 Art. 13; §5.3).
		{"2023 minor", "penalty", "2023-05-01", minor, "2023-06-01", event.ReasonNotRepairable, ""},
		// 2026 rules (§4.1, §5.2): serious min 1 year → from 2027-04-01; general min 3 months → 2026-07-01;
		// minor repairable once duties are met (from the decision day).
		{"2026 serious −1", "penalty", "2026-04-01", serious, "2027-03-31", event.ReasonRepairEarly, "2027-04-01"},
		{"2026 serious at min", "penalty", "2026-04-01", serious, "2027-04-01", "", ""},
		{"2026 general −1", "penalty", "2026-04-01", general, "2026-06-30", event.ReasonRepairEarly, "2026-07-01"},
		{"2026 general at min", "penalty", "2026-04-01", general, "2026-07-01", "", ""},
		{"2026 general after end", "penalty", "2026-04-01", general, "2027-04-01", event.ReasonAlreadyEnded, ""},
		{"2026 minor same day", "penalty", "2026-04-01", minor, "2026-04-01", "", ""},
		// Regime by decision date: the day before 2026-04-01 is still Order 58 (min 3 months, 31 March → 1 July).
		{"2023 last day −1", "penalty", "2026-03-31", serious, "2026-06-30", event.ReasonRepairEarly, "2026-07-01"},
		{"2023 last day at min", "penalty", "2026-03-31", serious, "2026-07-01", "", ""},
		// Abnormal list (§4.2, §5.3): no waiting; unresolved 3 years → serious list, no longer repairable.
		{"abnormal same day", "abnormal_listed", "2023-06-15", `{"reason":"unreachable_at_address"}`, "2023-06-15", "", ""},
		{"abnormal 3 years −1", "abnormal_listed", "2023-06-15", `{"reason":"unreachable_at_address"}`, "2026-06-14", "", ""},
		{"abnormal 3 years", "abnormal_listed", "2023-06-15", `{"reason":"unreachable_at_address"}`, "2026-06-15", event.ReasonNotRepairable, ""},
		// Serious list (§4.3, §5.3): early removal after 1 year.
		{"serious list −1", "dishonest_listed", "2023-06-15", `{"reason":"Order 44 Art. 2"}`, "2024-06-14", event.ReasonRepairEarly, "2024-06-15"},
		{"serious list at 1 year", "dishonest_listed", "2023-06-15", `{"reason":"Order 44 Art. 2"}`, "2024-06-15", "", ""},
		// Dishonest judgment debtor (§4.4, §5.3): deleted by the court only.
		{"court debtor", "court_debtor_listed", "2023-06-15", `{"case_no":"(2023)粤03执1号","court":"深圳中院"}`, "2024-06-15", event.ReasonNotRepairable, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := boundaryEngine(t, "national-4")
			register(t, e)
			if err := applyLine(t, e, recordLine("REC", c.typ, c.day, c.attr)); err != nil {
				t.Fatalf("record: %v", err)
			}
			err := applyLine(t, e, repairLine("REP", "REC", c.repair))
			var re *event.RejectError
			switch {
			case c.reason == "" && err != nil:
				t.Fatalf("repair decided %s: %v, want applied", c.repair, err)
			case c.reason == "":
			case !errors.As(err, &re):
				t.Fatalf("repair decided %s: %v, want %s", c.repair, err, c.reason)
			case re.Reason != c.reason:
				t.Fatalf("repair decided %s: %s (%s), want %s", c.repair, re.Reason, re.Detail, c.reason)
			case c.possibleFrom != "" && re.PossibleFrom.String() != c.possibleFrom:
				t.Fatalf("repair decided %s: possible from %s, want %s", c.repair, re.PossibleFrom, c.possibleFrom)
			}
		})
	}
}

// TestScoreEdges checks the score at the instant a decay step or a
// publicity end happens and one second before, through the engine.
// National-4 points (MODEL.md): PEN_GENERAL −40, decayed 1000/600/300 ‰ by
// whole 365-day years of age from the record's instant; base 600.
func TestScoreEdges(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		name   string
		day    string // penalty decided on, occurred at 02:00 UTC (10:00 CST)
		checks map[string]int
		tiers  map[string]string
	}{
		{
			// Order 58 regime: publicity to 2028-01-14 (§4.1: 3 years), so every decay step shows.
			name: "decay steps of a general penalty", day: "2025-01-15",
			checks: map[string]int{
				"2025-01-15T01:59:59Z": 600, // before the record
				"2025-01-15T02:00:00Z": 560, // −40
				"2026-01-15T01:59:59Z": 560, // 365 days − 1 s
				"2026-01-15T02:00:00Z": 576, // 600 ‰: −24
				"2027-01-15T01:59:59Z": 576,
				"2027-01-15T02:00:00Z": 588, // 300 ‰: −12
				"2028-01-14T15:59:59Z": 588, // last second of 2028-01-14 CST, the last day of publicity
				"2028-01-14T16:00:00Z": 600, // 2028-01-15 00:00 CST: publicity over, effect over
			},
			// national-4 cut-off 560: exactly 560 is B.
			tiers: map[string]string{"2025-01-15T02:00:00Z": "B", "2028-01-14T16:00:00Z": "B"},
		},
		{
			// 2026 rules: a general penalty is shown 1 year (last day 2027-03-31), before the first decay step
			// (365 days after 2026-04-01T02:00Z is 2027-04-01T02:00Z).
			name: "publicity end before the first decay step", day: "2026-04-01",
			checks: map[string]int{
				"2027-03-31T15:59:59Z": 560,
				"2027-03-31T16:00:00Z": 600,
			},
		},
		{
			// 527号 regime: 1 year for a general penalty; 2022-06-10 + 1 year → last day 2023-06-09.
			name: "2019 regime general ends at 1 year", day: "2022-06-10",
			checks: map[string]int{
				"2023-06-09T15:59:59Z": 560,
				"2023-06-09T16:00:00Z": 600,
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := boundaryEngine(t, "national-4")
			register(t, e)
			if err := applyLine(t, e, recordLine("PEN", "penalty", c.day, `{"severity":"general","decision_no":"深市监罚〔2025〕9号","amount_yuan":20000}`)); err != nil {
				t.Fatal(err)
			}
			code, _ := uscc.Parse(boundaryUSCC)
			for ts, want := range c.checks {
				v, ok := e.Entity(code, at(ts), false)
				if !ok || v.Score != want {
					t.Errorf("at %s: score %d, want %d", ts, v.Score, want)
				}
				if tier, ok := c.tiers[ts]; ok && v.TierLabel != tier {
					t.Errorf("at %s: tier %s, want %s", ts, v.TierLabel, tier)
				}
			}
		})
	}
}
