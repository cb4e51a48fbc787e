package console

import (
	"testing"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/report"
)

// Repair eligibility as the report page shows it, worked out by hand
// from domain.md §5 (and models/record's rules): the first date, the last
// date, whether today is inside, and the never-repairable cases.
func TestRepairEligibility(t *testing.T) {
	v := &View{Lang: "zh"}
	day := func(s string) civil.Date {
		d, err := civil.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		name, cat, detail, on, status, today string
		applies, repairable, now             bool
		from, until                          string
	}{
		// 2026 regime (§5.2): general penalty ≥ 3 months
		{"general 2026, day before", "penalty", `{"severity":"general"}`, "2026-09-15", "active", "2026-12-14", true, true, false, "2026-12-15", ""},
		{"general 2026, first day", "penalty", `{"severity":"general"}`, "2026-09-15", "active", "2026-12-15", true, true, true, "2026-12-15", ""},
		// 2026 regime: serious ≥ 1 year
		{"serious 2026", "penalty", `{"severity":"serious"}`, "2026-05-01", "active", "2027-04-30", true, true, false, "2027-05-01", ""},
		// Order 58 (2023-05-01 … 2026-03-31): ≥ 3 months whatever the severity
		{"serious 2024", "penalty", `{"severity":"serious"}`, "2024-02-29", "active", "2024-05-29", true, true, true, "2024-05-29", ""},
		// before 2023-05: a minor penalty stops by itself, never repaired (§5.1)
		{"minor 2022", "penalty", `{"severity":"minor"}`, "2022-06-01", "active", "2022-07-01", true, false, false, "", ""},
		// abnormal list: at once, until 3 years unresolved (§5.3)
		{"abnormal, last day", "abnormal_list", `{"reason":"unreachable_at_address"}`, "2024-01-10", "active", "2027-01-09", true, true, true, "2024-01-10", "2027-01-09"},
		{"abnormal, after 3 years", "abnormal_list", `{"reason":"unreachable_at_address"}`, "2024-01-10", "active", "2027-01-10", true, true, false, "2024-01-10", "2027-01-09"},
		// serious illegal and dishonest list: ≥ 1 year listed
		{"dishonest list", "dishonest_list", `{}`, "2025-03-01", "active", "2026-03-01", true, true, true, "2026-03-01", ""},
		// court debtors are deleted by the court, not repaired
		{"court debtor", "court_debtor", `{"case_no":"x"}`, "2025-03-01", "active", "2026-03-01", true, false, false, "", ""},
		// a breached commitment is dishonesty information dated by the breach
		{"breached commitment", "commitment", `{"outcome":"breached","outcome_on":"2026-05-10"}`, "2025-01-01", "active", "2026-08-10", true, true, true, "2026-08-10", ""},
		// not negative, or no longer in effect: nothing to repair
		{"fulfilled commitment", "commitment", `{"outcome":"fulfilled","outcome_on":"2026-05-10"}`, "2025-01-01", "active", "2026-08-10", false, false, false, "", ""},
		{"annual report", "annual_report", `{"year":2025}`, "2026-03-01", "active", "2026-08-10", false, false, false, "", ""},
		{"repaired penalty", "penalty", `{"severity":"general"}`, "2026-09-15", "repaired", "2027-01-01", false, false, false, "", ""},
	} {
		rec := &report.Record{Category: tc.cat, Detail: []byte(tc.detail), OccurredOn: tc.on, Status: tc.status}
		got := repairFor(v, rec, day(tc.today))
		if got.Applies != tc.applies || got.Repairable != tc.repairable || got.Now != tc.now || got.From != tc.from && tc.repairable || got.Until != tc.until {
			t.Errorf("%s: %+v", tc.name, got)
		}
		if tc.applies && !tc.repairable && got.Why == "" {
			t.Errorf("%s: not repairable without a reason", tc.name)
		}
		if tc.repairable && (got.Need == "" || got.How == "" || got.Need == "repair.need."+tc.cat) {
			t.Errorf("%s: what is needed or how to apply missing", tc.name)
		}
	}
}
