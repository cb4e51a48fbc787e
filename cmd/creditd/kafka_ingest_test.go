package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/ingest"
	kf "github.com/creditrisk/creditd/feeds/kafka"
	"github.com/creditrisk/creditd/models/deadletter"
)

// TestKafkaIngestBounded: Kafka mode's POST /v1/events streams the body in
// chunks with the local mode's bounds: at most answerRejectedMax rejections
// listed, the rest counted, dead letters within their budget and the lines
// over it named by one summary letter per chunk; valid lines are produced.
func TestKafkaIngestBounded(t *testing.T) {
	s, brokers := startKafkaService(t)
	const bad = 6000 // more than one chunk (chunkLines) of bad lines
	var body bytes.Buffer
	body.WriteString(`{"id":"k-1","uscc":"914403001922038216","type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"n","region":"440300","registered_on":"1987-09-15"}}` + "\n")
	for range bad {
		body.WriteString("{}\n")
	}
	body.WriteString(`{"id":"k-2","uscc":"92370702MAD9NA327Q","type":"registered","occurred_at":"2018-04-17T04:30:17Z","attrs":{"name":"n","region":"370702","registered_on":"2018-04-17"}}` + "\n")
	size := body.Len()
	resp, raw := s.do("POST", "/v1/events", api.RoleSource, &body)
	if resp.StatusCode != 202 {
		t.Fatalf("POST: %d %s", resp.StatusCode, raw)
	}
	var ans struct {
		Accepted    int               `json:"accepted"`
		Rejected    []json.RawMessage `json:"rejected"`
		Total       int               `json:"rejected_total"`
		Omitted     int               `json:"rejected_omitted"`
		DeadLetters struct {
			Topic   string `json:"topic"`
			Source  string `json:"source"`
			Written int    `json:"written"`
			Omitted int    `json:"omitted"`
		} `json:"dead_letters"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		t.Fatal(err)
	}
	if ans.Accepted != 2 || len(ans.Rejected) != api.AnswerRejectedMax || ans.Total != bad || ans.Omitted != bad-api.AnswerRejectedMax {
		t.Fatalf("answer: accepted %d, listed %d, total %d, omitted %d", ans.Accepted, len(ans.Rejected), ans.Total, ans.Omitted)
	}
	dl := ans.DeadLetters
	if dl.Topic != kf.DefaultDeadLetterTopic || !strings.HasPrefix(dl.Source, "http:") || dl.Written+dl.Omitted != bad || dl.Omitted == 0 {
		t.Fatalf("dead_letters %+v", dl)
	}
	if n := len(readAll(t, brokers, kf.DefaultTopic)); n != 2 {
		t.Fatalf("%d events produced, want 2", n)
	}
	letters := readAll(t, brokers, kf.DefaultDeadLetterTopic)
	var bytesWritten, summaries int
	for _, m := range letters {
		var l deadletter.Letter
		if err := json.Unmarshal(m.Value, &l); err != nil {
			t.Fatalf("letter %s: %v", m.Value, err)
		}
		if l.Reason == ingest.ReasonLettersOmitted {
			summaries++
			continue
		}
		bytesWritten += len(m.Value) + 1
	}
	if len(letters)-summaries != dl.Written || summaries < 1 || summaries > 2 {
		t.Fatalf("%d letters (%d summaries) for %d written", len(letters), summaries, dl.Written)
	}
	if limit := int(api.LetterBudget(int64(size))); bytesWritten > limit {
		t.Fatalf("dead letters %d bytes, budget %d", bytesWritten, limit)
	}
}
