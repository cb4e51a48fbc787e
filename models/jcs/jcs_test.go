package jcs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

// Vectors from RFC 8785 and its reference test data
// (github.com/cyberphone/json-canonicalization, testdata/input and output),
// those whose numbers are integers. The RFC's §3.2.2 example is split: its
// string and literal members are here, its fractional numbers are among the
// rejected inputs below.
var rfcVectors = []struct{ name, in, want string }{
	{"rfc8785 §3.2.2 strings and literals",
		`{
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`,
		`{"literals":[null,true,false],"string":"€$\u000f\nA'B\"\\\\\"/"}`},
	{"rfc8785 §3.2.3 sorting",
		`{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}`,
		"{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\"," +
			"\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"},
	{"testdata arrays", `[56, {"d": true, "10": null, "1": [ ]}]`, `[56,{"1":[],"10":null,"d":true}]`},
	{"testdata french",
		`{
  "peach": "This sorting order",
  "péché": "is wrong according to French",
  "pêche": "but canonicalization MUST",
  "sin":   "ignore locale"
}`,
		`{"peach":"This sorting order","péché":"is wrong according to French","pêche":"but canonicalization MUST","sin":"ignore locale"}`},
	{"testdata structures",
		`{
  "1": {"f": {"f": "hi","F": 5} ,"\n": 56.0},
  "10": { },
  "": "empty",
  "a": { },
  "111": [ {"e": "yes","E": "no" } ],
  "A": { }
}`,
		`{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{"E":"no","e":"yes"}],"A":{},"a":{}}`},
	{"testdata unicode", `{"Unnormalized Unicode":"A\u030a"}`, "{\"Unnormalized Unicode\":\"A\u030a\"}"},
	{"testdata weird",
		`{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\u000a": "Newline",
  "1": "One",
  "\u0080": "Control\u007f",
  "\ud83d\ude02": "Smiley",
  "\u00f6": "Latin Small Letter O With Diaeresis",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "</script>": "Browser Challenge"
}`,
		"{\"\\n\":\"Newline\",\"\\r\":\"Carriage Return\",\"1\":\"One\",\"</script>\":\"Browser Challenge\"," +
			"\"\u0080\":\"Control\u007f\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\"," +
			"\"😂\":\"Smiley\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"},
}

var ownVectors = []struct{ name, in, want string }{
	{"scalars", `  true `, `true`},
	{"null", "null", "null"},
	{"empty string", `""`, `""`},
	{"empty object", `{ }`, `{}`},
	{"empty array", "[\n]", `[]`},
	{"non-BMP before U+FFFF", `{"\uffff":1,"\ud83d\ude00":2}`, "{\"😀\":2,\"\uffff\":1}"},
	{"non-BMP before U+E000", `{"\ue000":1,"\ud800\udc00":2}`, "{\"\U00010000\":2,\"\ue000\":1}"},
	{"BMP below surrogates before non-BMP", `{"\ud83d\ude00":1,"\ud7ff":2}`, "{\"\ud7ff\":2,\"😀\":1}"},
	{"two non-BMP by low surrogate", `{"\ud83d\ude01":1,"\ud83d\ude00":2}`, `{"😀":2,"😁":1}`},
	{"prefix sorts first", `{"ab":1,"a":2,"":3}`, `{"":3,"a":2,"ab":1}`},
	{"escaped names sort by value", `{"\u0062":1,"a":2}`, `{"a":2,"b":1}`},
	{"control escapes", `"\u0000\u0001\u001f\u0008\u000c\u007f"`, "\"\\u0000\\u0001\\u001f\\b\\f\u007f\""},
	{"solidus unescaped", `"a\/b"`, `"a/b"`},
	{"u2028 literal", `"\u2028\u2029"`, "\"\u2028\u2029\""},
	{"uppercase hex escapes", `"\u00E9\u00C9"`, `"éÉ"`},
	{"quote and backslash", `"\"\\"`, `"\"\\"`},
	{"literal UTF-8 kept", `"信用报告"`, `"信用报告"`},
	{"integers", `[0,-1,1,123456789012345,-123456789012345]`, `[0,-1,1,123456789012345,-123456789012345]`},
	{"2^53", `[9007199254740992,-9007199254740992]`, `[9007199254740992,-9007199254740992]`},
	{"2^53-1", `9007199254740991`, `9007199254740991`},
	{"16 digits", `1000000000000000`, `1000000000000000`},
	{"minus zero", `-0`, `0`},
	{"integral fraction", `[1.0,-2.50e1,100e-2]`, `[1,-25,1]`},
	{"exponent", `[1e2,1E+2,12e14,0.9007199254740992e16]`, `[100,100,1200000000000000,9007199254740992]`},
	{"zero forms", `[0.0,0e5,-0.000e-7,0E999999999999]`, `[0,0,0,0]`},
	{"nested", `{"b":[{"d":1,"c":2}],"a":{"z":{"y":null,"x":[]}}}`, `{"a":{"z":{"x":[],"y":null}},"b":[{"c":2,"d":1}]}`},
	{"whitespace everywhere", " \t\r\n{ \"a\" \n: [ 1 , 2 ] ,\r\"b\"\t:\"\" } \n", `{"a":[1,2],"b":""}`},
}

func TestCanonicalizeVectors(t *testing.T) {
	for _, tc := range slices.Concat(rfcVectors, ownVectors) {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Canonicalize([]byte(tc.in))
			if err != nil {
				t.Fatalf("Canonicalize: %v", err)
			}
			if string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			again, err := Canonicalize(got)
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("not idempotent: %s, %v", again, err)
			}
		})
	}
}

func TestCanonicalizeRejects(t *testing.T) {
	for _, tc := range []struct{ name, in, msg string }{
		{"empty", "", "unexpected end"},
		{"only space", "  ", "unexpected end"},
		{"fraction", `0.5`, "not an integer"},
		{"rfc numbers", `[333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001]`, "not an integer"},
		{"small exponent", `1e-3`, "not an integer"},
		{"2^53+1", `9007199254740993`, "beyond"},
		{"-2^53-1", `-9007199254740993`, "beyond"},
		{"17 digits", `10000000000000000`, "beyond"},
		{"big exponent", `1e16`, "beyond"},
		{"huge exponent", `1e999999999999999999`, "beyond"},
		{"leading zero", `01`, "leading zero"},
		{"plus sign", `+1`, "invalid character"},
		{"bare minus", `-`, "no digits"},
		{"dot no digits", `1.`, "no digits after"},
		{"exp no digits", `1e`, "no digits in exponent"},
		{"NaN", `NaN`, "invalid character"},
		{"trailing garbage", `{} x`, "after the top-level value"},
		{"two values", `1 2`, "after the top-level value"},
		{"trailing comma array", `[1,]`, "invalid character"},
		{"trailing comma object", `{"a":1,}`, "member name"},
		{"duplicate", `{"a":1,"a":2}`, "duplicate member name"},
		{"duplicate escaped", `{"a":1,"\u0061":2}`, "duplicate member name"},
		{"duplicate nested", `[{"x":{"a":1,"b":2,"a":3}}]`, "duplicate member name"},
		{"invalid UTF-8", "\"\xff\"", "invalid UTF-8"},
		{"overlong UTF-8", "\"\xc0\xaf\"", "invalid UTF-8"},
		{"encoded surrogate", "\"\xed\xa0\x80\"", "invalid UTF-8"},
		{"invalid UTF-8 outside string", "\xff", "invalid character"},
		{"BOM", "\xef\xbb\xbf{}", "invalid character"},
		{"lone high", `"\ud83d"`, "lone high surrogate"},
		{"lone high then char", `"\ud83dx"`, "lone high surrogate"},
		{"high then high", `"\ud83d\ud83d"`, "lone high surrogate"},
		{"lone low", `"\ude00"`, "lone low surrogate"},
		{"bad escape", `"\x"`, "invalid escape"},
		{"short unicode", `"\u12"`, "invalid \\u escape"},
		{"raw control", "\"a\nb\"", "control character"},
		{"unterminated", `"abc`, "unterminated string"},
		{"unclosed object", `{"a":1`, "unexpected end"},
		{"unclosed array", `[1`, "unexpected end"},
		{"missing colon", `{"a" 1}`, "missing ':'"},
		{"single quotes", `{'a':1}`, "member name"},
		{"bad literal", `tru`, "invalid literal"},
		{"too deep", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), "nesting deeper"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Canonicalize([]byte(tc.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Canonicalize(%q) = %q, %v; want a SyntaxError", tc.in, got, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not contain %q", err, tc.msg)
			}
		})
	}
	// Exactly MaxDepth is fine.
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := Canonicalize([]byte(deep)); err != nil {
		t.Fatalf("depth %d: %v", MaxDepth, err)
	}
}

func TestSyntaxErrorOffset(t *testing.T) {
	_, err := Canonicalize([]byte(`{"a":1,"b":2,"a":3}`))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != 13 {
		t.Fatalf("got %v, want a duplicate reported at offset 13", err)
	}
}

func TestCanonicalizeWithout(t *testing.T) {
	in := `{"z":1,"signature":{"value":"x"},"a":{"signature":2}}`
	got, err := CanonicalizeWithout([]byte(in), "signature")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":{"signature":2},"z":1}`; string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	for _, tc := range []struct{ in, want string }{
		{`{"signature":1}`, `{}`},
		{`{"a":1}`, `{"a":1}`},
		{`{"signature":1,"b":2,"c":3}`, `{"b":2,"c":3}`},
		{`{"a":1,"b":2,"signature":3}`, `{"a":1,"b":2}`},
	} {
		got, err := CanonicalizeWithout([]byte(tc.in), "signature")
		if err != nil || string(got) != tc.want {
			t.Errorf("CanonicalizeWithout(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	// The omitted member is still validated, and duplicates of it are errors.
	for _, bad := range []string{`{"signature":1.5}`, `{"signature":1,"signature":1}`, `{"a":1,"signature":[}`} {
		if got, err := CanonicalizeWithout([]byte(bad), "signature"); err == nil {
			t.Errorf("CanonicalizeWithout(%s) = %s, want an error", bad, got)
		}
	}
	for _, notObj := range []string{`[]`, ` "signature"`, `1`} {
		if _, err := CanonicalizeWithout([]byte(notObj), "signature"); !errors.Is(err, ErrNotObject) {
			t.Errorf("CanonicalizeWithout(%s): %v, want ErrNotObject", notObj, err)
		}
	}
}

func TestCompareUTF16(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "a", -1},
		{"a", "b", -1},
		{"b", "a", 1},
		{"😀", "\uffff", -1},
		{"\uffff", "😀", 1},
		{"\ud7ff", "😀", -1},
		{"😀", "😁", -1},
		{"😀x", "😀", 1},
		{"\U00010000", "\ue000", -1},
	} {
		if got := CompareUTF16(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareUTF16(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	// Property: agrees with comparing utf16.Encode outputs.
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		a, b := randName(r), randName(r)
		want := slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
		if got := CompareUTF16(a, b); got != want {
			t.Fatalf("CompareUTF16(%q, %q) = %d, want %d", a, b, got, want)
		}
	}
}

// randName draws short strings from an alphabet crafted to hit the UTF-16
// ordering corner cases: ASCII, controls, Latin-1, just below and above the
// surrogate range, U+FFFF and non-BMP characters.
func randName(r *rand.Rand) string {
	alphabet := []rune{'a', 'b', 'A', '/', '"', '\\', '\n', 0, 0x1f, 0x7f, 0x80, 0xe9, 0x20ac, 0x2028,
		0xd7ff, 0xe000, 0xfb33, 0xffff, 0x10000, 0x1f600, 0x1f601, 0x10ffff}
	n := r.IntN(4)
	rs := make([]rune, n)
	for i := range rs {
		rs[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(rs)
}

// node is a JSON value for the property test: nil, bool, int64, string,
// []node or obj.
type node any

type obj []kv

type kv struct {
	k string
	v node
}

func randNode(r *rand.Rand, depth int) node {
	k := r.IntN(7)
	if depth > 3 {
		k = r.IntN(4)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		switch r.IntN(4) {
		case 0:
			return int64(r.IntN(2001) - 1000)
		case 1:
			return int64(MaxSafeInteger)
		case 2:
			return -int64(MaxSafeInteger)
		default:
			return r.Int64N(2*MaxSafeInteger+1) - MaxSafeInteger
		}
	case 3:
		return randName(r) + randName(r)
	case 4, 5:
		n := r.IntN(5)
		o := obj{}
		seen := map[string]bool{}
		for range n {
			name := randName(r)
			if seen[name] {
				continue
			}
			seen[name] = true
			o = append(o, kv{name, randNode(r, depth+1)})
		}
		return o
	default:
		n := r.IntN(4)
		a := make([]node, n)
		for i := range a {
			a[i] = randNode(r, depth+1)
		}
		return a
	}
}

// writeCanonical is the expected output, written straight from the tree
// without parsing: encoding/json for strings is not used because it escapes
// differently, so strings are written per RFC 8785 here by hand.
func writeCanonical(b *strings.Builder, n node) {
	switch v := n.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		fmt.Fprint(b, v)
	case int64:
		fmt.Fprint(b, v)
	case string:
		b.WriteByte('"')
		for _, c := range v {
			switch {
			case c == '"':
				b.WriteString(`\"`)
			case c == '\\':
				b.WriteString(`\\`)
			case c == '\b':
				b.WriteString(`\b`)
			case c == '\f':
				b.WriteString(`\f`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20:
				fmt.Fprintf(b, `\u%04x`, c)
			default:
				b.WriteRune(c)
			}
		}
		b.WriteByte('"')
	case []node:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonical(b, e)
		}
		b.WriteByte(']')
	case obj:
		s := slices.Clone(v)
		slices.SortFunc(s, func(x, y kv) int {
			return slices.Compare(utf16.Encode([]rune(x.k)), utf16.Encode([]rune(y.k)))
		})
		b.WriteByte('{')
		for i, m := range s {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonical(b, m.k)
			b.WriteByte(':')
			writeCanonical(b, m.v)
		}
		b.WriteByte('}')
	}
}

// writeMessy writes n as valid but non-canonical JSON: random white space,
// members in input order, random escapes (\uXXXX with either case, surrogate
// pairs, \/), numbers in random equivalent notations.
func writeMessy(b *strings.Builder, r *rand.Rand, n node) {
	ws := func() {
		for range r.IntN(3) {
			b.WriteByte(" \t\r\n"[r.IntN(4)])
		}
	}
	ws()
	switch v := n.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		fmt.Fprint(b, v)
	case int64:
		switch r.IntN(4) {
		case 0:
			fmt.Fprint(b, v)
		case 1:
			fmt.Fprintf(b, "%d.000", v)
		case 2:
			if v == 0 {
				b.WriteString("-0")
			} else {
				fmt.Fprintf(b, "%d", v)
			}
		default:
			// v = d.ddd × 10^k
			s := fmt.Sprint(v)
			sign := ""
			if s[0] == '-' {
				sign, s = "-", s[1:]
			}
			fmt.Fprintf(b, "%s%s.%se%+d", sign, s[:1], s[1:]+"0", len(s)-1)
		}
	case string:
		b.WriteByte('"')
		for _, c := range v {
			switch {
			case c == '"' || c == '\\' || c < 0x20 || r.IntN(4) == 0:
				if c >= 0x10000 {
					hi, lo := utf16.EncodeRune(c)
					fmt.Fprintf(b, `\u%04X\u%04x`, hi, lo)
				} else if c == '/' {
					b.WriteString(`\/`)
				} else {
					fmt.Fprintf(b, `\u%04X`, c)
				}
			default:
				b.WriteRune(c)
			}
		}
		b.WriteByte('"')
	case []node:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeMessy(b, r, e)
		}
		ws()
		b.WriteByte(']')
	case obj:
		b.WriteByte('{')
		for i, m := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeMessy(b, r, m.k)
			ws()
			b.WriteByte(':')
			writeMessy(b, r, m.v)
		}
		ws()
		b.WriteByte('}')
	}
	ws()
}

// TestCanonicalizeProperty: for random values written messily, the output
// equals the canonical form written directly from the value.
func TestCanonicalizeProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(8785, 1))
	for i := range 5000 {
		n := randNode(r, 0)
		var want, messy strings.Builder
		writeCanonical(&want, n)
		writeMessy(&messy, r, n)
		got, err := Canonicalize([]byte(messy.String()))
		if err != nil {
			t.Fatalf("case %d: Canonicalize(%q): %v", i, messy.String(), err)
		}
		if string(got) != want.String() {
			t.Fatalf("case %d: input %q\ngot  %q\nwant %q", i, messy.String(), got, want.String())
		}
	}
}

func TestManyMembers(t *testing.T) {
	// Exercises the set-based duplicate check and the reordering.
	var b strings.Builder
	b.WriteByte('{')
	for i := 999; i >= 0; i-- {
		fmt.Fprintf(&b, `"k%04d":%d,`, i, i)
	}
	b.WriteString(`"k0500":1}`)
	if _, err := Canonicalize([]byte(b.String())); err == nil || !strings.Contains(err.Error(), `duplicate member name "k0500"`) {
		t.Fatalf("got %v, want a duplicate error", err)
	}
	s := strings.TrimSuffix(b.String(), `,"k0500":1}`) + "}"
	got, err := Canonicalize([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(got), `{"k0000":0,"k0001":1,`) || !strings.HasSuffix(string(got), `"k0999":999}`) {
		t.Fatalf("not sorted: %.60s…", got)
	}
}

func FuzzCanonicalize(f *testing.F) {
	for _, tc := range slices.Concat(rfcVectors, ownVectors) {
		f.Add([]byte(tc.in))
	}
	f.Add([]byte(`{"a":[1,{"b":"\ud83d\ude00"}],"\u00e9":-0.0e3}`))
	f.Add([]byte(`[1e-2, 0.5]`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Canonicalize(in)
		if err != nil {
			return
		}
		if !json.Valid(in) {
			t.Fatalf("accepted invalid JSON %q", in)
		}
		again, err := Canonicalize(out)
		if err != nil {
			t.Fatalf("canonical output %q rejected: %v", out, err)
		}
		if !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
		if !json.Valid(out) {
			t.Fatalf("output %q is not valid JSON", out)
		}
		if !jsonEqual(t, in, out) {
			t.Fatalf("output %q differs from input %q", out, in)
		}
	})
}

// jsonEqual decodes both with encoding/json (numbers kept as text) and
// compares them, numbers by exact value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	for _, x := range []struct {
		in  []byte
		out *any
	}{{a, &va}, {b, &vb}} {
		d := json.NewDecoder(bytes.NewReader(x.in))
		d.UseNumber()
		if err := d.Decode(x.out); err != nil {
			t.Fatalf("decode %q: %v", x.in, err)
		}
	}
	return equalValues(va, vb)
}

func equalValues(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		return numberValue(string(x)).Cmp(numberValue(string(y))) == 0
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalValues(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValues(x[i], y[i]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

// numberValue is the exact value of a JSON number accepted by Canonicalize
// (so an integer of at most 2^53 in magnitude; a zero may carry any
// exponent, which is why it is special-cased before big.Float sees it).
func numberValue(s string) *big.Float {
	mant := strings.TrimLeft(strings.SplitN(strings.ToLower(s), "e", 2)[0], "-")
	if strings.Trim(mant, "0.") == "" {
		return new(big.Float)
	}
	f, _, err := big.ParseFloat(s, 10, 200, big.ToNearestEven)
	if err != nil {
		panic(err)
	}
	return f
}
