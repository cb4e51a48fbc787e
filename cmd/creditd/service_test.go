package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/ingest"
	"github.com/creditrisk/creditd/cmd/creditd/internal/testlines"
	"github.com/creditrisk/creditd/feeds/deadletter"
	"github.com/creditrisk/creditd/models/event"
)

// service is a creditd run in-process by run(), as main would.
type service struct {
	t      testing.TB
	base   string
	data   string
	tokens map[api.Role]string
	cancel context.CancelFunc
	done   chan error
}

// addrWriter captures the listen address from run's stdout.
type addrWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	addr  chan string
	ready chan struct{}
	once  sync.Once
	rOnce sync.Once
}

func (w *addrWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	s := w.buf.String()
	if i := strings.Index(s, "listening on http://"); i >= 0 {
		rest := s[i+len("listening on http://"):]
		if j := strings.IndexByte(rest, ' '); j >= 0 {
			w.once.Do(func() { w.addr <- rest[:j] })
		}
	}
	if strings.Contains(s, "creditd ready") {
		w.rOnce.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// startService runs creditd in-process on a random port with data dir
// data and extra arguments, and waits until it is ready.
func startService(t testing.TB, data string, args ...string) *service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	aw := &addrWriter{addr: make(chan string, 1), ready: make(chan struct{})}
	errs := &syncBuffer{}
	done := make(chan error, 1)
	all := append([]string{"--listen", "127.0.0.1:0", "--data", data, "--log-level", "warn", "--sweep-interval", "1h"}, args...)
	go func() { done <- run(ctx, all, func(string) string { return "" }, aw, errs) }()
	var addr string
	select {
	case addr = <-aw.addr:
	case err := <-done:
		cancel()
		t.Fatalf("creditd exited: %v\n%s", err, errs.b.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("creditd did not listen")
	}
	select {
	case <-aw.ready:
	case err := <-done:
		cancel()
		t.Fatalf("creditd exited: %v\n%s", err, errs.b.String())
	case <-time.After(120 * time.Second):
		cancel()
		t.Fatal("creditd not ready")
	}
	s := &service{t: t, base: "http://" + addr, data: data, cancel: cancel, done: done, tokens: readTokens(t, filepath.Join(data, "tokens"))}
	t.Cleanup(func() { s.stop() })
	return s
}

func (s *service) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("creditd stopped with %v", err)
		}
	case <-time.After(60 * time.Second):
		s.t.Error("creditd did not stop")
	}
	s.cancel = nil
}

func readTokens(t testing.TB, path string) map[api.Role]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[api.Role]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 2 && !strings.HasPrefix(fs[0], "#") {
			out[api.Role(fs[0])] = fs[1]
		}
	}
	return out
}

func (s *service) do(method, path string, role api.Role, body io.Reader, hdr ...string) (*http.Response, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if tok := s.tokens[role]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	var sent *teeBody
	if *contractCheck && req.Body != nil {
		sent = &teeBody{ReadCloser: req.Body}
		req.Body = sent
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if *contractCheck {
		var body []byte
		if sent != nil {
			body = sent.bytes()
		}
		checkContract(s.t, req, body, resp, b)
	}
	return resp, b
}

func (s *service) postEvents(role api.Role, body []byte) (ingest.Result, int) {
	s.t.Helper()
	resp, b := s.do("POST", "/v1/events", role, bytes.NewReader(body), "Content-Type", "application/x-ndjson")
	var res ingest.Result
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &res); err != nil {
			s.t.Fatalf("answer %s: %v", b, err)
		}
	}
	return res, resp.StatusCode
}

// genLines generates a synthetic province as NDJSON lines.
func genLines(t testing.TB, entities, days int, seed uint64, badRate float64) [][]byte {
	t.Helper()
	return testlines.Gen(t, entities, days, seed, badRate)
}

func joinLines(lines [][]byte) []byte { return testlines.Join(lines) }

// Every class of bad input of events.md, over HTTP: a clear reason per
// line, nothing applied from it, the good lines applied, every rejected
// line in the dead letters with its original bytes, the service running.
func TestBadInputOverHTTP(t *testing.T) {
	s := startService(t, t.TempDir())
	good := `{"id":"G-1","uscc":"914403001922038216","type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"华为技术有限公司","region":"440300","registered_on":"1987-09-15"}}`
	pen := `{"id":"G-2","uscc":"914403001922038216","type":"penalty","occurred_at":"2026-01-15T02:00:00Z","authority":"SAMR","attrs":{"severity":"general","decision_no":"x"}}`
	future := time.Now().Add(49 * time.Hour).UTC().Format(time.RFC3339)
	bad := []struct{ line, reason string }{
		{`this is not json`, event.ReasonNotJSON},
		{`{"id":"B-1","uscc":"914403001922038216","type":"penalty","occurred_at":"2026-01-01T00:00:00Z","authority":"A"`, event.ReasonNotJSON},
		{`[1,2,3]`, event.ReasonNotObject},
		{`{"uscc":"914403001922038216","type":"penalty","occurred_at":"2026-01-01T00:00:00Z","authority":"A","attrs":{}}`, event.ReasonMissingField},
		{`{"id":"B-2","uscc":"91110000600037341N","type":"deregistered","occurred_at":"2026-01-01T00:00:00Z","authority":"A"}`, event.ReasonInvalidUSCC},
		{`{"id":"B-3","uscc":"914403001922038216","type":"merger","occurred_at":"2026-01-01T00:00:00Z","authority":"A","attrs":{}}`, event.ReasonUnknownType},
		{`{"id":"B-4","uscc":"914403001922038216","type":"penalty","occurred_at":"2026-01-01T00:00:00Z","authority":"A","attrs":{"severity":5,"decision_no":"x"}}`, event.ReasonInvalidAttrs},
		{`{"id":"B-5","uscc":"914403001922038216","type":"abnormal_removed","occurred_at":"2026-01-01T00:00:00Z","authority":"A","attrs":{"ref":"NOPE"}}`, event.ReasonUnknownRef},
		{`{"id":"B-6","uscc":"914403001922038216","type":"repair","occurred_at":"2026-02-01T00:00:00Z","authority":"A","attrs":{"ref":"G-2","decided_on":"2026-02-01"}}`, event.ReasonRepairEarly},
		{`{"id":"B-7","uscc":"914403001922038216","type":"penalty","occurred_at":"` + future + `","authority":"A","attrs":{"severity":"minor","decision_no":"x"}}`, event.ReasonFuture},
		{`{"id":"B-8","uscc":"914403001922038216","type":"penalty","occurred_at":"2026-01-01T00:00:00Z","authority":"A","attrs":{"severity":"minor","decision_no":"` + strings.Repeat("x", 1<<20) + `"}}`, event.ReasonLineTooLong},
	}
	body := good + "\n" + pen + "\n"
	for _, b := range bad {
		body += b.line + "\n"
	}
	body += "\n" + strings.Replace(pen, "G-2", "G-3", 1) + "\n" + pen + "\n"
	res, code := s.postEvents(api.RoleSource, []byte(body))
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if res.Applied != 3 || res.Duplicates != 1 || len(res.Rejected) != len(bad) {
		t.Fatalf("answer %+v", res)
	}
	for i, b := range bad {
		r := res.Rejected[i]
		if r.Line != int64(i+3) || r.Reason != b.reason || r.Detail == "" {
			t.Errorf("line %d: rejected %+v, want reason %s", i+3, r, b.reason)
		}
	}
	// Nothing from the bad lines was applied.
	resp, eb := s.do("GET", "/v1/entities/914403001922038216?records=1", api.RoleRegulator, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("entity: %d %s", resp.StatusCode, eb)
	}
	var ent api.Entity
	_ = json.Unmarshal(eb, &ent)
	if len(ent.History) != 2 {
		t.Errorf("entity history %+v, want the two good penalties", ent.History)
	}
	// Dead letters hold every rejected line, with its original bytes.
	letters, err := deadletter.ReadFile(filepath.Join(s.data, "deadletters", "deadletters.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if len(letters) != len(bad) {
		t.Fatalf("%d dead letters, want %d", len(letters), len(bad))
	}
	for i, l := range letters {
		if l.Reason != bad[i].reason {
			t.Errorf("letter %d reason %s, want %s", i, l.Reason, bad[i].reason)
		}
		if bad[i].reason != event.ReasonLineTooLong && string(l.Original) != bad[i].line {
			t.Errorf("letter %d original %q", i, l.Original)
		}
		if !strings.HasPrefix(l.Source, "http:") {
			t.Errorf("letter %d source %q", i, l.Source)
		}
	}
	// Still serving.
	if resp, _ := s.do("GET", "/readyz", api.RolePublic, nil); resp.StatusCode != 200 {
		t.Errorf("readyz %d after bad input", resp.StatusCode)
	}
	// A body over the limit is refused whole.
	s.stop()
	s2 := startService(t, t.TempDir(), "--max-body", "2048")
	if _, code := s2.postEvents(api.RoleSource, []byte(strings.Repeat(good+"\n", 40))); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", code)
	}
}

// The same classes from a file given on the command line.
func TestBadInputFromFile(t *testing.T) {
	dir := t.TempDir()
	lines := genLines(t, 300, 200, 5, 0.05)
	path := filepath.Join(dir, "events.ndjson")
	if err := os.WriteFile(path, joinLines(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	badClasses := map[string]int{}
	good := 0
	for _, l := range lines {
		if bytes.Contains(l, []byte(`"BAD-`)) || !bytes.HasPrefix(l, []byte(`{"id":"`)) {
			badClasses[string(l)]++
		} else {
			good++
		}
	}
	s := startService(t, filepath.Join(dir, "data"), path)
	letters, err := deadletter.ReadFile(filepath.Join(s.data, "deadletters", "deadletters.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if len(letters) == 0 || len(letters) < len(badClasses)/2 {
		t.Fatalf("%d dead letters for %d bad lines", len(letters), len(badClasses))
	}
	reasons := map[string]int{}
	for _, l := range letters {
		if !strings.HasPrefix(l.Source, "file:"+path+":") {
			t.Errorf("source %q", l.Source)
		}
		reasons[l.Reason]++
	}
	t.Logf("dead letters by reason: %v", reasons)
	for _, want := range []string{event.ReasonNotJSON, event.ReasonMissingField, event.ReasonInvalidUSCC, event.ReasonUnknownType, event.ReasonInvalidAttrs} {
		if reasons[want] == 0 {
			t.Errorf("no dead letter with reason %s", want)
		}
	}
	// Restarting with the same file applies nothing twice: the state (every
	// tier count and inspection count, and each entity's record history)
	// is the same, and each bad line is dead-lettered once per ingest.
	asOf := time.Now().UTC().Truncate(time.Second) // one instant for both digests
	before := stateDigest(t, s, lines, asOf)
	if strings.Count(before, ":{Active") < 10 {
		t.Fatalf("the digest covers too few entities: %s", before)
	}
	s.stop()
	s = startService(t, filepath.Join(dir, "data"), path)
	resp, _ := s.do("GET", "/readyz", api.RolePublic, nil)
	if resp.StatusCode != 200 {
		t.Fatal("not ready after restart")
	}
	if after := stateDigest(t, s, lines, asOf); after != before {
		t.Errorf("state changed by re-ingesting the same file:\nbefore %s\nafter  %s", before, after)
	}
	letters2, err := deadletter.ReadFile(filepath.Join(s.data, "deadletters", "deadletters.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if len(letters2) != 2*len(letters) {
		t.Errorf("dead letters after re-ingest: %d, want %d (each bad line once more)", len(letters2), 2*len(letters))
	}
	for i, l := range letters2[len(letters):] {
		if l.Reason != letters[i].Reason || !bytes.Equal(l.Original, letters[i].Original) {
			t.Errorf("re-ingest letter %d: %s %q, first ingest %s %q", i, l.Reason, l.Original, letters[i].Reason, letters[i].Original)
		}
	}
	if good == 0 {
		t.Fatal("no good line generated")
	}
}

// stateDigest summarises the service's state: the tier statistics and the
// record history of the entities of the first good lines.
func stateDigest(t *testing.T, s *service, lines [][]byte, asOf time.Time) string {
	t.Helper()
	at := url.QueryEscape(asOf.Format(time.RFC3339))
	resp, body := s.do("GET", "/v1/stats/tiers?as_of="+at, api.RoleRegulator, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("stats: %d %s", resp.StatusCode, body)
	}
	var st statsAnswer
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "entities %d;", st.Entities)
	for _, tier := range st.Tiers {
		fmt.Fprintf(&b, " %s %d/%d/%d/%d;", tier.Tier, tier.Entities, tier.Inspections, tier.ProblemsFound, tier.Adverse)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		var ev struct{ USCC string }
		if json.Unmarshal(l, &ev) != nil || ev.USCC == "" || seen[ev.USCC] || len(seen) == 20 {
			continue
		}
		seen[ev.USCC] = true
		resp, body := s.do("GET", "/v1/entities/"+ev.USCC+"?records=1&as_of="+at, api.RoleRegulator, nil)
		if resp.StatusCode != 200 {
			continue // a line of an invalid code
		}
		var ent api.Entity
		if err := json.Unmarshal(body, &ent); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, " %s:%d:%d:%+v", ev.USCC, len(ent.History), ent.Score, ent.Records)
	}
	return b.String()
}
