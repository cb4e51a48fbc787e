package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrisk/creditd/scoring"
)

func TestModelEvalAndFit(t *testing.T) {
	dir := t.TempDir()
	events, truth := filepath.Join(dir, "ev.ndjson"), filepath.Join(dir, "truth.csv")
	var out, errb bytes.Buffer
	if code := cmdGen(context.Background(), []string{"--entities", "8000", "--days", "730", "--seed", "3", "--end", "2026-11-01", "--truth", truth}, &out, &errb); code != 0 {
		t.Fatalf("gen: %d %s", code, errb.String())
	}
	if err := os.WriteFile(events, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := cmdModel(context.Background(), []string{"eval", "--events", events, "--truth", truth}, &out, &errb); code != 0 {
		t.Fatalf("eval: %d %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "rises with the tier: yes") {
		t.Errorf("tiers do not order the true problem probability:\n%s", out.String())
	}
	fitted := filepath.Join(dir, "fitted.json")
	if code := cmdModel(context.Background(), []string{"fit", "--events", events, "--out", fitted}, &out, &errb); code != 0 {
		t.Fatalf("fit: %d %s", code, errb.String())
	}
	b, err := os.ReadFile(fitted)
	if err != nil {
		t.Fatal(err)
	}
	m, err := scoring.ParseModel(b)
	if err != nil {
		t.Fatalf("fitted model does not load: %v", err)
	}
	if !strings.HasSuffix(m.Version, "+fit") {
		t.Errorf("version %q", m.Version)
	}
}
