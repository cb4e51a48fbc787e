package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/creditrisk/creditd/feeds/ndjson"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
	"github.com/creditrisk/creditd/scoring/fit"
)

// cmdModel implements "creditctl model fit|eval":
//
//	model fit  --events F [--scheme S | --model M] [--out FILE] [--l2 1] [--min-support 30]
//	model eval --events F --truth T [--scheme S | --model M]
//
// fit replays the events and fits the model's coefficients on the
// inspection outcomes in them (scoring/fit); eval replays them and judges
// the tiers against the ground truth of a synthetic province
// (creditctl gen --truth).
func cmdModel(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "cutoffs" {
		return modelCutoffs(ctx, args[1:], stdout, stderr) // cutoffs.go
	}
	if len(args) == 0 || (args[0] != "fit" && args[0] != "eval") {
		fmt.Fprintln(stderr, "usage: creditctl model fit --events F [--scheme S | --model M] [--out FILE]\n       creditctl model eval --events F --truth T [--scheme S | --model M]\n       creditctl model cutoffs --model M --data F --as-of YYYY-MM-DD [-o OUT]")
		return 2
	}
	fs := flag.NewFlagSet("model "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	events := fs.String("events", "", "NDJSON events file")
	truth := fs.String("truth", "", "ground-truth CSV (creditctl gen --truth), for eval")
	scheme := fs.String("scheme", "national-4", "built-in model of this tier scheme")
	modelFile := fs.String("model", "", "model JSON (instead of --scheme)")
	out := fs.String("out", "", "fit: write the fitted model here (default: stdout)")
	l2 := fs.Float64("l2", 1, "fit: L2 penalty toward the prior coefficients")
	minSupport := fs.Int("min-support", 30, "fit: observations a feature needs before its coefficient is refitted")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *events == "" || (args[0] == "eval" && *truth == "") {
		fs.Usage()
		return 2
	}
	var m *scoring.Model
	var err error
	if *modelFile != "" {
		var b []byte
		if b, err = os.ReadFile(*modelFile); err == nil {
			m, err = scoring.ParseModel(b)
		}
	} else {
		m, err = scoring.DefaultModel(*scheme)
	}
	if err != nil {
		fmt.Fprintln(stderr, "creditctl model:", err)
		return 1
	}
	eng, insp, end, err := replay(ctx, *events, m)
	if err != nil {
		fmt.Fprintln(stderr, "creditctl model:", err)
		return 1
	}
	if args[0] == "fit" {
		return modelFit(eng, m, insp, *out, fit.Options{L2: *l2, MinSupport: *minSupport}, stdout, stderr)
	}
	return modelEval(ctx, eng, *truth, end, stdout, stderr)
}

type inspection struct {
	code    uscc.Code
	at      time.Time
	problem bool
}

// replay applies an events file to a new engine whose clock stands just
// after the last event.
func replay(ctx context.Context, path string, m *scoring.Model) (*scoring.Engine, []inspection, time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	defer f.Close()
	var end time.Time
	eng, err := scoring.New(scoring.Options{Model: m, Now: func() time.Time { return end }})
	if err != nil {
		return nil, nil, end, err
	}
	exc, _ := uscc.NewExceptions(uscc.PilotExceptions...)
	d := event.Decoder{Exceptions: exc}
	var ev event.Event
	var insp []inspection
	bad := 0
	err = ndjson.ForEach(ctx, f, ndjson.Options{}, func(l ndjson.Line, err error) error {
		if err != nil {
			bad++
			return nil
		}
		if d.Decode(l.Bytes, &ev) != nil {
			bad++
			return nil
		}
		if ev.OccurredAt.After(end) {
			end = ev.OccurredAt
		}
		if _, err := eng.ApplyAt(&ev, ev.OccurredAt, false, nil); err != nil {
			bad++
			return nil
		}
		if ev.Type == event.TypeInspection {
			insp = append(insp, inspection{code: ev.USCC, at: ev.OccurredAt,
				problem: ev.Sub == event.ResultProblemFound || ev.Sub == event.ResultCorrected})
		}
		return nil
	})
	end = end.Add(time.Second)
	if bad > 0 {
		fmt.Fprintf(os.Stderr, "creditctl model: %d lines skipped (invalid or rejected)\n", bad)
	}
	return eng, insp, end, err
}

func modelFit(eng *scoring.Engine, m *scoring.Model, insp []inspection, out string, opts fit.Options, stdout, stderr io.Writer) int {
	var obs []fit.Observation
	for _, in := range insp {
		x, ok := eng.FeatureWeights(in.code, in.at.Add(-time.Second))
		if ok {
			obs = append(obs, fit.Observation{X: x, Problem: in.problem})
		}
	}
	prior := make([]float64, len(m.Features))
	for i, f := range m.Features {
		prior[i] = f.LogOdds
	}
	res, err := fit.Logistic(obs, prior, -math.Log(m.Scaling.BaseOdds), opts)
	if err != nil {
		fmt.Fprintln(stderr, "creditctl model fit:", err)
		return 1
	}
	fm, err := fit.Refit(m, res, opts)
	if err != nil {
		fmt.Fprintln(stderr, "creditctl model fit:", err)
		return 1
	}
	fmt.Fprintf(stderr, "fitted on %d inspections (%d found problems), log-likelihood %.1f, %s\n", res.N, res.Problems, res.LogLik, res.Status)
	fmt.Fprintf(stderr, "base odds %.2f -> %.2f\n%-18s %8s %9s %9s %7s %7s\n", m.Scaling.BaseOdds, fm.Scaling.BaseOdds, "feature", "support", "prior β", "fitted β", "points", "was")
	for i, f := range fm.Features {
		fmt.Fprintf(stderr, "%-18s %8d %9.4f %9.4f %7d %7d\n", f.Code, res.Support[i], prior[i], res.Beta[i], f.Points, m.Features[i].Points)
	}
	b, _ := json.MarshalIndent(fm, "", " ")
	b = append(b, '\n')
	if out == "" {
		_, err = stdout.Write(b)
	} else {
		err = os.WriteFile(out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(stderr, "creditctl model fit:", err)
		return 1
	}
	return 0
}

func modelEval(ctx context.Context, eng *scoring.Engine, truthPath string, end time.Time, stdout, stderr io.Writer) int {
	f, err := os.Open(truthPath)
	if err != nil {
		fmt.Fprintln(stderr, "creditctl model eval:", err)
		return 1
	}
	defer f.Close()
	rd := csv.NewReader(f)
	head, err := rd.Read()
	if err != nil {
		fmt.Fprintln(stderr, "creditctl model eval:", err)
		return 1
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, need := range []string{"uscc", "inspect_hit_prob", "risk_percentile"} {
		if _, ok := col[need]; !ok {
			fmt.Fprintf(stderr, "creditctl model eval: truth file lacks column %q\n", need)
			return 1
		}
	}
	scheme := eng.Scheme()
	n := scheme.Len()
	count := make([]int, n)
	sumHit := make([]float64, n)
	var scores, hits []float64
	var topDecile []bool
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintln(stderr, "creditctl model eval:", err)
			return 1
		}
		code, err := uscc.Parse(rec[col["uscc"]])
		if err != nil {
			continue
		}
		hp, _ := strconv.ParseFloat(rec[col["inspect_hit_prob"]], 64)
		pct, _ := strconv.ParseFloat(rec[col["risk_percentile"]], 64)
		t, score, ok := eng.TierAt(code, end)
		if !ok || t == tier.None {
			continue
		}
		count[t]++
		sumHit[t] += hp
		scores = append(scores, -float64(score)) // lower score = riskier
		hits = append(hits, hp)
		topDecile = append(topDecile, pct >= 0.9)
	}
	st, err := eng.TierStats(ctx, end, "")
	if err != nil {
		fmt.Fprintln(stderr, "creditctl model eval:", err)
		return 1
	}
	fmt.Fprintf(stdout, "model %s, as of %s, %d entities\n", eng.ModelName(), end.Format(time.RFC3339), len(scores))
	fmt.Fprintf(stdout, "%-5s %9s %8s %17s %12s %14s\n", "tier", "entities", "share", "true P(problem)", "inspections", "observed rate")
	monotone := true
	prev := -1.0
	for t := 0; t < n; t++ {
		mean := math.NaN()
		if count[t] > 0 {
			mean = sumHit[t] / float64(count[t])
			if mean < prev {
				monotone = false
			}
			prev = mean
		}
		obs := math.NaN()
		if st.Tiers[t].Inspections > 0 {
			obs = float64(st.Tiers[t].Found) / float64(st.Tiers[t].Inspections)
		}
		fmt.Fprintf(stdout, "%-5s %9d %7.1f%% %16.1f%% %12d %13.1f%%\n", scheme.Label(tier.Tier(t)), count[t],
			100*float64(count[t])/float64(max(len(scores), 1)), 100*mean, st.Tiers[t].Inspections, 100*obs)
	}
	fmt.Fprintf(stdout, "Spearman correlation of risk (−score) with the true problem probability: %.3f\n", fit.Spearman(scores, hits))
	fmt.Fprintf(stdout, "AUC of risk (−score) for the riskiest true decile: %.3f\n", fit.AUC(scores, topDecile))
	if monotone {
		fmt.Fprintln(stdout, "the true problem probability rises with the tier: yes")
	} else {
		fmt.Fprintln(stdout, "the true problem probability rises with the tier: NO")
	}
	return 0
}
