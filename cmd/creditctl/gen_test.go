package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/feeds/synth"
)

func runGenCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cmdGen(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestGenOutput(t *testing.T) {
	args := []string{"--entities", "400", "--days", "200", "--seed", "5", "--end", "2026-01-15", "--quiet"}
	code, out, errs := runGenCmd(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if errs != "" {
		t.Fatalf("--quiet printed %q", errs)
	}
	if !strings.HasSuffix(out, "\n") {
		t.Fatal("output does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	registered := 0
	end := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	for i, l := range lines {
		var ev struct {
			ID, USCC, Type string
			OccurredAt     time.Time `json:"occurred_at"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, l)
		}
		if ev.Type == "registered" {
			registered++
		}
		if !ev.OccurredAt.Before(end) {
			t.Fatalf("line %d occurs at %v, not before --end", i+1, ev.OccurredAt)
		}
	}
	if registered != 400 {
		t.Fatalf("%d registrations, want 400", registered)
	}
	// Same flags, same bytes; and the library gives the same stream.
	if _, again, _ := runGenCmd(t, args...); again != out {
		t.Fatal("same flags gave different output")
	}
	var lib bytes.Buffer
	err := synth.Generate(context.Background(), synth.Options{Entities: 400, Days: 200, Seed: 5,
		End: time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)}, func(l []byte) error {
		lib.Write(l)
		return lib.WriteByte('\n')
	})
	if err != nil || lib.String() != out {
		t.Fatalf("library output differs from the command's (err %v)", err)
	}
}

// TestGenConsumerComplaints: --consumer-complaints adds complaint lines
// with 12315 ids and leaves every other line as it was.
func TestGenConsumerComplaints(t *testing.T) {
	args := []string{"--entities", "2000", "--days", "365", "--seed", "5", "--end", "2026-01-15", "--quiet"}
	_, without, _ := runGenCmd(t, args...)
	code, with, errs := runGenCmd(t, append(args, "--consumer-complaints")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rest []string
	added := 0
	for _, l := range strings.SplitAfter(with, "\n") {
		if strings.Contains(l, `"id":"12315-`) {
			if !strings.Contains(l, `"type":"complaint"`) {
				t.Fatalf("12315 id on another type: %s", l)
			}
			added++
			continue
		}
		rest = append(rest, l)
	}
	if added == 0 || strings.Contains(without, `"id":"12315-`) {
		t.Fatalf("%d consumer complaints with the flag; without it: %v", added, strings.Contains(without, `"id":"12315-`))
	}
	if strings.Join(rest, "") != without {
		t.Fatal("the other lines changed")
	}
}

func TestGenDefaultEnd(t *testing.T) {
	old := genNow
	defer func() { genNow = old }()
	genNow = func() time.Time { return time.Date(2026, 3, 9, 22, 15, 0, 0, time.FixedZone("CST", 8*3600)) }
	_, def, _ := runGenCmd(t, "--entities", "50", "--days", "30", "--quiet")
	// 22:15 China time on 9 March is 14:15 UTC the same day.
	_, explicit, _ := runGenCmd(t, "--entities", "50", "--days", "30", "--quiet", "--end", "2026-03-09")
	if def == "" || def != explicit {
		t.Fatal("the default --end is not today's UTC date")
	}
}

func TestGenTruthAndSummary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "truth.csv")
	code, out, errs := runGenCmd(t, "--entities", "300", "--days", "100", "--end", "2025-09-01", "--truth", path, "--bad-rate", "0.05")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(rows) != 301 || rows[0] != synth.TruthCSVHeader {
		t.Fatalf("truth has %d lines, header %q", len(rows), rows[0])
	}
	for _, r := range rows[1:] {
		if code := strings.SplitN(r, ",", 2)[0]; !strings.Contains(out, `"uscc":"`+code+`"`) {
			t.Fatalf("truth entity %s not in the stream", code)
		}
	}
	if !strings.Contains(out, `"id":"BAD-`) {
		t.Fatal("--bad-rate 0.05 gave no bad lines")
	}
	if !strings.Contains(errs, "300 entities") || !strings.Contains(errs, "bad lines") {
		t.Fatalf("summary: %q", errs)
	}
}

func TestGenErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--end", "2026/01/01"}, 2, "--end"},
		{[]string{"--region", "99"}, 2, "region"},
		{[]string{"--entities", "0"}, 2, "positive"},
		{[]string{"--days", "-3"}, 2, "positive"},
		{[]string{"--bad-rate", "2"}, 2, "bad rate"},
		{[]string{"--nope"}, 2, "flag provided but not defined"},
		{[]string{"extra"}, 2, "unexpected argument"},
		{[]string{"--entities", "10", "--days", "5", "--truth", "/nonexistent-dir/t.csv"}, 1, "nonexistent"},
		{[]string{"--help"}, 0, "usage: creditctl gen"},
	}
	for _, c := range cases {
		code, _, errs := runGenCmd(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errs, c.code, c.msg)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestGenWriteError(t *testing.T) {
	var errb bytes.Buffer
	code := cmdGen(context.Background(), []string{"--entities", "20000", "--days", "30", "--quiet"}, failWriter{}, &errb)
	if code != 1 || !strings.Contains(errb.String(), "disk full") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}
