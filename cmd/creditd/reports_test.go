package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/reportverify"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/testenv"
)

// A report fetched over HTTP verifies with the issuer's code, with an
// independent verifier written from report.md alone, and with
// `creditctl report verify`; any changed byte fails; the public edition
// has no assessment.
func TestReportOverHTTPVerifies(t *testing.T) {
	checkReportOverHTTP(t, t.TempDir(), "Ed25519")
}

// The same with SM2-SM3 (report.md "Signature"): a key generated on first
// start with --key-alg sm2, and one from `openssl genpkey -algorithm SM2`
// given as --key.
func TestSM2ReportOverHTTPVerifies(t *testing.T) {
	t.Run("generated", func(t *testing.T) {
		checkReportOverHTTP(t, t.TempDir(), "SM2-SM3", "--key-alg", "sm2")
	})
	t.Run("openssl key", func(t *testing.T) {
		dir := t.TempDir()
		key := filepath.Join(dir, "sm2.pem")
		if out, err := exec.Command("openssl", "genpkey", "-algorithm", "SM2", "-out", key).CombinedOutput(); err != nil {
			testenv.MissingTool(t, "openssl with SM2", fmt.Sprintf("%v: %s", err, out))
		}
		if err := os.Chmod(key, 0o600); err != nil {
			t.Fatal(err)
		}
		checkReportOverHTTP(t, dir, "SM2-SM3", "--key", key)
	})
}

// checkReportOverHTTP starts the service with args and checks its reports
// are signed with alg and verify in all three verifiers.
func checkReportOverHTTP(t *testing.T, dir, alg string, args ...string) {
	s := startService(t, filepath.Join(dir, "data"), args...)
	const code = "914403001922038216"
	body := `{"id":"R-1","uscc":"` + code + `","type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"华为技术有限公司","region":"440300","registered_on":"1987-09-15"}}
{"id":"R-2","uscc":"` + code + `","type":"penalty","occurred_at":"2026-01-15T02:00:00Z","authority":"深圳市市场监督管理局","attrs":{"severity":"general","decision_no":"深市监罚〔2026〕1号","amount_yuan":20000,"internal_note":1.5}}
{"id":"R-3","uscc":"` + code + `","type":"complaint","occurred_at":"2026-02-15T02:00:00Z","authority":"12315","attrs":{"substantiated":true}}
`
	if res, code := s.postEvents(api.RoleSource, []byte(body)); code != 200 || res.Applied != 3 {
		t.Fatalf("post: %d %+v", code, res)
	}
	_, keys := s.do("GET", "/v1/keys", api.RolePublic, nil)
	jwks, err := report.ParseJWKS(keys)
	if err != nil {
		t.Fatal(err)
	}
	ctl := filepath.Join(dir, "creditctl")
	if out, err := exec.Command("go", "build", "-o", ctl, "../creditctl").CombinedOutput(); err != nil {
		t.Fatalf("building creditctl: %v\n%s", err, out)
	}
	keysPath := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(keysPath, keys, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		role api.Role
		reg  bool
	}{{"/v1/reports/" + code, api.RolePublic, false}, {"/v1/reports/" + code + "?edition=regulatory", api.RolePeer, true}} {
		resp, raw := s.do("GET", tc.path, tc.role, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %s", tc.path, resp.StatusCode, raw)
		}
		now := time.Now()
		rep, err := report.Verify(raw, jwks, now)
		if err != nil {
			t.Fatalf("%s: issuer's verifier: %v", tc.path, err)
		}
		if rep.Signature.Alg != alg {
			t.Fatalf("%s: signature alg %q, want %q", tc.path, rep.Signature.Alg, alg)
		}
		doc, err := reportverify.Verify(raw, keys, now)
		if err != nil {
			t.Fatalf("%s: independent verifier: %v", tc.path, err)
		}
		if doc.Has("assessment") != tc.reg || (rep.Assessment != nil) != tc.reg {
			t.Fatalf("%s: assessment present = %v, want %v", tc.path, doc.Has("assessment"), tc.reg)
		}
		// Public records only: the complaint is internal; unknown attrs
		// (here a float) are not published.
		if len(rep.Records) != 1 || rep.Records[0].ID != "R-2" || bytes.Contains(raw, []byte("internal_note")) {
			t.Fatalf("%s: records %+v", tc.path, rep.Records)
		}
		path := filepath.Join(dir, "report.json")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(ctl, "report", "verify", "--report", path, "--keys", keysPath).CombinedOutput(); err != nil {
			t.Fatalf("%s: creditctl report verify: %v\n%s", tc.path, err, out)
		}
		// Any changed byte fails verification, in both verifiers.
		for i := range raw {
			bad := append([]byte(nil), raw...)
			bad[i] ^= 0x01
			if _, err := report.Verify(bad, jwks, now); err == nil {
				t.Fatalf("%s: byte %d changed, issuer's verifier accepted", tc.path, i)
			}
			if _, err := reportverify.Verify(bad, keys, now); err == nil {
				t.Fatalf("%s: byte %d changed, independent verifier accepted", tc.path, i)
			}
		}
		bad := bytes.Replace(raw, []byte("华为"), []byte("华大"), 1)
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(ctl, "report", "verify", "--report", path, "--keys", keysPath).CombinedOutput(); err == nil {
			t.Fatalf("%s: creditctl accepted a changed report: %s", tc.path, out)
		}
	}
	// The page.
	resp, page := s.do("GET", "/v1/reports/"+code, api.RolePublic, nil, "Accept", "text/html")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("html: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"华为技术有限公司", code, "深市监罚〔2026〕1号", "深圳市市场监督管理局", "R-2"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("page lacks %q", want)
		}
	}
	if bytes.Contains(page, []byte("PEN_GENERAL")) {
		t.Error("public page shows the risk assessment")
	}
	// Unknown entity and bad USCC.
	if resp, _ := s.do("GET", "/v1/reports/91110000600037341L", api.RolePublic, nil); resp.StatusCode != 404 {
		t.Errorf("unknown entity: %d", resp.StatusCode)
	}
	if resp, _ := s.do("GET", "/v1/reports/91110000600037341N", api.RolePublic, nil); resp.StatusCode != 400 {
		t.Errorf("invalid uscc: %d", resp.StatusCode)
	}
}
