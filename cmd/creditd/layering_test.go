package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering checks the import rules of docs/architecture.md on the whole
// module (package and test imports alike): models imports only models;
// scoring, sampler and each feeds package import models and their own
// sub-packages only (feeds also feeds/internal); nothing outside cmd
// imports cmd; bench programs may import anything but cmd/creditd's
// internals.
func TestLayering(t *testing.T) {
	const mod = "github.com/creditrisk/creditd/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`, "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := func(pkg, dep string) bool {
		root := func(p string) string { return strings.SplitN(p, "/", 2)[0] }
		switch root(pkg) {
		case "models":
			return root(dep) == "models"
		case "scoring", "sampler":
			return root(dep) == "models" || root(dep) == root(pkg)
		case "feeds":
			own := strings.Join(strings.SplitN(pkg, "/", 3)[:2], "/")
			return root(dep) == "models" || dep == own || strings.HasPrefix(dep, own+"/") || strings.HasPrefix(dep, "feeds/internal/")
		case "bench":
			return !strings.HasPrefix(dep, "cmd/creditd/internal/")
		}
		return true
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], mod)
		for _, dep := range fields[1:] {
			if !strings.HasPrefix(dep, mod) {
				continue
			}
			dep = strings.TrimPrefix(dep, mod)
			checked++
			if !allowed(pkg, dep) {
				t.Errorf("%s imports %s", pkg, dep)
			}
			if strings.HasPrefix(dep, "cmd/") && !strings.HasPrefix(pkg, "cmd/") {
				t.Errorf("%s imports %s (only cmd imports cmd)", pkg, dep)
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d imports of ours checked: go list output %q", checked, out)
	}
}
