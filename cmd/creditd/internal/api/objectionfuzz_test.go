package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/objection"
	"github.com/creditrisk/creditd/scoring"
)

// objectionQueue is every objection the engine holds, answered or not,
// keyed by id, each as its JSON: what a rejected request must not change.
func (s *writeServer) objectionQueue(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := s.eng.Objections(context.Background(), time.Now().Add(time.Hour), false, func(v *scoring.ObjectionView) error {
		b, err := json.Marshal(v)
		out[v.ID] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// changedObjections returns the ids whose JSON differs between before and
// after (added, removed or changed), sorted.
func changedObjections(before, after map[string]string) []string {
	var ids []string
	for id, a := range after {
		if before[id] != a {
			ids = append(ids, id)
		}
	}
	for id := range before {
		if _, ok := after[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// objectionAnswer decodes a 201 objection answer strictly and checks that
// its id names the entity (IDUSCC round trip) and that GET
// /v1/objections/{id} answers the same.
func (s *writeServer) objectionAnswer(t *testing.T, body []byte) ObjectionStatus {
	t.Helper()
	var st ObjectionStatus
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	if u, ok := objection.IDUSCC(st.ObjectionID); !ok || u != s.code.String() || st.USCC != u {
		t.Fatalf("objection id %q names %q (%v), the answer %q, filed for %s", st.ObjectionID, u, ok, st.USCC, s.code)
	}
	rec := s.do("GET", "/v1/objections/"+url.PathEscape(st.ObjectionID), RolePublic, nil)
	var got ObjectionStatus
	if err := json.Unmarshal(rec.Body.Bytes(), &got); rec.Code != http.StatusOK || err != nil || got != st {
		t.Fatalf("GET the objection: %d %s, the answer was %+v", rec.Code, rec.Body, st)
	}
	return st
}

// wantFiled checks a filing's answer against the objection the queue
// gained, and the deadline against the calendar's.
func (s *writeServer) wantFiled(t *testing.T, st ObjectionStatus, record, reason string, before, after map[string]string) {
	t.Helper()
	if ch := changedObjections(before, after); len(ch) != 1 || ch[0] != st.ObjectionID || before[st.ObjectionID] != "" {
		t.Fatalf("filing %s changed the objections %v", st.ObjectionID, ch)
	}
	var v scoring.ObjectionView
	if err := json.Unmarshal([]byte(after[st.ObjectionID]), &v); err != nil {
		t.Fatal(err)
	}
	filed, err := time.Parse(time.RFC3339, st.FiledAt)
	due, _ := objection.Deadline(s.cal, filed, false)
	if err != nil || st.Status != scoring.ObjectionPending || st.RecordID != record || v.Record != record || v.Reason != reason ||
		v.Status != scoring.ObjectionPending || st.DueOn != due.String() || st.Answer != "" || st.AnsweredAt != "" {
		t.Fatalf("filed %+v, queued %+v; want record %q, reason %q, due %s", st, v, record, reason, due)
	}
}

// answerBody is an answer's JSON body.
func answerBody(outcome, reasons string) []byte {
	b, _ := json.Marshal(map[string]string{"outcome": outcome, "reasons": reasons})
	return b
}

// fileBody is a filing's JSON body.
func fileBody(code, qc, record, reason string) []byte {
	b, _ := json.Marshal(map[string]string{"uscc": code, "query_code": qc, "record_id": record, "reason": reason})
	return b
}

// fileNew adds a fresh penalty record and files an objection to it,
// returning the objection's id.
func (s *writeServer) fileNew(t testing.TB, qc string, n *int) string {
	t.Helper()
	*n++
	record := "P-N" + strconv.Itoa(*n)
	s.events(t, penalty(s.code, record))
	rec := s.do("POST", "/v1/objections", RolePublic, fileBody(s.code.String(), qc, record, "复议已撤销"))
	var st ObjectionStatus
	if err := json.Unmarshal(rec.Body.Bytes(), &st); rec.Code != http.StatusCreated || err != nil {
		t.Fatalf("filing on %s: %d %s", record, rec.Code, rec.Body)
	}
	return st.ObjectionID
}

// objection request seeds shared by both targets: hostile bodies.
var hostileBodies = []string{
	"", "null", "{}", "[]", `"s"`, "1e999", "{", "{}}", "{}]", "{} {}", "\x00", "\xff\xfe{}", `{"a":1}`,
	strings.Repeat("[", 10000), strings.Repeat(" ", objectionBodyMax+1) + "{}",
}

// Arbitrary bodies through POST /v1/objections ("$QC" in a body stands
// for the query code of the report issued to the entity): never a panic
// or a 5xx, well-formed answers; a refused filing changes no objection
// and applies no event, with the status the oracle predicts (413 over the
// bound, 400 for a bad body or reason, 403 for a code that is not the
// entity's, 404 for a record not on its report, 409 for a record already
// under objection); an accepted one is 201 with one new pending objection
// to the record named, with the reason given, its id naming the entity,
// readable at GET /v1/objections/{id}, and one event applied.
func FuzzObjectionFile(f *testing.F) {
	s := newWriteServer(f)
	code := s.code.String()
	qc := s.issuedQueryCode(f, s.code)
	if qc != objection.QueryCode(s.queryKey, s.code) {
		f.Fatalf("issued query code %s is not the entity's", qc)
	}
	s.events(f, penalty(s.code, "P-1"), penalty(s.code, "P-2"), penalty(s.code, "P-OPEN"))
	if rec := s.do("POST", "/v1/objections", RolePublic, fileBody(code, qc, "P-OPEN", "已整改")); rec.Code != http.StatusCreated {
		f.Fatalf("setup filing: %d %s", rec.Code, rec.Body)
	}
	objectable := map[string]int{"P-1": http.StatusCreated, "P-2": http.StatusCreated, "P-OPEN": http.StatusConflict}

	valid := string(fileBody(code, "$QC", "P-1", "处罚决定已被复议撤销"))
	for _, seed := range append([]string{
		valid,
		string(fileBody(strings.ToLower(code), strings.ToLower("$QC"), "P-2", " r ")),
		string(fileBody(code, "$QC", "P-OPEN", "again")),
		string(fileBody(code, "$QC", "R-0", "the registration is no record")),
		string(fileBody(code, "$QC", "P-404", "unknown record")),
		string(fileBody(code, "0000000000000000", "P-1", "wrong query code")),
		string(fileBody(code, "$QC", "P-1", " \t\n")),
		string(fileBody(code, "$QC", "P-1", strings.Repeat("长", maxReasonBytes/3+1))),
		string(fileBody(code, "$QC", "P-1", strings.Repeat("x", maxReasonBytes))),
		string(fileBody("91370102000000000X", "$QC", "P-1", "bad uscc")),
		string(fileBody(code, "$QC", "P-1", "nul \x00 byte")),
		`{"uscc":"` + code + `","query_code":"$QC","record_id":"P-1","reason":"\ud800 lone surrogate"}`,
		`{"uscc":"` + code + `","query_code":"$QC","record_id":"P-1","reason":"bad \xff utf8"}`,
		`{"uscc":"` + code + `","query_code":"$QC","record_id":"P-1","reason":"dup","reason":""}`,
		`{"uscc":"` + code + `","query_code":"$QC","record_id":"P-1","reason":"","reason":"dup"}`,
		`{"uscc":"` + code + `","query_code":"$QC","record_id":"P-1","reason":"null keeps","reason":null}`,
		`{"USCC":"` + code + `","Query_Code":"$QC","RECORD_ID":"P-1","Reason":"case"}`,
		`{"uscc":"` + code + `","query_code":"$QC","record_id":1,"reason":"wrong type"}`,
		`{"uscc":"` + code + `","query_code":"$QC","record_id":"P-1","reason":"r","extra":true}`,
		`{"uscc":` + strings.Repeat("9", 400) + `,"query_code":"$QC","record_id":"P-1","reason":"huge number"}`,
		valid + "]", valid + "}", valid + " x", valid + "\n", valid[:len(valid)-1],
		strings.Replace(valid, `"}`, strings.Repeat(" ", objectionBodyMax)+`"}`, 1),
	}, hostileBodies...) {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		body = bytes.ReplaceAll(body, []byte("$QC"), []byte(qc))
		// The oracle: the status and, when 201, the record and reason.
		want := http.StatusCreated
		m, ok := wantObject(body, "uscc", "query_code", "record_id", "reason")
		c, _, err := s.exc.Parse(m["uscc"])
		switch {
		case len(body) > objectionBodyMax:
			want = http.StatusRequestEntityTooLarge
		case !ok || strings.TrimSpace(m["reason"]) == "" || len(m["reason"]) > maxReasonBytes || err != nil:
			want = http.StatusBadRequest
		case c != s.code || strings.ToUpper(m["query_code"]) != qc:
			want = http.StatusForbidden
		case objectable[m["record_id"]] == 0:
			want = http.StatusNotFound
		default:
			want = objectable[m["record_id"]]
		}
		before, applied := s.objectionQueue(t), s.ing.Applied()
		rec := s.do("POST", "/v1/objections", RolePublic, body)
		p := checkAnswer(t, rec)
		after := s.objectionQueue(t)
		if rec.Code != want {
			t.Fatalf("status %d, want %d: %s\nbody %q", rec.Code, want, rec.Body, body)
		}
		if p != nil {
			if ch := changedObjections(before, after); len(ch) != 0 || s.ing.Applied() != applied {
				t.Fatalf("a refused filing (%d) changed the objections %v, applied %d events", rec.Code, ch, s.ing.Applied()-applied)
			}
			return
		}
		st := s.objectionAnswer(t, rec.Body.Bytes())
		s.wantFiled(t, st, m["record_id"], m["reason"], before, after)
		if s.ing.Applied() != applied+1 {
			t.Fatalf("a filing applied %d events", s.ing.Applied()-applied)
		}
		// Rejected, the objection closes and the record stays objectable.
		rec = s.do("POST", "/v1/objections/"+st.ObjectionID+"/answer", RoleRegulator, answerBody("rejected", "经核实，处罚无误"))
		if rec.Code != http.StatusCreated {
			t.Fatalf("rejecting %s: %d %s", st.ObjectionID, rec.Code, rec.Body)
		}
	})
}

// Arbitrary objection ids and bodies through POST
// /v1/objections/{objection_id}/answer ("$OPEN" in the id stands for an
// open objection's id, "$DONE" for an answered one's): never a panic or a
// 5xx, well-formed answers; a refused answer changes no objection and
// applies no event, with the status the oracle predicts (404 for an id
// that is no objection's, 413 over the bound, 400 for a bad body, reasons
// or outcome, 409 for an objection already answered or, referred,
// referred again); an accepted one is
// 201 with that objection, and only it, now in the outcome's state (the
// reasons as its answer; referred: the 7-working-day deadline; upheld: the
// record withdrawn), readable at GET /v1/objections/{id}, and one event
// applied.
func FuzzObjectionAnswer(f *testing.F) {
	s := newWriteServer(f)
	qc := s.issuedQueryCode(f, s.code)
	n := 0
	done := s.fileNew(f, qc, &n)
	if rec := s.do("POST", "/v1/objections/"+done+"/answer", RoleRegulator, answerBody("rejected", "无误")); rec.Code != http.StatusCreated {
		f.Fatalf("setup answer: %d %s", rec.Code, rec.Body)
	}
	open := s.fileNew(f, qc, &n)
	// status of each objection filed, by id
	status := map[string]string{done: scoring.ObjectionRejected, open: scoring.ObjectionPending}

	valid := string(answerBody("upheld", "经核实，处罚决定已撤销"))
	for _, seed := range []struct{ id, body string }{
		{"$OPEN", valid},
		{"$OPEN", string(answerBody("rejected", "无误"))},
		{"$OPEN", string(answerBody("referred", "需市场监管部门核实"))},
		{"$DONE", valid},
		{"$OPEN", string(answerBody("Upheld", "case"))},
		{"$OPEN", string(answerBody("withdrawn", "unknown outcome"))},
		{"$OPEN", string(answerBody("", "no outcome"))},
		{"$OPEN", string(answerBody("upheld", ""))},
		{"$OPEN", string(answerBody("upheld", " \n\t"))},
		{"$OPEN", string(answerBody("upheld", strings.Repeat("长", maxReasonBytes/3+1)))},
		{"$OPEN", string(answerBody("upheld", strings.Repeat("x", maxReasonBytes)))},
		{"$OPEN", string(answerBody("upheld", "nul \x00"))},
		{"$OPEN", `{"outcome":"upheld","outcome":"rejected","reasons":"duplicate key"}`},
		{"$OPEN", `{"outcome":"upheld","reasons":"null keeps","reasons":null}`},
		{"$OPEN", `{"OUTCOME":"upheld","Reasons":"case of names"}`},
		{"$OPEN", `{"outcome":1,"reasons":"wrong type"}`},
		{"$OPEN", `{"outcome":"upheld","reasons":"r","objection_id":"x"}`},
		{"$OPEN", `{"outcome":"upheld","reasons":"bad \xff utf8"}`},
		{"$OPEN", `{"outcome":"upheld","reasons":` + strings.Repeat("9", 500) + `}`},
		{"$OPEN", valid + "]"}, {"$OPEN", valid + "}"}, {"$OPEN", valid + "x"},
		{"$OPEN", strings.Replace(valid, `"}`, strings.Repeat(" ", objectionBodyMax)+`"}`, 1)},
		{"$OPEN", ""}, {"$OPEN", "null"}, {"$OPEN", "{}"},
		{"OBJ-" + s.code.String() + "-AAAAAAAAAAAAAAAA", valid},
		{strings.ToLower("$OPEN"), valid}, {"$OPEN ", valid}, {"$OPEN\x00", valid}, {"$OPEN/x", valid},
		{"OBJ-", valid}, {"%", valid}, {"é", valid}, {"\xff", valid}, {"$DONE$OPEN", valid},
	} {
		f.Add(seed.id, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, id string, body []byte) {
		if status[open] != scoring.ObjectionPending && status[open] != scoring.ObjectionReferred {
			open = s.fileNew(t, qc, &n)
			status[open] = scoring.ObjectionPending
		}
		id = strings.ReplaceAll(strings.ReplaceAll(id, "$OPEN", open), "$DONE", done)
		p := "/v1/objections/" + url.PathEscape(id) + "/answer"
		if path.Clean(p) != p {
			t.Skip("the mux redirects a path that is not clean") // "", ".", ".."
		}
		m, ok := wantObject(body, "outcome", "reasons")
		want := http.StatusCreated
		switch {
		case status[id] == "":
			want = http.StatusNotFound
		case len(body) > objectionBodyMax:
			want = http.StatusRequestEntityTooLarge
		case !ok || strings.TrimSpace(m["reasons"]) == "" || len(m["reasons"]) > maxReasonBytes ||
			m["outcome"] != "upheld" && m["outcome"] != "rejected" && m["outcome"] != "referred":
			want = http.StatusBadRequest
		case status[id] != scoring.ObjectionPending && status[id] != scoring.ObjectionReferred,
			status[id] == scoring.ObjectionReferred && m["outcome"] == scoring.ObjectionReferred: // referred once
			want = http.StatusConflict
		}
		before, applied := s.objectionQueue(t), s.ing.Applied()
		rec := s.do("POST", p, RoleRegulator, body)
		prob := checkAnswer(t, rec)
		after := s.objectionQueue(t)
		if rec.Code != want {
			t.Fatalf("status %d, want %d: %s\nid %q, body %q", rec.Code, want, rec.Body, id, body)
		}
		if prob != nil {
			if ch := changedObjections(before, after); len(ch) != 0 || s.ing.Applied() != applied {
				t.Fatalf("a refused answer (%d) changed the objections %v, applied %d events", rec.Code, ch, s.ing.Applied()-applied)
			}
			return
		}
		st := s.objectionAnswer(t, rec.Body.Bytes())
		if ch := changedObjections(before, after); len(ch) != 1 || ch[0] != id || st.ObjectionID != id || s.ing.Applied() != applied+1 {
			t.Fatalf("answering %s: answer %s, changed %v, applied %d", id, st.ObjectionID, ch, s.ing.Applied()-applied)
		}
		filed, _ := time.Parse(time.RFC3339, st.FiledAt)
		outcome := m["outcome"]
		switch due, _ := objection.Deadline(s.cal, filed, true); {
		case st.Status != outcome:
			t.Fatalf("status %q after %q", st.Status, outcome)
		case outcome == scoring.ObjectionReferred && (st.ReferredAt == "" || st.DueOn != due.String() || st.AnsweredAt != ""):
			t.Fatalf("referred: %+v, want due %s", st, due)
		case outcome != scoring.ObjectionReferred && (st.Answer != m["reasons"] || st.AnsweredAt == ""):
			t.Fatalf("%s with reasons %q: %+v", outcome, m["reasons"], st)
		}
		status[id] = outcome
		if outcome == scoring.ObjectionUpheld {
			v, _ := s.eng.Entity(s.code, time.Now(), true)
			for _, r := range v.Records {
				if r.ID == st.RecordID && r.Status != scoring.StatusWithdrawn {
					t.Fatalf("record %s is %s after an upheld objection", r.ID, r.Status)
				}
			}
		}
	})
}
