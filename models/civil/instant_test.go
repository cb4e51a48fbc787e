package civil

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// rfc3339Shape is RFC 3339 §5.6's date-time grammar without the value
// ranges (T and Z may be lowercase, per its note).
var rfc3339Shape = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$`)

// Worked by hand: what RFC 3339 allows is accepted (lowercase t and z,
// fractions of any length, numeric offsets); a range problem says "out of
// range", a malformed text says "not an RFC 3339 instant".
func TestParseInstant(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	ok := []struct {
		in   string
		want time.Time
	}{
		{"2026-03-01T08:00:00Z", utc(2026, 3, 1, 8, 0, 0, 0)},
		{"2026-03-01t08:00:00z", utc(2026, 3, 1, 8, 0, 0, 0)},
		{"2026-03-01t08:00:00Z", utc(2026, 3, 1, 8, 0, 0, 0)},
		{"2026-03-01T08:00:00.5Z", utc(2026, 3, 1, 8, 0, 0, 500_000_000)},
		{"2026-03-01T08:00:00.123456789Z", utc(2026, 3, 1, 8, 0, 0, 123456789)},
		{"2026-03-01T08:00:00.1234567891234z", utc(2026, 3, 1, 8, 0, 0, 123456789)}, // digits past the 9th do not count
		{"2026-03-01T08:00:00+08:00", utc(2026, 3, 1, 0, 0, 0, 0)},
		{"2026-03-01T08:00:00-00:00", utc(2026, 3, 1, 8, 0, 0, 0)},
		{"2026-03-01T00:30:00+23:59", utc(2026, 2, 28, 0, 31, 0, 0)},
		{"2024-02-29T23:59:59.999999999-12:00", utc(2024, 3, 1, 11, 59, 59, 999999999)},
		{"1900-01-01T00:00:00Z", utc(1900, 1, 1, 0, 0, 0, 0)},
		{"1900-01-01T08:00:00+08:00", utc(1900, 1, 1, 0, 0, 0, 0)},
		{"9999-12-31T23:59:59.999999999Z", utc(9999, 12, 31, 23, 59, 59, 999999999)},
	}
	for _, tc := range ok {
		got, err := ParseInstant(tc.in)
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("%s: %v %v, want %v", tc.in, got, err, tc.want)
		}
	}
	bad := []struct {
		in       string
		outRange bool
	}{
		{"1899-12-31T23:59:59Z", true},
		{"1900-01-01T07:59:59+08:00", true}, // 1899-12-31T23:59:59Z
		{"1000-01-01T00:00:00Z", true},
		{"0000-01-01T00:00:00Z", true},
		{"9999-12-31T23:59:59-00:01", true}, // 10000-01-01T00:00:59Z
		{"2023-02-29T00:00:00Z", true},
		{"2026-04-31T00:00:00Z", true},
		{"2026-13-01T00:00:00Z", true},
		{"2026-00-01T00:00:00Z", true},
		{"2026-01-00T00:00:00Z", true},
		{"2026-01-01T24:00:00Z", true},
		{"2026-01-01T00:60:00Z", true},
		{"2016-12-31T23:59:60Z", true}, // a real leap second: Go's time cannot hold it
		{"2026-01-01T00:00:61Z", true},
		{"2026-01-01T00:00:00+24:00", true},
		{"2026-01-01T00:00:00+00:60", true},
		{"", false},
		{"2026-01-01", false},
		{"2026-01-01 00:00:00Z", false},
		{"2026-01-01T00:00:00", false},
		{"2026-01-01T00:00:00.Z", false},
		{"2026-01-01T00:00:00,5Z", false}, // Go accepts a comma; RFC 3339 does not
		{"2026-01-01T0:00:00Z", false},
		{"2026-1-01T00:00:00Z", false},
		{"2026-01-01T00:00:00+0800", false},
		{"2026-01-01T00:00:00+08", false},
		{"2026-01-01T00:00:00UTC", false},
		{"2026-01-01T00:00:00Zjunk", false},
		{"+2026-01-01T00:00:00Z", false},
		{"２026-01-01T00:00:00Z", false},
	}
	for _, tc := range bad {
		_, err := ParseInstant(tc.in)
		var ie *InstantError
		if !errors.As(err, &ie) || ie.Range != tc.outRange {
			t.Errorf("%q: %v, want out of range %v", tc.in, err, tc.outRange)
			continue
		}
		want := "is not an RFC 3339 instant"
		if tc.outRange {
			want = "is out of range"
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %q does not say %q", tc.in, err, want)
		}
	}
}

// FuzzParseInstant compares ParseInstant with Go's time.Parse on the
// upper-cased input: whatever it accepts Go accepts as the same instant;
// a text of RFC 3339's shape that Go accepts is refused only as out of
// range (years outside 1900–9999 in UTC); a syntax refusal is a text not
// of RFC 3339's shape.
func FuzzParseInstant(f *testing.F) {
	for _, s := range []string{"2026-03-01T08:00:00Z", "2026-03-01t08:00:00.123z", "1899-12-31T23:59:59Z",
		"2024-02-29T00:00:00+08:00", "2026-01-01T00:00:00,5Z", "9999-12-31T23:59:59-01:00", "2016-12-31T23:59:60Z",
		"2026-01-01T0:00:00Z", "2026-01-01T00:00:00.1234567891Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseInstant(s)
		std, serr := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
		shape := rfc3339Shape.MatchString(s)
		if err == nil {
			if serr != nil || !got.Equal(std) || got.Location() != time.UTC || !shape {
				t.Fatalf("%q: accepted as %v; time.Parse: %v %v; shape %v", s, got, std, serr, shape)
			}
			return
		}
		var ie *InstantError
		if !errors.As(err, &ie) {
			t.Fatalf("%q: %T %v", s, err, err)
		}
		if ie.Range != shape {
			t.Fatalf("%q: range %v but RFC 3339 shape %v: %v", s, ie.Range, shape, err)
		}
		if serr == nil && shape {
			if y := std.UTC().Year(); y >= 1900 && y <= 9999 {
				t.Fatalf("%q: refused (%v) but time.Parse gives %v", s, err, std)
			}
		}
	})
}
