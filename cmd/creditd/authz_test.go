package main

import (
	"net/http"
	"strings"
	"testing"
)

// Every route with every role: 401 without a (valid) token where a role is
// needed, 403 for a role outside the route's, and nothing done.
func TestAuthorisationEveryRouteAndRole(t *testing.T) {
	s := startService(t, t.TempDir())
	s.tokens["bogus"] = "not-a-known-token-at-all"
	const code = "914403001922038216"
	event := `{"id":"AUTH-1","uscc":"` + code + `","type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"n","region":"440300","registered_on":"2020-01-01"}}` + "\n"
	routes := []struct {
		method, path string
		body         string
		allowed      []Role // empty: everyone
	}{
		{"GET", "/v1/entities/" + code, "", []Role{RoleRegulator, RolePeer}},
		{"GET", "/v1/reports/" + code, "", nil},
		{"GET", "/v1/reports/" + code + "?edition=regulatory", "", []Role{RoleRegulator, RolePeer}},
		{"GET", "/v1/keys", "", nil},
		{"POST", "/v1/events", event, []Role{RoleSource, RoleRegulator}},
		{"POST", "/v1/draws", `{}`, []Role{RoleRegulator}},
		{"POST", "/v1/draws/commitments", `{}`, []Role{RoleRegulator}},
		{"POST", "/v1/draws/nope/publish", ``, []Role{RoleRegulator}},
		{"GET", "/v1/draws/nope", "", nil},
		{"GET", "/v1/draws/nope/population", "", nil},
		{"GET", "/v1/stats/tiers", "", []Role{RoleRegulator}},
		{"GET", "/v1/stats/tiers/history", "", []Role{RoleRegulator}},
		{"GET", "/v1/stats/hit-rates", "", []Role{RoleRegulator}},
		{"GET", "/v1/stats/tier-changes", "", []Role{RoleRegulator}},
		{"GET", "/metrics", "", nil},
		{"GET", "/healthz", "", nil},
		{"GET", "/readyz", "", nil},
	}
	// Refused roles first, so that "nothing done" is checked before an allowed role acts.
	roles := []Role{RolePublic, "bogus", RolePeer, RoleSource, RoleRegulator}
	for _, rt := range routes {
		for _, role := range roles {
			// A forbidden POST /v1/events must apply nothing: check first.
			resp, body := s.do(rt.method, rt.path, role, strings.NewReader(rt.body))
			allowed := len(rt.allowed) == 0
			for _, a := range rt.allowed {
				allowed = allowed || a == role
			}
			switch {
			case role == "bogus":
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s %s with an unknown token: %d, want 401", rt.method, rt.path, resp.StatusCode)
				}
			case allowed:
				if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
					t.Errorf("%s %s as %s: %d %s, want access", rt.method, rt.path, role, resp.StatusCode, body)
				}
			case role == RolePublic:
				if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s as public: %d, want 401 with WWW-Authenticate", rt.method, rt.path, resp.StatusCode)
				}
			default:
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s %s as %s: %d, want 403", rt.method, rt.path, role, resp.StatusCode)
				}
			}
			if (resp.StatusCode == 401 || resp.StatusCode == 403) && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("%s %s: %d without problem+json", rt.method, rt.path, resp.StatusCode)
			}
			if rt.path == "/v1/events" && !allowed {
				if r, _ := s.do("GET", "/v1/entities/"+code, RoleRegulator, nil); r.StatusCode != http.StatusNotFound {
					t.Fatalf("a refused POST /v1/events as %s applied its event", role)
				}
			}
		}
	}
}
