package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/uscc"
)

// drawTestFiles writes a request and a units CSV for an offline draw.
func drawTestFiles(t *testing.T) (dir, reqPath, unitsPath string) {
	t.Helper()
	dir = t.TempDir()
	var csv strings.Builder
	csv.WriteString("uscc,region,tier,registered_at,deregistered_at\n")
	for i := range 400 {
		var c uscc.Code
		copy(c[:], fmt.Sprintf("91%s%08d", []string{"370102", "370211", "370303"}[i%3], 10000000+i*7919))
		c[16] = uscc.OrgCheckCharacter(c[8:16])
		c[17] = uscc.CheckCharacter(c[:17])
		tier := []string{"A", "B", "B", "C", "D", ""}[i%6]
		dereg := ""
		if i%17 == 0 {
			dereg = "2025-01-01T00:00:00Z"
		}
		fmt.Fprintf(&csv, "%s,%s,%s,1600000000,%s\n", c, c.Division(), tier, dereg)
	}
	unitsPath = filepath.Join(dir, "units.csv")
	reqPath = filepath.Join(dir, "request.json")
	req := `{"plan_id": "cli-test", "as_of": "2026-03-01T00:00:00Z",
	  "allocation": {"ratios": {"A": 0.05, "B": 0.1, "C": 0.2, "D": 0.5}},
	  "inspectors": {"pool": [{"id": "a", "regions": ["3701"]}, {"id": "b"}, {"id": "c", "regions": ["3702"]}, {"id": "d"}]},
	  "seed": "0123456789abcdef0123456789abcdef"}`
	if err := os.WriteFile(unitsPath, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(reqPath, []byte(req), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, reqPath, unitsPath
}

func runDraw(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := cmdDraw(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestDrawRunAndVerify(t *testing.T) {
	dir, reqPath, unitsPath := drawTestFiles(t)
	record, pop := filepath.Join(dir, "draw.json"), filepath.Join(dir, "population.txt")
	code, _, stderr := runDraw("run", "--request", reqPath, "--units", unitsPath, "--record", record, "--population", pop)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runDraw("verify", "--record", record, "--population", pop)
	if code != 0 || !strings.HasPrefix(stdout, "OK cli-test-20260301T000000Z-") {
		t.Fatalf("verify: exit %d: %s %s", code, stdout, stderr)
	}

	// a record that was tampered with fails with the first difference
	data, _ := os.ReadFile(record)
	rec, err := draw.ParseRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	rec.Selected[0].Inspectors[0] = "zz"
	tampered := filepath.Join(dir, "tampered.json")
	os.WriteFile(tampered, rec.AppendJSON(nil), 0o644)
	code, stdout, _ = runDraw("verify", "--record", tampered, "--population", pop)
	if code != 1 || !strings.Contains(stdout, "selected[0].inspectors") || !strings.Contains(stdout, rec.Selected[0].USCC.String()) {
		t.Fatalf("tampered record: exit %d: %s", code, stdout)
	}
	// so does a population line
	lines, _ := os.ReadFile(pop)
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, bytes.Replace(lines, []byte(",A\n"), []byte(",B\n"), 1), 0o644)
	code, stdout, _ = runDraw("verify", "--record", record, "--population", bad)
	if code != 1 || !strings.Contains(stdout, "population_digest") {
		t.Fatalf("tampered population: exit %d: %s", code, stdout)
	}
	// and a record that is not a record
	os.WriteFile(tampered, []byte(`{"format": "draw/v1"}`), 0o644)
	if code, stdout, _ = runDraw("verify", "--record", tampered, "--population", pop); code != 1 || !strings.Contains(stdout, "not a valid draw/v1 record") {
		t.Fatalf("invalid record: exit %d: %s", code, stdout)
	}

	// an earlier draw excludes its selections
	req2 := filepath.Join(dir, "request2.json")
	r2, _ := os.ReadFile(reqPath)
	r2 = bytes.Replace(r2, []byte(`"as_of": "2026-03-01T00:00:00Z",`), []byte(`"as_of": "2026-03-10T00:00:00Z", "exclude_selected_within_days": 30,`), 1)
	r2 = bytes.Replace(r2, []byte("0123456789abcdef0123456789abcdef"), []byte("fedcba9876543210fedcba9876543210"), 1)
	os.WriteFile(req2, r2, 0o644)
	record2 := filepath.Join(dir, "draw2.json")
	code, _, stderr = runDraw("run", "--request", req2, "--units", unitsPath, "--record", record2, "--population", filepath.Join(dir, "pop2.txt"), "--earlier", record)
	if code != 0 {
		t.Fatalf("second run: %s", stderr)
	}
	d2, _ := os.ReadFile(record2)
	rec2, _ := draw.ParseRecord(d2)
	first, _ := draw.ParseRecord(data)
	if rec2.Strata[0].N+int64(len(first.Selected)) < first.Strata[0].N || rec2.Strata[1].N >= first.Strata[1].N {
		t.Fatalf("earlier selections were not excluded: %+v vs %+v", rec2.Strata, first.Strata)
	}
}

func TestDrawUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}, {"verify"}, {"verify", "--record", "x"}, {"run", "--units", "x"}, {"verify", "--bogus"}} {
		if code, _, _ := runDraw(args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code, stdout, _ := runDraw("help"); code != 0 || !strings.Contains(stdout, "draw verify") {
		t.Errorf("help: %d", code)
	}
	dir, reqPath, _ := drawTestFiles(t)
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("91350100M000100Y43,37010,A\n"), 0o644)
	if code, _, stderr := runDraw("run", "--request", reqPath, "--units", bad, "--population", filepath.Join(dir, "p.txt")); code != 1 || !strings.Contains(stderr, "bad.csv:1") {
		t.Errorf("bad CSV: %d %s", code, stderr)
	}
	if code, _, _ := runDraw("verify", "--record", filepath.Join(dir, "missing.json"), "--population", "x"); code != 1 {
		t.Errorf("missing file: exit %d", code)
	}
}

// `draw verify` on the golden draw/v2 records: both editions verify with
// their amendments and say which checks the edition allows; a changed
// byte fails.
func TestDrawVerifyV2Editions(t *testing.T) {
	dir := filepath.Join("..", "..", "sampler", "testdata", "golden_v2", "national_conflicts_cap")
	pop, amend := filepath.Join(dir, "population.txt"), filepath.Join(dir, "amendments.json")
	code, out, stderr := runDraw("verify", "--record", filepath.Join(dir, "public.json"), "--population", pop, "--amendments", amend)
	if code != 0 || !strings.Contains(out, "(public edition)") || !strings.Contains(out, "not checkable with this edition: selection") || !strings.Contains(out, "3 amendments") {
		t.Fatalf("public: exit %d: %s %s", code, out, stderr)
	}
	code, out, stderr = runDraw("verify", "--record", filepath.Join(dir, "regulatory.json"), "--population", pop, "--amendments", amend)
	if code != 0 || !strings.Contains(out, "(regulatory edition)") || strings.Contains(out, "not checkable") || !strings.Contains(out, "checked: selection") {
		t.Fatalf("regulatory: exit %d: %s %s", code, out, stderr)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "public.json"))
	data[len(data)/2] ^= 1
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, data, 0o644)
	if code, out, _ := runDraw("verify", "--record", bad, "--population", pop); code != 1 || !strings.HasPrefix(out, "FAIL") {
		t.Fatalf("changed byte: exit %d: %s", code, out)
	}
}
