package synth

import (
	"strconv"

	"github.com/creditrisk/creditd/models/jsontext"
	"github.com/creditrisk/creditd/models/uscc"
)

// BadClasses are the classes of deliberately invalid lines, one per failure
// class of events.md "What bad input gets". A bad line's id is
// "BAD-<class>-NNNNNN" (NNNNNN counts all bad lines from 000001), so tests
// can count and classify them; for not_json the id is still visible in the
// text. Except for "future", a bad line carries the occurred_at of the good
// line before it.
var BadClasses = []string{
	"not_json",      // a truncated object: not a JSON value
	"missing_field", // occurred_at is absent
	"invalid_uscc",  // the USCC's check character is wrong
	"unknown_type",  // type "bankruptcy_filed"
	"invalid_attrs", // complaint with "substantiated":"yes" (a string, not a bool)
	"future",        // occurred_at ten years after the stream's end
	"unknown_ref",   // abnormal_removed whose ref names no record
	"early_repair",  // repair of a general or serious penalty under 2 months old
}

const (
	badNotJSON = iota
	badMissingField
	badInvalidUSCC
	badUnknownType
	badInvalidAttrs
	badFuture
	badUnknownRef
	badEarlyRepair
	numBad
)

// maybeBad emits, with probability BadRate, a bad line after the good line
// p. The draw is keyed by the line number, so it does not disturb the good
// stream: the good lines are the same with or without bad ones.
func (g *Generator) maybeBad(p *pev, day int32, prefix *[11]byte, emit func([]byte) error) error {
	g.lineNo++
	r := newRNG(g.seed, streamBad, g.lineNo, 0)
	if r.float() >= g.opts.BadRate {
		return nil
	}
	class := r.intn(numBad)
	e := &g.ents[p.ent]
	ent := p.ent
	if class == badEarlyRepair {
		lp := &g.lastPen
		// Under two months old: too early under every regime (the
		// shortest minimum period is 3 months, record.RuleFor).
		if !lp.ok || lp.day >= day || day >= lp.day+60 {
			class = badUnknownRef // no penalty young enough to repair too early
		} else {
			ent, e = lp.ent, &g.ents[lp.ent]
		}
	}
	g.badCtr++
	g.stats.Bad[class]++
	u := g.uscc(ent, e)
	if class == badInvalidUSCC {
		v := (indexUSCC(u[17]) + 1 + r.intn(30)) % 31
		u[17] = uscc.Alphabet[v]
	}
	b := g.badLine[:0]
	b = append(b, `{"id":"BAD-`...)
	b = append(b, BadClasses[class]...)
	b = append(b, '-')
	b = appendSeq(b, g.badCtr)
	b = append(b, `","uscc":"`...)
	b = append(b, u[:]...)
	b = append(b, `","type":"`...)
	switch class {
	case badUnknownType:
		b = append(b, "bankruptcy_filed"...)
	case badUnknownRef:
		b = append(b, "abnormal_removed"...)
	case badEarlyRepair:
		b = append(b, "repair"...)
	default:
		b = append(b, "complaint"...)
	}
	b = append(b, '"')
	if class != badMissingField {
		b = append(b, `,"occurred_at":"`...)
		if class == badFuture {
			b = appendDate(b, g.end+3650)
			b = append(b, 'T')
		} else {
			b = append(b, prefix[:]...)
		}
		b = appendClock(b, int(p.key>>32))
		b = append(b, `Z"`...)
	}
	b = append(b, `,"authority":`...)
	b = jsontext.AppendString(b, g.samrAuth[e.div])
	b = append(b, `,"attrs":{`...)
	switch class {
	case badInvalidAttrs:
		b = append(b, `"substantiated":"yes"`...)
	case badUnknownRef:
		b = append(b, `"ref":"SAMR-`...)
		b = append(b, g.reg.divs[e.div].code...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(g.curYear), 10)
		b = append(b, "-X"...)
		b = appendSeq(b, g.badCtr)
		b = append(b, '"')
	case badEarlyRepair:
		b = append(b, `"ref":"`...)
		b = append(b, g.lastPen.id...)
		b = append(b, `","decided_on":"`...)
		b = append(b, prefix[:10]...)
		b = append(b, '"')
	default:
		b = append(b, `"substantiated":true`...)
	}
	b = append(b, '}')
	if class != badNotJSON {
		b = append(b, '}')
	}
	g.badLine = b
	return emit(b)
}

func indexUSCC(c byte) int {
	for i := 0; i < len(uscc.Alphabet); i++ {
		if uscc.Alphabet[i] == c {
			return i
		}
	}
	return 0
}
