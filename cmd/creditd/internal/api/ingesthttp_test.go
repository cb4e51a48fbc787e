package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/ingest"
	"github.com/creditrisk/creditd/cmd/creditd/internal/metrics"
	"github.com/creditrisk/creditd/feeds/deadletter"
	"github.com/creditrisk/creditd/feeds/wal"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
)

// testTokens are the bearer tokens of ingestServer.
var testTokens = map[Role]string{RoleSource: "src-token-0123456789", RoleRegulator: "reg-token-0123456789", RolePeer: "peer-token-0123456789"}

// recordingSink is a dead-letter sink that keeps the letters of the
// current request and their encoded bytes.
type recordingSink struct {
	mu      sync.Mutex
	letters []deadletter.Letter
	bytes   int64
}

func (s *recordingSink) Write(_ context.Context, l deadletter.Letter) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l.Original = nil // the tests need the reason, source and size only
	s.letters = append(s.letters, l)
	s.bytes += int64(len(l.AppendJSON(nil))) + 1
	return nil
}
func (s *recordingSink) Sync() error  { return nil }
func (s *recordingSink) Close() error { return nil }

func (s *recordingSink) reset() ([]deadletter.Letter, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, b := s.letters, s.bytes
	s.letters, s.bytes = nil, 0
	return l, b
}

// ingestServer is a local-mode Server with a running ingester, a log in a
// temporary directory and a recording dead-letter sink.
type ingestServer struct {
	*Server
	dlq *recordingSink
}

func newIngestServer(t testing.TB, cfg *Config) *ingestServer {
	t.Helper()
	dir := t.TempDir()
	tokens := loadTestTokens(t, dir)
	eng, err := scoring.New(scoring.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log, err := wal.Open(filepath.Join(dir, "log"), wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	exc, err := uscc.NewExceptions(uscc.PilotExceptions...)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	dlq := &recordingSink{}
	m := metrics.New()
	ing := ingest.New(eng, log, dlq, m, logger, ingest.Options{SnapshotDir: filepath.Join(dir, "snapshots"), SweepInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ing.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		log.Close()
	})
	srv := newServer(&Server{cfg: cfg, eng: eng, ing: ing, tokens: tokens, m: m, logger: logger, exc: exc})
	srv.ready.Store(true)
	return &ingestServer{Server: srv, dlq: dlq}
}

// loadTestTokens writes testTokens to a tokens file in dir and loads it.
func loadTestTokens(t testing.TB, dir string) *Tokens {
	t.Helper()
	var tb strings.Builder
	for role, tok := range testTokens {
		fmt.Fprintf(&tb, "%s %s\n", role, tok)
	}
	tokPath := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokPath, []byte(tb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	tokens, err := LoadTokens(tokPath, false)
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

func testConfig() *Config { return &Config{MaxBody: 64 << 20, MaxIngest: 4} }

// postTo sends body to POST /v1/events as role through h.
func postTo(h http.Handler, role Role, body []byte, hdr ...string) *httptest.ResponseRecorder {
	return requestTo(h, "POST", "/v1/events", role, body, hdr...)
}

// requestTo sends method path with body and header pairs hdr as role
// (RolePublic: no token) through h.
func requestTo(h http.Handler, method, path string, role Role, body []byte, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if tok := testTokens[role]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// POST /v1/events takes uncompressed NDJSON only: gzip and other media
// types get 415 and nothing is applied; NDJSON types, with or without a
// UTF-8 charset, and a body without Content-Type are taken.
func TestIngestMediaTypes(t *testing.T) {
	s := newIngestServer(t, testConfig())
	line := []byte(`{"id":"MT-1","uscc":"914403001922038216","type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"n","region":"440300","registered_on":"2020-01-01"}}` + "\n")
	refused := [][]string{
		{"Content-Encoding", "gzip"},
		{"Content-Encoding", "br"},
		{"Content-Type", "application/x-www-form-urlencoded"},
		{"Content-Type", "text/csv"},
		{"Content-Type", "application/json"},
		{"Content-Type", "application/x-ndjson; charset=gbk"},
		{"Content-Type", "not a media type;;"},
	}
	for _, h := range refused {
		rec := postTo(s, RoleSource, line, h...)
		if rec.Code != http.StatusUnsupportedMediaType {
			t.Errorf("%s: %s: %d, want 415", h[0], h[1], rec.Code)
		}
	}
	if s.ing.Applied() != 0 {
		t.Fatalf("a refused body applied %d events", s.ing.Applied())
	}
	taken := [][]string{nil, {"Content-Type", "application/x-ndjson"}, {"Content-Type", "application/x-ndjson; charset=UTF-8"},
		{"Content-Type", "application/jsonl"}, {"Content-Encoding", "identity"}}
	for _, h := range taken {
		if rec := postTo(s, RoleSource, line, h...); rec.Code != http.StatusOK {
			t.Errorf("%v: %d %s, want 200", h, rec.Code, rec.Body)
		}
	}
	if s.ing.Applied() != 1 {
		t.Errorf("applied %d, want the one event", s.ing.Applied())
	}
}

// A request that is refused (no token, wrong role, wrong method, wrong
// encoding, declared body over --max-body) is answered while its body is
// still being sent, without reading it, and the connection is closed.
func TestRefusalDoesNotReadSlowBody(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBody = 4096
	s := newIngestServer(t, cfg)
	ts := httptest.NewServer(s)
	defer ts.Close()
	cases := []struct {
		name, method string
		role         Role
		length       int64 // -1: chunked
		hdr          []string
		want         int
	}{
		{"anonymous", "POST", RolePublic, 1000, nil, http.StatusUnauthorized},
		{"anonymous chunked", "POST", RolePublic, -1, nil, http.StatusUnauthorized},
		{"wrong role", "POST", RolePeer, 1000, nil, http.StatusForbidden},
		{"wrong method", "PUT", RoleSource, 1000, nil, http.StatusMethodNotAllowed},
		{"gzip", "POST", RoleSource, -1, []string{"Content-Encoding", "gzip"}, http.StatusUnsupportedMediaType},
		{"declared too large", "POST", RoleSource, 1 << 20, nil, http.StatusRequestEntityTooLarge},
	}
	for _, c := range cases {
		pr, pw := io.Pipe()
		req, _ := http.NewRequest(c.method, ts.URL+"/v1/events", pr)
		req.ContentLength = c.length
		if tok := testTokens[c.role]; tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		for i := 0; i+1 < len(c.hdr); i += 2 {
			req.Header.Set(c.hdr[i], c.hdr[i+1])
		}
		type result struct {
			resp *http.Response
			err  error
		}
		got := make(chan result, 1)
		go func() {
			resp, err := ts.Client().Do(req)
			got <- result{resp, err}
		}()
		// A first piece of the body, then the writer blocks until the end.
		go func() { _, _ = pw.Write([]byte(`{"id":"SLOW-1",`)) }()
		select {
		case r := <-got:
			if r.err != nil {
				t.Errorf("%s: %v", c.name, r.err)
				break
			}
			r.resp.Body.Close()
			if r.resp.StatusCode != c.want || !r.resp.Close {
				t.Errorf("%s: %d, Connection close %v; want %d and close", c.name, r.resp.StatusCode, r.resp.Close, c.want)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%s: no answer while the body was blocked", c.name)
		}
		pw.Close()
	}
}

// Beyond --max-ingest requests at once, POST /v1/events gets 429 with
// Retry-After; when one ends, the next is taken.
func TestIngestConcurrencyLimit(t *testing.T) {
	cfg := testConfig()
	cfg.MaxIngest = 2
	s := newIngestServer(t, cfg)
	var pws []*io.PipeWriter
	var wg sync.WaitGroup
	for range cfg.MaxIngest {
		pr, pw := io.Pipe()
		pws = append(pws, pw)
		req := httptest.NewRequest("POST", "/v1/events", pr)
		req.Header.Set("Authorization", "Bearer "+testTokens[RoleSource])
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.ServeHTTP(httptest.NewRecorder(), req)
		}()
	}
	for deadline := time.Now().Add(30 * time.Second); len(s.ingestSlots) < cfg.MaxIngest; {
		if time.Now().After(deadline) {
			t.Fatal("the slow requests did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	rec := postTo(s, RoleSource, []byte("{}\n"))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("over the limit: %d Retry-After %q, want 429 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	for _, pw := range pws {
		pw.Close()
	}
	wg.Wait()
	if rec := postTo(s, RoleSource, []byte("{}\n")); rec.Code != http.StatusOK {
		t.Errorf("after the slow requests: %d %s", rec.Code, rec.Body)
	}
}

// The answer to a body of N rejected lines lists AnswerRejectedMax of them
// and counts all; the request's dead letters stay within their budget,
// and every rejected line is either dead-lettered or covered by a summary
// letter.
func TestIngestAnswerAndDeadLettersBounded(t *testing.T) {
	s := newIngestServer(t, testConfig())
	long := `"` + strings.Repeat("x", maxLineSize-2) + `"` // a JSON string: not_object, exactly the longest line
	cases := []struct {
		name string
		line string
		n    int
	}{
		{"empty objects", "{}", 20000},
		{"longest bad lines", long, 6},
		{"one over the longest", long + " ", 3},
	}
	for _, c := range cases {
		body := []byte(strings.Repeat(c.line+"\n", c.n))
		rec := postTo(s, RoleSource, body)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", c.name, rec.Code, rec.Body)
		}
		var a eventsAnswer
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		listed := min(c.n, AnswerRejectedMax)
		if a.RejectedTotal != c.n || len(a.Rejected) != listed || a.Omitted != c.n-listed || a.Applied != 0 {
			t.Errorf("%s: total %d listed %d omitted %d applied %d, want %d, %d, %d, 0", c.name, a.RejectedTotal, len(a.Rejected), a.Omitted, a.Applied, c.n, listed, c.n-listed)
		}
		if limit := 1000 + 400*AnswerRejectedMax; rec.Body.Len() > limit {
			t.Errorf("%s: answer of %d bytes, over %d", c.name, rec.Body.Len(), limit)
		}
		if a.DeadLetters == nil || a.DeadLetters.File != deadLetterPath || !strings.HasPrefix(a.DeadLetters.Source, "http:") ||
			a.DeadLetters.Written+a.DeadLetters.Omitted != c.n {
			t.Fatalf("%s: dead letters %+v", c.name, a.DeadLetters)
		}
		letters, size := s.dlq.reset()
		chunks := (c.n + ChunkLines - 1) / ChunkLines
		if budget := int64(letterBudgetFactor*len(body)+letterBudgetSlack) + int64(chunks)*1024; size > budget {
			t.Errorf("%s: %d bytes of dead letters for a body of %d, over %d", c.name, size, len(body), budget)
		}
		one, summaries := 0, 0
		for _, l := range letters {
			if !strings.HasPrefix(l.Source, a.DeadLetters.Source+":") {
				t.Errorf("%s: letter source %q", c.name, l.Source)
			}
			if l.Reason == ingest.ReasonLettersOmitted {
				summaries++
			} else {
				one++
			}
		}
		if one != a.DeadLetters.Written || (a.DeadLetters.Omitted > 0) != (summaries > 0) || summaries > chunks {
			t.Errorf("%s: %d letters and %d summaries for %+v", c.name, one, summaries, a.DeadLetters)
		}
	}
}

// A body over --max-body without a declared length is cut where the limit
// is reached: 413, saying what was done before.
func TestIngestOversizedStream(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBody = 64 << 10
	s := newIngestServer(t, cfg)
	var body bytes.Buffer
	for i := 0; body.Len() <= int(cfg.MaxBody); i++ {
		fmt.Fprintf(&body, `{"id":"OS-%d","uscc":"914403001922038216","type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"n","region":"440300","registered_on":"2020-01-01"}}`+"\n", i)
	}
	req := httptest.NewRequest("POST", "/v1/events", io.MultiReader(&body)) // no Content-Length
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+testTokens[RoleSource])
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "nothing was applied") {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	if s.ing.Applied() != 0 {
		t.Errorf("applied %d", s.ing.Applied())
	}
}
