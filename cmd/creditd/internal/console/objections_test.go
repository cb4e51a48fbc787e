package console

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// issuedReport is the report the registration authority's front desk
// issues to the enterprise uscc (POST /v1/reports/{uscc}/issue with a
// regulator token, outside the console), as the enterprise then holds it:
// the public edition with its query code.
func (h *harness) issuedReport(t *testing.T, uscc string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/v1/reports/"+uscc+"/issue", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+h.regToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("issuing the report to %s: %d %s", uscc, resp.StatusCode, b)
	}
	return b
}

// The objection flow through the console's forms (domain.md §4.8): an
// enterprise files an objection to an active record of its report with
// the query code of the report the front desk issued to it (the report
// the console shows and downloads, which anyone can, has none), follows
// it by its id (status, due date in working days), a regulator answers it
// from the queue, and the enterprise sees the answer. Without the CSRF
// token the form is refused; with a wrong query code the API's refusal is
// shown and nothing is filed. The public pages of the flow pass the tier
// deny-list.
func TestObjectionFlow(t *testing.T) {
	h := newHarness(t)
	ent := h.client(t)
	var rep struct {
		QueryCode string `json:"query_code"`
		Records   []struct {
			ID, Category, Status string
		} `json:"records"`
	}
	if err := json.Unmarshal(h.issuedReport(t, h.withPenalty), &rep); err != nil || len(rep.QueryCode) != 16 {
		t.Fatalf("issued report: %v, query code %q", err, rep.QueryCode)
	}
	if _, dl := h.get(t, ent, "/console/report/download?uscc="+h.withPenalty); !strings.Contains(dl, `"records"`) ||
		strings.Contains(dl, "query_code") || strings.Contains(dl, rep.QueryCode) {
		t.Fatal("the console's download (anyone's) must carry no query code")
	}
	recID := ""
	for _, r := range rep.Records {
		if r.Category == "penalty" && r.Status == "active" {
			recID = r.ID
		}
	}
	if recID == "" {
		t.Fatal("no active penalty on the report")
	}
	_, page := h.get(t, ent, "/console/report?uscc="+h.withPenalty)
	if !strings.Contains(page, `name="query_code"`) || strings.Contains(page, rep.QueryCode) {
		t.Fatal("the report page must ask for the query code and not pre-fill it")
	}
	// The form says where the code comes from (the i18n entry, either
	// language).
	if !strings.Contains(page, messages["obj.codehelp"][0]) {
		t.Error("the objection form does not say where the query code comes from")
	}
	if !strings.Contains(page, `class="chan-samr"`) || !strings.Contains(page, `id="verify-url"`) {
		t.Error("report page lacks the channel table or the verification link")
	}
	form := map[string]string{"uscc": h.withPenalty, "record_id": recID, "query_code": rep.QueryCode, "reason": "paid before the decision"}
	if resp, _ := h.post(t, ent, "/console/objections", form); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("objection without CSRF token: %d, want 403", resp.StatusCode)
	}
	form["csrf"] = csrfOf(t, page)
	bad := map[string]string{}
	for k, v := range form {
		bad[k] = v
	}
	bad["query_code"] = "WRONGCODE"
	if resp, body := h.post(t, ent, "/console/objections", bad); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `role="alert"`) {
		t.Fatalf("wrong query code: %d", resp.StatusCode)
	}
	resp, _ := h.post(t, ent, "/console/objections", form)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/objections?filed=1&id=") {
		t.Fatalf("filing: %d %q", resp.StatusCode, loc)
	}
	u, _ := url.Parse(loc)
	id := u.Query().Get("id")
	code, follow := h.get(t, ent, loc+"&lang=en")
	if code != 200 || !strings.Contains(follow, `data-status="pending"`) || !strings.Contains(follow, `id="objection-due"`) || !strings.Contains(follow, id) {
		t.Fatalf("follow page: %d", code)
	}
	checkPublic(t, "objection follow", follow)
	_, page = h.get(t, ent, "/console/report?uscc="+h.withPenalty)
	if !strings.Contains(page, `class="objection-state" data-status="under_objection"`) {
		t.Error("report page does not show the record under objection")
	}
	checkPublic(t, "report with objection", page)

	reg := h.client(t)
	h.signIn(t, reg)
	code, queue := h.get(t, reg, "/console/reg/objections")
	if code != 200 || !strings.Contains(queue, `id="q-`+id+`"`) {
		t.Fatalf("queue: %d, objection %s not listed", code, id)
	}
	if resp, _ := h.post(t, reg, "/console/reg/objections/answer", map[string]string{"id": id, "outcome": "rejected", "reasons": "decision stands"}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("answer without CSRF token: %d, want 403", resp.StatusCode)
	}
	resp, _ = h.post(t, reg, "/console/reg/objections/answer", map[string]string{"csrf": csrfOf(t, queue), "id": id, "outcome": "rejected", "reasons": "decision stands"})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("answer: %d", resp.StatusCode)
	}
	_, follow = h.get(t, ent, "/console/objections?id="+url.QueryEscape(id))
	if !strings.Contains(follow, `data-status="rejected"`) || !strings.Contains(follow, "decision stands") {
		t.Error("the enterprise does not see the answer")
	}
	checkPublic(t, "objection answered", follow)
	// an anonymous visitor cannot reach the queue
	if code, _ := h.get(t, h.client(t), "/console/reg/objections"); code != http.StatusSeeOther {
		t.Errorf("anonymous queue: %d, want a redirect to sign-in", code)
	}
}

// The queue highlights exactly the overdue objections (the API's overdue
// flag: past 3 working days, 7 when referred; domain.md §4.8) and offers
// the answer form only while an objection is open.
func TestQueueHighlightsOverdue(t *testing.T) {
	h := newHarness(t)
	q := queueView{Open: 2, Overdue: 1, Labels: map[string]string{}, Objections: []objectionStatus{
		{ObjectionID: "OBJ-LATE", Status: "pending", DueOn: "2026-10-09", Overdue: true},
		{ObjectionID: "OBJ-INTIME", Status: "referred", DueOn: "2026-12-15"},
		{ObjectionID: "OBJ-DONE", Status: "rejected", DueOn: "2026-11-02", Answer: "stands"},
	}}
	rec := httptest.NewRecorder()
	h.con.render(rec, &View{c: h.con, Lang: "en", CSRF: "tok"}, http.StatusOK, "queue", q)
	page := rec.Body.String()
	row := func(id string) string {
		i := strings.Index(page, `id="q-`+id+`"`)
		if i < 0 {
			t.Fatalf("no row %s", id)
		}
		j := strings.Index(page[i:], "</tr>")
		return page[i : i+j]
	}
	if r := row("OBJ-LATE"); !strings.Contains(r, `class="overdue"`) || !strings.Contains(r, "badge overdue") || !strings.Contains(r, `name="outcome"`) {
		t.Errorf("overdue row: %s", r)
	}
	if r := row("OBJ-INTIME"); strings.Contains(r, "overdue") || !strings.Contains(r, `name="outcome"`) {
		t.Errorf("row in time: %s", r)
	}
	if r := row("OBJ-DONE"); strings.Contains(r, `name="outcome"`) {
		t.Errorf("answered row offers the answer form: %s", r)
	}
}
