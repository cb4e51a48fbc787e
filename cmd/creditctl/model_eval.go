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
	"path/filepath"
	"strconv"
	"time"

	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
	"github.com/creditrisk/creditd/scoring/fit"
)

// calibrationBands is the number of score bands of the calibration table.
const calibrationBands = 10

// evalReport is what "model eval" prints (and --json writes).
type evalReport struct {
	Model       string       `json:"model"`
	Period      [2]string    `json:"period"`   // held-out [from, until)
	Baseline    [2]string    `json:"baseline"` // earlier period for PSI
	Inspections int          `json:"inspections"`
	Findings    int          `json:"findings"`
	AUC         fit.Interval `json:"auc"`
	Gini        fit.Interval `json:"gini"`
	KS          float64      `json:"ks"`
	Brier       float64      `json:"brier"`
	// Probability says where the probabilities come from: the artifact's
	// calibration, or the score scaling's implied odds.
	Probability string `json:"probability"`
	// BandZ is the normal quantile of the bands' intervals (Bonferroni
	// over the bands: simultaneous 95 %).
	BandZ       float64      `json:"band_z"`
	Calibration []bandReport `json:"calibration"`
	Calibrated  bool         `json:"calibrated"`
	Tiers       []tierReport `json:"tiers"`
	// HighLowRatio is the finding rate of the highest-risk tier over the
	// lowest's, with the Katz 95 % interval.
	HighLowRatio fit.Interval `json:"high_low_ratio"`
	ScorePSI     psiReport    `json:"score_psi"`
	// ScorePSIReference is the held-out population's PSI against the
	// artifact's reference distribution, when it has one.
	ScorePSIReference *psiReport    `json:"score_psi_reference,omitempty"`
	FeaturePSI        []psiReport   `json:"feature_psi"`
	Truth             []truthReport `json:"truth,omitempty"`

	scored  []scoredInspection
	basePop []int32 // baseline population scores, for the plot
	pop     []int32
}

type bandReport struct {
	MinScore int32   `json:"min_score"`
	MaxScore int32   `json:"max_score"`
	N        int     `json:"n"`
	Findings int     `json:"findings"`
	Expected float64 `json:"expected"`
	Observed float64 `json:"observed"`
	Lower    float64 `json:"lower"`
	Upper    float64 `json:"upper"`
	Within   bool    `json:"within"`
}

type tierReport struct {
	Tier        string       `json:"tier"`
	Entities    int          `json:"entities"` // in the population at the period's end
	Inspections int          `json:"inspections"`
	Findings    int          `json:"findings"`
	Rate        fit.Interval `json:"rate"` // Wilson 95 %
}

type psiReport struct {
	Name   string  `json:"name"`
	PSI    float64 `json:"psi"`
	Status string  `json:"status"` // stable < 0.1 ≤ watch < 0.25 ≤ alert
}

type truthReport struct {
	Tier         string  `json:"tier"`
	Entities     int     `json:"entities"`
	MeanHitProb  float64 `json:"mean_hit_prob"`
	SpearmanRisk float64 `json:"spearman,omitempty"`
}

func psiOf(name string, expected, actual []float64) psiReport {
	v := scoring.PSI(expected, actual)
	st := "stable"
	switch {
	case v >= scoring.PSIAlert:
		st = "alert"
	case v >= scoring.PSIWatch:
		st = "watch"
	}
	return psiReport{Name: name, PSI: round6(v), Status: st}
}

// modelEval implements "creditctl model eval".
func modelEval(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("model eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	events := fs.String("events", "", "NDJSON events file")
	scheme := fs.String("scheme", "national-4", "built-in model of this tier scheme")
	modelFile := fs.String("model", "", "model JSON (instead of --scheme)")
	from := fs.String("from", "", "first day of the held-out period (default: 365 days before the end)")
	until := fs.String("until", "", "first day after the held-out period (default: the day after the last event)")
	bFrom := fs.String("baseline-from", "", "first day of the baseline period (default: the first inspection)")
	bUntil := fs.String("baseline-until", "", "first day after the baseline period (default: --from)")
	truth := fs.String("truth", "", "ground-truth CSV of a synthetic province (creditctl gen --truth)")
	asJSON := fs.Bool("json", false, "write the report as JSON")
	svgDir := fs.String("svg", "", "write calibration.svg and scores.svg to this directory")
	exportScores := fs.String("export-scores", "", "write the held-out inspections' score and finding as CSV here")
	if err := fs.Parse(args); err != nil || *events == "" {
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "creditctl model eval:", err)
		return 1
	}
	m, err := loadModelFlag(*modelFile, *scheme)
	if err != nil {
		return fail(err)
	}
	ds, err := replay(ctx, *events, m, stderr)
	if err != nil {
		return fail(err)
	}
	base, period, err := ds.windows(*bFrom, *bUntil, *from, *until)
	if err != nil {
		return fail(err)
	}
	rep, err := evaluate(ctx, ds, ds.eng, m, base, period)
	if err != nil {
		return fail(err)
	}
	if *truth != "" {
		if rep.Truth, err = truthByTier(ctx, ds.eng, *truth, period.end()); err != nil {
			return fail(err)
		}
	}
	if *exportScores != "" {
		if err := writeScores(*exportScores, rep.scored); err != nil {
			return fail(err)
		}
	}
	if *svgDir != "" {
		if err := writePlots(*svgDir, rep); err != nil {
			return fail(err)
		}
	}
	if *asJSON {
		b, _ := json.MarshalIndent(rep, "", " ")
		_, err = stdout.Write(append(b, '\n'))
	} else {
		err = printEval(stdout, rep)
	}
	if err != nil {
		return fail(err)
	}
	return 0
}

// evaluate judges model m (scores from eng) on the inspections of period,
// and the drift of its score and features from base to period.
func evaluate(ctx context.Context, ds *dataset, eng *scoring.Engine, m *scoring.Model, base, period window) (*evalReport, error) {
	sc := ds.scoreInspections(eng, period)
	rep := &evalReport{Model: m.Name(), Period: [2]string{period.from.String(), period.until.String()},
		Baseline: [2]string{base.from.String(), base.until.String()}, Inspections: len(sc), scored: sc, Probability: "scaling"}
	if m.Calibration != nil {
		rep.Probability = "calibration"
	}
	if len(sc) == 0 {
		return nil, fmt.Errorf("no inspections in %s–%s", period.from, period.until)
	}
	risk, prob, fd, scores := make([]float64, len(sc)), make([]float64, len(sc)), make([]bool, len(sc)), make([]int32, len(sc))
	scheme := eng.Scheme()
	rep.Tiers = make([]tierReport, scheme.Len())
	for i, s := range sc {
		risk[i], prob[i], fd[i], scores[i] = -float64(s.score), m.Probability(s.score), s.finding, s.score
		tr := &rep.Tiers[s.tier]
		tr.Inspections++
		if s.finding {
			tr.Findings++
			rep.Findings++
		}
	}
	rep.AUC = fit.AUCInterval(risk, fd)
	rep.Gini = fit.Interval{Value: 2*rep.AUC.Value - 1, Lower: 2*rep.AUC.Lower - 1, Upper: 2*rep.AUC.Upper - 1}
	rep.KS, rep.Brier = fit.KS(risk, fd), fit.Brier(prob, fd)
	rep.BandZ = fit.GateZ(calibrationBands)
	bands := fit.CalibrationTable(scores, prob, fd, calibrationBands, rep.BandZ)
	for _, b := range bands {
		rep.Calibration = append(rep.Calibration, bandReport{MinScore: b.MinScore, MaxScore: b.MaxScore, N: b.N, Findings: b.Findings,
			Expected: b.Expected, Observed: b.Observed.Value, Lower: b.Observed.Lower, Upper: b.Observed.Upper, Within: b.Within})
	}
	rep.Calibrated = fit.Calibrated(bands)
	for t := range rep.Tiers {
		rep.Tiers[t].Tier = scheme.Label(tier.Tier(t))
		rep.Tiers[t].Rate = fit.Wilson(rep.Tiers[t].Findings, rep.Tiers[t].Inspections, 1.959963984540054)
	}
	lo, hi := rep.Tiers[0], rep.Tiers[len(rep.Tiers)-1]
	rep.HighLowRatio = fit.RateRatio(hi.Findings, hi.Inspections, lo.Findings, lo.Inspections)

	// Drift: the populations at the ends of the two periods.
	bpop, err := population(ctx, eng, base.end())
	if err != nil {
		return nil, err
	}
	ppop, err := population(ctx, eng, period.end())
	if err != nil {
		return nil, err
	}
	for _, p := range ppop {
		rep.Tiers[p.Tier].Entities++
	}
	rep.basePop, rep.pop = popScores(bpop), popScores(ppop)
	if len(bpop) == 0 || len(ppop) == 0 {
		return nil, errors.New("no population at the end of a period")
	}
	bands0 := fit.Reference(rep.basePop, base.until.String())
	rep.ScorePSI = psiOf("score", bands0.Shares, shares(bands0, rep.pop))
	if ref := m.Reference; ref != nil {
		p := psiOf("score vs reference "+ref.AsOf, ref.Shares, shares(ref, rep.pop))
		rep.ScorePSIReference = &p
	}
	bw, pw := featureCounts(eng, bpop, base.end()), featureCounts(eng, ppop, period.end())
	for j, f := range m.Features {
		rep.FeaturePSI = append(rep.FeaturePSI, psiOf(f.Code, scoring.Distribution(bw[j]), scoring.Distribution(pw[j])))
	}
	return rep, nil
}

func popScores(pop []scoring.EntityAt) []int32 {
	s := make([]int32, len(pop))
	for i, p := range pop {
		s[i] = p.Score
	}
	return s
}

// shares is the distribution of scores over ref's bands.
func shares(ref *scoring.ScoreReference, scores []int32) []float64 {
	c := make([]int64, len(ref.Edges)+1)
	for _, s := range scores {
		c[ref.Band(s)]++
	}
	return scoring.Distribution(c)
}

// featureCounts counts, per feature, the population by the weighted count
// bins of fit.MonotoneBins' initial edges (none, < 0.5, ≤ 1, ≤ 2, more).
func featureCounts(eng *scoring.Engine, pop []scoring.EntityAt, t time.Time) [][]int64 {
	out := make([][]int64, len(eng.Model().Features))
	for j := range out {
		out[j] = make([]int64, 5)
	}
	for _, p := range pop {
		x, ok := eng.FeatureWeights(p.USCC, t.Add(-time.Second))
		if !ok {
			continue
		}
		for j, v := range x {
			b := 0
			for _, e := range []float64{0, 0.5, 1, 2} {
				if v > e {
					b++
				}
			}
			out[j][b]++
		}
	}
	return out
}

func printEval(w io.Writer, r *evalReport) error {
	fmt.Fprintf(w, "model %s\nheld out %s–%s: %d inspections, %d findings (any result but no_problem)\n",
		r.Model, r.Period[0], r.Period[1], r.Inspections, r.Findings)
	fmt.Fprintf(w, "AUC %.4f [%.4f, %.4f]  Gini %.4f  KS %.4f  Brier %.4f (probabilities from the %s)\n",
		r.AUC.Value, r.AUC.Lower, r.AUC.Upper, r.Gini.Value, r.KS, r.Brier, r.Probability)
	fmt.Fprintf(w, "\ncalibration by score band (intervals: Wilson at z %.2f, simultaneous 95 %% over %d bands)\n", r.BandZ, len(r.Calibration))
	fmt.Fprintf(w, "%-11s %7s %9s %9s %9s %17s %s\n", "scores", "n", "findings", "expected", "observed", "interval", "")
	for _, b := range r.Calibration {
		mark := "ok"
		if !b.Within {
			mark = "OUTSIDE"
		}
		fmt.Fprintf(w, "%4d–%-6d %7d %9d %8.2f%% %8.2f%% [%6.2f%%,%6.2f%%] %s\n", b.MinScore, b.MaxScore, b.N, b.Findings,
			100*b.Expected, 100*b.Observed, 100*b.Lower, 100*b.Upper, mark)
	}
	verdict := "yes"
	if !r.Calibrated {
		verdict = "NO"
	}
	fmt.Fprintf(w, "calibrated (every band's expected rate inside its interval): %s\n", verdict)
	fmt.Fprintf(w, "\n%-5s %9s %12s %9s %9s %17s\n", "tier", "entities", "inspections", "findings", "rate", "95% interval")
	for _, t := range r.Tiers {
		fmt.Fprintf(w, "%-5s %9d %12d %9d %8.2f%% [%6.2f%%,%6.2f%%]\n", t.Tier, t.Entities, t.Inspections, t.Findings,
			100*t.Rate.Value, 100*t.Rate.Lower, 100*t.Rate.Upper)
	}
	fmt.Fprintf(w, "highest-risk tier / lowest: %.2f× [%.2f, %.2f]\n", r.HighLowRatio.Value, r.HighLowRatio.Lower, r.HighLowRatio.Upper)
	fmt.Fprintf(w, "\nPSI %s–%s → %s–%s (0.10 watch, 0.25 alert): score %.4f %s\n", r.Baseline[0], r.Baseline[1], r.Period[0], r.Period[1],
		r.ScorePSI.PSI, r.ScorePSI.Status)
	if p := r.ScorePSIReference; p != nil {
		fmt.Fprintf(w, "PSI %s: %.4f %s\n", p.Name, p.PSI, p.Status)
	}
	for _, p := range r.FeaturePSI {
		fmt.Fprintf(w, "  %-17s %.4f %s\n", p.Name, p.PSI, p.Status)
	}
	if len(r.Truth) > 0 {
		fmt.Fprintf(w, "\nground truth at %s: %-5s %9s %17s\n", r.Period[1], "tier", "entities", "true P(finding)")
		monotone := true
		for i, t := range r.Truth {
			fmt.Fprintf(w, "%-28s %-5s %9d %16.2f%%\n", "", t.Tier, t.Entities, 100*t.MeanHitProb)
			if i > 0 && t.MeanHitProb < r.Truth[i-1].MeanHitProb {
				monotone = false
			}
		}
		fmt.Fprintf(w, "Spearman correlation of risk (−score) with the true probability: %.3f\n", r.Truth[0].SpearmanRisk)
		fmt.Fprintf(w, "the true probability rises with the tier: %v\n", map[bool]string{true: "yes", false: "NO"}[monotone])
	}
	return nil
}

// truthByTier reads a synthetic province's truth and averages the true
// probability of a finding (the same definition, event.Finding) per tier at t.
func truthByTier(ctx context.Context, eng *scoring.Engine, path string, t time.Time) ([]truthReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd := csv.NewReader(f)
	head, err := rd.Read()
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, need := range []string{"uscc", "inspect_hit_prob"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("truth file lacks column %q", need)
		}
	}
	n := eng.Scheme().Len()
	out := make([]truthReport, n)
	var risks, probs []float64
	for ctx.Err() == nil {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		code, err := uscc.Parse(rec[col["uscc"]])
		if err != nil {
			continue
		}
		hp, err := strconv.ParseFloat(rec[col["inspect_hit_prob"]], 64)
		if err != nil {
			continue
		}
		tr, score, ok := eng.TierAt(code, t.Add(-time.Second))
		if !ok || tr == tier.None {
			continue
		}
		out[tr].Entities++
		out[tr].MeanHitProb += hp
		risks, probs = append(risks, -float64(score)), append(probs, hp)
	}
	for i := range out {
		out[i].Tier = eng.Scheme().Label(tier.Tier(i))
		if out[i].Entities > 0 {
			out[i].MeanHitProb /= float64(out[i].Entities)
		} else {
			out[i].MeanHitProb = math.NaN()
		}
	}
	out[0].SpearmanRisk = fit.Spearman(risks, probs)
	return out, ctx.Err()
}

func writeScores(path string, sc []scoredInspection) error {
	b := []byte("score,finding\n")
	for _, s := range sc {
		b = strconv.AppendInt(b, int64(s.score), 10)
		if s.finding {
			b = append(b, ",1\n"...)
		} else {
			b = append(b, ",0\n"...)
		}
	}
	return os.WriteFile(path, b, 0o644)
}

func writePlots(dir string, r *evalReport) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var pts []fit.CalibrationPoint
	for _, b := range r.Calibration {
		pts = append(pts, fit.CalibrationPoint{Expected: b.Expected, Observed: b.Observed, Lower: b.Lower, Upper: b.Upper})
	}
	if err := os.WriteFile(filepath.Join(dir, "calibration.svg"), fit.CalibrationSVG(r.Model, pts), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "scores.svg"), fit.HistogramSVG(r.Model,
		[]fit.Series{{Name: "baseline " + r.Baseline[1], Values: r.basePop}, {Name: "held out " + r.Period[1], Values: r.pop}}), 0o644)
}
