package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/creditrisk/creditd/models/testenv"
)

// sciPython returns a python3 that imports statsmodels and sklearn:
// Debian's /usr/bin/python3 first (apt-get install python3-statsmodels
// python3-sklearn), then the one on PATH.
func sciPython() string {
	cands := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		cands = append(cands, p)
	}
	for _, p := range cands {
		if exec.Command(p, "-c", "import statsmodels, sklearn").Run() == nil {
			return p
		}
	}
	return ""
}

// The independent check (testdata/check_fit.py): the unpenalised fit's
// coefficients and standard errors agree with statsmodels within 1e-4 on
// the exported full-rank design, and eval's AUC and KS with scikit-learn.
func TestModelFitAgainstStatsmodels(t *testing.T) {
	py := sciPython()
	if py == "" {
		testenv.MissingTool(t, "python3 with statsmodels and sklearn", "apt-get install -y python3-statsmodels python3-sklearn")
		return
	}
	events, _, fitted, _ := modelFixture(t)
	dir := t.TempDir()
	design, unpen, scores := filepath.Join(dir, "design.csv"), filepath.Join(dir, "unpen.json"), filepath.Join(dir, "scores.csv")
	var out, errb bytes.Buffer
	if code := cmdModel(context.Background(), []string{"fit", "--events", events, "--unpenalised", "--export-design", design, "--out", unpen}, &out, &errb); code != 0 {
		t.Fatalf("fit --unpenalised: %d %s", code, errb.String())
	}
	out.Reset()
	if code := cmdModel(context.Background(), []string{"eval", "--events", events, "--model", fitted, "--json", "--export-scores", scores}, &out, &errb); code != 0 {
		t.Fatalf("eval: %d %s", code, errb.String())
	}
	report := filepath.Join(dir, "eval.json")
	if err := os.WriteFile(report, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs(filepath.Join("testdata", "check_fit.py"))
	cmd := exec.Command(py, script, design, unpen, scores, report)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		t.Fatalf("check_fit.py: %v\n%s%s", err, so.String(), se.String())
	}
	t.Log(so.String())
}
