package console

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// The front desk (窗口) in the console: a signed-in regulator issues an
// enterprise its own credit report, the public edition carrying the
// query code with which the enterprise files and follows an objection to
// a record (domain.md §4.8; report.md "Objections"). The report is
// issued only by POST /v1/reports/{uscc}/issue, called in process with
// the regulator's token like every console call: the API handler builds
// it (issue.BuildForSubject, which alone derives the code), signs it,
// logs the issue and counts it (creditd_reports_total{edition="subject",
// format="html"}), so nothing of the issuing is repeated here.
//
// The form (GET) never issues: it only pre-fills the USCC (the entity
// page links to it). The post, with the session's CSRF token (wrap),
// answers with the API's printable page of the issued report itself
// (reportpage, what ?format=html gives), which shows the code in its own
// section, with a note for the clerk on screen only. A GET answer never
// carries a code, so it may be fetched, linked and reloaded freely.

// issueForm is the front desk form's data.
type issueForm struct {
	USCC string
	// Error is the message (console language), Detail the API's words.
	Error, Detail string
}

// handleIssueForm shows the form, pre-filled from ?uscc=; it issues
// nothing.
func (c *Console) handleIssueForm(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("issue.title")
	c.render(w, v, http.StatusOK, "issue", issueForm{USCC: normUSCC(r.URL.Query().Get("uscc"))})
}

// handleIssue issues the report to the enterprise of the posted USCC
// through the API and shows its printable page, or the form again with
// the API's refusal (a bad USCC 400, an entity without registration 404,
// no query key 503) in the console's language.
func (c *Console) handleIssue(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("issue.title")
	f := issueForm{USCC: normUSCC(r.PostFormValue("uscc"))}
	if f.USCC == "" {
		f.Error = v.T("issue.empty")
		c.render(w, v, http.StatusBadRequest, "issue", f)
		return
	}
	a := c.call(r.Context(), http.MethodPost, "/v1/reports/"+urlPathEscape(f.USCC)+"/issue?format=html", v.token(), nil)
	if a.Status != http.StatusOK || !strings.HasPrefix(a.Header.Get("Content-Type"), "text/html") {
		status := a.Status
		if status == http.StatusOK { // JSON: the service renders no page
			status = http.StatusInternalServerError
		}
		f.Error, f.Detail = v.T(issueRefusal(status)), a.problem()
		c.render(w, v, status, "issue", f)
		return
	}
	page, err := c.withNote(a.Body, v, f.USCC)
	if err != nil {
		// The report is issued and its page intact: hand it over as is.
		c.o.Logger.Error("console: the front desk note does not fit the report page", "err", err)
	}
	h := w.Header()
	// The printable page is one self-contained file with inline CSS
	// (reportpage): this answer allows inline styles and nothing else (no
	// script, no request), where the console's pages allow only their own
	// stylesheet.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Cache-Control", "no-store") // the code is the enterprise's: never kept by a cache
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(page)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(page)
}

// issueRefusal is the message key of an API refusal of the issuing route.
func issueRefusal(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "issue.bad"
	case http.StatusNotFound:
		return "issue.unknown"
	case http.StatusUnauthorized, http.StatusForbidden:
		return "err.session"
	case http.StatusServiceUnavailable:
		return "issue.unavailable"
	}
	return "issue.failed"
}

// withNote puts the front desk note (template issued-note, in the
// console's language, shown on screen and not printed) at the top of
// the printable page's body and its style at the end of its head. On an
// error it returns page unchanged.
func (c *Console) withNote(page []byte, v *View, code string) ([]byte, error) {
	t := c.tmpl["issue"]
	var style, note bytes.Buffer
	if err := t.ExecuteTemplate(&style, "issued-style", nil); err != nil {
		return page, err
	}
	if err := t.ExecuteTemplate(&note, "issued-note", map[string]any{"V": v, "USCC": code}); err != nil {
		return page, err
	}
	head := bytes.Index(page, []byte("</head>"))
	if head < 0 {
		return page, errors.New("the report page has no </head>")
	}
	body := bytes.Index(page[head:], []byte("<body>"))
	if body < 0 {
		return page, errors.New("the report page has no <body>")
	}
	body += head + len("<body>")
	out := make([]byte, 0, len(page)+style.Len()+note.Len())
	out = append(out, page[:head]...)
	out = append(out, style.Bytes()...)
	out = append(out, page[head:body]...)
	out = append(out, note.Bytes()...)
	return append(out, page[body:]...), nil
}
