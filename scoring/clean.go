package scoring

import (
	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/record"
)

// Clean years: a positive feature every entity type can earn, whatever
// information it receives. Individual businesses (个体工商户, domain.md §1.5
// code 92) never receive a tax credit level (§2.4: the tax authority rates
// enterprises), so without it their only positive records were an on-time
// annual report and rare inspections or honours, and almost none reached
// the lowest-risk tier. A feature on the "registered" event with match
// "clean_years" scores Points for every year since the later of the
// registration date and the start of the entity's latest adverse record,
// accrued by full quarter, up to MaxCount years: a record of sustained
// compliance (MODEL.md
// "Clean years"). Adverse records are those credit repair applies to or
// that raise risk: penalties, listings, inspections with a finding,
// substantiated complaints, breached commitments, late annual reports and
// tax levels C and D (record.RuleFor's Negative, domain.md §4). Quarters
// count in calendar months from the start (civil dates, CST), so the score
// steps up exactly on those days, which the evaluation reports as
// boundaries ("time:clean_year") like any other time rule.

// cleanSince returns the instant from which the entity's clean years count
// at T (registration or the start of its latest adverse record started by
// T), and false when it is unknown (no registration date).
func cleanSince(s *shard, e *entity, T int64) (civil.Date, bool) {
	if civil.Date(e.regOn) == civil.NoDate || e.flags&entRegistered == 0 {
		return civil.NoDate, false
	}
	since := civil.Date(e.regOn)
	for ri := e.firstRec; ri != 0; ri = s.rec(ri).next {
		r := s.rec(ri)
		at := r.at
		switch typ := event.Type(r.typ); typ {
		case event.TypeCommitmentMade:
			if r.endKind != endBreached {
				continue
			}
			at = r.endAt
		case event.TypeComplaint:
			if r.flags&recSubstantiated == 0 {
				continue
			}
		case event.TypeAnnualReport:
			if r.flags&recOnTime != 0 {
				continue
			}
		default:
			if r.target != 0 || !record.RuleFor(typ, r.sub, civil.DateFromUnix(r.at)).Negative {
				continue
			}
		}
		if at > T {
			continue
		}
		if d := civil.DateFromUnix(at); d > since {
			since = d
		}
	}
	return since, true
}

// scoreCleanYears adds the clean-years contribution of feature fi at b.T:
// Points per clean year accrued by full quarter (round(Points × quarters
// / 4)), up to MaxCount years, so that scores spread within a year rather
// than jump once a year.
func (ev *evaluator) scoreCleanYears(s *shard, e *entity, fi int, b *bounds) {
	since, ok := cleanSince(s, e, b.T)
	if !ok {
		return
	}
	f := &ev.m.features[fi]
	maxQ := 4 * f.MaxCount
	q := 0
	for q < maxQ && since.AddMonths(3*(q+1)).Unix() <= b.T {
		q++
	}
	if q > 0 {
		b.at(since.AddMonths(3*q).Unix(), causeCleanYear, 0)
	}
	if q < maxQ {
		b.at(since.AddMonths(3*(q+1)).Unix(), causeCleanYear, 0)
	}
	pts := int32(roundDiv(int64(f.Points)*int64(q), 4))
	if pts == 0 {
		return
	}
	ev.contrib = append(ev.contrib, contrib{feature: int16(fi), points: pts, at: since.Unix()})
}
