package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/creditrisk/creditd/cmd/creditd/internal/ingest"
)

// nonBlankLines counts the lines of body the ingest path answers for,
// following the NDJSON rules of feeds/ndjson independently: a UTF-8 byte
// order mark at the start is skipped, lines end at "\n" (one "\r" before
// it is dropped), a final line needs no newline, and a line of only
// spaces, tabs and "\r" is blank unless it is over the size limit.
func nonBlankLines(body []byte) int {
	body = bytes.TrimPrefix(body, []byte{0xEF, 0xBB, 0xBF})
	n := 0
	for len(body) > 0 {
		line, rest, _ := bytes.Cut(body, []byte{'\n'})
		body = rest
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) > maxLineSize || len(bytes.Trim(line, " \t\r")) > 0 {
			n++
		}
	}
	return n
}

// Arbitrary bytes through POST /v1/events: never a panic or a 5xx, a
// well-formed answer, every non-blank line accounted for once (applied,
// duplicate or rejected), the rejections listed in line order, the
// ingester's count moved by exactly "applied", every rejected line
// dead-lettered or summarised, and a second send of the same body applying
// nothing new (every event of the first is a duplicate now).
func FuzzIngestHTTP(f *testing.F) {
	good := `{"id":"FZ-1","uscc":"914403001922038216","type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"华为技术有限公司","region":"440300","registered_on":"1987-09-15"}}`
	pen := `{"id":"FZ-2","uscc":"914403001922038216","type":"penalty","occurred_at":"2026-01-15T02:00:00Z","authority":"SAMR","attrs":{"severity":"general","decision_no":"x"}}`
	for _, seed := range []string{
		"", "\n", "{}", "{}\n{}\n", good + "\n" + pen + "\n", good + "\r\n" + good, "\xEF\xBB\xBF" + good,
		" \t\r\n\n" + pen, "not json\n[1]\n\"s\"\nnull\n", `{"id":"FZ-3","uscc":"914403001922038216","type":"repair","occurred_at":"2026-02-01T00:00:00Z","authority":"A","attrs":{"ref":"FZ-2","decided_on":"2026-02-01"}}`,
		strings.Replace(good, `"id":"FZ-1"`, `"id":"FZ-1","id":"FZ-1"`, 1), "\xff\xfe\n{\"id\":\"\x00\"}",
	} {
		f.Add([]byte(seed))
	}
	s := newIngestServer(f, testConfig())
	f.Fuzz(func(t *testing.T, body []byte) {
		lines := nonBlankLines(body)
		first := fuzzPost(t, s, body, lines)
		second := fuzzPost(t, s, body, lines)
		if second.Duplicates < first.Applied+first.Duplicates {
			t.Fatalf("second send: %+v after %+v", second, first)
		}
	})
}

// fuzzPost posts body and checks the answer's invariants.
func fuzzPost(t *testing.T, s *ingestServer, body []byte, lines int) eventsAnswer {
	before := s.ing.Applied()
	rec := postTo(s, RoleSource, body)
	letters, _ := s.dlq.reset()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var a eventsAnswer
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("answer: %v", err)
	}
	if got := a.Applied + a.Duplicates + a.RejectedTotal; got != lines {
		t.Fatalf("%d applied + %d duplicates + %d rejected for %d lines", a.Applied, a.Duplicates, a.RejectedTotal, lines)
	}
	if len(a.Rejected) != min(a.RejectedTotal, AnswerRejectedMax) || a.Omitted != a.RejectedTotal-len(a.Rejected) {
		t.Fatalf("%d listed, %d omitted of %d rejected", len(a.Rejected), a.Omitted, a.RejectedTotal)
	}
	last := int64(0)
	for _, r := range a.Rejected {
		if r.Line <= last || r.Reason == "" || strings.Trim(r.Reason, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Fatalf("rejection %+v after line %d", r, last)
		}
		last = r.Line
	}
	if got := s.ing.Applied() - before; got != int64(a.Applied) {
		t.Fatalf("the ingester applied %d, the answer says %d", got, a.Applied)
	}
	if (a.DeadLetters != nil) != (a.RejectedTotal > 0) {
		t.Fatalf("dead letters %+v for %d rejected", a.DeadLetters, a.RejectedTotal)
	}
	if a.DeadLetters == nil {
		if len(letters) != 0 {
			t.Fatalf("%d letters for no rejected line", len(letters))
		}
		return a
	}
	one := 0
	for _, l := range letters {
		if l.Reason != ingest.ReasonLettersOmitted {
			one++
		}
	}
	if one != a.DeadLetters.Written || a.DeadLetters.Written+a.DeadLetters.Omitted != a.RejectedTotal {
		t.Fatalf("%d letters, dead letters %+v, %d rejected", one, a.DeadLetters, a.RejectedTotal)
	}
	return a
}
