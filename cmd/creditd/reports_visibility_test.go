package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/report"
)

// Which records a report shows, worked out by hand from the publicity
// rules (models/record/rule.go; domain.md §4.1–§4.7, §5): records in their
// publicity period, and repaired or removed ones with their status; never
// expired ones, never unpublished ones (a minor penalty under the 2026
// rules, tax levels other than A and D) and never internal ones
// (complaints). The regulatory edition is the public content plus the
// assessment (report.md "Editions"), except that its penalties follow the
// SAMR publicity system and the public edition's Credit China (report.md
// "Channels"): a minor penalty is not shown by Credit China under the 2026
// rules but published by SAMR for 3 months (Order 45 Art. 13, domain.md
// §4.1). Both editions, JSON and page, over the real HTTP handler; the
// public JSON passes the allow-list.
func TestReportVisibilityOverHTTP(t *testing.T) {
	s := startService(t, filepath.Join(t.TempDir(), "data"))
	now := time.Now()
	code := testUSCC(200)
	repairDay := civil.DateOf(now.Add(-20 * 24 * time.Hour)).String()
	rows := []struct {
		event  string
		status string // "" when the record is not shown in either edition
		why    string
		reg    string // the regulatory edition's status when it differs (SAMR channel), "-" for not shown
	}{
		{`penalty|30|{"severity":"general","decision_no":"济市监罚〔2026〕10号","amount_yuan":5000,"internal_note":1.5}`, "active", "general penalty, 1 year of publicity (2026 rules)", ""},
		{`penalty|10|{"severity":"minor","decision_no":"济市监罚〔2026〕11号","amount_yuan":100}`, "", "minor penalty: not published under the 2026 rules; SAMR publishes it 3 months", "active"},
		{`complaint|10|{"substantiated":true}`, "", "complaint: internal", ""},
		{`tax_rating|20|{"year":2025,"level":"B"}`, "", "tax level B: not published", ""},
		{`tax_rating|40|{"year":2024,"level":"D"}`, "active", "tax level D: published 1 year", ""},
		{`tax_rating|400|{"year":2024,"level":"A"}`, "", "tax level A older than its 1 year: expired", ""},
		{`honor|1106|{"title":"诚信企业","level":"provincial"}`, "", "honour older than its 3 years: expired", ""},
		{`annual_report|60|{"year":2025,"on_time":true}`, "active", "annual report, 3 years", ""},
		{`inspection|1200|{"plan_id":"37-2023-01","result":"problem_found"}`, "", "inspection older than its 3 years: expired", ""},
		{`inspection|50|{"plan_id":"37-2026-09","result":"no_problem"}`, "active", "inspection, 3 years", ""},
		{`abnormal_listed|100|{"reason":"annual_report_missing"}`, "removed", "abnormal listing removed (next row): shown as removed", ""},
		{`abnormal_removed|10||11`, "", "a removal makes no record of its own", ""},
		{`dishonest_listed|500|{"reason":"严重违法"}`, "repaired", "serious-list entry repaired after its minimum year (next row)", ""},
		{`repair|20|,"decided_on":"` + repairDay + `"|13`, "", "a repair makes no record of its own", ""},
		{`commitment_made|100|{"commitment_no":"CN-1","matter":"许可"}`, "active", "commitment, 3 years; fulfilled (next row)", ""},
		{`commitment_fulfilled|10||15`, "", "an outcome makes no record of its own", ""},
		{`court_debtor_listed|60|{"case_no":"(2026)鲁01执3号"}`, "active", "judgment debtor, while listed", ""},
	}
	var evs []string
	want := map[string]string{} // id → status
	var hidden []string
	for i, r := range rows {
		evs = append(evs, r.event)
		id := fmt.Sprintf("%s-%d", code, i+1)
		switch {
		case r.status != "":
			want[id] = r.status
		case strings.Count(r.event, "|") == 2: // a record's own event, not a referencing one (named in details)
			hidden = append(hidden, id)
		}
	}
	if res, c := s.postEvents(api.RoleSource, eventLines(code, now, evs...)); c != 200 || len(res.Rejected) > 0 {
		t.Fatalf("post: %d %+v", c, res)
	}
	for _, ed := range []struct {
		query string
		role  api.Role
	}{{"", api.RolePublic}, {"?edition=regulatory", api.RoleRegulator}} {
		path := "/v1/reports/" + code + ed.query
		resp, raw := s.do("GET", path, ed.role, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, raw)
		}
		rep, err := report.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, rec := range rep.Records {
			got[rec.ID] = rec.Status
		}
		edWant, edHidden := map[string]string{}, slices.Clone(hidden)
		for i, r := range rows {
			id := fmt.Sprintf("%s-%d", code, i+1)
			w := r.status
			if ed.query != "" && r.reg != "" {
				w = strings.TrimPrefix(r.reg, "-")
				edHidden = slices.DeleteFunc(edHidden, func(h string) bool { return h == id && w != "" })
			}
			if w != "" {
				edWant[id] = w
			}
			if got[id] != w {
				t.Errorf("%s: record %s (%s) status %q, want %q (%s)", path, id, strings.Split(r.event, "|")[0], got[id], w, r.why)
			}
		}
		if len(got) != len(edWant) {
			t.Errorf("%s: %d records, want %d: %v", path, len(got), len(edWant), got)
		}
		wantChannel := map[string]string{"": report.ChannelCreditChina, "?edition=regulatory": report.ChannelSAMR}[ed.query]
		if rep.Channel != wantChannel {
			t.Errorf("%s: channel %q, want %q", path, rep.Channel, wantChannel)
		}
		// What each shown record's history adds to its detail.
		for _, rec := range rep.Records {
			switch rec.Category {
			case "abnormal_list":
				if !bytes.Contains(rec.Detail, []byte(`"removed_by":"`+code+`-12"`)) || !bytes.Contains(rec.Detail, []byte(`"removed_on":`)) {
					t.Errorf("%s: removed listing detail %s", path, rec.Detail)
				}
			case "dishonest_list":
				if rec.RepairedOn == nil || *rec.RepairedOn != repairDay || !bytes.Contains(rec.Detail, []byte(`"repaired_by":"`+code+`-14"`)) {
					t.Errorf("%s: repaired listing %v %s", path, rec.RepairedOn, rec.Detail)
				}
			case "commitment":
				if !bytes.Contains(rec.Detail, []byte(`"outcome":"fulfilled"`)) {
					t.Errorf("%s: commitment detail %s", path, rec.Detail)
				}
			}
		}
		if bytes.Contains(raw, []byte("internal_note")) {
			t.Errorf("%s: an unknown attribute is published", path)
		}
		if ed.query == "" {
			if err := checkPublicReport(raw); err != nil {
				t.Error(err)
			}
		}
		_, page := s.do("GET", path, ed.role, nil, "Accept", "text/html")
		for id := range edWant {
			if !bytes.Contains(page, []byte(id)) {
				t.Errorf("%s page: lacks %s", path, id)
			}
		}
		for _, id := range edHidden {
			if bytes.Contains(page, []byte(id+"<")) {
				t.Errorf("%s page: shows %s", path, id)
			}
		}
	}
}

// The allow-list check fails on anything not on it: it would catch a tier,
// a score, reasons or any unlisted member at any level, an unlisted detail
// key, a never-public category, and nested detail values.
func TestPublicAllowListRejects(t *testing.T) {
	const ok = `{"format":"credit-report/v1","report_id":"37-X","issuer":{"code":"37","name":"n","key_id":"k"},"edition":"public",` +
		`"issued_at":"2026-01-01T00:00:00Z","valid_until":"2026-01-02T00:00:00Z",` +
		`"subject":{"uscc":"91370102000001001X","name":"n","region":"370102","entity_type":"enterprise","registered_on":"2015-01-01","status":"active"},` +
		`"records":[{"id":"E1","category":"penalty","detail":{"severity":"general","amount_yuan":1},"authority":"a","occurred_on":"2025-01-01","status":"active","publicity_until":null,"repaired_on":null}],` +
		`"signature":{"alg":"Ed25519","key_id":"k","value":"v"}}`
	if err := checkPublicReport([]byte(ok)); err != nil {
		t.Fatalf("valid public report refused: %v", err)
	}
	for _, tc := range []struct{ old, new, want string }{
		{`"edition":"public",`, `"edition":"public","assessment":{"tier":"D"},`, `member "assessment"`},
		{`"edition":"public"`, `"edition":"regulatory"`, "edition regulatory"},
		{`"status":"active"},`, `"status":"active","tier":"C"},`, `subject: member "tier"`},
		{`"repaired_on":null}`, `"repaired_on":null,"score":450}`, `records[]: member "score"`},
		{`"key_id":"k","value":"v"}`, `"key_id":"k","value":"v","reasons":[]}`, `signature: member "reasons"`},
		{`"code":"37",`, `"code":"37","risk":"D",`, `issuer: member "risk"`},
		{`"amount_yuan":1}`, `"amount_yuan":1,"internal_note":"x"}`, `detail key "internal_note"`},
		{`"amount_yuan":1}`, `"amount_yuan":{"tier":"D"}}`, `detail "amount_yuan" is map`},
		{`"category":"penalty"`, `"category":"complaint"`, `category "complaint" is never public`},
		{`"category":"penalty"`, `"category":"honor"`, `(honor): detail key "severity"`},
	} {
		bad := strings.Replace(ok, tc.old, tc.new, 1)
		if bad == ok {
			t.Fatalf("case %q does not apply", tc.new)
		}
		if err := checkPublicReport([]byte(bad)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.new, err, tc.want)
		}
	}
	if slices.Contains(publicShape[""], "assessment") {
		t.Fatal("the allow-list names the assessment")
	}
}
