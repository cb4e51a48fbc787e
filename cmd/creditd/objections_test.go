package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/models/objection"
	"github.com/creditrisk/creditd/models/workday"
)

const objUSCC = "914403001922038216"

// objectionKeys is the allow-list of the public objection answer: its own
// status, nothing about the entity's tier or score.
var objectionKeys = []string{"objection_id", "uscc", "record_id", "category", "status", "filed_at", "due_on",
	"due_provisional", "referred_at", "answered_at", "answer", "overdue"}

func decodeMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return m
}

// reportRecord returns the record id of a report, nil if absent.
func reportRecord(t *testing.T, rep map[string]any, id string) map[string]any {
	t.Helper()
	recs, _ := rep["records"].([]any)
	for _, r := range recs {
		if m := r.(map[string]any); m["id"] == id {
			return m
		}
	}
	return nil
}

// The objection flow over HTTP (domain.md §4.8; Shandong Social Credit
// Regulation Art. 39): filed with the query code of the report issued to
// the subject (no report anyone can fetch carries it), shown on both
// editions, answered upheld (the record is withdrawn and the score
// recomputed) and rejected after a referral (7 working days), and an
// objection past its deadline listed as overdue and counted in metrics.
func TestObjectionFlowOverHTTP(t *testing.T) {
	s := startService(t, t.TempDir())
	events := []string{
		`{"id":"OB-R","uscc":"` + objUSCC + `","type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"华为技术有限公司","region":"440300","registered_on":"1987-09-15"}}`,
		`{"id":"OB-P1","uscc":"` + objUSCC + `","type":"penalty","occurred_at":"2026-06-01T02:00:00Z","authority":"SAMR-440300","attrs":{"severity":"serious","decision_no":"深市监罚〔2026〕1号"}}`,
		`{"id":"OB-P2","uscc":"` + objUSCC + `","type":"penalty","occurred_at":"2026-06-02T02:00:00Z","authority":"SAMR-440300","attrs":{"severity":"general","decision_no":"深市监罚〔2026〕2号"}}`,
		`{"id":"OB-P3","uscc":"` + objUSCC + `","type":"penalty","occurred_at":"2026-01-05T02:00:00Z","authority":"SAMR-440300","attrs":{"severity":"general","decision_no":"深市监罚〔2026〕3号"}}`,
	}
	if res, code := s.postEvents(api.RoleSource, []byte(strings.Join(events, "\n")+"\n")); code != 200 || res.Applied != 4 {
		t.Fatalf("setup: %d %+v", code, res)
	}
	getReport := func(role api.Role, edition string) map[string]any {
		t.Helper()
		resp, b := s.do("GET", "/v1/reports/"+objUSCC+"?edition="+edition, role, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("report: %d %s", resp.StatusCode, b)
		}
		if edition == "public" {
			if err := checkPublicReport(b); err != nil {
				t.Fatal(err)
			}
		}
		return decodeMap(t, b)
	}
	score := func() float64 {
		t.Helper()
		_, b := s.do("GET", "/v1/entities/"+objUSCC, api.RoleRegulator, nil)
		return decodeMap(t, b)["score"].(float64)
	}
	pub := getReport(api.RolePublic, "public")
	if _, ok := pub["query_code"]; ok || reportRecord(t, pub, "OB-P1")["objection"] != nil {
		t.Fatalf("public report: query code %v, P1 %v", pub["query_code"], reportRecord(t, pub, "OB-P1"))
	}
	if reg := getReport(api.RoleRegulator, "regulatory"); reg["query_code"] != nil {
		t.Fatalf("the regulatory edition carries query code %v", reg["query_code"])
	}
	// The code comes with the report the front desk issues to the subject.
	qc := issuedQueryCode(t, s, objUSCC)
	file := func(record, code string) (*http.Response, map[string]any) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"uscc": objUSCC, "query_code": code, "record_id": record, "reason": "处罚决定已被复议撤销"})
		resp, b := s.do("POST", "/v1/objections", api.RolePublic, bytes.NewReader(body))
		return resp, decodeMap(t, b)
	}
	// A wrong query code, a record not on the report, bad bodies.
	if resp, _ := file("OB-P1", "0000000000000000"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong query code: %d", resp.StatusCode)
	}
	if resp, _ := file("OB-R", qc); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the registration as a record: %d", resp.StatusCode)
	}
	for _, bad := range []string{`{}`, `{"uscc":"x"`, `{"uscc":"` + objUSCC + `","query_code":"` + qc + `","record_id":"OB-P1","reason":"r","extra":1}`,
		`{"uscc":"` + objUSCC + `","query_code":"` + qc + `","record_id":"OB-P1","reason":"` + strings.Repeat("长", 400) + `"}`} {
		if resp, b := s.do("POST", "/v1/objections", api.RolePublic, strings.NewReader(bad)); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("bad body %.60s: %d %s", bad, resp.StatusCode, b)
		}
	}

	// Filed: pending, due on the 3rd working day after the filing's date.
	before := score()
	resp, o1 := file("OB-P1", strings.ToLower(qc))
	if resp.StatusCode != http.StatusCreated || o1["status"] != "pending" || o1["record_id"] != "OB-P1" || o1["overdue"] != false {
		t.Fatalf("filing: %d %v", resp.StatusCode, o1)
	}
	filedAt, _ := time.Parse(time.RFC3339, o1["filed_at"].(string))
	cal := workday.New()
	due, _ := objection.Deadline(cal, filedAt, false)
	if o1["due_on"] != due.String() || cal.Between(due-10, due) == 0 {
		t.Fatalf("due_on %v, want %s", o1["due_on"], due)
	}
	if resp, _ := file("OB-P1", qc); resp.StatusCode != http.StatusConflict {
		t.Fatalf("second objection to the same record: %d", resp.StatusCode)
	}
	id1 := o1["objection_id"].(string)

	// Under objection on both editions; the score is unchanged.
	for _, ed := range []struct {
		role    api.Role
		edition string
	}{{api.RolePublic, "public"}, {api.RoleRegulator, "regulatory"}} {
		ob, _ := reportRecord(t, getReport(ed.role, ed.edition), "OB-P1")["objection"].(map[string]any)
		if ob["status"] != "under_objection" || ob["due_on"] != due.String() || ob["filed_on"] == nil {
			t.Fatalf("%s edition: objection %v", ed.edition, ob)
		}
	}
	if score() != before {
		t.Fatal("filing an objection changed the score")
	}
	// The public status answer: that objection only, keys on the allow-list.
	resp, b := s.do("GET", "/v1/objections/"+id1, api.RolePublic, nil)
	st := decodeMap(t, b)
	if resp.StatusCode != 200 || st["status"] != "pending" {
		t.Fatalf("status: %d %s", resp.StatusCode, b)
	}
	for k := range st {
		if !slices.Contains(objectionKeys, k) {
			t.Fatalf("public objection answer has %q", k)
		}
	}
	if resp, _ := s.do("GET", "/v1/objections/OBJ-"+objUSCC+"-AAAAAAAAAAAAAAAA", api.RolePublic, nil); resp.StatusCode != 404 {
		t.Fatalf("unknown objection: %d", resp.StatusCode)
	}

	// Upheld: the record is withdrawn, the score recomputed.
	answer := func(id, outcome string) (int, map[string]any) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"outcome": outcome, "reasons": "经核实，" + outcome})
		resp, b := s.do("POST", "/v1/objections/"+id+"/answer", api.RoleRegulator, bytes.NewReader(body))
		return resp.StatusCode, decodeMap(t, b)
	}
	if code, a := answer(id1, "upheld"); code != http.StatusCreated || a["status"] != "upheld" || a["answer"] != "经核实，upheld" {
		t.Fatalf("upheld: %d %v", code, a)
	}
	if code, _ := answer(id1, "rejected"); code != http.StatusConflict {
		t.Fatalf("second answer: %d", code)
	}
	if after := score(); after <= before {
		t.Fatalf("score after the serious penalty was withdrawn: %v, before %v", after, before)
	}
	if r := reportRecord(t, getReport(api.RolePublic, "public"), "OB-P1"); r != nil {
		t.Fatalf("a withdrawn record is still on the report: %v", r)
	}
	_, b = s.do("GET", "/v1/entities/"+objUSCC+"?records=1", api.RoleRegulator, nil)
	for _, h := range decodeMap(t, b)["history"].([]any) {
		if h := h.(map[string]any); h["id"] == "OB-P1" && (h["status"] != "withdrawn" || h["points"].(float64) != 0) {
			t.Fatalf("P1 in the entity view: %v", h)
		}
	}

	// Referred (7 working days), then rejected: the record stands.
	_, o2 := file("OB-P2", qc)
	id2 := o2["objection_id"].(string)
	due7, _ := objection.Deadline(cal, filedAt, true)
	if code, a := answer(id2, "referred"); code != http.StatusCreated || a["status"] != "referred" || a["due_on"] != due7.String() {
		t.Fatalf("referred: %d %v (want due %s)", code, a, due7)
	}
	if code, a := answer(id2, "rejected"); code != http.StatusCreated || a["status"] != "rejected" {
		t.Fatalf("rejected: %d %v", code, a)
	}
	for _, ed := range []string{"public", "regulatory"} {
		rec := reportRecord(t, getReport(api.RoleRegulator, ed), "OB-P2")
		ob, _ := rec["objection"].(map[string]any)
		if rec["status"] != "active" || ob["status"] != "rejected" || ob["answered_on"] == nil || ob["due_on"] != nil {
			t.Fatalf("%s edition after rejection: %v", ed, rec)
		}
	}

	// An objection from a source system, filed on Thu 12 Feb 2026 (CST):
	// due Tue 24 Feb (Fri 13 = 1, Sat 14 make-up workday = 2, 15–23 off,
	// Tue 24 = 3; 国办发明电〔2025〕7号), long overdue.
	old := `{"id":"OBJ-` + objUSCC + `-OLD0000000000000","uscc":"` + objUSCC + `","type":"objection_filed","occurred_at":"2026-02-12T02:00:00Z","authority":"SAMR-440300","attrs":{"ref":"OB-P3","reason":"r"}}`
	if res, code := s.postEvents(api.RoleSource, []byte(old+"\n")); code != 200 || res.Applied != 1 {
		t.Fatalf("old objection: %d %+v", code, res)
	}
	resp, b = s.do("GET", "/v1/objections?overdue=true", api.RoleRegulator, nil)
	var q api.ObjectionQueue
	if err := json.Unmarshal(b, &q); err != nil || resp.StatusCode != 200 {
		t.Fatalf("queue: %d %s", resp.StatusCode, b)
	}
	if q.Open != 1 || q.Overdue != 1 || len(q.Objections) != 1 || q.Objections[0].DueOn != "2026-02-24" || !q.Objections[0].Overdue ||
		q.Objections[0].RecordID != "OB-P3" || q.Objections[0].Authority != "SAMR-440300" {
		t.Fatalf("overdue queue: %s", b)
	}
	_, b = s.do("GET", "/v1/objections?status=all", api.RoleRegulator, nil)
	if err := json.Unmarshal(b, &q); err != nil || len(q.Objections) != 3 {
		t.Fatalf("all objections: %s", b)
	}
	_, b = s.do("GET", "/metrics", api.RolePublic, nil)
	if !bytes.Contains(b, []byte("\ncreditd_objections_overdue 1\n")) || !bytes.Contains(b, []byte("\ncreditd_objections_open 1\n")) {
		t.Fatal("metrics do not count the overdue objection")
	}
	// The state survives a restart (the events were logged before applied).
	data := s.data
	s.stop()
	s2 := startService(t, data)
	_, b = s2.do("GET", "/v1/objections?status=all", api.RoleRegulator, nil)
	if err := json.Unmarshal(b, &q); err != nil || len(q.Objections) != 3 || q.Overdue != 1 {
		t.Fatalf("after restart: %s", b)
	}
}

// In Kafka mode the objection routes produce their events to the source
// topic (202) and the partition's owner applies them: filed, then upheld,
// as seen through the public status route and the report.
func TestObjectionFlowKafka(t *testing.T) {
	s, _ := startKafkaService(t)
	events := `{"id":"OK-R","uscc":"` + objUSCC + `","type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"n","region":"440300","registered_on":"1987-09-15"}}
{"id":"OK-P1","uscc":"` + objUSCC + `","type":"penalty","occurred_at":"2026-06-01T02:00:00Z","authority":"SAMR-440300","attrs":{"severity":"serious","decision_no":"d"}}
`
	if resp, b := s.do("POST", "/v1/events", api.RoleSource, strings.NewReader(events), "Content-Type", "application/x-ndjson"); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("events: %d %s", resp.StatusCode, b)
	}
	waitUntil(t, "the penalty applied", 30*time.Second, func() bool {
		resp, b := s.do("GET", "/v1/reports/"+objUSCC, api.RolePublic, nil)
		return resp.StatusCode == 200 && reportRecord(t, decodeMap(t, b), "OK-P1") != nil
	})
	// The issuing route goes to the partition's owner like any report.
	qc := issuedQueryCode(t, s, objUSCC)
	body, _ := json.Marshal(map[string]string{"uscc": objUSCC, "query_code": qc, "record_id": "OK-P1", "reason": "r"})
	resp, b := s.do("POST", "/v1/objections", api.RolePublic, bytes.NewReader(body))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("filing: %d %s", resp.StatusCode, b)
	}
	id := decodeMap(t, b)["objection_id"].(string)
	status := func() string {
		_, b := s.do("GET", "/v1/objections/"+id, api.RolePublic, nil)
		st, _ := decodeMap(t, b)["status"].(string)
		return st
	}
	waitUntil(t, "the objection applied", 30*time.Second, func() bool { return status() == "pending" })
	_, b = s.do("GET", "/v1/reports/"+objUSCC, api.RolePublic, nil)
	if ob, _ := reportRecord(t, decodeMap(t, b), "OK-P1")["objection"].(map[string]any); ob["status"] != "under_objection" {
		t.Fatalf("report: %s", b)
	}
	resp, b = s.do("POST", "/v1/objections/"+id+"/answer", api.RoleRegulator, strings.NewReader(`{"outcome":"upheld","reasons":"撤销"}`))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("answer: %d %s", resp.StatusCode, b)
	}
	waitUntil(t, "the answer applied", 30*time.Second, func() bool { return status() == "upheld" })
	_, b = s.do("GET", "/v1/objections?status=all", api.RoleRegulator, nil)
	var q api.ObjectionQueue
	if err := json.Unmarshal(b, &q); err != nil || len(q.Objections) != 1 || q.Objections[0].Status != "upheld" {
		t.Fatalf("queue: %s", b)
	}
}
