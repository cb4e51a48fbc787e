package api

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
	"go.yaml.in/yaml/v4"

	"github.com/creditrisk/creditd/cmd/creditd/internal/metrics"
	"github.com/creditrisk/creditd/scoring"
)

var update = flag.Bool("update", false, "regenerate openapi.json from docs/openapi.yaml")

const openAPIYAML = "../../../../docs/openapi.yaml"

// yamlAsJSON is docs/openapi.yaml converted to indented JSON.
func yamlAsJSON(t *testing.T) []byte {
	t.Helper()
	src, err := os.ReadFile(openAPIYAML)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("docs/openapi.yaml is not JSON-representable: %v", err)
	}
	return append(b, '\n')
}

// The embedded JSON served at GET /v1/openapi.json is exactly
// docs/openapi.yaml converted (regenerate with -update).
func TestOpenAPIJSONMatchesYAML(t *testing.T) {
	want := yamlAsJSON(t)
	if *update {
		if err := os.WriteFile("openapi.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(openAPIJSON, want) {
		t.Fatal("openapi.json differs from docs/openapi.yaml: run go test ./cmd/creditd/internal/api -run TestOpenAPIJSONMatchesYAML -update")
	}
}

// loadDoc loads and validates the embedded document.
func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPIJSON)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %s, want 3.1", doc.OpenAPI)
	}
	return doc
}

// Every operation names its roles (x-roles, from routeRoles) and its
// description says them; every error answer is problem+json.
func TestOpenAPIRolesAndProblems(t *testing.T) {
	doc := loadDoc(t)
	kafkaOnly := map[string]bool{"GET /v1/kafka/status": true, "GET /v1/kafka/partitions/{partition}/events": true}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			route := method + " " + strings.TrimSuffix(path, "/") + map[bool]string{true: "/{$}"}[path == "/"]
			var roles []string
			raw, _ := json.Marshal(op.Extensions["x-roles"])
			if err := json.Unmarshal(raw, &roles); err != nil || len(roles) == 0 {
				t.Errorf("%s: no x-roles", route)
				continue
			}
			if want, ok := routeRoles[route]; ok {
				var ws []string
				for _, r := range want {
					ws = append(ws, string(r))
				}
				if !reflect.DeepEqual(roles, ws) {
					t.Errorf("%s: x-roles %v, the server allows %v", route, roles, ws)
				}
			} else if !kafkaOnly[route] {
				t.Errorf("%s: in the document, not a route", route)
			}
			if !strings.Contains(op.Description, "Roles: ") {
				t.Errorf("%s: the description does not name the roles", route)
			}
			// public operations inherit the document's "no token or a
			// bearer token"; the others need the bearer token.
			needsToken := op.Security != nil && len(*op.Security) == 1 && (*op.Security)[0]["bearer"] != nil
			if public := roles[0] == "public"; needsToken == public || (public && op.Security != nil) {
				t.Errorf("%s: security %v for roles %v", route, op.Security, roles)
			}
			for code, resp := range op.Responses.Map() {
				if code[0] != '4' && code[0] != '5' && code != "default" {
					continue
				}
				// problem+json, and for pages people open (the verification
				// URL of a QR code) the page too.
				others := len(resp.Value.Content) - 1
				if resp.Value.Content.Get("text/html") != nil {
					others--
				}
				if resp.Value.Content.Get("application/problem+json") == nil || others != 0 {
					t.Errorf("%s %s: not problem+json", route, code)
				}
			}
		}
	}
}

// validateAnswer validates one answer of the real server against the
// document and returns the validation error.
func validateAnswer(t *testing.T, doc *openapi3.T, req *http.Request, rec *httptest.ResponseRecorder) error {
	t.Helper()
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return err
	}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: rec.Code, Header: rec.Header(), Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options: &openapi3filter.Options{IncludeResponseStatus: true}})
}

// The served document validates the server's real answers, and a
// deliberate mismatch (a field of the wrong type, a field the schema does
// not have, a status it does not list) fails validation.
func TestOpenAPIValidationCatchesMismatch(t *testing.T) {
	doc := loadDoc(t)
	eng, err := scoring.New(scoring.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Config: &Config{MaxBody: 1 << 20, MaxIngest: 1}, Engine: eng, Metrics: metrics.New(),
		Tokens: &Tokens{}, Logger: slog.New(slog.DiscardHandler), DrawDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (*http.Request, *httptest.ResponseRecorder) {
		req := httptest.NewRequest("GET", "http://creditd"+path, nil)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return req, rec
	}
	req, rec := get("/v1/openapi.json")
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), openAPIJSON) {
		t.Fatalf("GET /v1/openapi.json: %d", rec.Code)
	}
	if err := validateAnswer(t, doc, req, rec); err != nil {
		t.Fatalf("the real answer fails: %v", err)
	}
	req, rec = get("/healthz")
	if err := validateAnswer(t, doc, req, rec); err != nil {
		t.Fatalf("the real healthz answer fails: %v", err)
	}
	req, rec = get("/v1/stats/tiers")
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("stats without a token: %d", rec.Code)
	}
	if err := validateAnswer(t, doc, req, rec); err != nil {
		t.Fatalf("the real 401 fails: %v", err)
	}
	for _, bad := range []struct {
		name, path string
		status     int
		body       string
	}{
		{"wrong type", "/healthz", 200, `{"status":1}`},
		{"unknown member", "/healthz", 200, `{"status":"ok","tier":"A"}`},
		{"problem with a string status", "/v1/stats/tiers", 401, `{"type":"about:blank","title":"Unauthorized","status":"401"}`},
		{"undocumented status", "/healthz", 201, `{"status":"ok"}`},
	} {
		req, rec := get(bad.path)
		rec.Code = bad.status
		rec.Body = bytes.NewBufferString(bad.body)
		if err := validateAnswer(t, doc, req, rec); err == nil {
			t.Errorf("%s: %s validated", bad.name, bad.body)
		}
	}
}
