package jsontext

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// Worked out by hand from the rules in the doc comments; the two modes
// differ exactly on \b, \f, U+2028, U+2029 and invalid UTF-8.
var stringCases = []struct {
	in, plain, jcs string // jcs "" means ErrInvalidUTF8
}{
	{"", `""`, `""`},
	{"abc", `"abc"`, `"abc"`},
	{`a"b\c/`, `"a\"b\\c/"`, `"a\"b\\c/"`},
	{"\n\r\t", `"\n\r\t"`, `"\n\r\t"`},
	{"\b\f", `"\u0008\u000c"`, `"\b\f"`},
	{"\x00\x01\x1f", `"\u0000\u0001\u001f"`, `"\u0000\u0001\u001f"`},
	{"\x20\x7f", "\"\x20\x7f\"", "\"\x20\x7f\""}, // space and DEL as is
	{"<>&", `"<>&"`, `"<>&"`},
	{"é€😀", `"é€😀"`, `"é€😀"`},
	{"a\u2028b\u2029c", `"a\u2028b\u2029c"`, "\"a\u2028b\u2029c\""},
	{"\u2027\u202a", "\"\u2027\u202a\"", "\"\u2027\u202a\""}, // neighbours untouched
	{"a\xffb", "\"a\ufffdb\"", ""},
	{"\xc0\xaf", "\"\ufffd\ufffd\"", ""},           // overlong '/': one U+FFFD per byte
	{"\xed\xa0\x80", "\"\ufffd\ufffd\ufffd\"", ""}, // encoded surrogate
	{"é\xe2\x80", "\"é\ufffd\ufffd\"", ""},         // truncated at the end
}

func TestAppendString(t *testing.T) {
	for _, tc := range stringCases {
		if got := AppendString([]byte("x"), tc.in); string(got) != "x"+tc.plain {
			t.Errorf("AppendString(%q) = %s, want %s", tc.in, got[1:], tc.plain)
		}
		if got := AppendString(nil, []byte(tc.in)); string(got) != tc.plain {
			t.Errorf("AppendString([]byte %q) = %s, want %s", tc.in, got, tc.plain)
		}
		got, err := AppendStringJCS([]byte("x"), tc.in)
		if tc.jcs == "" {
			if !errors.Is(err, ErrInvalidUTF8) || string(got) != "x" {
				t.Errorf("AppendStringJCS(%q) = %q, %v; want dst unchanged, ErrInvalidUTF8", tc.in, got, err)
			}
			continue
		}
		if err != nil || string(got) != "x"+tc.jcs {
			t.Errorf("AppendStringJCS(%q) = %s, %v; want %s", tc.in, got, err, tc.jcs)
		}
	}
}

// FuzzAppendString: both modes write valid JSON that the Scanner and
// encoding/json read back as the input (AppendString: with invalid bytes
// replaced as encoding/json replaces them); the JCS mode writes nothing
// escaped but what RFC 8785 §3.2.2.2 escapes.
func FuzzAppendString(f *testing.F) {
	for _, tc := range stringCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		plain := AppendString(nil, s)
		var back, ref string
		if err := json.Unmarshal(plain, &back); err != nil {
			t.Fatalf("AppendString(%q) = %s: %v", s, plain, err)
		}
		std, _ := json.Marshal(s)
		if err := json.Unmarshal(std, &ref); err != nil || back != ref {
			t.Fatalf("AppendString(%q) reads back as %q, encoding/json's as %q", s, back, ref)
		}
		jcs, err := AppendStringJCS(nil, s)
		if !utf8.ValidString(s) {
			if !errors.Is(err, ErrInvalidUTF8) || jcs != nil {
				t.Fatalf("AppendStringJCS(%q) = %q, %v; want ErrInvalidUTF8", s, jcs, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		var sc Scanner
		sc.Reset(jcs)
		v, err := sc.StringBytes()
		if err != nil || string(v) != s || !sc.AtEnd() {
			t.Fatalf("AppendStringJCS(%q) = %s, scans as %q, %v", s, jcs, v, err)
		}
		// Only '"', '\\' and control characters are escaped: removing the
		// escapes' backslash forms leaves the input's other bytes intact.
		if n := bytes.Count(jcs, []byte{'\\'}); n > 2*len(s) {
			t.Fatalf("AppendStringJCS(%q) = %s: too many escapes", s, jcs)
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c >= 0x20 && c != '"' && c != '\\' && !bytes.Contains(jcs, []byte{c}) {
				t.Fatalf("AppendStringJCS(%q) = %s: byte %#x escaped", s, jcs, c)
			}
		}
	})
}

// The draw mode, worked by hand from docs/spec/draw.md: a draw's id hashes
// these bytes, so they must never change.
func TestAppendStringDraw(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`plain`, `"plain"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"\n\r\t", `"\n\r\t"`},
		{"\b\f\x00\x1f", `"\u0008\u000c\u0000\u001f"`}, // no short \b \f
		{"\x7f", `"\u007f"`},                           // DEL escaped
		{"检查\u2028\u2029", "\"检查\u2028\u2029\""},       // UTF-8 and line separators as is
		{"<&>", `"<&>"`},
	} {
		if got := string(AppendStringDraw(nil, tc.in)); got != tc.want {
			t.Errorf("%q: %s, want %s", tc.in, got, tc.want)
		}
	}
}
