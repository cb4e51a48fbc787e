package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// Objections (异议, domain.md §4.8) in the console: the enterprise files
// one against a record of its public report and follows it by the
// objection id the API returns (its tracking code); regulators work the
// queue. Every step goes through the API in process, so the API's checks
// (query code, open objection, roles) apply unchanged.
//
// The query code: the filer must TYPE the query code printed on the
// report the registration authority's front desk issued to the enterprise
// (POST /v1/reports/{uscc}/issue, report.md "Objections"). No report the
// console fetches carries it (they are anyone's: anyone can look up any
// USCC), so there is nothing to pre-fill; the form says where the code
// comes from (obj.codehelp).

// objectionStatus is the public status of an objection (GET
// /v1/objections/{id}); the queue adds authority and reason.
type objectionStatus struct {
	ObjectionID    string `json:"objection_id"`
	USCC           string `json:"uscc"`
	RecordID       string `json:"record_id"`
	Category       string `json:"category"`
	Status         string `json:"status"`
	FiledAt        string `json:"filed_at"`
	DueOn          string `json:"due_on"`
	DueProvisional bool   `json:"due_provisional"`
	ReferredAt     string `json:"referred_at"`
	AnsweredAt     string `json:"answered_at"`
	Answer         string `json:"answer"`
	Overdue        bool   `json:"overdue"`
	Authority      string `json:"authority"`
	Reason         string `json:"reason"`
}

// objectionView is the follow page's data.
type objectionView struct {
	ID     string
	O      *objectionStatus
	Error  string
	Filed  bool
	Status string
}

// handleObjectionFile posts an objection and shows where to follow it.
func (c *Console) handleObjectionFile(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("obj.title")
	body, _ := json.Marshal(map[string]string{
		"uscc":       normUSCC(r.FormValue("uscc")),
		"query_code": strings.ToUpper(strings.TrimSpace(r.FormValue("query_code"))),
		"record_id":  strings.TrimSpace(r.FormValue("record_id")),
		"reason":     strings.TrimSpace(r.FormValue("reason")),
	})
	a := c.call(r.Context(), http.MethodPost, "/v1/objections", "", body)
	if a.Status != http.StatusCreated && a.Status != http.StatusAccepted {
		c.render(w, v, a.Status, "objection", objectionView{Error: a.problem()})
		return
	}
	var o objectionStatus
	_ = json.Unmarshal(a.Body, &o)
	http.Redirect(w, r, Prefix+"objections?filed=1&id="+url.QueryEscape(o.ObjectionID), http.StatusSeeOther)
}

// handleObjection shows an objection's status by its id (public).
func (c *Console) handleObjection(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("obj.title")
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	ov := objectionView{ID: id, Filed: r.URL.Query().Get("filed") == "1"}
	if id == "" {
		c.render(w, v, http.StatusOK, "objection", ov)
		return
	}
	var o objectionStatus
	if a, err := c.getJSON(r.Context(), "/v1/objections/"+urlPathEscape(id), "", &o); err != nil {
		ov.Error = err.Error()
		c.render(w, v, a.Status, "objection", ov)
		return
	}
	o.Authority, o.Reason = "", "" // the public status has none; keep it so
	ov.O, ov.Status = &o, v.T("objst."+o.Status)
	c.render(w, v, http.StatusOK, "objection", ov)
}

// queueView is the regulator's objection queue.
type queueView struct {
	AsOf       string            `json:"as_of"`
	Open       int               `json:"open"`
	Overdue    int               `json:"overdue"`
	Calendar   string            `json:"calendar"`
	Objections []objectionStatus `json:"objections"`
	Error      string            `json:"-"`
	Labels     map[string]string `json:"-"`
}

// handleQueue lists objections by deadline, overdue ones highlighted.
func (c *Console) handleQueue(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("queue.title")
	var q queueView
	path := "/v1/objections"
	if r.URL.Query().Get("status") == "all" {
		path += "?status=all"
	}
	if _, err := c.getJSON(r.Context(), path, v.token(), &q); err != nil {
		q.Error = err.Error()
	}
	q.Labels = map[string]string{}
	for _, s := range []string{"pending", "referred", "upheld", "rejected"} {
		q.Labels[s] = v.T("objst." + s)
	}
	c.render(w, v, http.StatusOK, "queue", q)
}

// handleAnswer answers an objection (upheld, rejected or referred).
func (c *Console) handleAnswer(w http.ResponseWriter, r *http.Request, v *View) {
	id := strings.TrimSpace(r.FormValue("id"))
	body, _ := json.Marshal(map[string]string{"outcome": r.FormValue("outcome"), "reasons": strings.TrimSpace(r.FormValue("reasons"))})
	a := c.call(r.Context(), http.MethodPost, "/v1/objections/"+urlPathEscape(id)+"/answer", v.token(), body)
	if a.Status != http.StatusCreated && a.Status != http.StatusAccepted {
		c.fail(w, r, v, a.Status, "err.answer", a.problem())
		return
	}
	http.Redirect(w, r, Prefix+"reg/objections?status=all", http.StatusSeeOther)
}
