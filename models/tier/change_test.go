package tier

import (
	"encoding/json"
	"github.com/creditrisk/creditd/models/uscc"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustUSCC(t testing.TB, s string) uscc.Code {
	t.Helper()
	c, err := uscc.ParseFormat(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The records of the tier-changes topic, byte for byte as docs/kafka.md
// ("Tier changes") shows them: an event's change with its source, a time
// rule's without, a deregistration (new_tier null) and a change without a
// region.
func TestChangeEncoding(t *testing.T) {
	code := mustUSCC(t, "914403001922038216")
	at := time.Date(2026, 3, 1, 16, 0, 0, 0, time.FixedZone("CST", 8*3600))
	for _, tc := range []struct {
		name string
		c    Change
		want string
	}{
		{"event", Change{USCC: code, Region: "370983", OldTier: "B", NewTier: "C", Scheme: "national-4", Score: 512, At: at,
			Cause: "ev-1", Source: &ChangeSource{Topic: "credit.events", Partition: 3, Offset: 1234}},
			`{"uscc":"914403001922038216","region":"370983","old_tier":"B","new_tier":"C","tier_scheme":"national-4","score":512,"at":"2026-03-01T08:00:00Z","cause":"ev-1","source":{"topic":"credit.events","partition":3,"offset":1234}}`},
		{"time rule", Change{USCC: code, Region: "370983", OldTier: "C", NewTier: "B", Scheme: "shandong-5", Score: -7, At: at,
			Cause: "time:decay"},
			`{"uscc":"914403001922038216","region":"370983","old_tier":"C","new_tier":"B","tier_scheme":"shandong-5","score":-7,"at":"2026-03-01T08:00:00Z","cause":"time:decay"}`},
		{"deregistered", Change{USCC: code, Region: "370983", OldTier: "A", Scheme: "national-4", Score: 0, At: at, Cause: "ev-9",
			Source: &ChangeSource{Topic: "t", Partition: 0, Offset: 0}},
			`{"uscc":"914403001922038216","region":"370983","old_tier":"A","new_tier":null,"tier_scheme":"national-4","score":0,"at":"2026-03-01T08:00:00Z","cause":"ev-9","source":{"topic":"t","partition":0,"offset":0}}`},
		{"no region, quote in cause", Change{USCC: code, NewTier: "D", Scheme: "national-4", Score: 100, At: at, Cause: `a"b\c<&>`},
			`{"uscc":"914403001922038216","old_tier":null,"new_tier":"D","tier_scheme":"national-4","score":100,"at":"2026-03-01T08:00:00Z","cause":"a\"b\\c<&>"}`},
	} {
		got := string(tc.c.AppendJSON([]byte("prefix")))
		if got != "prefix"+tc.want {
			t.Errorf("%s:\n got %s\nwant prefix%s", tc.name, got, tc.want)
		}
		if !json.Valid([]byte(tc.want)) {
			t.Errorf("%s: not valid JSON", tc.name)
		}
		back, err := ParseChange([]byte(tc.want))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want := tc.c
		want.At = want.At.UTC()
		if !reflect.DeepEqual(back, want) {
			t.Errorf("%s: decoded %+v, want %+v", tc.name, back, want)
		}
	}
}

// A record missing a required member, with a bad USCC or instant, or an
// empty label, is refused with the member's name.
func TestParseChangeRefuses(t *testing.T) {
	const ok = `{"uscc":"914403001922038216","old_tier":"B","new_tier":"C","tier_scheme":"national-4","score":1,"at":"2026-03-01T08:00:00Z","cause":"e"}`
	if _, err := ParseChange([]byte(ok)); err != nil {
		t.Fatalf("the valid record: %v", err)
	}
	for _, tc := range []struct{ in, want string }{
		{`{"old_tier":"B","new_tier":"C","tier_scheme":"national-4","score":1,"at":"2026-03-01T08:00:00Z","cause":"e"}`, "uscc is missing"},
		{`{"uscc":"914403001922038216","old_tier":"B","new_tier":"C","score":1,"at":"2026-03-01T08:00:00Z","cause":"e"}`, "tier_scheme is missing"},
		{`{"uscc":"914403001922038216","old_tier":"B","new_tier":"C","tier_scheme":"n","at":"2026-03-01T08:00:00Z","cause":"e"}`, "score is missing"},
		{`{"uscc":"914403001922038216","old_tier":"B","new_tier":"C","tier_scheme":"n","score":1,"cause":"e"}`, "at is missing"},
		{`{"uscc":"914403001922038216","old_tier":"B","new_tier":"C","tier_scheme":"n","score":1,"at":"2026-03-01T08:00:00Z"}`, "cause is missing"},
		{strings.Replace(ok, "914403001922038216", "91440300192203821", 1), "uscc"},
		{strings.Replace(ok, "2026-03-01T08:00:00Z", "2026-03-01", 1), "at"},
		{strings.Replace(ok, `"old_tier":"B"`, `"old_tier":""`, 1), "old_tier is empty"},
		{strings.Replace(ok, `"new_tier":"C"`, `"new_tier":""`, 1), "new_tier is empty"},
		{strings.Replace(ok, `"tier_scheme":"national-4"`, `"tier_scheme":""`, 1), "tier_scheme is empty"},
		{strings.Replace(ok, `"score":1`, `"score":1.5`, 1), "score"},
		{`[]`, "tier change"},
	} {
		_, err := ParseChange([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %q", tc.in, err, tc.want)
		}
	}
}

// Whatever ParseChange accepts encodes to a record it decodes to the
// same change.
func FuzzParseChange(f *testing.F) {
	f.Add([]byte(`{"uscc":"914403001922038216","region":"370983","old_tier":"B","new_tier":"C","tier_scheme":"national-4","score":512,"at":"2026-03-01T08:00:00Z","cause":"ev-1","source":{"topic":"credit.events","partition":3,"offset":1234}}`))
	f.Add([]byte(`{"uscc":"914403001922038216","old_tier":null,"new_tier":null,"tier_scheme":"x","score":-1,"at":"2026-03-01T08:00:00+08:00","cause":"\u00e9\n"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseChange(b)
		if err != nil {
			return
		}
		out := c.AppendJSON(nil)
		back, err := ParseChange(out)
		if err != nil {
			t.Fatalf("re-encoded %s: %v", out, err)
		}
		// RFC 3339 output keeps whole seconds only.
		c.At = c.At.Truncate(time.Second)
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip of %s:\n got %+v\nwant %+v", b, back, c)
		}
	})
}
