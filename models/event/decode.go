package event

import (
	"strconv"
	"time"
	"unsafe"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/jsontext"
	"github.com/creditrisk/creditd/models/uscc"
)

// MaxIDLen is the longest event id credit-event/v1 allows.
const MaxIDLen = 128

// maxText is the longest free-text attribute or authority accepted (bytes).
const maxText = 1024

// Decoder decodes credit-event/v1 lines strictly. It is not safe for
// concurrent use; use one per goroutine. The zero value accepts no USCC
// exceptions.
//
// Strictness, where events.md leaves room (documented in the README):
//   - the line must be exactly one JSON object (whitespace around it is fine);
//   - a member name that appears twice is rejected (duplicate_field): its
//     meaning would depend on the parser;
//   - a top-level member the format does not define is rejected
//     (unknown_field): extensions belong in attrs, where unknown members are
//     kept and ignored;
//   - attrs is required for every type except deregistered, where it may be
//     absent or an object;
//   - authority is required (a non-empty string) except for registered;
//   - text attributes are non-empty strings of at most 1024 bytes;
//   - the 24-hour future rule needs a clock, so it is checked by CheckTime.
type Decoder struct {
	// Exceptions lists USCCs accepted although they fail a check character.
	Exceptions *uscc.Exceptions
	// Borrow makes decoded strings and RawAttrs alias the input line
	// instead of copying it (escaped strings are still copied). The fast
	// path for callers that keep the line unchanged for as long as the
	// event is used; the default copies, so the line may be reused.
	Borrow bool
	sc     jsontext.Scanner // the line
	attrs  jsontext.Scanner // RawAttrs (its own scratch buffer)
}

// text returns b as a string: aliasing the input in Borrow mode when b
// lies in it, else a copy.
func (d *Decoder) text(b []byte) string {
	if d.Borrow && len(b) > 0 && len(d.sc.Input()) > 0 {
		in := d.sc.Input()
		p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(in)))
		if p >= lo && p+uintptr(len(b)) <= lo+uintptr(len(in)) {
			return unsafe.String(unsafe.SliceData(b), len(b))
		}
	}
	return string(b)
}

// member bit flags for duplicate detection
const (
	fID = 1 << iota
	fUSCC
	fType
	fOccurred
	fAuthority
	fAttrs
)

// Decode decodes one event from line into ev (which is reset first). On
// failure it returns a *RejectError and ev's contents are unspecified.
// ev.RawAttrs is a copy; line may be reused after Decode returns.
func (d *Decoder) Decode(line []byte, ev *Event) error {
	ev.Reset()
	s := &d.sc
	s.Reset(line)

	if s.Peek() != '{' {
		if err := s.SkipValue(); err != nil || !s.AtEnd() {
			return reject(ReasonNotJSON, "", "%s", describeSyntax(err))
		}
		return reject(ReasonNotObject, "", "the event must be a JSON object")
	}

	var (
		seen                           int
		dupKey, unknownKey             string
		idK, usccK, typeK, occK, authK jsontext.Kind
		idV, usccV, typeV, occV, authV string
		attrsK                         jsontext.Kind
		attrsStart, attrsEnd           int
	)
	str := func(k *jsontext.Kind, v *string) error {
		*k = s.Kind()
		if *k == jsontext.String {
			b, err := s.StringBytes()
			if err != nil {
				return err
			}
			*v = d.text(b)
			return nil
		}
		return s.SkipValue()
	}
	err := s.Object(func(key []byte) error {
		var bit int
		switch string(key) {
		case "id":
			bit = fID
		case "uscc":
			bit = fUSCC
		case "type":
			bit = fType
		case "occurred_at":
			bit = fOccurred
		case "authority":
			bit = fAuthority
		case "attrs":
			bit = fAttrs
		default:
			if unknownKey == "" {
				unknownKey = string(key)
			}
			return s.SkipValue()
		}
		if seen&bit != 0 && dupKey == "" {
			dupKey = string(key)
		}
		seen |= bit
		switch bit {
		case fID:
			return str(&idK, &idV)
		case fUSCC:
			return str(&usccK, &usccV)
		case fType:
			return str(&typeK, &typeV)
		case fOccurred:
			return str(&occK, &occV)
		case fAuthority:
			return str(&authK, &authV)
		default:
			attrsK = s.Kind() // skips the white space before the value
			attrsStart = s.Offset()
			if err := s.SkipValue(); err != nil {
				return err
			}
			attrsEnd = s.Offset()
			return nil
		}
	})
	if err == nil && !s.AtEnd() {
		err = s.Fail("trailing data after the object")
	}
	if err != nil {
		return reject(ReasonNotJSON, "", "%s", describeSyntax(err))
	}
	if dupKey != "" {
		return reject(ReasonDuplicateKey, dupKey, "member appears more than once")
	}
	if unknownKey != "" {
		return reject(ReasonUnknownField, truncate(unknownKey, 64), "not a credit-event/v1 member (extensions go in attrs)")
	}

	// id
	if seen&fID == 0 {
		return reject(ReasonMissingField, "id", "required")
	}
	if idK != jsontext.String {
		return reject(ReasonInvalidField, "id", "must be a string, got %s", idK)
	}
	if len(idV) == 0 || len(idV) > MaxIDLen {
		return reject(ReasonInvalidField, "id", "must be 1-%d characters, got %d", MaxIDLen, len(idV))
	}
	for i := 0; i < len(idV); i++ {
		if idV[i] < 0x20 || idV[i] > 0x7e {
			return reject(ReasonInvalidField, "id", "must be printable ASCII (byte %d is 0x%02x)", i+1, idV[i])
		}
	}
	ev.ID = idV

	// uscc
	if seen&fUSCC == 0 {
		return &RejectError{Reason: ReasonMissingField, Field: "uscc", Detail: "required"}
	}
	if usccK != jsontext.String {
		return reject(ReasonInvalidUSCC, "uscc", "must be a string, got %s", usccK)
	}
	code, exc, uerr := d.Exceptions.Parse(usccV)
	if uerr != nil {
		return &RejectError{Reason: ReasonInvalidUSCC, Field: "uscc", Detail: uerr.Error()}
	}
	ev.USCC, ev.Exception = code, exc

	// type
	if seen&fType == 0 {
		return reject(ReasonMissingField, "type", "required")
	}
	if typeK != jsontext.String {
		return reject(ReasonInvalidField, "type", "must be a string, got %s", typeK)
	}
	typ, ok := ParseType(typeV)
	if !ok {
		return reject(ReasonUnknownType, "type", "%q is not a credit-event/v1 type", truncate(typeV, 64))
	}
	ev.Type = typ

	// occurred_at
	if seen&fOccurred == 0 {
		return reject(ReasonMissingField, "occurred_at", "required")
	}
	if occK != jsontext.String {
		return reject(ReasonInvalidField, "occurred_at", "must be an RFC 3339 string, got %s", occK)
	}
	t, terr := civil.ParseInstant(occV)
	if terr != nil {
		return reject(ReasonInvalidField, "occurred_at", "%v", terr)
	}
	ev.OccurredAt = t

	// authority
	switch {
	case seen&fAuthority == 0:
		if typ != TypeRegistered {
			return reject(ReasonMissingField, "authority", "required for %s events", typ)
		}
	case authK != jsontext.String:
		return reject(ReasonInvalidField, "authority", "must be a string, got %s", authK)
	case len(authV) == 0 || len(authV) > maxText:
		return reject(ReasonInvalidField, "authority", "must be 1-%d bytes", maxText)
	default:
		ev.Authority = authV
	}

	// attrs
	if seen&fAttrs == 0 {
		if typ == TypeDeregistered {
			return nil
		}
		return reject(ReasonInvalidAttrs, "attrs", "required for %s events", typ)
	}
	if attrsK != jsontext.Object {
		return reject(ReasonInvalidAttrs, "attrs", "must be an object, got %s", attrsK)
	}
	if d.Borrow {
		ev.RawAttrs, ev.ownsRaw = line[attrsStart:attrsEnd:attrsEnd], false
	} else {
		ev.RawAttrs, ev.ownsRaw = append(ev.RawAttrs[:0], line[attrsStart:attrsEnd]...), true
	}
	return d.decodeAttrs(ev)
}

func describeSyntax(err error) string {
	if err == nil {
		return "trailing data after the JSON value"
	}
	return err.Error()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// attrSpec describes how to read one attribute.
type attrKind uint8

const (
	aText attrKind = iota + 1
	aEnum
	aDate
	aInt
	aBool
	aRegion
)

type attrField struct {
	name     string
	field    string // "attrs." + name, for rejections (precomputed: no concatenation per event)
	kind     attrKind
	optional bool
	enum     []string // for aEnum: index = sub-code
	set      func(e *Event, s string, n int64, b bool)
}

var attrSpecs = func() [NumTypes][]attrField {
	var t [NumTypes][]attrField
	text := func(name string, set func(e *Event, s string)) attrField {
		return attrField{name: name, kind: aText, set: func(e *Event, s string, _ int64, _ bool) { set(e, s) }}
	}
	ref := []attrField{text("ref", func(e *Event, s string) { e.Ref = s })}
	sub := func(name string, enum []string) attrField {
		return attrField{name: name, kind: aEnum, enum: enum, set: func(e *Event, _ string, n int64, _ bool) { e.Sub = uint8(n) }}
	}
	t[TypeRegistered] = []attrField{
		text("name", func(e *Event, s string) { e.Name = s }),
		{name: "region", kind: aRegion, set: func(e *Event, s string, _ int64, _ bool) { e.Region = s }},
		{name: "registered_on", kind: aDate, set: func(e *Event, _ string, n int64, _ bool) { e.RegisteredOn = civil.Date(n) }},
		{name: "industry", kind: aText, optional: true, set: func(e *Event, s string, _ int64, _ bool) { e.Industry = s }},
	}
	t[TypeDeregistered] = nil
	t[TypePenalty] = []attrField{
		sub("severity", severityNames),
		text("decision_no", func(e *Event, s string) { e.DecisionNo = s }),
		{name: "amount_yuan", kind: aInt, optional: true, set: func(e *Event, _ string, n int64, _ bool) { e.AmountYuan = n }},
	}
	t[TypeAbnormalListed] = []attrField{{name: "reason", kind: aEnum, enum: abnormalNames,
		set: func(e *Event, s string, n int64, _ bool) { e.Sub, e.Reason = uint8(n), s }}}
	t[TypeAbnormalRemoved] = ref
	t[TypeDishonestListed] = []attrField{text("reason", func(e *Event, s string) { e.Reason = s })}
	t[TypeDishonestRemoved] = ref
	t[TypeCourtDebtorListed] = []attrField{text("case_no", func(e *Event, s string) { e.CaseNo = s })}
	t[TypeCourtDebtorRemoved] = ref
	t[TypeInspection] = []attrField{
		text("plan_id", func(e *Event, s string) { e.PlanID = s }),
		sub("result", resultNames),
	}
	t[TypeAnnualReport] = []attrField{
		{name: "year", kind: aInt, set: func(e *Event, _ string, n int64, _ bool) { e.Year = int(n) }},
		{name: "on_time", kind: aBool, set: func(e *Event, _ string, _ int64, b bool) { e.OnTime = b }},
	}
	t[TypeCommitmentMade] = []attrField{
		text("commitment_no", func(e *Event, s string) { e.CommitmentNo = s }),
		text("matter", func(e *Event, s string) { e.Matter = s }),
	}
	t[TypeCommitmentBreached] = ref
	t[TypeCommitmentFulfilled] = ref
	t[TypeTaxRating] = []attrField{
		{name: "year", kind: aInt, set: func(e *Event, _ string, n int64, _ bool) { e.Year = int(n) }},
		sub("level", taxNames),
	}
	t[TypeHonor] = []attrField{
		text("title", func(e *Event, s string) { e.Title = s }),
		sub("level", honorNames),
	}
	t[TypeComplaint] = []attrField{{name: "substantiated", kind: aBool, set: func(e *Event, _ string, _ int64, b bool) { e.Substantiated = b }}}
	t[TypeRepair] = []attrField{
		text("ref", func(e *Event, s string) { e.Ref = s }),
		{name: "decided_on", kind: aDate, set: func(e *Event, _ string, n int64, _ bool) { e.DecidedOn = civil.Date(n) }},
	}
	reason := func(name string) attrField { return text(name, func(e *Event, s string) { e.Reason = s }) }
	t[TypeObjectionFiled] = []attrField{ref[0], reason("reason")}
	t[TypeObjectionAnswered] = []attrField{ref[0], sub("outcome", outcomeNames), reason("reasons")}
	for _, spec := range t {
		for i := range spec {
			spec[i].field = "attrs." + spec[i].name
		}
	}
	return t
}()

// decodeAttrs reads the known attributes of ev.Type from ev.RawAttrs.
func (d *Decoder) decodeAttrs(ev *Event) error {
	spec := attrSpecs[ev.Type]
	var seen uint32
	var rerr *RejectError
	s := &d.attrs
	s.Reset(ev.RawAttrs)
	err := s.Object(func(key []byte) error {
		idx := -1
		for i := range spec {
			if spec[i].name == string(key) {
				idx = i
				break
			}
		}
		if idx < 0 {
			return s.SkipValue() // unknown attrs are kept (RawAttrs) and ignored
		}
		f := &spec[idx]
		if seen&(1<<idx) != 0 {
			if rerr == nil {
				rerr = reject(ReasonInvalidAttrs, f.field, "appears more than once")
			}
			return s.SkipValue()
		}
		seen |= 1 << idx
		if e := d.readAttr(s, ev, f); e != nil && rerr == nil {
			rerr = e
		}
		return nil
	})
	if err != nil { // cannot happen: RawAttrs was validated by the outer scan
		return reject(ReasonInvalidAttrs, "attrs", "%v", err)
	}
	if rerr != nil {
		return rerr
	}
	for i := range spec {
		if seen&(1<<i) == 0 && !spec[i].optional {
			return reject(ReasonInvalidAttrs, spec[i].field, "required for %s events", ev.Type)
		}
	}
	return nil
}

// readAttr reads one attribute value; the scanner is at the value. It
// always consumes the value; a shape error is returned as *RejectError.
func (d *Decoder) readAttr(s *jsontext.Scanner, ev *Event, f *attrField) *RejectError {
	field := f.field
	k := s.Kind()
	switch f.kind {
	case aText, aEnum, aDate, aRegion:
		if k != jsontext.String {
			_ = s.SkipValue()
			return reject(ReasonInvalidAttrs, field, "must be a string, got %s", k)
		}
		b, _ := s.StringBytes()
		switch f.kind {
		case aText:
			if len(b) == 0 || len(b) > maxText {
				return reject(ReasonInvalidAttrs, field, "must be 1-%d bytes", maxText)
			}
			f.set(ev, d.text(b), 0, false)
		case aEnum:
			for i := 1; i < len(f.enum); i++ {
				if f.enum[i] == string(b) {
					f.set(ev, f.enum[i], int64(i), false)
					return nil
				}
			}
			return reject(ReasonInvalidAttrs, field, "%q is not one of %v", truncate(string(b), 40), f.enum[1:])
		case aDate:
			dt, err := civil.ParseDate(string(b))
			if err != nil {
				return reject(ReasonInvalidAttrs, field, "%q is not a YYYY-MM-DD date", truncate(string(b), 40))
			}
			f.set(ev, "", int64(dt), false)
		case aRegion:
			if len(b) != 6 || !allDigits(b) {
				return reject(ReasonInvalidAttrs, field, "%q is not a 6-digit division code", truncate(string(b), 40))
			}
			f.set(ev, d.text(b), 0, false)
		}
	case aInt:
		if k != jsontext.Number {
			_ = s.SkipValue()
			return reject(ReasonInvalidAttrs, field, "must be an integer, got %s", k)
		}
		num, _ := s.Number()
		n, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil || n < 0 {
			return reject(ReasonInvalidAttrs, field, "%s is not a non-negative integer", truncate(string(num), 40))
		}
		if f.name == "year" && (n < 1949 || n > 2200) {
			return reject(ReasonInvalidAttrs, field, "year %d is out of range", n)
		}
		f.set(ev, "", n, false)
	case aBool:
		if k != jsontext.Bool {
			_ = s.SkipValue()
			return reject(ReasonInvalidAttrs, field, "must be true or false, got %s", k)
		}
		v, _ := s.Bool()
		f.set(ev, "", 0, v)
	}
	return nil
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// MaxFuture is how far ahead of the receiver's clock an occurred_at may be.
const MaxFuture = 24 * time.Hour

// CheckTime applies the rule that needs a clock: an event that occurred
// more than MaxFuture after now is rejected (future_event).
func CheckTime(ev *Event, now time.Time) error {
	if ev.OccurredAt.Sub(now) > MaxFuture {
		return reject(ReasonFuture, "occurred_at", "%s is more than 24 hours after the receiver's clock (%s)",
			ev.OccurredAt.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}
