package synth

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	objrule "github.com/creditrisk/creditd/models/objection"
	cnwork "github.com/creditrisk/creditd/models/workday"
)

// share is an observed count against the expectation the parameters give:
// the sum of the per-item probabilities (so that mixtures, e.g. sectors by
// industry, are expected exactly) and its binomial variance.
type share struct {
	n         int     // items observed
	hits      int     // items with the property
	exp, var_ float64 // expected hits and variance
}

func (s *share) add(p float64, hit bool) {
	s.n++
	s.exp += p
	s.var_ += p * (1 - p)
	if hit {
		s.hits++
	}
}

// check fails when the observed count is more than 4.5 standard deviations
// (plus one item) from the expectation, or when too few items were seen.
func (s *share) check(t *testing.T, name string, least int) {
	t.Helper()
	if s.n < least {
		t.Errorf("%s: only %d items, want at least %d", name, s.n, least)
		return
	}
	band := 4.5*math.Sqrt(s.var_) + 1
	if math.Abs(float64(s.hits)-s.exp) > band {
		t.Errorf("%s: %d of %d (%.2f %%), expected %.1f ± %.1f (%.2f %%)", name, s.hits, s.n,
			100*float64(s.hits)/float64(s.n), s.exp, band, 100*s.exp/float64(s.n))
	}
	t.Logf("%s: %d of %d = %.2f %% (expected %.2f %%)", name, s.hits, s.n, 100*float64(s.hits)/float64(s.n), 100*s.exp/float64(s.n))
}

// TestProportions checks the shares of the new attributes and events
// against params.go: penalty types by severity and procedure, procedures,
// sectors by the entity's industry (sectorWeights), objection rates by
// record kind, referrals, outcomes and late answers (counted against the
// deadline models/objection computes on the models/workday calendar, not
// against the generator's own plan). Each expectation is derived from the
// parameters item by item, so a generator that drew from the wrong table,
// ignored the industry or answered on the wrong calendar fails.
func TestProportions(t *testing.T) {
	end := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	opts := Options{Entities: 80_000, Days: 1096, Seed: 21, End: end}
	opts.EnsureDefaults()
	cutoff := civil.DateOf(end) - objFileMaxDays - 40 // records whose objection window closed inside the stream
	cal := cnwork.New()
	industry := map[string]string{}
	type rec struct {
		typ    event.Type
		sub    uint8
		simple bool
		on     civil.Date
		filed  bool
	}
	recs := map[string]*rec{}
	type obj struct {
		filed    time.Time
		referred bool
		answered bool
	}
	objs := map[string]*obj{}
	var (
		simple, reprimandOnly, warningOnly, simpleWarning       share
		genWarning, genConfiscation, genSuspension, genStop     share
		serFine, serConfiscation, serHeavy                      share
		heavy                                                   [5]share
		sectors                                                 [6]share
		objPen, objSimple, objAb, objUnr, objIns, objTaxS, objB share
		referred, upheld, late, unanswered                      share
		breaches                                                = map[string]bool{}
	)
	var dec event.Decoder
	var ev event.Event
	err := Generate(context.Background(), opts, func(l []byte) error {
		if err := dec.Decode(l, &ev); err != nil {
			return err
		}
		on := civil.DateOf(ev.OccurredAt)
		switch ev.Type {
		case event.TypeRegistered:
			industry[ev.USCC.String()] = ev.Industry
		case event.TypePenalty:
			ty := ev.PenaltyTypes
			isSimple := ev.Procedure == event.ProcedureSimple
			recs[ev.ID] = &rec{typ: ev.Type, sub: ev.Sub, simple: isSimple, on: on}
			w := sectorWeights(industry[ev.USCC.String()])
			var tot float64
			for _, x := range w {
				tot += x
			}
			for k := range sectors {
				sectors[k].add(w[k]/tot, ev.Sector == uint8(k+1))
			}
			switch ev.Sub {
			case event.SeverityMinor:
				simple.add(penSimpleShare, isSimple)
				if isSimple {
					simpleWarning.add(penSimpleWarning, ty == event.PenWarning)
				} else {
					reprimandOnly.add(minorReprimandOnly, ty == event.PenReprimand)
					warningOnly.add(minorWarningOnly, ty == event.PenWarning)
				}
			case event.SeverityGeneral:
				simple.add(0, isSimple)
				genWarning.add(generalWarning, ty&event.PenWarning != 0)
				genConfiscation.add(generalConfiscation, ty&event.PenConfiscation != 0)
				genSuspension.add(generalLicenceSuspension, ty&event.PenLicenceSuspension != 0)
				genStop.add(generalProductionSuspension, ty&event.PenProductionSuspension != 0)
			case event.SeveritySerious:
				simple.add(0, isSimple)
				serFine.add(seriousFine, ty&event.PenFine != 0)
				serConfiscation.add(seriousConfiscation, ty&event.PenConfiscation != 0)
				// Heavy when drawn, or when neither a fine nor confiscation was.
				pHeavy := seriousHeavy + (1-seriousHeavy)*(1-seriousFine)*(1-seriousConfiscation)
				isHeavy := ty&(event.PenProductionSuspension|event.PenLicenceRevocation|event.PenBusinessLicenceRevocation|event.PenRestrictions) != 0
				serHeavy.add(pHeavy, isHeavy)
				if isHeavy {
					for k, h := range heavyTypes {
						heavy[k].add(heavyShare[k], ty&h != 0)
					}
				}
			}
		case event.TypeAbnormalListed, event.TypeInspection, event.TypeTaxRating, event.TypeCommitmentMade:
			recs[ev.ID] = &rec{typ: ev.Type, sub: ev.Sub, on: on}
		case event.TypeCommitmentBreached:
			breaches[ev.Ref] = true
			recs[ev.Ref].on = on
		case event.TypeObjectionFiled:
			objs[ev.ID] = &obj{filed: ev.OccurredAt}
			if r := recs[ev.Ref]; r != nil {
				r.filed = true
			}
		case event.TypeObjectionAnswered:
			o := objs[ev.Ref]
			if ev.Sub == event.OutcomeReferred {
				o.referred = true
				return nil
			}
			o.answered = true
			due, _ := objrule.Deadline(cal, o.filed, o.referred)
			late.add(objLate, on > due)
			upheld.add(objUpheld, ev.Sub == event.OutcomeUpheld)
			referred.add(objReferred, o.referred)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for id, r := range recs {
		if r.on > cutoff {
			continue
		}
		switch r.typ {
		case event.TypePenalty:
			if r.simple {
				objSimple.add(objPenaltySimple, r.filed)
			} else {
				objPen.add(objPenalty, r.filed)
			}
		case event.TypeAbnormalListed:
			if r.sub == event.AbnormalUnreachable {
				objUnr.add(objUnreachable, r.filed)
			} else {
				objAb.add(objAbnormal, r.filed)
			}
		case event.TypeInspection:
			if r.sub != event.ResultNoProblem {
				objIns.add(objInspection, r.filed)
			}
		case event.TypeTaxRating:
			if r.sub == event.TaxC || r.sub == event.TaxD {
				objTaxS.add(objTax, r.filed)
			}
		case event.TypeCommitmentMade:
			if breaches[id] {
				objB.add(objBreach, r.filed)
			}
		}
	}
	for _, o := range objs {
		// Late answers reach 1 + 120 working days past the deadline.
		if civil.DateOf(o.filed) <= cutoff-200 {
			unanswered.add(objUnanswered, !o.answered)
		}
	}
	simple.check(t, "simple procedure (minor: penSimpleShare, else 0)", 1000)
	simpleWarning.check(t, "simple: warning only", 300)
	reprimandOnly.check(t, "minor ordinary: reprimand only", 300)
	warningOnly.check(t, "minor ordinary: warning only", 300)
	genWarning.check(t, "general: warning", 1000)
	genConfiscation.check(t, "general: confiscation", 1000)
	genSuspension.check(t, "general: licence suspension", 1000)
	genStop.check(t, "general: production suspension", 1000)
	serFine.check(t, "serious: fine", 150)
	serConfiscation.check(t, "serious: confiscation", 150)
	serHeavy.check(t, "serious: a heavy type", 150)
	for k := range heavy {
		heavy[k].check(t, "heavy: "+heavyTypes[k].Names()[0], 80)
	}
	for k := range sectors {
		sectors[k].check(t, "sector "+event.SectorName(uint8(k+1)), 2000)
	}
	objPen.check(t, "objections: ordinary penalty", 1000)
	objSimple.check(t, "objections: simple penalty", 250)
	objAb.check(t, "objections: abnormal listing", 2000)
	objUnr.check(t, "objections: unreachable listing", 100)
	objIns.check(t, "objections: inspection finding", 500)
	objTaxS.check(t, "objections: tax C or D", 2000)
	objB.check(t, "objections: breached commitment", 300)
	referred.check(t, "answers: referred first", 400)
	upheld.check(t, "answers: upheld", 400)
	late.check(t, "answers: late (models/objection deadline)", 400)
	unanswered.check(t, "objections never answered", 400)
}
