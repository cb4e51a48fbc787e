package synth

import "math"

// Scheduled events: annual reports and tax ratings on their calendars,
// and inspection plans with their results.

// arListDay is the day missing annual reports for the previous year are
// listed in division div in year y: a working day 3–10 working days into
// July (domain §4.2). Days are cached per year for the stream's years.
func (g *Generator) arListDay(div uint8, y int) int32 {
	if k := y - g.calYear0; k >= 0 && k < len(g.arListCache) {
		return g.arListCache[k][div]
	}
	return g.arListDayCalc(div, y)
}

func (g *Generator) arListDayCalc(div uint8, y int) int32 {
	h := hash3(g.seed, streamCal, uint64(div), uint64(y))
	return nthWorkdayOfMonth(y, 7, arListMinWD+int(h%uint64(arListMaxWD-arListMinWD+1)))
}

// taxDay is the day a city's tax bureau publishes the previous year's
// ratings in year y: a working day in April (domain §2.4).
func (g *Generator) taxDay(city int, y int) int32 {
	if k := y - g.calYear0; k >= 0 && k < len(g.taxCache) {
		return g.taxCache[k][city]
	}
	return g.taxDayCalc(city, y)
}

func (g *Generator) taxDayCalc(city int, y int) int32 {
	h := hash3(g.seed, streamCal, uint64(1000+city), uint64(y))
	return nthWorkdayOfMonth(y, 4, 6+int(h%10))
}

// calendars fills the per-year caches of listing and rating days for the
// years a stream can touch.
func (g *Generator) calendars() {
	g.calYear0 = yearOf(g.start) - 2
	n := yearOf(g.end) + 2 - g.calYear0
	g.arListCache = make([][]int32, n)
	g.taxCache = make([][]int32, n)
	for k := range n {
		y := g.calYear0 + k
		g.arListCache[k] = make([]int32, len(g.reg.divs))
		for d := range g.reg.divs {
			g.arListCache[k][d] = g.arListDayCalc(uint8(d), y)
		}
		g.taxCache[k] = make([]int32, len(g.reg.cities))
		for c := range g.reg.cities {
			g.taxCache[k][c] = g.taxDayCalc(c, y)
		}
	}
}

// arPlan draws the annual-report event for report year y: its day and
// mode. The draw is keyed by (entity, year), so it is fixed per year.
func (g *Generator) arPlan(i int32, e *entity, y int) (int32, uint8) {
	r := newRNG(g.seed, streamAR, uint64(i), uint64(y))
	jan1 := daysFromCivil(y+1, 1, 1)
	jul1 := daysFromCivil(y+1, 7, 1)
	list := g.arListDay(e.div, y+1)
	pMiss := 1 - math.Exp(-arMissBase[e.kind]*math.Exp(arMissExp*logRisk(g.channelZ(i, e, chFiling))))
	switch u := r.float(); {
	case u < pMiss:
		return list, arMissing
	case u < pMiss+arLate:
		return jul1 + int32(r.intn(int(list-jul1))), arLateMode
	}
	x := r.float()
	if r.float() >= arUniformPart {
		x = math.Cbrt(x) // Beta(3,1): filings crowd towards the deadline
	}
	return jan1 + min(int32(x*float64(jul1-jan1)), jul1-jan1-1), arOnTime
}

// planAR sets the annual-report timer to the first report event after day
// 'after'.
func (g *Generator) planAR(i int32, e *entity, after int32) {
	e.tAR = none
	// Reports for year Y−2 were all due before year Y began.
	y := max(yearOf(e.reg), yearOf(after)-1)
	for {
		day, mode := g.arPlan(i, e, y)
		if day >= g.end {
			return
		}
		if day > after {
			e.tAR = g.rel(day)
			e.flags = e.flags&^flagARMask | mode
			return
		}
		y++
	}
}

func (g *Generator) fireAR(i int32, e *entity, today int32, lr float64, r *rng) {
	y := yearOf(today) - 1
	switch e.flags & flagARMask {
	case arMissing:
		if e.state(slotAb) == stEmpty {
			g.listAbnormal(i, e, today, lr, reasonAR, r)
		}
	case arLateMode:
		g.add(pev{ent: i, typ: tAnnualReport, aux: uint16(y), sub: 0}, onlineSecond(r))
	default:
		g.add(pev{ent: i, typ: tAnnualReport, aux: uint16(y), sub: 1}, onlineSecond(r))
	}
	g.planAR(i, e, today)
}

// planTax sets the tax-rating timer (enterprises and cooperatives only).
func (g *Generator) planTax(i int32, e *entity, after int32) {
	e.tTax = none
	if e.kind == kindIndividual {
		return
	}
	city := g.reg.divs[e.div].city
	for y := max(yearOf(e.reg), yearOf(after)-1); ; y++ {
		day := g.taxDay(city, y+1)
		if day >= g.end {
			return
		}
		if day > after {
			e.tTax = g.rel(day)
			return
		}
	}
}

func (g *Generator) fireTax(i int32, e *entity, today int32, r *rng) {
	y := yearOf(today) - 1
	var level uint8
	s := float64(g.channelZ(i, e, chTax)) + 0.6*r.normal()
	switch {
	case e.state(slotDis) == stOpen || e.state(slotCourt) == stOpen:
		level = taxLevelD
	case yearOf(e.reg) == y:
		level = taxLevelM
	case s < taxA:
		level = taxLevelA
	case s < taxC:
		level = taxLevelB
	case s < taxD:
		level = taxLevelC
	default:
		level = taxLevelD
	}
	if (level == taxLevelA || level == taxLevelB) && r.float() < taxNoIncome {
		level = taxLevelM
	}
	g.add(pev{ent: i, typ: tTaxRating, aux: uint16(y), sub: level}, officeSecond(r))
	g.planTax(i, e, today)
}

// planInsp draws the next plan that selects the entity (a geometric number
// of monthly plans, each drawing it with the monthly probability) and the
// working day of its inspection. With nextMonth the current month's plan
// is skipped (the entity was just inspected, or its listing changed).
func (g *Generator) planInsp(i int32, e *entity, after int32, nextMonth bool) {
	e.tInsp = none
	listed := 0
	if e.state(slotAb) == stOpen || e.state(slotDis) == stOpen {
		listed = 1
	}
	r := newRNG(g.seed, streamStep, uint64(i), uint64(uint32(after))^0x5bd1e995<<32)
	y, m, _ := ymd(after)
	month := y*12 + m - 1
	if nextMonth {
		month++
	}
	// Months until the entity is drawn: geometric with the monthly
	// probability pm, ln(1−pm) precomputed.
	skip := math.Floor(math.Log(1-r.float()) / g.inspLogQ[e.kind][listed])
	if skip > float64(g.days/28+2) {
		return
	}
	month += int(skip)
	for {
		y, m = month/12, month%12+1
		if daysFromCivil(y, m, 1) >= g.end {
			return
		}
		first := max(nthWorkdayOfMonth(y, m, 1)+1, after+1)
		last := daysFromCivil(y, m, 1) + int32(daysIn(y, m)) - 1
		var n int32
		for day := first; day <= last; day++ {
			if workday(day) {
				n++
			}
		}
		if n > 0 {
			k := int32(r.intn(int(n)))
			for day := first; day <= last; day++ {
				if workday(day) {
					if k == 0 {
						e.tInsp = g.rel(day)
						return
					}
					k--
				}
			}
		}
		month++
	}
}

func daysIn(y, m int) int {
	if m == 12 {
		return 31
	}
	return int(daysFromCivil(y, m+1, 1) - daysFromCivil(y, m, 1))
}

// hitProb is the probability that an inspection of an entity with latent
// score z finds a problem.
func hitProb(z float32, kind uint8, listedAbnormal bool) float64 {
	x := hitA + hitB*float64(z) + hitKind[kind]
	if listedAbnormal {
		x += hitAbnormal
	}
	return logistic(x)
}

func (g *Generator) fireInsp(i int32, e *entity, today int32, lr float64, r *rng) {
	listed := e.state(slotAb) == stOpen
	res := uint8(resNoProblem)
	if r.float() < hitProb(e.z, e.kind, listed) {
		pu := hitUnreachable[e.kind]
		switch u := r.float(); {
		case u < pu:
			res = resUnreachable
		case u < pu+hitRefused:
			res = resRefused
		case r.float() < hitProblemShare:
			res = resProblemFound
		default:
			res = resCorrected
		}
	}
	g.add(pev{ent: i, typ: tInspection, sub: res}, officeSecond(r))
	q := min(4, int(phi(float64(e.z))*5))
	g.stats.Inspections[q]++
	if res != resNoProblem {
		g.stats.Hits[q]++
	}
	switch res {
	case resUnreachable:
		if e.state(slotAb) == stEmpty {
			g.pending(e, slotAb, reasonUnreachable, addWorkdays(today, r.between(5, 14)))
		}
	case resProblemFound:
		switch u := r.float(); {
		case u < inspProblemPenalty:
			if e.state(slotPen) == stEmpty {
				g.pending(e, slotPen, drawSeverity(r, lr), nextWorkday(today+int32(r.between(20, 90))))
			}
		case u < inspProblemPenalty+inspProblemAbnormal:
			if e.state(slotAb) == stEmpty {
				reason := uint8(reasonNotPub)
				if r.float() < 0.5 {
					reason = reasonFalseInfo
				}
				g.pending(e, slotAb, reason, addWorkdays(today, r.between(5, 10)))
			}
		}
	case resRefused:
		if r.float() < inspRefusedPenalty && e.state(slotPen) == stEmpty {
			g.pending(e, slotPen, sevGeneral, nextWorkday(today+int32(r.between(20, 90))))
		}
	}
	g.planInsp(i, e, today, true)
}
