package synth

import (
	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	objrule "github.com/creditrisk/creditd/models/objection"
)

// Objections (异议, domain §4.8; events.md "Objections"): a small share of
// the records an entity can see are objected to some days after they are
// published (objection_filed, ref = the record's id); the source authority
// answers within 3 Chinese working days (objrule.Days), or refers the
// objection to another unit and answers within 7 (objrule.VerifyDays),
// mostly on time, sometimes late. Working days come from models/workday,
// the calendar the engine's deadlines use (make-up workdays included).
//
// An objection lives in its own calendar queue (Generator.objs, objHead),
// not in the entity: few records are objected to. Its stages are filed,
// referred (optional) and answered, each on a later day than the one
// before, so a ref never precedes its target.

// objection is one objection's plan.
type objection struct {
	next    int32  // calendar-queue link
	ent     int32  // the entity
	tgtSeq  uint32 // the target record's id sequence
	tgtDay  uint16 // the target record's day offset (its id year)
	filed   uint16 // day offset of the filing
	answer  uint16 // day offset of the final answer (none: after the stream)
	tgtTyp  uint8  // the target record's type
	tgtSrc  uint8  // the target record's id source
	stage   uint8  // the next event: objFile, objRefer or objAnswer
	outcome uint8  // the final answer: outcomeUpheld or outcomeRejected
	slot    uint8  // 1 + the entity slot that holds the target's follow-up, 0 none
}

// Stages and outcomes (sub-codes of objection_answered, events.md).
const (
	objFile = iota
	objRefer
	objAnswer

	outcomeUpheld   = 1
	outcomeRejected = 2
	outcomeReferred = 3
)

var outcomeNames = [4]string{"", "upheld", "rejected", "referred"}

// objectable are the types whose records may be objected to at emission
// (a breach is objected to through its commitment).
var objectable = [numTypes]bool{tPenalty: true, tAbnormalListed: true, tDishonestListed: true, tCourtListed: true,
	tInspection: true, tTaxRating: true, tCommitBreached: true}

// objectionRate is the probability that the record p opens is objected to
// (params.go "Objections").
func objectionRate(p *pev) float64 {
	switch p.typ {
	case tPenalty:
		if uint8(p.refSeq) == event.ProcedureSimple {
			return objPenaltySimple
		}
		return objPenalty
	case tAbnormalListed:
		if p.sub == reasonUnreachable {
			return objUnreachable
		}
		return objAbnormal
	case tDishonestListed:
		return objDishonest
	case tCourtListed:
		return objCourt
	case tInspection:
		if p.sub != resNoProblem {
			return objInspection
		}
	case tTaxRating:
		if p.sub == taxLevelC || p.sub == taxLevelD {
			return objTax
		}
	case tCommitBreached:
		return objBreach
	}
	return 0
}

// maybeObject decides, when the record-opening event p is emitted on day
// with id sequence seq, whether its entity objects to the record, and
// queues the filing.
func (g *Generator) maybeObject(p *pev, day int32, seq uint32) {
	rate := objectionRate(p)
	if rate == 0 {
		return
	}
	r := newRNG(g.seed, streamObjection, uint64(p.ent)<<8|uint64(p.typ), uint64(uint32(day))<<32|uint64(seq))
	if r.float() >= rate {
		return
	}
	o := objection{ent: p.ent, tgtSeq: seq, tgtDay: uint16(day - g.start), tgtTyp: p.typ, tgtSrc: typeSrc[p.typ], answer: none}
	switch p.typ {
	case tPenalty:
		if p.slot == slotPen+1 {
			o.slot = slotPen + 1
		}
	case tCommitBreached:
		o.tgtSeq, o.tgtDay, o.tgtTyp, o.tgtSrc, o.slot = p.refSeq, p.refDay, tCommitMade, srcAppr, slotCom+1
	}
	filed := day + 1 + int32(min(objFileMaxDays, r.exp()*objFileDelayMean))
	if filed >= g.end {
		return
	}
	o.filed = uint16(filed - g.start)
	if o.outcome = outcomeRejected; r.float() < objUpheld {
		o.outcome = outcomeUpheld
	}
	g.queueObjection(o, o.filed)
}

// queueObjection appends o to the objections due on day offset d.
func (g *Generator) queueObjection(o objection, d uint16) {
	k := int32(len(g.objs))
	o.next = g.objHead[d]
	g.objHead[d] = k
	g.objs = append(g.objs, o)
}

// requeue moves objection k to day offset d (if inside the stream).
func (g *Generator) requeue(k int32, d uint16) {
	if d == none {
		return
	}
	o := &g.objs[k]
	o.next = g.objHead[d]
	g.objHead[d] = k
}

// fireObjections emits the objection events due on day offset d.
func (g *Generator) fireObjections(d int) {
	k := g.objHead[d]
	g.objHead[d] = -1
	for k >= 0 {
		next := g.objs[k].next
		g.fireObjection(k, g.start+int32(d))
		k = next
	}
}

// wdDay is the n-th Chinese working day after day (models/workday).
func (g *Generator) wdDay(day int32, n int) int32 { return int32(g.wd.Add(civil.Date(day), n)) }

// fireObjection emits objection k's event of today and plans the next.
func (g *Generator) fireObjection(k int32, today int32) {
	o := &g.objs[k]
	e := &g.ents[o.ent]
	r := newRNG(g.seed, streamObjection, uint64(o.ent)<<8|uint64(o.stage)|1<<63, uint64(uint32(today))<<32|uint64(o.tgtSeq))
	p := pev{ent: o.ent, refSeq: o.tgtSeq, refDay: o.tgtDay, refSrc: o.tgtSrc, aux: o.filed, amount: uint32(o.tgtTyp)}
	switch o.stage {
	case objFile:
		if e.dereg != none {
			return // the entity left before filing
		}
		p.typ = tObjFiled
		g.add(p, onlineSecond(&r))
		if e.flags&flagObjMask != flagObjMask {
			e.flags += 1 << flagObjShift
		}
		// Plan the answers: none (the objection stays open: overdue), a
		// referral within the first limit, the final answer within the
		// limit in force, or late.
		if r.float() < objUnanswered {
			return
		}
		limit := objrule.Days
		if r.float() < objReferred {
			limit = objrule.VerifyDays
			o.stage = objRefer
			refer := g.wdDay(today, r.between(1, objrule.Days-1))
			final := g.answerDay(today, limit, refer, &r)
			o.answer = g.rel(final)
			g.requeue(k, g.rel(refer))
			return
		}
		o.stage = objAnswer
		o.answer = g.rel(g.answerDay(today, limit, today, &r))
		g.requeue(k, o.answer)
	case objRefer:
		p.typ, p.sub = tObjAnswered, outcomeReferred
		g.add(p, officeSecond(&r))
		o.stage = objAnswer
		g.requeue(k, o.answer)
	case objAnswer:
		p.typ, p.sub = tObjAnswered, o.outcome
		g.add(p, officeSecond(&r))
		if e.flags&flagObjMask != 0 && e.flags&flagObjMask != flagObjMask {
			e.flags -= 1 << flagObjShift
		}
		if o.outcome == outcomeUpheld {
			g.withdraw(e, o)
		}
	}
}

// answerDay draws the final answer's day of an objection filed on filed
// with a limit of limit working days, after day after: on time (a working
// day up to the deadline) or, with probability objLate, 1 + Exp(objLateMeanWD)
// working days past it (at most objLateMaxWD).
func (g *Generator) answerDay(filed int32, limit int, after int32, r *rng) int32 {
	deadline := g.wdDay(filed, limit)
	if r.float() < objLate {
		return g.wdDay(deadline, 1+int(min(objLateMaxWD-1, r.exp()*objLateMeanWD)))
	}
	first := 1
	for g.wdDay(filed, first) <= after {
		first++
	}
	if first > limit {
		return g.wdDay(after, 1)
	}
	return g.wdDay(filed, r.between(first, limit))
}

// withdraw applies an upheld objection to the generator's state: the
// withdrawn record's pending repair (a penalty's, a breach's) is dropped,
// a breach no longer bars commitments, and a withdrawn serious penalty
// leads to no dishonest listing. List entries keep their follow-ups (the
// listing is also removed by its own event later, as the engine expects
// for the SAMR early-stop condition, which reads list entries).
func (g *Generator) withdraw(e *entity, o *objection) {
	if o.slot == 0 {
		return
	}
	s := int(o.slot - 1)
	if e.state(s) != stOpen || e.seq[s] != o.tgtSeq || e.open[s] != o.tgtDay {
		return
	}
	if s == slotCom && e.act(s) == comVerify {
		return
	}
	e.clear(s)
	if s == slotPen && e.state(slotDis) == stPending && e.sub(slotDis) == disSerious {
		e.clear(slotDis)
	}
}

// Objection texts (plain: no JSON escaping needed; checkPlain verifies).
var (
	objReasons = map[uint8][]string{
		tPenalty:         {"处罚决定已被行政复议撤销", "已履行处罚决定，公示信息未更新", "处罚决定载明的主体信息有误"},
		tAbnormalListed:  {"年度报告已按时报送", "住所可以取得联系，不属于无法联系", "相关信息已按要求公示"},
		tDishonestListed: {"列入依据的处罚决定已被撤销", "列入事由与事实不符"},
		tCourtListed:     {"已履行生效法律文书确定的义务", "被执行人主体信息有误"},
		tInspection:      {"检查结果与实际情况不符", "问题已当场整改完毕"},
		tTaxRating:       {"纳税信用评价结果与实际不符", "已补缴税款及滞纳金"},
		tCommitMade:      {"已在承诺期限内补交材料", "承诺事项已全部履行"},
	}
	answerReasons = [4][]string{
		outcomeUpheld:   {"经核查，异议成立，予以更正", "原决定已被撤销，信息予以撤回"},
		outcomeRejected: {"经核查，原记录认定事实清楚、证据确凿，异议不成立", "异议理由缺乏证据支持，维持原记录"},
		outcomeReferred: {"需相关部门协助核实，答复期限延长至七个工作日", "已转请原决定机关协助核实"},
	}
)

// objAlphabet is the base32 alphabet of objection ids (models/objection:
// Crockford's, no I, L, O, U).
const objAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// appendObjectionID appends OBJ-<USCC>-<16 characters> (events.md,
// report.md "Objections"): 80 bits keyed by the objection, so ids are
// deterministic, unique in practice and look like the random ones creditd
// issues.
func (g *Generator) appendObjectionID(b []byte, p *pev, u []byte) []byte {
	b = append(b, objrule.IDPrefix...)
	b = append(b, u...)
	b = append(b, '-')
	h := hash3(g.seed, streamObjection, uint64(p.ent)|uint64(p.refSrc)<<32|1<<62,
		uint64(p.aux)<<48|uint64(p.refDay)<<32|uint64(p.refSeq))
	lo := mix64(h ^ 0x6a09e667f3bcc909)
	for k := 0; k < 12; k++ {
		b = append(b, objAlphabet[h>>(5*k)&31])
	}
	for k := 0; k < 4; k++ {
		b = append(b, objAlphabet[lo>>(5*k)&31])
	}
	return b
}

// appendObjection encodes an objection_filed or objection_answered event.
func (g *Generator) appendObjection(b []byte, p *pev, e *entity, prefix *[11]byte) []byte {
	u := g.uscc(p.ent, e)
	r := newRNG(g.seed, streamObjection, uint64(p.ent)|uint64(p.typ)<<40|1<<61, p.key)
	b = append(b, `{"id":"`...)
	b = g.appendObjectionID(b, p, u[:])
	if p.typ == tObjAnswered {
		b = append(b, '-')
		h := r.u64()
		for k := 0; k < 8; k++ {
			b = append(b, objAlphabet[h>>(5*k)&31])
		}
	}
	tgt := pev{typ: uint8(p.amount)}
	b = appendHead(b, p, u[:], prefix, g.authority(&tgt, e))
	if p.typ == tObjFiled {
		b = g.appendRef(b, p, e)
		b = append(b, `,"reason":"`...)
		b = appendPick(b, objReasons[uint8(p.amount)], &r)
	} else {
		b = append(b, `"ref":"`...)
		b = g.appendObjectionID(b, p, u[:])
		b = append(b, `","outcome":"`...)
		b = append(b, outcomeNames[p.sub&3]...)
		b = append(b, `","reasons":"`...)
		b = appendPick(b, answerReasons[p.sub&3], &r)
	}
	return append(b, `"}}`...)
}

// appendPick appends one of texts ("" when there are none).
func appendPick(b []byte, texts []string, r *rng) []byte {
	if len(texts) == 0 {
		return b
	}
	return append(b, texts[r.intn(len(texts))]...)
}
