package jsontext

import (
	"unicode/utf16"
	"unicode/utf8"
)

// StringBytes reads a string and returns its unescaped bytes, which are
// valid UTF-8. The result aliases the input when the string has no escapes,
// else the scanner's scratch buffer: it is valid until the next call.
//
// Refused: unescaped control characters, invalid UTF-8 (overlong forms and
// encoded surrogates included), unknown escapes, and \u escapes of a lone
// surrogate (I-JSON, RFC 7493 §2.1).
func (s *Scanner) StringBytes() ([]byte, error) {
	if err := s.Expect('"'); err != nil {
		return nil, err
	}
	start := s.pos
	// Fast path: no escapes. A table lookup per byte finds the closing
	// quote, a backslash or a control character; UTF-8 is validated once
	// over the whole run (utf8.Valid beats decoding rune by rune).
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
				return nil, s.badUTF8(start)
			}
			s.pos++
			return out, nil
		case clsEscape:
			if nonASCII && !utf8.Valid(b[start:s.pos]) {
				return nil, s.badUTF8(start)
			}
			return s.stringSlow(start)
		default:
			if nonASCII && !utf8.Valid(b[start:s.pos]) {
				return nil, s.badUTF8(start) // the first error in the text
			}
			return nil, s.failAt(s.pos, "control character %#02x in string (must be escaped)", b[s.pos])
		}
	}
	if nonASCII && !utf8.Valid(b[start:]) {
		return nil, s.badUTF8(start)
	}
	return nil, s.Fail("unterminated string")
}

// badUTF8 reports the first invalid UTF-8 sequence from start on.
func (s *Scanner) badUTF8(start int) error {
	at := start
	for at < len(s.b) {
		r, n := utf8.DecodeRune(s.b[at:])
		if r == utf8.RuneError && n == 1 {
			break
		}
		at += n
	}
	return s.failAt(at, "invalid UTF-8 in string")
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

// stringSlow is the slow path of StringBytes, taken at the first escape.
func (s *Scanner) stringSlow(start int) ([]byte, error) {
	s.buf = append(s.buf[:0], s.b[start:s.pos]...)
	for s.pos < len(s.b) {
		c := s.b[s.pos]
		switch {
		case c == '"':
			s.pos++
			return s.buf, nil
		case c == '\\':
			r, err := s.escape()
			if err != nil {
				return nil, err
			}
			s.buf = utf8.AppendRune(s.buf, r)
		case c < 0x20:
			return nil, s.failAt(s.pos, "control character %#02x in string (must be escaped)", c)
		case c < utf8.RuneSelf:
			s.buf = append(s.buf, c)
			s.pos++
		default:
			r, n := utf8.DecodeRune(s.b[s.pos:])
			if r == utf8.RuneError && n == 1 {
				return nil, s.failAt(s.pos, "invalid UTF-8 in string")
			}
			s.buf = append(s.buf, s.b[s.pos:s.pos+n]...)
			s.pos += n
		}
	}
	return nil, s.Fail("unterminated string")
}

// escape decodes the escape sequence at s.pos (a backslash), combining a
// surrogate pair into one rune. Errors are reported at the backslash.
func (s *Scanner) escape() (rune, error) {
	at := s.pos
	if s.pos+1 >= len(s.b) {
		return 0, s.failAt(at, "unterminated escape")
	}
	c := s.b[s.pos+1]
	s.pos += 2
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
		return 0, s.failAt(at, "invalid escape \\%c", c)
	}
	r, ok := s.hex4()
	if !ok {
		return 0, s.failAt(at, "invalid \\u escape")
	}
	switch {
	case r >= 0xDC00 && r <= 0xDFFF:
		return 0, s.failAt(at, "lone low surrogate \\u%04x", r)
	case r >= 0xD800 && r <= 0xDBFF:
		if s.pos+1 < len(s.b) && s.b[s.pos] == '\\' && s.b[s.pos+1] == 'u' {
			s.pos += 2
			lo, ok := s.hex4()
			if ok && lo >= 0xDC00 && lo <= 0xDFFF {
				return utf16.DecodeRune(r, lo), nil
			}
		}
		return 0, s.failAt(at, "lone high surrogate \\u%04x", r)
	}
	return r, nil
}

func (s *Scanner) hex4() (rune, bool) {
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

// Number reads a number and returns its text, as written (RFC 8259 §6:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?). A digit right after a
// leading 0 is an error here, not left for the next read.
func (s *Scanner) Number() ([]byte, error) {
	s.skipWS()
	start := s.pos
	if s.pos < len(s.b) && s.b[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos >= len(s.b) || s.b[s.pos] < '0' || s.b[s.pos] > '9':
		return nil, s.Fail("invalid number: no digits")
	case s.b[s.pos] == '0':
		s.pos++
		if s.pos < len(s.b) && s.b[s.pos] >= '0' && s.b[s.pos] <= '9' {
			return nil, s.Fail("invalid number: leading zero")
		}
	default:
		s.digits()
	}
	if s.pos < len(s.b) && s.b[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return nil, s.Fail("invalid number: no digits after '.'")
		}
	}
	if s.pos < len(s.b) && (s.b[s.pos] == 'e' || s.b[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.b) && (s.b[s.pos] == '+' || s.b[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return nil, s.Fail("invalid number: no digits in exponent")
		}
	}
	return s.b[start:s.pos], nil
}

func (s *Scanner) digits() int {
	n := 0
	for s.pos < len(s.b) && s.b[s.pos] >= '0' && s.b[s.pos] <= '9' {
		s.pos++
		n++
	}
	return n
}
