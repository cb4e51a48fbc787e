package synth

import (
	"context"
	"errors"
	"fmt"
	"math"

	cnwork "github.com/creditrisk/creditd/models/workday"
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
	tObjFiled
	tObjAnswered
	numTypes
)

var typeNames = [numTypes]string{
	"registered", "deregistered", "penalty", "abnormal_listed", "abnormal_removed",
	"dishonest_listed", "dishonest_removed", "court_debtor_listed", "court_debtor_removed",
	"inspection", "annual_report", "commitment_made", "commitment_breached", "commitment_fulfilled",
	"tax_rating", "honor", "complaint", "repair",
	"objection_filed", "objection_answered",
}

// Event id sources: the department that issues the event.
const (
	srcSAMR  = iota // market regulation (市场监督管理局)
	srcCourt        // people's courts
	srcTax          // tax bureaus
	srcAppr         // administrative approval bureaus (行政审批服务局), commitments
	srcHonor        // the body awarding an honour
	src12315        // the 12315 complaint platform, consumer complaints (pev.aux = 1)
	numSrc
)

var srcNames = [numSrc]string{"SAMR", "COURT", "TAX", "APPR", "HONOR", "12315"}

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
	// Open objections of the entity (a counter, saturating at 31): no
	// exit while one is open.
	flagObjShift = 3
	flagObjMask  = 31 << flagObjShift
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
	refSeq uint32 // sequence number of the referenced record's id; penalty: procedure | sector << 8
	amount uint32 // penalty amount in yuan; objection: the target's type
	refDay uint16 // day offset of the referenced record (its id year); penalty: restriction months
	aux    uint16 // year (annual_report, tax_rating), level (honor), penalty types, repair channel, objection filing day offset
	typ    uint8
	sub    uint8
	slot   uint8 // 1 + slot whose seq is this event's id, 0 for none
	refSrc uint8 // id source of the referenced record (repair, objection)
}

// setPenalty packs a penalty's attributes into p.
func (p *pev) setPenalty(a *penAttrs) {
	p.aux = uint16(a.types)
	p.refDay = a.months
	p.refSeq = uint32(a.proc) | uint32(a.sector)<<8
	p.amount = a.amount
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

	wd      *cnwork.Calendar // Chinese working days (objection deadlines)
	objs    []objection      // objections, by index
	objHead []int32          // calendar queue of objections, by day offset

	cmpRate [numKinds][]float64 // consumer complaints a day at ρ = 1, by kind and industry
	cmpHead []int32             // calendar queue of consumer complaints, by day offset
	cmpNext []int32             // its links, by entity
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
	g.wd = cnwork.New()
	g.objHead = emptyQueue(g.days)
	if opts.ConsumerComplaints {
		g.cmpRate = consumerRates()
		g.cmpHead = emptyQueue(g.days)
		g.cmpNext = make([]int32, len(g.ents))
	}
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
		// Consumer complaints from the day after registration (or from
		// Start for the existing entities).
		if g.opts.ConsumerComplaints {
			after := max(e.reg, g.start-1)
			rc := newRNG(g.seed, streamComplaint, uint64(j), uint64(uint32(after)))
			g.planComplaint(int32(j), e, after, &rc)
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
		g.fireObjections(d)
		if g.opts.ConsumerComplaints {
			g.fireComplaints(d)
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
	g.head = emptyQueue(g.days)
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
	lists = append(lists, answerReasons[:]...)
	for _, l := range objReasons {
		lists = append(lists, l)
	}
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

// channelZ is entity i's propensity in observation channel c:
// λ_c·z + √(1−λ_c²)·ε_c with ε_c ~ N(0,1) fixed per entity and channel
// (params.go "Observation channels"). It is N(0,1) like z, so every rate
// keeps its population mean; only its link to z weakens.
func (g *Generator) channelZ(i int32, e *entity, c int) float32 {
	r := newRNG(g.seed, streamChannel, uint64(i), uint64(c))
	l := channelLoading[c]
	return float32(l*float64(e.z) + math.Sqrt(1-l*l)*r.normal())
}

// initTimers plans the annual, tax and inspection timers of a live entity
// from the day after 'after'.
func (g *Generator) initTimers(i int32, e *entity, after int32, nextMonth bool) {
	g.planAR(i, e, after)
	g.planTax(i, e, after)
	g.planInsp(i, e, after, nextMonth)
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
		if objectable[p.typ] {
			g.maybeObject(p, day, seq)
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

// emptyQueue is a calendar queue of days days with nothing queued: each
// day's head is -1, the end of its list.
func emptyQueue(days int) []int32 {
	q := make([]int32, days)
	for d := range q {
		q[d] = -1
	}
	return q
}
