package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/creditrisk/creditd/scoring/fit"
)

// compareReport is what "model compare" prints (and --json writes).
type compareReport struct {
	Champion   *evalReport  `json:"champion"`
	Challenger *evalReport  `json:"challenger"`
	AUCDiff    fit.Interval `json:"auc_difference"` // challenger − champion, DeLong 95 %
	Promote    bool         `json:"promote"`
	Reasons    []string     `json:"reasons"`
}

// modelCompare implements "creditctl model compare CHAMPION CHALLENGER":
// the promotion gate. Both models are judged on the same held-out
// inspections; the challenger is refused (exit 1) unless its AUC is not
// worse than the champion's within the 95 % interval of the paired DeLong
// difference (upper bound ≥ 0) and it is calibrated (every score band's
// expected rate inside its simultaneous 95 % interval).
func modelCompare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("model compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	events := fs.String("events", "", "NDJSON events file")
	from := fs.String("from", "", "first day of the held-out period (default: 365 days before the end)")
	until := fs.String("until", "", "first day after the held-out period (default: the day after the last event)")
	asJSON := fs.Bool("json", false, "write the report as JSON")
	var files []string
	rest := args
	for len(rest) > 0 { // positional model files may come before or after the flags
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if rest = fs.Args(); len(rest) > 0 {
			files, rest = append(files, rest[0]), rest[1:]
		}
	}
	if *events == "" || len(files) != 2 {
		fmt.Fprintln(stderr, "usage: creditctl model compare CHAMPION.json CHALLENGER.json --events F [--from D] [--until D] [--json]")
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "creditctl model compare:", err)
		return 1
	}
	champ, err := loadModel(files[0])
	if err != nil {
		return fail(err)
	}
	chall, err := loadModel(files[1])
	if err != nil {
		return fail(err)
	}
	if champ.TierScheme != chall.TierScheme {
		return fail(fmt.Errorf("champion has tier scheme %s, challenger %s", champ.TierScheme, chall.TierScheme))
	}
	ds, err := replay(ctx, *events, champ, stderr)
	if err != nil {
		return fail(err)
	}
	base, period, err := ds.windows("", "", *from, *until)
	if err != nil {
		return fail(err)
	}
	eng2, err := ds.rescore(chall)
	if err != nil {
		return fail(err)
	}
	r := &compareReport{}
	if r.Champion, err = evaluate(ctx, ds, ds.eng, champ, base, period); err != nil {
		return fail(err)
	}
	if r.Challenger, err = evaluate(ctx, ds, eng2, chall, base, period); err != nil {
		return fail(err)
	}
	a, b := r.Champion.scored, r.Challenger.scored
	ra, rb, fd := make([]float64, len(a)), make([]float64, len(b)), make([]bool, len(a))
	for i := range a {
		ra[i], rb[i], fd[i] = -float64(a[i].score), -float64(b[i].score), a[i].finding
	}
	r.AUCDiff = fit.AUCDifference(ra, rb, fd)
	r.Promote = true
	if !(r.AUCDiff.Upper >= 0) {
		r.Promote = false
		r.Reasons = append(r.Reasons, fmt.Sprintf("the challenger's AUC is worse: difference %.4f, 95%% interval [%.4f, %.4f] entirely below 0",
			r.AUCDiff.Value, r.AUCDiff.Lower, r.AUCDiff.Upper))
	}
	if !r.Challenger.Calibrated {
		r.Promote = false
		n := 0
		for _, b := range r.Challenger.Calibration {
			if !b.Within {
				n++
			}
		}
		r.Reasons = append(r.Reasons, fmt.Sprintf("the challenger is not calibrated: %d of %d score bands have their expected rate outside the interval (probabilities from the %s)",
			n, len(r.Challenger.Calibration), r.Challenger.Probability))
	}
	if *asJSON {
		out, _ := json.MarshalIndent(r, "", " ")
		stdout.Write(append(out, '\n'))
	} else {
		fmt.Fprintf(stdout, "held out %s–%s: %d inspections, %d findings\n", period.from, period.until, r.Champion.Inspections, r.Champion.Findings)
		for _, e := range []struct {
			role string
			r    *evalReport
		}{{"champion", r.Champion}, {"challenger", r.Challenger}} {
			fmt.Fprintf(stdout, "%-10s %s: AUC %.4f [%.4f, %.4f], KS %.4f, Brier %.4f, calibrated %v, highest/lowest tier %.2f×\n", e.role, e.r.Model,
				e.r.AUC.Value, e.r.AUC.Lower, e.r.AUC.Upper, e.r.KS, e.r.Brier, e.r.Calibrated, e.r.HighLowRatio.Value)
		}
		fmt.Fprintf(stdout, "AUC difference (challenger − champion) %.4f, DeLong 95%% interval [%.4f, %.4f]\n", r.AUCDiff.Value, r.AUCDiff.Lower, r.AUCDiff.Upper)
	}
	if !r.Promote {
		for _, s := range r.Reasons {
			fmt.Fprintln(stderr, "creditctl model compare: promotion refused:", s)
		}
		return 1
	}
	fmt.Fprintln(stderr, "creditctl model compare: the challenger may be promoted (AUC not worse within its interval, calibrated)")
	return 0
}
