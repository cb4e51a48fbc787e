package synth

import "math"

// Records: what wakes an entity on a day (step), the random events its
// latent risk drives (penalties, listings, commitments, honours) and the
// follow-ups of the records they open (removals, repairs, outcomes).

// step handles entity i's timers due on day offset d.
func (g *Generator) step(i int32, d uint16) {
	e := &g.ents[i]
	today := g.start + int32(d)
	r := newRNG(g.seed, streamStep, uint64(i), uint64(uint32(today)))
	if e.flags&flagLive == 0 {
		e.flags |= flagLive
		g.add(pev{ent: i, typ: tRegistered}, officeSecond(&r))
		g.initTimers(i, e, today, false)
		g.reschedule(i, e, int(d), &r)
		return
	}
	lr := logRisk(g.channelZ(i, e, chConduct))
	// Listed at any time today: SAMR stops no publication early on a day
	// the entity was listed (Order 45 Art. 14(4)). The start of the day
	// here; the day's events below may list it before a repair's second,
	// so the slots see the state after them too.
	listed := e.state(slotAb) == stOpen || e.state(slotDis) == stOpen
	// The random event first: its time was drawn from the rates of the
	// state as it was at the last wake, which is still the state now.
	if e.tRand == d {
		e.tRand = none
		if g.fireRand(i, e, today, lr, &r) {
			return // deregistered
		}
	}
	if e.tAR == d {
		e.tAR = none
		g.fireAR(i, e, today, lr, &r)
	}
	if e.tTax == d {
		e.tTax = none
		g.fireTax(i, e, today, &r)
	}
	if e.tInsp == d {
		e.tInsp = none
		g.fireInsp(i, e, today, lr, &r)
	}
	for s := range numSlots {
		if e.due[s] == d {
			e.due[s] = none
			listed = listed || e.state(slotAb) == stOpen || e.state(slotDis) == stOpen
			g.fireSlot(i, e, s, today, lr, listed, &r)
		}
	}
	g.reschedule(i, e, int(d), &r)
}

// reschedule draws the next random event and links the entity into the
// bucket of its earliest timer. d is the current day offset (−1 before
// the stream).
func (g *Generator) reschedule(i int32, e *entity, d int, r *rng) {
	var rates [numRand]float64
	total := g.rates(e, logRisk(g.channelZ(i, e, chConduct)), &rates)
	e.tRand = none
	if total > 0 {
		k := r.exp() / total
		if at := float64(d+1) + k; at < float64(g.days) {
			e.tRand = uint16(d + 1 + int(k))
		}
	}
	w := min(e.tRand, e.tAR, e.tTax, e.tInsp)
	for s := range numSlots {
		w = min(w, e.due[s])
	}
	if w != none {
		g.link(i, w)
	}
}

// rates fills the daily rates of the random processes for e's current
// state and returns their sum.
func (g *Generator) rates(e *entity, lr float64, out *[numRand]float64) float64 {
	listed := e.state(slotAb) != stEmpty || e.state(slotDis) != stEmpty || e.state(slotCourt) != stEmpty
	// ρ^(k/10) for k = 0..15 from one exp: pw[k] = pw[1]^k.
	var pw [16]float64
	pw[0], pw[1] = 1, math.Exp(0.1*lr)
	for k := 2; k < len(pw); k++ {
		pw[k] = pw[k-1] * pw[1]
	}
	var total float64
	for k := range numRand {
		def := &randDefs[k]
		x := g.baseRate[k][e.kind]
		switch {
		case def.exp > 0:
			x *= pw[def.exp]
		case def.exp < 0:
			x /= pw[-def.exp]
		}
		switch k {
		case rCourt:
			if e.state(slotCourt) != stEmpty {
				x = 0
			}
		case rCommit:
			if e.state(slotCom) != stEmpty || e.state(slotDis) == stOpen || e.state(slotCourt) == stOpen {
				x = 0
			}
		case rHonor:
			if listed || e.state(slotPen) != stEmpty {
				x = 0
			}
		case rNotPub, rFalseInfo:
			if e.state(slotAb) != stEmpty {
				x = 0
			}
		case rDereg:
			if listed || e.flags&flagObjMask != 0 {
				x = 0 // no exit while listed or while an objection is open
			}
		}
		out[k] = x
		total += x
	}
	return total
}

// fireRand handles a random event; it reports whether the entity left.
func (g *Generator) fireRand(i int32, e *entity, today int32, lr float64, r *rng) bool {
	var rates [numRand]float64
	total := g.rates(e, lr, &rates)
	if total <= 0 {
		return false
	}
	u := r.float() * total
	k := 0
	for k < numRand-1 && u >= rates[k] {
		u -= rates[k]
		k++
	}
	if randDefs[k].gov && !workday(today) {
		return false // thinning: government acts happen Monday–Friday
	}
	switch k {
	case rPenalty:
		g.penalty(i, e, today, lr, drawSeverity(r, lr), r)
	case rComplaint:
		subst := r.float() < logistic(-1+0.9*float64(g.channelZ(i, e, chConduct)))
		var sub uint8
		if subst {
			sub = 1
			if r.float() < complaintToPenalty && e.state(slotPen) == stEmpty {
				sev := uint8(sevMinor)
				if r.float() < 0.5 {
					sev = sevGeneral
				}
				g.pending(e, slotPen, sev, nextWorkday(today+int32(r.between(15, 60))))
			}
		}
		g.add(pev{ent: i, typ: tComplaint, sub: sub}, onlineSecond(r))
	case rCourt:
		g.courtList(i, e, today, lr, r)
	case rCommit:
		g.commitment(i, e, today, r)
	case rHonor:
		g.honor(i, e, r)
	case rNotPub:
		g.listAbnormal(i, e, today, lr, reasonNotPub, r)
	case rFalseInfo:
		g.listAbnormal(i, e, today, lr, reasonFalseInfo, r)
	case rDereg:
		sub := uint8(0)
		if r.float() < deregSimplified {
			sub = 1
		}
		// The random event is the entity's first of the day and nothing
		// follows an exit, so the deregistration is its last event.
		g.add(pev{ent: i, typ: tDeregistered, sub: sub}, officeSecond(r))
		e.dereg = uint16(today - g.start)
		e.tRand, e.tAR, e.tTax, e.tInsp = none, none, none, none
		for s := range numSlots {
			e.due[s] = none
		}
		return true
	}
	return false
}

// pending schedules a record to open on day 'on' (if inside the stream).
func (g *Generator) pending(e *entity, s int, sub uint8, on int32) {
	e.set(s, stPending, 0, sub)
	e.due[s] = g.rel(on)
}

func drawSeverity(r *rng, lr float64) uint8 {
	pS := min(sevSeriousCap, sevSeriousBase*math.Exp(0.5*lr))
	switch u := r.float(); {
	case u < pS:
		return sevSerious
	case u < pS+sevMinorShare:
		return sevMinor
	}
	return sevGeneral
}

// earliestRepair is the first day a record opened on 'open' may be
// repaired after a minimum period of 'months' months (at least minDays
// days), plus the safety margin: the stricter of calendar months and day
// counts, so that any reasonable reading of "6 months" or "1 year" holds.
func earliestRepair(open int32, months int, minDays int32) int32 {
	return max(addMonths(open, months), open+minDays) + repairMarginDays
}

// penalty emits a penalty decided today and plans its repair and any
// dishonest listing.
func (g *Generator) penalty(i int32, e *entity, today int32, lr float64, sev uint8, r *rng) {
	a := g.penaltyAttrs(i, e, today, sev)
	p := pev{ent: i, typ: tPenalty, sub: sev}
	p.setPenalty(&a)
	if sev != sevMinor && e.state(slotPen) == stEmpty {
		// Minor penalties are never repaired: their publication ends by
		// itself (domain §4.1, §5.1). A repair drawn past every channel's
		// publicity end is dropped (the record expires first).
		if act, due, ok := g.planPenaltyRepair(&a, sev, today, lr, r); ok {
			e.set(slotPen, stOpen, act, sev)
			e.open[slotPen] = uint16(today - g.start)
			e.due[slotPen] = g.rel(due)
			p.slot = slotPen + 1
		}
	}
	g.add(p, officeSecond(r))
	g.afterPenalty(e, today, sev, r)
}

// afterPenalty plans the dishonest listing a serious penalty may bring.
func (g *Generator) afterPenalty(e *entity, today int32, sev uint8, r *rng) {
	if sev == sevSerious && e.state(slotDis) == stEmpty && r.float() < seriousToDishonest {
		g.pending(e, slotDis, disSerious, nextWorkday(today+int32(r.between(15, 60))))
	}
}

// listAbnormal lists the entity in the abnormal-operations list today and
// plans the cure or the transfer to the dishonest list after 3 years.
func (g *Generator) listAbnormal(i int32, e *entity, today int32, lr float64, reason uint8, r *rng) {
	p := pev{ent: i, typ: tAbnormalListed, sub: reason, slot: slotAb + 1}
	e.open[slotAb] = uint16(today - g.start)
	threeYears := addMonths(today, 36)
	limit := min(threeYears, today+1095) - 14
	act, due := uint8(actTransfer), threeYears+1
	if r.float() < abCure[reason]/(1+0.25*math.Exp(lr)) {
		cure := nextWorkday(today + 3 + int32(r.exp()*abCureDays[reason]))
		if cure <= limit {
			act, due = actCure, cure
		}
	}
	e.set(slotAb, stOpen, act, reason)
	e.due[slotAb] = g.rel(due)
	g.add(p, officeSecond(r))
	g.planInsp(i, e, today, true)
}

// listDishonest lists the entity in the serious illegal and dishonest list
// today and plans its early removal by repair (after 1 year) or its
// removal after 3 years.
func (g *Generator) listDishonest(i int32, e *entity, today int32, lr float64, reason uint8, r *rng) {
	p := pev{ent: i, typ: tDishonestListed, sub: reason, slot: slotDis + 1}
	e.open[slotDis] = uint16(today - g.start)
	act, due := uint8(actRemove), nextWorkday(max(addMonths(today, 36), today+1096))
	if r.float() < disRepair/(1+0.3*math.Exp(lr)) {
		act = actRepair
		due = nextWorkday(earliestRepair(today, 12, 366) + int32(r.exp()*90))
	}
	e.set(slotDis, stOpen, act, reason)
	e.due[slotDis] = g.rel(due)
	g.add(p, officeSecond(r))
	g.planInsp(i, e, today, true)
}

func (g *Generator) courtList(i int32, e *entity, today int32, lr float64, r *rng) {
	p := pev{ent: i, typ: tCourtListed, slot: slotCourt + 1}
	e.open[slotCourt] = uint16(today - g.start)
	expiry := addMonths(today, 24)
	due := expiry
	if r.float() < courtPerform/(1+0.2*math.Exp(lr)) {
		due = min(expiry, today+10+int32(r.exp()*courtPerformMean))
	}
	e.set(slotCourt, stOpen, actRemove, 0)
	e.due[slotCourt] = g.rel(nextWorkday(due))
	g.add(p, officeSecond(r))
}

// commitment matters (告知承诺 items, domain §4.6).
var commitMatters = []string{
	"食品经营许可告知承诺", "住所（经营场所）证明告知承诺", "公共场所卫生许可告知承诺",
	"道路货物运输经营许可告知承诺", "证明事项告知承诺", "营业执照变更登记告知承诺",
}

func (g *Generator) commitment(i int32, e *entity, today int32, r *rng) {
	p := pev{ent: i, typ: tCommitMade, sub: uint8(r.intn(len(commitMatters))), slot: slotCom + 1}
	outcome := uint8(outcomeFulfilled)
	if r.float() < logistic(commitBreachA+commitBreachB*float64(g.channelZ(i, e, chConduct))) {
		outcome = outcomeBreached
	}
	e.open[slotCom] = uint16(today - g.start)
	e.set(slotCom, stOpen, comVerify, outcome)
	e.due[slotCom] = g.rel(nextWorkday(today + int32(r.between(30, 180))))
	g.add(p, officeSecond(r))
}

// Honour titles by kind (domain §4.7; "守合同重信用" is SAMR's contract-
// honouring publicity, 示范社 the agricultural cooperative model scheme).
var honorTitles = [numKinds][]string{
	{"守合同重信用企业", "诚信经营示范企业", "放心消费示范单位", "质量诚信企业"},
	{"诚信经营示范店", "放心消费示范店", "名特优新个体工商户"},
	{"农民专业合作社示范社"},
}

const (
	levelNational   = 1
	levelProvincial = 2
	levelMunicipal  = 3
)

var levelNames = [4]string{"", "national", "provincial", "municipal"}

func (g *Generator) honor(i int32, e *entity, r *rng) {
	level := uint16(levelMunicipal)
	switch u := r.float(); {
	case u < honorNational:
		level = levelNational
	case u < honorNational+honorProvincial:
		level = levelProvincial
	}
	g.add(pev{ent: i, typ: tHonor, sub: uint8(r.intn(len(honorTitles[e.kind]))), aux: level}, officeSecond(r))
}

// fireSlot performs the due action of record slot s.
func (g *Generator) fireSlot(i int32, e *entity, s int, today int32, lr float64, listed bool, r *rng) {
	ref := pev{ent: i, refDay: e.open[s], refSeq: e.seq[s]}
	if e.state(s) == stPending {
		sub := e.sub(s)
		e.clear(s)
		switch s {
		case slotAb:
			g.listAbnormal(i, e, today, lr, sub, r)
		case slotDis:
			g.listDishonest(i, e, today, lr, sub, r)
		case slotPen:
			g.penalty(i, e, today, lr, sub, r)
		}
		return
	}
	switch s {
	case slotAb:
		switch e.act(s) {
		case actCure:
			if e.sub(s) == reasonAR {
				// The missing report is filed late; the removal follows.
				y := yearOf(g.start+int32(e.open[s])) - 1
				g.add(pev{ent: i, typ: tAnnualReport, aux: uint16(y), sub: 0}, onlineSecond(r))
				e.set(s, stOpen, actFinal, reasonAR)
				e.due[s] = g.rel(addWorkdays(today, r.between(2, 8)))
				return
			}
			g.endAbnormal(e, ref, r)
		case actFinal:
			g.endAbnormal(e, ref, r)
		case actTransfer:
			e.clear(s)
			if e.state(slotDis) == stEmpty {
				g.listDishonest(i, e, today, lr, disAbnormal, r)
			}
		}
		g.planInsp(i, e, today, true)
	case slotDis:
		ref.typ = tDishonestRemoved
		if e.act(s) == actRepair {
			ref.typ = tRepair
		}
		e.clear(s)
		g.add(ref, officeSecond(r))
		g.planInsp(i, e, today, true)
	case slotCourt:
		ref.typ = tCourtRemoved
		e.clear(s)
		g.add(ref, officeSecond(r))
	case slotPen:
		g.repairPenalty(i, e, today, listed, r)
	case slotCom:
		g.fireCommitment(e, ref, today, lr, r)
	}
}

// Actions of the commitment slot.
const (
	comVerify = 0 // the commitment awaits verification
	comRepair = 1 // breached: the breach is repaired on the due day
	comExpire = 2 // breached: the bar lifts when the breach's publicity ends
)

// fireCommitment performs the due action of the commitment slot: the
// verification (fulfilled or breached), the repair of a breach, or the end
// of a breach's publicity. A breach keeps the slot, so no new commitment
// is made while it bars the commitment route (domain §4.6).
func (g *Generator) fireCommitment(e *entity, ref pev, today int32, lr float64, r *rng) {
	s := slotCom
	switch e.act(s) {
	case comRepair:
		ref.typ, ref.refSrc = tRepair, srcAppr
		e.clear(s)
		g.add(ref, officeSecond(r))
		return
	case comExpire:
		e.clear(s)
		return
	}
	ref.typ = tCommitFulfilled
	if e.sub(s) != outcomeBreached {
		e.clear(s)
		g.add(ref, officeSecond(r))
		return
	}
	ref.typ = tCommitBreached
	g.add(ref, officeSecond(r))
	from, until, ok := breachWindow(today)
	act, due := uint8(comExpire), until+1
	if !ok {
		act, due = comExpire, today+1
	} else if r.float() < breachRepair/(1+0.3*math.Exp(lr)) {
		if d := nextWorkday(from + int32(r.exp()*breachRepairDelay)); d <= until {
			act, due = comRepair, d
		}
	}
	e.set(s, stOpen, act, outcomeBreached)
	e.due[s] = g.rel(due)
}

// endAbnormal ends the open abnormal listing: abnormal_removed, or a
// repair event when the entity applied for credit repair.
func (g *Generator) endAbnormal(e *entity, ref pev, r *rng) {
	ref.typ = tAbnormalRemoved
	if r.float() < abViaRepair {
		ref.typ = tRepair
	}
	e.clear(slotAb)
	g.add(ref, officeSecond(r))
}
