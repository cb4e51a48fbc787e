package jcs

// The implementation of this package before its lexing moved to
// models/jsontext (commit 9755ec7), kept verbatim (renamed) as the
// reference of FuzzDifferential: the scanner-backed canonicaliser must
// accept, refuse and write exactly what this one did, but for the one bug
// fixed on the way (an exponent of zero, 1e0, was copied as written instead
// of canonicalised). Delete both once the new code has earned trust.

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Canonicalize returns the RFC 8785 canonical form of the JSON value in data.
func oldCanonicalize(data []byte) ([]byte, error) {
	return oldAppend(make([]byte, 0, len(data)), data)
}

// Append appends the canonical form of the JSON value in data to dst and
// returns the extended buffer. On error dst's contents past its original
// length are unspecified.
func oldAppend(dst, data []byte) ([]byte, error) {
	p := oldParser{in: data, out: dst}
	if err := p.document(); err != nil {
		return dst, err
	}
	return p.out, nil
}

// CanonicalizeWithout returns the canonical form of the JSON object in data
// with its top-level members named in omit left out. This is the form a
// detached signature covers: CanonicalizeWithout(doc, "signature"). The
// whole input, omitted members included, is validated as Canonicalize does.
func oldCanonicalizeWithout(data []byte, omit ...string) ([]byte, error) {
	p := oldParser{in: data, out: make([]byte, 0, len(data)), omit: omit}
	if err := p.document(); err != nil {
		return nil, err
	}
	return p.out, nil
}

// oldParser is a recursive-descent JSON oldParser that writes canonical output as
// it goes. Object members are written in input order into out and reordered
// in place when the object closes, so no tree is built: the cost is one pass
// over the input plus one copy per out-of-order object.
//
// Allocation: the decoded member names of the objects being parsed live in
// one byte stack (names) and their member records in one member stack
// (stack); an object pushes onto both and pops when it closes, so a
// document costs a handful of allocations however many objects it has.
type oldParser struct {
	in    []byte
	pos   int
	out   []byte
	omit  []string // top-level member names to leave out
	depth int
	names []byte   // decoded member names of the open objects
	stack []member // members of the open objects
	str   []byte   // scratch: the decoded string value being written
	tmp   []byte   // scratch for object reordering
}

func (p *oldParser) fail(format string, args ...any) error {
	return &SyntaxError{Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *oldParser) document() error {
	p.skipWS()
	if p.omit != nil && (p.pos >= len(p.in) || p.in[p.pos] != '{') {
		if p.pos >= len(p.in) {
			return p.fail("unexpected end of input")
		}
		return ErrNotObject
	}
	if err := p.value(); err != nil {
		return err
	}
	p.skipWS()
	if p.pos != len(p.in) {
		return p.fail("unexpected data after the top-level value")
	}
	return nil
}

func (p *oldParser) skipWS() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *oldParser) value() error {
	if p.pos >= len(p.in) {
		return p.fail("unexpected end of input")
	}
	switch c := p.in[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		var err error
		if p.str, err = p.decodeString(p.str[:0]); err != nil {
			return err
		}
		p.out = oldAppendString(p.out, p.str)
		return nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	default:
		return p.fail("invalid character %q looking for a value", c)
	}
}

func (p *oldParser) literal(word string) error {
	if !bytes.HasPrefix(p.in[p.pos:], []byte(word)) {
		return p.fail("invalid literal, want %s", word)
	}
	p.pos += len(word)
	p.out = append(p.out, word...)
	return nil
}

func (p *oldParser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.fail("nesting deeper than %d", MaxDepth)
	}
	return nil
}

func (p *oldParser) array() error {
	if err := p.enter(); err != nil {
		return err
	}
	p.pos++ // '['
	p.out = append(p.out, '[')
	p.skipWS()
	if p.pos < len(p.in) && p.in[p.pos] == ']' {
		p.pos++
		p.out = append(p.out, ']')
		p.depth--
		return nil
	}
	for {
		p.skipWS()
		if err := p.value(); err != nil {
			return err
		}
		p.skipWS()
		if p.pos >= len(p.in) {
			return p.fail("unexpected end of input in array")
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
			p.out = append(p.out, ',')
		case ']':
			p.pos++
			p.out = append(p.out, ']')
			p.depth--
			return nil
		default:
			return p.fail("invalid character %q after array element", p.in[p.pos])
		}
	}
}

func (p *oldParser) object() error {
	if err := p.enter(); err != nil {
		return err
	}
	top := p.depth == 1
	p.pos++ // '{'
	p.out = append(p.out, '{')
	base := len(p.out)
	p.skipWS()
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
		p.out = append(p.out, '}')
		p.depth--
		return nil
	}
	mbase, nbase := len(p.stack), len(p.names)
	var set map[string]struct{} // duplicate check for large objects
	for {
		p.skipWS()
		if p.pos >= len(p.in) {
			return p.fail("unexpected end of input in object")
		}
		if p.in[p.pos] != '"' {
			return p.fail("invalid character %q looking for a member name", p.in[p.pos])
		}
		nameAt := p.pos
		nameStart := len(p.names)
		var err error
		if p.names, err = p.decodeString(p.names); err != nil {
			return err
		}
		name := p.names[nameStart:]
		if p.seen(p.stack[mbase:], &set, name) {
			p.pos = nameAt
			return p.fail("duplicate member name %q", name)
		}
		p.skipWS()
		if p.pos >= len(p.in) || p.in[p.pos] != ':' {
			return p.fail("missing ':' after member name")
		}
		p.pos++
		p.skipWS()
		start := len(p.out)
		p.out = oldAppendString(p.out, name)
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
		p.skipWS()
		if p.pos >= len(p.in) {
			return p.fail("unexpected end of input in object")
		}
		if p.in[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.in[p.pos] == '}' {
			p.pos++
			break
		}
		return p.fail("invalid character %q after object member", p.in[p.pos])
	}
	p.depth--
	p.finishObject(base, p.stack[mbase:])
	p.stack, p.names = p.stack[:mbase], p.names[:nbase]
	return nil
}

// finishObject rewrites out[base:], which holds the members' canonical bytes
// back to back in input order, as the sorted, comma-separated member list
// and the closing brace.
// seen reports whether name is already among members. Small objects are
// scanned linearly; from 16 members on a set is kept, so that a hostile
// object with many members costs linear, not quadratic, time.
func (p *oldParser) seen(members []member, set *map[string]struct{}, name []byte) bool {
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

func (p *oldParser) finishObject(base int, members []member) {
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

// decodeString parses the JSON string at p.pos (which is '"') and appends
// its decoded value to buf. The fast path copies a plain run of the input;
// escapes and validation of UTF-8 go through the slow path.
func (p *oldParser) decodeString(buf []byte) ([]byte, error) {
	p.pos++ // opening quote
	start := p.pos
	// Fast path: printable ASCII with no escapes.
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		if c == '"' {
			buf = append(buf, p.in[start:p.pos]...)
			p.pos++
			return buf, nil
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			break
		}
		p.pos++
	}
	// Slow path.
	buf = append(buf, p.in[start:p.pos]...)
	for {
		if p.pos >= len(p.in) {
			return buf, p.fail("unterminated string")
		}
		c := p.in[p.pos]
		switch {
		case c == '"':
			p.pos++
			return buf, nil
		case c < 0x20:
			return buf, p.fail("control character %#02x in string (must be escaped)", c)
		case c < 0x80:
			if c != '\\' {
				buf = append(buf, c)
				p.pos++
				continue
			}
			r, err := p.escape()
			if err != nil {
				return buf, err
			}
			buf = utf8.AppendRune(buf, r)
		default:
			r, n := utf8.DecodeRune(p.in[p.pos:])
			if r == utf8.RuneError && n <= 1 {
				return buf, p.fail("invalid UTF-8 in string")
			}
			buf = append(buf, p.in[p.pos:p.pos+n]...)
			p.pos += n
		}
	}
}

// escape decodes the escape sequence at p.pos (a backslash), combining a
// surrogate pair into one rune; a lone surrogate is an error (I-JSON).
func (p *oldParser) escape() (rune, error) {
	if p.pos+1 >= len(p.in) {
		return 0, p.fail("unterminated escape")
	}
	c := p.in[p.pos+1]
	p.pos += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
	default:
		p.pos -= 2
		return 0, p.fail("invalid escape \\%c", c)
	}
	at := p.pos - 2
	r, ok := p.hex4()
	if !ok {
		p.pos = at
		return 0, p.fail("invalid \\u escape")
	}
	switch {
	case r >= 0xDC00 && r <= 0xDFFF:
		p.pos = at
		return 0, p.fail("lone low surrogate \\u%04x", r)
	case r >= 0xD800 && r <= 0xDBFF:
		if p.pos+1 < len(p.in) && p.in[p.pos] == '\\' && p.in[p.pos+1] == 'u' {
			p.pos += 2
			lo, ok := p.hex4()
			if ok && lo >= 0xDC00 && lo <= 0xDFFF {
				return utf16.DecodeRune(r, lo), nil
			}
		}
		p.pos = at
		return 0, p.fail("lone high surrogate \\u%04x", r)
	}
	return r, nil
}

func (p *oldParser) hex4() (rune, bool) {
	if p.pos+4 > len(p.in) {
		return 0, false
	}
	var r rune
	for _, c := range p.in[p.pos : p.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.pos += 4
	return r, true
}

const oldHexDigits = "0123456789abcdef"

// oldAppendString appends s as a canonical JSON string (RFC 8785 §3.2.2.2).
func oldAppendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', oldHexDigits[c>>4], oldHexDigits[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// number parses a JSON number at p.pos and writes its canonical form. The
// value must be an integer of magnitude at most MaxSafeInteger (see the
// package comment).
func (p *oldParser) number() error {
	start := p.pos
	neg := false
	if p.in[p.pos] == '-' {
		neg = true
		p.pos++
	}
	// Integer part: "0" or [1-9][0-9]*.
	intStart := p.pos
	if p.pos >= len(p.in) || p.in[p.pos] < '0' || p.in[p.pos] > '9' {
		return p.fail("invalid number: no digits")
	}
	if p.in[p.pos] == '0' {
		p.pos++
		if p.pos < len(p.in) && p.in[p.pos] >= '0' && p.in[p.pos] <= '9' {
			return p.fail("invalid number: leading zero")
		}
	} else {
		p.skipDigits()
	}
	intDigits := p.in[intStart:p.pos]
	var fracDigits []byte
	if p.pos < len(p.in) && p.in[p.pos] == '.' {
		p.pos++
		fs := p.pos
		p.skipDigits()
		if p.pos == fs {
			return p.fail("invalid number: no digits after '.'")
		}
		fracDigits = p.in[fs:p.pos]
	}
	exp := 0 // saturating at ±1e9, far beyond anything that matters
	if p.pos < len(p.in) && (p.in[p.pos] == 'e' || p.in[p.pos] == 'E') {
		p.pos++
		eneg := false
		if p.pos < len(p.in) && (p.in[p.pos] == '+' || p.in[p.pos] == '-') {
			eneg = p.in[p.pos] == '-'
			p.pos++
		}
		es := p.pos
		for p.pos < len(p.in) && p.in[p.pos] >= '0' && p.in[p.pos] <= '9' {
			if exp < 1e9 {
				exp = exp*10 + int(p.in[p.pos]-'0')
			}
			p.pos++
		}
		if p.pos == es {
			return p.fail("invalid number: no digits in exponent")
		}
		if eneg {
			exp = -exp
		}
	}
	text := p.in[start:p.pos]
	// Fast path: a plain integer of at most 15 digits is below 2^53 and
	// already canonical unless it is "-0".
	if fracDigits == nil && exp == 0 && len(intDigits) <= 15 {
		if neg && len(intDigits) == 1 && intDigits[0] == '0' {
			p.out = append(p.out, '0')
			return nil
		}
		p.out = append(p.out, text...)
		return nil
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
		p.pos = start
		return p.fail("number %s is not an integer (only integers are supported)", text)
	}
	if len(digits)+exp > 16 {
		p.pos = start
		return p.fail("number %s is beyond ±2^53", text)
	}
	for range exp {
		digits = append(digits, '0')
	}
	v, err := strconv.ParseUint(string(digits), 10, 64)
	if err != nil || v > MaxSafeInteger {
		p.pos = start
		return p.fail("number %s is beyond ±2^53", text)
	}
	if neg {
		p.out = append(p.out, '-')
	}
	p.out = strconv.AppendUint(p.out, v, 10)
	return nil
}

func (p *oldParser) skipDigits() {
	for p.pos < len(p.in) && p.in[p.pos] >= '0' && p.in[p.pos] <= '9' {
		p.pos++
	}
}
