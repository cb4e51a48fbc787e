package synth

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// Design of the hot path.
//
// The generator is a discrete-event simulation over days. Every entity is
// one fixed-size, pointer-free struct (entity, 72 bytes) in one slice: its
// static traits, its latent risk, a handful of timers (day offsets into the
// stream) and five record slots (the open abnormal listing, dishonest
// listing, court listing, penalty awaiting repair and commitment awaiting
// verification), each with the sequence number of its event id so that
// later events can refer to it. Nothing else is kept per entity: random
// draws come from counter-based generators keyed by (seed, entity, day), so
// no RNG state is stored and the result does not depend on visiting order.
//
// A calendar queue wakes entities: head[day] is a singly linked list
// threaded through entity.next, and each entity sits in the bucket of its
// earliest timer. Waking on day d handles the timers due that day, draws
// new ones (always after d) and re-links the entity. A day's events are
// collected as small fixed-size records, sorted by time of day, then
// encoded to JSON by hand into one reused buffer and handed to emit; event
// ids are numbered at that moment, in emission order, and written back to
// the record slot when the event opens a record. Follow-ups (removals,
// repairs, outcomes) are always scheduled on a later day, so a reference is
// never emitted before its target. Memory is O(entities + days).

// Event types, in the order of events.md.
const (
	tRegistered uint8 = iota
	tDeregistered
	tPenalty
	tAbnormalListed
	tAbnormalRemoved
	tDishonestListed
	tDishonestRemoved
	tCourtListed
	tCourtRemoved
	tInspection
	tAnnualReport
	tCommitMade
	tCommitBreached
	tCommitFulfilled
	tTaxRating
	tHonor
	tComplaint
	tRepair
	numTypes
)

var typeNames = [numTypes]string{
	"registered", "deregistered", "penalty", "abnormal_listed", "abnormal_removed",
	"dishonest_listed", "dishonest_removed", "court_debtor_listed", "court_debtor_removed",
	"inspection", "annual_report", "commitment_made", "commitment_breached", "commitment_fulfilled",
	"tax_rating", "honor", "complaint", "repair",
}

// Event id sources: the department that issues the event.
const (
	srcSAMR  = iota // market regulation (市场监督管理局)
	srcCourt        // people's courts
	srcTax          // tax bureaus
	srcAppr         // administrative approval bureaus (行政审批服务局), commitments
	srcHonor        // the body awarding an honour
	numSrc
)

var srcNames = [numSrc]string{"SAMR", "COURT", "TAX", "APPR", "HONOR"}

var typeSrc = [numTypes]uint8{
	tCourtListed: srcCourt, tCourtRemoved: srcCourt, tTaxRating: srcTax,
	tCommitMade: srcAppr, tCommitBreached: srcAppr, tCommitFulfilled: srcAppr, tHonor: srcHonor,
}

// Record slots of an entity.
const (
	slotAb    = iota // open abnormal listing
	slotDis          // open serious illegal and dishonest listing
	slotCourt        // open dishonest judgment debtor listing
	slotPen          // penalty awaiting repair (or awaiting decision)
	slotCom          // commitment awaiting verification
	numSlots
)

// Slot state byte: state in bits 0–1, action in bits 2–3, sub-code in 4–7.
const (
	stEmpty   = 0
	stPending = 1 // due is the day the record opens
	stOpen    = 2 // due is the day of the next action
)

// Actions.
const (
	actCure     = 0 // abnormal: the cause is cured
	actFinal    = 1 // abnormal: report filed, now removed
	actTransfer = 2 // abnormal: 3 years unresolved → dishonest list
	actRepair   = 0 // dishonest or penalty: credit repair
	actRemove   = 1 // dishonest or court: removal
)

// Sub-codes.
const (
	sevMinor   = 1
	sevGeneral = 2
	sevSerious = 3

	reasonAR          = 1 // annual_report_missing
	reasonNotPub      = 2 // not_publicized
	reasonFalseInfo   = 3 // false_information
	reasonUnreachable = 4 // unreachable_at_address

	disSerious  = 0 // serious violation with a heavy penalty (Order 44)
	disAbnormal = 1 // abnormal list unresolved for 3 years

	resNoProblem    = 1
	resCorrected    = 2
	resProblemFound = 3
	resRefused      = 4
	resUnreachable  = 5

	taxLevelA = 1
	taxLevelB = 2
	taxLevelM = 3
	taxLevelC = 4
	taxLevelD = 5

	outcomeFulfilled = 1
	outcomeBreached  = 2
)

const none = 0xFFFF // no timer

// Entity flags.
const (
	flagLive   = 1 << 0 // its registered event has been generated
	flagARMask = 3 << 1 // annual-report plan of the pending timer
	arOnTime   = 0 << 1
	arLateMode = 1 << 1
	arMissing  = 2 << 1
)

// entity is the compact per-entity state (72 bytes, no pointers).
type entity struct {
	next  int32   // calendar-queue link
	reg   int32   // registration day
	z     float32 // latent risk score, N(0,1)
	seq   [numSlots]uint32
	open  [numSlots]uint16 // day offset the slot's record opened
	due   [numSlots]uint16 // day offset of the slot's next action
	tRand uint16           // next random event
	tAR   uint16           // next annual-report event
	tTax  uint16           // next tax rating
	tInsp uint16           // next inspection
	dereg uint16           // day offset of deregistration, none while active
	st    [numSlots]uint8
	kind  uint8
	div   uint8
	ind   uint8
	flags uint8
}

func (e *entity) state(s int) uint8 { return e.st[s] & 3 }
func (e *entity) act(s int) uint8   { return e.st[s] >> 2 & 3 }
func (e *entity) sub(s int) uint8   { return e.st[s] >> 4 }
func (e *entity) set(s int, state, act, sub uint8) {
	e.st[s] = state | act<<2 | sub<<4
}
func (e *entity) clear(s int) { e.st[s], e.due[s] = 0, none }

// pev is a generated event waiting for its day's emission.
type pev struct {
	key    uint64 // second of day << 32 | generation order: the sort key
	ent    int32
	refSeq uint32 // sequence number of the referenced record's id
	amount uint32 // penalty amount in yuan
	refDay uint16 // day offset of the referenced record (its id year)
	aux    uint16 // year (annual_report, tax_rating), level (honor)
	typ    uint8
	sub    uint8
	slot   uint8 // 1 + slot whose seq is this event's id, 0 for none
}

// Generator produces one synthetic province. Make one with New; Run it once.
type Generator struct {
	opts       Options
	reg        *region
	seed       uint64
	start, end int32 // first day and first day after the stream
	days       int

	ents []entity
	head []int32
	buf  []pev
	ord  uint32

	permMA, permLegacy perm

	samrAuth, taxAuth, courtAuth, apprAuth, cityAgri, citySAMR []string
	provSAMR, provAgri                                         string

	curYear  int
	ctr      [numSrc][]uint32 // event-id counters per source and division, this year
	decCtr   []uint32         // penalty decision numbers per city
	comCtr   []uint32         // commitment numbers per city
	caseCtr  []uint32         // court case numbers per division
	badCtr   uint32
	lineNo   uint64
	line     []byte
	badLine  []byte
	lastPen  lastPenalty
	stats    Stats
	ran      bool
	firstReg int32 // first day of the registration history
	regFirst []int32

	baseRate [numRand][numKinds]float64 // daily rates at ρ = 1 (gov acts scaled to working days)
	inspLogQ [numKinds][2]float64       // ln(1 − monthly draw probability), by kind and listed

	calYear0    int       // first year of the calendar caches
	arListCache [][]int32 // [year][division] listing day of missing annual reports
	taxCache    [][]int32 // [year][city] tax-rating publication day
	sortTmp     []pev
}

type lastPenalty struct {
	ok  bool
	ent int32
	day int32
	id  []byte
}

// New validates opts (after EnsureDefaults) and builds the population. It
// allocates the per-entity state (72 bytes an entity).
func New(opts Options) (*Generator, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	reg, err := loadRegion(opts.Region)
	if err != nil {
		return nil, err
	}
	g := &Generator{opts: opts, reg: reg, seed: opts.Seed, days: opts.Days}
	g.start = daysFromCivil(opts.Start.Year(), int(opts.Start.Month()), opts.Start.Day())
	g.end = g.start + int32(opts.Days)
	g.permMA = newPerm(31*31*31*31*31*31, g.seed, 1)
	g.permLegacy = newPerm(100_000_000, g.seed, 2)
	g.authorities()
	if err := g.checkPlain(); err != nil {
		return nil, err
	}
	g.calendars()
	for s := range g.ctr {
		g.ctr[s] = make([]uint32, len(reg.divs))
	}
	g.decCtr = make([]uint32, len(reg.cities))
	g.comCtr = make([]uint32, len(reg.cities))
	g.caseCtr = make([]uint32, len(reg.divs))
	g.stats.Entities = opts.Entities
	for k := range numRand {
		for kind := range numKinds {
			x := randDefs[k].base[kind] / 365
			if randDefs[k].gov {
				x *= workWeekGovScale
			}
			g.baseRate[k][kind] = x
		}
	}
	for kind := range numKinds {
		for listed, f := range []float64{1, inspListedFactor} {
			cover := min(0.9, inspCover[kind]*f)
			// The monthly draw probability pm gives the yearly cover:
			// 1 − (1 − pm)^12 = cover, so ln(1 − pm) = ln(1 − cover)/12.
			g.inspLogQ[kind][listed] = math.Log(1-cover) / 12
		}
	}
	g.population()
	return g, nil
}

// Generate streams the synthetic province described by opts to emit, one
// credit-event/v1 JSON object per call, without a trailing newline, in
// the order the events are to be applied (non-decreasing occurred_at,
// except deliberately bad "future" lines). The line is only valid during
// the call. An error from emit or ctx stops generation and is returned.
// When opts.Truth is set, it is called for every entity after the last
// event.
func Generate(ctx context.Context, opts Options, emit func(line []byte) error) error {
	g, err := New(opts)
	if err != nil {
		return err
	}
	return g.Run(ctx, emit)
}

// Options returns the options in effect (defaults filled).
func (g *Generator) Options() Options { return g.opts }

// Run generates the stream (see Generate). It may be called once.
func (g *Generator) Run(ctx context.Context, emit func(line []byte) error) error {
	if g.ran {
		return errors.New("synth: Generator.Run called twice")
	}
	g.ran = true
	// History: the registrations of the entities existing at Start.
	i := int32(0)
	for day := g.firstReg; day < g.start; day++ {
		hi := g.regFirst[day-g.firstReg+1]
		if i == hi {
			continue
		}
		for ; i < hi; i++ {
			e := &g.ents[i]
			e.flags |= flagLive
			r := newRNG(g.seed, streamStep, uint64(i), uint64(uint32(day)))
			g.add(pev{ent: i, typ: tRegistered}, officeSecond(&r))
		}
		if err := g.flush(day, emit); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	// Timers of the existing entities; entities registering later wake on
	// their registration day.
	for j := range g.ents {
		e := &g.ents[j]
		if e.reg < g.start {
			r := newRNG(g.seed, streamStep, uint64(j), uint64(uint32(g.start-1)))
			g.initTimers(int32(j), e, g.start-1, false)
			g.reschedule(int32(j), e, -1, &r)
		} else {
			g.link(int32(j), uint16(e.reg-g.start))
		}
		if j&0xFFFF == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	for d := 0; d < g.days; d++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := g.head[d]
		g.head[d] = -1
		for n >= 0 {
			next := g.ents[n].next
			g.step(n, uint16(d))
			n = next
		}
		if err := g.flush(g.start+int32(d), emit); err != nil {
			return err
		}
	}
	if g.opts.Truth != nil {
		return g.truth(ctx)
	}
	return nil
}

// population draws every entity's static traits and registration day.
// Registration days are non-decreasing in the entity number, so the
// history of registrations is emitted in entity order.
func (g *Generator) population() {
	n := g.opts.Entities
	g.ents = make([]entity, n)
	g.head = make([]int32, g.days)
	for d := range g.head {
		g.head[d] = -1
	}
	// Registration intensity ∝ e^{κt} on working days (weekendRegShare on
	// weekends), over maxAgeYears before Start until End.
	g.firstReg = g.start - int32(maxAgeYears*365.25)
	span := int(g.end - g.firstReg)
	cum := make([]float64, span+1)
	for k := range span {
		day := g.firstReg + int32(k)
		w := math.Exp(ageRate * float64(day-g.start) / 365.25)
		if !workday(day) {
			w *= weekendRegShare
		}
		cum[k+1] = cum[k] + w
	}
	total := cum[span]
	g.regFirst = make([]int32, span+1)
	for k := range cum {
		g.regFirst[k] = int32(math.Round(cum[k] / total * float64(n)))
	}
	g.regFirst[span] = int32(n)
	k := 0
	for i := range g.ents {
		for g.regFirst[k+1] <= int32(i) {
			k++
		}
		e := &g.ents[i]
		e.reg = g.firstReg + int32(k)
		r := newRNG(g.seed, streamStatic, uint64(i), 0)
		e.z = float32(r.normal())
		kind := r.pick(kindShare[:])
		e.kind = uint8(kind)
		e.div = uint8(r.pick(g.reg.cum[kind]))
		e.ind = uint8(r.pick(industryCum[kind]))
		e.tRand, e.tAR, e.tTax, e.tInsp, e.dereg = none, none, none, none, none
		for s := range numSlots {
			e.due[s] = none
		}
	}
}

// kindShare as a cumulative table.
func init() {
	var c float64
	for k := range kindShare {
		c += kindShare[k]
		kindShare[k] = c
	}
	kindShare[numKinds-1] = 1
}

func (g *Generator) authorities() {
	r := g.reg
	n := len(r.divs)
	g.samrAuth = make([]string, n)
	g.taxAuth = make([]string, n)
	g.courtAuth = make([]string, n)
	g.apprAuth = make([]string, n)
	for j, d := range r.divs {
		g.samrAuth[j] = d.full + "市场监督管理局"
		g.taxAuth[j] = "国家税务总局" + d.full + "税务局"
		g.apprAuth[j] = d.full + "行政审批服务局"
		if d.kind == unitCity {
			g.courtAuth[j] = d.full + "中级人民法院"
		} else {
			g.courtAuth[j] = d.full + "人民法院"
		}
	}
	for _, c := range r.cities {
		g.citySAMR = append(g.citySAMR, c.name+"市场监督管理局")
		g.cityAgri = append(g.cityAgri, c.name+"农业农村局")
	}
	g.provSAMR = r.prov.name + "市场监督管理局"
	g.provAgri = r.prov.name + "农业农村厅"
}

// checkPlain verifies that every table string the encoder copies between
// quotes without escaping needs no escaping. The tables are built in, so a
// failure is a bug; it is reported rather than producing invalid JSON.
func (g *Generator) checkPlain() error {
	lists := [][]string{g.samrAuth, g.taxAuth, g.courtAuth, g.apprAuth, g.cityAgri, g.citySAMR,
		{g.provSAMR, g.provAgri, "农业农村部", "国家市场监督管理总局", g.reg.prov.short}, commitMatters}
	lists = append(lists, honorTitles[:]...)
	for _, c := range g.reg.cities {
		lists = append(lists, []string{c.short})
	}
	for _, d := range g.reg.divs {
		lists = append(lists, []string{d.code, d.courtNo})
	}
	for _, l := range lists {
		for _, s := range l {
			if !validPlain([]byte(s)) {
				return fmt.Errorf("synth: table string %q needs JSON escaping", s)
			}
		}
	}
	return nil
}

// add queues an event of the current day at the given second of the day.
func (g *Generator) add(p pev, sec int) {
	p.key = uint64(sec)<<32 | uint64(g.ord)
	g.ord++
	g.buf = append(g.buf, p)
}

// Times of day: all events fall between 08:00 and 24:00 China time
// (00:00–16:00 UTC), so the UTC date is the local date. Government acts
// happen in office hours, 08:30–17:30 China time.
func officeSecond(r *rng) int { return r.between(1800, 34199) }
func onlineSecond(r *rng) int { return r.intn(57600) }

// rel converts a day to a timer offset: none when it falls after the stream.
func (g *Generator) rel(day int32) uint16 {
	if day >= g.end {
		return none
	}
	return uint16(day - g.start)
}

func (g *Generator) link(i int32, d uint16) {
	e := &g.ents[i]
	e.next = g.head[d]
	g.head[d] = i
}

// logRisk is ln ρ = σz − σ²/2.
func logRisk(z float32) float64 { return riskSigma*float64(z) - riskSigma*riskSigma/2 }

// initTimers plans the annual, tax and inspection timers of a live entity
// from the day after 'after'.
func (g *Generator) initTimers(i int32, e *entity, after int32, nextMonth bool) {
	g.planAR(i, e, after)
	g.planTax(i, e, after)
	g.planInsp(i, e, after, nextMonth)
}

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
	lr := logRisk(e.z)
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
			g.fireSlot(i, e, s, today, lr, &r)
		}
	}
	g.reschedule(i, e, int(d), &r)
}

// reschedule draws the next random event and links the entity into the
// bucket of its earliest timer. d is the current day offset (−1 before
// the stream).
func (g *Generator) reschedule(i int32, e *entity, d int, r *rng) {
	var rates [numRand]float64
	total := g.rates(e, logRisk(e.z), &rates)
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
			if listed {
				x = 0
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
		subst := r.float() < logistic(-1+0.9*float64(e.z))
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
	var lo, hi float64
	switch sev {
	case sevMinor:
		lo, hi = 200, 3000
	case sevGeneral:
		lo, hi = 3000, 100000
	default:
		lo, hi = 100000, 2000000
	}
	amount := uint32(math.Round(lo*math.Pow(hi/lo, r.float())/100) * 100)
	p := pev{ent: i, typ: tPenalty, sub: sev, amount: amount}
	if sev != sevMinor && e.state(slotPen) == stEmpty {
		base, months, minDays := penRepairGeneral, 6, int32(184)
		if sev == sevSerious {
			base, months, minDays = penRepairSerious, 12, 366
		}
		if r.float() < base/(1+0.3*math.Exp(lr)) {
			due := nextWorkday(earliestRepair(today, months, minDays) + int32(r.exp()*repairDelayMean))
			e.set(slotPen, stOpen, actRepair, sev)
			e.open[slotPen] = uint16(today - g.start)
			e.due[slotPen] = g.rel(due)
			p.slot = slotPen + 1
		}
	}
	g.add(p, officeSecond(r))
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
	if r.float() < logistic(commitBreachA+commitBreachB*float64(e.z)) {
		outcome = outcomeBreached
	}
	e.open[slotCom] = uint16(today - g.start)
	e.set(slotCom, stOpen, 0, outcome)
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
	pMiss := 1 - math.Exp(-arMissBase[e.kind]*math.Exp(arMissExp*logRisk(e.z)))
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
	s := float64(e.z) + 0.6*r.normal()
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
	y, m, _ := civil(after)
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

// fireSlot performs the due action of record slot s.
func (g *Generator) fireSlot(i int32, e *entity, s int, today int32, lr float64, r *rng) {
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
		ref.typ = tRepair
		e.clear(s)
		g.add(ref, officeSecond(r))
	case slotCom:
		ref.typ = tCommitFulfilled
		if e.sub(s) == outcomeBreached {
			ref.typ = tCommitBreached
		}
		e.clear(s)
		g.add(ref, officeSecond(r))
	}
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

// flush sorts the day's events by time and emits them.
func (g *Generator) flush(day int32, emit func([]byte) error) error {
	if len(g.buf) == 0 {
		return nil
	}
	g.sortDay()
	if y := yearOf(day); y != g.curYear {
		g.curYear = y
		for s := range g.ctr {
			clear(g.ctr[s])
		}
		clear(g.decCtr)
		clear(g.comCtr)
		clear(g.caseCtr)
	}
	var prefix [11]byte
	appendDate(prefix[:0], day)
	prefix[10] = 'T'
	for k := range g.buf {
		p := &g.buf[k]
		var seq uint32
		g.line, seq = g.appendEvent(g.line[:0], p, day, &prefix)
		if err := emit(g.line); err != nil {
			return err
		}
		g.stats.Events++
		g.stats.byType[p.typ]++
		if p.slot != 0 {
			g.ents[p.ent].seq[p.slot-1] = seq
		}
		if p.typ == tPenalty && p.sub != sevMinor {
			g.lastPen.ok, g.lastPen.ent, g.lastPen.day = true, p.ent, day
			g.lastPen.id = g.appendID(g.lastPen.id[:0], srcSAMR, g.ents[p.ent].div, g.curYear, seq)
		}
		if g.opts.BadRate > 0 {
			if err := g.maybeBad(p, day, &prefix, emit); err != nil {
				return err
			}
		}
	}
	g.buf = g.buf[:0]
	g.ord = 0
	return nil
}

// sortDay orders the day's events by second of the day, ties in queue
// order: a stable LSD radix sort on the 16-bit second (two byte passes),
// O(n), which beats a comparison sort on the few hundred to million
// events of a day.
func (g *Generator) sortDay() {
	n := len(g.buf)
	if cap(g.sortTmp) < n {
		g.sortTmp = make([]pev, n)
	}
	src, dst := g.buf, g.sortTmp[:n]
	for shift := uint(32); shift < 48; shift += 8 {
		var count [257]int
		for k := range src {
			count[(src[k].key>>shift)&0xFF+1]++
		}
		for b := 1; b < len(count); b++ {
			count[b] += count[b-1]
		}
		for k := range src {
			b := (src[k].key >> shift) & 0xFF
			dst[count[b]] = src[k]
			count[b]++
		}
		src, dst = dst, src
	}
	// Two passes: the sorted data is back in g.buf's array.
}
