package api

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/creditrisk/creditd/cmd/creditd/internal/issue"
	"github.com/creditrisk/creditd/cmd/creditd/internal/reportid"
	"github.com/creditrisk/creditd/cmd/creditd/internal/reportpage"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/report"
)

// Reasons of the verification route's problems.
const (
	reasonNotGenuine = "report_not_genuine"
	reasonBadURL     = "bad_verification_url"
)

// handleVerify serves GET /v1/reports/verify/{report_id}?uscc=&d=, the
// URL of a report's QR code (report.md "Verification URL"): whether this
// service issued a report with that id, subject and digest (genuine), and
// whether one issued now would show the same subject and records
// (current). Nothing is stored: the id proves both (reportid). People get
// a page (Accept: text/html), programs JSON; a URL that cannot be read is
// 400 and a report not issued here 404, as problem+json or as the page
// saying "not genuine". Public: the answer holds no tier, and "current"
// compares public content only (domain.md §2.1, §6.5).
func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	html := wantsHTML(r)
	refuse := func(status int, reason, detail string) {
		if !html {
			writeProblemReason(w, r, status, reason, detail)
			return
		}
		s.writeVerification(w, r, status, &reportpage.Verification{Problem: detail})
	}
	q := r.URL.Query()
	code, _, err := s.exc.Parse(q.Get("uscc"))
	if err != nil {
		refuse(http.StatusBadRequest, event.ReasonInvalidUSCC, "uscc: "+err.Error())
		return
	}
	claim, err := reportid.Parse(r.PathValue("report_id"), code.String(), q.Get("d"))
	if err != nil { // a *reportid.SyntaxError naming the part
		refuse(http.StatusBadRequest, reasonBadURL, err.Error())
		return
	}
	switch {
	case claim.Issuer != s.issuer.Code:
		refuse(http.StatusNotFound, reasonNotGenuine, "the report number names issuer "+strconv.Quote(claim.Issuer)+
			"; this service is issuer "+strconv.Quote(s.issuer.Code))
		return
	case s.issuer.IDs == nil || !s.issuer.IDs.Genuine(claim):
		refuse(http.StatusNotFound, reasonNotGenuine, "no report with this number, subject and digest was issued here")
		return
	}
	if s.notReady(w, r) {
		return
	}
	eng, ok := s.engineFor(w, r, code)
	if !ok {
		return
	}
	now := eng.Now()
	v := &reportpage.Verification{Genuine: true, ReportID: claim.ReportID(),
		Issuer: reportpage.VerifiedIssuer{Code: s.issuer.Code, Name: s.issuer.Name}, IssuedAt: claim.IssuedAt(),
		Subject: reportpage.VerifiedLabel{USCC: code.String()}, CheckedAt: report.Instant(now),
		ReportPath: "/v1/reports/" + code.String()}
	if ev, found := eng.Entity(code, now, true); found && ev.Registered {
		v.Subject.Name = ev.Name
		// The public content of a report issued now; both editions share it.
		cur, err := s.issuer.IDs.Current(claim, issue.Build(&ev, report.EditionPublic, s.issuer, now))
		if err != nil {
			writeProblem(w, r, http.StatusInternalServerError, "comparing with the current report failed")
			s.logger.Error("report verification", "err", err)
			return
		}
		v.Current = cur
	}
	if html {
		s.writeVerification(w, r, http.StatusOK, v)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, v)
}

// writeVerification writes the verification page of v with status.
func (s *Server) writeVerification(w http.ResponseWriter, r *http.Request, status int, v *reportpage.Verification) {
	var buf bytes.Buffer
	if err := reportpage.RenderVerification(&buf, v); err != nil {
		writeProblem(w, r, http.StatusInternalServerError, "rendering the verification page failed")
		s.logger.Error("report verification page", "err", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
