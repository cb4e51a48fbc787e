package api

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/creditrisk/creditd/cmd/creditd/internal/issue"
	"github.com/creditrisk/creditd/cmd/creditd/internal/metrics"
	"github.com/creditrisk/creditd/cmd/creditd/internal/reportid"
	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
)

const verifyUSCC = "914403001922038216"

// The pages for people are validated as strings (the document declares
// text/html as one).
func init() {
	openapi3filter.RegisterBodyDecoder("text/html", func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(body)
		return string(b), err
	})
}

// verifyServer is a ready Server over an engine holding one entity with
// a penalty, its clock at *clock, signing with seed.
type verifyServer struct {
	*Server
	eng   *scoring.Engine
	clock *time.Time
	doc   *openapi3.T
}

func newVerifyServer(t *testing.T, seed byte) *verifyServer {
	t.Helper()
	clock := time.Date(2026, 3, 1, 8, 0, 0, 123_000_000, time.UTC)
	eng, err := scoring.New(scoring.Options{Now: func() time.Time { return clock }, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	code, err := uscc.Parse(verifyUSCC)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []*event.Event{
		{ID: "R-1", USCC: code, Type: event.TypeRegistered, OccurredAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
			Name: "华为技术有限公司", Region: "440300", RegisteredOn: civil.MakeDate(2019, 12, 30)},
		{ID: "P-1", USCC: code, Type: event.TypePenalty, Sub: event.SeverityGeneral, Authority: "深圳市市场监督管理局",
			OccurredAt: time.Date(2026, 1, 15, 2, 0, 0, 0, time.UTC)},
	} {
		if _, err := eng.Apply(ev, nil); err != nil {
			t.Fatal(err)
		}
	}
	exc, err := uscc.NewExceptions(uscc.PilotExceptions...)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Config: testConfig(), Engine: eng, Tokens: loadTestTokens(t, t.TempDir()), Issuer: testIssuer(t, seed),
		Metrics: metrics.New(), Logger: slog.New(slog.DiscardHandler), Exceptions: exc, DrawDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	return &verifyServer{Server: srv, eng: eng, clock: &clock, doc: loadDoc(t)}
}

// testIssuer is Shandong's issuer signing with the key of seed, its
// report ids keyed by the same key.
func testIssuer(t testing.TB, seed byte) *issue.Issuer {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	ids, err := reportid.NewKey("37", priv)
	if err != nil {
		t.Fatal(err)
	}
	return &issue.Issuer{Code: "37", Name: "山东省市场监督管理局", KeyID: report.KeyID(priv.Public().(ed25519.PublicKey)),
		Priv: priv, Validity: 24 * time.Hour, IDs: ids}
}

// get answers a GET of path with role's token (RolePublic: none) and
// headers, and checks the answer against the OpenAPI document.
func (s *verifyServer) get(t *testing.T, path string, role Role, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", "http://creditd"+path, nil)
	if tok, ok := testTokens[role]; ok {
		req.Header.Set("Authorization", "Bearer "+tok)
	} else if role != RolePublic {
		req.Header.Set("Authorization", "Bearer "+string(role))
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	// A request the document refuses must be refused (400); any other
	// answer must match it.
	err := validateAnswer(t, s.doc, req, rec)
	if re := (*openapi3filter.RequestError)(nil); errors.As(err, &re) && rec.Code == http.StatusBadRequest {
		err = nil
	}
	if err != nil {
		t.Errorf("GET %s: the answer %d does not match the OpenAPI document: %v", path, rec.Code, err)
	}
	return rec
}

// verifyPath issues a report of edition (as role) and returns the path of
// its verification URL.
func (s *verifyServer) verifyPath(t *testing.T, edition string, role Role) (string, *report.Report) {
	t.Helper()
	rec := s.get(t, "/v1/reports/"+verifyUSCC+"?edition="+edition, role)
	if rec.Code != 200 {
		t.Fatalf("report: %d %s", rec.Code, rec.Body)
	}
	r, err := report.Parse(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	u, err := reportid.URL("", r)
	if err != nil {
		t.Fatal(err)
	}
	return u, r
}

// verifyAnswer is the JSON answer of a verification URL.
func verifyAnswer(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q: %s", ct, rec.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Every role, and no token, gets the same answer for a genuine report of
// either edition: genuine, current, the allowed members only, no tier or
// score anywhere in it (domain.md §2.1); an unknown token gets 401.
func TestVerifyRoutePerRole(t *testing.T) {
	s := newVerifyServer(t, 1)
	pub, pubRep := s.verifyPath(t, report.EditionPublic, RolePublic)
	reg, regRep := s.verifyPath(t, report.EditionRegulatory, RoleRegulator)
	if regRep.Assessment == nil || pubRep.Assessment != nil {
		t.Fatal("the editions are not what the test needs")
	}
	allowed := []string{"genuine", "current", "report_id", "issuer", "issued_at", "subject", "checked_at", "report_path"}
	for _, path := range []string{pub, reg} {
		for _, role := range []Role{RolePublic, RoleRegulator, RolePeer, RoleSource} {
			rec := s.get(t, path, role)
			if rec.Code != 200 {
				t.Fatalf("%s as %s: %d %s", path, role, rec.Code, rec.Body)
			}
			m := verifyAnswer(t, rec)
			if m["genuine"] != true || m["current"] != true || m["issued_at"] != "2026-03-01T08:00:00Z" ||
				m["report_path"] != "/v1/reports/"+verifyUSCC {
				t.Errorf("%s as %s: %v", path, role, m)
			}
			for k := range m {
				if !slices.Contains(allowed, k) {
					t.Errorf("%s as %s: member %q is not on the allow-list", path, role, k)
				}
			}
			sub, _ := m["subject"].(map[string]any)
			iss, _ := m["issuer"].(map[string]any)
			if len(sub) != 2 || sub["uscc"] != verifyUSCC || sub["name"] != "华为技术有限公司" ||
				len(iss) != 2 || iss["code"] != "37" || iss["name"] != "山东省市场监督管理局" {
				t.Errorf("%s as %s: subject %v issuer %v", path, role, sub, iss)
			}
			body := rec.Body.String()
			a := regRep.Assessment
			for _, leak := range []string{"tier", "score", "assessment", "national-4", `"` + a.Tier + `"`, a.Model} {
				if strings.Contains(body, leak) {
					t.Errorf("%s as %s: the answer has %q: %s", path, role, leak, body)
				}
			}
		}
		if rec := s.get(t, path, Role("not-a-token")); rec.Code != http.StatusUnauthorized {
			t.Errorf("an unknown token: %d", rec.Code)
		}
	}
	if !strings.Contains(pub, "/v1/reports/verify/"+pubRep.ReportID+"?uscc="+verifyUSCC+"&d=") {
		t.Fatalf("URL %s", pub)
	}
}

// Forged or unreadable URLs are 400 or 404 problem+json (or the "not
// genuine" page for a browser), never 500; the check of the id comes
// first, so a forged URL is refused even while the state recovers.
func TestVerifyRefusesForgedAndBadURLs(t *testing.T) {
	s := newVerifyServer(t, 2)
	path, r := s.verifyPath(t, report.EditionPublic, RolePublic)
	id := r.ReportID
	d := path[strings.Index(path, "&d=")+3:]
	other := newVerifyServer(t, 3) // another key
	otherPath, _ := other.verifyPath(t, report.EditionPublic, RolePublic)
	base := "/v1/reports/verify/"
	for _, tc := range []struct {
		name, path string
		status     int
		reason     string
	}{
		{"id of another key", otherPath, 404, reasonNotGenuine},
		{"id character changed", base + id[:20] + swap(id[20]) + id[21:] + "?uscc=" + verifyUSCC + "&d=" + d, 404, reasonNotGenuine},
		{"last id character changed", base + id[:len(id)-1] + swap(id[len(id)-1]) + "?uscc=" + verifyUSCC + "&d=" + d, 404, reasonNotGenuine},
		{"digest changed", base + id + "?uscc=" + verifyUSCC + "&d=" + swap(d[0]) + d[1:], 404, reasonNotGenuine},
		{"another subject", base + id + "?uscc=91350100M000100Y43&d=" + d, 404, reasonNotGenuine},
		{"another issuer code", base + "44" + id[2:] + "?uscc=" + verifyUSCC + "&d=" + d, 404, reasonNotGenuine},
		{"no uscc", base + id + "?d=" + d, 400, event.ReasonInvalidUSCC},
		{"bad uscc check character", base + id + "?uscc=914403001922038217&d=" + d, 400, event.ReasonInvalidUSCC},
		{"no digest", base + id + "?uscc=" + verifyUSCC, 400, reasonBadURL},
		{"digest not base64url", base + id + "?uscc=" + verifyUSCC + "&d=" + strings.Repeat("%2B", 22), 400, reasonBadURL},
		{"digest too short", base + id + "?uscc=" + verifyUSCC + "&d=" + d[:10], 400, reasonBadURL},
		{"id lower case", base + strings.ToLower(id) + "?uscc=" + verifyUSCC + "&d=" + d, 400, reasonBadURL},
		{"id too long", base + strings.Repeat("9", 200) + "?uscc=" + verifyUSCC + "&d=" + d, 400, reasonBadURL},
		{"id with a NUL", base + id[:5] + "%00" + id[6:] + "?uscc=" + verifyUSCC + "&d=" + d, 400, reasonBadURL},
		{"id not UTF-8", base + id[:5] + "%FF" + id[6:] + "?uscc=" + verifyUSCC + "&d=" + d, 400, reasonBadURL},
	} {
		rec := s.get(t, tc.path, RolePublic)
		var p Problem
		if rec.Code != tc.status || rec.Header().Get("Content-Type") != "application/problem+json" ||
			json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Reason != tc.reason {
			t.Errorf("%s: %d %s %s, want %d problem+json %s", tc.name, rec.Code, rec.Header().Get("Content-Type"), rec.Body, tc.status, tc.reason)
		}
		html := s.get(t, tc.path, RolePublic, "Accept", "text/html")
		if html.Code != tc.status || !strings.HasPrefix(html.Header().Get("Content-Type"), "text/html") ||
			!strings.Contains(html.Body.String(), `id="verdict-not-genuine"`) || strings.Contains(html.Body.String(), `id="verdict-genuine"`) {
			t.Errorf("%s as a page: %d %s", tc.name, html.Code, html.Header().Get("Content-Type"))
		}
	}
	// Any single character of the URL replaced: refused (400, 404, or the
	// mux's redirect to a clean path), never 500.
	for i := len(base); i < len(path); i++ {
		for _, c := range []string{"0", "A", "z", "-", "_", "%", "%00", "/", "?", "&", "=", "#", "~"} {
			if path[i:i+1] == c {
				continue
			}
			p := path[:i] + c + path[i+1:]
			if _, err := url.Parse(p); err != nil {
				continue // not a URL a client could send
			}
			req := httptest.NewRequest("GET", "http://creditd"+p, nil)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			switch {
			case rec.Code == 400 || rec.Code == 404:
				if rec.Header().Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s: %d %s", p, rec.Code, rec.Header().Get("Content-Type"))
				}
			case rec.Code == http.StatusTemporaryRedirect && strings.Contains(p, "//"):
			default:
				t.Errorf("%s: %d %s", p, rec.Code, rec.Body)
			}
		}
	}
	// Not ready: a genuine URL waits (503), a forged one is refused at once.
	s.SetReady(false)
	if rec := s.get(t, path, RolePublic); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("genuine while recovering: %d", rec.Code)
	}
	if rec := s.get(t, otherPath, RolePublic); rec.Code != http.StatusNotFound {
		t.Errorf("forged while recovering: %d", rec.Code)
	}
}

// swap returns another character of the same alphabet.
func swap(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// A report stays genuine; it is current until its public content
// changes: a new record, or a record's publicity period ending. A tier
// change alone does not change "current".
func TestVerifyCurrent(t *testing.T) {
	s := newVerifyServer(t, 4)
	path, _ := s.verifyPath(t, report.EditionRegulatory, RolePeer)
	check := func(when string, current bool) {
		t.Helper()
		m := verifyAnswer(t, s.get(t, path, RolePublic))
		if m["genuine"] != true || m["current"] != current {
			t.Fatalf("%s: %v, want current %v", when, m, current)
		}
		page := s.get(t, path, RolePublic, "Accept", "text/html").Body.String()
		box := map[bool]string{true: `id="verdict-current"`, false: `id="verdict-stale"`}[current]
		if !strings.Contains(page, `id="verdict-genuine"`) || !strings.Contains(page, box) {
			t.Fatalf("%s: the page lacks %s", when, box)
		}
	}
	check("as issued", true)
	*s.clock = s.clock.Add(time.Hour)
	check("an hour later", true)
	code, _ := uscc.Parse(verifyUSCC)
	if _, err := s.eng.Apply(&event.Event{ID: "I-1", USCC: code, Type: event.TypeInspection, Sub: event.ResultProblemFound,
		Authority: "深圳市市场监督管理局", OccurredAt: s.clock.Add(-time.Minute)}, nil); err != nil {
		t.Fatal(err)
	}
	check("after a new inspection record", false)
}
