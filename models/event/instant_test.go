package event

import (
	"strings"
	"testing"
	"time"
)

// The decoders use it: lowercase t/z in an event is accepted, and a year
// before 1900 is "out of range".
func TestDecodersUseParseInstant(t *testing.T) {
	line := func(at string) []byte {
		return []byte(`{"id":"E1","uscc":"91350100M000100Y43","type":"penalty","occurred_at":"` + at +
			`","authority":"A","attrs":{"severity":"general","decision_no":"x"}}`)
	}
	var d Decoder
	var ev Event
	if err := d.Decode(line("2026-01-02t03:04:05.5z"), &ev); err != nil {
		t.Fatalf("lowercase t/z refused: %v", err)
	}
	if !ev.OccurredAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 500_000_000, time.UTC)) {
		t.Errorf("occurred_at %v", ev.OccurredAt)
	}
	err := d.Decode(line("1899-12-31T23:59:59Z"), &ev)
	if err == nil || !strings.Contains(err.Error(), "out of range") || strings.Contains(err.Error(), "not an RFC 3339") {
		t.Errorf("1899: %v", err)
	}
}
