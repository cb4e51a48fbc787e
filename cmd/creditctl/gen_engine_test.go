package main

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/feeds/synth"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
)

var engineEnd = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// TestEngineAcceptsProvince ingests generated provinces through the
// scoring engine itself (the strict decoder, the future rule at the end of
// the stream and every state check: references, repair windows per
// channel, publicity ends, objections) and requires zero rejections, under
// both tier schemes with their province rules (record.DefaultConfig: the
// national scheme without exclusions, shandong-5 with the Art. 13
// simple-procedure exclusion and the Art. 38 five-year cap). Four years
// cross the Credit China regimes of domain.md §4.1 (527号 to 2023-04-30,
// Order 58, the 2026 rules). The stream must exercise what it tests:
// repairs in both channels, breached commitments repaired, objections
// filed, referred, upheld and rejected; no commitment may be made while
// the engine's measures bar the commitment route, and breaches must leave
// entities barred with their approval listed for review.
func TestEngineAcceptsProvince(t *testing.T) {
	for _, scheme := range []string{"national-4", "shandong-5"} {
		for _, seed := range []uint64{1, 2, 3} {
			engineAccepts(t, scheme, seed)
		}
	}
}

func engineAccepts(t *testing.T, scheme string, seed uint64) {
	opts := synth.Options{Entities: 40_000, Days: 1461, Seed: seed, End: engineEnd}
	m, err := scoring.DefaultModel(scheme)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := scoring.New(scoring.Options{Model: m, Now: func() time.Time { return engineEnd }})
	if err != nil {
		t.Fatal(err)
	}
	var dec event.Decoder
	var ev event.Event
	refType := map[string]event.Type{}
	counts := map[string]int{}
	breached := map[uscc.Code]bool{}
	lines, rejected := 0, 0
	err = synth.Generate(context.Background(), opts, func(l []byte) error {
		lines++
		if err := dec.Decode(l, &ev); err != nil {
			return err
		}
		refType[ev.ID] = ev.Type
		switch ev.Type {
		case event.TypeRepair:
			switch {
			case refType[ev.Ref] == event.TypeCommitmentMade:
				counts["repair commitment"]++
			case ev.Channel == event.ChannelSAMR:
				counts["repair samr"]++
			case ev.Channel == event.ChannelCreditChina:
				counts["repair credit_china"]++
			default:
				counts["repair list"]++
			}
		case event.TypeObjectionFiled:
			counts["objection filed"]++
		case event.TypeObjectionAnswered:
			counts["objection "+event.SubName(ev.Type, ev.Sub)]++
		case event.TypePenalty:
			if ev.Procedure == event.ProcedureSimple {
				counts["penalty simple"]++
			}
		case event.TypeCommitmentBreached:
			breached[ev.USCC] = true
		case event.TypeCommitmentMade:
			// The commitment route is barred while a breach, the serious
			// list or a court listing stands (domain.md §4.6, the engine's
			// measures): the generator must make no commitment then.
			if v, ok := eng.Entity(ev.USCC, ev.OccurredAt, true); ok {
				if ms := scoring.MeasuresOf(&v); ms.CommitmentBarred {
					t.Errorf("%s seed %d: commitment %s made while barred by %v", scheme, seed, ev.ID, ms.BarredBy)
				}
			}
		}
		if _, err := eng.ApplyAt(&ev, engineEnd, true, nil); err != nil {
			rejected++
			if rejected <= 20 {
				t.Errorf("%s seed %d: rejected: %v\n%s", scheme, seed, err, l)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rejected > 0 {
		t.Fatalf("%s seed %d: %d of %d lines rejected", scheme, seed, rejected, lines)
	}
	// At the end: entities barred by a breach, with the approval to review.
	for code := range breached {
		v, ok := eng.Entity(code, engineEnd, true)
		if !ok {
			continue
		}
		ms := scoring.MeasuresOf(&v)
		for _, r := range ms.Review {
			if ms.CommitmentBarred && r.Matter != "" {
				counts["barred by a breach, for review"]++
				break
			}
		}
	}
	// Minimum counts: about half of what a 40,000-entity, 4-year
	// province produces (seed 1: see the log), so that the test fails when
	// a path stops being generated.
	for what, least := range map[string]int{"repair samr": 40, "repair credit_china": 80, "repair commitment": 35,
		"repair list": 400, "objection filed": 250, "objection referred": 25, "objection upheld": 35,
		"objection rejected": 200, "penalty simple": 100, "barred by a breach, for review": 100} {
		if counts[what] < least {
			t.Errorf("%s seed %d: %d %s, want at least %d: the test exercises too little", scheme, seed, counts[what], what, least)
		}
	}
	t.Logf("%s seed %d: %d lines, %d rejected, %v", scheme, seed, lines, rejected, counts)
}

// observables are per-entity summaries a scorer can see in the stream.
type observables struct {
	tax                                    float64 // latest tax level A 1 … D 4; NaN if none (M or never rated)
	penalties, complaints, arLate, arMiss  float64
	breaches, court, abnormal, inspections float64
	findings                               float64
	// Complaints by id source: reports to the regulator (SAMR-…, the
	// conduct channel) and consumer complaints (12315-…, their own
	// channel); complaints counts the substantiated ones of both.
	reportsSubst, consumer, consumerSubst float64
}

// correlations generates a province and returns, per observable, the
// Pearson correlation with the latent risk z over the entities that have
// the observable (the tax level only exists for rated entities).
func correlations(t *testing.T, opts synth.Options) map[string]float64 {
	t.Helper()
	z := map[uscc.Code]float64{}
	opts.Truth = func(tr *synth.Truth) error { z[tr.USCC] = tr.Z; return nil }
	obs := map[uscc.Code]*observables{}
	var dec event.Decoder
	var ev event.Event
	err := synth.Generate(context.Background(), opts, func(l []byte) error {
		if err := dec.Decode(l, &ev); err != nil {
			return err
		}
		o := obs[ev.USCC]
		if o == nil {
			o = &observables{tax: math.NaN()}
			obs[ev.USCC] = o
		}
		switch ev.Type {
		case event.TypeTaxRating:
			switch ev.Sub {
			case event.TaxA:
				o.tax = 1
			case event.TaxB:
				o.tax = 2
			case event.TaxC:
				o.tax = 3
			case event.TaxD:
				o.tax = 4
			}
		case event.TypePenalty:
			o.penalties++
		case event.TypeComplaint:
			consumer := strings.HasPrefix(ev.ID, "12315-")
			if consumer {
				o.consumer++
			}
			if ev.Substantiated {
				o.complaints++
				if consumer {
					o.consumerSubst++
				} else {
					o.reportsSubst++
				}
			}
		case event.TypeAnnualReport:
			if !ev.OnTime {
				o.arLate++
			}
		case event.TypeAbnormalListed:
			o.abnormal++
			if ev.Sub == event.AbnormalAnnualReportMissing {
				o.arMiss++
			}
		case event.TypeCommitmentBreached:
			o.breaches++
		case event.TypeCourtDebtorListed:
			o.court++
		case event.TypeInspection:
			o.inspections++
			if event.Finding(ev.Sub) {
				o.findings++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pick := map[string]func(*observables) float64{
		"tax_level":          func(o *observables) float64 { return o.tax },
		"penalties":          func(o *observables) float64 { return o.penalties },
		"complaints_subst":   func(o *observables) float64 { return o.complaints },
		"reports_subst":      func(o *observables) float64 { return o.reportsSubst },
		"consumer_all":       func(o *observables) float64 { return o.consumer },
		"consumer_subst":     func(o *observables) float64 { return o.consumerSubst },
		"annual_report_late": func(o *observables) float64 { return o.arLate },
		"annual_report_miss": func(o *observables) float64 { return o.arMiss },
		"abnormal_listings":  func(o *observables) float64 { return o.abnormal },
		"commit_breaches":    func(o *observables) float64 { return o.breaches },
		"court_debtor":       func(o *observables) float64 { return o.court },
		"inspection_finding": func(o *observables) float64 {
			if o.inspections == 0 {
				return math.NaN()
			}
			return o.findings / o.inspections
		},
	}
	out := map[string]float64{}
	for name, f := range pick {
		var xs, ys []float64
		for code, o := range obs {
			if x := f(o); !math.IsNaN(x) {
				xs = append(xs, x)
				ys = append(ys, z[code])
			}
		}
		out[name] = pearson(xs, ys)
	}
	return out
}

func pearson(x, y []float64) float64 {
	n := float64(len(x))
	var sx, sy, sxx, syy, sxy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		syy += y[i] * y[i]
		sxy += x[i] * y[i]
	}
	cov := sxy/n - sx/n*sy/n
	return cov / math.Sqrt((sxx/n-sx/n*sx/n)*(syy/n-sy/n*sy/n))
}

// TestObservablesArePartialSignals (issue 13): the latent risk must not be
// a near-copy of one observable. Every observable a scorer sees is a noisy,
// partial signal: none correlates with z above 0.6, and several carry some
// signal (≥ 0.05), so that a model has to combine them.
func TestObservablesArePartialSignals(t *testing.T) {
	c := correlations(t, synth.Options{Entities: 40_000, Days: 1095, Seed: 7, End: engineEnd, ConsumerComplaints: true})
	signals := 0
	for name, r := range c {
		t.Logf("corr(%s, z) = %.3f", name, r)
		if math.Abs(r) > 0.6 {
			t.Errorf("%s correlates %.3f with the latent risk: a near-copy", name, r)
		}
		if r >= 0.05 {
			signals++
		}
	}
	if signals < 5 {
		t.Errorf("only %d observables carry signal (corr ≥ 0.05): the latent risk is unobservable", signals)
	}
}
