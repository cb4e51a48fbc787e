package synth

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Checks of single generated events against events.md and domain.md,
// used by validate (synth_test.go): references, repairs per channel,
// penalty attributes, objections.

// refProblem says what is wrong with r, the event w's ref names, as a
// reference: missing, of another entity, or not earlier ("" when none).
func refProblem(w, r *wire, ref string) string {
	switch {
	case r == nil:
		return fmt.Sprintf("ref %s names no earlier event", ref)
	case r.USCC != w.USCC:
		return fmt.Sprintf("ref %s belongs to %s", ref, r.USCC)
	case !r.At.Before(w.At):
		return fmt.Sprintf("ref %s is not earlier", ref)
	}
	return ""
}

// checkRepair applies the minimum periods and publicity ends of domain.md
// §4.1 and §5 per channel with time's own calendar arithmetic
// (independent of the generator's and of models/record), for repairs the
// stream must satisfy under both the national rules and Shandong's.
func checkRepair(t *testing.T, w, r *wire) {
	t.Helper()
	decided, _ := time.Parse(time.DateOnly, w.attrsS["decided_on"])
	opened := time.Date(r.At.Year(), r.At.Month(), r.At.Day(), 0, 0, 0, 0, time.UTC)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("line %d: repair of %s (%s, %s): %s", w.line, r.ID, r.Type, opened.Format(time.DateOnly), fmt.Sprintf(format, args...))
	}
	within := func(minY, minM, maxY, maxM int) {
		t.Helper()
		if decided.Before(opened.AddDate(minY, minM, 0)) {
			fail("repaired before %d years %d months", minY, minM)
		}
		if !decided.Before(opened.AddDate(maxY, maxM, 0)) {
			fail("repaired after the publicity end (%d years %d months)", maxY, maxM)
		}
	}
	switch r.Type {
	case "penalty":
		ch := w.attrsS["channel"]
		if ch == "" {
			fail("a penalty repair names its channel")
		}
		if r.repaired == nil {
			r.repaired = map[string]bool{}
		}
		if r.repaired[ch] {
			fail("second repair in channel %s", ch)
		}
		r.repaired[ch] = true
		sev, sector := r.attrsS["severity"], r.attrsS["sector"]
		types := strings.Split(r.attrsS["penalty_types"], ",")
		if sev == "minor" {
			fail("minor penalties are never repaired")
		}
		if r.attrsS["procedure"] == "simple" {
			fail("a simple-procedure penalty is not repairable under the Shandong rules (Art. 13)")
		}
		if ch == "samr" {
			minorOnly := true
			for _, ty := range types {
				switch ty {
				case "production_suspension", "business_restriction", "employment_restriction",
					"qualification_downgrade", "licence_revocation", "business_licence_revocation":
					fail("SAMR never stops %s early (Order 45 Art. 14)", ty)
				case "warning", "reprimand":
				case "fine":
					if a, _ := strconv.Atoi(r.attrsS["amount_yuan"]); a > 10000 {
						minorOnly = false
					}
				default:
					minorOnly = false
				}
			}
			if minorOnly {
				fail("only a warning, reprimand or lower fine: SAMR publication stops by itself (Art. 2, 13)")
			}
			if sector == "food" || sector == "drug" || sector == "special_equipment" {
				within(1, 0, 3, 0)
			} else {
				within(0, 6, 3, 0)
			}
			return
		}
		switch {
		case opened.Before(time.Date(2023, 5, 1, 0, 0, 0, 0, time.UTC)): // 527号
			if sev == "serious" {
				within(0, 6, 3, 0)
			} else {
				within(0, 3, 1, 0)
			}
		case opened.Before(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)): // Order 58
			switch sector {
			case "food", "drug", "special_equipment", "work_safety", "fire":
				within(1, 0, 3, 0)
			default:
				within(0, 3, 3, 0)
			}
		default: // the 2026 rules
			if sev == "serious" {
				within(1, 0, 3, 0)
			} else {
				within(0, 3, 1, 0)
			}
		}
	case "commitment_made":
		// A breach is judged like a general penalty of the regime of the
		// breach date (models/record BreachRule; domain.md §4.6).
		if r.breachAt.IsZero() {
			fail("only a breached commitment is repaired")
		}
		opened = time.Date(r.breachAt.Year(), r.breachAt.Month(), r.breachAt.Day(), 0, 0, 0, 0, time.UTC)
		if opened.Before(time.Date(2023, 5, 1, 0, 0, 0, 0, time.UTC)) || !opened.Before(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) {
			within(0, 3, 1, 0)
		} else {
			within(0, 3, 3, 0)
		}
	case "abnormal_listed":
		if !decided.Before(opened.AddDate(3, 0, 0)) {
			fail("abnormal listing repaired after 3 years")
		}
	case "dishonest_listed":
		if decided.Before(opened.AddDate(1, 0, 0)) {
			fail("dishonest listing repaired before 1 year")
		}
		if !decided.Before(opened.AddDate(5, 0, 0)) {
			fail("dishonest listing repaired after the 5-year cap (Shandong Art. 38)")
		}
	default:
		fail("a %s cannot be repaired", r.Type)
	}
}

// checkPenaltyAttrs checks a penalty's optional attributes against
// events.md and their consistency with the severity (params.go "Penalty
// attributes").
func checkPenaltyAttrs(t *testing.T, w *wire) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("line %d: penalty: %s\n%s", w.line, fmt.Sprintf(format, args...), w.raw)
	}
	types := strings.Split(w.attrsS["penalty_types"], ",")
	if w.attrsS["penalty_types"] == "" || w.attrsS["procedure"] == "" || w.attrsS["sector"] == "" {
		fail("penalty_types, procedure and sector are always given")
	}
	amount, hasAmount := w.attrsS["amount_yuan"]
	if contains(types, "fine") != hasAmount {
		fail("amount_yuan %q with types %v", amount, types)
	}
	months, hasMonths := w.attrsS["restriction_months"]
	if (contains(types, "business_restriction") || contains(types, "employment_restriction")) != hasMonths {
		fail("restriction_months %q with types %v", months, types)
	}
	a, _ := strconv.Atoi(amount)
	switch sev := w.attrsS["severity"]; {
	case w.attrsS["procedure"] == "simple":
		// 行政处罚法 Art. 51: a warning, or a fine of at most ¥200
		// (citizens: individual businesses) or ¥3,000 (organisations).
		limit := 3000
		if w.USCC[1] == '2' {
			limit = 200
		}
		if sev != "minor" || len(types) != 1 || (types[0] != "warning" && (types[0] != "fine" || a > limit)) {
			fail("simple procedure with severity %s, types %v, amount %d", sev, types, a)
		}
	case sev == "minor":
		if hasAmount && (a < 200 || a > 3000) {
			fail("minor fine %d", a)
		}
	case sev == "general":
		if a < 3000 || a > 100000 {
			fail("general fine %d", a)
		}
	case sev == "serious":
		if hasAmount && (a < 100000 || a > 2000000) {
			fail("serious fine %d", a)
		}
	}
}
