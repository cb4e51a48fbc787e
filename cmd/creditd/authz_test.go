package main

import (
	"errors"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/feeds/deadletter"
	kf "github.com/creditrisk/creditd/feeds/kafka"
)

// authzRoute is one route with the roles allowed on it (empty: everyone).
type authzRoute struct {
	method, path string
	body         string
	allowed      []api.Role
}

const authzUSCC = "914403001922038216"

// authzRoutes are the routes of both modes. event is a valid event line
// plus a bad one, so that a POST that were carried out would apply or
// produce one event and dead-letter one line.
func authzRoutes() []authzRoute {
	event := `{"id":"AUTH-1","uscc":"` + authzUSCC + `","type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"n","region":"440300","registered_on":"2020-01-01"}}` + "\nnot json\n"
	return []authzRoute{
		{"GET", "/v1/entities/" + authzUSCC, "", []api.Role{api.RoleRegulator, api.RolePeer}},
		{"GET", "/v1/reports/" + authzUSCC, "", nil},
		{"GET", "/v1/reports/" + authzUSCC + "?edition=regulatory", "", []api.Role{api.RoleRegulator, api.RolePeer}},
		{"POST", "/v1/reports/" + authzUSCC + "/issue", "", []api.Role{api.RoleRegulator}},
		{"GET", "/v1/reports/verify/37-06EAGTAGFCJPNJKXHJFJM6G9VXVDQPGB?uscc=" + authzUSCC + "&d=Qr-OYV5rIWHupjhVaa9gvw", "", nil},
		{"GET", "/v1/keys", "", nil},
		{"GET", "/v1/openapi.json", "", nil},
		{"POST", "/v1/events", event, []api.Role{api.RoleSource, api.RoleRegulator}},
		{"POST", "/v1/draws", `{}`, []api.Role{api.RoleRegulator}},
		{"POST", "/v1/draws/commitments", `{}`, []api.Role{api.RoleRegulator}},
		{"POST", "/v1/draws/nope/publish", ``, []api.Role{api.RoleRegulator}},
		{"GET", "/v1/draws/nope", "", nil},
		{"GET", "/v1/draws/nope/population", "", nil},
		{"GET", "/v1/draws/nope/amendments", "", nil},
		{"POST", "/v1/draws/nope/recusals", `{}`, []api.Role{api.RoleRegulator}},
		{"GET", "/v1/draws?plan_id=nope", "", nil},
		{"GET", "/v1/draws/conflicts", "", []api.Role{api.RoleRegulator}},
		{"POST", "/v1/draws/conflicts", `[]`, []api.Role{api.RoleRegulator}},
		{"GET", "/v1/stats/tiers", "", []api.Role{api.RoleRegulator}},
		{"GET", "/v1/stats/tiers/history", "", []api.Role{api.RoleRegulator}},
		{"GET", "/v1/stats/hit-rates", "", []api.Role{api.RoleRegulator}},
		{"GET", "/v1/stats/tier-changes", "", []api.Role{api.RoleRegulator}},
		{"POST", "/v1/objections", `{}`, nil},
		{"GET", "/v1/objections/OBJ-nope", "", nil},
		{"GET", "/v1/objections", "", []api.Role{api.RoleRegulator}},
		{"POST", "/v1/objections/OBJ-nope/answer", `{"outcome":"upheld","reasons":"r"}`, []api.Role{api.RoleRegulator}},
		{"GET", "/v1/measures/changes?since=2020-01-01T00:00:00Z", "", []api.Role{api.RoleRegulator, api.RolePeer}},
		{"GET", "/v1/stats/challenger", "", []api.Role{api.RoleRegulator}},
		{"GET", "/v1/stats/challenger/metrics", "", []api.Role{api.RoleRegulator}},
		{"GET", "/metrics", "", nil},
		{"GET", "/healthz", "", nil},
		{"GET", "/readyz", "", nil},
	}
}

// checkAuthz calls every route as every caller — anonymous, an unknown
// token, peer, source, regulator; refused callers first, so that "nothing
// done" is checked before an allowed caller acts — and wants 401 (no or
// unknown token) or 403 (wrong role) with problem+json where the route is
// not allowed. After each refused call, refusedDidNothing checks that the
// call had no effect.
func checkAuthz(t *testing.T, s *service, routes []authzRoute, refusedDidNothing func(rt authzRoute, role api.Role)) {
	t.Helper()
	s.tokens["bogus"] = "not-a-known-token-at-all"
	roles := []api.Role{api.RolePublic, "bogus", api.RolePeer, api.RoleSource, api.RoleRegulator}
	for _, rt := range routes {
		for _, role := range roles {
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
			case role == api.RolePublic:
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
			if !allowed || role == "bogus" {
				refusedDidNothing(rt, role)
			}
		}
	}
}

// Every route with every role in local mode: 401 without a (valid) token
// where a role is needed, 403 for a role outside the route's, and nothing
// done.
func TestAuthorisationEveryRouteAndRole(t *testing.T) {
	s := startService(t, t.TempDir())
	checkAuthz(t, s, authzRoutes(), func(rt authzRoute, role api.Role) {
		if rt.path != "/v1/events" {
			return
		}
		if r, _ := s.do("GET", "/v1/entities/"+authzUSCC, api.RoleRegulator, nil); r.StatusCode != http.StatusNotFound {
			t.Fatalf("a refused POST /v1/events as %s applied its event", role)
		}
		if n := deadLetterCount(t, s); n != 0 {
			t.Fatalf("a refused POST /v1/events as %s wrote %d dead letters", role, n)
		}
	})
}

// The same in Kafka mode, with its own routes (docs/kafka.md): a refused
// POST /v1/events produces nothing to the events topic and nothing to the
// dead-letter topic.
func TestAuthorisationEveryRouteAndRoleKafka(t *testing.T) {
	s, brokers := startKafkaService(t)
	routes := append(authzRoutes(),
		authzRoute{"GET", "/v1/kafka/status", "", nil},
		authzRoute{"GET", "/v1/kafka/partitions/0/events", "", []api.Role{api.RoleRegulator}},
		authzRoute{"GET", "/", "", nil},
	)
	produced := func() (events, letters int) {
		return len(readAll(t, brokers, kf.DefaultTopic)), len(readAll(t, brokers, kf.DefaultDeadLetterTopic))
	}
	checkAuthz(t, s, routes, func(rt authzRoute, role api.Role) {
		if rt.path != "/v1/events" {
			return
		}
		if ev, dl := produced(); ev != 0 || dl != 0 {
			t.Fatalf("a refused POST /v1/events as %s produced %d events and %d dead letters", role, ev, dl)
		}
	})
	// The allowed callers' POSTs did produce (source, then regulator: one
	// event and one dead letter each), so the check above could fail.
	if ev, dl := produced(); ev != 2 || dl != 2 {
		t.Errorf("allowed POSTs produced %d events and %d dead letters, want 2 and 2", ev, dl)
	}
}

// deadLetterCount is the number of dead letters in the data directory.
func deadLetterCount(t *testing.T, s *service) int {
	t.Helper()
	letters, err := deadletter.ReadFile(filepath.Join(s.data, "deadletters", "deadletters.ndjson"))
	if errors.Is(err, fs.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(letters)
}
