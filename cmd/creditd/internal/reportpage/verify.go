package reportpage

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
)

//go:embed verify.html.tmpl
var verifyTemplate string

var verifyPage = template.Must(template.New("verify").Funcs(template.FuncMap{"beijing": beijing}).Parse(verifyTemplate))

// Verification is the answer of a report's verification URL (GET
// /v1/reports/verify/{report_id}): what the JSON answer holds and the
// verification page shows. The route is public, so it holds nothing of an
// assessment: these members are the whole allow-list (domain.md §2.1).
type Verification struct {
	// Genuine: this service issued a report with the id, subject and
	// digest of the URL.
	Genuine bool `json:"genuine"`
	// Current: a report issued now would have the same subject and
	// records (the assessment is not compared: it is not public).
	Current   bool           `json:"current"`
	ReportID  string         `json:"report_id"`
	Issuer    VerifiedIssuer `json:"issuer"`
	IssuedAt  string         `json:"issued_at"` // instant, from the id
	Subject   VerifiedLabel  `json:"subject"`
	CheckedAt string         `json:"checked_at"` // instant of the check
	// ReportPath is where the current public report is (GET).
	ReportPath string `json:"report_path"`
	// Problem says why a report is not genuine (the page only).
	Problem string `json:"-"`
}

// VerifiedIssuer is the issuer of a verified report.
type VerifiedIssuer struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// VerifiedLabel is the subject of a verified report: its USCC and, when
// it is registered now, its name.
type VerifiedLabel struct {
	USCC string `json:"uscc"`
	Name string `json:"name,omitempty"`
}

// RenderVerification writes the verification page of v: genuine and
// current, genuine and changed since, or not genuine (v.Genuine false,
// v.Problem saying why). Like the report page it is self-contained.
func RenderVerification(w io.Writer, v *Verification) error {
	var buf bytes.Buffer
	if err := verifyPage.Execute(&buf, v); err != nil {
		return fmt.Errorf("render verification page: %w", err)
	}
	_, err := buf.WriteTo(w)
	return err
}
