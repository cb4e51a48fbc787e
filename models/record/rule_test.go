package record

import (
	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"testing"
)

// Every expected date below is a literal worked out by hand from
// domain.md, not from the code's own tables, so a wrong period, a wrong
// regime switch or an off-by-one end fails. Convention (category.go, Rule):
// a period of n months counts from the decision date as day one, so its
// last day is the day before the same calendar day n months later (Until,
// inclusive) and the minimum repair period is over on that later day
// (RepairFrom). A month without that day rolls over into the next month
// (AddMonths: 31 March + 3 months = 1 July; 30 November + 3 months =
// 2 March in a common year). "—" below means NoDate.

func day(t *testing.T, s string) civil.Date {
	t.Helper()
	if s == "—" {
		return civil.NoDate
	}
	d, err := civil.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRegimeSwitchDates: the Credit China regime is chosen by the decision
// date (domain.md §4.1 table: Order 58 "from 2023-05-01", the 2026 rules
// "from 2026-04-01"; §9.20).
func TestRegimeSwitchDates(t *testing.T) {
	for _, c := range []struct {
		on   string
		want Regime
	}{
		{"2019-07-01", Regime2019}, // §4.1: 527号 from 2019-07-01
		{"2023-04-30", Regime2019}, // day before Order 58
		{"2023-05-01", Regime2023}, // Order 58 in force
		{"2023-05-02", Regime2023},
		{"2026-03-31", Regime2023}, // day before the 2026 rules
		{"2026-04-01", Regime2026}, // §4.1: in force 2026-04-01
		{"2026-04-02", Regime2026},
	} {
		if got := RegimeFor(day(t, c.on)); got != c.want {
			t.Errorf("RegimeFor(%s) = %v, want %v", c.on, got, c.want)
		}
	}
}

// TestRuleTable checks RuleFor per category and regime against hand-computed
// literals. Each row cites its source in domain.md.
func TestRuleTable(t *testing.T) {
	type row struct {
		name       string
		typ        event.Type
		sub        uint8
		on         string
		regime     Regime
		negative   bool
		public     bool
		until      string // last day of publicity (Credit China display / report)
		samrUntil  string // last day on the SAMR publicity system (Order 45 Art. 13)
		repairable bool
		repairFrom string
		repairTo   string
	}
	rows := []row{
		// 527号 (2019), §4.1 table row 1: general min 3 months max 1 year; serious min 6 months max 3 years.
		// SAMR Order 45 Art. 13 (§4.1, §9.18): 3 years for any penalty but 通报批评/lower fine.
		{"2019 general, last day of the regime", event.TypePenalty, event.SeverityGeneral, "2023-04-30", Regime2019, true, true,
			"2024-04-29", "2026-04-29", true, "2023-07-30", "—"},
		{"2019 serious", event.TypePenalty, event.SeveritySerious, "2023-04-30", Regime2019, true, true,
			"2026-04-29", "2026-04-29", true, "2023-10-30", "—"},
		// Minor before 2026: Order 45 Art. 13 stops publication at 3 months by itself; §5.3 "stop automatically at 3 months".
		{"2019 minor", event.TypePenalty, event.SeverityMinor, "2023-04-30", Regime2019, true, true,
			"2023-07-29", "2023-07-29", false, "—", "—"},
		// Month end: 30 Nov + 3 months rolls over to 2 March 2023 (common year).
		{"2019 general, 30 November", event.TypePenalty, event.SeverityGeneral, "2022-11-30", Regime2019, true, true,
			"2023-11-29", "2025-11-29", true, "2023-03-02", "—"},
		// Order 58 (2023), §4.1 table row 2 and §9.20: min 3 months, max 3 years for penalty information.
		{"2023 general, first day of the regime", event.TypePenalty, event.SeverityGeneral, "2023-05-01", Regime2023, true, true,
			"2026-04-30", "2026-04-30", true, "2023-08-01", "—"},
		{"2023 serious", event.TypePenalty, event.SeveritySerious, "2023-05-01", Regime2023, true, true,
			"2026-04-30", "2026-04-30", true, "2023-08-01", "—"},
		{"2023 minor", event.TypePenalty, event.SeverityMinor, "2023-05-01", Regime2023, true, true,
			"2023-07-31", "2023-07-31", false, "—", "—"},
		// Leap day: 29 Feb 2024 + 3 years = 1 March 2027, so the last day is 28 Feb 2027; + 3 months = 29 May 2024.
		{"2023 serious, 29 February", event.TypePenalty, event.SeveritySerious, "2024-02-29", Regime2023, true, true,
			"2027-02-28", "2027-02-28", true, "2024-05-29", "—"},
		// Last day of Order 58; 31 March + 3 months: 31 June does not exist → 1 July.
		{"2023 general, last day of the regime", event.TypePenalty, event.SeverityGeneral, "2026-03-31", Regime2023, true, true,
			"2029-03-30", "2029-03-30", true, "2026-07-01", "—"},
		// 2026 rules, §4.1 table row 3, §5.2, §9.20: general 3 months – 1 year; serious 1 – 3 years;
		// minor not published, at most 3 months, repairable as soon as duties are met.
		{"2026 general, first day of the regime", event.TypePenalty, event.SeverityGeneral, "2026-04-01", Regime2026, true, true,
			"2027-03-31", "2029-03-31", true, "2026-07-01", "—"},
		{"2026 serious", event.TypePenalty, event.SeveritySerious, "2026-04-01", Regime2026, true, true,
			"2029-03-31", "2029-03-31", true, "2027-04-01", "—"},
		{"2026 minor", event.TypePenalty, event.SeverityMinor, "2026-04-01", Regime2026, true, false,
			"2026-06-30", "2026-06-30", true, "2026-04-01", "—"},
		// Abnormal list, §4.2 and §5.3: repair as soon as the cause is cured, within 3 years; after 3 years unresolved → serious list.
		{"abnormal list", event.TypeAbnormalListed, event.AbnormalUnreachable, "2023-06-15", 0, true, true,
			"—", "—", true, "2023-06-15", "2026-06-14"},
		{"abnormal list, 29 February", event.TypeAbnormalListed, event.AbnormalAnnualReportMissing, "2024-02-29", 0, true, true,
			"—", "—", true, "2024-02-29", "2027-02-28"},
		// Serious illegal and dishonest list, §4.3 (Order 44) and §5.3: early removal after 1 year listed.
		{"serious list", event.TypeDishonestListed, 0, "2023-06-15", 0, true, true,
			"—", "—", true, "2024-06-15", "—"},
		// Dishonest judgment debtor, §4.4 and §5.3: deleted by the court, no credit repair.
		{"court debtor", event.TypeCourtDebtorListed, 0, "2023-06-15", 0, true, true,
			"—", "—", false, "—", "—"},
		// Inspection results are published (§3.6, 条例 Art. 14); kept 3 years (category.go's choice, like Order 45's 3 years).
		{"inspection problem found", event.TypeInspection, event.ResultProblemFound, "2025-01-10", 0, true, true,
			"2028-01-09", "—", false, "—", "—"},
		{"inspection refused", event.TypeInspection, event.ResultRefused, "2025-01-10", 0, true, true,
			"2028-01-09", "—", false, "—", "—"},
		{"inspection no problem", event.TypeInspection, event.ResultNoProblem, "2025-01-10", 0, false, true,
			"2028-01-09", "—", false, "—", "—"},
		// Tax credit levels, §2.4: only A and D names are published; results yearly.
		{"tax A", event.TypeTaxRating, event.TaxA, "2025-04-15", 0, false, true, "2026-04-14", "—", false, "—", "—"},
		{"tax B", event.TypeTaxRating, event.TaxB, "2025-04-15", 0, false, false, "2026-04-14", "—", false, "—", "—"},
		{"tax M", event.TypeTaxRating, event.TaxM, "2025-04-15", 0, false, false, "2026-04-14", "—", false, "—", "—"},
		{"tax C", event.TypeTaxRating, event.TaxC, "2025-04-15", 0, true, false, "2026-04-14", "—", false, "—", "—"},
		{"tax D", event.TypeTaxRating, event.TaxD, "2025-04-15", 0, true, true, "2026-04-14", "—", false, "—", "—"},
		// Complaints are internal (§2.1 "dynamic credit information"), never public.
		{"complaint", event.TypeComplaint, 0, "2025-01-10", 0, true, false, "2026-01-09", "—", false, "—", "—"},
		{"honour", event.TypeHonor, event.HonorNational, "2025-01-10", 0, false, true, "2028-01-09", "—", false, "—", "—"},
		{"annual report", event.TypeAnnualReport, 0, "2025-06-30", 0, false, true, "2028-06-29", "—", false, "—", "—"},
		{"commitment", event.TypeCommitmentMade, 0, "2025-06-30", 0, false, true, "2028-06-29", "—", false, "—", "—"},
	}
	for _, c := range rows {
		got := RuleFor(c.typ, c.sub, day(t, c.on))
		want := Rule{Negative: c.negative, Public: c.public, Until: day(t, c.until), SAMRUntil: day(t, c.samrUntil),
			Repairable: c.repairable, RepairFrom: day(t, c.repairFrom), RepairUntil: day(t, c.repairTo), Regime: c.regime}
		if !c.repairable { // RepairFrom and RepairUntil are documented for repairable records only
			want.RepairFrom, want.RepairUntil = got.RepairFrom, got.RepairUntil
		}
		got.NotRepairable = ""
		if got != want {
			t.Errorf("%s (%s %s): got %s, want %s", c.name, c.typ, c.on, ruleString(got), ruleString(want))
		}
		if !c.repairable && c.negative && RuleFor(c.typ, c.sub, day(t, c.on)).NotRepairable == "" {
			t.Errorf("%s: not repairable without a reason", c.name)
		}
	}
}

// TestBreachRuleTable: a breached commitment is dishonesty information
// (Shandong Art. 13, 32; domain.md §4.6) judged like a general penalty of
// the regime in force on the breach date, and it is not on the SAMR
// publicity system.
func TestBreachRuleTable(t *testing.T) {
	for _, c := range []struct {
		on, until, repairFrom string
		regime                Regime
	}{
		{"2023-04-30", "2024-04-29", "2023-07-30", Regime2019},
		{"2023-05-01", "2026-04-30", "2023-08-01", Regime2023},
		{"2026-03-31", "2029-03-30", "2026-07-01", Regime2023},
		{"2026-04-01", "2027-03-31", "2026-07-01", Regime2026},
	} {
		got := BreachRule(day(t, c.on))
		if got.Until != day(t, c.until) || got.RepairFrom != day(t, c.repairFrom) || got.Regime != c.regime ||
			got.SAMRUntil != civil.NoDate || !got.Repairable || !got.Negative || !got.Public {
			t.Errorf("BreachRule(%s) = %s, want until %s repair from %s regime %v, not on the SAMR system", c.on, ruleString(got), c.until, c.repairFrom, c.regime)
		}
	}
}

// TestRuleBoundaryDays checks, for each period end and minimum repair
// period, the day before, the day itself and the day after: published on a
// day d means d <= Until; repairable on d means RepairFrom <= d (and d <=
// RepairUntil when there is one).
func TestRuleBoundaryDays(t *testing.T) {
	published := func(r Rule, d civil.Date) bool { return r.Until == civil.NoDate || d <= r.Until }
	repairable := func(r Rule, d civil.Date) bool {
		return r.Repairable && d >= r.RepairFrom && (r.RepairUntil == civil.NoDate || d <= r.RepairUntil)
	}
	for _, c := range []struct {
		name      string
		typ       event.Type
		sub       uint8
		on, check string
		pub, rep  bool
	}{
		// 2019 general decided 2023-04-30: displayed to 2024-04-29 (1 year), repairable from 2023-07-30 (3 months).
		{"2019 general, repair min −1", event.TypePenalty, event.SeverityGeneral, "2023-04-30", "2023-07-29", true, false},
		{"2019 general, repair min", event.TypePenalty, event.SeverityGeneral, "2023-04-30", "2023-07-30", true, true},
		{"2019 general, repair min +1", event.TypePenalty, event.SeverityGeneral, "2023-04-30", "2023-07-31", true, true},
		{"2019 general, last day shown", event.TypePenalty, event.SeverityGeneral, "2023-04-30", "2024-04-29", true, true},
		{"2019 general, first day not shown", event.TypePenalty, event.SeverityGeneral, "2023-04-30", "2024-04-30", false, true},
		// 2019 serious: repairable from 6 months (2023-10-30).
		{"2019 serious, repair min −1", event.TypePenalty, event.SeveritySerious, "2023-04-30", "2023-10-29", true, false},
		{"2019 serious, repair min", event.TypePenalty, event.SeveritySerious, "2023-04-30", "2023-10-30", true, true},
		{"2019 serious, 3 years −1", event.TypePenalty, event.SeveritySerious, "2023-04-30", "2026-04-29", true, true},
		{"2019 serious, 3 years", event.TypePenalty, event.SeveritySerious, "2023-04-30", "2026-04-30", false, true},
		// Order 58, decided on its first day: 3 months → 2023-08-01; 3 years → last day 2026-04-30.
		{"2023 serious, repair min −1", event.TypePenalty, event.SeveritySerious, "2023-05-01", "2023-07-31", true, false},
		{"2023 serious, repair min", event.TypePenalty, event.SeveritySerious, "2023-05-01", "2023-08-01", true, true},
		{"2023 general, last day shown", event.TypePenalty, event.SeverityGeneral, "2023-05-01", "2026-04-30", true, true},
		{"2023 general, first day not shown", event.TypePenalty, event.SeverityGeneral, "2023-05-01", "2026-05-01", false, true},
		// Minor before 2026: 3 months, never repaired.
		{"2023 minor, last day", event.TypePenalty, event.SeverityMinor, "2023-05-01", "2023-07-31", true, false},
		{"2023 minor, after", event.TypePenalty, event.SeverityMinor, "2023-05-01", "2023-08-01", false, false},
		// 2026 rules: general 1 year (last day 2027-03-31), serious repair from 1 year (2027-04-01).
		{"2026 general, last day shown", event.TypePenalty, event.SeverityGeneral, "2026-04-01", "2027-03-31", true, true},
		{"2026 general, first day not shown", event.TypePenalty, event.SeverityGeneral, "2026-04-01", "2027-04-01", false, true},
		{"2026 serious, repair min −1", event.TypePenalty, event.SeveritySerious, "2026-04-01", "2027-03-31", true, false},
		{"2026 serious, repair min", event.TypePenalty, event.SeveritySerious, "2026-04-01", "2027-04-01", true, true},
		{"2026 serious, repair min +1", event.TypePenalty, event.SeveritySerious, "2026-04-01", "2027-04-02", true, true},
		{"2026 minor, decision day", event.TypePenalty, event.SeverityMinor, "2026-04-01", "2026-04-01", true, true},
		// Abnormal list: repairable from the listing day to the day before 3 years.
		{"abnormal, listing day", event.TypeAbnormalListed, event.AbnormalUnreachable, "2023-06-15", "2023-06-15", true, true},
		{"abnormal, 3 years −1", event.TypeAbnormalListed, event.AbnormalUnreachable, "2023-06-15", "2026-06-14", true, true},
		{"abnormal, 3 years", event.TypeAbnormalListed, event.AbnormalUnreachable, "2023-06-15", "2026-06-15", true, false},
		// Serious list: early removal after 1 year.
		{"serious list, 1 year −1", event.TypeDishonestListed, 0, "2023-06-15", "2024-06-14", true, false},
		{"serious list, 1 year", event.TypeDishonestListed, 0, "2023-06-15", "2024-06-15", true, true},
	} {
		r := RuleFor(c.typ, c.sub, day(t, c.on))
		d := day(t, c.check)
		if p, rp := published(r, d), repairable(r, d); p != c.pub || rp != c.rep {
			t.Errorf("%s: decided %s, on %s: published %v repairable %v, want %v %v (rule %s)", c.name, c.on, c.check, p, rp, c.pub, c.rep, ruleString(r))
		}
	}
}

func ruleString(r Rule) string {
	return "{neg " + boolStr(r.Negative) + " public " + boolStr(r.Public) + " until " + dateStr(r.Until) +
		" samr " + dateStr(r.SAMRUntil) + " repairable " + boolStr(r.Repairable) + " from " + dateStr(r.RepairFrom) +
		" to " + dateStr(r.RepairUntil) + " regime " + r.Regime.String() + "}"
}

func boolStr(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dateStr(d civil.Date) string {
	if d == civil.NoDate {
		return "—"
	}
	return d.String()
}
