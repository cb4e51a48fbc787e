package scoring

import (
	"sort"
	"strconv"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/uscc"
)

// EntityEvents returns the applied events of one entity as credit-event/v1
// NDJSON lines, in an order in which applying them to an empty engine
// rebuilds the entity exactly: registration first, then records by
// occurred_at, then removals and outcomes, then repairs, then objections and their
// answers. This is the
// entity's changelog value when state moves between instances (Kafka
// scale-out). Unknown attributes of the registration are not kept by the
// store and are not exported; every other event's attrs are exported as
// received. ok is false for an unknown entity.
func (e *Engine) EntityEvents(code uscc.Code) (lines [][]byte, ok bool) {
	s, idx, ok := e.rlockEntity(code)
	if !ok {
		return nil, false
	}
	defer s.mu.RUnlock()
	ent := s.ent(idx)
	cs := code.String()
	if ent.flags&entRegistered != 0 {
		b := s.bytes(ent.regOff, uint32(ent.regLen))
		var line []byte
		line = append(line, `{"id":`...)
		line = strconv.AppendQuote(line, string(blobField(b, 0)))
		line = append(line, `,"uscc":"`...)
		line = append(line, cs...)
		line = append(line, `","type":"registered","occurred_at":"`...)
		// The registration instant is not kept; the registration date is
		// what every rule uses, so its start stands in for it.
		line = civil.Date(ent.regOn).Time().UTC().AppendFormat(line, time.RFC3339)
		line = append(line, '"')
		if auth := blobField(b, 3); len(auth) > 0 {
			line = append(line, `,"authority":`...)
			line = strconv.AppendQuote(line, string(auth))
		}
		line = append(line, `,"attrs":{"name":`...)
		line = strconv.AppendQuote(line, string(blobField(b, 1)))
		line = append(line, `,"region":"`...)
		line = append(line, regionString(ent.region)...)
		line = append(line, `","registered_on":"`...)
		line = append(line, civil.Date(ent.regOn).String()...)
		line = append(line, '"')
		if ind := blobField(b, 2); len(ind) > 0 {
			line = append(line, `,"industry":`...)
			line = strconv.AppendQuote(line, string(ind))
		}
		line = append(line, "}}"...)
		lines = append(lines, line)
	}
	type item struct {
		rank int
		at   int64
		id   string
		line []byte
	}
	var items []item
	for ri := ent.firstRec; ri != 0; ri = s.rec(ri).next {
		r := s.rec(ri)
		b := s.bytes(r.strOff, r.strLen)
		typ := event.Type(r.typ)
		rank := 0
		switch {
		case typ == event.TypeObjectionFiled:
			rank = 3 // after what it may name; nothing but its answer depends on it
		case typ == event.TypeObjectionAnswered:
			rank = 4 // after its objection, even at the same instant
		case typ == event.TypeRepair:
			rank = 2
		case r.target != 0:
			rank = 1
		}
		var line []byte
		line = append(line, `{"id":`...)
		line = strconv.AppendQuote(line, string(blobField(b, 0)))
		line = append(line, `,"uscc":"`...)
		line = append(line, cs...)
		line = append(line, `","type":"`...)
		line = append(line, typ.String()...)
		line = append(line, `","occurred_at":"`...)
		line = time.Unix(r.at, 0).UTC().AppendFormat(line, time.RFC3339)
		line = append(line, `","authority":`...)
		line = strconv.AppendQuote(line, string(blobField(b, 1)))
		if a := blobField(b, 2); len(a) > 0 {
			line = append(line, `,"attrs":`...)
			line = append(line, a...)
		}
		line = append(line, '}')
		items = append(items, item{rank: rank, at: r.at, id: string(blobField(b, 0)), line: line})
	}
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		if a.at != b.at {
			return a.at < b.at
		}
		return a.id < b.id
	})
	for _, it := range items {
		lines = append(lines, it.line)
	}
	return lines, true
}
