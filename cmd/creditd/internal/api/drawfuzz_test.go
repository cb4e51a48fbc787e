package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/sampler"
	"github.com/creditrisk/creditd/sampler/samplertest"
)

// registerBody is the JSON of conflict register entries.
func registerBody(entries ...sampler.RegisterEntry) string {
	b, _ := json.Marshal(entries)
	return string(b)
}

// Arbitrary bodies through POST /v1/draws/conflicts: never a panic or a
// 5xx, well-formed answers; a refused body leaves GET
// /v1/draws/conflicts byte-equal (413 over the bound, 400 otherwise); an
// accepted one (an array, or null, of entries with a USCC of valid
// format, an inspector of 1-64 bytes, dates YYYY-MM-DD and valid_until
// not before valid_from) is 201 and the register is the old one plus the
// new entries not in it yet, USCCs in upper case, in order.
func FuzzConflictRegister(f *testing.F) {
	s := newWriteServer(f)
	code := s.code.String()
	e := sampler.RegisterEntry{Inspector: "INS-01", USCC: code, ValidFrom: "2026-01-01", ValidUntil: "2026-12-31"}
	valid := registerBody(e)
	lower := e
	lower.USCC = strings.ToLower(code)
	for _, seed := range append([]string{
		valid, registerBody(e, e), registerBody(lower), "null", "[]", "[null]", "[{}]",
		`[{"inspector":"I","uscc":"` + code + `","valid_from":"2026-02-30"}]`,
		`[{"inspector":"I","uscc":"` + code + `","valid_from":"2026-02-01","valid_until":"2026-01-31"}]`,
		`[{"inspector":"I","uscc":"` + code + `","valid_from":"2026-02-01","valid_until":""}]`,
		`[{"inspector":"` + strings.Repeat("I", 65) + `","uscc":"` + code + `","valid_from":"2026-02-01"}]`,
		`[{"inspector":"I\u0000","uscc":"` + code + `","valid_from":"2026-02-01"}]`,
		`[{"inspector":"I\xff","uscc":"` + code + `","valid_from":"2026-02-01"}]`,
		`[{"inspector":"I","inspector":"J","uscc":"` + code + `","valid_from":"2026-02-01"}]`,
		`[{"INSPECTOR":"I","Uscc":"` + code + `","VALID_FROM":"2026-02-01"}]`,
		`[{"inspector":"I","uscc":"` + code + `","valid_from":20260201}]`,
		`[{"inspector":"I","uscc":"` + code + `","valid_from":"2026-02-01","role":"x"}]`,
		`[{"inspector":"I","uscc":"91370102000000000X","valid_from":"2026-02-01"}]`,
		`[{"inspector":"I","uscc":` + strings.Repeat("9", 400) + `,"valid_from":"2026-02-01"}]`,
		valid + "]", valid + "}", valid + " x", valid + "\n", valid[:len(valid)-1],
		valid[:len(valid)-1] + strings.Repeat(" ", registerBodyMax) + "]",
	}, hostileBodies...) {
		f.Add([]byte(seed))
	}
	names := []string{"inspector", "uscc", "valid_from", "valid_until"}
	f.Fuzz(func(t *testing.T, body []byte) {
		get := func() []byte {
			rec := s.do("GET", "/v1/draws/conflicts", RoleRegulator, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET the register: %d %s", rec.Code, rec.Body)
			}
			return rec.Body.Bytes()
		}
		before := get()
		var old struct{ Entries []sampler.RegisterEntry }
		if err := json.Unmarshal(before, &old); err != nil {
			t.Fatal(err)
		}
		// The oracle: the register after an accepted body.
		want, status := old.Entries, http.StatusCreated
		objs, ok := wantArray(body, names...)
		if len(body) > registerBodyMax {
			status = http.StatusRequestEntityTooLarge
		} else if !ok {
			status = http.StatusBadRequest
		}
		for _, o := range objs {
			en, good := registerEntry(o)
			if !good {
				status = http.StatusBadRequest
			}
			if !slices.Contains(want, en) {
				want = append(want, en)
			}
		}
		rec := s.do("POST", "/v1/draws/conflicts", RoleRegulator, body)
		p := checkAnswer(t, rec)
		after := get()
		if rec.Code != status {
			t.Fatalf("status %d, want %d: %s\nbody %q", rec.Code, status, rec.Body, body)
		}
		if p != nil {
			if !bytes.Equal(before, after) {
				t.Fatalf("a refused body (%d) changed the register:\n%s\n%s", rec.Code, before, after)
			}
			return
		}
		var got struct{ Entries []sampler.RegisterEntry }
		if err := json.Unmarshal(after, &got); err != nil || !slices.Equal(got.Entries, want) {
			t.Fatalf("register %s, want %+v", after, want)
		}
		if !bytes.Equal(rec.Body.Bytes(), after) {
			t.Fatalf("the answer %s is not the register %s", rec.Body, after)
		}
	})
}

// registerEntry is the oracle's check of one register entry: its
// canonical form and whether it is valid.
func registerEntry(o map[string]string) (sampler.RegisterEntry, bool) {
	e := sampler.RegisterEntry{Inspector: o["inspector"], USCC: strings.ToUpper(o["uscc"]), ValidFrom: o["valid_from"], ValidUntil: o["valid_until"]}
	date := func(s string) bool {
		d, err := time.Parse("2006-01-02", s)
		return err == nil && d.Format("2006-01-02") == s
	}
	_, err := uscc.ParseFormat(o["uscc"])
	return e, err == nil && e.Inspector != "" && len(e.Inspector) <= draw.MaxInspectorIDLen && date(e.ValidFrom) &&
		(e.ValidUntil == "" || date(e.ValidUntil) && e.ValidUntil >= e.ValidFrom)
}

// Arbitrary bodies through POST /v1/draws/{draw_id}/recusals of a run
// draw ("$USCC" in a body stands for a selected entity with a team,
// "$INS" for an inspector on that team): never a panic or a 5xx,
// well-formed answers; a refused body leaves the draw record and its
// amendments byte-equal (413 over the bound, 400 for a bad body, a reason
// of 0 or over 1000 bytes, an entity not selected or an inspector not on
// its team); an accepted one is 201 with the next amendment of the chain
// (seq, prev, the id the content gives), the recused inspector off the
// team and the replacement, if any, a pool member not on the team before,
// and GET /v1/draws/{id}/amendments ends with it.
func FuzzRecusal(f *testing.F) {
	s := newWriteServer(f)
	var lines []string
	for i := range 40 {
		lines = append(lines, registered(samplertest.USCC(uint64(100+i), '1', [6]byte([]byte("370102"))), fmt.Sprintf("D-%d", i)))
	}
	s.events(f, lines...)
	rec0 := s.commitAndDraw(f, "37-FZ-1", 12, 2)
	id := rec0.DrawID
	team := map[string][]string{}
	for _, sel := range rec0.Selected {
		team[sel.USCC] = slices.Clone(sel.Inspectors)
	}
	pool := map[string]bool{}
	for _, in := range rec0.Request.Inspectors.Pool {
		pool[in.ID] = true
	}
	valid := `{"uscc":"$USCC","inspector":"$INS","reason":"relative of the legal representative"}`
	for _, seed := range append([]string{
		valid, `{"uscc":"$USCC","inspector":"INS-99","reason":"not on the team"}`,
		`{"uscc":"` + s.code.String() + `","inspector":"$INS","reason":"not selected"}`,
		`{"uscc":"$USCC","inspector":"$INS","reason":""}`, `{"uscc":"$USCC","inspector":"$INS","reason":" "}`,
		`{"uscc":"$USCC","inspector":"$INS","reason":"` + strings.Repeat("长", 334) + `"}`,
		`{"uscc":"$USCC","inspector":"$INS","reason":"` + strings.Repeat("x", 1000) + `"}`,
		`{"uscc":"$USCC","inspector":"$INS","reason":"nul \u0000 \xff"}`,
		`{"uscc":"$USCC","inspector":"$INS","reason":"dup","reason":""}`,
		`{"USCC":"$USCC","Inspector":"$INS","REASON":"case"}`, `{"uscc":"$uscc","inspector":"$INS","reason":"lower-case USCC"}`,
		`{"uscc":"$USCC","inspector":1,"reason":"wrong type"}`,
		`{"uscc":"$USCC","inspector":"$INS","reason":"r","seq":1}`,
		valid + "]", valid + "}", valid + " x", valid[:len(valid)-1],
		strings.Replace(valid, `"}`, strings.Repeat(" ", recusalBodyMax)+`"}`, 1),
	}, hostileBodies...) {
		f.Add([]byte(seed))
	}
	store := s.draws.s.Store()
	f.Fuzz(func(t *testing.T, body []byte) {
		code, ins := "", ""
		for _, sel := range rec0.Selected {
			if len(team[sel.USCC]) > 0 {
				code, ins = sel.USCC, team[sel.USCC][0]
				break
			}
		}
		body = bytes.ReplaceAll(bytes.ReplaceAll(body, []byte("$USCC"), []byte(code)), []byte("$INS"), []byte(ins))
		body = bytes.ReplaceAll(body, []byte("$uscc"), []byte(strings.ToLower(code)))
		m, ok := wantObject(body, "uscc", "inspector", "reason")
		if ok {
			m["uscc"] = asciiUpper(m["uscc"]) // a USCC's letters in either case
		}
		status := http.StatusCreated
		switch {
		case len(body) > recusalBodyMax:
			status = http.StatusRequestEntityTooLarge
		case !ok || strings.Trim(m["reason"], " \t\r\n\v\f\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000") == "" || len(m["reason"]) > 1000 || !slices.Contains(team[m["uscc"]], m["inspector"]):
			status = http.StatusBadRequest
		}
		_, recBefore, err := store.RecordV2(id)
		if err != nil {
			t.Fatal(err)
		}
		amBefore, err := store.Amendments(id)
		if err != nil {
			t.Fatal(err)
		}
		rec := s.do("POST", "/v1/draws/"+id+"/recusals", RoleRegulator, body)
		p := checkAnswer(t, rec)
		_, recAfter, err := store.RecordV2(id)
		if err != nil || !bytes.Equal(recBefore, recAfter) {
			t.Fatalf("the draw record changed (%v)", err)
		}
		amAfter, err := store.Amendments(id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Code != status {
			t.Fatalf("status %d, want %d: %s\nbody %q", rec.Code, status, rec.Body, body)
		}
		if p != nil {
			if !bytes.Equal(draw.EncodeAmendments(amBefore), draw.EncodeAmendments(amAfter)) {
				t.Fatalf("a refused recusal (%d) changed the amendments", rec.Code)
			}
			return
		}
		var a draw.Amendment
		dec := json.NewDecoder(rec.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			t.Fatal(err)
		}
		n := len(amBefore.Amendments)
		prev := ""
		if n > 0 {
			prev = amBefore.Amendments[n-1].ID
		}
		tm := team[m["uscc"]]
		if a.Seq != n+1 || a.Prev != prev || a.ID != draw.AmendmentID(id, &a) || a.USCC != m["uscc"] || a.Recused != m["inspector"] ||
			a.Reason != m["reason"] || a.Replacement != "" && (!pool[a.Replacement] || slices.Contains(tm, a.Replacement)) {
			t.Fatalf("amendment %+v after %d, team %v", a, n, tm)
		}
		if len(amAfter.Amendments) != n+1 || amAfter.Amendments[n] != a {
			t.Fatalf("amendments %+v, answered %+v", amAfter.Amendments, a)
		}
		tm = slices.DeleteFunc(slices.Clone(tm), func(x string) bool { return x == a.Recused })
		if a.Replacement != "" {
			tm = append(tm, a.Replacement)
		}
		team[a.USCC] = tm
	})
}

// asciiUpper maps a–z to A–Z and leaves every other byte as it is (no
// Unicode case mapping: "ſ" is not "S" in a USCC).
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
