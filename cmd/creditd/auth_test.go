package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodTokens = "# comment\nregulator 0123456789abcdef0123\n"

// The service refuses to start on a world-readable tokens file, with the
// reason on stderr, and starts with --allow-shared-tokens-file.
func TestServiceRefusesSharedTokensFile(t *testing.T) {
	data := t.TempDir()
	p := filepath.Join(data, "tokens")
	if err := os.WriteFile(p, []byte(goodTokens), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"--data", data, "--tokens", p, "--listen", "127.0.0.1:0"},
		func(string) string { return "" }, &stdout, &stderr)
	if code := exitCode(err, &stderr); code != 1 || !strings.Contains(stderr.String(), "chmod 600") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the run stops at once once started
	stderr.Reset()
	err = run(ctx, []string{"--data", data, "--tokens", p, "--listen", "127.0.0.1:0", "--allow-shared-tokens-file"},
		func(string) string { return "" }, &stdout, &stderr)
	if err != nil {
		t.Errorf("with --allow-shared-tokens-file: %v\n%s", err, stderr.String())
	}
}
