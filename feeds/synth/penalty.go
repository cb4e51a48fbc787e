package synth

import (
	"math"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/record"
)

// Penalty attributes and the publicity channels of their repairs.
//
// A penalty's attributes (penalty types, restriction period, procedure,
// sector, fine) are drawn from a generator keyed by (entity, decision day,
// severity), so the repair, drawn months later, sees the same decision
// without any per-entity storage. Repair dates come from the rule
// functions of models/record (SAMRRule, CreditChinaRule, BreachRule), the
// ones the engine judges repairs with, evaluated under both provinces'
// configurations the engine ships (record.DefaultConfig of national-4 and
// shandong-5): a repair is generated only inside the window both accept,
// so the stream is accepted whichever rules a deployment runs.

// penAttrs is one decision's attributes.
type penAttrs struct {
	types  event.PenaltyType
	months uint16 // restriction period (restriction types only)
	proc   uint8  // event.Procedure*
	sector uint8  // event.Sector*
	amount uint32 // fine in yuan; 0 without a fine
}

// record returns the attributes as the record rules take them.
func (a *penAttrs) record(sev uint8) record.Penalty {
	p := record.Penalty{Severity: sev, Types: a.types, RestrictionMonths: a.months, Procedure: a.proc, Sector: a.sector, AmountYuan: -1}
	if a.types&event.PenFine != 0 {
		p.AmountYuan = int64(a.amount)
	}
	return p
}

// ruleConfigs are the record-rule configurations a stream must satisfy:
// the national scheme's (no exclusion, no cap) and Shandong's (Art. 13
// simple-procedure exclusion, Art. 38 five-year cap).
var ruleConfigs = [2]record.Config{record.DefaultConfig("national-4"), record.DefaultConfig("shandong-5")}

// penaltyAttrs draws the attributes of a penalty of severity sev decided
// on day for entity i (params.go "Penalty attributes").
func (g *Generator) penaltyAttrs(i int32, e *entity, day int32, sev uint8) penAttrs {
	r := newRNG(g.seed, streamPenalty, uint64(i), uint64(uint32(day))<<2|uint64(sev))
	var a penAttrs
	a.proc = event.ProcedureOrdinary
	a.sector = uint8(1 + r.pick(sectorCum[e.ind]))
	fine := func(lo, hi, step float64) { // log-uniform, rounded to step yuan
		a.types |= event.PenFine
		a.amount = uint32(math.Round(lo*math.Pow(hi/lo, r.float())/step) * step)
	}
	switch sev {
	case sevMinor:
		if r.float() < penSimpleShare {
			a.proc = event.ProcedureSimple
			if r.float() < penSimpleWarning {
				a.types = event.PenWarning
			} else if e.kind == kindIndividual {
				fine(simpleFineMin, simpleFineIndividual, 10)
			} else {
				fine(simpleFineMin, simpleFineOrganisation, 10)
			}
			return a
		}
		switch u := r.float(); {
		case u < minorReprimandOnly:
			a.types = event.PenReprimand
		case u < minorReprimandOnly+minorWarningOnly:
			a.types = event.PenWarning
		default:
			fine(200, 3000, 100)
			if r.float() < minorWithWarning {
				a.types |= event.PenWarning
			}
			if r.float() < minorConfiscation {
				a.types |= event.PenConfiscation
			}
		}
	case sevGeneral:
		fine(3000, 100000, 100)
		if r.float() < generalWarning {
			a.types |= event.PenWarning
		}
		if r.float() < generalConfiscation {
			a.types |= event.PenConfiscation
		}
		switch u := r.float(); {
		case u < generalLicenceSuspension:
			a.types |= event.PenLicenceSuspension
		case u < generalLicenceSuspension+generalProductionSuspension:
			a.types |= event.PenProductionSuspension
		}
	default:
		if r.float() < seriousFine {
			fine(100000, 2000000, 100)
		}
		if r.float() < seriousConfiscation {
			a.types |= event.PenConfiscation
		}
		if r.float() < seriousHeavy || a.types == 0 {
			k := r.pick(heavyCum[:])
			a.types |= heavyTypes[k]
			if heavyTypes[k]&event.PenRestrictions != 0 {
				m := restrictionMonths[k]
				a.months = m[r.intn(len(m))]
			}
		}
	}
	return a
}

// repairWindow is the window of days (inclusive) in which a repair of a
// record in channel ch is accepted under every configuration of
// ruleConfigs; ok is false when some configuration never accepts one.
// rule gives the channel rule of the record under one configuration.
func repairWindow(rule func(c record.Config) record.ChannelRule) (from, until int32, ok bool) {
	from, until = math.MinInt32, math.MaxInt32
	for _, c := range ruleConfigs {
		r := rule(c)
		if !r.Repairable {
			return 0, 0, false
		}
		from = max(from, int32(r.RepairFrom))
		if r.Until != civil.NoDate {
			until = min(until, int32(r.Until))
		}
	}
	return from, until, from <= until
}

// penaltyWindow is repairWindow for a penalty decided on day in channel ch.
func penaltyWindow(p record.Penalty, day int32, ch uint8) (from, until int32, ok bool) {
	on := civil.Date(day)
	if ch == event.ChannelSAMR {
		return repairWindow(func(c record.Config) record.ChannelRule { return record.SAMRRule(p, on, c) })
	}
	return repairWindow(func(c record.Config) record.ChannelRule { return record.CreditChinaRule(p, on, c) })
}

// breachWindow is repairWindow for a commitment breached on day
// (record.BreachRule, capped like the engine caps it).
func breachWindow(day int32) (from, until int32, ok bool) {
	on := civil.Date(day)
	return repairWindow(func(c record.Config) record.ChannelRule {
		br := record.BreachRule(on)
		r := record.ChannelRule{Shown: br.Public, Until: br.Until, Repairable: br.Repairable, RepairFrom: br.RepairFrom}
		if cu := c.CapUntil(on); cu != civil.NoDate && (r.Until == civil.NoDate || cu < r.Until) {
			r.Until = cu
		}
		return r
	})
}

// Penalty repair plans, in the act bits of the penalty slot: which channel
// is repaired first, and whether the other follows (协同修复).
const (
	penActSAMR = 1 // the next repair is in the SAMR channel (else Credit China)
	penActBoth = 2 // after it, the other channel too
)

func otherChannel(ch uint8) uint8 {
	if ch == event.ChannelSAMR {
		return event.ChannelCreditChina
	}
	return event.ChannelSAMR
}

// planPenaltyRepair decides whether and when the penalty of severity sev
// decided today with attributes a is repaired, and in which channels. It
// returns the act bits and the due day, or ok false.
func (g *Generator) planPenaltyRepair(a *penAttrs, sev uint8, today int32, lr float64, r *rng) (act uint8, due int32, ok bool) {
	base := penRepairGeneral
	if sev == sevSerious {
		base = penRepairSerious
	}
	if r.float() >= base/(1+0.3*math.Exp(lr)) {
		return 0, 0, false
	}
	p := a.record(sev)
	ch := event.ChannelCreditChina
	if r.float() < penRepairSAMRFirst {
		ch = event.ChannelSAMR
	}
	both := r.float() < penRepairBoth
	delay := int32(r.exp() * repairDelayMean)
	for range 2 {
		if from, until, okw := penaltyWindow(p, today, ch); okw {
			if due = nextWorkday(from + delay); due <= until {
				if ch == event.ChannelSAMR {
					act = penActSAMR
				}
				if both {
					act |= penActBoth
				}
				return act, due, true
			}
		}
		ch, both = otherChannel(ch), false
	}
	return 0, 0, false
}

// repairPenalty emits the due repair of the open penalty slot and plans
// the other channel's when the plan says so. listed reports whether the
// entity was on the abnormal or the serious list at any time today, when
// SAMR stops no publication early (Order 45 Art. 14(4)).
func (g *Generator) repairPenalty(i int32, e *entity, today int32, listed bool, r *rng) {
	s := slotPen
	open := g.start + int32(e.open[s])
	sev, act := e.sub(s), e.act(s)
	ref := pev{ent: i, typ: tRepair, refDay: e.open[s], refSeq: e.seq[s], refSrc: srcSAMR}
	e.clear(s)
	a := g.penaltyAttrs(i, e, open, sev)
	p := a.record(sev)
	ch := event.ChannelCreditChina
	if act&penActSAMR != 0 {
		ch = event.ChannelSAMR
	}
	if ch == event.ChannelSAMR && listed {
		// Art. 14(4): no early stop while listed. A first application goes
		// to Credit China instead when its window is open; a second one
		// (Credit China was repaired before) is dropped.
		if act&penActBoth == 0 {
			return
		}
		ch = event.ChannelCreditChina
		if from, until, ok := penaltyWindow(p, open, ch); !ok || today < from || today > until {
			return
		}
		act &^= penActBoth
	}
	ref.aux = uint16(ch)
	g.add(ref, officeSecond(r))
	if act&penActBoth == 0 {
		return
	}
	other := otherChannel(ch)
	from, until, ok := penaltyWindow(p, open, other)
	if !ok {
		return
	}
	due := nextWorkday(addWorkdays(max(today, from-1), r.between(1, bothDelayMaxWD)))
	if due > until {
		return
	}
	var next uint8
	if other == event.ChannelSAMR {
		next = penActSAMR
	}
	e.set(s, stOpen, next, sev)
	e.open[s] = uint16(open - g.start)
	e.seq[s] = ref.refSeq
	e.due[s] = g.rel(due)
}
