package api

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/issue"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
)

// wantsHTML reports whether the client prefers text/html to JSON.
func wantsHTML(r *http.Request) bool {
	if f := r.URL.Query().Get("format"); f != "" {
		return f == "html"
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt := strings.TrimSpace(strings.SplitN(part, ";", 2)[0])
		switch mt {
		case "text/html", "application/xhtml+xml":
			return true
		case "application/json", "*/*":
			return false
		}
	}
	return false
}

// handleReport serves GET /v1/reports/{uscc}: the signed credit report,
// public edition by default, regulatory for regulator and peer tokens with
// ?edition=regulatory; HTML with Accept: text/html. Neither carries the
// query code (handleReportIssue's report does): anyone may fetch this one.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	code, _, ok := s.parseUSCC(w, r)
	if !ok || s.notReady(w, r) {
		return
	}
	edition := r.URL.Query().Get("edition")
	switch edition {
	case "", report.EditionPublic:
		edition = report.EditionPublic
	case report.EditionRegulatory:
		switch roleOf(r) {
		case RoleRegulator, RolePeer:
		case RolePublic:
			writeProblem(w, r, http.StatusUnauthorized, "the regulatory edition needs a regulator or peer token")
			return
		default:
			writeProblem(w, r, http.StatusForbidden, "the regulatory edition is for regulators and peers")
			return
		}
	default:
		writeProblem(w, r, http.StatusBadRequest, "edition must be public or regulatory")
		return
	}
	s.serveReport(w, r, code, edition, func(v *scoring.EntityView, now time.Time) (*report.Report, error) {
		return issue.Build(v, edition, s.issuer, now), nil
	})
}

// handleReportIssue serves POST /v1/reports/{uscc}/issue (regulators
// only): the public edition issued to the credit subject itself, which
// alone carries its query code (issue.BuildForSubject; report.md
// "Objections"). The registration authority's front desk (窗口) issues it
// to the enterprise, which presents the code to file an objection
// (domain.md §4.8); the printable page (Accept: text/html) shows the code
// for printing or mailing. Each issue is logged.
func (s *Server) handleReportIssue(w http.ResponseWriter, r *http.Request) {
	code, _, ok := s.parseUSCC(w, r)
	if !ok || s.notReady(w, r) {
		return
	}
	if s.issuer.QueryKey == nil {
		writeProblem(w, r, http.StatusServiceUnavailable, issue.ErrNoQueryKey.Error())
		return
	}
	rep, ok := s.serveReport(w, r, code, editionSubject, func(v *scoring.EntityView, now time.Time) (*report.Report, error) {
		return issue.BuildForSubject(v, s.issuer, now)
	})
	if ok {
		s.logger.Info("credit report issued to its subject with the query code", "uscc", code.String(), "report_id", rep.ReportID)
	}
}

// editionSubject is the metrics label of the public edition issued to its
// subject (handleReportIssue).
const editionSubject = "subject"

// serveReport builds (with build), signs and writes the report of code
// as JSON or, to a browser, as the printable page; label is the edition's
// metrics label. It returns the report written (ok false when it answered
// otherwise).
func (s *Server) serveReport(w http.ResponseWriter, r *http.Request, code uscc.Code, label string,
	build func(v *scoring.EntityView, now time.Time) (*report.Report, error)) (rep *report.Report, ok bool) {
	eng, ok := s.engineFor(w, r, code)
	if !ok {
		return nil, false
	}
	now := eng.Now()
	v, found := eng.Entity(code, now, true)
	if !found || !v.Registered {
		writeProblem(w, r, http.StatusNotFound, "no registration is recorded for "+code.String())
		return nil, false
	}
	rep, err := build(&v, now)
	if err == nil {
		err = report.Sign(rep, s.issuer.Priv, s.issuer.KeyID)
	}
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, "signing the report failed")
		s.logger.Error("signing a report", "err", err)
		return nil, false
	}
	w.Header().Set("Cache-Control", "no-store")
	if wantsHTML(r) && s.renderHTML != nil {
		var buf bytes.Buffer
		if err := s.renderHTML(&buf, rep); err != nil {
			writeProblem(w, r, http.StatusInternalServerError, "rendering the report failed")
			return nil, false
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		s.m.Reports.WithLabelValues(label, "html").Inc()
		_, _ = w.Write(buf.Bytes())
		return rep, true
	}
	b, err := rep.CanonicalJSON()
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, "encoding the report failed")
		return nil, false
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Content-Disposition", `inline; filename="credit-report-`+code.String()+`.json"`)
	s.m.Reports.WithLabelValues(label, "json").Inc()
	_, _ = w.Write(b)
	return rep, true
}
