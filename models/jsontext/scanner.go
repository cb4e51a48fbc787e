// Package jsontext is the strict JSON scanning and string encoding shared by
// the formats: the event decoder (credit-event/v1), the draw documents, the
// RFC 8785 canonicaliser (models/jcs), dead letters and the synthetic feeds.
//
// Why not encoding/json: decoding an event with reflection costs several
// microseconds and a dozen allocations, which alone would exceed the ingest
// budget (≥ 300,000 NDJSON events/s per core), and the canonicaliser needs
// the member names and number texts exactly as written. The Scanner
// validates the full JSON grammar (RFC 8259), including UTF-8 in strings and
// surrogate pairs in escapes (I-JSON, RFC 7493 §2.1), so a value it accepts
// is one encoding/json accepts too.
//
// The package imports nothing of the project's.
package jsontext

import (
	"fmt"
	"strconv"
)

// DefaultMaxDepth is the deepest nesting of objects and arrays a Scanner
// accepts when its MaxDepth is 0: hostile input must cost bounded stack.
const DefaultMaxDepth = 64

// Scanner reads JSON from a byte slice, value by value, strictly. The zero
// value scans empty input; Reset gives it input. It is not safe for
// concurrent use.
type Scanner struct {
	// MaxDepth is the deepest nesting of objects and arrays accepted
	// (open containers, the outermost counting 1); 0 means DefaultMaxDepth.
	MaxDepth int

	b      []byte
	pos    int
	depth  int
	keyPos int    // offset of the member name Object read last
	buf    []byte // scratch for unescaping
}

// SyntaxError reports where and why the input is not the JSON expected.
type SyntaxError struct {
	Offset int    // byte offset in the input where the problem was found
	Msg    string // what is wrong
}

func (e *SyntaxError) Error() string {
	return "invalid JSON at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Reset makes the scanner read b from its start. The scratch buffer is
// kept, so a reused Scanner does not allocate for escaped strings.
func (s *Scanner) Reset(b []byte) {
	s.b, s.pos, s.depth, s.keyPos = b, 0, 0, 0
}

// Input returns the slice being scanned.
func (s *Scanner) Input() []byte { return s.b }

// Offset returns the position of the next byte to read.
func (s *Scanner) Offset() int { return s.pos }

// Seek moves the read position to off, which must lie between 0 and
// len(Input()) and at a token boundary (for a caller that interleaves its
// own reading with the Scanner's).
func (s *Scanner) Seek(off int) { s.pos = off }

// Depth returns the number of objects and arrays open around the read
// position (1 inside the members of a top-level object).
func (s *Scanner) Depth() int { return s.depth }

// KeyOffset returns the offset of the opening quote of the member name
// Object read last: in a member callback, before the value is read, the
// name of that member.
func (s *Scanner) KeyOffset() int { return s.keyPos }

// Fail returns a *SyntaxError with msg at the current offset.
func (s *Scanner) Fail(msg string) error { return &SyntaxError{Offset: s.pos, Msg: msg} }

func (s *Scanner) failAt(at int, format string, args ...any) error {
	return &SyntaxError{Offset: at, Msg: fmt.Sprintf(format, args...)}
}

func (s *Scanner) skipWS() {
	for s.pos < len(s.b) {
		switch s.b[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// Peek skips white space and returns the next byte, or 0 at the end of the
// input (a NUL byte in the input also reads 0: use AtEnd to tell them apart).
func (s *Scanner) Peek() byte {
	s.skipWS()
	if s.pos < len(s.b) {
		return s.b[s.pos]
	}
	return 0
}

// AtEnd skips white space and reports whether the input is exhausted.
func (s *Scanner) AtEnd() bool {
	s.skipWS()
	return s.pos >= len(s.b)
}

// Expect skips white space and consumes c, or fails.
func (s *Scanner) Expect(c byte) error {
	if s.Peek() != c {
		if s.pos >= len(s.b) {
			return s.Fail("unexpected end of input, want " + strconv.QuoteRune(rune(c)))
		}
		return s.Fail("want " + strconv.QuoteRune(rune(c)) + ", got " + strconv.QuoteRune(rune(s.b[s.pos])))
	}
	s.pos++
	return nil
}

// Kind is the kind of a JSON value, told by its first byte.
type Kind uint8

// The kinds of values; Invalid is the kind at the end of the input or at a
// byte no value starts with.
const (
	Invalid Kind = iota
	String
	Number
	Bool
	Null
	Object
	Array
)

func (k Kind) String() string {
	return [...]string{"invalid", "string", "number", "boolean", "null", "object", "array"}[k]
}

// Kind skips white space and returns the kind of the next value without
// consuming it.
func (s *Scanner) Kind() Kind {
	switch c := s.Peek(); {
	case c == '"':
		return String
	case c == '-' || (c >= '0' && c <= '9'):
		return Number
	case c == 't' || c == 'f':
		return Bool
	case c == 'n':
		return Null
	case c == '{':
		return Object
	case c == '[':
		return Array
	}
	return Invalid
}

// noValue is the error for a position where a value should start.
func (s *Scanner) noValue() error {
	if s.pos >= len(s.b) {
		return s.Fail("unexpected end of input")
	}
	return s.failAt(s.pos, "invalid character %q looking for a value", s.b[s.pos])
}

// SkipValue validates and skips the next value, nesting included.
func (s *Scanner) SkipValue() error {
	switch s.Kind() {
	case String:
		_, err := s.StringBytes()
		return err
	case Number:
		_, err := s.Number()
		return err
	case Bool:
		_, err := s.Bool()
		return err
	case Null:
		return s.Null()
	case Object:
		return s.Object(func([]byte) error { return s.SkipValue() })
	case Array:
		return s.Array(s.SkipValue)
	}
	return s.noValue()
}

// Bool reads true or false.
func (s *Scanner) Bool() (bool, error) {
	if s.Peek() == 't' {
		return true, s.literal("true")
	}
	return false, s.literal("false")
}

// Null reads null.
func (s *Scanner) Null() error {
	s.skipWS()
	return s.literal("null")
}

func (s *Scanner) literal(word string) error {
	if len(s.b)-s.pos < len(word) || string(s.b[s.pos:s.pos+len(word)]) != word {
		return s.failAt(s.pos, "invalid literal, want %s", word)
	}
	s.pos += len(word)
	return nil
}

func (s *Scanner) enter() error {
	limit := s.MaxDepth
	if limit == 0 {
		limit = DefaultMaxDepth
	}
	if s.depth >= limit {
		return s.failAt(s.pos, "nesting deeper than %d", limit)
	}
	s.depth++
	return nil
}

// Object reads an object, calling member for each member with the name
// (unescaped; valid only during the call) and the scanner positioned at the
// value; member must consume the value. Names are not checked for
// duplicates: the callers' rules differ (reject, or report the first).
func (s *Scanner) Object(member func(key []byte) error) error {
	if err := s.Expect('{'); err != nil {
		return err
	}
	s.pos-- // report a too deep nesting at the brace
	if err := s.enter(); err != nil {
		return err
	}
	s.pos++
	if s.Peek() == '}' {
		s.pos++
		s.depth--
		return nil
	}
	for {
		if s.Peek() != '"' {
			if s.pos >= len(s.b) {
				return s.Fail("unexpected end of input in object")
			}
			return s.failAt(s.pos, "invalid character %q looking for a member name", s.b[s.pos])
		}
		s.keyPos = s.pos
		key, err := s.StringBytes()
		if err != nil {
			return err
		}
		if s.Peek() != ':' {
			return s.Fail("missing ':' after member name")
		}
		s.pos++
		if err := member(key); err != nil {
			return err
		}
		switch s.Peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.depth--
			return nil
		default:
			if s.pos >= len(s.b) {
				return s.Fail("unexpected end of input in object")
			}
			return s.failAt(s.pos, "invalid character %q after object member", s.b[s.pos])
		}
	}
}

// Array reads an array, calling elem for each element with the scanner
// positioned at it; elem must consume it.
func (s *Scanner) Array(elem func() error) error {
	if err := s.Expect('['); err != nil {
		return err
	}
	s.pos--
	if err := s.enter(); err != nil {
		return err
	}
	s.pos++
	if s.Peek() == ']' {
		s.pos++
		s.depth--
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch s.Peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			s.depth--
			return nil
		default:
			if s.pos >= len(s.b) {
				return s.Fail("unexpected end of input in array")
			}
			return s.failAt(s.pos, "invalid character %q after array element", s.b[s.pos])
		}
	}
}
