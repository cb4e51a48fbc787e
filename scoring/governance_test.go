package scoring

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestGovernanceMembers(t *testing.T) {
	m, err := DefaultModel("national-4")
	if err != nil {
		t.Fatal(err)
	}
	// Without calibration: the scaling's odds; base score 600 at odds 19:1 is 5 %.
	if p := m.Probability(600); math.Abs(p-0.05) > 1e-12 {
		t.Errorf("P(600) = %v, want 0.05", p)
	}
	// 40 points lower doubles the odds of a finding: 2:19.
	if p := m.Probability(560); math.Abs(p-2.0/21) > 1e-12 {
		t.Errorf("P(560) = %v, want 2/21", p)
	}
	m.Calibration = &Calibration{Intercept: 1, Slope: 0.5, From: "2024-01-01", Until: "2025-01-01", Inspections: 10, Findings: 2}
	z := 1 + 0.5*math.Log(1.0/19)
	if p := m.Probability(600); math.Abs(p-1/(1+math.Exp(-z))) > 1e-12 {
		t.Errorf("calibrated P(600) = %v", p)
	}
	coefs := make([]Coefficient, len(m.Features))
	for i, f := range m.Features {
		coefs[i] = Coefficient{Code: f.Code, Prior: f.LogOdds, Estimate: f.LogOdds}
	}
	m.Training = &Training{From: "2024-01-01", Until: "2025-01-01", Inspections: 10, Findings: 2, Coefficients: coefs,
		HeldOut: &HeldOut{From: "2025-01-01", Until: "2026-01-01"}}
	b, _ := json.Marshal(m)
	m2, err := ParseModel(b)
	if err != nil {
		t.Fatalf("round trip: %v", err)
	}
	if m2.Hash() != m.Hash() {
		t.Error("hash changed in the round trip")
	}
	for _, c := range []struct{ old, new string }{
		{`"slope":0.5`, `"slope":0`},                     // slope must be positive
		{`"slope":0.5`, `"slope":-1`},                    // idem
		{`"findings":2`, `"findings":11`},                // more findings than inspections
		{`"until":"2025-01-01"`, `"until":"2023-01-01"`}, // window backwards
		{`"from":"2025-01-01","until":"2026-01-01"`, `"from":"2024-06-01","until":"2026-01-01"`}, // held out overlaps training
		{`"code":"PEN_SERIOUS","prior"`, `"code":"PEN_X","prior"`},                               // coefficient of another feature
		{`"slope":0.5`, `"slope":0.5,"bogus":1`},                                                 // unknown member
	} {
		s := string(b)
		if !strings.Contains(s, c.old) {
			t.Fatalf("test setup: %q not in the encoding", c.old)
		}
		if _, err := ParseModel([]byte(strings.Replace(s, c.old, c.new, 1))); err == nil {
			t.Errorf("%s → %s accepted", c.old, c.new)
		}
	}
}

// ParseModel never panics; an accepted model re-encodes to an artifact
// that parses to the same hash (the governance members included).
func FuzzParseModel(f *testing.F) {
	m, _ := DefaultModel("national-4")
	b, _ := json.Marshal(m)
	f.Add(b)
	m.Calibration = &Calibration{Intercept: 0.1, Slope: 1.1, From: "2024-01-01", Until: "2025-01-01", Inspections: 5, Findings: 1}
	b, _ = json.Marshal(m)
	f.Add(b)
	f.Add([]byte(`{"format":"creditd-risk-model/v1","calibration":{"slope":1e400}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseModel(b)
		if err != nil {
			return
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("accepted model does not encode: %v", err)
		}
		m2, err := ParseModel(out)
		if err != nil || m2.Hash() != m.Hash() {
			t.Fatalf("re-encoded model: %v", err)
		}
	})
}
