// Package reportpage renders a credit-report/v1 as a printable HTML page:
// what GET /v1/reports/{uscc} answers to a browser (Accept: text/html).
//
// The page is one self-contained file (inline CSS, no scripts, fonts or
// images fetched), so that it can be saved, mailed and printed offline; an
// A4 print stylesheet keeps table rows whole and repeats table headers.
// Labels are Chinese with English. The page is a rendering of the signed
// JSON document, not a replacement for it: its verification section says
// where the JSON and the keys are and how to check them, and (Renderer)
// carries a QR code of the report's verification URL (reportid), for a
// clerk holding a printout. The verification page that URL opens is
// RenderVerification's. A report issued to its subject (it carries a
// query code, report.md "Objections") shows the code in a section of its
// own, to be printed or mailed to the subject; no other page has one.
package reportpage

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/reportid"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/tier"
)

//go:embed report.html.tmpl
var pageTemplate string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"beijing":       beijing,
	"categoryLabel": categoryLabel,
	"recordStatus":  recordStatus,
	"subjectStatus": subjectStatus,
	"entityType":    entityType,
	"points":        points,
	"tierName":      tierName,
	"thousands":     thousands,
}).Parse(pageTemplate))

// view is what the template sees: the report plus derived text.
type view struct {
	R          *report.Report
	Records    []recordView
	Regulatory bool
	JSONPath   string // the request of the signed JSON on the issuing service
	VerifyURL  string // the verification URL; "" without a QR code
	QR         template.HTML
}

type recordView struct {
	report.Record
	Detail []detailItem
}

// detailItem is one line of a record's detail summary.
type detailItem struct {
	Label string
	Value string
}

// Render writes r as an HTML page without a QR code. It renders either
// edition; r need not be signed (the verification section then says so),
// but it should be valid.
func Render(w io.Writer, r *report.Report) error { return Renderer{}.Render(w, r) }

// Renderer renders report pages with a QR code of their verification URL.
type Renderer struct {
	// PublicURL is the service's URL as a reader of the printout reaches
	// it (creditd's --public-url): the verification URL's base. Empty: no
	// QR code.
	PublicURL string
}

// Render writes r as an HTML page, with the QR code of its verification
// URL under p.PublicURL (reportid.URL) when that is set and r is signed.
// The QR code is an inline SVG: the page still fetches nothing.
func (p Renderer) Render(w io.Writer, r *report.Report) error {
	v := view{R: r, Regulatory: r.Edition == report.EditionRegulatory && r.Assessment != nil,
		JSONPath: "GET /v1/reports/" + r.Subject.USCC}
	if p.PublicURL != "" && r.Signature != nil {
		u, err := reportid.URL(p.PublicURL, r)
		if err != nil {
			return fmt.Errorf("render report page: %w", err)
		}
		if v.QR, err = qrSVG(u); err != nil {
			return fmt.Errorf("render report page: %w", err)
		}
		v.VerifyURL = u
	}
	switch {
	case r.Edition == report.EditionRegulatory:
		v.JSONPath += "?edition=regulatory"
	case r.QueryCode != "":
		// The subject's own copy: only the issuing route carries its code.
		v.JSONPath = "POST /v1/reports/" + r.Subject.USCC + "/issue"
	}
	for _, rec := range r.Records {
		v.Records = append(v.Records, recordView{Record: rec, Detail: summarizeDetail(rec.Detail)})
	}
	// Render to memory first so that a template error never leaves half a
	// page on the wire.
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		return fmt.Errorf("render report page: %w", err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// beijing shows an instant as signed (UTC) and in Beijing time, which is
// what readers in China expect on a document: "2026-03-01 16:00:00 北京时间".
func beijing(instant string) string {
	t, err := report.ParseInstant(instant)
	if err != nil {
		return instant
	}
	return t.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05") + " 北京时间"
}

// Labels of the categories this project issues (record.Category); other
// issuers' categories are shown as they are.
var categoryLabels = map[string]string{
	"penalty":        "行政处罚 Administrative penalty",
	"abnormal_list":  "经营异常名录 Abnormal operations list",
	"dishonest_list": "严重违法失信名单 Serious dishonesty list",
	"court_debtor":   "失信被执行人 Dishonest judgment debtor",
	"inspection":     "检查结果 Inspection result",
	"commitment":     "信用承诺 Credit commitment",
	"annual_report":  "年度报告 Annual report",
	"tax_rating":     "纳税信用等级 Tax credit rating",
	"honor":          "表彰荣誉 Honour",
	"complaint":      "投诉举报 Complaint",
	// An individual business's mark in place of the abnormal list (domain.md §4.2).
	"abnormal_status": "经营异常状态 Abnormal operation status",
}

func categoryLabel(c string) string {
	if l, ok := categoryLabels[c]; ok {
		return l
	}
	return c
}

// recordStatus returns the CSS class suffix and label of a record status.
func recordStatus(s string) [2]string {
	switch s {
	case report.RecordActive:
		return [2]string{"active", "公示中 Active"}
	case report.RecordRepaired:
		return [2]string{"repaired", "已修复 Repaired"}
	case report.RecordExpired:
		return [2]string{"expired", "已到期 Expired"}
	case report.RecordRemoved:
		return [2]string{"removed", "已移出 Removed"}
	}
	return [2]string{"other", s}
}

func subjectStatus(s string) string {
	switch s {
	case report.SubjectActive:
		return "存续 Active"
	case report.SubjectDeregistered:
		return "注销 Deregistered"
	}
	return s
}

func entityType(s string) string {
	switch s {
	case "enterprise":
		return "企业 Enterprise"
	case "individual_business":
		return "个体工商户 Individual business"
	case "farmers_cooperative":
		return "农民专业合作社 Farmers' cooperative"
	}
	return s
}

// points writes a score contribution with its sign: +140, −60 (a true
// minus sign, which reads better in print than a hyphen).
func points(p int64) string {
	switch {
	case p > 0:
		return "+" + strconv.FormatInt(p, 10)
	case p < 0:
		return "−" + strconv.FormatUint(uint64(-(p+1))+1, 10)
	}
	return "0"
}

// tierName is the description of a tier in a built-in scheme, e.g.
// "信用风险较高 higher risk", or "" for schemes of other issuers.
func tierName(scheme, tr string) string {
	s, err := tier.LookupScheme(scheme)
	if err != nil {
		return ""
	}
	t, err := s.Parse(tr)
	if err != nil || int(t) >= len(s.Names) {
		return ""
	}
	return s.Names[t]
}

// thousands groups an integer's digits: 1234567 → "1,234,567".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// detailFields labels the detail members the project writes
// (cmd/creditd report builder), in display order, with labels for their
// enumerated values. Members not listed are shown after these, by name.
var detailFields = []struct {
	key, label string
	values     map[string]string
}{
	{"severity", "处罚程度 Severity", map[string]string{"minor": "轻微 minor", "general": "一般 general", "serious": "严重 serious"}},
	{"decision_no", "决定书文号 Decision no.", nil},
	{"amount_yuan", "罚款金额 Fine", nil},
	{"penalty_types", "处罚种类 Penalty types", nil},
	{"restriction_months", "限制期限（月） Restriction (months)", nil},
	{"procedure", "处罚程序 Procedure", nil},
	{"sector", "领域 Sector", nil},
	{"reason", "原因 Reason", map[string]string{
		"annual_report_missing":  "未按规定报送年度报告 annual report not filed",
		"not_publicized":         "未按规定公示信息 information not publicised",
		"false_information":      "公示信息弄虚作假 false information",
		"unreachable_at_address": "通过登记住所无法联系 unreachable at registered address",
	}},
	{"case_no", "案号 Case no.", nil},
	{"plan_id", "抽查计划 Inspection plan", nil},
	{"result", "检查结果 Result", map[string]string{
		"no_problem":    "未发现问题 no problem found",
		"corrected":     "已责令改正 corrected",
		"problem_found": "发现问题 problem found",
		"refused":       "不配合检查 refused inspection",
		"unreachable":   "无法联系 unreachable",
	}},
	{"year", "年度 Year", nil},
	{"on_time", "按期报送 On time", nil},
	{"commitment_no", "承诺编号 Commitment no.", nil},
	{"matter", "承诺事项 Matter", nil},
	{"title", "称号 Title", nil},
	{"level", "等级 Level", map[string]string{"national": "国家级 national", "provincial": "省级 provincial", "municipal": "市级 municipal"}},
	{"substantiated", "属实 Substantiated", nil},
	{"outcome", "履约情况 Outcome", map[string]string{"fulfilled": "已履约 fulfilled", "breached": "违约 breached"}},
	{"outcome_on", "履约认定日期 Outcome on", nil},
	{"removed_on", "移出日期 Removed on", nil},
	{"removed_by", "移出依据 Removed by", nil},
	{"repaired_by", "修复依据 Repaired by", nil},
}

// summarizeDetail turns a record's detail object into labelled lines.
func summarizeDetail(raw json.RawMessage) []detailItem {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return []detailItem{{Label: "", Value: string(raw)}}
	}
	var out []detailItem
	for _, f := range detailFields {
		v, ok := m[f.key]
		if !ok {
			continue
		}
		delete(m, f.key)
		text := detailValue(v)
		if l, ok := f.values[text]; ok {
			text = l
		} else if l, ok := attrLabels(f.key, v); ok {
			text = l
		}
		if f.key == "amount_yuan" {
			if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				text = "¥" + thousands(n) + " 元"
			}
		}
		out = append(out, detailItem{Label: f.label, Value: text})
	}
	rest := make([]string, 0, len(m))
	for k := range m {
		rest = append(rest, k)
	}
	slices.Sort(rest)
	for _, k := range rest {
		out = append(out, detailItem{Label: k, Value: detailValue(m[k])})
	}
	return out
}

// attrLabels shows an enumerated penalty attribute (a string, or a list
// of them for penalty_types) by its labels (models/event.AttrLabel),
// "zh en" per value, joined by "；"; ok is false if any value has none.
func attrLabels(key string, v json.RawMessage) (string, bool) {
	var vals []string
	if json.Unmarshal(v, &vals) != nil {
		var one string
		if json.Unmarshal(v, &one) != nil {
			return "", false
		}
		vals = []string{one}
	}
	out := make([]string, 0, len(vals))
	for _, x := range vals {
		zh, en, ok := event.AttrLabel(key, x)
		if !ok {
			return "", false
		}
		out = append(out, zh+" "+en)
	}
	return strings.Join(out, "；"), len(out) > 0
}

// detailValue shows one JSON value: strings unquoted, booleans as 是/否,
// numbers as written, anything else as compact JSON.
func detailValue(v json.RawMessage) string {
	switch string(bytes.TrimSpace(v)) {
	case "true":
		return "是 yes"
	case "false":
		return "否 no"
	case "null":
		return "—"
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, v) == nil {
		return b.String()
	}
	return string(v)
}
