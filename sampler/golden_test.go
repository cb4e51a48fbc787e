package sampler

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// goldenCase is the input of a golden draw (testdata/golden/*.case.json);
// the expected output (*.expected.json) is computed by the independent
// reference implementation testdata/reference_draw.py.
type goldenCase struct {
	Scheme  string `json:"scheme"`
	Options struct {
		AllowZeroLowestTier bool `json:"allow_zero_lowest_tier"`
	} `json:"options"`
	Request json.RawMessage `json:"request"`
	Units   []struct {
		USCC           string  `json:"uscc"`
		Region         string  `json:"region"`
		Tier           *string `json:"tier"`
		RegisteredAt   int64   `json:"registered_at"`
		DeregisteredAt int64   `json:"deregistered_at"`
		Inspections    []struct {
			At     int64  `json:"at"`
			PlanID string `json:"plan_id"`
		} `json:"inspections"`
	} `json:"units"`
	Ledger []struct {
		PlanID   string   `json:"plan_id"`
		AsOf     string   `json:"as_of"`
		Selected []string `json:"selected"`
	} `json:"ledger"`
}

type goldenExpected struct {
	Error            string `json:"error"`
	Population       string `json:"population"`
	PopulationDigest string `json:"population_digest"`
	Strata           map[string]struct {
		N  int64  `json:"N"`
		N2 int64  `json:"n"`
		Pi string `json:"pi"`
	} `json:"strata"`
	Selected []struct {
		USCC       string   `json:"uscc"`
		Region     string   `json:"region"`
		Tier       string   `json:"tier"`
		Priority   string   `json:"priority"`
		Inspectors []string `json:"inspectors"`
		Unassigned int      `json:"unassigned"`
		Reason     string   `json:"reason"`
	} `json:"selected"`
	Below3Percent bool `json:"below_3_percent"`
}

// loadGolden builds the request, source, ledger and options of a case.
func loadGolden(t testing.TB, path string, parts int) (*draw.Request, *MemSource, *Ledger, Options) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var gc goldenCase
	if err := json.Unmarshal(data, &gc); err != nil {
		t.Fatal(err)
	}
	scheme, err := tier.LookupScheme(gc.Scheme)
	if err != nil {
		t.Fatal(err)
	}
	req, err := draw.ParseRequest(gc.Request)
	if err != nil {
		t.Fatal(err)
	}
	src := &MemSource{Parts: parts, Scheme: scheme}
	for _, gu := range gc.Units {
		c, err := uscc.Parse(gu.USCC)
		if err != nil {
			t.Fatal(err)
		}
		u := Unit{USCC: c, Tier: tier.None, RegisteredAt: gu.RegisteredAt, DeregisteredAt: gu.DeregisteredAt}
		copy(u.Region[:], gu.Region)
		if gu.Tier != nil {
			if u.Tier, err = scheme.Parse(*gu.Tier); err != nil {
				t.Fatal(err)
			}
		}
		for _, in := range gu.Inspections {
			u.Inspections = append(u.Inspections, Inspection{At: in.At, PlanID: in.PlanID})
		}
		src.Units = append(src.Units, u)
	}
	ledger := NewLedger()
	for i, d := range gc.Ledger {
		at, err := time.Parse(time.RFC3339, d.AsOf)
		if err != nil {
			t.Fatal(err)
		}
		var sel []uscc.Code
		for _, s := range d.Selected {
			c, _ := uscc.Parse(s)
			sel = append(sel, c)
		}
		ledger.Add(fmt.Sprintf("ledger-%d", i), d.PlanID, at, sel)
	}
	return req, src, ledger, Options{AllowZeroLowestTier: gc.Options.AllowZeroLowestTier}
}

func goldenCases(t testing.TB) []string {
	cases, err := filepath.Glob("testdata/golden/*.case.json")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	return cases
}

func TestGoldenDraws(t *testing.T) {
	for _, path := range goldenCases(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".case.json")
		for _, cfg := range []struct{ parts, workers int }{{1, 1}, {5, 2}, {13, 4}} {
			t.Run(fmt.Sprintf("%s/parts=%d,workers=%d", name, cfg.parts, cfg.workers), func(t *testing.T) {
				req, src, ledger, opts := loadGolden(t, path, cfg.parts)
				opts.Workers = cfg.workers
				var want goldenExpected
				data, err := os.ReadFile(strings.TrimSuffix(path, ".case.json") + ".expected.json")
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(data, &want); err != nil {
					t.Fatal(err)
				}
				var pop bytes.Buffer
				rec, _, err := Draw(context.Background(), req, src, ledger, &pop, opts)
				if want.Error != "" {
					if err == nil {
						t.Fatalf("draw succeeded; the reference refuses it: %s", want.Error)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				compareGolden(t, rec, pop.String(), &want)
				if _, err := Verify(context.Background(), rec, bytes.NewReader(pop.Bytes())); err != nil {
					t.Fatalf("own record does not verify: %v", err)
				}
			})
		}
	}
}

func compareGolden(t *testing.T, rec *draw.Record, pop string, want *goldenExpected) {
	t.Helper()
	if pop != want.Population {
		gl, wl := strings.Split(pop, "\n"), strings.Split(want.Population, "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("population line %d is %q, reference %q", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("population has %d lines, reference %d", len(gl), len(wl))
	}
	if got := hex.EncodeToString(rec.PopulationDigest[:]); got != want.PopulationDigest {
		t.Fatalf("digest %s, reference %s", got, want.PopulationDigest)
	}
	for _, s := range rec.Strata {
		w, ok := want.Strata[s.Label]
		if !ok || w.N != s.N || w.N2 != s.Sample || w.Pi != s.Pi {
			t.Fatalf("stratum %s: N %d n %d pi %s; reference %+v", s.Label, s.N, s.Sample, s.Pi, w)
		}
	}
	if len(rec.Selected) != len(want.Selected) {
		t.Fatalf("%d selected, reference %d", len(rec.Selected), len(want.Selected))
	}
	for i, s := range rec.Selected {
		w := want.Selected[i]
		got := fmt.Sprintf("%s %s %s %x %q %d %q", s.USCC, s.Region[:], rec.Scheme.Label(s.Tier), s.Priority, s.Inspectors, s.Unassigned, s.Reason)
		exp := fmt.Sprintf("%s %s %s %s %q %d %q", w.USCC, w.Region, w.Tier, w.Priority, w.Inspectors, w.Unassigned, w.Reason)
		if got != exp {
			t.Fatalf("selected[%d]:\n got  %s\n want %s", i, got, exp)
		}
	}
	below := slices.ContainsFunc(rec.Warnings, func(w string) bool { return strings.Contains(w, "below the 3% floor") })
	if below != want.Below3Percent {
		t.Fatalf("3%% warning %v, reference %v (warnings %q)", below, want.Below3Percent, rec.Warnings)
	}
}
