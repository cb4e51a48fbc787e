package console

import (
	"encoding/json"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// queryCodeRe finds the query code on the printable page of an issued
// report (reportpage: the code's own section).
var queryCodeRe = regexp.MustCompile(`id="query-code">([0-9A-Z]{16})<`)

// escaped is s as html/template writes it in an element's text.
func escaped(s string) string {
	var b strings.Builder
	_ = template.Must(template.New("").Parse("{{.}}")).Execute(&b, s)
	return b.String()
}

// subjectReports is creditd_reports_total{edition="subject",format} as
// GET /metrics exports it: the reports issued to their subject (POST
// /v1/reports/{uscc}/issue) as format; 0 before the first.
func (h *harness) subjectReports(t *testing.T, format string) int {
	t.Helper()
	_, m := h.get(t, h.client(t), "/metrics")
	prefix := `creditd_reports_total{edition="subject",format="` + format + `"} `
	for _, line := range strings.Split(m, "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			n, err := strconv.Atoi(rest)
			if err != nil {
				t.Fatalf("metrics line %q", line)
			}
			return n
		}
	}
	if !strings.Contains(m, "creditd_reports_total") && !strings.Contains(m, "go_goroutines") {
		t.Fatal("GET /metrics exports nothing")
	}
	return 0
}

// activePenalty is the id of an active penalty record on the public
// report of code (anyone's: fetched anonymously).
func (h *harness) activePenalty(t *testing.T, code string) string {
	t.Helper()
	_, raw := h.get(t, h.client(t), "/console/report/download?uscc="+code)
	var rep struct {
		Records []struct{ ID, Category, Status string }
	}
	if err := json.Unmarshal([]byte(raw), &rep); err != nil {
		t.Fatalf("the public report of %s: %v", code, err)
	}
	for _, r := range rep.Records {
		if r.Category == "penalty" && r.Status == "active" {
			return r.ID
		}
	}
	t.Fatalf("no active penalty on the report of %s", code)
	return ""
}

// The front desk page (窗口, domain.md §4.8): anonymous visitors are sent
// to sign in and their posts refused, and a peer's token does not sign
// in; a signed-in regulator gets the form (from the navigation and the
// entity page), which issues nothing and shows no code; a post without
// the CSRF token is refused; a bad or unknown USCC is refused on the form
// (400, 404, no report counted); with the token it answers with the
// printable page carrying the query code, not cached, with the note for
// the clerk, counted once as the API counts its issues
// (creditd_reports_total{edition="subject",format="html"}). That code is
// the one the API's route issues, and the enterprise's objection filed
// with it through the console's form is accepted.
func TestIssueAtFrontDesk(t *testing.T) {
	h := newHarness(t)
	code := h.withPenalty
	issued := func() int { return h.subjectReports(t, "html") + h.subjectReports(t, "json") }
	before := issued()
	var seen []string // every answer before the issue: none may carry the code

	anon := h.client(t)
	resp, err := anon.Get(h.srv.URL + "/console/reg/issue?uscc=" + code)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/signin?next=") {
		t.Fatalf("anonymous GET: %d %q, want a redirect to sign-in", resp.StatusCode, loc)
	}
	_, signin := h.get(t, anon, "/console/signin")
	anonCSRF := csrfOf(t, signin)
	resp, body := h.post(t, anon, "/console/reg/issue", map[string]string{"csrf": anonCSRF, "uscc": code})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous post with its own CSRF token: %d, want 403", resp.StatusCode)
	}
	seen = append(seen, body)
	// a peer (another province) cannot sign in, nor pass its token
	resp, body = h.post(t, anon, "/console/signin", map[string]string{"csrf": anonCSRF, "token": h.peerToken, "next": "/console/reg/issue"})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("peer sign-in: %d, want 401", resp.StatusCode)
	}
	seen = append(seen, body)
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/console/reg/issue?uscc="+code, nil)
	req.Header.Set("Authorization", "Bearer "+h.peerToken)
	if resp, err = anon.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET with a peer's bearer token: %d, want a redirect to sign-in", resp.StatusCode)
	}

	reg := h.client(t)
	h.signIn(t, reg)
	st, form := h.get(t, reg, "/console/reg/issue?uscc="+strings.ToLower(code))
	if st != http.StatusOK || !strings.Contains(form, `id="issue-form"`) || !strings.Contains(form, `value="`+code+`"`) ||
		!strings.Contains(form, `name="csrf"`) || !strings.Contains(form, `method="post" action="/console/reg/issue"`) {
		t.Fatalf("the regulator's form: %d", st)
	}
	if !strings.Contains(form, `<a href="/console/reg/issue"`) {
		t.Error("the regulator navigation has no link to the front desk page")
	}
	seen = append(seen, form)
	if _, ent := h.get(t, reg, "/console/reg/entity?uscc="+code); !strings.Contains(ent, `href="/console/reg/issue?uscc=`+code+`"`) {
		t.Error("the entity page does not link to the front desk page")
	}
	resp, body = h.post(t, reg, "/console/reg/issue", map[string]string{"uscc": code})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("post without CSRF token: %d, want 403", resp.StatusCode)
	}
	seen = append(seen, body)
	csrf := csrfOf(t, form)
	for _, tc := range []struct {
		uscc   string
		status int
		msg    string
	}{
		{"", http.StatusBadRequest, "issue.empty"},
		{"91440300-BAD", http.StatusBadRequest, "issue.bad"},
		{code[:17] + string("0123456789ABCDEFGHJKLMNPQRTUWXY"[(strings.IndexByte("0123456789ABCDEFGHJKLMNPQRTUWXY", code[17])+1)%31]),
			http.StatusBadRequest, "issue.bad"}, // wrong check character
		{"914403001922038216", http.StatusNotFound, "issue.unknown"}, // valid, not in the province
	} {
		resp, body := h.post(t, reg, "/console/reg/issue", map[string]string{"csrf": csrf, "uscc": tc.uscc})
		if resp.StatusCode != tc.status || !strings.Contains(body, `id="issue-error"`) || !strings.Contains(body, messages[tc.msg][0]) ||
			!strings.Contains(body, `id="issue-form"`) {
			t.Errorf("post of %q: %d, want %d with %q on the form", tc.uscc, resp.StatusCode, tc.status, messages[tc.msg][0])
		}
		seen = append(seen, body)
	}
	if n := issued(); n != before {
		t.Fatalf("%d reports counted as issued to their subject before a valid post", n-before)
	}

	resp, page := h.post(t, reg, "/console/reg/issue", map[string]string{"csrf": csrf, "uscc": code})
	m := queryCodeRe.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("issuing: %d, code shown %v", resp.StatusCode, m != nil)
	}
	qc := m[1]
	for k, want := range map[string]string{"Cache-Control": "no-store", "Content-Type": "text/html; charset=utf-8"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("issued page %s: %q, want %q", k, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("issued page policy %q: no script, no request", csp)
	}
	if !strings.Contains(page, `id="frontdesk-note"`) || !strings.Contains(page, escaped(messages["issue.handover"][0])) ||
		!strings.Contains(page, `<dd class="mono">`+code+`</dd>`) || !strings.Contains(page, "POST /v1/reports/"+code+"/issue") {
		t.Error("the issued page lacks the note for the clerk or is not the subject's printable report")
	}
	if strings.Index(page, `id="frontdesk-note"`) < strings.Index(page, "<body>") || strings.Count(page, "<body>") != 1 {
		t.Error("the note is not inside the page's body")
	}
	if strings.Contains(page, "信用风险分类") || strings.Contains(page, `class="tierbox"`) {
		t.Error("the issued report shows an assessment: it is the public edition")
	}
	if n := h.subjectReports(t, "html"); n != before+1 || issued() != before+1 {
		t.Errorf("reports issued to their subject after one post: html %d, all %d; want %d", n, issued(), before+1)
	}
	for i, s := range seen {
		if strings.Contains(s, qc) {
			t.Errorf("answer %d before the issue carries the query code", i)
		}
	}
	// a GET after it still issues nothing and shows no code
	if _, form := h.get(t, reg, "/console/reg/issue?uscc="+code); strings.Contains(form, qc) || issued() != before+1 {
		t.Error("a GET after issuing shows the code or issues")
	}
	_, en := h.get(t, reg, "/console/reg/issue?lang=en&uscc="+code)
	if !strings.Contains(en, messages["issue.title"][1]) || strings.Contains(en, qc) {
		t.Error("the English form")
	}
	resp, page = h.post(t, reg, "/console/reg/issue", map[string]string{"csrf": csrf, "uscc": code})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, escaped(messages["issue.handover"][1])) ||
		!strings.Contains(page, `id="query-code">`+qc+`<`) || !strings.Contains(page, `lang="en"`) {
		t.Errorf("issuing in English: %d", resp.StatusCode)
	}

	// The code is the one the API's route issues (one derivation) ...
	var api struct {
		QueryCode string `json:"query_code"`
	}
	if err := json.Unmarshal(h.issuedReport(t, code), &api); err != nil || api.QueryCode != qc {
		t.Fatalf("the API issues code %q, the console showed %q (%v)", api.QueryCode, qc, err)
	}
	// ... and the enterprise files with it through the console's form.
	ent := h.client(t)
	_, rp := h.get(t, ent, "/console/report?uscc="+code)
	if strings.Contains(rp, qc) {
		t.Fatal("the public report page carries the code")
	}
	form2 := map[string]string{"csrf": csrfOf(t, rp), "uscc": code, "record_id": h.activePenalty(t, code), "reason": "paid before the decision"}
	form2["query_code"] = "ABCDEFGHJKMNPQRS"
	if resp, _ := h.post(t, ent, "/console/objections", form2); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("objection with another code: %d, want 403", resp.StatusCode)
	}
	form2["query_code"] = strings.ToLower(qc) // as typed
	resp, _ = h.post(t, ent, "/console/objections", form2)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/objections?filed=1&id=") {
		t.Fatalf("objection with the issued code: %d %q", resp.StatusCode, loc)
	}
}

// The note goes in after the page's head and at the top of its body, once;
// a page without them is handed over unchanged, with an error.
func TestWithNote(t *testing.T) {
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	v := &View{c: c, Lang: "en"}
	got, err := c.withNote([]byte("<html><head><style>a{}</style></head>\n<body><p>report</p></body></html>"), v, "X1")
	s := string(got)
	if err != nil || strings.Count(s, `id="frontdesk-note"`) != 1 || strings.Count(s, ".frontdesk-note { max-width") != 1 ||
		!strings.Contains(s, "</style><style>") || !strings.Contains(s, `<body><aside class="frontdesk-note"`) ||
		!strings.Contains(s, "</aside>\n<p>report</p></body></html>") {
		t.Fatalf("note in a page: %v\n%s", err, s)
	}
	for _, page := range []string{"<html><body>no head</body></html>", "<html><head></head>no body</html>"} {
		if got, err := c.withNote([]byte(page), v, "X1"); err == nil || string(got) != page {
			t.Errorf("page %q: %v, %q", page, err, got)
		}
	}
}
