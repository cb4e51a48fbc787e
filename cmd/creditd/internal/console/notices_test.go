package console

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The notices page lists exactly the transfer notices GET /v1/notices
// gives the regulator (domain.md §4.2), one row each, and is closed to
// anonymous visitors. The entity page of the same entity (now abnormally
// listed) shows the joint measures and the commitment bar the API gives.
func TestNoticesPage(t *testing.T) {
	h := newHarness(t)
	// an abnormal listing 3 years less 30 days old is inside its 60-day
	// notice window (domain.md §4.2)
	listed := time.Now().UTC().AddDate(-3, 0, 30).Format(time.RFC3339)
	line := `{"id":"notice-test-1","uscc":"` + h.withPenalty + `","type":"abnormal_listed","occurred_at":"` + listed +
		`","authority":"test bureau","attrs":{"reason":"unreachable_at_address"}}`
	ev, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/v1/events", strings.NewReader(line+"\n"))
	ev.Header.Set("Authorization", "Bearer "+h.srcToken)
	ev.Header.Set("Content-Type", "application/x-ndjson")
	er, err := http.DefaultClient.Do(ev)
	if err != nil {
		t.Fatal(err)
	}
	eb, _ := io.ReadAll(er.Body)
	er.Body.Close()
	if er.StatusCode/100 != 2 {
		t.Fatalf("ingest: %d %s", er.StatusCode, eb)
	}
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/v1/notices", nil)
	req.Header.Set("Authorization", "Bearer "+h.regToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var doc struct {
		Notices []struct{ USCC, TransferOn string } `json:"notices"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("/v1/notices: %d %s", resp.StatusCode, b)
	}
	if len(doc.Notices) == 0 {
		t.Fatalf("no notice for a listing in its window: %s", b)
	}
	c := h.client(t)
	if code, _ := h.get(t, c, "/console/reg/notices"); code != http.StatusSeeOther {
		t.Fatalf("anonymous notices page: %d, want a redirect to sign-in", code)
	}
	h.signIn(t, c)
	code, page := h.get(t, c, "/console/reg/notices")
	if code != 200 || strings.Count(page, `<tr class="notice">`) != len(doc.Notices) {
		t.Fatalf("notices page: %d, %d rows, want %d", code, strings.Count(page, `<tr class="notice">`), len(doc.Notices))
	}
	for _, n := range doc.Notices {
		if !strings.Contains(page, n.USCC) || !strings.Contains(page, n.TransferOn) {
			t.Errorf("notice of %s (transfer %s) not shown", n.USCC, n.TransferOn)
		}
	}
	// the entity page's measures section shows the API's measures
	// (GET /v1/entities/{uscc}: measures.active, the commitment bar)
	req, _ = http.NewRequest(http.MethodGet, h.srv.URL+"/v1/entities/"+h.withPenalty, nil)
	req.Header.Set("Authorization", "Bearer "+h.regToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	var ent struct {
		Measures struct {
			Barred bool `json:"commitment_route_barred"`
			Active []struct{ Code string }
		}
	}
	if err := json.Unmarshal(b, &ent); err != nil {
		t.Fatal(err)
	}
	_, epage := h.get(t, c, "/console/reg/entity?uscc="+h.withPenalty)
	if n := strings.Count(epage, `<tr class="measure-`); n != len(ent.Measures.Active) || len(ent.Measures.Active) == 0 {
		t.Errorf("entity page shows %d measures, the API %d", n, len(ent.Measures.Active))
	}
	for _, m := range ent.Measures.Active {
		if !strings.Contains(epage, m.Code) {
			t.Errorf("measure %s not shown", m.Code)
		}
	}
	if want := `data-barred="` + map[bool]string{true: "true", false: "false"}[ent.Measures.Barred] + `"`; !strings.Contains(epage, want) {
		t.Errorf("commitment bar: want %s", want)
	}
	if code, _ := h.get(t, c, "/console/reg/notices?region_prefix=abc"); code != http.StatusBadRequest {
		t.Errorf("bad prefix: %d, want 400", code)
	}
}
