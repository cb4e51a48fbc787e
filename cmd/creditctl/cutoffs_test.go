package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/feeds/synth"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/scoring"
)

// demoEnd fixes the demo province's end (creditd --demo uses today).
var demoEnd = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// demoEnds are the ends checked: the demo generates up to today, and the
// shares must hold at another season too. Not in July–September: missing
// annual reports are listed in early July (domain.md §4.2), which swells
// the highest-risk tier to about 8 % until the listings are cured
// (MODEL.md "Tier targets"; regulators re-run the classification monthly,
// domain.md §2.1, and re-set cut-offs with creditctl model cutoffs).
var demoEnds = []time.Time{demoEnd, time.Date(2027, 3, 15, 0, 0, 0, 0, time.UTC)}

// demoEngine loads the demo province of creditd --demo (its defaults:
// 20,000 entities, 730 days, seed 1, Shandong) into an engine of model m.
func demoEngine(t testing.TB, m *scoring.Model, end time.Time) *scoring.Engine {
	t.Helper()
	eng, err := scoring.New(scoring.Options{Model: m, Now: func() time.Time { return end }})
	if err != nil {
		t.Fatal(err)
	}
	var dec event.Decoder
	var ev event.Event
	err = synth.Generate(context.Background(), synth.Options{Entities: 20_000, Days: 730, Seed: 1, End: end},
		func(l []byte) error {
			if err := dec.Decode(l, &ev); err != nil {
				return err
			}
			_, err := eng.ApplyAt(&ev, end, true, nil)
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// TestDemoTierShares (issue 12, domain.md §2.3: regulators plan inspections
// by tier sizes): on the demo province the built-in models' cut-offs put
// each tier within 2 percentage points of the model's documented
// tier_targets (MODEL.md "Tier targets"). The cut-offs were set with
// creditctl model cutoffs on this population; the test fails when the
// cut-offs, the features or the generator drift apart.
func TestDemoTierShares(t *testing.T) {
	for _, scheme := range []string{"national-4", "shandong-5"} {
		m, err := scoring.DefaultModel(scheme)
		if err != nil {
			t.Fatal(err)
		}
		if m.TierTargets == nil {
			t.Fatalf("%s documents no tier targets", scheme)
		}
		for _, end := range demoEnds {
			demoShares(t, m, end)
		}
	}
}

// demoShares checks the tier shares of the demo province ending at end,
// counted by the engine's own tiers (TierStats, the regulators' tier
// statistics), against m's targets.
func demoShares(t *testing.T, m *scoring.Model, end time.Time) {
	eng := demoEngine(t, m, end)
	st, err := eng.TierStats(context.Background(), end, "")
	if err != nil {
		t.Fatal(err)
	}
	if st.Entities < 15_000 {
		t.Fatalf("%s: only %d entities in the demo population", m.TierScheme, st.Entities)
	}
	got := make([]float64, len(st.Tiers))
	for i, ts := range st.Tiers {
		got[i] = float64(ts.Entities) / float64(st.Entities)
		if d := math.Abs(got[i] - m.TierTargets[i]); d > 0.02 {
			t.Errorf("%s, end %s, tier %s: %.1f %% of the demo population, target %.1f %%", m.TierScheme,
				end.Format(time.DateOnly), ts.Tier, 100*got[i], 100*m.TierTargets[i])
		}
	}
	t.Logf("%s, end %s: shares %.3f, targets %.3f, cut-offs %v", m.TierScheme, end.Format(time.DateOnly), got, m.TierTargets, m.Cutoffs)
}

// TestDemoIndividualBusinessPath (issue 12): individual businesses
// (个体工商户, USCC position 2 = "2", domain.md §1.5) never receive a tax
// credit level (§2.4), yet earn the lowest-risk tier through the features
// every entity type can earn (on-time annual reports, clean years, clean
// inspections; MODEL.md "Individual businesses"). Before, 0.2 % of them
// were tier A nationally and 94 % tier B. Required: at least a fifth of
// the planned share of tier A (30 % national, 20 % Shandong), and each
// kind's tier A reached by some entity with no tax rating.
func TestDemoIndividualBusinessPath(t *testing.T) {
	for _, scheme := range []string{"national-4", "shandong-5"} {
		m, _ := scoring.DefaultModel(scheme)
		eng := demoEngine(t, m, demoEnd)
		var n, a int
		for p := 0; p < eng.Shards(); p++ {
			err := eng.Scan(context.Background(), p, demoEnd, scoring.ScanOptions{}, func(e *scoring.EntityAt) error {
				if !e.Registered || e.Deregistered || e.RegisteredOn.Unix() > demoEnd.Unix() || e.USCC[1] != '2' {
					return nil
				}
				n++
				if e.Tier == 0 {
					a++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		share := float64(a) / float64(n)
		t.Logf("%s: %d of %d individual businesses (%.1f %%) in tier A", scheme, a, n, 100*share)
		if n < 8000 || share < m.TierTargets[0]/5 {
			t.Errorf("%s: %d of %d individual businesses in tier A (%.1f %%): no real path to the lowest-risk tier",
				scheme, a, n, 100*share)
		}
	}
}

// TestModelCutoffsCommand runs creditctl model cutoffs on a generated
// province: the written model carries cut-offs that meet its targets
// within 2 percentage points when an engine of that model counts its own
// tiers (TierStats), the printed table shows every tier, and bad
// invocations fail clearly.
func TestModelCutoffsCommand(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "ev.ndjson")
	var out, errb bytes.Buffer
	if code := cmdGen(context.Background(), []string{"--entities", "12000", "--days", "730", "--seed", "5", "--end", "2026-10-01", "--quiet"}, &out, &errb); code != 0 {
		t.Fatalf("gen: %d %s", code, errb.String())
	}
	if err := os.WriteFile(events, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, scheme := range []string{"national-4", "shandong-5"} {
		outFile := filepath.Join(dir, scheme+".json")
		errb.Reset()
		if code := cmdModel(context.Background(), []string{"cutoffs", "--model", scheme, "--data", events, "--as-of", "2026-10-01", "-o", outFile}, &out, &errb); code != 0 {
			t.Fatalf("cutoffs: %d %s", code, errb.String())
		}
		b, err := os.ReadFile(outFile)
		if err != nil {
			t.Fatal(err)
		}
		m, err := scoring.ParseModel(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, label := range []string{"A ", "B ", "C ", "D ", "largest deviation"} {
			if !strings.Contains(errb.String(), "\n"+label) {
				t.Errorf("%s: no line %q in the table:\n%s", scheme, label, errb.String())
			}
		}
		ds, err := replay(context.Background(), events, m, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		eng := ds.eng
		asOf := time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC) // 2026-10-01 00:00 CST
		st, err := eng.TierStats(context.Background(), asOf, "")
		if err != nil {
			t.Fatal(err)
		}
		for i, ts := range st.Tiers {
			if got := float64(ts.Entities) / float64(st.Entities); math.Abs(got-m.TierTargets[i]) > 0.02 {
				t.Errorf("%s tier %s: %.1f %%, target %.1f %% (cut-offs %v)", scheme, ts.Tier, 100*got, 100*m.TierTargets[i], m.Cutoffs)
			}
		}
		checkReference(t, scheme, m, eng, asOf, st.Entities)
	}
	// A model without targets, and missing flags.
	noTargets := filepath.Join(dir, "none.json")
	m, _ := scoring.DefaultModel("national-4")
	m.TierTargets = nil
	b, _ := encodeModel(m)
	if err := os.WriteFile(noTargets, b, 0o600); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if code := cmdModel(context.Background(), []string{"cutoffs", "--model", noTargets, "--data", events, "--as-of", "2026-10-01"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "no tier_targets") {
		t.Errorf("no targets: exit %d, %q", code, errb.String())
	}
	if code := cmdModel(context.Background(), []string{"cutoffs", "--model", "national-4", "--data", events, "--as-of", "1 Oct"}, &out, &errb); code != 2 {
		t.Errorf("bad date: exit %d", code)
	}
}

// checkReference: the written reference is the drift baseline of the same
// population (the day before --as-of): its entity count is the
// population's, and the engine's scores counted into its bands give back
// its shares (PSI 0 against itself), with at least five bands.
func checkReference(t *testing.T, scheme string, m *scoring.Model, eng *scoring.Engine, asOf time.Time, entities int) {
	t.Helper()
	ref := m.Reference
	if ref == nil || ref.AsOf != "2026-09-30" || ref.Entities != entities || len(ref.Edges) < 4 {
		t.Fatalf("%s: reference %+v, want as of 2026-09-30 over %d entities in ≥ 5 bands", scheme, ref, entities)
	}
	pop, err := eng.Population(context.Background(), asOf)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int64, len(ref.Edges)+1)
	for _, p := range pop {
		counts[ref.Band(p.Score)]++
	}
	if psi := scoring.PSI(ref.Shares, scoring.Distribution(counts)); psi > 1e-12 {
		t.Errorf("%s: PSI of the reference population against its own reference %v", scheme, psi)
	}
}
