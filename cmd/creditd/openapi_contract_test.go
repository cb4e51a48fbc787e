package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/kafkamode"
)

// contractCheck validates every request and answer of service.do against
// the OpenAPI document the service serves (docs/openapi.yaml), so that
// the document cannot drift from the code.
var contractCheck = flag.Bool("openapi-contract", true, "validate the service tests' requests and answers against docs/openapi.yaml")

// contractPairs counts the request/answer pairs validated in this run,
// contractOps each operation's (by status; "-" for paths the document
// does not have).
var (
	contractPairs atomic.Int64
	contractMu    sync.Mutex
	contractOps   = map[string]int{}
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if *contractCheck && testing.Verbose() {
		fmt.Printf("openapi contract: %d request/answer pairs validated\n", contractPairs.Load())
		for _, op := range slices.Sorted(maps.Keys(contractOps)) {
			fmt.Printf("openapi contract: %5d %s\n", contractOps[op], op)
		}
	}
	os.Exit(code)
}

// contract is the loaded document and its router.
type contract struct {
	doc    *openapi3.T
	router routers.Router
}

var loadContract = sync.OnceValues(func() (*contract, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPIJSON())
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &contract{doc: doc, router: router}, nil
})

// streamDecoder takes a body the document declares as a string (NDJSON,
// HTML, Prometheus text) as it is.
func streamDecoder(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	b, err := io.ReadAll(body)
	return string(b), err
}

func init() {
	for _, mt := range []string{"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
		"application/jsonlines", "text/html", "application/openmetrics-text"} {
		openapi3filter.RegisterBodyDecoder(mt, streamDecoder)
	}
}

// teeBody records what the server read of a request body.
type teeBody struct {
	io.ReadCloser
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.mu.Lock()
	b.buf.Write(p[:n])
	b.mu.Unlock()
	return n, err
}

func (b *teeBody) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// checkContract validates one request (with the body bytes the server
// read) and its answer against the document:
//   - a request whose route is not in the document fails, unless the
//     server agrees (404 or 405 problem+json, itself validated);
//   - a request the document refuses must be refused (4xx), never done;
//   - the answer's status must be documented for the operation, and its
//     headers and body must match the schema of that status and media
//     type.
func checkContract(t testing.TB, req *http.Request, body []byte, resp *http.Response, answer []byte) {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatalf("openapi: %v", err)
	}
	if err := c.validate(req, body, resp, answer); err != nil {
		t.Errorf("openapi contract: %s %s → %d: %v", req.Method, req.URL.RequestURI(), resp.StatusCode, err)
	}
	contractPairs.Add(1)
	op := "-"
	if route, _, err := c.router.FindRoute(req); err == nil {
		op = route.Method + " " + route.Path
	}
	contractMu.Lock()
	contractOps[fmt.Sprintf("%s %d", op, resp.StatusCode)]++
	contractMu.Unlock()
}

func (c *contract) validate(req *http.Request, body []byte, resp *http.Response, answer []byte) error {
	ctx := context.Background()
	r := req.Clone(ctx)
	r.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := c.router.FindRoute(r)
	if err != nil {
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			return fmt.Errorf("not in docs/openapi.yaml: %w", err)
		}
		return c.validateProblem(resp, answer)
	}
	// A body without a Content-Type is read as the operation's
	// x-default-content-type, when the document says it has one.
	if rb := route.Operation.RequestBody; len(body) > 0 && r.Header.Get("Content-Type") == "" && rb != nil && rb.Value != nil {
		if ct, ok := rb.Value.Extensions["x-default-content-type"].(string); ok {
			r.Header.Set("Content-Type", ct)
		}
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
	if reqErr := openapi3filter.ValidateRequest(ctx, in); reqErr != nil && resp.StatusCode < 400 {
		return fmt.Errorf("a request the document refuses was answered %d: %w", resp.StatusCode, reqErr)
	}
	return openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(answer)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: req.Method == http.MethodHead}})
}

// validateProblem checks a 404 or 405 of a path the document does not
// have against the Problem schema.
func (c *contract) validateProblem(resp *http.Response, answer []byte) error {
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Errorf("%d not in the document, with Content-Type %q", resp.StatusCode, ct)
	}
	var v any
	if err := json.Unmarshal(answer, &v); err != nil {
		return err
	}
	return c.doc.Components.Schemas["Problem"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
}

// Every route the server registers (local and Kafka mode) is in the
// document, and every operation of the document is a route.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	var doc []string
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			if path == "/" {
				path = "/{$}"
			}
			doc = append(doc, method+" "+path)
		}
	}
	routes := append(api.Patterns(), kafkamode.Patterns()...)
	slices.Sort(routes)
	routes = slices.Compact(routes)
	slices.Sort(doc)
	if !slices.Equal(doc, routes) {
		t.Errorf("the document's operations:\n%s\nthe server's routes:\n%s", strings.Join(doc, "\n"), strings.Join(routes, "\n"))
	}
}

// The contract check fails on a deliberate mismatch: an answer with a
// field of the wrong type, a status the document does not list, a path it
// does not have, a request it refuses that the server would have done,
// and a public report or draw carrying tiers (the tier is internal:
// domain.md §2.1, §2.2).
func TestOpenAPIContractCatchesMismatch(t *testing.T) {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	answer := func(status int, ct string) *http.Response {
		return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {ct}}}
	}
	get := func(path string) *http.Request {
		r, _ := http.NewRequest("GET", "http://127.0.0.1"+path, nil)
		return r
	}
	// a public report, and the same with the assessment (the tier) only
	// the regulatory edition may carry
	report := `{"format":"credit-report/v1","report_id":"r","issuer":{"code":"37","name":"n","key_id":"k"},"edition":"%s","issued_at":"t",` +
		`"valid_until":"t","subject":{"uscc":"u","name":"n","region":"370100","entity_type":"e","registered_on":"d","status":"active"},"records":[]%s}`
	assessment := `,"assessment":{"as_of":"t","score":700,"tier":"B","tier_scheme":"national-4","model":"m","reasons":[]}`
	publicReport, leakyReport := fmt.Sprintf(report, "public", ""), fmt.Sprintf(report, "public", assessment)
	regulatoryReport := fmt.Sprintf(report, "regulatory", assessment)
	// a public draw/v2 record, and the same with the tiers
	drawRec := `{"format":"draw/v2","edition":"public","draw_id":"d","request":{"plan_id":"p","as_of":"t","allocation":{},"inspectors":{"pool":[]},"seed":"00"},"tier_scheme":"national-4","seed_committed_at":"t",` +
		`"key_commitment":"k","population_digest":"p","population_size":1,"sample_size":1,"strata":null,` +
		`"selected":[{"uscc":"u","region":"370100","inspectors":["I1"]}],"register_conflicts":[],"warnings":[]%s}`
	publicDraw, leakyDraw := fmt.Sprintf(drawRec, ""), fmt.Sprintf(drawRec, `,"tiers":[{"uscc":"u","tier":"A","priority":"00"}]`)
	good := []struct {
		req    *http.Request
		status int
		ct     string
		body   string
	}{
		{get("/healthz"), 200, "application/json", `{"status":"ok"}`},
		{get("/v1/stats/tiers/history"), 501, "application/problem+json", `{"type":"about:blank","title":"Not Implemented","status":501}`},
		{get("/v1/reports/914403001922038216"), 200, "application/json", publicReport},
		{get("/v1/reports/914403001922038216"), 200, "application/json", regulatoryReport},
		{get("/v1/draws/d"), 200, "application/json", publicDraw},
		{get("/v1/nope"), 404, "application/problem+json", `{"type":"about:blank","title":"Not Found","status":404,"instance":"/v1/nope"}`},
	}
	for _, g := range good {
		if err := c.validate(g.req, nil, answer(g.status, g.ct), []byte(g.body)); err != nil {
			t.Errorf("%s: a valid answer fails: %v", g.req.URL.Path, err)
		}
	}
	bad := []struct {
		name   string
		req    *http.Request
		status int
		ct     string
		body   string
	}{
		{"a field of the wrong type", get("/healthz"), 200, "application/json", `{"status":1}`},
		{"a readyz entities string", get("/readyz"), 200, "application/json", `{"status":"ready","entities":"12"}`},
		{"a tier stats line without its tier", get("/v1/stats/tiers"), 200, "application/json", `{"as_of":"x","tier_scheme":"s","region_prefix":"","entities":0,"definition":"d","tiers":[{"entities":0}]}`},
		{"an undocumented status", get("/healthz"), 202, "application/json", `{"status":"ok"}`},
		{"an undocumented media type", get("/healthz"), 200, "text/xml", `<ok/>`},
		{"a problem without a status", get("/v1/entities/914403001922038216"), 404, "application/problem+json", `{"type":"about:blank","title":"Not Found"}`},
		{"a path not in the document answered 200", get("/v1/secret"), 200, "application/json", `{}`},
		{"a 404 that is not problem+json", get("/v1/secret"), 404, "text/plain", `404 page not found`},
		{"a public report with the tier", get("/v1/reports/914403001922038216"), 200, "application/json", leakyReport},
		{"a public draw with the tiers", get("/v1/draws/d"), 200, "application/json", leakyDraw},
		{"a refused request done", get("/v1/draws"), 200, "application/json", `{"plan_id":"p","commitments":[],"draws":[]}`},
	}
	for _, b := range bad {
		if err := c.validate(b.req, nil, answer(b.status, b.ct), []byte(b.body)); err == nil {
			t.Errorf("%s: %s validated", b.name, b.body)
		}
	}
	// A draw request with a member the document does not have: refused
	// (400) it validates, done (201) it fails.
	post, _ := http.NewRequest("POST", "http://127.0.0.1/v1/draws", nil)
	body := []byte(`{"plan_id":"p","as_of":"t","allocation":{},"inspectors":{"pool":[]},"seed":"00","priority":"high"}`)
	problem := `{"type":"about:blank","title":"Bad Request","status":400}`
	if err := c.validate(post, body, answer(400, "application/problem+json"), []byte(problem)); err != nil {
		t.Errorf("a refused unknown member: %v", err)
	}
	if err := c.validate(post, body, answer(201, "application/json"), []byte(publicDraw)); err == nil {
		t.Error("a draw request with an unknown member answered 201 validated")
	}
}
