package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/reportverify"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/uscc"
)

// testUSCC returns a valid USCC of an enterprise in Jinan numbered i.
func testUSCC(i int) string {
	body := []byte(fmt.Sprintf("91370102%08d", i))
	body = append(body, uscc.OrgCheckCharacter(body[8:16]))
	return string(append(body, uscc.CheckCharacter(body)))
}

// eventLines writes credit-event/v1 lines for one entity: a registration,
// then each of evs ("type|days ago|attrs JSON", or "type|days ago|attrs|ref"
// for referencing events; ids are CODE-1, CODE-2, ... in order). Dates are
// relative to now, so that what is in or past its publicity period stays
// so whenever the test runs.
func eventLines(code string, now time.Time, evs ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"id":"%s-0","uscc":"%s","type":"registered","occurred_at":"2015-01-01T00:00:00Z","attrs":{"name":"测试企业%s","region":"370102","registered_on":"2015-01-01"}}`+"\n", code, code, code[10:16])
	for i, e := range evs {
		f := strings.Split(e, "|")
		var days int
		fmt.Sscan(f[1], &days)
		at := now.Add(-time.Duration(days) * 24 * time.Hour).UTC().Format(time.RFC3339)
		attrs := f[2]
		if len(f) > 3 { // a referencing event: attrs carry ref (and decided_on for a repair)
			attrs = fmt.Sprintf(`{"ref":"%s-%s"%s}`, code, f[3], f[2])
		}
		fmt.Fprintf(&b, `{"id":"%s-%d","uscc":"%s","type":"%s","occurred_at":"%s","authority":"济南市市场监督管理局","attrs":%s}`+"\n",
			code, i+1, code, f[0], at, attrs)
	}
	return b.Bytes()
}

// reasonCase is an entity and its regulatory assessment worked out by hand
// from the rules fixture (fixture_test.go; national-4 of 2026.11: base 600;
// cut-offs A ≥ 620, B ≥ 560, C ≥ 480, else D; fresh records weigh fully) and report.md
// "Order of reasons".
type reasonCase struct {
	name    string
	events  []string
	tier    string
	score   int64
	reasons []string // "CODE points"
}

var reasonCases = []reasonCase{
	{"no reasons", nil, "B", 600, nil},
	{"serious list alone", []string{`dishonest_listed|30|{"reason":"严重违法"}`},
		"D", 450, []string{"OVR_DISHONEST 0", "DISHONEST_LIST -150"}},
	{"abnormal list alone", []string{`abnormal_listed|30|{"reason":"annual_report_missing"}`},
		"C", 540, []string{"OVR_ABNORMAL 0", "ABNORMAL_LIST -60"}},
	{"judgment debtor alone", []string{`court_debtor_listed|30|{"case_no":"(2026)鲁01执1号"}`},
		"C", 520, []string{"OVR_COURT_DEBTOR 0", "COURT_DEBTOR -80"}},
	// Unresolved for three years and a month: treated as the serious list
	// (domain.md §4.2); the floor D binds, the abnormal floor C does not.
	{"abnormal three years alone", []string{`abnormal_listed|1126|{"reason":"unreachable_at_address"}`},
		"D", 450, []string{"OVR_ABNORMAL_3Y 0", "ABNORMAL_3Y -150"}},
	// 600 − 60 − 80 + 30 + 20·2 = 530 (C); both floors C bind; overrides by
	// code; four reasons at most, so the honours are cut.
	{"two overrides at C", []string{`abnormal_listed|30|{"reason":"not_publicized"}`, `court_debtor_listed|20|{"case_no":"(2026)鲁01执2号"}`,
		`honor|40|{"title":"守合同重信用","level":"national"}`, `honor|50|{"title":"诚信企业","level":"provincial"}`, `honor|60|{"title":"诚信企业2","level":"provincial"}`},
		"C", 530, []string{"OVR_ABNORMAL 0", "OVR_COURT_DEBTOR 0", "COURT_DEBTOR -80", "ABNORMAL_LIST -60"}},
	// 600 − 150 − 150 = 300 (the minimum), D; both D floors bind; the tie of
	// −150 goes by code.
	{"two overrides at D", []string{`dishonest_listed|30|{"reason":"严重违法"}`, `abnormal_listed|1126|{"reason":"unreachable_at_address"}`},
		"D", 300, []string{"OVR_ABNORMAL_3Y 0", "OVR_DISHONEST 0", "ABNORMAL_3Y -150", "DISHONEST_LIST -150"}},
	// 600 − 150 + 20 + 20 = 490 would be C; the list makes it D; +20 and
	// +20 tie, by code.
	{"override with point reasons", []string{`dishonest_listed|30|{"reason":"严重违法"}`, `tax_rating|30|{"year":2025,"level":"A"}`,
		`honor|30|{"title":"诚信企业","level":"provincial"}`},
		"D", 490, []string{"OVR_DISHONEST 0", "DISHONEST_LIST -150", "HONOR_PROVINCIAL 20", "TAX_A 20"}},
	{"point reasons only", []string{`penalty|30|{"severity":"general","decision_no":"济市监罚〔2026〕1号","amount_yuan":5000}`, `tax_rating|30|{"year":2025,"level":"A"}`},
		"B", 580, []string{"PEN_GENERAL -40", "TAX_A 20"}},
	// 600 − 90 − 60 = 450 is D already: the abnormal floor C does not bind
	// and is not a reason.
	{"listed but floor not binding", []string{`abnormal_listed|30|{"reason":"annual_report_missing"}`,
		`penalty|30|{"severity":"serious","decision_no":"济市监罚〔2026〕2号","amount_yuan":500000}`},
		"D", 450, []string{"PEN_SERIOUS -90", "ABNORMAL_LIST -60"}},
}

// Every combination of overrides and point reasons gets a signed report in
// both editions and both formats over the real HTTP handler: the JSON
// verifies with the issuer's verifier (the one creditctl uses) and the
// independent one; the regulatory edition carries the tier, score and
// reasons worked out by hand, in report.md's order; the public edition
// passes the allow-list; the regulatory page lists the reasons in order,
// the public page shows no assessment.
func TestReportReasonsOverHTTP(t *testing.T) {
	s := startService(t, filepath.Join(t.TempDir(), "data"), "--model", rulesModelFile) // fixture_test.go
	now := time.Now()
	var body []byte
	for i, c := range reasonCases {
		body = append(body, eventLines(testUSCC(100+i), now, c.events...)...)
	}
	if res, code := s.postEvents(api.RoleSource, body); code != 200 || len(res.Rejected) > 0 {
		t.Fatalf("post: %d %+v", code, res)
	}
	_, keys := s.do("GET", "/v1/keys", api.RolePublic, nil)
	jwks, err := report.ParseJWKS(keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range reasonCases {
		code := testUSCC(100 + i)
		t.Run(c.name, func(t *testing.T) {
			for _, ed := range []struct {
				query string
				role  api.Role
			}{{"", api.RolePublic}, {"?edition=regulatory", api.RoleRegulator}, {"?edition=regulatory", api.RolePeer}} {
				path := "/v1/reports/" + code + ed.query
				resp, raw := s.do("GET", path, ed.role, nil)
				if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
					t.Fatalf("%s: %d %s", path, resp.StatusCode, raw)
				}
				rep, err := report.Verify(raw, jwks, time.Now())
				if err != nil {
					t.Fatalf("%s: issuer's verifier: %v", path, err)
				}
				if _, err := reportverify.Verify(raw, keys, time.Now()); err != nil {
					t.Fatalf("%s: independent verifier: %v", path, err)
				}
				resp, page := s.do("GET", path, ed.role, nil, "Accept", "text/html")
				if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
					t.Fatalf("%s page: %d %s", path, resp.StatusCode, page)
				}
				if ed.query == "" {
					if err := checkPublicReport(raw); err != nil {
						t.Fatalf("%s: %v", path, err)
					}
					for _, bad := range append([]string{"信用风险分类", "风险分值", `class="tier"`, "OVR_", rep.Subject.USCC + "?edition"}, reasonCodes(c.reasons)...) {
						if bytes.Contains(page, []byte(bad)) {
							t.Errorf("%s: public page contains %q", path, bad)
						}
					}
					continue
				}
				a := rep.Assessment
				var got []string
				for _, r := range a.Reasons {
					got = append(got, fmt.Sprintf("%s %d", r.Code, r.Points))
				}
				if a.Tier != c.tier || a.Score != c.score || strings.Join(got, ", ") != strings.Join(c.reasons, ", ") {
					t.Fatalf("%s: tier %s score %d reasons [%s]\nwant tier %s score %d reasons [%s]", path, a.Tier, a.Score,
						strings.Join(got, ", "), c.tier, c.score, strings.Join(c.reasons, ", "))
				}
				if !bytes.Contains(page, []byte(`<div class="tier">`+c.tier+`</div>`)) {
					t.Errorf("%s: page does not show tier %s", path, c.tier)
				}
				at := 0
				for _, code := range reasonCodes(c.reasons) {
					j := bytes.Index(page[at:], []byte(">"+code+"<"))
					if j < 0 {
						t.Fatalf("%s: page lacks reason %s after byte %d", path, code, at)
					}
					at += j + 1
				}
			}
		})
	}
}

func reasonCodes(reasons []string) []string {
	var out []string
	for _, r := range reasons {
		out = append(out, strings.Fields(r)[0])
	}
	return out
}
