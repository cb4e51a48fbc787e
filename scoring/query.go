package scoring

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/record"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// Reason explains part of a score: a reason code of the model, the points
// it moved the score by (negative lowers the score, raising risk), and the
// records behind it. Overrides carry 0 points and come first (report.md
// "Order of reasons").
type Reason struct {
	Code    string
	Text    string
	Points  int
	Records []string
}

// MaxReasons is how many reasons a score carries at most.
const MaxReasons = 4

// Record statuses as credit-report/v1 names them.
const (
	StatusActive   = "active"
	StatusRepaired = "repaired"
	StatusExpired  = "expired"
	StatusRemoved  = "removed"
)

// RecordView is one record of an entity as of an instant.
type RecordView struct {
	ID         string
	Type       event.Type
	Category   record.Category
	Sub        string // the enumerated attribute's wire value, if any
	Authority  string
	OccurredAt time.Time
	Attrs      json.RawMessage // the attrs object as received
	Status     string
	// Outcome of a commitment: "breached", "fulfilled" or "".
	Outcome        string
	OutcomeAt      time.Time
	PublicityUntil civil.Date // NoDate: published while active
	RepairedOn     civil.Date // NoDate if not repaired
	EndedAt        time.Time  // removal instant, zero if none
	EndedBy        string     // id of the removing event
	RepairedBy     string     // id of the repair event
	Public         bool       // shown in the public report
	Negative       bool
	Points         int // contribution to the score at the view's instant
	// Objection is the record's latest objection filed by the view's
	// instant, nil if none (objection.go). An upheld one makes the status
	// StatusWithdrawn.
	Objection *ObjectionView
	// SAMR and CreditChina are a penalty's publication in each channel
	// (nil for other records, published alike in both: the fields above).
	// The fields above follow Credit China for penalties.
	SAMR, CreditChina *ChannelView
	// Transferred is set, from the day TransferredOn, on an enterprise's
	// abnormal listing unresolved for 3 years: it moved to the serious
	// illegal and dishonest list then (domain.md §4.2, §4.3), and Category
	// is CatDishonestList.
	Transferred   bool
	TransferredOn civil.Date
}

// Channel statuses beyond the record statuses: the channel never
// publishes the record (a warning-only or simple-procedure penalty on the
// SAMR publicity system; a minor 2026 penalty on Credit China; a
// simple-procedure penalty in Shandong).
const StatusNotPublished = "not_published"

// ChannelView is a record's publication in one channel as of an instant.
type ChannelView struct {
	Status         string     // StatusActive, StatusRepaired, StatusExpired or StatusNotPublished
	PublicityUntil civil.Date // last day published; NoDate when not published
	RepairedOn     civil.Date // NoDate if not repaired in this channel
	RepairedBy     string
	// RepairFrom is the first day a repair in this channel is allowed,
	// NoDate when it is not repairable (Repairable false, see Why).
	RepairFrom civil.Date
	Why        string // why not repairable, if not
}

// EntityView is an entity's state as of an instant.
type EntityView struct {
	USCC                  uscc.Code
	Exception             bool // the USCC is a listed exception failing a check character
	Registered            bool
	RegistrationID        string
	RegistrationAuthority string
	Name                  string
	Industry              string
	Region                string
	RegisteredOn          civil.Date
	Deregistered          bool
	DeregisteredAt        time.Time
	AsOf                  time.Time
	Score                 int
	Tier                  tier.Tier
	TierLabel             string
	Scheme                string
	Model                 string
	Reasons               []Reason
	Active                int // records active as of AsOf
	Repaired              int // records repaired as of AsOf
	ValidFrom             time.Time
	NextChange            time.Time // zero: no time rule pending
	Records               []RecordView
}

// registeredBy reports whether ent's registration, if applied, has begun
// at T: from 00:00 CST of its registered_on date (an entity does not
// exist before it is registered; draws count it the same way, sampler's
// RegisteredAt ≤ as_of). An entity without a registered_on date or
// without a registration event has no such bound.
func registeredBy(ent *entity, T int64) bool {
	return ent.flags&entRegistered == 0 || civil.Date(ent.regOn) == civil.NoDate || civil.Date(ent.regOn).Unix() <= T
}

// inPopulation reports whether ent is a registered, not deregistered
// entity at T: what tier counts count.
func inPopulation(ent *entity, T int64) bool {
	return ent.flags&entRegistered != 0 && registeredBy(ent, T) && !(ent.flags&entDeregistered != 0 && int64(ent.deregAt) <= T)
}

// Entity returns the state of the entity with the given code as of asOf,
// with its records when withRecords is set. ok is false for an unknown
// code and for an entity registered after asOf (it did not exist then).
func (e *Engine) Entity(code uscc.Code, asOf time.Time, withRecords bool) (v EntityView, ok bool) {
	s, idx, ok := e.rlockEntity(code)
	if !ok {
		return v, false
	}
	defer s.mu.RUnlock()
	ent := s.ent(idx)
	T := asOf.Unix()
	if !registeredBy(ent, T) {
		return v, false
	}
	ev := e.evaluator()
	defer e.release(ev)
	r := ev.eval(s, ent, T, true)

	v = EntityView{USCC: code, Exception: ent.flags&entException != 0, AsOf: asOf.UTC().Truncate(time.Second),
		Score: int(r.score), Tier: r.tier, TierLabel: e.model.scheme.Label(r.tier), Scheme: e.model.scheme.ID,
		Model: e.model.name, Region: regionString(ent.region), RegisteredOn: civil.Date(ent.regOn),
		ValidFrom: time.Unix(r.validFrom, 0).UTC()}
	if r.validFrom < 0 {
		v.ValidFrom = time.Time{}
	}
	if r.next != noTime {
		v.NextChange = time.Unix(r.next, 0).UTC()
	}
	if ent.flags&entRegistered != 0 {
		b := s.bytes(ent.regOff, uint32(ent.regLen))
		v.Registered = true
		v.RegistrationID = string(blobField(b, 0))
		v.Name = string(blobField(b, 1))
		v.Industry = string(blobField(b, 2))
		v.RegistrationAuthority = string(blobField(b, 3))
	}
	if ent.flags&entDeregistered != 0 && int64(ent.deregAt) <= T {
		v.Deregistered = true
		v.DeregisteredAt = time.Unix(int64(ent.deregAt), 0).UTC()
	}
	v.Reasons = e.reasons(s, r)

	points := map[uint32]int{}
	for _, c := range r.contribs {
		points[c.rec] += int(c.points)
	}
	asOfDay := civil.DateOf(asOf)
	objections := e.recordObjections(s, ent, T)
	for ri := ent.firstRec; ri != 0; ri = s.rec(ri).next {
		rec := s.rec(ri)
		if rec.target != 0 || record.CategoryOf(event.Type(rec.typ)) == record.CatNone || rec.at > T {
			continue
		}
		rv := e.recordView(s, ent, rec, T, asOfDay)
		if o, ok := objections[ri]; ok {
			rv.Objection = &o
			if o.Status == ObjectionUpheld {
				rv.Status, rv.EndedAt, rv.EndedBy = StatusWithdrawn, o.AnsweredAt, o.AnsweredBy
			}
		}
		switch rv.Status {
		case StatusActive:
			v.Active++
		case StatusRepaired:
			v.Repaired++
		}
		if withRecords {
			rv.Points = points[ri]
			v.Records = append(v.Records, rv)
		}
	}
	sort.Slice(v.Records, func(i, j int) bool {
		a, b := v.Records[i], v.Records[j]
		if !a.OccurredAt.Equal(b.OccurredAt) {
			return a.OccurredAt.Before(b.OccurredAt)
		}
		return a.ID < b.ID
	})
	return v, true
}

// reasons turns an evaluation's contributions into reason codes, in the
// order of report.md "Order of reasons" (report.CompareReasons): the binding
// overrides first (0 points), then the features by non-increasing |points|,
// ties by code. A feature whose contributions sum to 0 explains nothing and
// is left out, so that 0 points always means an override.
func (e *Engine) reasons(s *shard, r evalResult) []Reason {
	var out []Reason
	for _, oi := range r.overrides {
		o := e.model.overrides[oi]
		out = append(out, Reason{Code: o.Code, Text: o.Text, Points: 0, Records: e.overrideRecords(s, r, o.Condition)})
	}
	byFeature := map[int16]int{}
	nOverrides := len(out)
	for _, c := range r.contribs {
		i, ok := byFeature[c.feature]
		if !ok {
			f := e.model.features[c.feature]
			i = len(out)
			byFeature[c.feature] = i
			out = append(out, Reason{Code: f.Code, Text: f.Text})
		}
		out[i].Points += int(c.points)
		if c.rec != 0 { // clean years rest on no record (clean.go)
			out[i].Records = append(out[i].Records, e.recID(s, c.rec))
		}
	}
	feats := slices.DeleteFunc(out[nOverrides:], func(r Reason) bool { return r.Points == 0 })
	out = out[:nOverrides+len(feats)]
	for i := range feats {
		sort.Strings(feats[i].Records)
	}
	slices.SortStableFunc(out, func(a, b Reason) int {
		return report.CompareReasons(report.Reason{Code: a.Code, Points: int64(a.Points)},
			report.Reason{Code: b.Code, Points: int64(b.Points)})
	})
	if len(out) > MaxReasons {
		out = out[:MaxReasons]
	}
	return out
}

// overrideRecords lists the records that hold an override condition.
func (e *Engine) overrideRecords(s *shard, r evalResult, cond string) []string {
	var typ event.Type
	switch cond {
	case CondDishonestList:
		typ = event.TypeDishonestListed
	case CondAbnormal3y, CondAbnormalList:
		typ = event.TypeAbnormalListed
	case CondCourtDebtor:
		typ = event.TypeCourtDebtorListed
	case CondCommitBreach:
		typ = event.TypeCommitmentMade
	}
	var ids []string
	for _, c := range r.contribs {
		if c.rec == 0 {
			continue
		}
		if rec := s.rec(c.rec); event.Type(rec.typ) == typ {
			ids = append(ids, e.recID(s, c.rec))
		}
	}
	sort.Strings(ids)
	return ids
}

func (e *Engine) recID(s *shard, ri uint32) string {
	r := s.rec(ri)
	return string(blobField(s.bytes(r.strOff, r.strLen), 0))
}

// recordView describes a primary record as of T.
func (e *Engine) recordView(s *shard, ent *entity, r *storedRecord, T int64, asOfDay civil.Date) RecordView {
	b := s.bytes(r.strOff, r.strLen)
	typ := event.Type(r.typ)
	v := RecordView{ID: string(blobField(b, 0)), Type: typ, Category: record.CategoryOf(typ),
		Sub: event.SubName(typ, r.sub), Authority: string(blobField(b, 1)),
		OccurredAt: time.Unix(r.at, 0).UTC(), RepairedOn: civil.NoDate, PublicityUntil: civil.NoDate}
	if a := blobField(b, 2); len(a) > 0 {
		v.Attrs = append(json.RawMessage(nil), a...)
	}
	day := civil.DateFromUnix(r.at)
	rule := record.RuleFor(typ, r.sub, day)
	v.Public, v.Negative = rule.Public, rule.Negative
	v.PublicityUntil = rule.Until
	switch typ {
	case event.TypePenalty:
		// Each channel by its own rules; the fields of v follow Credit China.
		p := penaltyOf(s, r, true)
		samr, cc := record.SAMRRule(p, day, e.rules), record.CreditChinaRule(p, day, e.rules)
		v.Public, v.PublicityUntil = cc.Shown, cc.Until
		samrAt, samrBy := int64(noTime), uint32(0)
		if r.endKind == endStopped {
			samrAt, samrBy = r.endAt, r.endBy
		}
		v.SAMR = e.channelView(s, samr, samrAt, samrBy, T, asOfDay)
		v.CreditChina = e.channelView(s, cc, r.repairAt, r.repairBy, T, asOfDay)
	case event.TypeAbnormalListed, event.TypeDishonestListed, event.TypeCourtDebtorListed:
		v.PublicityUntil = e.rules.CapUntil(day) // Shandong Art. 38 (domain.md §4.1); NoDate elsewhere
		if typ != event.TypeAbnormalListed {
			break
		}
		if individual(ent.code) {
			v.Category = record.CatAbnormalStatus // domain.md §4.2: a status, not a listing
			break
		}
		// Unresolved (not removed or repaired) when the 3 years were up:
		// shown as the serious-list record it became (§4.2, §4.3).
		tr := transferOn(day)
		if at := tr.Unix(); at <= T && (r.endAt == noTime || r.endAt > at) && (r.repairAt == noTime || r.repairAt > at) {
			v.Category, v.Transferred, v.TransferredOn = record.CatDishonestList, true, tr
		}
	}
	if typ == event.TypeCommitmentMade && r.endKind != endNone && r.endAt <= T {
		v.OutcomeAt = time.Unix(r.endAt, 0).UTC()
		v.EndedBy = e.recID(s, r.endBy)
		if r.endKind == endBreached {
			v.Outcome = "breached"
			v.Negative = true
			bday := civil.DateFromUnix(r.endAt)
			v.PublicityUntil = fromRule(record.BreachRule(bday), e.rules.CapUntil(bday)).Until
		} else {
			v.Outcome = "fulfilled"
		}
	}
	v.Status = StatusActive
	switch {
	case r.repairAt != noTime && r.repairAt <= T:
		v.Status = StatusRepaired
		v.RepairedOn = civil.DateFromUnix(r.repairAt)
		v.RepairedBy = e.recID(s, r.repairBy)
	case r.endKind == endRemoved && r.endAt <= T:
		v.Status = StatusRemoved
		v.EndedAt = time.Unix(r.endAt, 0).UTC()
		v.EndedBy = e.recID(s, r.endBy)
	case v.PublicityUntil != civil.NoDate && v.PublicityUntil < asOfDay:
		v.Status = StatusExpired
	}
	return v
}

// channelView is a record's publication in one channel under rule, with
// the channel's repair at repairAt (noTime: none) by record repairBy.
func (e *Engine) channelView(s *shard, rule record.ChannelRule, repairAt int64, repairBy uint32, T int64, asOfDay civil.Date) *ChannelView {
	c := &ChannelView{Status: StatusActive, PublicityUntil: rule.Until, RepairedOn: civil.NoDate, RepairFrom: rule.RepairFrom, Why: rule.NotRepairable}
	if !rule.Repairable {
		c.RepairFrom = civil.NoDate
	}
	switch {
	case !rule.Shown:
		c.Status, c.PublicityUntil = StatusNotPublished, civil.NoDate
	case repairAt != noTime && repairAt <= T:
		c.Status, c.RepairedOn, c.RepairedBy = StatusRepaired, civil.DateFromUnix(repairAt), e.recID(s, repairBy)
	case rule.Until != civil.NoDate && rule.Until < asOfDay:
		c.Status = StatusExpired
	}
	return c
}

// EntityAt is an entity's state for population scans (draws, stats).
type EntityAt struct {
	USCC           uscc.Code
	Region         [6]byte // division code digits; zero bytes if unknown
	Tier           tier.Tier
	Score          int32
	Registered     bool
	RegisteredOn   civil.Date // callers exclude entities registered after the scan instant (as draws do)
	Deregistered   bool       // deregistered at or before the scan instant
	DeregisteredAt int64      // unix seconds, 0 if not
	// Inspections at or before the scan instant, newest first (only when
	// the scan asks for them).
	Inspections []InspectionAt
	// Industry is the registered event's industry attribute (only when the
	// scan asks for it; valid during the callback only).
	Industry []byte
}

// InspectionAt is one inspection record.
type InspectionAt struct {
	At     int64
	PlanID string
	Result uint8
}

// ScanOptions select what a scan reports.
type ScanOptions struct {
	// Inspections fills EntityAt.Inspections.
	Inspections bool
	// Industry fills EntityAt.Industry.
	Industry bool
}

// Scan calls fn for every entity of shard part with its tier as of asOf,
// holding the shard's read lock. Entities whose cached tier covers asOf
// take the fast path (no evaluation); the rest are evaluated (slow path).
// fn must not retain the *EntityAt.
func (e *Engine) Scan(ctx context.Context, part int, asOf time.Time, opt ScanOptions, fn func(*EntityAt) error) error {
	s := e.shards[part]
	T := asOf.Unix()
	ev := e.evaluator()
	defer e.release(ev)
	s.mu.RLock()
	defer s.mu.RUnlock()
	var at EntityAt
	for i := uint32(0); i < s.nent; i++ {
		if i&4095 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		ent := s.ent(i)
		at = EntityAt{USCC: ent.code.Unpack(), Inspections: at.Inspections[:0],
			Registered: ent.flags&entRegistered != 0, RegisteredOn: civil.Date(ent.regOn)}
		regionBytes(ent.region, &at.Region)
		if ent.flags&entDeregistered != 0 && int64(ent.deregAt) <= T {
			at.Deregistered, at.DeregisteredAt = true, int64(ent.deregAt)
		}
		if cacheValid(ent, T) { // fast path
			at.Tier, at.Score = tier.Tier(ent.tier), ent.score
		} else { // slow path
			r := ev.eval(s, ent, T, false)
			at.Tier, at.Score = r.tier, r.score
		}
		if opt.Inspections {
			at.Inspections = e.inspections(s, ent, T, at.Inspections)
		}
		if opt.Industry && at.Registered {
			at.Industry = blobField(s.bytes(ent.regOff, uint32(ent.regLen)), 2)
		}
		if err := fn(&at); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) inspections(s *shard, ent *entity, T int64, out []InspectionAt) []InspectionAt {
	for ri := ent.firstRec; ri != 0; ri = s.rec(ri).next {
		r := s.rec(ri)
		if r.typ != uint8(event.TypeInspection) || r.at > T {
			continue
		}
		var a struct {
			PlanID string `json:"plan_id"`
		}
		_ = json.Unmarshal(blobField(s.bytes(r.strOff, r.strLen), 2), &a)
		out = append(out, InspectionAt{At: r.at, PlanID: a.PlanID, Result: r.sub})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At > out[j].At })
	return out
}

// TierStat is one tier's line in TierStats.
type TierStat struct {
	Tier        string
	Entities    int
	Inspections int // inspections of entities while in this tier
	// Found counts inspections that found problems: problem_found or
	// corrected (a problem found and corrected on the spot).
	Found int
	// Adverse counts Found plus refused and unreachable: the findings of
	// models/event.Finding, every result but no_problem (domain.md §8
	// counts unreachable as a finding too).
	Adverse int
	// ByResult counts inspections per result wire value.
	ByResult map[string]int
}

// TierStats are per-tier entity counts and inspection hit rates.
type TierStats struct {
	AsOf         time.Time
	Scheme       string
	RegionPrefix string
	Entities     int // registered, not deregistered entities matching the prefix
	Tiers        []TierStat
}

// TierStats counts, as of asOf, the registered (registered_on begun, see
// registeredBy) and not deregistered entities per tier whose division code starts with regionPrefix, and per
// tier the inspections made (at or before asOf) of entities while they were
// in that tier, with the number that found problems. The tier at an
// inspection is the entity's tier just before it: a pure function of the
// applied events, so late-arriving history is reflected exactly.
func (e *Engine) TierStats(ctx context.Context, asOf time.Time, regionPrefix string) (TierStats, error) {
	scheme := e.model.scheme
	type acc struct {
		ents, insp, found, adverse []int
		by                         []map[string]int
	}
	accs := make([]acc, len(e.shards))
	T := asOf.Unix()
	var firstErr error
	errs := make([]error, len(e.shards))
	e.parallelShards(func(i int, s *shard) {
		a := acc{ents: make([]int, scheme.Len()), insp: make([]int, scheme.Len()), found: make([]int, scheme.Len()),
			adverse: make([]int, scheme.Len()), by: make([]map[string]int, scheme.Len())}
		ev := e.evaluator()
		defer e.release(ev)
		s.mu.RLock()
		defer s.mu.RUnlock()
		for j := uint32(0); j < s.nent; j++ {
			if j&4095 == 0 && ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			ent := s.ent(j)
			if regionPrefix != "" && !strings.HasPrefix(regionString(ent.region), regionPrefix) {
				continue
			}
			if inPopulation(ent, T) {
				var t tier.Tier
				if cacheValid(ent, T) {
					t = tier.Tier(ent.tier)
				} else {
					t = ev.eval(s, ent, T, false).tier
				}
				a.ents[t]++
			}
			for ri := ent.firstRec; ri != 0; ri = s.rec(ri).next {
				r := s.rec(ri)
				if r.typ != uint8(event.TypeInspection) || r.at > T {
					continue
				}
				t := ev.eval(s, ent, r.at-1, false).tier
				a.insp[t]++
				if r.sub == event.ResultProblemFound || r.sub == event.ResultCorrected {
					a.found[t]++
				}
				if event.Finding(r.sub) {
					a.adverse[t]++
				}
				if a.by[t] == nil {
					a.by[t] = map[string]int{}
				}
				a.by[t][event.SubName(event.TypeInspection, r.sub)]++
			}
		}
		accs[i] = a
	})
	for _, err := range errs {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return TierStats{}, firstErr
	}
	st := TierStats{AsOf: asOf.UTC().Truncate(time.Second), Scheme: scheme.ID, RegionPrefix: regionPrefix}
	for t := 0; t < scheme.Len(); t++ {
		ts := TierStat{Tier: scheme.Labels[t], ByResult: map[string]int{}}
		for _, a := range accs {
			ts.Entities += a.ents[t]
			ts.Inspections += a.insp[t]
			ts.Found += a.found[t]
			ts.Adverse += a.adverse[t]
			for k, n := range a.by[t] {
				ts.ByResult[k] += n
			}
		}
		st.Entities += ts.Entities
		st.Tiers = append(st.Tiers, ts)
	}
	return st, nil
}

// Advance re-evaluates the entities whose tier may have changed by time
// alone at or before now (those whose scheduled next change has come),
// stores the new state and calls fn for each tier change. It touches only
// those entities. It returns the number re-evaluated.
func (e *Engine) Advance(now time.Time, fn func(TierChange)) int {
	T := now.Unix()
	n := 0
	ev := e.evaluator()
	defer e.release(ev)
	var changes []TierChange
	for _, s := range e.shards {
		s.mu.Lock()
		for len(s.heap) > 0 && int64(s.heap[0].t) <= T {
			it := s.pop()
			ent := s.ent(it.idx)
			if ent.nextChange != it.t { // stale entry
				continue
			}
			n++
			from := popTier(ent, tier.Tier(ent.tier), int64(it.t)-1)
			r := ev.eval(s, ent, T, false)
			e.store(s, it.idx, ent, r)
			if to := popTier(ent, r.tier, T); to != from && fn != nil {
				changes = append(changes, e.change(s, ent.code.Unpack(), ent, from, to, r, r.causeAt, ""))
			}
		}
		s.compactHeap()
		s.mu.Unlock()
		for _, c := range changes {
			fn(c)
		}
		changes = changes[:0]
	}
	return n
}

// MemoryStats break down the store's memory.
type MemoryStats struct {
	Entities     int
	Records      int
	EntityBytes  int64 // entity slab chunks
	IndexBytes   int64 // open-addressing slots
	RecordBytes  int64 // record slab chunks
	ArenaBytes   int64 // text arena blocks allocated
	ArenaUsed    int64 // text arena bytes in use
	HeapItemsLen int   // scheduled time-rule entries
}

// MemoryStats returns the store's memory by structure.
func (e *Engine) MemoryStats() MemoryStats {
	var m MemoryStats
	for _, s := range e.shards {
		s.mu.RLock()
		m.Entities += int(s.nent)
		m.Records += int(s.nrec) - 1
		m.EntityBytes += int64(len(s.ents)) * chunkSize * int64(unsafe.Sizeof(entity{}))
		m.IndexBytes += int64(len(s.slots)) * 4
		m.RecordBytes += int64(len(s.recs)) * chunkSize * int64(unsafe.Sizeof(storedRecord{}))
		for i, b := range s.arena {
			m.ArenaBytes += int64(len(b))
			if i == len(s.arena)-1 && len(b) == arenaBlockSize {
				m.ArenaUsed += int64(s.arenaUsed)
			} else {
				m.ArenaUsed += int64(len(b))
			}
		}
		m.HeapItemsLen += len(s.heap)
		s.mu.RUnlock()
	}
	return m
}

// FeatureWeights returns, for each feature of the model (in model order),
// the weighted count of the entity's records that the feature scores at
// instant t: each record counts by its decay weight (1 in its first year,
// 0.6 in the second, …), after max_count and latest-only. The score at t
// is base_score + Σ points_k · weight_k (before clamping). Model fitting
// uses it; ok is false for an unknown entity.
func (e *Engine) FeatureWeights(code uscc.Code, t time.Time) (weights []float64, ok bool) {
	s, idx, ok := e.rlockEntity(code)
	if !ok {
		return nil, false
	}
	defer s.mu.RUnlock()
	ev := e.evaluator()
	defer e.release(ev)
	r := ev.eval(s, s.ent(idx), t.Unix(), true)
	weights = make([]float64, len(e.model.features))
	for _, c := range r.contribs {
		weights[c.feature] += float64(c.points) / float64(e.model.features[c.feature].Points)
	}
	return weights, true
}
