package scoring

import (
	"sort"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/record"
	"github.com/creditrisk/creditd/models/tier"
)

// Evaluation: the score and tier of an entity at instant T are a pure
// function of its applied records and T. Every rule is a step function of
// time (records start, decay bands, publicity ends, removals, repairs, the
// three-year abnormal rule), so an evaluation also yields the interval
// [validFrom, next) on which its answer holds; the entity caches it, and
// as-of queries inside the interval take the fast path. The records of an
// entity are few, so evaluation walks them all; the iteration order of the
// list (arrival order) never affects the result: sums commute, and every
// choice (latest annual report, max_count) is by record content.

// cause kinds of the boundary that last changed an evaluation
const (
	causeNone = iota
	causeEvent
	causeDecay
	causePublicityEnd
	causeWindowEnd
	causeRemoved
	causeRepaired
	causeAbnormal3y
	causeRegistered
	causeCleanYear
)

var causeNames = [...]string{"", "", "time:decay", "time:publicity_ended", "time:window_ended", "", "", "time:abnormal_unresolved_3y", "", "time:clean_year"}

// contrib is one record's contribution to a score.
type contrib struct {
	rec     uint32
	feature int16
	points  int32
	at      int64 // effect start, for deterministic ordering
	idHash  uint64
}

// evalResult is the outcome of an evaluation at one instant.
type evalResult struct {
	score     int32
	tier      tier.Tier
	validFrom int64 // the answer holds on [validFrom, next)
	next      int64
	// cause of the latest boundary ≤ T
	causeAt   int64
	causeKind uint8
	causeRec  uint32
	// conditions for overrides, bit per override condition
	conds uint8
	// details, only when requested
	contribs  []contrib
	overrides []int // indexes into compiled.overrides that bound the tier
}

const (
	condDishonest = 1 << iota
	condAbn3y
	condAbnormal
	condCourt
	condBreach
)

func condBit(c string) uint8 {
	switch c {
	case CondDishonestList:
		return condDishonest
	case CondAbnormal3y:
		return condAbn3y
	case CondAbnormalList:
		return condAbnormal
	case CondCourtDebtor:
		return condCourt
	case CondCommitBreach:
		return condBreach
	}
	return 0
}

// evaluator holds scratch space for evaluations; one per goroutine.
type evaluator struct {
	m       *compiled
	contrib []contrib
	latest  [32]uint32 // per event type: the latest-only record chosen
	// withdrawals are the upheld objections of the entity (objection.go).
	withdrawals []withdrawal
}

// boundary bookkeeping
type bounds struct {
	T         int64
	validFrom int64
	next      int64
	causeAt   int64
	causeKind uint8
	causeRec  uint32
}

// at records a boundary instant t with its cause.
func (b *bounds) at(t int64, kind uint8, rec uint32) {
	if t > b.T {
		if t < b.next {
			b.next = t
		}
		return
	}
	if t > b.validFrom {
		b.validFrom = t
	}
	if t > b.causeAt || (t == b.causeAt && kind > b.causeKind) {
		b.causeAt, b.causeKind, b.causeRec = t, kind, rec
	}
}

// eval evaluates entity e of shard s at T. With details, the result keeps
// the contributions and binding overrides (its slices alias the
// evaluator's scratch space).
func (ev *evaluator) eval(s *shard, e *entity, T int64, details bool) evalResult {
	m := ev.m
	b := bounds{T: T, validFrom: -1 << 62, next: noTime, causeAt: -1 << 62}
	ev.contrib = ev.contrib[:0]
	var conds uint8

	// Latest-only types: choose, among records started by T, the one with
	// the greatest (year, at, idHash).
	for i := range ev.latest {
		ev.latest[i] = 0
	}
	ev.withdrawals = ev.withdrawals[:0]
	for ri := e.firstRec; ri != 0; {
		r := s.rec(ri)
		ev.collectWithdrawals(r)
		if (r.typ == uint8(event.TypeAnnualReport) || r.typ == uint8(event.TypeTaxRating)) && r.at <= T {
			cur := ev.latest[r.typ]
			if cur == 0 || laterRecord(r, s.rec(cur)) {
				ev.latest[r.typ] = ri
			}
		}
		ri = r.next
	}

	for ri := e.firstRec; ri != 0; {
		r := s.rec(ri)
		next := r.next
		typ := event.Type(r.typ)
		if typ == event.TypeDeregistered {
			// Not scored, but the entity leaves the population then.
			b.at(r.at, causeEvent, ri)
			ri = next
			continue
		}
		if r.target != 0 || typ == event.TypeRepair {
			// Referencing events act through their target's endAt/repairAt.
			ri = next
			continue
		}
		if r.at > T {
			b.at(r.at, causeEvent, ri)
			ri = next
			continue
		}
		b.at(r.at, causeEvent, ri)
		ev.scoreRecord(s, ri, r, typ, &b, &conds)
		ri = next
	}
	for _, fi := range m.byType[event.TypeRegistered] { // clean years (clean.go)
		ev.scoreCleanYears(s, e, fi, &b)
	}

	// max_count: keep each feature's largest effects.
	cs := ev.contrib
	if len(cs) > 1 {
		sort.Slice(cs, func(i, j int) bool {
			a, c := cs[i], cs[j]
			if a.feature != c.feature {
				return a.feature < c.feature
			}
			if abs32(a.points) != abs32(c.points) {
				return abs32(a.points) > abs32(c.points)
			}
			if a.at != c.at {
				return a.at > c.at
			}
			return a.idHash < c.idHash
		})
		out := cs[:0]
		run := 0
		for i := range cs {
			if i > 0 && cs[i].feature == cs[i-1].feature {
				run++
			} else {
				run = 0
			}
			if mc := m.features[cs[i].feature].MaxCount; mc > 0 && run >= mc {
				continue
			}
			out = append(out, cs[i])
		}
		cs = out
		ev.contrib = cs
	}

	score := int64(m.m.Scaling.BaseScore)
	for _, c := range cs {
		score += int64(c.points)
	}
	if score < int64(m.m.MinScore) {
		score = int64(m.m.MinScore)
	}
	if score > int64(m.m.MaxScore) {
		score = int64(m.m.MaxScore)
	}
	tier := m.tierOf(int32(score))
	res := evalResult{score: int32(score), validFrom: b.validFrom, next: b.next,
		causeAt: b.causeAt, causeKind: b.causeKind, causeRec: b.causeRec, conds: conds}
	for i, o := range m.overrides {
		if conds&condBit(o.Condition) != 0 && tier <= o.min {
			if tier < o.min {
				tier = o.min
			}
			if details {
				res.overrides = append(res.overrides, i)
			}
		}
	}
	res.tier = tier
	if details {
		res.contribs = cs
	}
	return res
}

func laterRecord(a, b *storedRecord) bool {
	if a.year != b.year {
		return a.year > b.year
	}
	if a.at != b.at {
		return a.at > b.at
	}
	return a.idHash > b.idHash
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

// dayStart returns 00:00 CST of the day after date d (the instant a
// publicity period whose last day is d ends).
func dayAfter(d civil.Date) int64 { return (d + 1).Unix() }

// scoreRecord adds the contribution of one started primary record.
func (ev *evaluator) scoreRecord(s *shard, ri uint32, r *storedRecord, typ event.Type, b *bounds, conds *uint8) {
	T := b.T
	start := r.at
	end := int64(noTime)
	endKind := uint8(causeNone)
	endRec := uint32(0)
	setEnd := func(t int64, kind uint8, rec uint32) {
		if t < end {
			end, endKind, endRec = t, kind, rec
		}
	}
	day := civil.DateFromUnix(r.at)
	var match uint8 = matchSub
	var cond uint8

	switch typ {
	case event.TypePenalty:
		rule := record.RuleFor(typ, r.sub, day)
		setEnd(dayAfter(rule.Until), causePublicityEnd, ri)
		setEnd(r.repairAt, causeRepaired, r.repairBy)
	case event.TypeAbnormalListed:
		setEnd(r.endAt, causeRemoved, r.endBy)
		setEnd(r.repairAt, causeRepaired, r.repairBy)
		threeY := day.AddYears(record.AbnormalToSeriousYears).Unix()
		if threeY <= T && threeY < end {
			// Unresolved for three years: treated as the serious list from then on.
			b.at(threeY, causeAbnormal3y, ri)
			start = threeY
			match, cond = matchUnresolved, condAbn3y
		} else {
			if threeY < end {
				b.at(threeY, causeAbnormal3y, ri)
				end = threeY // the ordinary listing effect ends here; the 3-year one starts
				endKind = causeAbnormal3y
			}
			match, cond = matchAny, condAbnormal
		}
	case event.TypeDishonestListed:
		setEnd(r.endAt, causeRemoved, r.endBy)
		setEnd(r.repairAt, causeRepaired, r.repairBy)
		match, cond = matchAny, condDishonest
	case event.TypeCourtDebtorListed:
		setEnd(r.endAt, causeRemoved, r.endBy)
		match, cond = matchAny, condCourt
	case event.TypeCommitmentMade:
		if r.endKind == endNone {
			return
		}
		if r.endAt > T {
			b.at(r.endAt, causeEvent, r.endBy)
			return
		}
		start = r.endAt
		b.at(start, causeEvent, r.endBy)
		bday := civil.DateFromUnix(r.endAt)
		if r.endKind == endBreached {
			rule := record.BreachRule(bday)
			setEnd(dayAfter(rule.Until), causePublicityEnd, ri)
			setEnd(r.repairAt, causeRepaired, r.repairBy)
			match, cond = matchBreached, condBreach
		} else {
			setEnd(bday.AddYears(3).Unix(), causePublicityEnd, ri)
			match = matchFulfilled
		}
	case event.TypeInspection, event.TypeHonor, event.TypeComplaint:
		rule := record.RuleFor(typ, r.sub, day)
		setEnd(dayAfter(rule.Until), causePublicityEnd, ri)
		if typ == event.TypeComplaint {
			if r.flags&recSubstantiated == 0 {
				return
			}
			match = matchSubst
		}
	case event.TypeAnnualReport, event.TypeTaxRating:
		if ev.latest[typ] != ri {
			return
		}
		if typ == event.TypeAnnualReport {
			match = matchLate
			if r.flags&recOnTime != 0 {
				match = matchOnTime
			}
		}
	default:
		return
	}
	if len(ev.withdrawals) > 0 {
		// An upheld objection withdraws the record (domain.md §4.8).
		if at, by, ok := ev.withdrawnAt(ri); ok {
			setEnd(at, causeRemoved, by)
		}
	}

	// Find the feature.
	fi := -1
	for _, i := range ev.m.byType[typ] {
		f := &ev.m.features[i]
		switch f.match.kind {
		case matchAny:
			if match == matchAny || match == matchSub || match == matchOnTime || match == matchLate || match == matchSubst {
				fi = i
			}
		case matchSub:
			if match == matchSub && f.match.sub == r.sub {
				fi = i
			}
		default:
			if f.match.kind == match {
				fi = i
			}
		}
		if fi >= 0 {
			break
		}
	}
	if fi < 0 {
		// Not scored (e.g. tax level M); its start is still a boundary.
		return
	}
	f := &ev.m.features[fi]
	if f.WindowDays > 0 {
		setEnd(start+int64(f.WindowDays)*86400, causeWindowEnd, ri)
	}
	if T >= end {
		b.at(end, endKind, endRec)
		return
	}
	b.at(end, endKind, endRec) // future boundary: next
	permille := 1000
	if f.Decay {
		age := T - start
		p, nextAge := ev.m.decayPermille(age)
		permille = p
		// the current band's start is a boundary too
		bandStart := start
		for _, d := range ev.m.decay {
			if age >= int64(d.FromDays)*86400 {
				bandStart = start + int64(d.FromDays)*86400
			}
		}
		if bandStart > start {
			b.at(bandStart, causeDecay, ri)
		}
		if nextAge >= 0 && start+nextAge < end {
			b.at(start+nextAge, causeDecay, ri)
		}
	}
	pts := int32(roundDiv(int64(f.Points)*int64(permille), 1000))
	*conds |= cond
	if pts == 0 {
		return
	}
	ev.contrib = append(ev.contrib, contrib{rec: ri, feature: int16(fi), points: pts, at: start, idHash: r.idHash})
}

// roundDiv divides rounding half away from zero.
func roundDiv(a, b int64) int64 {
	if a >= 0 {
		return (a + b/2) / b
	}
	return -((-a + b/2) / b)
}
