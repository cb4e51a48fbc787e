package record

import (
	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
)

// Category is the kind of record an event creates in an entity's credit
// record, as named in credit-report/v1 ("penalty", "abnormal_list", …).
type Category uint8

// Record categories.
const (
	CatNone Category = iota // registration, deregistration and referencing events create no record of their own
	CatPenalty
	CatAbnormalList
	CatDishonestList
	CatCourtDebtor
	CatInspection
	CatCommitment
	CatAnnualReport
	CatTaxRating
	CatHonor
	CatComplaint
	// CatAbnormalStatus is an individual business's abnormal-operation
	// status (经营异常状态), which takes the place of the abnormal list for
	// them (domain.md §4.2).
	CatAbnormalStatus
	numCategories
)

var categoryNames = [numCategories]string{"", "penalty", "abnormal_list", "dishonest_list", "court_debtor",
	"inspection", "commitment", "annual_report", "tax_rating", "honor", "complaint", "abnormal_status"}

// String returns the report name of the category.
func (c Category) String() string {
	if c < numCategories {
		return categoryNames[c]
	}
	return ""
}

// CategoryOf returns the category of the record an event of type t
// creates, or CatNone when t creates none (it changes an entity or another
// record instead).
func CategoryOf(t event.Type) Category {
	switch t {
	case event.TypePenalty:
		return CatPenalty
	case event.TypeAbnormalListed:
		return CatAbnormalList
	case event.TypeDishonestListed:
		return CatDishonestList
	case event.TypeCourtDebtorListed:
		return CatCourtDebtor
	case event.TypeInspection:
		return CatInspection
	case event.TypeCommitmentMade:
		return CatCommitment
	case event.TypeAnnualReport:
		return CatAnnualReport
	case event.TypeTaxRating:
		return CatTaxRating
	case event.TypeHonor:
		return CatHonor
	case event.TypeComplaint:
		return CatComplaint
	}
	return CatNone
}

// Regime names the publicity rules that govern a penalty, by decision date.
type Regime uint8

// Publicity regimes of Credit China (信用中国) display, domain.md §4.1.
const (
	Regime2019 Regime = iota + 1 // 发改办财金〔2019〕527号, decisions before 2023-05-01
	Regime2023                   // NDRC Order 58, decisions 2023-05-01 … 2026-03-31
	Regime2026                   // NDRC 信用修复管理办法, decisions from 2026-04-01
)

// Regime start dates.
var (
	Regime2023Start = civil.MakeDate(2023, 5, 1)
	Regime2026Start = civil.MakeDate(2026, 4, 1)
)

// String names the regime's instrument.
func (r Regime) String() string {
	switch r {
	case Regime2019:
		return "发改办财金〔2019〕527号"
	case Regime2023:
		return "NDRC Order 58 (2023)"
	case Regime2026:
		return "NDRC 信用修复管理办法 (2026)"
	}
	return ""
}

// RegimeFor returns the regime in force on a decision date.
func RegimeFor(decided civil.Date) Regime {
	switch {
	case decided >= Regime2026Start:
		return Regime2026
	case decided >= Regime2023Start:
		return Regime2023
	}
	return Regime2019
}

// Rule is what the public rules say about one record: whether and how long
// it is published, and whether and from when it can be repaired. Periods
// count from the record's date (the decision or listing date, CST).
type Rule struct {
	// Negative records are dishonesty information: they raise risk and
	// are the only ones credit repair applies to.
	Negative bool
	// Public is whether the record appears in the public credit report.
	Public bool
	// Until is the last day of publicity (inclusive); NoDate means the
	// record stays published while it is active (lists: until removed).
	Until civil.Date
	// SAMRUntil is the last day of publication on the SAMR publicity system
	// (Order 45 Art. 13) for penalties, NoDate otherwise.
	SAMRUntil civil.Date
	// Repairable says whether a repair event may end the record early.
	Repairable bool
	// RepairFrom is the first date a repair is allowed (Repairable only).
	RepairFrom civil.Date
	// RepairUntil is the last date a repair is allowed, NoDate for no limit
	// (the abnormal list: after three years unresolved it becomes the
	// serious list and can no longer be repaired as an abnormal listing).
	RepairUntil civil.Date
	// NotRepairable explains, when Repairable is false for a negative
	// record, why; it is the detail of a not_repairable rejection.
	NotRepairable string
	// Regime is the penalty publicity regime applied (penalties only).
	Regime Regime
}

// AbnormalToSeriousYears is how long an abnormal-operations listing may
// stay unresolved before it is treated as the serious illegal and
// dishonest list (企业信息公示暂行条例 Art. 17; domain.md §4.2).
const AbnormalToSeriousYears = 3

// RuleFor returns the publicity and repair rule for a record of type t with
// enumerated attribute sub (severity, result, level) dated on.
//
// For a penalty it is the Credit China rule by severity alone; the engine
// judges penalties per channel with their attributes and the province's
// Config (channel.go: SAMRRule, CreditChinaRule), and lists with ListRule's
// cap.
//
// Sources (domain.md):
//   - penalties, Credit China display (§4.1, §9.20): 527号 (to 2023-04-30)
//     general 3 months–1 year, serious 6 months–3 years; Order 58
//     (2023-05-01 … 2026-03-31) 3 months–3 years; the 2026 rules minor not
//     published (repairable once duties are met), general 3 months–1 year,
//     serious 1–3 years. Until is the maximum, RepairFrom the minimum.
//     Before 2026 a minor penalty (通报批评 or a lower fine) stops at
//     3 months by itself and is not repairable (SAMR Order 45 Art. 13,
//     §5.3); we treat it like a general one under 527号 and Order 58.
//   - SAMR publicity (Order 45 Art. 13, §9.18): minor 3 months, others
//     3 years.
//   - abnormal list (§4.2, §5.3): published while listed; repairable at
//     once, until 3 years unresolved.
//   - serious illegal and dishonest list (§4.3, §5.3): published while
//     listed; early removal (repair) after 1 year.
//   - dishonest judgment debtor (§4.4, §5.3): published while listed;
//     deleted by the court (court_debtor_removed), never by credit repair.
//   - breached commitment: dishonesty information (Shandong Art. 13, 32):
//     like a general penalty of the regime in force.
//   - inspection results are published (条例 Art. 14); we keep them public
//     for 3 years, like general penalties under SAMR Order 45. Annual
//     reports, commitments and honours: public, 3 years. Tax ratings: only
//     levels A and D are published (§2.4), for 1 year. Complaints are
//     internal and never public.
func RuleFor(t event.Type, sub uint8, on civil.Date) Rule {
	switch t {
	case event.TypePenalty:
		return penaltyRule(sub, on)
	case event.TypeAbnormalListed:
		return Rule{Negative: true, Public: true, Until: civil.NoDate, SAMRUntil: civil.NoDate, Repairable: true,
			RepairFrom: on, RepairUntil: on.AddYears(AbnormalToSeriousYears) - 1}
	case event.TypeDishonestListed:
		return Rule{Negative: true, Public: true, Until: civil.NoDate, SAMRUntil: civil.NoDate, Repairable: true,
			RepairFrom: on.AddYears(1), RepairUntil: civil.NoDate}
	case event.TypeCourtDebtorListed:
		return Rule{Negative: true, Public: true, Until: civil.NoDate, SAMRUntil: civil.NoDate,
			NotRepairable: "a dishonest judgment debtor listing is deleted by the court (court_debtor_removed), not by credit repair"}
	case event.TypeCommitmentMade:
		// The commitment record itself; its breach is judged by breachRule.
		return Rule{Public: true, Until: on.AddYears(3) - 1, SAMRUntil: civil.NoDate,
			NotRepairable: "a commitment is not a negative record; repair its breach"}
	case event.TypeInspection:
		return Rule{Negative: event.Finding(sub), Public: true, Until: on.AddYears(3) - 1, SAMRUntil: civil.NoDate,
			NotRepairable: "an inspection result is a finding of fact; it ends with its publicity period"}
	case event.TypeAnnualReport, event.TypeHonor:
		return Rule{Public: true, Until: on.AddYears(3) - 1, SAMRUntil: civil.NoDate,
			NotRepairable: "not a negative record"}
	case event.TypeTaxRating:
		return Rule{Negative: sub == event.TaxC || sub == event.TaxD, Public: sub == event.TaxA || sub == event.TaxD, Until: on.AddYears(1) - 1, SAMRUntil: civil.NoDate,
			NotRepairable: "tax credit levels are set by the tax authority each year"}
	case event.TypeComplaint:
		return Rule{Negative: true, Public: false, Until: on.AddYears(1) - 1, SAMRUntil: civil.NoDate,
			NotRepairable: "a complaint is internal information, not published; it ends after one year"}
	}
	return Rule{Until: civil.NoDate, SAMRUntil: civil.NoDate, NotRepairable: "not a record"}
}

// BreachRule is the rule for a breached commitment (commitment_breached),
// dated by the breach.
func BreachRule(on civil.Date) Rule {
	r := penaltyRule(event.SeverityGeneral, on)
	r.SAMRUntil = civil.NoDate
	return r
}

func penaltyRule(sev uint8, on civil.Date) Rule {
	r := Rule{Negative: true, Public: true, Repairable: true, RepairUntil: civil.NoDate, Regime: RegimeFor(on)}
	if sev == event.SeverityMinor {
		r.SAMRUntil = on.AddMonths(3) - 1
	} else {
		r.SAMRUntil = on.AddYears(3) - 1
	}
	switch r.Regime {
	case Regime2026:
		switch sev {
		case event.SeverityMinor:
			r.Public = false
			r.Until = on.AddMonths(3) - 1 // at most 3 months if a regulator shows it; internal effect ends then
			r.RepairFrom = on
		case event.SeveritySerious:
			r.Until, r.RepairFrom = on.AddYears(3)-1, on.AddYears(1)
		default:
			r.Until, r.RepairFrom = on.AddYears(1)-1, on.AddMonths(3)
		}
	case Regime2023:
		r.Until, r.RepairFrom = on.AddYears(3)-1, on.AddMonths(3)
	default:
		if sev == event.SeveritySerious {
			r.Until, r.RepairFrom = on.AddYears(3)-1, on.AddMonths(6)
		} else {
			r.Until, r.RepairFrom = on.AddYears(1)-1, on.AddMonths(3)
		}
	}
	if sev == event.SeverityMinor && r.Regime != Regime2026 {
		r.Until = on.AddMonths(3) - 1
		r.Repairable = false
		r.RepairFrom = civil.NoDate
		r.NotRepairable = "a minor penalty (通报批评 or a lower fine) stops being published after 3 months by itself (SAMR Order 45 Art. 13); it is not repaired"
	}
	return r
}
