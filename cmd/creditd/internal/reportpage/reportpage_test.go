package reportpage

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func strp(s string) *string { return &s }

// testReport is a signed report of the given edition, fixed so that its
// page is byte-stable.
func testReport(t testing.TB, edition string) *report.Report {
	t.Helper()
	r := &report.Report{
		Format:     report.Format,
		ReportID:   "37-01JQ8Z6Y2M7D4W9X3K5N8P2R6T",
		Issuer:     report.Issuer{Code: "37", Name: "山东省市场监督管理局"},
		Edition:    edition,
		IssuedAt:   "2026-03-01T08:00:00Z",
		ValidUntil: "2026-03-31T08:00:00Z",
		Subject: report.Subject{USCC: "91370200MA3C5KQB07", Name: "青岛海岸线贸易有限公司", Region: "370200",
			EntityType: "enterprise", RegisteredOn: "2016-05-12", Status: report.SubjectActive},
		Records: []report.Record{
			{ID: "SAMR-370200-2025-000123", Category: "penalty",
				Detail:    json.RawMessage(`{"severity":"general","decision_no":"青市监罚〔2025〕123号","amount_yuan":20000,"repaired_by":"REP-370200-2025-0042"}`),
				Authority: "青岛市市场监督管理局", OccurredOn: "2025-06-03", Status: report.RecordRepaired,
				PublicityUntil: strp("2026-06-02"), RepairedOn: strp("2025-10-09")},
			{ID: "SAMR-370200-2025-000456", Category: "abnormal_list", Detail: json.RawMessage(`{"reason":"annual_report_missing"}`),
				Authority: "青岛市市场监督管理局", OccurredOn: "2025-07-10", Status: report.RecordActive},
			{ID: "SAMR-370200-2024-I-0077", Category: "inspection", Detail: json.RawMessage(`{"plan_id":"DR-370200-2024-03","result":"problem_found"}`),
				Authority: "青岛市市场监督管理局", OccurredOn: "2024-11-20", Status: report.RecordActive, PublicityUntil: strp("2027-11-19")},
			{ID: "TAX-37-2024-A-0001", Category: "tax_rating", Detail: json.RawMessage(`{"year":2024,"level":"A"}`),
				Authority: "国家税务总局山东省税务局", OccurredOn: "2025-04-01", Status: report.RecordActive, PublicityUntil: strp("2026-03-31")},
			{ID: "COURT-370203-2023-0901", Category: "court_debtor", Detail: json.RawMessage(`{"case_no":"(2023)鲁0203执1234号","removed_on":"2024-02-01","removed_by":"COURT-370203-2024-0102"}`),
				Authority: "青岛市市北区人民法院", OccurredOn: "2023-08-15", Status: report.RecordRemoved},
			{ID: "ZJ-330100-2025-77", Category: "green_credit", Detail: json.RawMessage(`{"grade":"AA","certified":true}`),
				Authority: "浙江省生态环境厅", OccurredOn: "2025-01-08", Status: report.RecordExpired, PublicityUntil: strp("2026-01-07")},
		},
	}
	if edition == report.EditionRegulatory {
		r.Assessment = &report.Assessment{AsOf: "2026-03-01T07:59:00Z", Score: 612, Tier: "C", TierScheme: "national-4",
			Model: "national-logit/2026.1",
			Reasons: []report.Reason{
				{Code: "abnormal_list_active", Text: "列入经营异常名录 listed as abnormal", Points: 140},
				{Code: "inspection_problem_found", Text: "抽查发现问题 problem found in inspection", Points: 95},
				{Code: "tax_rating_a", Text: "纳税信用A级 tax rating A", Points: -60},
				{Code: "penalty_repaired", Text: "已修复的行政处罚 repaired penalty", Points: 25},
			}}
	}
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{42}, ed25519.SeedSize))
	if err := report.Sign(r, priv, report.KeyID(priv.Public().(ed25519.PublicKey))); err != nil {
		t.Fatal(err)
	}
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/creditd/internal/reportpage -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run with -update and review the diff", path)
	}
}

func TestRenderGolden(t *testing.T) {
	for _, ed := range []string{report.EditionPublic, report.EditionRegulatory} {
		t.Run(ed, func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, testReport(t, ed)); err != nil {
				t.Fatal(err)
			}
			golden(t, ed+".html", b.Bytes())
		})
	}
	// An independent reading of both goldens (records and subject shown,
	// nothing of the assessment on the public page), so that a golden
	// rewritten by -update from a wrong template fails.
	testenv.Python(t, "testdata", "check_page.py", "public.html", "regulatory.html")
}

func TestRenderContent(t *testing.T) {
	var pub, reg bytes.Buffer
	if err := Render(&pub, testReport(t, report.EditionPublic)); err != nil {
		t.Fatal(err)
	}
	if err := Render(&reg, testReport(t, report.EditionRegulatory)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"信用报告", "Credit report", "公开版 Public edition", "91370200MA3C5KQB07", "青岛海岸线贸易有限公司",
		"已修复 Repaired", "公示中 Active", "已移出 Removed", "已到期 Expired", "2025-10-09", "2026-06-02",
		"¥20,000 元", "一般 general", "未按规定报送年度报告", "发现问题 problem found", "green_credit", "grade", "是 yes",
		"2026-03-01 16:00:00 北京时间", "GET /v1/keys", "RFC 8785", "Ed25519", "creditctl report verify",
		"GET /v1/reports/91370200MA3C5KQB07", "@media print", "size: A4",
	} {
		if !strings.Contains(pub.String(), want) {
			t.Errorf("public page lacks %q", want)
		}
	}
	// The public edition shows nothing of the assessment.
	for _, leak := range []string{"信用风险分类", "national-logit", "612", "abnormal_list_active", "Score"} {
		if strings.Contains(pub.String(), leak) {
			t.Errorf("public page shows %q", leak)
		}
	}
	for _, want := range []string{"监管版 Regulatory edition", "信用风险分类", "信用风险较高 higher risk", "612", "national-4",
		"national-logit/2026.1", "&#43;140", "−60", "?edition=regulatory", "不公开"} {
		if !strings.Contains(reg.String(), want) {
			t.Errorf("regulatory page lacks %q", want)
		}
	}
	// Self-contained: nothing fetched from elsewhere.
	for _, ext := range []string{"<script", "<link", "src=", "url(", "@import", "http://", "https://"} {
		if strings.Contains(pub.String(), ext) || strings.Contains(reg.String(), ext) {
			t.Errorf("page references an external resource: %q", ext)
		}
	}
}

func TestRenderEscapes(t *testing.T) {
	r := testReport(t, report.EditionPublic)
	r.Subject.Name = `<script>alert("x")</script>`
	r.Records[0].Authority = `"><img src=x onerror=alert(1)>`
	r.Records[1].Detail = json.RawMessage(`{"<b>":"</td><script>"}`)
	var b bytes.Buffer
	if err := Render(&b, r); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, bad := range []string{"<script>alert", "<img src=x", "<b>", "</td><script>"} {
		if strings.Contains(s, bad) {
			t.Errorf("unescaped %q in page", bad)
		}
	}
	if !strings.Contains(s, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Error("escaped name not found")
	}
}

// The copy issued to the subject shows its query code, in its own
// section, and names the route that issues it as the JSON's source; the
// pages of reports anyone can fetch (no code) have no such section.
func TestRenderQueryCode(t *testing.T) {
	const code = "9VGDDSHYJ1WDNVMD"
	r := testReport(t, report.EditionPublic)
	r.QueryCode = code
	var own, pub bytes.Buffer
	if err := Render(&own, r); err != nil {
		t.Fatal(err)
	}
	if err := Render(&pub, testReport(t, report.EditionPublic)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<dd class="wide mono" id="query-code">` + code + `</dd>`, "异议查询码",
		"POST /v1/reports/91370200MA3C5KQB07/issue", "公开查询的报告不含查询码"} {
		if !strings.Contains(own.String(), want) {
			t.Errorf("the subject's page lacks %q", want)
		}
	}
	for _, leak := range []string{code, "query-code", "查询码", "/issue"} {
		if strings.Contains(pub.String(), leak) {
			t.Errorf("the public page shows %q", leak)
		}
	}
}

func TestRenderUnsignedAndEmpty(t *testing.T) {
	r := testReport(t, report.EditionPublic)
	r.Signature = nil
	r.Records = nil
	var b bytes.Buffer
	if err := Render(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"未签名 Not signed", "无公开信用记录"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestRenderWriteError(t *testing.T) {
	if err := Render(failWriter{}, testReport(t, report.EditionPublic)); err == nil {
		t.Fatal("write error not returned")
	}
}

func TestHelpers(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 5: "5", 999: "999", 1000: "1,000", -1234567: "-1,234,567", 20000: "20,000"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]string{0: "0", 140: "+140", -60: "−60", -9223372036854775808: "−9223372036854775808"} {
		if got := points(in); got != want {
			t.Errorf("points(%d) = %q, want %q", in, got, want)
		}
	}
	if got := beijing("2026-03-01T20:30:00Z"); got != "2026-03-02 04:30:00 北京时间" {
		t.Errorf("beijing = %q", got)
	}
	if got := beijing("garbage"); got != "garbage" {
		t.Errorf("beijing(garbage) = %q", got)
	}
	if got := tierName("shandong-5", "E"); got != "风险高 high" {
		t.Errorf("tierName = %q", got)
	}
	if got := tierName("zhejiang-3", "A"); got != "" {
		t.Errorf("tierName of unknown scheme = %q", got)
	}
	items := summarizeDetail(json.RawMessage(`{"z":[1,2],"severity":"serious","amount_yuan":1500,"x":null}`))
	want := []detailItem{{"处罚程度 Severity", "严重 serious"}, {"罚款金额 Fine", "¥1,500 元"}, {"x", "—"}, {"z", "[1,2]"}}
	if len(items) != len(want) {
		t.Fatalf("summarizeDetail = %v", items)
	}
	for i := range want {
		if items[i] != want[i] {
			t.Errorf("item %d = %v, want %v", i, items[i], want[i])
		}
	}
}

// The penalty attributes of credit-event/v1 (events.md "Penalty
// attributes") show by their legal terms, several types joined.
func TestDetailPenaltyAttributes(t *testing.T) {
	got := summarizeDetail(json.RawMessage(`{"severity":"general","penalty_types":["warning","fine","business_licence_revocation"],"restriction_months":24,"procedure":"simple","sector":"special_equipment","zz":"x"}`))
	want := []detailItem{
		{"处罚程度 Severity", "一般 general"},
		{"处罚种类 Penalty types", "警告 warning；罚款 fine；吊销营业执照 business licence revoked"},
		{"限制期限（月） Restriction (months)", "24"},
		{"处罚程序 Procedure", "简易程序 simple procedure"},
		{"领域 Sector", "特种设备 special equipment"},
		{"zz", "x"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// an unknown value is shown as written, not dropped
	got = summarizeDetail(json.RawMessage(`{"penalty_types":["warning","new_kind"]}`))
	if len(got) != 1 || got[0].Value != `["warning","new_kind"]` {
		t.Errorf("unknown type: %q", got)
	}
}
