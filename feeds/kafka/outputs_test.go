package kafka

import (
	"io"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Each produce attempt gets records with readers of its own: a failed
// attempt's readers may still be read by the client's connection
// goroutine, so a retry must not share (or rewind) them.
func TestRecordsFreshPerAttempt(t *testing.T) {
	at := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	msgs := []kafkago.Message{
		{Key: []byte("k0"), Value: []byte("v0"), Time: at},
		{Value: []byte("v1"), Time: at, Headers: []kafkago.Header{{Key: "h", Value: []byte("x")}}},
	}
	first := records(msgs, []int{0, 1})
	for _, r := range first { // the failed attempt's readers, consumed
		if r.Key != nil {
			_, _ = io.ReadAll(r.Key)
		}
		_, _ = io.ReadAll(r.Value)
	}
	second := records(msgs, []int{0, 1})
	for i, r := range second {
		if r.Key == first[i].Key && r.Key != nil || r.Value == first[i].Value {
			t.Fatalf("record %d shares a reader with the earlier attempt", i)
		}
		v, err := io.ReadAll(r.Value)
		if err != nil || string(v) != string(msgs[i].Value) {
			t.Errorf("record %d value %q %v", i, v, err)
		}
		if !r.Time.Equal(at) {
			t.Errorf("record %d time %v", i, r.Time)
		}
	}
	if k, _ := io.ReadAll(second[0].Key); string(k) != "k0" || second[1].Key != nil {
		t.Errorf("keys: %q, %v", k, second[1].Key)
	}
	if len(second[1].Headers) != 1 || string(second[1].Headers[0].Value) != "x" {
		t.Errorf("headers: %v", second[1].Headers)
	}
	if got, want := recordSize(&msgs[1]), 32+2+1+1+8; got != want {
		t.Errorf("recordSize %d, want %d", got, want)
	}
}
