package api

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"github.com/creditrisk/creditd/cmd/creditd/internal/issue"
	"github.com/creditrisk/creditd/models/report"
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
// ?edition=regulatory; HTML with Accept: text/html.
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
	eng, ok := s.engineFor(w, r, code)
	if !ok {
		return
	}
	now := eng.Now()
	v, found := eng.Entity(code, now, true)
	if !found || !v.Registered {
		writeProblem(w, r, http.StatusNotFound, "no registration is recorded for "+code.String())
		return
	}
	rep := issue.Build(&v, edition, s.issuer, now)
	if err := report.Sign(rep, s.issuer.Priv, s.issuer.KeyID); err != nil {
		writeProblem(w, r, http.StatusInternalServerError, "signing the report failed")
		s.logger.Error("signing a report", "err", err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if wantsHTML(r) && s.renderHTML != nil {
		var buf bytes.Buffer
		if err := s.renderHTML(&buf, rep); err != nil {
			writeProblem(w, r, http.StatusInternalServerError, "rendering the report failed")
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		s.m.Reports.WithLabelValues(edition, "html").Inc()
		_, _ = w.Write(buf.Bytes())
		return
	}
	b, err := rep.CanonicalJSON()
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, "encoding the report failed")
		return
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Content-Disposition", `inline; filename="credit-report-`+code.String()+`.json"`)
	s.m.Reports.WithLabelValues(edition, "json").Inc()
	_, _ = w.Write(b)
}
