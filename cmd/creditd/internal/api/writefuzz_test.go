package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/models/workday"
	"github.com/creditrisk/creditd/sampler/samplertest"
)

// The fixture and the answer checks shared by the fuzz targets of the
// write routes that take a JSON body (objectionfuzz_test.go,
// drawfuzz_test.go).

// writeServer is an ingestServer that also issues reports with query
// codes (the issuer has a query key and a calendar) and keeps draws.
type writeServer struct {
	*ingestServer
	code     uscc.Code
	queryKey []byte
}

func newWriteServer(t testing.TB) *writeServer {
	t.Helper()
	s := newIngestServer(t, testConfig())
	iss := testIssuer(t, 7)
	iss.QueryKey = bytes.Repeat([]byte{0x5a}, 32)
	iss.Calendar = workday.New()
	s.issuer, s.cal = iss, iss.Calendar
	var err error
	if s.draws, err = newDrawService(t.TempDir(), s.eng, s.cfg, s.m, s.logger); err != nil {
		t.Fatal(err)
	}
	// the entity whose records the objection targets object to
	code := samplertest.USCC(1, '1', [6]byte([]byte("370102")))
	w := &writeServer{ingestServer: s, code: code, queryKey: iss.QueryKey}
	w.events(t, registered(code, "R-0"))
	return w
}

// registered is the registration event of code, with event id id.
func registered(code uscc.Code, id string) string {
	return fmt.Sprintf(`{"id":%q,"uscc":%q,"type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"测试有限公司","region":%q,"registered_on":"2019-12-30"}}`,
		id, code.String(), code.String()[2:8])
}

// penalty is a general penalty of code, decided yesterday (public now).
func penalty(code uscc.Code, id string) string {
	return fmt.Sprintf(`{"id":%q,"uscc":%q,"type":"penalty","occurred_at":%q,"authority":"SAMR-370102","attrs":{"severity":"general","decision_no":%q}}`,
		id, code.String(), time.Now().Add(-24*time.Hour).UTC().Format(time.RFC3339), "济市监罚〔2026〕"+id)
}

// events applies lines through POST /v1/events and fails unless all are
// applied.
func (s *writeServer) events(t testing.TB, lines ...string) {
	t.Helper()
	rec := postTo(s, RoleSource, []byte(strings.Join(lines, "\n")+"\n"))
	var a eventsAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); rec.Code != http.StatusOK || err != nil || a.Applied != len(lines) {
		t.Fatalf("setup events: %d %s", rec.Code, rec.Body)
	}
}

// do sends method path with body as role (RolePublic: no token).
func (s *writeServer) do(method, path string, role Role, body []byte) *httptest.ResponseRecorder {
	return requestTo(s, method, path, role, body)
}

// issuedQueryCode issues code's report to its subject over POST
// /v1/reports/{uscc}/issue and returns the query code it carries.
func (s *writeServer) issuedQueryCode(t testing.TB, code uscc.Code) string {
	t.Helper()
	rec := s.do("POST", "/v1/reports/"+code.String()+"/issue", RoleRegulator, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("issue: %d %s", rec.Code, rec.Body)
	}
	rep, err := report.Parse(rec.Body.Bytes())
	if err != nil || rep.QueryCode == "" {
		t.Fatalf("issued report: %v, query code %q", err, rep.QueryCode)
	}
	return rep.QueryCode
}

// checkAnswer checks what every answer of a write route must be: no 5xx;
// an error is problem+json whose status is the answer's and whose detail
// says what was wrong; anything else is one JSON value. It returns the
// problem (nil for a success).
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder) *Problem {
	t.Helper()
	body := rec.Body.Bytes()
	if rec.Code >= 500 || rec.Code < 200 {
		t.Fatalf("status %d: %s", rec.Code, body)
	}
	if rec.Code < 400 {
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" || !json.Valid(body) {
			t.Fatalf("%d answer of type %q: %.300s", rec.Code, ct, body)
		}
		return nil
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%d answer of type %q: %.300s", rec.Code, ct, body)
	}
	var p Problem
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || dec.More() {
		t.Fatalf("problem: %v: %.300s", err, body)
	}
	if p.Status != rec.Code || p.Title != http.StatusText(rec.Code) || p.Type != "about:blank" ||
		len(strings.TrimSpace(p.Detail)) < 8 || !utf8.ValidString(p.Detail) {
		t.Fatalf("problem %+v for status %d", p, rec.Code)
	}
	return &p
}

// The oracle of the request bodies, written apart from the handlers'
// decoding: a body is accepted only as one JSON value (whitespace around
// it) and, where an object is wanted, an object (or null, which sets
// nothing) whose members are all known (names match case-insensitively,
// as encoding/json matches struct fields) and are strings or null (null
// leaves the member as it was; a later duplicate overrides an earlier).

// bodyObject reads one object of the named string members from dec.
func bodyObject(dec *json.Decoder, names ...string) (map[string]string, bool) {
	tok, err := dec.Token()
	if err != nil {
		return nil, false
	}
	if tok == nil {
		return map[string]string{}, true
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, false
	}
	out := map[string]string{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, false
		}
		name := ""
		for _, n := range names {
			if strings.EqualFold(k.(string), n) {
				name = n
			}
		}
		v, err := dec.Token()
		if name == "" || err != nil {
			return nil, false
		}
		switch v := v.(type) {
		case string:
			out[name] = v
		case nil:
		default:
			return nil, false
		}
	}
	_, err = dec.Token()
	return out, err == nil
}

// wantObject is bodyObject over a whole body.
func wantObject(body []byte, names ...string) (map[string]string, bool) {
	if !json.Valid(body) {
		return nil, false
	}
	return bodyObject(json.NewDecoder(bytes.NewReader(body)), names...)
}

// wantArray reads a whole body that must be a JSON array (or null) of
// objects of the named string members; a null element is an empty object.
func wantArray(body []byte, names ...string) ([]map[string]string, bool) {
	if !json.Valid(body) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return nil, err == nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, false
	}
	var out []map[string]string
	for dec.More() {
		m, ok := bodyObject(dec, names...)
		if !ok {
			return nil, false
		}
		out = append(out, m)
	}
	return out, true
}

// commitAndDraw commits a seed for plan, waits for the next second (a
// draw's as_of must follow its commitment) and runs a draw of the 37
// province with a pool of inspectors, per_entity of them each.
func (s *writeServer) commitAndDraw(t testing.TB, plan string, poolSize, perEntity int) *draw.V2 {
	t.Helper()
	seed := strings.Repeat("5e", 16)
	sb, _ := hex.DecodeString(seed)
	sum := sha256.Sum256(sb)
	if rec := s.do("POST", "/v1/draws/commitments", RoleRegulator, []byte(`{"plan_id":"`+plan+`","seed_commitment":"`+hex.EncodeToString(sum[:])+`"}`)); rec.Code != http.StatusCreated {
		t.Fatalf("commit: %d %s", rec.Code, rec.Body)
	}
	asOf := time.Now().Add(time.Second).Truncate(time.Second)
	time.Sleep(time.Until(asOf) + 10*time.Millisecond)
	var pool strings.Builder
	for i := range poolSize {
		if i > 0 {
			pool.WriteByte(',')
		}
		fmt.Fprintf(&pool, `{"id":"INS-%02d"}`, i)
	}
	req := fmt.Sprintf(`{"plan_id":%q,"as_of":%q,"population":{"region_prefix":"37"},
 "allocation":{"ratios":{"A":0.5,"B":0.5,"C":0.5,"D":0.5}},
 "inspectors":{"pool":[%s],"per_entity":%d},"seed":%q}`, plan, asOf.UTC().Format(time.RFC3339), pool.String(), perEntity, seed)
	rec := s.do("POST", "/v1/draws", RoleRegulator, []byte(req))
	if rec.Code != http.StatusCreated {
		t.Fatalf("draw: %d %s", rec.Code, rec.Body)
	}
	v, err := draw.ParseV2(rec.Body.Bytes())
	if err != nil || len(v.Selected) == 0 {
		t.Fatalf("draw record: %v, %d selected", err, len(v.Selected))
	}
	return v
}
