package record

import (
	"strings"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
)

// Channel is a publicity channel of credit information. A penalty is
// published by two, each under its own rules (domain.md §4.1, §5.1–§5.3):
// SAMR's publicity system (国家企业信用信息公示系统, Order 45) and the
// Credit China display (信用中国, NDRC rules by decision date).
type Channel uint8

// Channels; the codes equal event.ChannelCreditChina and event.ChannelSAMR.
const (
	ChannelCreditChina Channel = Channel(event.ChannelCreditChina)
	ChannelSAMR        Channel = Channel(event.ChannelSAMR)
)

// String is the channel's wire name ("samr", "credit_china").
func (c Channel) String() string { return event.ChannelName(uint8(c)) }

// ChannelOf is the channel a repair event names (Credit China when it
// names none: the rules every v1 repair was judged by).
func ChannelOf(repairChannel uint8) Channel {
	if repairChannel == event.ChannelSAMR {
		return ChannelSAMR
	}
	return ChannelCreditChina
}

// Config is a province's configuration of the record rules, for the facts
// domain.md leaves to provinces or marks unconfirmed (§10).
type Config struct {
	// LowFineYuan is the largest fine (yuan, inclusive) that counts as a
	// "lower-amount fine" (较低数额罚款), whose SAMR publication stops
	// after 3 months (Order 45 Art. 13: set by provincial bureaus; domain.md
	// §4.1 gives no figure). Default DefaultLowFineYuan.
	LowFineYuan int64
	// ExcludeSimple drops simple-procedure penalties from the credit
	// information altogether: not shown in either channel, not scored
	// (Shandong Regulation Art. 13, domain.md §4.1, §9.25).
	ExcludeSimple bool
	// CapYears ends all dishonesty information this many years after the
	// act, list entries included: not shown, not scored, not queryable
	// (Shandong Regulation Art. 38, domain.md §4.1, §9.25). 0 = no cap.
	// The act's end is taken as the record's date (the decision or
	// listing), which the event carries; the act ends on or before it.
	CapYears int
}

// DefaultLowFineYuan is the default lower-amount fine threshold: ¥10,000.
// Unconfirmed (domain.md §4.1 leaves it to provinces); a deployment sets
// its province's figure with creditd's -low-fine-yuan flag.
const DefaultLowFineYuan = 10000

// Tier scheme ids whose province rules DefaultConfig knows.
const shandongScheme = "shandong-5"

// DefaultConfig is the configuration of a tier scheme's province: the
// Shandong rules (Art. 13 exclusion, Art. 38 five-year cap) for
// "shandong-5", none for the national scheme.
func DefaultConfig(scheme string) Config {
	c := Config{LowFineYuan: DefaultLowFineYuan}
	if scheme == shandongScheme {
		c.ExcludeSimple, c.CapYears = true, 5
	}
	return c
}

// CapUntil is the last day dishonesty information dated on may be used
// under the cap (NoDate when there is none).
func (c Config) CapUntil(on civil.Date) civil.Date {
	if c.CapYears <= 0 {
		return civil.NoDate
	}
	return on.AddYears(c.CapYears) - 1
}

// Penalty is what the rules need to know about a penalty decision.
type Penalty struct {
	Severity          uint8             // event.Severity*
	Types             event.PenaltyType // 0: not given (old events)
	RestrictionMonths uint16
	Procedure         uint8 // event.Procedure*, 0 = ordinary
	Sector            uint8 // event.Sector*
	AmountYuan        int64 // -1: not given
}

// ChannelRule is one channel's rule for one record.
type ChannelRule struct {
	// Shown is whether the channel publishes the record at all.
	Shown bool
	// Until is the last day of publication (inclusive); NoDate for a list
	// entry published while listed.
	Until civil.Date
	// Repairable says whether a repair in this channel may end it early,
	// from RepairFrom; otherwise NotRepairable says why.
	Repairable    bool
	RepairFrom    civil.Date
	NotRepairable string
}

// noEarlyStop are the penalties whose SAMR publication never stops early
// (Order 45 Art. 14 para. 3; domain.md §4.1, §9.19).
const noEarlyStop = event.PenProductionSuspension | event.PenBusinessRestriction | event.PenEmploymentRestriction |
	event.PenQualificationDowngrade | event.PenLicenceRevocation | event.PenBusinessLicenceRevocation

// minorOnly reports whether a decision is "only 通报批评 or a lower-amount
// fine" (Order 45 Art. 13). With penalty types: reprimand and/or a fine of
// at most the threshold (a warning beside them adds nothing published);
// without: severity minor, as before the types existed.
func (p Penalty) minorOnly(c Config) bool {
	if p.Types == 0 {
		return p.Severity == event.SeverityMinor
	}
	if p.Types&^(event.PenWarning|event.PenReprimand|event.PenFine) != 0 || p.Types&(event.PenReprimand|event.PenFine) == 0 {
		return false
	}
	return p.Types&event.PenFine == 0 || (p.AmountYuan >= 0 && p.AmountYuan <= c.LowFineYuan)
}

// Excluded reports whether the penalty is not credit information at all
// under c (Shandong Art. 13: simple procedure).
func (p Penalty) Excluded(c Config) bool {
	return c.ExcludeSimple && p.Procedure == event.ProcedureSimple
}

// SAMRRule is the penalty's rule on SAMR's publicity system, dated by the
// decision (domain.md §4.1 Order 45; §5.1; §9.17–9.19):
//   - published only for the ordinary procedure, never for a warning only
//     (Art. 2);
//   - 3 months for only 通报批评 or a lower-amount fine, which stop by
//     themselves and are not repaired (Art. 13; §5.1); else 3 years, or the
//     restriction period when a business or employment restriction is
//     longer than 3 years (Art. 13);
//   - early stop (repair) after ≥ 6 months published, ≥ 1 year for food,
//     drug and special equipment (§5.1), never for the Art. 14 para. 3
//     types.
//
// Order 45 counts from publication (自公示之日起), which follows the
// decision within 20 working days (Art. 9); events carry the decision
// date only, so periods count from it. The cap of c ends it earlier.
func SAMRRule(p Penalty, on civil.Date, c Config) ChannelRule {
	switch {
	case p.Excluded(c):
		return ChannelRule{Until: civil.NoDate, RepairFrom: civil.NoDate,
			NotRepairable: "a simple-procedure penalty is not credit information in this province (Shandong Regulation Art. 13)"}
	case p.Procedure == event.ProcedureSimple:
		return ChannelRule{Until: civil.NoDate, RepairFrom: civil.NoDate,
			NotRepairable: "SAMR publishes ordinary-procedure penalties only (Order 45 Art. 2)"}
	case p.Types == event.PenWarning:
		return ChannelRule{Until: civil.NoDate, RepairFrom: civil.NoDate,
			NotRepairable: "a penalty that is only a warning is not published by SAMR (Order 45 Art. 2)"}
	}
	r := ChannelRule{Shown: true, RepairFrom: civil.NoDate}
	if p.minorOnly(c) {
		r.Until = on.AddMonths(3) - 1
		r.NotRepairable = "only 通报批评 or a lower-amount fine: SAMR publication stops after 3 months by itself (Order 45 Art. 13); it is not repaired"
		return c.capped(r, on)
	}
	r.Until = on.AddYears(3) - 1
	if p.Types&event.PenRestrictions != 0 && p.RestrictionMonths > 36 {
		r.Until = on.AddMonths(int(p.RestrictionMonths)) - 1
	}
	if heavy := p.Types & noEarlyStop; heavy != 0 {
		r.NotRepairable = "SAMR publication of " + strings.Join(heavy.Names(), ", ") + " never stops early (Order 45 Art. 14 para. 3)"
		return c.capped(r, on)
	}
	r.Repairable = true
	r.RepairFrom = on.AddMonths(6)
	switch p.Sector {
	case event.SectorFood, event.SectorDrug, event.SectorSpecialEquipment:
		r.RepairFrom = on.AddYears(1)
	}
	return c.capped(r, on)
}

// CreditChinaRule is the penalty's rule on the Credit China display (the
// NDRC regime of its decision date, domain.md §4.1 table, §5.2, §5.3,
// §9.20), shown by penaltyRule's periods, with Order 58's 1-year minimum
// for food, drug, special equipment, work safety and fire (2023 regime).
// Simple-procedure penalties are shown (the national special report
// includes them, §6.1) unless c excludes them.
func CreditChinaRule(p Penalty, on civil.Date, c Config) ChannelRule {
	if p.Excluded(c) {
		return ChannelRule{Until: civil.NoDate, RepairFrom: civil.NoDate,
			NotRepairable: "a simple-procedure penalty is not credit information in this province (Shandong Regulation Art. 13)"}
	}
	pr := penaltyRule(p.Severity, on)
	r := ChannelRule{Shown: pr.Public, Until: pr.Until, Repairable: pr.Repairable, RepairFrom: pr.RepairFrom, NotRepairable: pr.NotRepairable}
	if pr.Regime == Regime2023 && r.Repairable {
		switch p.Sector {
		case event.SectorFood, event.SectorDrug, event.SectorSpecialEquipment, event.SectorWorkSafety, event.SectorFire:
			r.RepairFrom = on.AddYears(1)
		}
	}
	return c.capped(r, on)
}

// capped ends r at the cap of c (Shandong Art. 38).
func (c Config) capped(r ChannelRule, on civil.Date) ChannelRule {
	if cu := c.CapUntil(on); cu != civil.NoDate && (r.Until == civil.NoDate || cu < r.Until) {
		r.Until = cu
	}
	return r
}

// ListRule is the rule, in both channels, of a list entry dated on
// (abnormal, serious, dishonest judgment debtor): published while listed
// (Until NoDate) unless the cap of c ends it first (Art. 38: "list entries
// included").
func ListRule(on civil.Date, c Config) ChannelRule {
	return c.capped(ChannelRule{Shown: true, Until: civil.NoDate, RepairFrom: civil.NoDate}, on)
}

// ShownOn reports whether the channel shows the record on day d (before
// any repair or removal).
func (r ChannelRule) ShownOn(d civil.Date) bool {
	return r.Shown && (r.Until == civil.NoDate || d <= r.Until)
}
