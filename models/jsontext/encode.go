package jsontext

import (
	"errors"
	"unicode/utf8"
)

// ErrInvalidUTF8 is returned by AppendStringJCS for a string that is not
// valid UTF-8.
var ErrInvalidUTF8 = errors.New("jsontext: invalid UTF-8 in string")

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, for output read by people and
// tools. Unlike encoding/json it leaves '<', '>' and '&' alone (the output
// is not embedded in HTML), so originals stay legible.
//
//   - '"' and '\\' are escaped with a backslash; \n, \r and \t are written
//     in short form, every other control character as \u00xx;
//   - U+2028 and U+2029 are escaped (\u2028, \u2029), as JSON embedded in
//     JavaScript needs;
//   - invalid UTF-8 becomes U+FFFD, as in encoding/json; callers check
//     utf8.Valid first where bytes must survive exactly;
//   - everything else, U+007F included, is written as is.
func AppendString[T string | []byte](dst []byte, s T) []byte {
	dst, _ = appendString(dst, s, modePlain)
	return dst
}

// AppendStringDraw appends s as draw records write strings (docs/spec/
// draw.md, draw/v1 and draw/v2; a draw's id hashes these bytes, so they
// never change): '"' and '\\' escaped with a backslash; \n, \r and \t in
// short form; every other control character and U+007F as \u00xx; every
// other byte as is (draw strings are UTF-8 checked when parsed).
func AppendStringDraw[T string | []byte](dst []byte, s T) []byte {
	dst, _ = appendString(dst, s, modeDraw)
	return dst
}

// AppendStringJCS appends s as a canonical JSON string, exactly as RFC 8785
// §3.2.2.2 serialises one: '"' and '\\' escaped with a backslash, \b, \f,
// \n, \r and \t in short form, the other control characters as \u00xx
// (lowercase hex), and every other character, U+007F, U+2028 and U+2029
// included, as literal UTF-8. A string that is not valid UTF-8 has no
// canonical form: ErrInvalidUTF8, and dst is returned unchanged.
//
// It shares its implementation with AppendString and AppendStringDraw; the
// differences (\b and \f, U+007F, U+2028 and U+2029, invalid UTF-8) are
// appendString's mode.
func AppendStringJCS[T string | []byte](dst []byte, s T) ([]byte, error) {
	out, ok := appendString(dst, s, modeJCS)
	if !ok {
		return dst, ErrInvalidUTF8
	}
	return out, nil
}

// The encoder's modes.
const (
	modePlain = iota // AppendString
	modeJCS          // AppendStringJCS
	modeDraw         // AppendStringDraw
)

// safe[mode][c] is true for a byte written as is without a look at what
// follows: printable ASCII but '"' and '\\'; in jcs mode (where the UTF-8
// is validated up front and nothing beyond ASCII is escaped) every byte
// from 0x80 on; in draw mode the same but for U+007F, which it escapes.
var safe = func() (t [3][256]bool) {
	for c := 0x20; c < 0x100; c++ {
		t[modeJCS][c] = c != '"' && c != '\\'
		t[modePlain][c] = t[modeJCS][c] && c < utf8.RuneSelf
		t[modeDraw][c] = t[modeJCS][c] && c != 0x7f
	}
	return t
}()

// validUTF8 is utf8.Valid for either argument type, without a copy.
func validUTF8[T string | []byte](s T) bool {
	switch v := any(s).(type) {
	case string:
		return utf8.ValidString(v)
	case []byte:
		return utf8.Valid(v)
	}
	panic("unreachable")
}

// appendString is the one JSON string encoder; mode selects the rules of
// AppendString, AppendStringJCS or AppendStringDraw. ok is false only in
// jcs mode, for invalid UTF-8.
func appendString[T string | []byte](dst []byte, s T, mode int) (out []byte, ok bool) {
	jcs := mode == modeJCS
	if jcs && !validUTF8(s) {
		return dst, false
	}
	safe := &safe[mode]
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if safe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c == '\b' && jcs:
				dst = append(dst, '\\', 'b')
			case c == '\f' && jcs:
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		// Plain mode only: invalid UTF-8 and U+2028, U+2029 need a look.
		r, size := utf8.DecodeRune([]byte(s[i:min(i+utf8.UTFMax, len(s))]))
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i++
			start = i
			continue
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), true
}
