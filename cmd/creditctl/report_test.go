package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/jcs"
	"github.com/creditrisk/creditd/models/report"
)

// reportFixture writes a signed public report and its key set into a
// temporary directory and returns their paths and contents.
func reportFixture(t *testing.T) (reportPath, keysPath string, raw, keys []byte) {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)
	now := time.Now().UTC()
	r := &report.Report{
		Format: report.Format, ReportID: "37-TEST-1", Issuer: report.Issuer{Code: "37", Name: "山东省市场监督管理局"},
		Edition: report.EditionPublic, IssuedAt: report.Instant(now.Add(-time.Hour)),
		ValidUntil: report.Instant(now.Add(30 * 24 * time.Hour)),
		Subject: report.Subject{USCC: "91370200MA3C5KQB07", Name: "青岛海岸线贸易有限公司", Region: "370200",
			EntityType: "enterprise", RegisteredOn: "2016-05-12", Status: report.SubjectActive},
		Records: []report.Record{{ID: "E1", Category: "penalty", Detail: json.RawMessage(`{"severity":"general"}`),
			Authority: "青岛市市场监督管理局", OccurredOn: "2025-06-03", Status: report.RecordActive}},
	}
	if err := report.Sign(r, priv, report.KeyID(pub)); err != nil {
		t.Fatal(err)
	}
	raw, err := r.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	keys, _ = json.Marshal(report.NewJWKS(pub))
	dir := t.TempDir()
	reportPath, keysPath = filepath.Join(dir, "report.json"), filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(reportPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keysPath, keys, 0o644); err != nil {
		t.Fatal(err)
	}
	return reportPath, keysPath, raw, keys
}

func runReport(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := cmdReport(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestReportVerify(t *testing.T) {
	reportPath, keysPath, raw, _ := reportFixture(t)
	dir := filepath.Dir(reportPath)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tampered := write("tampered.json", bytes.Replace(raw, []byte(`"severity":"general"`), []byte(`"severity":"minor"`), 1))
	otherPub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)).Public().(ed25519.PublicKey)
	otherKeys, _ := json.Marshal(report.NewJWKS(otherPub))
	otherKeysPath := write("other.json", otherKeys)
	badKeys := write("bad.json", []byte(`{"keys":`))
	later := time.Now().Add(31 * 24 * time.Hour).UTC().Format(time.RFC3339)

	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"verifies", []string{"verify", "--report", reportPath, "--keys", keysPath}, 0,
			"report 37-TEST-1 verifies: issuer 37 (山东省市场监督管理局), key ", ""},
		{"edition and subject", []string{"verify", "--report", reportPath, "--keys", keysPath}, 0,
			"edition public, subject 91370200MA3C5KQB07 (青岛海岸线贸易有限公司), 1 records", ""},
		{"tampered", []string{"verify", "--report", tampered, "--keys", keysPath}, 1, "", "signature does not verify"},
		{"expired at a later instant", []string{"verify", "--report", reportPath, "--keys", keysPath, "--at", later}, 1, "",
			"has expired"},
		{"unknown key", []string{"verify", "--report", reportPath, "--keys", otherKeysPath}, 1, "", "not in the key set"},
		{"bad key set", []string{"verify", "--report", reportPath, "--keys", badKeys}, 1, "", "keys " + badKeys},
		{"missing report file", []string{"verify", "--report", filepath.Join(dir, "nope.json"), "--keys", keysPath}, 1, "",
			"no such file"},
		{"not a report", []string{"verify", "--report", keysPath, "--keys", keysPath}, 1, "", "invalid credit report"},
		{"no subcommand", nil, 2, "", "usage: creditctl report verify"},
		{"wrong subcommand", []string{"check"}, 2, "", "usage:"},
		{"missing --keys", []string{"verify", "--report", reportPath}, 2, "", "usage:"},
		{"extra argument", []string{"verify", "--report", reportPath, "--keys", keysPath, "x"}, 2, "", "usage:"},
		{"bad --at", []string{"verify", "--report", reportPath, "--keys", keysPath, "--at", "yesterday"}, 2, "",
			"not an RFC 3339 instant"},
		{"unknown flag", []string{"verify", "--bogus"}, 2, "", "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runReport(tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errs, tc.err) {
				t.Fatalf("exit %d, stdout %q, stderr %q\nwant exit %d, stdout containing %q, stderr containing %q",
					code, out, errs, tc.code, tc.out, tc.err)
			}
			if tc.code != 0 && out != "" {
				t.Fatalf("failure wrote to stdout: %q", out)
			}
		})
	}
}

func TestReportVerifyURLs(t *testing.T) {
	_, _, raw, keys := reportFixture(t)
	var gotAccept, gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/reports/91370200MA3C5KQB07":
			gotAccept, gotAuth = r.Header.Get("Accept"), r.Header.Get("Authorization")
			w.Header().Set("Content-Type", "application/json")
			w.Write(raw)
		case "/v1/keys":
			w.Write(keys)
		default:
			http.Error(w, `{"title":"not found"}`, http.StatusNotFound)
		}
	}))
	defer srv.Close()
	code, out, errs := runReport("verify", "--report", srv.URL+"/v1/reports/91370200MA3C5KQB07", "--keys", srv.URL+"/v1/keys", "--token", "s3cret")
	if code != 0 || !strings.Contains(out, "verifies") {
		t.Fatalf("exit %d, %q, %q", code, out, errs)
	}
	if gotAccept != "application/json" || gotAuth != "Bearer s3cret" {
		t.Fatalf("request headers Accept %q, Authorization %q", gotAccept, gotAuth)
	}
	code, _, errs = runReport("verify", "--report", srv.URL+"/v1/reports/X", "--keys", srv.URL+"/v1/keys")
	if code != 1 || !strings.Contains(errs, "404 Not Found") {
		t.Fatalf("404: exit %d, %q", code, errs)
	}
}

// `creditctl report verify` applies report.md "Order of reasons": a
// regulatory report of a listed entity (overrides first with 0 points,
// then points by non-increasing size, ties by code) verifies; the same
// report with an override after a point reason, signed by an issuer that
// does not validate, is refused with the rule.
func TestReportVerifyReasonOrder(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)
	kid := report.KeyID(pub)
	now := time.Now().UTC()
	r := &report.Report{
		Format: report.Format, ReportID: "37-TEST-2", Issuer: report.Issuer{Code: "37", Name: "山东省市场监督管理局", KeyID: kid},
		Edition: report.EditionRegulatory, IssuedAt: report.Instant(now.Add(-time.Hour)),
		ValidUntil: report.Instant(now.Add(24 * time.Hour)),
		Subject: report.Subject{USCC: "91370200MA3C5KQB07", Name: "青岛海岸线贸易有限公司", Region: "370200",
			EntityType: "enterprise", RegisteredOn: "2016-05-12", Status: report.SubjectActive},
		Assessment: &report.Assessment{AsOf: report.Instant(now.Add(-time.Hour)), Score: 430, Tier: "C",
			TierScheme: "national-4", Model: "m/1", Reasons: []report.Reason{
				{Code: "OVR_ABNORMAL", Text: "t"}, {Code: "OVR_COURT_DEBTOR", Text: "t"},
				{Code: "COURT_DEBTOR", Text: "t", Points: -80}, {Code: "ABNORMAL_LIST", Text: "t", Points: -60},
				{Code: "HONOR_PROVINCIAL", Text: "t", Points: 20}, {Code: "TAX_A", Text: "t", Points: 20}}},
	}
	keys, _ := json.Marshal(report.NewJWKS(pub))
	dir := t.TempDir()
	keysPath := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(keysPath, keys, 0o644); err != nil {
		t.Fatal(err)
	}
	sign := func(name string) string { // as an issuer that does not validate
		r.Signature = nil
		body, _ := json.Marshal(r)
		canon, err := jcs.Canonicalize(body)
		if err != nil {
			t.Fatal(err)
		}
		r.Signature = &report.Signature{Alg: "Ed25519", KeyID: kid, Value: base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, canon))}
		raw, _ := json.Marshal(r)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if code, out, errs := runReport("verify", "--report", sign("ok.json"), "--keys", keysPath); code != 0 {
		t.Fatalf("in order: exit %d %s %s", code, out, errs)
	}
	rs := r.Assessment.Reasons
	rs[1], rs[2] = rs[2], rs[1] // an override after a point reason
	code, _, errs := runReport("verify", "--report", sign("bad.json"), "--keys", keysPath)
	if code != 1 || !strings.Contains(errs, "assessment.reasons[2]: OVR_COURT_DEBTOR (0 points) must come before") {
		t.Fatalf("out of order: exit %d, stderr %q", code, errs)
	}
	rs[1], rs[2] = rs[2], rs[1]
	rs[4], rs[5] = rs[5], rs[4] // a tie not by code
	code, _, errs = runReport("verify", "--report", sign("tie.json"), "--keys", keysPath)
	if code != 1 || !strings.Contains(errs, "assessment.reasons[5]: HONOR_PROVINCIAL (20 points) must come before") {
		t.Fatalf("tie out of order: exit %d, stderr %q", code, errs)
	}
}
