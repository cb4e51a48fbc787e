package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/scoring"
	"github.com/creditrisk/creditd/scoring/fit"
)

// modelCutoffs implements
//
//	creditctl model cutoffs --model M --data EVENTS.ndjson --as-of DATE [-o OUT]
//
// It replays the events, scores the population as of the start of DATE
// (00:00 China time; registered and not deregistered entities), chooses
// the cut-offs that bring the tier shares nearest the model's documented
// tier_targets (scoring.CutoffsForTargets; domain.md §2.3: regulators plan
// inspections by tier sizes), sets the model's reference score distribution
// (the drift baseline, decile bands of the same population, fit.Reference,
// as of the day before DATE) from the same scores, writes the model with
// those cut-offs and that reference (to OUT, or stdout) and prints achieved
// against target shares on stderr. M is a model file or the name of a
// built-in scheme (national-4, shandong-5).
func modelCutoffs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("model cutoffs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelArg := fs.String("model", "", "model JSON file, or a built-in scheme name (national-4, shandong-5)")
	data := fs.String("data", "", "NDJSON events of the reference population")
	asOf := fs.String("as-of", "", "date (YYYY-MM-DD) at whose start (00:00 China time) the population is scored")
	out := fs.String("o", "", "write the model with the new cut-offs here (default: stdout)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	day, err := civil.ParseDate(*asOf)
	if *modelArg == "" || *data == "" || err != nil {
		fmt.Fprintln(stderr, "usage: creditctl model cutoffs --model M --data EVENTS.ndjson --as-of YYYY-MM-DD [-o OUT]")
		return 2
	}
	m, err := loadModel(*modelArg)
	if err != nil {
		fmt.Fprintln(stderr, "creditctl model cutoffs:", err)
		return 1
	}
	if m.TierTargets == nil {
		fmt.Fprintf(stderr, "creditctl model cutoffs: model %s documents no tier_targets\n", m.ID)
		return 1
	}
	ds, err := replay(ctx, *data, m, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "creditctl model cutoffs:", err)
		return 1
	}
	at := time.Unix(day.Unix(), 0)
	nm, pop, err := setCutoffs(ctx, ds.eng, m, at, day-1)
	if err != nil {
		fmt.Fprintln(stderr, "creditctl model cutoffs:", err)
		return 1
	}
	printShares(stderr, nm, pop, day)
	b, err := encodeModel(nm)
	if err == nil {
		if *out == "" {
			_, err = stdout.Write(b)
		} else {
			err = os.WriteFile(*out, b, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "creditctl model cutoffs:", err)
		return 1
	}
	return 0
}

// setCutoffs scores eng's population at asOf and returns a copy of m with
// the cut-offs that meet m's tier targets on it and its score distribution
// as the reference (dated refDay, the last day before asOf), and the
// population.
func setCutoffs(ctx context.Context, eng *scoring.Engine, m *scoring.Model, asOf time.Time, refDay civil.Date) (*scoring.Model, []scoring.Scored, error) {
	pop, err := eng.Population(ctx, asOf)
	if err != nil {
		return nil, nil, err
	}
	cuts, err := scoring.CutoffsForTargets(pop, m.TierTargets)
	if err != nil {
		return nil, nil, err
	}
	nm := *m
	nm.Cutoffs = cuts
	scores := make([]int32, len(pop))
	for i, p := range pop {
		scores[i] = p.Score
	}
	nm.Reference = fit.Reference(scores, refDay.String())
	if err := nm.Validate(); err != nil {
		return nil, nil, err
	}
	return &nm, pop, nil
}

func loadModel(arg string) (*scoring.Model, error) {
	b, err := os.ReadFile(arg)
	if os.IsNotExist(err) {
		if m, derr := scoring.DefaultModel(arg); derr == nil {
			return m, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return scoring.ParseModel(b)
}

// encodeModel writes a model the way the built-in files are laid out
// (one-space indentation, no HTML escaping, final newline).
func encodeModel(m *scoring.Model) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func printShares(w io.Writer, m *scoring.Model, pop []scoring.Scored, day civil.Date) {
	scheme, _ := tier.LookupScheme(m.TierScheme) // validated with the model
	labels := scheme.Labels
	got := m.TierShares(pop)
	fmt.Fprintf(w, "%s: %d entities as of %s, cut-offs %v\n", m.TierScheme, len(pop), day, m.Cutoffs)
	fmt.Fprintln(w, "tier  target  achieved  diff (pp)  min score")
	for i, t := range m.TierTargets {
		lo := "—"
		if i < len(m.Cutoffs) {
			lo = fmt.Sprint(m.Cutoffs[i])
		}
		fmt.Fprintf(w, "%-4s  %5.1f%%  %7.1f%%  %+8.1f  %s\n", labels[i], 100*t, 100*got[i], 100*(got[i]-t), lo)
	}
	worst := 0.0
	for i := range got {
		worst = math.Max(worst, math.Abs(got[i]-m.TierTargets[i]))
	}
	fmt.Fprintf(w, "largest deviation %.1f pp\n", 100*worst)
}
