package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/creditrisk/creditd/feeds/ndjson"
	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
)

// modelUsage documents "creditctl model".
const modelUsage = `usage:
  creditctl model fit     --events F [--scheme S | --model M] [--train-from D] [--train-until D] [--holdout-until D]
                          [--prior-sd 0.5] [--allow-flip CODE,...] [--tier-targets a,b,...] [--unpenalised]
                          [--min-support 50] [--export-design FILE.csv] [--export-holdout FILE.csv] [--out FILE]
  creditctl model eval    --events F [--scheme S | --model M] [--from D] [--until D] [--baseline-from D] [--baseline-until D]
                          [--truth T] [--json] [--svg DIR] [--export-scores FILE.csv]
  creditctl model compare CHAMPION CHALLENGER --events F [--from D] [--until D] [--json]
  creditctl model cutoffs --model M --data F --as-of YYYY-MM-DD [-o OUT]

Dates are YYYY-MM-DD (China time), windows [from, until). By default the
held-out period is the last 365 days of the events and the training (or
baseline) period everything before it. An inspection "found a problem"
when its result is anything but no_problem (models/event.Finding).
`

// cmdModel implements "creditctl model fit|eval|compare|cutoffs"
// (model_fit.go, model_eval.go, model_compare.go, cutoffs.go).
func cmdModel(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, modelUsage)
		return 2
	}
	switch args[0] {
	case "fit":
		return modelFit(ctx, args[1:], stdout, stderr)
	case "eval":
		return modelEval(ctx, args[1:], stdout, stderr)
	case "compare":
		return modelCompare(ctx, args[1:], stdout, stderr)
	case "cutoffs":
		return modelCutoffs(ctx, args[1:], stdout, stderr) // cutoffs.go
	}
	fmt.Fprint(stderr, modelUsage)
	return 2
}

// loadModelFlag loads the --model file (or built-in name, loadModel in
// cutoffs.go), or without one the built-in model of --scheme.
func loadModelFlag(file, scheme string) (*scoring.Model, error) {
	if file == "" {
		return scoring.DefaultModel(scheme)
	}
	return loadModel(file)
}

// inspection is one inspection of the events.
type inspection struct {
	code   uscc.Code
	at     time.Time
	result uint8
}

// dataset is an events file applied to an engine.
type dataset struct {
	eng         *scoring.Engine
	insp        []inspection
	first, last time.Time // the first inspection's and the last event's instants
	end         time.Time // the engine's clock: just after the last event
}

// replay applies an events file to a new engine under m whose clock stands
// just after the last event. Every rule is a pure function of the records
// and the instant, so features and scores "as of" an earlier instant see
// only the records that had started by then: no look-ahead.
func replay(ctx context.Context, path string, m *scoring.Model, stderr io.Writer) (*dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ds := &dataset{}
	eng, err := scoring.New(scoring.Options{Model: m, Now: func() time.Time { return ds.end }})
	if err != nil {
		return nil, err
	}
	ds.eng = eng
	exc, _ := uscc.NewExceptions(uscc.PilotExceptions...)
	d := event.Decoder{Exceptions: exc}
	var ev event.Event
	bad := 0
	err = ndjson.ForEach(ctx, f, ndjson.Options{}, func(l ndjson.Line, err error) error {
		if err != nil || d.Decode(l.Bytes, &ev) != nil {
			bad++
			return nil
		}
		if ev.OccurredAt.After(ds.last) {
			ds.last = ev.OccurredAt
			ds.end = ds.last.Add(time.Second)
		}
		if _, err := eng.ApplyAt(&ev, ev.OccurredAt, false, nil); err != nil {
			bad++
			return nil
		}
		if ev.Type == event.TypeInspection {
			if ds.first.IsZero() || ev.OccurredAt.Before(ds.first) {
				ds.first = ev.OccurredAt
			}
			ds.insp = append(ds.insp, inspection{code: ev.USCC, at: ev.OccurredAt, result: ev.Sub})
		}
		return nil
	})
	if bad > 0 {
		fmt.Fprintf(stderr, "creditctl model: %d lines skipped (invalid or rejected)\n", bad)
	}
	if err == nil && len(ds.insp) == 0 {
		err = fmt.Errorf("%s: no inspections", path)
	}
	return ds, err
}

// rescore returns an engine holding the same records under model m (the
// records do not depend on the model; every score is recomputed).
func (ds *dataset) rescore(m *scoring.Model) (*scoring.Engine, error) {
	var buf bytes.Buffer
	if err := ds.eng.WriteSnapshot(&buf, 0); err != nil {
		return nil, err
	}
	eng, err := scoring.New(scoring.Options{Model: m, Now: func() time.Time { return ds.end }})
	if err != nil {
		return nil, err
	}
	if _, err := eng.ReadSnapshot(&buf); err != nil {
		return nil, err
	}
	return eng, nil
}

// window is a period of days [from, until).
type window struct{ from, until civil.Date }

func (w window) contains(t time.Time) bool {
	d := civil.DateOf(t)
	return d >= w.from && d < w.until
}

// end is the first instant after the window.
func (w window) end() time.Time { return time.Unix(w.until.Unix(), 0).UTC() }

// windows resolves the two periods from the flags: the held-out (or
// later) period defaults to the last 365 days of the events, the earlier
// one to everything before it.
func (ds *dataset) windows(earlyFrom, earlyUntil, lateFrom, lateUntil string) (early, late window, err error) {
	parse := func(s string, def civil.Date) (civil.Date, error) {
		if s == "" {
			return def, nil
		}
		return civil.ParseDate(s)
	}
	lastDay := civil.DateOf(ds.last) + 1
	if late.until, err = parse(lateUntil, lastDay); err != nil {
		return
	}
	if late.from, err = parse(lateFrom, late.until-365); err != nil {
		return
	}
	if early.until, err = parse(earlyUntil, late.from); err != nil {
		return
	}
	if early.from, err = parse(earlyFrom, civil.DateOf(ds.first)); err != nil {
		return
	}
	if early.until <= early.from || late.until <= late.from || late.from < early.until {
		err = fmt.Errorf("periods %s–%s and %s–%s: each must be non-empty and the second must not start before the first ends",
			early.from, early.until, late.from, late.until)
	}
	return
}

// scoredInspection is an inspection scored as of the instant before it.
type scoredInspection struct {
	inspection
	score   int32
	tier    tier.Tier
	finding bool
}

// scoreInspections scores the inspections of w under eng.
func (ds *dataset) scoreInspections(eng *scoring.Engine, w window) []scoredInspection {
	var out []scoredInspection
	for _, in := range ds.insp {
		if !w.contains(in.at) {
			continue
		}
		t, s, ok := eng.TierAt(in.code, in.at.Add(-time.Second))
		if ok && t != tier.None {
			out = append(out, scoredInspection{inspection: in, score: s, tier: t, finding: event.Finding(in.result)})
		}
	}
	return out
}

// population returns the scores and tiers of the entities in the
// population (registered, not deregistered) at t.
func population(ctx context.Context, eng *scoring.Engine, t time.Time) ([]scoring.EntityAt, error) {
	var out []scoring.EntityAt
	day := civil.DateOf(t)
	for p := range eng.Shards() {
		err := eng.Scan(ctx, p, t, scoring.ScanOptions{}, func(e *scoring.EntityAt) error {
			if e.Registered && !e.Deregistered && (e.RegisteredOn == civil.NoDate || e.RegisteredOn <= day) && e.Tier != tier.None {
				out = append(out, scoring.EntityAt{USCC: e.USCC, Score: e.Score, Tier: e.Tier})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
