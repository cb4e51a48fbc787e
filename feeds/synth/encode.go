package synth

import (
	"strconv"
	"unicode/utf8"

	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/jsontext"
	"github.com/creditrisk/creditd/models/uscc"
)

// JSON is written by hand (no reflection, no allocation): every value is
// either a constant, a number, or a string from appendString, which escapes
// what RFC 8259 requires and passes valid UTF-8 through.

var (
	severityNames = [4]string{"", "minor", "general", "serious"}
	reasonNames   = [5]string{"", "annual_report_missing", "not_publicized", "false_information", "unreachable_at_address"}
	disReasons    = [2]string{"serious_violation_heavy_penalty", "abnormal_list_3_years"}
	resultNames   = [6]string{"", "no_problem", "corrected", "problem_found", "refused", "unreachable"}
	taxNames      = [6]string{"", "A", "B", "M", "C", "D"}
	deregMethods  = [2]string{"general", "simplified"}
)

// appendEvent encodes p, numbering its id; it returns the line and the id's
// sequence number.
func (g *Generator) appendEvent(b []byte, p *pev, day int32, prefix *[11]byte) ([]byte, uint32) {
	e := &g.ents[p.ent]
	if p.typ == tObjFiled || p.typ == tObjAnswered {
		return g.appendObjection(b, p, e, prefix), 0
	}
	div := &g.reg.divs[e.div]
	src := typeSrc[p.typ]
	if p.typ == tComplaint && p.aux == 1 {
		src = src12315
	}
	g.ctr[src][e.div]++
	seq := g.ctr[src][e.div]
	b = append(b, `{"id":"`...)
	b = g.appendID(b, src, e.div, g.curYear, seq)
	u := g.uscc(p.ent, e)
	b = appendHead(b, p, u[:], prefix, g.authority(p, e))
	switch p.typ {
	case tRegistered:
		b = append(b, `"name":`...)
		nameStart := len(b)
		r := newRNG(g.seed, streamName, uint64(p.ent), 0)
		b = append(b, '"')
		b = g.appendName(b, int(e.kind), div, &industries[e.ind], &r)
		b = append(b, '"')
		if !validPlain(b[nameStart+1 : len(b)-1]) { // never for the built-in tables
			name := string(b[nameStart+1 : len(b)-1])
			b = jsontext.AppendString(b[:nameStart], name)
		}
		b = append(b, `,"region":"`...)
		b = append(b, div.code...)
		b = append(b, `","registered_on":"`...)
		b = appendDate(b, e.reg)
		b = append(b, `","industry":"`...)
		b = append(b, industries[e.ind].code...)
		b = append(b, '"')
	case tDeregistered:
		b = append(b, `"method":"`...)
		b = append(b, deregMethods[p.sub]...)
		b = append(b, '"')
	case tPenalty:
		city := &g.reg.cities[div.city]
		g.decCtr[div.city]++
		b = append(b, `"severity":"`...)
		b = append(b, severityNames[p.sub]...)
		b = append(b, `","decision_no":"`...)
		b = append(b, g.reg.prov.short...)
		b = append(b, city.short...)
		b = append(b, "市监罚〔"...)
		b = strconv.AppendInt(b, int64(g.curYear), 10)
		b = append(b, "〕"...)
		b = strconv.AppendUint(b, uint64(g.decCtr[div.city]), 10)
		b = append(b, `号"`...)
		b = appendPenaltyAttrs(b, p)
	case tAbnormalListed:
		b = append(b, `"reason":"`...)
		b = append(b, reasonNames[p.sub]...)
		b = append(b, '"')
	case tDishonestListed:
		b = append(b, `"reason":"`...)
		b = append(b, disReasons[p.sub]...)
		b = append(b, '"')
	case tCourtListed:
		g.caseCtr[e.div]++
		b = append(b, `"case_no":"（`...)
		b = strconv.AppendInt(b, int64(g.curYear), 10)
		b = append(b, "）"...)
		b = append(b, div.courtNo...)
		b = append(b, "执"...)
		b = strconv.AppendUint(b, uint64(g.caseCtr[e.div]), 10)
		b = append(b, `号"`...)
	case tInspection:
		_, m, _ := ymd(day)
		b = append(b, `"plan_id":"`...)
		b = append(b, g.opts.Region...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(g.curYear), 10)
		b = append(b, '-', byte('0'+m/10), byte('0'+m%10))
		b = append(b, `","result":"`...)
		b = append(b, resultNames[p.sub]...)
		b = append(b, '"')
	case tAnnualReport:
		b = append(b, `"year":`...)
		b = strconv.AppendUint(b, uint64(p.aux), 10)
		if p.sub == 1 {
			b = append(b, `,"on_time":true`...)
		} else {
			b = append(b, `,"on_time":false`...)
		}
	case tCommitMade:
		city := &g.reg.cities[div.city]
		g.comCtr[div.city]++
		b = append(b, `"commitment_no":"`...)
		b = append(b, g.reg.prov.short...)
		b = append(b, city.short...)
		b = append(b, "审批承诺〔"...)
		b = strconv.AppendInt(b, int64(g.curYear), 10)
		b = append(b, "〕"...)
		b = strconv.AppendUint(b, uint64(g.comCtr[div.city]), 10)
		b = append(b, `号","matter":"`...)
		b = append(b, commitMatters[p.sub]...)
		b = append(b, '"')
	case tTaxRating:
		b = append(b, `"year":`...)
		b = strconv.AppendUint(b, uint64(p.aux), 10)
		b = append(b, `,"level":"`...)
		b = append(b, taxNames[p.sub]...)
		b = append(b, '"')
	case tHonor:
		b = append(b, `"title":"`...)
		b = append(b, honorTitles[e.kind][p.sub]...)
		b = append(b, `","level":"`...)
		b = append(b, levelNames[p.aux]...)
		b = append(b, '"')
	case tComplaint:
		if p.sub == 1 {
			b = append(b, `"substantiated":true`...)
		} else {
			b = append(b, `"substantiated":false`...)
		}
	case tAbnormalRemoved, tDishonestRemoved, tCourtRemoved, tCommitBreached, tCommitFulfilled:
		b = g.appendRef(b, p, e)
	case tRepair:
		b = g.appendRef(b, p, e)
		b = append(b, `,"decided_on":"`...)
		b = append(b, prefix[:10]...)
		b = append(b, '"')
		if p.aux != 0 {
			b = append(b, `,"channel":"`...)
			b = append(b, event.ChannelName(uint8(p.aux))...)
			b = append(b, '"')
		}
	}
	b = append(b, "}}"...)
	return b, seq
}

// appendHead appends the members after the id up to the opening of
// attrs: uscc, type, occurred_at (the day's prefix and p's second) and
// authority (built from tables checked by checkPlain).
func appendHead(b []byte, p *pev, u []byte, prefix *[11]byte, authority string) []byte {
	b = append(b, `","uscc":"`...)
	b = append(b, u...)
	b = append(b, `","type":"`...)
	b = append(b, typeNames[p.typ]...)
	b = append(b, `","occurred_at":"`...)
	b = append(b, prefix[:]...)
	b = appendClock(b, int(p.key>>32))
	b = append(b, `Z","authority":"`...)
	b = append(b, authority...)
	return append(b, `","attrs":{`...)
}

// appendPenaltyAttrs appends a penalty's optional attributes (events.md
// "Penalty attributes") from p (pev.setPenalty).
func appendPenaltyAttrs(b []byte, p *pev) []byte {
	types := event.PenaltyType(p.aux)
	if types&event.PenFine != 0 {
		b = append(b, `,"amount_yuan":`...)
		b = strconv.AppendUint(b, uint64(p.amount), 10)
	}
	if types != 0 {
		b = append(b, `,"penalty_types":[`...)
		first := true
		for k, name := range event.PenaltyTypeNames() {
			if types&(1<<k) == 0 {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, '"')
			b = append(b, name...)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	if p.refDay != 0 {
		b = append(b, `,"restriction_months":`...)
		b = strconv.AppendUint(b, uint64(p.refDay), 10)
	}
	if proc := uint8(p.refSeq); proc != 0 {
		b = append(b, `,"procedure":"`...)
		b = append(b, event.ProcedureName(proc)...)
		b = append(b, '"')
	}
	if sec := uint8(p.refSeq >> 8); sec != 0 {
		b = append(b, `,"sector":"`...)
		b = append(b, event.SectorName(sec)...)
		b = append(b, '"')
	}
	return b
}

// appendRef appends "ref":"<id of the referenced record>". The referenced
// record has the same id source as p's type (a repair refers to a market-
// regulation record, a court removal to a court listing, and so on).
func (g *Generator) appendRef(b []byte, p *pev, e *entity) []byte {
	b = append(b, `"ref":"`...)
	src := typeSrc[p.typ]
	if p.typ == tRepair || p.typ == tObjFiled {
		src = p.refSrc
	}
	b = g.appendID(b, src, e.div, yearOf(g.start+int32(p.refDay)), p.refSeq)
	return append(b, '"')
}

// appendID appends SRC-DIVISION-YEAR-NNNNNN.
func (g *Generator) appendID(b []byte, src uint8, div uint8, year int, seq uint32) []byte {
	b = append(b, srcNames[src]...)
	b = append(b, '-')
	b = append(b, g.reg.divs[div].code...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(year), 10)
	b = append(b, '-')
	return appendSeq(b, seq)
}

// appendSeq appends n zero-padded to at least six digits.
func appendSeq(b []byte, n uint32) []byte {
	var tmp [10]byte
	i := len(tmp)
	for n > 0 || i > len(tmp)-6 {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, tmp[i:]...)
}

// authority names the department that issued p.
func (g *Generator) authority(p *pev, e *entity) string {
	switch p.typ {
	case tCourtListed, tCourtRemoved:
		return g.courtAuth[e.div]
	case tTaxRating:
		return g.taxAuth[e.div]
	case tCommitMade, tCommitBreached, tCommitFulfilled:
		return g.apprAuth[e.div]
	case tHonor:
		city := g.reg.divs[e.div].city
		switch p.aux {
		case levelNational:
			if e.kind == kindCoop {
				return "农业农村部"
			}
			return "国家市场监督管理总局"
		case levelProvincial:
			if e.kind == kindCoop {
				return g.provAgri
			}
			return g.provSAMR
		}
		if e.kind == kindCoop {
			return g.cityAgri[city]
		}
		return g.citySAMR[city]
	}
	return g.samrAuth[e.div]
}

// uscc builds entity i's code: registration authority 9, the kind's type
// code, the division, the organisation code (a keyed bijection of i, so
// codes never collide) with its GB 11714 check character, and the GB 32100
// check character.
func (g *Generator) uscc(i int32, e *entity) uscc.Code {
	var c uscc.Code
	c[0] = '9'
	c[1] = '1' + e.kind
	copy(c[2:8], g.reg.divs[e.div].code)
	if e.kind == kindIndividual || e.reg >= maCodesFrom {
		v := g.permMA.apply(uint64(i))
		c[8], c[9] = 'M', 'A'
		for k := 15; k >= 10; k-- {
			c[k] = uscc.Alphabet[v%31]
			v /= 31
		}
	} else {
		v := g.permLegacy.apply(uint64(i))
		for k := 15; k >= 8; k-- {
			c[k] = byte('0' + v%10)
			v /= 10
		}
	}
	c[16] = uscc.OrgCheckCharacter(c[8:16])
	c[17] = uscc.CheckCharacter(c[:17])
	return c
}

// validPlain reports whether s can go between quotes unescaped.
func validPlain(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(s)
}
