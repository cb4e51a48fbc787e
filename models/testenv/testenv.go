// Package testenv holds the one rule every test follows when a tool it
// needs (python3, kcat, ClickHouse, openssl, …) is missing: skip on a
// developer's machine, fail under CI. It lives under models because the
// module's top level is fixed (cmd, models, scoring, sampler, feeds, bench)
// and only a package under models may be imported by every other package
// (models imports nothing of ours, and neither does this package). It is
// imported by tests only.
package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
)

// InCI reports whether the tests run under continuous integration: the
// environment variable CI is set to anything but an empty string, "0",
// "false" or "no" (GitHub Actions and GitLab set "true", others "1" or
// "yes"). extra names more variables that count the same way (for example
// CLICKHOUSE_REQUIRED).
func InCI(extra ...string) bool {
	for _, name := range append([]string{"CI"}, extra...) {
		if truthy(os.Getenv(name)) {
			return true
		}
	}
	return false
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false
	}
	return true
}

// TB is the part of testing.TB that MissingTool uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// MissingTool ends the test because what (a tool or a service) is not
// available, with why and how to get it: a failure under CI (InCI with
// extra), a skip otherwise.
func MissingTool(t TB, what, why string, extra ...string) {
	t.Helper()
	if InCI(extra...) {
		t.Fatalf("%s is not available under CI: %s", what, why)
		return
	}
	t.Skipf("%s is not available (%s); skipping here, this fails under CI", what, why)
}

// Python runs a standard-library-only python3 script with args in dir and
// returns its standard output; the test fails with the script's standard
// error when it exits non-zero. Without python3 it calls MissingTool. The
// scripts are independent checks of golden files, written from the
// specifications rather than from the Go code.
func Python(t TB, dir, script string, args ...string) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		MissingTool(t, "python3", "an independent check of a golden file is a python3 script: apt-get install -y python3")
		return ""
	}
	cmd := exec.Command(py, append([]string{script}, args...)...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("python3 %s %v: %v\n%s", script, args, err, stderr.String())
	}
	return stdout.String()
}
