package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/scoring"
	"github.com/creditrisk/creditd/scoring/fit"
)

// modelFit implements "creditctl model fit": the coefficients are
// estimated on the training period's inspections (features as of the
// instant before each), shrunk toward the prior model (fit.Logistic), and
// the artifact gets its calibration, reference distribution, cut-offs from
// its tier targets, and the metrics of a later held-out period.
func modelFit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("model fit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	events := fs.String("events", "", "NDJSON events file")
	scheme := fs.String("scheme", "national-4", "prior: the built-in model of this tier scheme")
	modelFile := fs.String("model", "", "prior: model JSON (instead of --scheme)")
	trainFrom := fs.String("train-from", "", "first day of the training period (default: the first inspection)")
	trainUntil := fs.String("train-until", "", "first day after the training period = first day held out (default: 365 days before the end)")
	holdoutUntil := fs.String("holdout-until", "", "first day after the held-out period (default: the day after the last event)")
	priorSD := fs.Float64("prior-sd", fit.DefaultPriorSD, "prior standard deviation of each coefficient around the prior model's, in log-odds")
	allowFlip := fs.String("allow-flip", "", "comma-separated feature codes allowed to take the sign opposite to the prior")
	targets := fs.String("tier-targets", "", "comma-separated tier shares from the lowest risk up (default: the prior model's tier_targets)")
	unpenalised := fs.Bool("unpenalised", false, "plain maximum likelihood (no prior, no sign holding; features without support keep the prior)")
	minSupport := fs.Int("min-support", 50, "with --unpenalised: features with fewer training inspections of nonzero weight stay at the prior (an offset), so the design is of full rank")
	exportDesign := fs.String("export-design", "", "write the training design as CSV here: finding, offset (the held features' prior contribution), then the free features")
	exportHoldout := fs.String("export-holdout", "", "write the held-out period's design (same columns as --export-design) as CSV here")
	out := fs.String("out", "", "write the fitted model here (default: stdout)")
	if err := fs.Parse(args); err != nil || *events == "" {
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "creditctl model fit:", err)
		return 1
	}
	m, err := loadModelFlag(*modelFile, *scheme)
	if err != nil {
		return fail(err)
	}
	opts := fit.Options{PriorSD: *priorSD, Unpenalised: *unpenalised, AllowFlip: map[int]bool{}, Fixed: map[int]bool{}}
	if *allowFlip != "" {
		for _, c := range strings.Split(*allowFlip, ",") {
			j := featureIndex(m, strings.TrimSpace(c))
			if j < 0 {
				return fail(fmt.Errorf("--allow-flip: model has no feature %q", c))
			}
			opts.AllowFlip[j] = true
		}
	}
	tt := m.TierTargets
	if *targets != "" {
		if tt, err = parseShares(*targets); err != nil {
			return fail(fmt.Errorf("--tier-targets: %w", err))
		}
	}
	ds, err := replay(ctx, *events, m, stderr)
	if err != nil {
		return fail(err)
	}
	train, hold, err := ds.windows(*trainFrom, *trainUntil, *trainUntil, *holdoutUntil)
	if err != nil {
		return fail(err)
	}
	obs := ds.design(train)
	if len(obs) == 0 {
		return fail(fmt.Errorf("no inspections in the training period %s–%s", train.from, train.until))
	}
	prior := make([]float64, len(m.Features))
	for i, f := range m.Features {
		prior[i] = f.LogOdds
	}
	support := make([]int, len(prior))
	for _, o := range obs {
		for j, x := range o.X {
			if x != 0 {
				support[j]++
			}
		}
	}
	if *unpenalised {
		for j, n := range support {
			if n < *minSupport {
				opts.Fixed[j] = true
			}
		}
	}
	if *exportDesign != "" {
		if err := writeDesign(*exportDesign, m, obs, opts.Fixed); err != nil {
			return fail(err)
		}
	}
	if *exportHoldout != "" {
		if err := writeDesign(*exportHoldout, m, ds.design(hold), opts.Fixed); err != nil {
			return fail(err)
		}
	}
	t0 := time.Now()
	res, err := fit.Logistic(obs, prior, -math.Log(m.Scaling.BaseOdds), opts)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stderr, "fitted on %d inspections %s–%s (%d findings) in %v, %d Newton iterations, log-likelihood %.2f\n",
		res.N, train.from, train.until, res.Findings, time.Since(t0).Round(time.Millisecond), res.Iterations, res.LogLik)
	fm, err := fit.Refit(m, res)
	if err != nil {
		return fail(err)
	}
	fm.TierTargets = tt
	if err := governFitted(ctx, ds, m, fm, res, opts, obs, train, hold); err != nil {
		return fail(err)
	}
	printCoefficients(stderr, m, fm)
	b, _ := json.MarshalIndent(fm, "", " ")
	b = append(b, '\n')
	if *out == "" {
		_, err = stdout.Write(b)
	} else {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		return fail(err)
	}
	return 0
}

// governFitted sets the fitted model's training record, calibration,
// reference distribution, cut-offs (from its tier targets) and held-out
// metrics, all from the fitted model's own scores.
func governFitted(ctx context.Context, ds *dataset, prior, fm *scoring.Model, res *fit.Result, opts fit.Options,
	obs []fit.Observation, train, hold window) error {
	// A probe copy whose cut-offs put every score in the lowest-risk tier:
	// its tiers are then the override floors, which CutoffsForTargets needs.
	probe := *fm
	probe.Cutoffs = make([]int, len(fm.Cutoffs))
	for i := range probe.Cutoffs {
		probe.Cutoffs[i] = fm.MinScore - i
	}
	eng, err := ds.rescore(&probe)
	if err != nil {
		return err
	}
	tr := ds.scoreInspections(eng, train)
	lo, fd := make([]float64, len(tr)), make([]bool, len(tr))
	for i, s := range tr {
		lo[i], fd[i] = fm.ImpliedLogOdds(s.score), s.finding
	}
	a, b, err := fit.FitCalibration(lo, fd)
	if err != nil {
		return fmt.Errorf("calibration: %w", err)
	}
	fm.Calibration = &scoring.Calibration{Intercept: round6(a), Slope: round6(b), From: train.from.String(), Until: train.until.String(),
		Inspections: len(tr)}
	for _, f := range fd {
		if f {
			fm.Calibration.Findings++
		}
	}
	pop, err := population(ctx, eng, train.end())
	if err != nil {
		return err
	}
	scores, scored := make([]int32, len(pop)), make([]scoring.Scored, len(pop))
	for i, p := range pop {
		scores[i], scored[i] = p.Score, scoring.Scored{Score: p.Score, Floor: p.Tier}
	}
	if len(pop) > 0 {
		fm.Reference = fit.Reference(scores, (train.until - 1).String())
		if fm.TierTargets != nil {
			if fm.Cutoffs, err = scoring.CutoffsForTargets(scored, fm.TierTargets); err != nil {
				return err
			}
		}
	}
	t := &scoring.Training{From: train.from.String(), Until: train.until.String(), Inspections: res.N, Findings: res.Findings,
		Prior: prior.Name(), PriorSD: opts.PriorSD, Intercept: res.Intercept, InterceptSE: res.InterceptSE}
	if opts.Unpenalised {
		t.PriorSD = 0
	}
	for j, f := range fm.Features {
		x := make([]float64, len(obs))
		for i, o := range obs {
			x[i] = o.X[j]
		}
		_, iv := fit.MonotoneBins(x, findings(obs), prior.Features[j].LogOdds > 0)
		c := scoring.Coefficient{Code: f.Code, Prior: prior.Features[j].LogOdds, Estimate: res.Beta[j], Support: res.Support[j],
			SignFlagged: res.SignFlagged[j], Held: res.Held[j], IV: round6(iv)}
		if !res.Held[j] {
			c.SE = res.SE[j]
			c.Lower, c.Upper = res.CI95(j)
		} else {
			c.Lower, c.Upper = c.Estimate, c.Estimate
		}
		t.Coefficients = append(t.Coefficients, c)
	}
	ho := ds.scoreInspections(eng, hold)
	if len(ho) > 0 {
		risk, prob, fd := make([]float64, len(ho)), make([]float64, len(ho)), make([]bool, len(ho))
		for i, s := range ho {
			risk[i], prob[i], fd[i] = -float64(s.score), fm.Probability(s.score), s.finding
		}
		var priorRisk []float64
		for _, s := range ds.scoreInspections(ds.eng, hold) { // the dataset's engine holds the prior model
			priorRisk = append(priorRisk, -float64(s.score))
		}
		h := &scoring.HeldOut{From: hold.from.String(), Until: hold.until.String(), Inspections: len(ho)}
		for _, f := range fd {
			if f {
				h.Findings++
			}
		}
		auc := fit.AUCInterval(risk, fd)
		h.AUC, h.AUCLower, h.AUCUpper = round6(auc.Value), round6(auc.Lower), round6(auc.Upper)
		h.KS, h.Brier, h.PriorAUC = round6(fit.KS(risk, fd)), round6(fit.Brier(prob, fd)), round6(fit.AUC(priorRisk, fd))
		t.HeldOut = h
	}
	fm.Training = t
	return fm.Validate()
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func findings(obs []fit.Observation) []bool {
	y := make([]bool, len(obs))
	for i, o := range obs {
		y[i] = o.Finding
	}
	return y
}

// design returns the training observations of w: each inspection's
// feature weights under the dataset's (prior) model as of the instant
// before it.
func (ds *dataset) design(w window) []fit.Observation {
	var obs []fit.Observation
	for _, in := range ds.insp {
		if !w.contains(in.at) {
			continue
		}
		if x, ok := ds.eng.FeatureWeights(in.code, in.at.Add(-time.Second)); ok {
			obs = append(obs, fit.Observation{X: x, Finding: event.Finding(in.result)})
		}
	}
	return obs
}

func featureIndex(m *scoring.Model, code string) int {
	for i, f := range m.Features {
		if f.Code == code {
			return i
		}
	}
	return -1
}

func parseShares(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// writeDesign writes the design as CSV: "finding" (0/1), "offset" (the
// held features' contribution Σ prior·x, fixed in the fit), then the
// free features by code.
func writeDesign(path string, m *scoring.Model, obs []fit.Observation, held map[int]bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString("finding,offset")
	for j, ft := range m.Features {
		if !held[j] {
			w.WriteString("," + ft.Code)
		}
	}
	w.WriteByte('\n')
	var b []byte
	for _, o := range obs {
		b = b[:0]
		if o.Finding {
			b = append(b, '1')
		} else {
			b = append(b, '0')
		}
		off := 0.0
		for j, x := range o.X {
			if held[j] {
				off += m.Features[j].LogOdds * x
			}
		}
		b = append(b, ',')
		b = strconv.AppendFloat(b, off, 'g', -1, 64)
		for j, x := range o.X {
			if !held[j] {
				b = append(b, ',')
				b = strconv.AppendFloat(b, x, 'g', -1, 64)
			}
		}
		b = append(b, '\n')
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func printCoefficients(w io.Writer, prior, fm *scoring.Model) {
	t := fm.Training
	fmt.Fprintf(w, "base odds %.2f -> %.2f; calibration %.3f + %.3f·ℓ(score); cut-offs %v (targets %v)\n",
		prior.Scaling.BaseOdds, fm.Scaling.BaseOdds, fm.Calibration.Intercept, fm.Calibration.Slope, fm.Cutoffs, fm.TierTargets)
	fmt.Fprintf(w, "%-17s %7s %8s %8s %7s %17s %6s %5s %5s  %s\n", "feature", "support", "prior β", "β", "se", "95% CI", "IV", "pts", "was", "")
	for i, c := range t.Coefficients {
		note := ""
		switch {
		case c.Held:
			note = "sign contradicts the prior: held at the prior"
		case c.SignFlagged:
			note = "sign contradicts the prior: allowed (--allow-flip)"
		}
		fmt.Fprintf(w, "%-17s %7d %8.4f %8.4f %7.4f [%7.3f,%7.3f] %6.3f %5d %5d  %s\n", c.Code, c.Support, c.Prior, c.Estimate, c.SE,
			c.Lower, c.Upper, c.IV, fm.Features[i].Points, prior.Features[i].Points, note)
	}
	if h := t.HeldOut; h != nil {
		fmt.Fprintf(w, "held out %s–%s: %d inspections, %d findings; AUC %.4f [%.4f, %.4f] (prior model %.4f), KS %.4f, Brier %.4f\n",
			h.From, h.Until, h.Inspections, h.Findings, h.AUC, h.AUCLower, h.AUCUpper, h.PriorAUC, h.KS, h.Brier)
	}
}
