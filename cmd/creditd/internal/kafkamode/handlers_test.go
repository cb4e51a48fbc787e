package kafkamode

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/metrics"
	"github.com/creditrisk/creditd/scoring"
)

// routePath is a request path of a route pattern with the path values
// filled in.
func routePath(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.NewReplacer("{uscc}", "914403001922038216", "{draw_id}", "d1", "{partition}", "0", "{$}", "").Replace(path)
	return method, path
}

// Every route answers a method it does not have with 405 and an Allow
// header naming the methods it has (RFC 9110 §15.5.6), in local and Kafka
// mode, and an unknown path still gets 404.
func TestWrongMethod405(t *testing.T) {
	eng, err := scoring.New(scoring.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Options{Config: &api.Config{MaxBody: 64 << 20, MaxIngest: 4}, Engine: eng, Metrics: metrics.New(),
		Tokens: &api.Tokens{}, Logger: slog.New(slog.DiscardHandler), DrawDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	km := &kafkaMode{s: srv}
	kafkaRoutes := Patterns()
	local := api.Patterns()
	for _, mode := range []struct {
		name   string
		h      http.Handler
		routes []string
	}{{"local", srv, local}, {"kafka", km.handler(), append(kafkaRoutes, local...)}} {
		// the methods each path has, across its patterns (GET brings HEAD)
		methods := map[string]map[string]bool{}
		for _, pattern := range mode.routes {
			method, path := routePath(pattern)
			if methods[path] == nil {
				methods[path] = map[string]bool{}
			}
			methods[path][method] = true
			if method == "GET" {
				methods[path]["HEAD"] = true
			}
		}
		// GET /v1/draws/{draw_id} matches /v1/draws/commitments and
		// /v1/draws/preview too
		for _, p := range []string{"/v1/draws/commitments", "/v1/draws/preview"} {
			if m := methods[p]; m != nil {
				m["GET"], m["HEAD"] = true, true
			}
		}
		for path, has := range methods {
			var allow, wrong []string
			for _, m := range []string{"GET", "HEAD", "POST"} {
				if has[m] {
					allow = append(allow, m)
				}
			}
			for _, m := range []string{"GET", "POST", "DELETE", "PUT", "PATCH"} {
				if !has[m] {
					wrong = append(wrong, m)
				}
			}
			want := strings.Join(allow, ", ")
			for _, m := range wrong {
				rec := httptest.NewRecorder()
				mode.h.ServeHTTP(rec, httptest.NewRequest(m, path, strings.NewReader("x")))
				if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != want {
					t.Errorf("%s: %s %s: %d Allow %q, want 405 Allow %q", mode.name, m, path, rec.Code, rec.Header().Get("Allow"), want)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("%s: %s %s: Content-Type %q", mode.name, m, path, ct)
				}
			}
		}
		rec := httptest.NewRecorder()
		mode.h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/nothing-here", nil))
		if rec.Code != http.StatusNotFound || rec.Header().Get("Allow") != "" {
			t.Errorf("%s: unknown path: %d Allow %q, want 404", mode.name, rec.Code, rec.Header().Get("Allow"))
		}
	}
}
