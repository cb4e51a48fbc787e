package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestUSCCCheck(t *testing.T) {
	var out, errb bytes.Buffer
	code := cmdUSCC(context.Background(), []string{"check", "914403001922038216", "91350100M000100Y4Z", "91350100M0001TGQXM", "abc"}, &out, &errb)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{"914403001922038216 valid", "91350100M000100Y4Z invalid: uscc_check", "91350100M0001TGQXM valid (known exception", "abc invalid: uscc_length"}
	if len(lines) != len(want) {
		t.Fatalf("output %q", out.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], w)
		}
	}
	out.Reset()
	if code := cmdUSCC(context.Background(), []string{"check", "--strict", "91350100M0001TGQXM"}, &out, &errb); code != 1 {
		t.Errorf("strict: exit %d, output %q", code, out.String())
	}
	out.Reset()
	if code := cmdUSCC(context.Background(), []string{"check", "91310115MA1K3BTP2B"}, &out, &errb); code != 0 || out.String() != "91310115MA1K3BTP2B valid\n" {
		t.Errorf("valid: exit %d, output %q", code, out.String())
	}
}
