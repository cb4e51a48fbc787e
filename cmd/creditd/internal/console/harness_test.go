package console

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/issue"
	"github.com/creditrisk/creditd/cmd/creditd/internal/localmode"
	"github.com/creditrisk/creditd/cmd/creditd/internal/metrics"
	"github.com/creditrisk/creditd/cmd/creditd/internal/reportid"
	"github.com/creditrisk/creditd/cmd/creditd/internal/reportpage"
	"github.com/creditrisk/creditd/cmd/creditd/internal/signing"
	"github.com/creditrisk/creditd/cmd/creditd/internal/testlines"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/models/workday"
	"github.com/creditrisk/creditd/scoring"
)

// harness is creditd in local mode over a synthetic province with the
// console in front, on an httptest server.
type harness struct {
	srv      *httptest.Server
	con      *Console
	regToken string
	srcToken string
	// peerToken is another province's (the console signs in regulators
	// only).
	peerToken string
	// withPenalty is a USCC with an active penalty record; any is another.
	withPenalty string
	clock       *clock
}

// clock is the console's clock: real time moved on by Add (session
// expiry), so that draws' as_of still follow the commitments the sampler
// times by the real clock.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

func newHarness(t *testing.T) *harness { return newHarnessWith(t, harnessOptions{}) }

// harnessOptions vary the service: withChallenger is creditd started with
// --challenger (the built-in model at a PDO of 27, no reference) and a
// champion whose artifact has a reference, so that its drift is measured;
// noReference strips the champion's reference, so that drift cannot be
// computed.
type harnessOptions struct {
	withChallenger bool
	noReference    bool
}

// challengerModels are the champion with a reference and the challenger
// in shadow (testlines.ChallengerModels).
func challengerModels(t *testing.T) (*scoring.Model, *scoring.Shadow) {
	t.Helper()
	champ, chall := testlines.ChallengerModels(t)
	sh, err := scoring.NewShadow(chall)
	if err != nil {
		t.Fatal(err)
	}
	return champ, sh
}

func newHarnessWith(t *testing.T, ho harnessOptions) *harness {
	t.Helper()
	dir := t.TempDir()
	lines := testlines.Gen(t, 600, 500, 11, 0)
	h := &harness{clock: &clock{}}
	for _, l := range lines {
		var e struct {
			Type  string          `json:"type"`
			USCC  string          `json:"uscc"`
			Attrs json.RawMessage `json:"attrs"`
		}
		if json.Unmarshal(l, &e) == nil && e.Type == "penalty" && strings.Contains(string(e.Attrs), `"general"`) {
			h.withPenalty = e.USCC // the last one: most likely still in publicity
		}
	}
	file := filepath.Join(dir, "events.ndjson")
	if err := os.WriteFile(file, testlines.Join(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{}
	for _, d := range []string{"log", "snapshots", "keys", "draws", "deadletters"} {
		dirs[d] = filepath.Join(dir, d)
		if err := os.MkdirAll(dirs[d], 0o750); err != nil {
			t.Fatal(err)
		}
	}
	model, err := scoring.DefaultModel("national-4")
	if err != nil {
		t.Fatal(err)
	}
	var chall *scoring.Shadow
	if ho.withChallenger {
		model, chall = challengerModels(t)
	}
	if ho.noReference {
		model.Reference = nil
	}
	exc, err := uscc.NewExceptions(uscc.PilotExceptions...)
	if err != nil {
		t.Fatal(err)
	}
	tokPath := filepath.Join(dir, "tokens")
	if _, err := api.EnsureTokensFile(tokPath); err != nil {
		t.Fatal(err)
	}
	tokens, err := api.LoadTokens(tokPath, false)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(tokPath)
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "regulator" {
			h.regToken = f[1]
		} else if len(f) == 2 && f[0] == "source" {
			h.srcToken = f[1]
		} else if len(f) == 2 && f[0] == "peer" {
			h.peerToken = f[1]
		}
	}
	k, _, err := signing.LoadOrGenerate(filepath.Join(dirs["keys"], "signing.pem"), "ed25519")
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(k.JWKS)
	ids, err := reportid.NewKey("37", k.Private)
	if err != nil {
		t.Fatal(err)
	}
	qk, err := signing.QueryKey(k.Private)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := localmode.New(ctx, localmode.Options{Dirs: dirs, DataDir: dir, Files: []string{file}, SweepInterval: time.Hour,
		Shared: api.Shared{API: &api.Config{MaxBody: 64 << 20, MaxIngest: 2, DrawMaxWork: 1 << 40}, Model: model, Exceptions: exc,
			Tokens: tokens, Issuer: &issue.Issuer{Code: "37", Name: "山东省市场监督管理局", KeyID: k.KeyID, Priv: k.Private, Validity: 24 * time.Hour,
				IDs: ids, QueryKey: qk, Calendar: workday.New()},
			JWKS: jwks, Challenger: chall, RenderHTML: reportpage.Render, Metrics: metrics.New(), Logger: logger, Stdout: io.Discard}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	runDone := make(chan error, 1)
	go func() { runDone <- svc.Run(ctx) }()
	if err := svc.Start(ctx, ctx); err != nil {
		t.Fatal(err)
	}
	h.con, err = New(Options{API: svc.Handler(), Tokens: tokens, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)), Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(h.con.Handler(svc.Handler()))
	t.Cleanup(func() {
		h.srv.Close()
		cancel()
		<-runDone
		svc.Close(context.Background())
	})
	if h.withPenalty == "" {
		t.Fatal("the synthetic province has no penalty")
	}
	return h
}

// client is a browser-like client: cookies, no redirects followed.
func (h *harness) client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (h *harness) get(t *testing.T, c *http.Client, path string) (int, string) {
	t.Helper()
	resp, err := c.Get(h.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) post(t *testing.T, c *http.Client, path string, form map[string]string) (*http.Response, string) {
	t.Helper()
	vals := make([]string, 0, len(form))
	for k, v := range form {
		vals = append(vals, urlQueryEscape(k)+"="+urlQueryEscape(v))
	}
	resp, err := c.Post(h.srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader(strings.Join(vals, "&")))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// csrfOf extracts the CSRF token of a rendered form.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	const marker = `name="csrf" value="`
	i := strings.Index(page, marker)
	if i < 0 {
		t.Fatal("no csrf field on the page")
	}
	rest := page[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

// signIn signs c in as a regulator.
func (h *harness) signIn(t *testing.T, c *http.Client) {
	t.Helper()
	_, page := h.get(t, c, "/console/signin")
	resp, body := h.post(t, c, "/console/signin", map[string]string{"csrf": csrfOf(t, page), "token": h.regToken, "next": "/console/reg/"})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/reg/" {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
}

// testWriter sends the console's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
