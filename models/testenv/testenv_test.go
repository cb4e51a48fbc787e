package testenv

import (
	"fmt"
	"testing"
)

func TestInCI(t *testing.T) {
	for _, c := range []struct {
		ci, extra string
		want      bool
	}{
		{"", "", false},
		{"true", "", true},
		{"1", "", true},
		{"yes", "", true},
		{"TRUE", "", true},
		{"github", "", true},
		{"false", "", false},
		{"0", "", false},
		{"no", "", false},
		{" ", "", false},
		{"", "1", true},
		{"false", "true", true},
		{"0", "0", false},
	} {
		t.Setenv("CI", c.ci)
		t.Setenv("TESTENV_EXTRA", c.extra)
		if got := InCI("TESTENV_EXTRA"); got != c.want {
			t.Errorf("CI=%q TESTENV_EXTRA=%q: InCI = %v, want %v", c.ci, c.extra, got, c.want)
		}
	}
}

type recorder struct{ fatal, skip string }

func (r *recorder) Helper()                   {}
func (r *recorder) Fatalf(f string, a ...any) { r.fatal = fmt.Sprintf(f, a...) }
func (r *recorder) Skipf(f string, a ...any)  { r.skip = fmt.Sprintf(f, a...) }

func TestMissingTool(t *testing.T) {
	for _, ci := range []string{"1", "true", "yes"} {
		t.Setenv("CI", ci)
		var r recorder
		MissingTool(&r, "kcat", "not on PATH")
		if r.fatal == "" || r.skip != "" {
			t.Errorf("CI=%q: fatal %q skip %q, want a failure", ci, r.fatal, r.skip)
		}
	}
	for _, ci := range []string{"", "0", "false"} {
		t.Setenv("CI", ci)
		var r recorder
		MissingTool(&r, "kcat", "not on PATH")
		if r.skip == "" || r.fatal != "" {
			t.Errorf("CI=%q: fatal %q skip %q, want a skip", ci, r.fatal, r.skip)
		}
	}
}
