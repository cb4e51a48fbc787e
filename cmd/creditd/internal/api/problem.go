package api

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Extension members.
	Reason string `json:"reason,omitempty"`
}

// writeProblem writes a problem+json response.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	writeProblemReason(w, r, status, "", detail)
}

// writeProblemReason is WriteProblem with a machine-readable reason.
func writeProblemReason(w http.ResponseWriter, r *http.Request, status int, reason, detail string) {
	// "about:blank": the status code and title say what kind of problem it
	// is (RFC 9457 §4.2.1); reason carries the machine-readable code.
	p := Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Reason: reason}
	if r != nil {
		p.Instance = r.URL.Path
	}
	b, _ := json.Marshal(p)
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="creditd"`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeJSON writes a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, nil, http.StatusInternalServerError, "encoding the response failed")
		return
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// WriteProblem writes a problem+json response, for the routes other
// packages serve over a Server (writeProblem here, as the handlers of this
// package have always called it).
func WriteProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	writeProblem(w, r, status, detail)
}

// WriteJSON writes a JSON response (writeJSON).
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

// Unavailable answers 503 with Retry-After: retryAfter seconds.
func Unavailable(w http.ResponseWriter, r *http.Request, retryAfter int, detail string) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	writeProblem(w, r, http.StatusServiceUnavailable, detail)
}
