package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/creditrisk/creditd/scoring"
)

// province is a synthetic province of 40,000 entities over three years,
// generated once for the model tests.
var province struct {
	once                             sync.Once
	dir, events, truth               string
	fitted, damaged, inverted, error string
}

func modelFixture(t *testing.T) (events, truth, fitted, damaged string) {
	t.Helper()
	p := &province
	p.once.Do(func() {
		dir, err := os.MkdirTemp("", "creditctl-model")
		if err != nil {
			p.error = err.Error()
			return
		}
		p.dir, p.events, p.truth = dir, filepath.Join(dir, "ev.ndjson"), filepath.Join(dir, "truth.csv")
		var out, errb bytes.Buffer
		if code := cmdGen(context.Background(), []string{"--entities", "40000", "--days", "1095", "--seed", "7", "--end", "2026-11-01",
			"--truth", p.truth, "--quiet"}, &out, &errb); code != 0 {
			p.error = "gen: " + errb.String()
			return
		}
		if err := os.WriteFile(p.events, out.Bytes(), 0o600); err != nil {
			p.error = err.Error()
			return
		}
		p.fitted = filepath.Join(dir, "fitted.json")
		// a year of burn-in: the stream starts without earlier records
		if code := cmdModel(context.Background(), []string{"fit", "--events", p.events, "--train-from", "2024-11-01", "--tier-targets", "0.3,0.5,0.15,0.05",
			"--out", p.fitted}, &out, &errb); code != 0 {
			p.error = "fit: " + errb.String()
			return
		}
		// The damaged challenger: the fitted model's coefficients rotated
		// by seven features (points follow, so the artifact stays valid).
		m, err := loadModel(p.fitted)
		if err != nil {
			p.error = err.Error()
			return
		}
		n := len(m.Features)
		orig := append([]scoring.Feature(nil), m.Features...)
		for i := range m.Features {
			m.Features[i].LogOdds, m.Features[i].Points = orig[(i+7)%n].LogOdds, orig[(i+7)%n].Points
		}
		m.Version += "-shuffled"
		b, _ := json.Marshal(m)
		p.damaged = filepath.Join(dir, "damaged.json")
		if err := os.WriteFile(p.damaged, b, 0o600); err != nil {
			p.error = err.Error()
		}
		// The inverted challenger: every coefficient's sign flipped.
		for i := range m.Features {
			m.Features[i].LogOdds, m.Features[i].Points = -orig[i].LogOdds, -orig[i].Points
		}
		m.Version += "-inverted"
		b, _ = json.Marshal(m)
		p.inverted = filepath.Join(dir, "inverted.json")
		if err := os.WriteFile(p.inverted, b, 0o600); err != nil {
			p.error = err.Error()
		}
	})
	if p.error != "" {
		t.Fatal(p.error)
	}
	return p.events, p.truth, p.fitted, p.damaged
}

func TestMain(m *testing.M) {
	code := m.Run()
	if province.dir != "" {
		os.RemoveAll(province.dir)
	}
	os.Exit(code)
}

// The fitted artifact records its windows, sample sizes, coefficients
// with intervals, calibration, reference and cut-offs from its targets.
func TestModelFitArtifact(t *testing.T) {
	_, _, fitted, _ := modelFixture(t)
	b, err := os.ReadFile(fitted)
	if err != nil {
		t.Fatal(err)
	}
	m, err := scoring.ParseModel(b)
	if err != nil {
		t.Fatalf("fitted model does not load: %v", err)
	}
	tr := m.Training
	if !strings.HasSuffix(m.Version, "+fit") || tr == nil || m.Calibration == nil || m.Reference == nil || tr.HeldOut == nil {
		t.Fatalf("version %q, training %v, calibration %v, reference %v", m.Version, tr, m.Calibration, m.Reference)
	}
	// default windows: held out = the last 365 days before 2026-11-01
	if tr.Until != "2025-11-01" || tr.HeldOut.From != "2025-11-01" || tr.HeldOut.Until != "2026-11-01" || m.Reference.AsOf != "2025-10-31" {
		t.Errorf("windows: training until %s, held out %s–%s, reference %s", tr.Until, tr.HeldOut.From, tr.HeldOut.Until, m.Reference.AsOf)
	}
	if tr.From != "2024-11-01" || tr.Inspections < 500 || tr.HeldOut.Inspections < 500 || tr.Findings == 0 || m.Calibration.Inspections != tr.Inspections {
		t.Errorf("sizes: %d training (%d findings), %d held out", tr.Inspections, tr.Findings, tr.HeldOut.Inspections)
	}
	for _, c := range tr.Coefficients {
		if !c.Held && !(c.SE > 0 && c.Lower < c.Estimate && c.Estimate < c.Upper) {
			t.Errorf("%s: estimate %v se %v interval [%v, %v]", c.Code, c.Estimate, c.SE, c.Lower, c.Upper)
		}
		if c.Held && c.Estimate != c.Prior {
			t.Errorf("%s held but estimate %v ≠ prior %v", c.Code, c.Estimate, c.Prior)
		}
		if c.Estimate*c.Prior < 0 {
			t.Errorf("%s: sign contradicts the prior without --allow-flip", c.Code)
		}
	}
	if len(m.Cutoffs) != 3 || len(m.TierTargets) != 4 {
		t.Errorf("cut-offs %v targets %v", m.Cutoffs, m.TierTargets)
	}
}

func TestModelEvalReport(t *testing.T) {
	events, truth, fitted, _ := modelFixture(t)
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := cmdModel(context.Background(), []string{"eval", "--events", events, "--model", fitted, "--json", "--svg", dir}, &out, &errb); code != 0 {
		t.Fatalf("eval: %d %s", code, errb.String())
	}
	var r evalReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Inspections < 500 || !(r.AUC.Value > 0.6) || r.AUC.Lower >= r.AUC.Value || r.Gini.Value != 2*r.AUC.Value-1 ||
		!(r.KS > 0) || !(r.Brier > 0 && r.Brier < 0.25) || r.Probability != "calibration" {
		t.Errorf("metrics: %+v", r)
	}
	sum, ents := 0, 0
	for _, tr := range r.Tiers {
		ents += tr.Entities
	}
	// Cut-offs from the targets 30/50/15/5 % at the end of training: a
	// year later the shares are still near them.
	for i, tr := range r.Tiers {
		if share := float64(tr.Entities) / float64(ents); share < []float64{0.3, 0.5, 0.15, 0.05}[i]-0.1 || share > []float64{0.3, 0.5, 0.15, 0.05}[i]+0.1 {
			t.Errorf("tier %s share %.3f far from its target", tr.Tier, share)
		}
	}
	for _, tr := range r.Tiers {
		sum += tr.Inspections
		if tr.Inspections > 0 && !(tr.Rate.Lower <= tr.Rate.Value && tr.Rate.Value <= tr.Rate.Upper) {
			t.Errorf("tier %s interval %+v", tr.Tier, tr.Rate)
		}
	}
	fm, err := loadModel(fitted)
	if err != nil {
		t.Fatal(err)
	}
	if sum != r.Inspections || len(r.FeaturePSI) != len(fm.Features) || r.ScorePSIReference == nil || !r.Calibrated {
		t.Errorf("tiers sum %d of %d; %d feature PSIs; reference PSI %v; calibrated %v", sum, r.Inspections, len(r.FeaturePSI), r.ScorePSIReference, r.Calibrated)
	}
	for _, f := range []string{"calibration.svg", "scores.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !bytes.HasPrefix(b, []byte("<svg")) || !bytes.HasSuffix(b, []byte("</svg>\n")) {
			t.Errorf("%s: %v", f, err)
		}
	}
	out.Reset()
	if code := cmdModel(context.Background(), []string{"eval", "--events", events, "--truth", truth}, &out, &errb); code != 0 {
		t.Fatalf("eval: %d %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "rises with the tier: yes") || !strings.Contains(out.String(), "probabilities from the scaling") {
		t.Errorf("built-in model eval:\n%s", out.String())
	}
}

// The promotion gate accepts an honest refit and refuses a damaged one
// (shuffled coefficients), an inverted one (AUC worse) and an
// uncalibrated one.
func TestModelCompareGate(t *testing.T) {
	events, _, fitted, damaged := modelFixture(t)
	for _, c := range []struct {
		champ, chall string
		code         int
		want         string
	}{
		{"national-4", fitted, 0, "may be promoted"},
		{fitted, damaged, 1, "promotion refused"},
		{fitted, province.inverted, 1, "promotion refused: the challenger's AUC is worse"},
		{fitted, "national-4", 1, "promotion refused: the challenger is not calibrated"},
	} {
		var out, errb bytes.Buffer
		code := cmdModel(context.Background(), []string{"compare", c.champ, c.chall, "--events", events}, &out, &errb)
		if code != c.code || !strings.Contains(errb.String(), c.want) {
			t.Errorf("compare %s %s: exit %d, want %d with %q\n%s%s", filepath.Base(c.champ), filepath.Base(c.chall), code, c.code, c.want, out.String(), errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := cmdModel(context.Background(), []string{"compare", fitted, "--events", events}, &out, &errb); code != 2 {
		t.Errorf("one model: exit %d, want 2", code)
	}
}

// Bad flags get a clear error and no output.
func TestModelFlagsRefused(t *testing.T) {
	events, _, _, _ := modelFixture(t)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"fit", "--events", events, "--allow-flip", "NOPE"}, 1, `no feature "NOPE"`},
		{[]string{"fit", "--events", events, "--tier-targets", "0.5,x"}, 1, "--tier-targets"},
		{[]string{"fit", "--events", events, "--train-until", "2026-01-01", "--holdout-until", "2025-06-01"}, 1, "must be non-empty"},
		{[]string{"eval", "--events", events, "--from", "2026-13-01"}, 1, "want YYYY-MM-DD"},
		{[]string{"eval"}, 2, ""},
		{[]string{"frobnicate"}, 2, "usage"},
	} {
		var out, errb bytes.Buffer
		code := cmdModel(context.Background(), c.args, &out, &errb)
		if code != c.code || !strings.Contains(errb.String(), c.want) || out.Len() != 0 {
			t.Errorf("%v: exit %d stdout %q stderr %q, want exit %d with %q", c.args, code, out.String(), errb.String(), c.code, c.want)
		}
	}
}

// No look-ahead: an inspection's features are the entity's records as of
// the second before it. Entity X has a general penalty 30 days before its
// inspection and a serious one 10 days after (a consequence of it);
// entity Y is inspected twice, and its first inspection must not see the
// second.
func TestDesignHasNoLookAhead(t *testing.T) {
	const x, y = "91370200MA91T7BR2N", "91370786MAN8D07J70"
	lines := []string{
		`{"id":"R1","uscc":"` + x + `","type":"registered","occurred_at":"2020-01-02T02:00:00Z","authority":"a","attrs":{"name":"n","region":"370200","registered_on":"2020-01-02","industry":"G54"}}`,
		`{"id":"R2","uscc":"` + y + `","type":"registered","occurred_at":"2020-01-02T02:00:00Z","authority":"a","attrs":{"name":"n","region":"370786","registered_on":"2020-01-02","industry":"G54"}}`,
		`{"id":"P1","uscc":"` + x + `","type":"penalty","occurred_at":"2025-03-03T02:00:00Z","authority":"a","attrs":{"severity":"general","decision_no":"d1","amount_yuan":100}}`,
		`{"id":"I1","uscc":"` + x + `","type":"inspection","occurred_at":"2025-04-02T02:00:00Z","authority":"a","attrs":{"plan_id":"p","result":"problem_found"}}`,
		`{"id":"I2","uscc":"` + y + `","type":"inspection","occurred_at":"2025-04-02T03:00:00Z","authority":"a","attrs":{"plan_id":"p","result":"unreachable"}}`,
		`{"id":"P2","uscc":"` + x + `","type":"penalty","occurred_at":"2025-04-12T02:00:00Z","authority":"a","attrs":{"severity":"serious","decision_no":"d2","amount_yuan":100000}}`,
		`{"id":"I3","uscc":"` + y + `","type":"inspection","occurred_at":"2025-06-03T02:00:00Z","authority":"a","attrs":{"plan_id":"p","result":"no_problem"}}`,
	}
	path := filepath.Join(t.TempDir(), "ev.ndjson")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, _ := scoring.DefaultModel("national-4")
	var errb bytes.Buffer
	ds, err := replay(context.Background(), path, m, &errb)
	if err != nil || errb.Len() != 0 {
		t.Fatalf("replay: %v %s", err, errb.String())
	}
	w, _, err := ds.windows("2025-01-01", "2026-01-01", "2026-01-01", "2026-06-01")
	if err != nil {
		t.Fatal(err)
	}
	obs := ds.design(w)
	if len(obs) != 3 {
		t.Fatalf("%d observations, want 3", len(obs))
	}
	weight := func(o int, code string) float64 { return obs[o].X[featureIndex(m, code)] }
	// X at I1: the general penalty (weight 1, first year), not the later serious one
	if weight(0, "PEN_GENERAL") != 1 || weight(0, "PEN_SERIOUS") != 0 || !obs[0].Finding {
		t.Errorf("I1: general %v serious %v finding %v", weight(0, "PEN_GENERAL"), weight(0, "PEN_SERIOUS"), obs[0].Finding)
	}
	// Y at I2: nothing yet (not its own result, not I3); unreachable is a finding
	for j, v := range obs[1].X {
		if v != 0 && m.Features[j].Code != "CLEAN_YEARS" { // registration age is known in advance
			t.Errorf("I2 sees %s = %v", m.Features[j].Code, v)
		}
	}
	if !obs[1].Finding {
		t.Error("unreachable is not counted as a finding")
	}
	// Y at I3: its earlier unreachable inspection, and no finding this time
	if weight(2, "INSP_UNREACHABLE") != 1 || obs[2].Finding {
		t.Errorf("I3: unreachable weight %v finding %v", weight(2, "INSP_UNREACHABLE"), obs[2].Finding)
	}
}
