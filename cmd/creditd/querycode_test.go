package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/reportid"
	"github.com/creditrisk/creditd/cmd/creditd/internal/reportverify"
	"github.com/creditrisk/creditd/models/objection"
	"github.com/creditrisk/creditd/models/report"
)

// issuedQueryCode asks for the report issued to the subject code (POST
// /v1/reports/{uscc}/issue as a regulator: the front desk issuing the
// enterprise its report) and returns its query code, after checking that
// the report is signed, verifies, and is the public edition plus the code
// and nothing else (the publicShape allow-list).
func issuedQueryCode(t *testing.T, s *service, code string) string {
	t.Helper()
	rep, _ := issuedReport(t, s, code)
	return rep.QueryCode
}

// issuedReport is issuedQueryCode's report, and its raw JSON.
func issuedReport(t *testing.T, s *service, code string) (*report.Report, []byte) {
	t.Helper()
	resp, raw := s.do("POST", "/v1/reports/"+code+"/issue", api.RoleRegulator, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("issuing the report to its subject: %d %s %s", resp.StatusCode, resp.Header, raw)
	}
	_, keys := s.do("GET", "/v1/keys", api.RolePublic, nil)
	jwks, err := report.ParseJWKS(keys)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := report.Verify(raw, jwks, time.Now())
	if err != nil {
		t.Fatalf("the issued report does not verify: %v", err)
	}
	// The independent verifier checks the signature over every member,
	// the code included.
	if _, err := reportverify.Verify(raw, keys, time.Now()); err != nil {
		t.Fatalf("independent verifier: %v", err)
	}
	if len(rep.QueryCode) != objection.QueryCodeLen {
		t.Fatalf("the issued report's query code %q", rep.QueryCode)
	}
	doc := decodeMap(t, raw)
	delete(doc, "query_code")
	rest, _ := json.Marshal(doc)
	if err := checkPublicReport(rest); err != nil {
		t.Fatalf("the issued report beyond its query code: %v", err)
	}
	return rep, raw
}

// fetch GETs path as role with Accept: accept. The console's pages are
// not API operations: they are fetched without the OpenAPI contract check
// of s.do (and the console ignores bearer tokens).
func (s *service) fetch(path string, role api.Role, accept string) (*http.Response, []byte) {
	s.t.Helper()
	if !strings.HasPrefix(path, "/console/") {
		return s.do("GET", path, role, nil, "Accept", accept)
	}
	req, err := http.NewRequest("GET", s.base+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp, b
}

// publicFetch is a GET of the query code check.
type publicFetch struct {
	path string
	html bool // also fetched with Accept: text/html
}

// The query code proves that an objection's filer holds the report issued
// to the subject (report.md "Objections"), so nothing anyone else can
// fetch may carry it. Every GET route of the API (api.Patterns: a route
// added without an entry here fails the test) and every public console
// page is fetched as anonymous, peer and source callers (never the
// subject's front desk), as JSON and as HTML, with the subject holding an
// open objection and the verification URLs of both the subject's copy and
// a public report; no answer may contain the subject's actual code, in
// either case. Then: the objection filed with the code of the issued
// report is accepted, and with anything a public fetch gives (there is no
// code member to take) it is refused.
func TestQueryCodeOnlyFromTheIssuedReport(t *testing.T) {
	s := startService(t, t.TempDir())
	events := `{"id":"QC-R","uscc":"` + objUSCC + `","type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"华为技术有限公司","region":"440300","registered_on":"1987-09-15"}}
{"id":"QC-P1","uscc":"` + objUSCC + `","type":"penalty","occurred_at":"2026-06-01T02:00:00Z","authority":"SAMR-440300","attrs":{"severity":"serious","decision_no":"深市监罚〔2026〕9号"}}
{"id":"QC-P2","uscc":"` + objUSCC + `","type":"penalty","occurred_at":"2026-06-02T02:00:00Z","authority":"SAMR-440300","attrs":{"severity":"general","decision_no":"深市监罚〔2026〕10号"}}
`
	if res, code := s.postEvents(api.RoleSource, []byte(events)); code != 200 || res.Applied != 3 {
		t.Fatalf("setup: %d %+v", code, res)
	}
	own, _ := issuedReport(t, s, objUSCC)
	qc := own.QueryCode

	// A public report has no query_code member: nothing to take.
	_, pubRaw := s.do("GET", "/v1/reports/"+objUSCC, api.RolePublic, nil)
	pub := decodeMap(t, pubRaw)
	if _, ok := pub["query_code"]; ok {
		t.Errorf("the public report carries query_code: %s", pubRaw)
	}
	var pubRep report.Report
	if err := json.Unmarshal(pubRaw, &pubRep); err != nil {
		t.Fatal(err)
	}

	file := func(record, code string) (*http.Response, []byte) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"uscc": objUSCC, "query_code": code, "record_id": record, "reason": "处罚决定已被复议撤销"})
		return s.do("POST", "/v1/objections", api.RolePublic, bytes.NewReader(body))
	}
	// Whatever a public fetch gives is not a code: no member, the empty
	// code, the report id's and the signature's characters.
	for _, guess := range []string{"", pubRep.ReportID, pubRep.Signature.Value[:objection.QueryCodeLen], own.ReportID[len(own.ReportID)-objection.QueryCodeLen:]} {
		if resp, b := file("QC-P1", guess); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("filed with %q: %d %s", guess, resp.StatusCode, b)
		}
	}
	resp, b := file("QC-P1", qc)
	if resp.StatusCode != http.StatusCreated || bytes.Contains(b, []byte(qc)) {
		t.Fatalf("filed with the issued report's code: %d %s", resp.StatusCode, b)
	}
	objID := decodeMap(t, b)["objection_id"].(string)

	ownURL, err := reportid.URL("", own)
	if err != nil {
		t.Fatal(err)
	}
	pubURL, err := reportid.URL("", &pubRep)
	if err != nil {
		t.Fatal(err)
	}
	// Every GET pattern of the API, with the paths that exercise it.
	apiFetches := map[string][]publicFetch{
		"GET /v1/entities/{uscc}": {{"/v1/entities/" + objUSCC + "?records=1", false}},
		"GET /v1/reports/{uscc}": {{"/v1/reports/" + objUSCC, true}, {"/v1/reports/" + objUSCC + "?edition=public&format=html", false},
			{"/v1/reports/" + objUSCC + "?edition=regulatory", true}},
		"GET /v1/reports/verify/{report_id}": {{ownURL, true}, {pubURL, true}},
		"GET /v1/keys":                       {{"/v1/keys", false}},
		"GET /v1/openapi.json":               {{"/v1/openapi.json", false}},
		"GET /v1/draws/{draw_id}":            {{"/v1/draws/nope", false}},
		"GET /v1/draws/{draw_id}/population": {{"/v1/draws/nope/population", false}},
		"GET /v1/draws/{draw_id}/amendments": {{"/v1/draws/nope/amendments", false}},
		"GET /v1/draws":                      {{"/v1/draws?plan_id=nope", false}},
		"GET /v1/draws/conflicts":            {{"/v1/draws/conflicts", false}},
		"GET /v1/stats/tiers":                {{"/v1/stats/tiers", false}},
		"GET /v1/stats/tiers/history":        {{"/v1/stats/tiers/history", false}},
		"GET /v1/stats/hit-rates":            {{"/v1/stats/hit-rates", false}},
		"GET /v1/stats/tier-changes":         {{"/v1/stats/tier-changes", false}},
		"GET /metrics":                       {{"/metrics", false}},
		"GET /healthz":                       {{"/healthz", false}},
		"GET /readyz":                        {{"/readyz", false}},
		"GET /{$}":                           {{"/", false}},
		"GET /v1/objections/{objection_id}":  {{"/v1/objections/" + objID, false}},
		"GET /v1/objections":                 {{"/v1/objections", false}},
		"GET /v1/measures/changes":           {{"/v1/measures/changes?since=2020-01-01T00:00:00Z", false}},
		"GET /v1/notices":                    {{"/v1/notices", false}},
		"GET /v1/stats/challenger":           {{"/v1/stats/challenger", false}},
		"GET /v1/stats/challenger/metrics":   {{"/v1/stats/challenger/metrics", false}},
	}
	var fetches []publicFetch
	for _, p := range api.Patterns() {
		if !strings.HasPrefix(p, "GET ") {
			continue
		}
		fs, ok := apiFetches[p]
		if !ok {
			t.Errorf("GET route %s is not checked for the query code: add it here", p)
		}
		fetches = append(fetches, fs...)
	}
	// The console's public pages: the report lookup (page and download),
	// the verifier, the objection form and follow page, draws, peers; and
	// the front desk page that issues the report (regulators' only, and
	// only by a post: anyone else is sent to sign in).
	q := url.QueryEscape(objUSCC)
	fetches = append(fetches, publicFetch{"/console/", false}, publicFetch{"/console/report?uscc=" + q, false},
		publicFetch{"/console/report/download?uscc=" + q, false}, publicFetch{"/console/verify", false},
		publicFetch{"/console/objections", false}, publicFetch{"/console/objections?id=" + url.QueryEscape(objID), false},
		publicFetch{"/console/draws/verify?id=nope", false}, publicFetch{"/console/peers", false},
		publicFetch{"/console/reg/issue?uscc=" + q, false})
	lower := strings.ToLower(qc)
	for _, f := range fetches {
		for _, role := range []api.Role{api.RolePublic, api.RolePeer, api.RoleSource} {
			accepts := []string{"application/json"}
			if f.html {
				accepts = append(accepts, "text/html")
			}
			for _, accept := range accepts {
				resp, body := s.fetch(f.path, role, accept)
				if s := string(body); strings.Contains(s, qc) || strings.Contains(s, lower) {
					t.Errorf("GET %s as %s (%s): %d, carries the query code", f.path, role, accept, resp.StatusCode)
				}
			}
		}
	}
	// The fetches did reach content (not only refusals), the report pages
	// and the verification of the subject's own copy among them.
	for _, f := range []string{"/v1/reports/" + objUSCC, ownURL, "/console/report?uscc=" + q} {
		if resp, body := s.fetch(f, api.RolePublic, "text/html"); resp.StatusCode != http.StatusOK ||
			!strings.Contains(string(body), objUSCC) {
			t.Fatalf("GET %s: %d", f, resp.StatusCode)
		}
	}
	// The printable page of the issued report does show the code, so the
	// checks above could fail.
	resp, page := s.do("POST", "/v1/reports/"+objUSCC+"/issue?format=html", api.RoleRegulator, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `id="query-code">`+qc+`<`) {
		t.Fatalf("the issued report's page: %d, code shown %v", resp.StatusCode, strings.Contains(string(page), qc))
	}
	// The issuing route is the regulators' only (authz_test checks every
	// role); a peer's regulatory edition has no code either.
	for _, role := range []api.Role{api.RolePublic, api.RolePeer, api.RoleSource} {
		if resp, body := s.do("POST", "/v1/reports/"+objUSCC+"/issue", role, nil); resp.StatusCode/100 != 4 || bytes.Contains(body, []byte(qc)) {
			t.Fatalf("issue as %s: %d", role, resp.StatusCode)
		}
	}
	if !slices.Contains(api.Patterns(), "POST /v1/reports/{uscc}/issue") {
		t.Fatal("no issuing route")
	}
}
