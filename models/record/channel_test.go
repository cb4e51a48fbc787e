package record

import (
	"strings"
	"testing"

	"github.com/creditrisk/creditd/models/event"
)

// Golden channel rules, both tier schemes' province configurations:
// DefaultConfig("national-4") (lower fine ≤ ¥10,000, no exclusion, no cap)
// and DefaultConfig("shandong-5") (also Art. 13 exclusion of the simple
// procedure and the Art. 38 five-year cap). Every date is a literal worked
// out by hand with the convention of rule_test.go (n months from the
// decision day: last day = the day before the same calendar day n months
// later; a minimum is over on that later day). For each row the test also
// checks the last day shown and the first day not shown.
func TestChannelRules(t *testing.T) {
	const (
		general = event.SeverityGeneral
		serious = event.SeveritySerious
		minor   = event.SeverityMinor
	)
	type want struct {
		shown      bool
		until      string // last day shown, "—" = while listed / not shown
		repairable bool
		repairFrom string
		why        string // part of NotRepairable
	}
	for _, c := range []struct {
		name     string
		p        Penalty
		on       string
		scheme   string
		samr, cc want
	}{
		// A general ordinary-procedure fine of ¥50,000 (> ¥10,000) decided under the 2026 rules.
		// SAMR (§4.1 Art. 13): 3 years → last day 2029-03-31; repair after 6 months published (§5.1) → 2026-10-01.
		// Credit China 2026 general (§4.1 table): max 1 year → 2027-03-31; min 3 months → 2026-07-01.
		{"general fine 2026", Penalty{Severity: general, Types: event.PenFine, AmountYuan: 50000, Procedure: event.ProcedureOrdinary}, "2026-04-01", "national-4",
			want{true, "2029-03-31", true, "2026-10-01", ""}, want{true, "2027-03-31", true, "2026-07-01", ""}},
		// Same in Shandong: the 5-year cap (2031-03-31) is later than both ends; nothing changes.
		{"general fine 2026 shandong", Penalty{Severity: general, Types: event.PenFine, AmountYuan: 50000, Procedure: event.ProcedureOrdinary}, "2026-04-01", "shandong-5",
			want{true, "2029-03-31", true, "2026-10-01", ""}, want{true, "2027-03-31", true, "2026-07-01", ""}},
		// Old event without types, severity general: SAMR treats it as "any other penalty" (3 years, §9.18).
		{"legacy general 2026", Penalty{Severity: general, AmountYuan: -1}, "2026-04-01", "national-4",
			want{true, "2029-03-31", true, "2026-10-01", ""}, want{true, "2027-03-31", true, "2026-07-01", ""}},
		// A fine of exactly ¥10,000 = the default lower-amount threshold (inclusive): SAMR 3 months
		// (Art. 13) → last day 2026-06-30, stops by itself, not repaired (§5.1). Credit China 2026 minor:
		// not shown, repairable at once (§4.1 table, §5.2).
		{"lower fine at threshold", Penalty{Severity: minor, Types: event.PenFine, AmountYuan: 10000}, "2026-04-01", "national-4",
			want{true, "2026-06-30", false, "—", "3 months by itself"}, want{false, "2026-06-30", true, "2026-04-01", ""}},
		// ¥10,001: not a lower-amount fine → SAMR 3 years.
		{"fine one yuan above", Penalty{Severity: general, Types: event.PenFine, AmountYuan: 10001}, "2026-04-01", "national-4",
			want{true, "2029-03-31", true, "2026-10-01", ""}, want{true, "2027-03-31", true, "2026-07-01", ""}},
		// A fine without an amount is not known to be lower → 3 years.
		{"fine without amount", Penalty{Severity: general, Types: event.PenFine, AmountYuan: -1}, "2026-04-01", "national-4",
			want{true, "2029-03-31", true, "2026-10-01", ""}, want{true, "2027-03-31", true, "2026-07-01", ""}},
		// 通报批评 only (Art. 13): 3 months. Under Order 58 (2023-05-01 … 2026-03-31) Credit China shows
		// a minor penalty 3 months too and does not repair it (rule.go penaltyRule, §5.3). 30 November
		// + 3 months = 2 March 2026 (no 30 February, rule_test.go convention) → last day 1 March.
		{"reprimand 2025", Penalty{Severity: minor, Types: event.PenReprimand, AmountYuan: -1}, "2025-11-30", "national-4",
			want{true, "2026-03-01", false, "—", "3 months by itself"}, want{true, "2026-03-01", false, "—", "3 months by itself"}},
		// Warning only: SAMR never publishes it (Art. 2, §9.17).
		{"warning only", Penalty{Severity: minor, Types: event.PenWarning, AmountYuan: -1}, "2026-04-01", "national-4",
			want{false, "—", false, "—", "only a warning"}, want{false, "2026-06-30", true, "2026-04-01", ""}},
		// Warning + reprimand is still "only 通报批评" for publication: 3 months.
		{"warning and reprimand", Penalty{Severity: minor, Types: event.PenWarning | event.PenReprimand, AmountYuan: -1}, "2026-04-01", "national-4",
			want{true, "2026-06-30", false, "—", "3 months by itself"}, want{false, "2026-06-30", true, "2026-04-01", ""}},
		// Reprimand + confiscation: not "only" → 3 years.
		{"reprimand and confiscation", Penalty{Severity: general, Types: event.PenReprimand | event.PenConfiscation, AmountYuan: -1}, "2026-04-01", "national-4",
			want{true, "2029-03-31", true, "2026-10-01", ""}, want{true, "2027-03-31", true, "2026-07-01", ""}},
		// 吊销营业执照 (Art. 14 para. 3, §9.19): SAMR 3 years, never repaired early. Credit China 2026
		// serious: max 3 years → 2029-03-31, min 1 year → 2027-04-01 (its own rules).
		{"business licence revocation", Penalty{Severity: serious, Types: event.PenBusinessLicenceRevocation | event.PenFine, AmountYuan: 300000}, "2026-04-01", "national-4",
			want{true, "2029-03-31", false, "—", "business_licence_revocation never stops early"}, want{true, "2029-03-31", true, "2027-04-01", ""}},
		{"licence revocation", Penalty{Severity: serious, Types: event.PenLicenceRevocation, AmountYuan: -1}, "2026-04-01", "national-4",
			want{true, "2029-03-31", false, "—", "licence_revocation never stops early"}, want{true, "2029-03-31", true, "2027-04-01", ""}},
		{"production suspension", Penalty{Severity: serious, Types: event.PenProductionSuspension, AmountYuan: -1}, "2026-04-01", "national-4",
			want{true, "2029-03-31", false, "—", "production_suspension never stops early"}, want{true, "2029-03-31", true, "2027-04-01", ""}},
		{"qualification downgrade", Penalty{Severity: serious, Types: event.PenQualificationDowngrade, AmountYuan: -1}, "2026-04-01", "national-4",
			want{true, "2029-03-31", false, "—", "qualification_downgrade never stops early"}, want{true, "2029-03-31", true, "2027-04-01", ""}},
		// 限制从业 for 72 months (> 3 years, Art. 13 para. 3): published for the restriction period →
		// last day 2032-03-31; never repaired early. The longest period applies (fine 3 y < 6 y).
		{"employment restriction 72 months", Penalty{Severity: serious, Types: event.PenEmploymentRestriction | event.PenFine, RestrictionMonths: 72, AmountYuan: 5000}, "2026-04-01", "national-4",
			want{true, "2032-03-31", false, "—", "employment_restriction never stops early"}, want{true, "2029-03-31", true, "2027-04-01", ""}},
		// Same in Shandong: the cap (Art. 38) ends it 5 years after the act → 2031-03-31.
		{"employment restriction 72 months shandong", Penalty{Severity: serious, Types: event.PenEmploymentRestriction | event.PenFine, RestrictionMonths: 72, AmountYuan: 5000}, "2026-04-01", "shandong-5",
			want{true, "2031-03-31", false, "—", "employment_restriction never stops early"}, want{true, "2029-03-31", true, "2027-04-01", ""}},
		// 36 months exactly is not longer than 3 years → 3 years.
		{"business restriction 36 months", Penalty{Severity: serious, Types: event.PenBusinessRestriction, RestrictionMonths: 36, AmountYuan: -1}, "2026-04-01", "national-4",
			want{true, "2029-03-31", false, "—", "business_restriction never stops early"}, want{true, "2029-03-31", true, "2027-04-01", ""}},
		// 37 months → last day 2029-04-30.
		{"business restriction 37 months", Penalty{Severity: serious, Types: event.PenBusinessRestriction, RestrictionMonths: 37, AmountYuan: -1}, "2026-04-01", "national-4",
			want{true, "2029-04-30", false, "—", "business_restriction never stops early"}, want{true, "2029-03-31", true, "2027-04-01", ""}},
		// Food under Order 58 (2023 regime), decided 2024-03-15: SAMR repair after 1 year (§5.1) → 2025-03-15;
		// Credit China min 1 year for food (§4.1 table, §9.20) → 2025-03-15; both last days 2027-03-14.
		{"food 2024", Penalty{Severity: general, Types: event.PenFine, AmountYuan: 80000, Sector: event.SectorFood}, "2024-03-15", "national-4",
			want{true, "2027-03-14", true, "2025-03-15", ""}, want{true, "2027-03-14", true, "2025-03-15", ""}},
		{"special equipment 2024", Penalty{Severity: general, Types: event.PenFine, AmountYuan: 80000, Sector: event.SectorSpecialEquipment}, "2024-03-15", "national-4",
			want{true, "2027-03-14", true, "2025-03-15", ""}, want{true, "2027-03-14", true, "2025-03-15", ""}},
		// Work safety: Credit China 1 year (Order 58), SAMR only 6 months (its 1-year list is food, drug,
		// special equipment) → 2024-09-15.
		{"work safety 2024", Penalty{Severity: general, Types: event.PenFine, AmountYuan: 80000, Sector: event.SectorWorkSafety}, "2024-03-15", "national-4",
			want{true, "2027-03-14", true, "2024-09-15", ""}, want{true, "2027-03-14", true, "2025-03-15", ""}},
		// Other sector under Order 58: min 3 months → 2024-06-15.
		{"other sector 2024", Penalty{Severity: general, Types: event.PenFine, AmountYuan: 80000, Sector: event.SectorOther}, "2024-03-15", "national-4",
			want{true, "2027-03-14", true, "2024-09-15", ""}, want{true, "2027-03-14", true, "2024-06-15", ""}},
		// Drug under the 2026 rules: SAMR 1 year (2027-04-01); Credit China 2026 general has no sector
		// minimum in domain.md (§4.1 table) → 3 months (2026-07-01).
		{"drug 2026", Penalty{Severity: general, Types: event.PenFine, AmountYuan: 80000, Sector: event.SectorDrug}, "2026-04-01", "national-4",
			want{true, "2029-03-31", true, "2027-04-01", ""}, want{true, "2027-03-31", true, "2026-07-01", ""}},
		// Simple procedure, nationally: SAMR publishes ordinary-procedure penalties only (Art. 2);
		// Credit China shows it (the national special report includes simple-procedure penalties, §6.1).
		{"simple procedure national", Penalty{Severity: general, Types: event.PenFine, AmountYuan: 200, Procedure: event.ProcedureSimple}, "2026-04-01", "national-4",
			want{false, "—", false, "—", "ordinary-procedure penalties only"}, want{true, "2027-03-31", true, "2026-07-01", ""}},
		// In Shandong a simple-procedure penalty is not credit information (Art. 13): neither channel.
		{"simple procedure shandong", Penalty{Severity: general, Types: event.PenFine, AmountYuan: 200, Procedure: event.ProcedureSimple}, "2026-04-01", "shandong-5",
			want{false, "—", false, "—", "Art. 13"}, want{false, "—", false, "—", "Art. 13"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig(c.scheme)
			on := day(t, c.on)
			for _, ch := range []struct {
				name string
				got  ChannelRule
				want want
			}{{"samr", SAMRRule(c.p, on, cfg), c.samr}, {"credit_china", CreditChinaRule(c.p, on, cfg), c.cc}} {
				g, w := ch.got, ch.want
				if g.Shown != w.shown || g.Until != day(t, w.until) || g.Repairable != w.repairable || g.RepairFrom != day(t, w.repairFrom) {
					t.Errorf("%s: got shown %v until %s repairable %v from %s; want %v %s %v %s",
						ch.name, g.Shown, g.Until, g.Repairable, g.RepairFrom, w.shown, w.until, w.repairable, w.repairFrom)
				}
				if w.why != "" && !strings.Contains(g.NotRepairable, w.why) {
					t.Errorf("%s: NotRepairable %q lacks %q", ch.name, g.NotRepairable, w.why)
				}
				if !g.Repairable && g.NotRepairable == "" {
					t.Errorf("%s: not repairable without a reason", ch.name)
				}
				// Boundary days: shown on the last day, not on the next.
				if g.Shown && g.Until != day(t, "—") {
					if !g.ShownOn(g.Until) || g.ShownOn(g.Until+1) || !g.ShownOn(on) {
						t.Errorf("%s: ShownOn around %s wrong", ch.name, g.Until)
					}
				}
			}
		})
	}
}

// TestListRuleCap: list entries are published while listed nationally; in
// Shandong the cap (Art. 38, "list entries included", domain.md §4.1)
// ends them 5 years after the listing: listed 2020-06-01 → last day
// 2025-05-31, not shown from 2025-06-01.
func TestListRuleCap(t *testing.T) {
	on := day(t, "2020-06-01")
	if r := ListRule(on, DefaultConfig("national-4")); !r.Shown || r.Until != day(t, "—") || !r.ShownOn(day(t, "2040-01-01")) {
		t.Errorf("national list rule %+v", r)
	}
	r := ListRule(on, DefaultConfig("shandong-5"))
	if r.Until != day(t, "2025-05-31") || !r.ShownOn(day(t, "2025-05-31")) || r.ShownOn(day(t, "2025-06-01")) {
		t.Errorf("shandong list rule %+v", r)
	}
}

// TestDefaultConfig: the documented defaults (README, events.md).
func TestDefaultConfig(t *testing.T) {
	if c := DefaultConfig("national-4"); c != (Config{LowFineYuan: 10000}) {
		t.Errorf("national-4: %+v", c)
	}
	if c := DefaultConfig("shandong-5"); c != (Config{LowFineYuan: 10000, ExcludeSimple: true, CapYears: 5}) {
		t.Errorf("shandong-5: %+v", c)
	}
}
