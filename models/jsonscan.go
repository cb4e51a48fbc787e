package models

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonScanner is a small, strict, allocation-light JSON reader used by the
// event decoder. Why not encoding/json: decoding an event with reflection
// costs several microseconds and a dozen allocations, which alone would
// exceed the ingest budget (≥ 300,000 NDJSON events/s per core). The
// scanner validates the full JSON grammar (RFC 8259), including UTF-8 in
// strings, so a value it accepts is one encoding/json would accept too.
type jsonScanner struct {
	b   []byte
	pos int
	buf []byte // scratch for unescaping
}

type jsonSyntaxError struct {
	offset int
	msg    string
}

func (e *jsonSyntaxError) Error() string {
	return "invalid JSON at byte " + strconv.Itoa(e.offset) + ": " + e.msg
}

func (s *jsonScanner) fail(msg string) error { return &jsonSyntaxError{offset: s.pos, msg: msg} }

func (s *jsonScanner) skipWS() {
	for s.pos < len(s.b) {
		switch s.b[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *jsonScanner) peek() byte {
	s.skipWS()
	if s.pos < len(s.b) {
		return s.b[s.pos]
	}
	return 0
}

func (s *jsonScanner) expect(c byte) error {
	if s.peek() != c {
		if s.pos >= len(s.b) {
			return s.fail("unexpected end of input, want " + strconv.QuoteRune(rune(c)))
		}
		return s.fail("want " + strconv.QuoteRune(rune(c)) + ", got " + strconv.QuoteRune(rune(s.b[s.pos])))
	}
	s.pos++
	return nil
}

// stringBytes reads a JSON string and returns its unescaped bytes. The
// result aliases the input when there are no escapes, else the scratch
// buffer: it is valid until the next call.
func (s *jsonScanner) stringBytes() ([]byte, error) {
	if err := s.expect('"'); err != nil {
		return nil, err
	}
	start := s.pos
	// Fast path: no escapes. A table lookup per byte finds the closing
	// quote, a backslash or a control character; UTF-8 is validated once
	// over the whole string (utf8.Valid beats decoding rune by rune).
	nonASCII := false
	b := s.b
	for s.pos < len(b) {
		switch strClass[b[s.pos]] {
		case clsPlain:
			s.pos++
			continue
		case clsHigh:
			nonASCII = true
			s.pos++
			continue
		case clsQuote:
			out := b[start:s.pos]
			if nonASCII && !utf8.Valid(out) {
				return nil, s.fail("invalid UTF-8 in string")
			}
			s.pos++
			return out, nil
		case clsEscape:
			if nonASCII && !utf8.Valid(b[start:s.pos]) {
				return nil, s.fail("invalid UTF-8 in string")
			}
			return s.stringSlow(start)
		default:
			return nil, s.fail("control character in string")
		}
	}
	return nil, s.fail("unterminated string")
}

// byte classes inside strings
const (
	clsPlain = iota
	clsHigh
	clsQuote
	clsEscape
	clsControl
)

var strClass = func() (t [256]uint8) {
	for i := range t {
		switch {
		case i < 0x20:
			t[i] = clsControl
		case i == '"':
			t[i] = clsQuote
		case i == '\\':
			t[i] = clsEscape
		case i >= utf8.RuneSelf:
			t[i] = clsHigh
		}
	}
	return t
}()

// stringSlow is the slow path of stringBytes, taken at the first escape.
func (s *jsonScanner) stringSlow(start int) ([]byte, error) {
	s.buf = append(s.buf[:0], s.b[start:s.pos]...)
	for s.pos < len(s.b) {
		c := s.b[s.pos]
		switch {
		case c == '"':
			s.pos++
			return s.buf, nil
		case c == '\\':
			if s.pos+1 >= len(s.b) {
				return nil, s.fail("unterminated escape")
			}
			e := s.b[s.pos+1]
			s.pos += 2
			switch e {
			case '"', '\\', '/':
				s.buf = append(s.buf, e)
			case 'b':
				s.buf = append(s.buf, '\b')
			case 'f':
				s.buf = append(s.buf, '\f')
			case 'n':
				s.buf = append(s.buf, '\n')
			case 'r':
				s.buf = append(s.buf, '\r')
			case 't':
				s.buf = append(s.buf, '\t')
			case 'u':
				r, ok := s.hex4()
				if !ok {
					return nil, s.fail("bad \\u escape")
				}
				if utf16.IsSurrogate(r) {
					r2 := utf8.RuneError
					if s.pos+1 < len(s.b) && s.b[s.pos] == '\\' && s.b[s.pos+1] == 'u' {
						s.pos += 2
						lo, ok := s.hex4()
						if !ok {
							return nil, s.fail("bad \\u escape")
						}
						r2 = utf16.DecodeRune(r, lo)
						if r2 == utf8.RuneError {
							return nil, s.fail("invalid surrogate pair")
						}
					} else {
						return nil, s.fail("lone surrogate")
					}
					r = r2
				}
				s.buf = utf8.AppendRune(s.buf, r)
			default:
				return nil, s.fail("bad escape")
			}
		case c < 0x20:
			return nil, s.fail("control character in string")
		case c < utf8.RuneSelf:
			s.buf = append(s.buf, c)
			s.pos++
		default:
			r, n := utf8.DecodeRune(s.b[s.pos:])
			if r == utf8.RuneError && n == 1 {
				return nil, s.fail("invalid UTF-8 in string")
			}
			s.buf = append(s.buf, s.b[s.pos:s.pos+n]...)
			s.pos += n
		}
	}
	return nil, s.fail("unterminated string")
}

func (s *jsonScanner) hex4() (rune, bool) {
	if s.pos+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.pos : s.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	s.pos += 4
	return r, true
}

// number reads a JSON number and returns its text.
func (s *jsonScanner) number() ([]byte, error) {
	s.skipWS()
	start := s.pos
	if s.pos < len(s.b) && s.b[s.pos] == '-' {
		s.pos++
	}
	if s.pos >= len(s.b) {
		return nil, s.fail("bad number")
	}
	switch c := s.b[s.pos]; {
	case c == '0':
		s.pos++
	case c >= '1' && c <= '9':
		for s.pos < len(s.b) && s.b[s.pos] >= '0' && s.b[s.pos] <= '9' {
			s.pos++
		}
	default:
		return nil, s.fail("bad number")
	}
	if s.pos < len(s.b) && s.b[s.pos] == '.' {
		s.pos++
		n := s.digits()
		if n == 0 {
			return nil, s.fail("bad number fraction")
		}
	}
	if s.pos < len(s.b) && (s.b[s.pos] == 'e' || s.b[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.b) && (s.b[s.pos] == '+' || s.b[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return nil, s.fail("bad number exponent")
		}
	}
	return s.b[start:s.pos], nil
}

func (s *jsonScanner) digits() int {
	n := 0
	for s.pos < len(s.b) && s.b[s.pos] >= '0' && s.b[s.pos] <= '9' {
		s.pos++
		n++
	}
	return n
}

// literal reads true, false or null.
func (s *jsonScanner) literal(word string) error {
	if len(s.b)-s.pos < len(word) || string(s.b[s.pos:s.pos+len(word)]) != word {
		return s.fail("bad literal")
	}
	s.pos += len(word)
	return nil
}

// jsonKind is the kind of the next value.
type jsonKind uint8

const (
	kindInvalid jsonKind = iota
	kindString
	kindNumber
	kindBool
	kindNull
	kindObject
	kindArray
)

func (k jsonKind) String() string {
	return [...]string{"invalid", "string", "number", "boolean", "null", "object", "array"}[k]
}

func (s *jsonScanner) kind() jsonKind {
	switch c := s.peek(); {
	case c == '"':
		return kindString
	case c == '-' || (c >= '0' && c <= '9'):
		return kindNumber
	case c == 't' || c == 'f':
		return kindBool
	case c == 'n':
		return kindNull
	case c == '{':
		return kindObject
	case c == '[':
		return kindArray
	}
	return kindInvalid
}

// skipValue validates and skips any value, to a bounded depth.
func (s *jsonScanner) skipValue(depth int) error {
	if depth > 64 {
		return s.fail("nesting too deep")
	}
	switch s.kind() {
	case kindString:
		_, err := s.stringBytes()
		return err
	case kindNumber:
		_, err := s.number()
		return err
	case kindBool:
		if s.b[s.pos] == 't' {
			return s.literal("true")
		}
		return s.literal("false")
	case kindNull:
		return s.literal("null")
	case kindObject:
		return s.object(func(key []byte) error { return s.skipValue(depth + 1) })
	case kindArray:
		s.pos++
		if s.peek() == ']' {
			s.pos++
			return nil
		}
		for {
			if err := s.skipValue(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.pos++
			case ']':
				s.pos++
				return nil
			default:
				return s.fail("want , or ] in array")
			}
		}
	}
	if s.pos >= len(s.b) {
		return s.fail("unexpected end of input")
	}
	return s.fail("unexpected character")
}

// object reads an object, calling member for each key with the scanner
// positioned at the value; member must consume the value. The key slice is
// valid only during the call.
func (s *jsonScanner) object(member func(key []byte) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		key, err := s.stringBytes()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.fail("want , or } in object")
		}
	}
}
