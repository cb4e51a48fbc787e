package jsontext

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// skip scans one whole document the way the event decoder does.
func skip(in string, maxDepth int) error {
	s := Scanner{MaxDepth: maxDepth}
	s.Reset([]byte(in))
	if err := s.SkipValue(); err != nil {
		return err
	}
	if !s.AtEnd() {
		return s.Fail("trailing data")
	}
	return nil
}

func TestScannerErrors(t *testing.T) {
	for _, tc := range []struct {
		in     string
		offset int
		msg    string
	}{
		{``, 0, "unexpected end of input"},
		{` x`, 1, `invalid character 'x' looking for a value`},
		{"\xef\xbb\xbf{}", 0, "invalid character 'ï' looking for a value"}, // no BOM (%q of the byte 0xef)
		{`{"a":1,}`, 7, `invalid character '}' looking for a member name`},
		{`{"a" 1}`, 5, "missing ':' after member name"},
		{`{"a":1 "b"}`, 7, `invalid character '"' after object member`},
		{`{"a":1`, 6, "unexpected end of input in object"},
		{`[1,]`, 3, `invalid character ']' looking for a value`},
		{`[1 2]`, 3, `invalid character '2' after array element`},
		{`[1`, 2, "unexpected end of input in array"},
		{`tru`, 0, "invalid literal, want true"},
		{`[nul]`, 1, "invalid literal, want null"},
		{`-`, 1, "invalid number: no digits"},
		{`012`, 1, "invalid number: leading zero"},
		{`-01`, 2, "invalid number: leading zero"},
		{`1.`, 2, "invalid number: no digits after '.'"},
		{`1.5e+`, 5, "invalid number: no digits in exponent"},
		{`"abc`, 4, "unterminated string"},
		{"\"a\tb\"", 2, "control character 0x09 in string (must be escaped)"},
		{"\"ab\xffc\"", 3, "invalid UTF-8 in string"},
		{"\"\\n\xc0\xaf\"", 3, "invalid UTF-8 in string"},
		{`"ab\x"`, 3, `invalid escape \x`},
		{`"ab\`, 3, "unterminated escape"},
		{`"\u12"`, 1, `invalid \u escape`},
		{`"a\ude00"`, 2, `lone low surrogate \ude00`},
		{`"a\ud83d"`, 2, `lone high surrogate \ud83d`},
		{`"a\ud83d\u0041"`, 2, `lone high surrogate \ud83d`},
		{`"a\ud83d\ud83d"`, 2, `lone high surrogate \ud83d`},
		{`{} 1`, 3, "trailing data"},
		{"{}\x00", 2, "trailing data"}, // NUL is not the end of the input
		{`[[[]]]`, 2, "nesting deeper than 2"},
	} {
		max := 0
		if strings.HasSuffix(tc.msg, "than 2") {
			max = 2
		}
		err := skip(tc.in, max)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Offset != tc.offset || se.Msg != tc.msg {
			t.Errorf("%q: %v; want %q at %d", tc.in, err, tc.msg, tc.offset)
		}
	}
}

func TestScannerDepth(t *testing.T) {
	nest := func(n int) string { return strings.Repeat(`[{"a":`, n) + "1" + strings.Repeat("}]", n) }
	if err := skip(nest(DefaultMaxDepth/2), 0); err != nil {
		t.Errorf("depth %d: %v", DefaultMaxDepth, err)
	}
	if err := skip(nest(DefaultMaxDepth/2)+" ", 0); err != nil {
		t.Errorf("depth %d: %v", DefaultMaxDepth, err)
	}
	deep := strings.Repeat("[", DefaultMaxDepth+1) + strings.Repeat("]", DefaultMaxDepth+1)
	if err := skip(deep, 0); err == nil || !strings.Contains(err.Error(), "nesting deeper than 64") {
		t.Errorf("depth %d: %v, want refused", DefaultMaxDepth+1, err)
	}
	if err := skip(deep, DefaultMaxDepth+1); err != nil {
		t.Errorf("depth %d with MaxDepth %d: %v", DefaultMaxDepth+1, DefaultMaxDepth+1, err)
	}
}

func TestScannerObject(t *testing.T) {
	var s Scanner
	s.Reset([]byte(` { "a" : [1, {"b\u0041": null}], "c\n": "x\ty", "a": true } `))
	var keys []string
	var offsets []int
	err := s.Object(func(key []byte) error {
		keys = append(keys, string(key))
		offsets = append(offsets, s.KeyOffset())
		if s.Depth() != 1 {
			t.Errorf("depth %d in a top-level member", s.Depth())
		}
		return s.SkipValue()
	})
	if err != nil || !s.AtEnd() || s.Depth() != 0 {
		t.Fatalf("Object: %v (at end %v, depth %d)", err, s.AtEnd(), s.Depth())
	}
	if got := strings.Join(keys, "|"); got != "a|c\n|a" {
		t.Errorf("keys %q", got)
	}
	if want := []int{3, 33, 48}; !slices.Equal(offsets, want) {
		t.Errorf("key offsets %v, want %v", offsets, want)
	}
}

// FuzzScanner: what the scanner accepts encoding/json accepts, and reads
// the same strings; what it refuses that encoding/json accepts is refused
// for invalid UTF-8 or lone surrogates (I-JSON, RFC 7493 §2.1: encoding/json
// replaces them with U+FFFD) or for depth.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,-2.5e+3,true,false,null,{"b":"\u00e9\ud83d\ude00\n"}]}`, `"\ud800"`, `[[[[1]]]]`,
		"\"\xff\"", `01`, `{"a":1,}`, `"a\/b"`, "\"\u2028\"", ` [ ] `, `1e`, "{}\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		err := skip(in, 0)
		valid := json.Valid([]byte(in))
		if err == nil && !valid {
			t.Fatalf("accepted %q, which encoding/json refuses", in)
		}
		if err != nil && valid && !strings.Contains(err.Error(), "surrogate") &&
			!strings.Contains(err.Error(), "UTF-8") && !strings.Contains(err.Error(), "nesting") {
			t.Fatalf("refused %q (%v), which encoding/json accepts", in, err)
		}
		if err != nil || !strings.HasPrefix(strings.TrimLeft(in, " \t\r\n"), `"`) {
			return
		}
		var s Scanner
		s.Reset([]byte(in))
		got, _ := s.StringBytes()
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil || string(got) != want {
			t.Fatalf("%q scans as %q, encoding/json reads %q (%v)", in, got, want, err)
		}
	})
}
