// Package jcs implements the JSON Canonicalization Scheme (RFC 8785) for the
// integer-only JSON that credit-report/v1 and the project's other signed
// documents use.
//
// Canonicalize parses arbitrary JSON bytes strictly and writes them back in
// canonical form:
//
//   - object members sorted by the UTF-16 code units of their names (so a
//     non-BMP character, whose first code unit is a surrogate 0xD800–0xDBFF,
//     sorts before U+E000–U+FFFF although its code point is larger);
//   - no white space;
//   - strings with the shortest escapes: \" \\ \b \f \n \r \t, \u00xx
//     (lowercase hex) for the other control characters, every other
//     character as literal UTF-8 (including U+007F, U+2028 and U+2029);
//   - numbers as ECMAScript's Number.prototype.toString writes them.
//
// Restriction (documented deviation from the full RFC): only numbers whose
// value is an integer of magnitude at most 2^53 are accepted. For those, the
// ECMAScript form is exactly the plain decimal integer, so the canonical form
// is exact in every language. A number written with a fraction or exponent
// is accepted when its value is such an integer (1.0, 1e2 and -0 become 1,
// 100 and 0, as RFC 8785 writes them); any other number (0.5, 1e-3,
// 9007199254740993) is an error, because the formats this project signs are
// integer-only and an inexact number cannot be canonicalised exactly.
//
// Input is I-JSON (RFC 7493) as RFC 8785 requires: invalid UTF-8, lone
// surrogate escapes, duplicate member names (compared after unescaping),
// trailing data after the value and nesting deeper than MaxDepth are errors.
package jcs

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/creditrisk/creditd/models/jsontext"
)

// MaxDepth is the deepest nesting of arrays and objects accepted.
const MaxDepth = 1000

// MaxSafeInteger is the largest magnitude of a number accepted: 2^53, the
// largest integer up to which every integer is exactly representable as an
// IEEE 754 double (the number type RFC 8785 is defined on).
const MaxSafeInteger = 1 << 53

// SyntaxError reports where and why input could not be canonicalised.
type SyntaxError struct {
	Offset int    // byte offset in the input where the problem was found
	Msg    string // what is wrong
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("jcs: %s at byte offset %d", e.Msg, e.Offset)
}

// ErrNotObject is returned by CanonicalizeWithout when the input is not a
// JSON object.
var ErrNotObject = errors.New("jcs: top-level value is not an object")

// Canonicalize returns the RFC 8785 canonical form of the JSON value in data.
func Canonicalize(data []byte) ([]byte, error) {
	return Append(make([]byte, 0, len(data)), data)
}

// Append appends the canonical form of the JSON value in data to dst and
// returns the extended buffer. On error dst's contents past its original
// length are unspecified.
func Append(dst, data []byte) ([]byte, error) {
	p := parser{out: dst}
	if err := p.run(data); err != nil {
		return dst, err
	}
	return p.out, nil
}

// CanonicalizeWithout returns the canonical form of the JSON object in data
// with its top-level members named in omit left out. This is the form a
// detached signature covers: CanonicalizeWithout(doc, "signature"). The
// whole input, omitted members included, is validated as Canonicalize does.
func CanonicalizeWithout(data []byte, omit ...string) ([]byte, error) {
	p := parser{out: make([]byte, 0, len(data)), omit: omit}
	if err := p.run(data); err != nil {
		return nil, err
	}
	return p.out, nil
}

// parser is a recursive-descent JSON parser that writes canonical output as
// it goes. The lexing (white space, strings, numbers, literals, nesting
// depth) is the module's shared strict scanner, models/jsontext; what is
// left here is JCS's own: member order, duplicate names, number form and
// string output.
//
// Object members are written in input order into out and reordered in
// place when the object closes, so no tree is built: the cost is one pass
// over the input plus one copy per out-of-order object.
//
// Allocation: the decoded member names of the objects being parsed live in
// one byte stack (names) and their member records in one member stack
// (stack); an object pushes onto both and pops when it closes, so a
// document costs a handful of allocations however many objects it has.
type parser struct {
	s     jsontext.Scanner
	out   []byte
	omit  []string // top-level member names to leave out
	names []byte   // decoded member names of the open objects
	stack []member // members of the open objects
	tmp   []byte   // scratch for object reordering
}

// run canonicalises data into p.out. The scanner's syntax errors are
// reported as this package's SyntaxError, with the scanner's offset and
// message.
func (p *parser) run(data []byte) error {
	p.s.MaxDepth = MaxDepth
	p.s.Reset(data)
	err := p.document()
	if se, ok := err.(*jsontext.SyntaxError); ok {
		return &SyntaxError{Offset: se.Offset, Msg: se.Msg}
	}
	return err
}

func (p *parser) document() error {
	if p.omit != nil && p.s.Peek() != '{' {
		if p.s.AtEnd() {
			return p.s.Fail("unexpected end of input")
		}
		return ErrNotObject
	}
	if err := p.value(); err != nil {
		return err
	}
	if !p.s.AtEnd() {
		return p.s.Fail("unexpected data after the top-level value")
	}
	return nil
}

func (p *parser) value() error {
	switch p.s.Kind() {
	case jsontext.Object:
		return p.object()
	case jsontext.Array:
		return p.array()
	case jsontext.String:
		v, err := p.s.StringBytes()
		if err != nil {
			return err
		}
		// v is valid UTF-8 (the scanner checked it), so this cannot fail.
		p.out, err = jsontext.AppendStringJCS(p.out, v)
		return err
	case jsontext.Number:
		text, err := p.s.Number()
		if err != nil {
			return err
		}
		return p.number(text, p.s.Offset()-len(text))
	case jsontext.Bool:
		v, err := p.s.Bool()
		if err != nil {
			return err
		}
		p.out = strconv.AppendBool(p.out, v)
		return nil
	case jsontext.Null:
		if err := p.s.Null(); err != nil {
			return err
		}
		p.out = append(p.out, "null"...)
		return nil
	default:
		return p.s.SkipValue() // reports the missing value
	}
}

func (p *parser) array() error {
	p.out = append(p.out, '[')
	first := true
	err := p.s.Array(func() error {
		if !first {
			p.out = append(p.out, ',')
		}
		first = false
		return p.value()
	})
	p.out = append(p.out, ']')
	return err
}

// member is one written object member: where its decoded name sits in
// parser.names and where its canonical bytes ("name":value) sit in out.
type member struct {
	nameStart, nameEnd int
	start, end         int
}

func (p *parser) object() error {
	top := p.s.Depth() == 0
	p.out = append(p.out, '{')
	base := len(p.out)
	mbase, nbase := len(p.stack), len(p.names)
	var set map[string]struct{} // duplicate check for large objects
	err := p.s.Object(func(key []byte) error {
		nameStart := len(p.names)
		p.names = append(p.names, key...)
		name := p.names[nameStart:]
		if p.seen(p.stack[mbase:], &set, name) {
			return &SyntaxError{Offset: p.s.KeyOffset(), Msg: fmt.Sprintf("duplicate member name %q", name)}
		}
		start := len(p.out)
		var err error
		if p.out, err = jsontext.AppendStringJCS(p.out, name); err != nil {
			return err // cannot happen: the scanner checked the UTF-8
		}
		p.out = append(p.out, ':')
		if err := p.value(); err != nil {
			return err
		}
		m := member{nameStart: nameStart, nameEnd: len(p.names), start: start, end: len(p.out)}
		if top && slices.Contains(p.omit, string(name)) {
			// Validated, then dropped. The name is still recorded so that
			// a duplicate of an omitted member is an error.
			p.out = p.out[:start]
			m.end = start
		}
		p.stack = append(p.stack, m)
		return nil
	})
	if err != nil {
		return err
	}
	p.finishObject(base, p.stack[mbase:])
	p.stack, p.names = p.stack[:mbase], p.names[:nbase]
	return nil
}

// seen reports whether name is already among members. Small objects are
// scanned linearly; from 16 members on a set is kept, so that a hostile
// object with many members costs linear, not quadratic, time.
func (p *parser) seen(members []member, set *map[string]struct{}, name []byte) bool {
	const linear = 16
	if len(members) < linear {
		for _, m := range members {
			if bytes.Equal(p.names[m.nameStart:m.nameEnd], name) {
				return true
			}
		}
		return false
	}
	if *set == nil {
		*set = make(map[string]struct{}, 2*len(members))
		for _, m := range members {
			(*set)[string(p.names[m.nameStart:m.nameEnd])] = struct{}{}
		}
	}
	if _, ok := (*set)[string(name)]; ok {
		return true
	}
	(*set)[string(name)] = struct{}{}
	return false
}

// finishObject rewrites out[base:], which holds the members' canonical bytes
// back to back in input order, as the sorted, comma-separated member list
// and the closing brace.
func (p *parser) finishObject(base int, members []member) {
	// Fast path: already sorted (canonical input, and most machine-written
	// JSON with sorted keys) needs only the commas inserted, which the copy
	// below does anyway; the sort is skipped.
	cmpMember := func(a, b member) int {
		return compareUTF16(p.names[a.nameStart:a.nameEnd], p.names[b.nameStart:b.nameEnd])
	}
	if !slices.IsSortedFunc(members, cmpMember) {
		slices.SortFunc(members, cmpMember)
	}
	p.tmp = append(p.tmp[:0], p.out[base:]...)
	p.out = p.out[:base]
	first := true
	for _, m := range members {
		if m.start == m.end {
			continue // omitted
		}
		if !first {
			p.out = append(p.out, ',')
		}
		first = false
		p.out = append(p.out, p.tmp[m.start-base:m.end-base]...)
	}
	p.out = append(p.out, '}')
}

// CompareUTF16 compares two valid UTF-8 strings by their UTF-16 code units,
// the member order of RFC 8785 §3.2.3. It returns -1, 0 or +1.
func CompareUTF16(a, b string) int { return compareUTF16([]byte(a), []byte(b)) }

// compareUTF16 compares valid UTF-8 by UTF-16 code units. UTF-8 byte order
// is code point order, which is UTF-16 order except in one case: a
// supplementary character (encoded as a surrogate pair whose first unit is
// 0xD800–0xDBFF) sorts before U+E000–U+FFFF. So the bytes are compared, and
// only the first differing runes are decoded to check for that case.
func compareUTF16(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	if i == n {
		return cmp.Compare(len(a), len(b))
	}
	for i > 0 && a[i]&0xC0 == 0x80 { // back to the start of the rune
		i--
	}
	ra, _ := utf8.DecodeRune(a[i:])
	rb, _ := utf8.DecodeRune(b[i:])
	if (ra >= 0x10000) != (rb >= 0x10000) && min(ra, rb) >= 0xE000 {
		if ra >= 0x10000 {
			return -1
		}
		return 1
	}
	return cmp.Compare(ra, rb)
}

// number writes the canonical form of the number text (valid JSON, read
// by the scanner at offset start). The value must be an integer of
// magnitude at most MaxSafeInteger (see the package comment).
func (p *parser) number(text []byte, start int) error {
	t := text
	neg := t[0] == '-'
	if neg {
		t = t[1:]
	}
	// Integer part: "0" or [1-9][0-9]* (the scanner checked the grammar).
	i := skipDigits(t, 0)
	intDigits := t[:i]
	var fracDigits []byte
	if i < len(t) && t[i] == '.' {
		j := skipDigits(t, i+1)
		fracDigits = t[i+1 : j]
		i = j
	}
	hasExp := i < len(t) // what is left is the exponent: [eE][+-]?[0-9]+
	exp := 0             // saturating at ±1e9, far beyond anything that matters
	if hasExp {
		i++
		eneg := t[i] == '-'
		if t[i] == '+' || t[i] == '-' {
			i++
		}
		for _, c := range t[i:] {
			if exp < 1e9 {
				exp = exp*10 + int(c-'0')
			}
		}
		if eneg {
			exp = -exp
		}
	}
	// Fast path: a plain integer of at most 15 digits is below 2^53 and
	// already canonical unless it is "-0".
	if fracDigits == nil && !hasExp && len(intDigits) <= 15 {
		if neg && len(intDigits) == 1 && intDigits[0] == '0' {
			p.out = append(p.out, '0')
			return nil
		}
		p.out = append(p.out, text...)
		return nil
	}
	fail := func(msg string) error {
		return &SyntaxError{Offset: start, Msg: fmt.Sprintf("number %s is %s", text, msg)}
	}
	// Slow path: the value is digits × 10^exp with digits the integer and
	// fraction digits run together and exp adjusted for the fraction.
	digits := make([]byte, 0, len(intDigits)+len(fracDigits))
	digits = append(digits, intDigits...)
	digits = append(digits, fracDigits...)
	exp -= len(fracDigits)
	// Strip leading zeros, then move trailing zeros into the exponent.
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
	}
	if len(digits) == 0 {
		p.out = append(p.out, '0') // any zero, -0 included, is "0"
		return nil
	}
	for digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	if exp < 0 {
		return fail("not an integer (only integers are supported)")
	}
	if len(digits)+exp > 16 {
		return fail("beyond ±2^53")
	}
	for range exp {
		digits = append(digits, '0')
	}
	v, err := strconv.ParseUint(string(digits), 10, 64)
	if err != nil || v > MaxSafeInteger {
		return fail("beyond ±2^53")
	}
	if neg {
		p.out = append(p.out, '-')
	}
	p.out = strconv.AppendUint(p.out, v, 10)
	return nil
}

// skipDigits returns the index of the first non-digit of t from i on.
func skipDigits(t []byte, i int) int {
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	return i
}
