package deadletter

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// TestAppendJSONExact pins the encoding byte for byte (worked out by hand
// from the format in the package comment): member order, UTC at with
// nanoseconds trimmed, event_id omitted when empty, '<' '&' kept, control
// characters and U+2028 escaped, invalid UTF-8 in detail replaced, a
// non-UTF-8 original in base64, an empty original kept as "".
func TestAppendJSONExact(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 120_000_000, time.FixedZone("CST", 8*3600))
	for _, tc := range []struct {
		l    Letter
		want string
	}{
		{Letter{At: at, Source: FileSource("/in/a.ndjson", 42), Reason: "invalid_uscc", Detail: "x<y&z", EventID: "鲁-1",
			Original: []byte("{\"id\":1}\t\u2028")},
			`{"at":"2026-03-01T00:00:00.12Z","source":"file:/in/a.ndjson:42","reason":"invalid_uscc","detail":"x<y&z","event_id":"鲁-1","original":"{\"id\":1}\t\u2028"}`},
		{Letter{At: at, Source: HTTPSource("r", 3), Reason: "not_json", Detail: "bad \xff", Original: []byte{0xff, 0x00, 'a'}},
			`{"at":"2026-03-01T00:00:00.12Z","source":"http:r:3","reason":"not_json","detail":"bad ` + "\uFFFD" + `","original_b64":"/wBh"}`},
		{Letter{At: at, Source: KafkaSource("t", 2, 9), Reason: "line_too_long"},
			`{"at":"2026-03-01T00:00:00.12Z","source":"kafka:t/2@9","reason":"line_too_long","detail":""}`},
		{Letter{At: at, Source: "s", Reason: "not_object", Original: []byte{}},
			`{"at":"2026-03-01T00:00:00.12Z","source":"s","reason":"not_object","detail":"","original":""}`},
	} {
		if got := string(tc.l.AppendJSON(nil)); got != tc.want {
			t.Errorf("AppendJSON\n got %s\nwant %s", got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := (Letter{Source: "http:r:1", Reason: "not_json_2"}).Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Letter{
		{Reason: "not_json"},
		{Source: "http:r:1"},
		{Source: "http:r:1", Reason: "Not JSON"},
		{Source: "http:r:1", Reason: "not-json"},
	} {
		if err := bad.Validate(); !errors.Is(err, ErrInvalidLetter) {
			t.Errorf("Validate(%+v) = %v", bad, err)
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `{}`, `{"source":"s","reason":"r"}`,
		`{"at":"yesterday","source":"s","reason":"r"}`,
		`{"at":"2026-03-01T00:00:00Z","reason":"r"}`,
		`{"at":"2026-03-01T00:00:00Z","source":"s","reason":"r","original":"a","original_b64":"YQ=="}`,
		`{"at":"2026-03-01T00:00:00Z","source":"s","reason":"r","original_b64":"!!"}`,
	} {
		var l Letter
		if err := json.Unmarshal([]byte(in), &l); err == nil {
			t.Errorf("Unmarshal(%s) accepted", in)
		}
	}
	var l Letter
	in := `{"at":"2026-03-01T08:00:00+08:00","source":"s","reason":"r","detail":"d","future_member":[1,2]}`
	if err := json.Unmarshal([]byte(in), &l); err != nil || !l.At.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) || l.Original != nil {
		t.Errorf("Unmarshal with an unknown member: %+v, %v", l, err)
	}
}

func TestSources(t *testing.T) {
	for _, tc := range [][2]string{
		{FileSource("/a/b.ndjson", 12), "file:/a/b.ndjson:12"},
		{HTTPSource("01J0ABC", 1), "http:01J0ABC:1"},
		{KafkaSource("credit.events", 3, 99), "kafka:credit.events/3@99"},
	} {
		if tc[0] != tc[1] {
			t.Errorf("got %q, want %q", tc[0], tc[1])
		}
	}
}
