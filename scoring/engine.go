// Package scoring computes credit risk: the risk model artifact, the
// in-memory entity store, the engine that applies credit events, the time
// rules, and snapshots.
package scoring

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/record"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// Options configure an Engine. The zero value is usable: EnsureDefaults
// fills every unset field.
type Options struct {
	// Model is the risk model. Default: the built-in national-4 model.
	Model *Model
	// Now is the engine's clock, used for "current" answers and the
	// 24-hour future rule. Default: time.Now.
	Now func() time.Time
	// Shards is the number of lock shards, a power of two. Default: 64.
	Shards int
	// Rules is the province's configuration of the record rules (lower-fine
	// threshold, Shandong's simple-procedure exclusion and 5-year cap).
	// Default: record.DefaultConfig of the model's tier scheme.
	Rules *record.Config
}

// EnsureDefaults fills unset fields with their defaults.
func (o *Options) EnsureDefaults() error {
	if o.Model == nil {
		m, err := DefaultModel(tier.National4.ID)
		if err != nil {
			return err
		}
		o.Model = m
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rules == nil {
		c := record.DefaultConfig(o.Model.TierScheme)
		o.Rules = &c
	}
	if o.Rules.LowFineYuan < 0 || o.Rules.CapYears < 0 || o.Rules.CapYears > 100 {
		return fmt.Errorf("scoring: rules: low-fine threshold %d and cap %d years must be non-negative (cap ≤ 100)", o.Rules.LowFineYuan, o.Rules.CapYears)
	}
	if o.Shards == 0 {
		o.Shards = 64
	}
	if o.Shards < 1 || o.Shards&(o.Shards-1) != 0 || o.Shards > 4096 {
		return fmt.Errorf("scoring: shards must be a power of two in 1..4096, got %d", o.Shards)
	}
	return nil
}

// Engine holds every entity's state and applies events. It is safe for
// concurrent use: applies and queries lock only the shard of the entity.
type Engine struct {
	opts      Options
	rules     record.Config
	model     *compiled
	shards    []*shard
	shardBits uint
	evals     sync.Pool // *evaluator
	// changes counts the changes of the state by events and snapshot
	// loads (Changes).
	changes atomic.Uint64
}

// Changes counts the changes of the engine's state: every applied event
// and every snapshot load adds one, under the lock of the shards it
// changes. Answers about an instant (TierStats, Entity, Scan as of T) are
// functions of the state and T alone (time rules only refresh caches), so
// an answer computed after reading Changes = c stays right while Changes
// is still c: what the API's caches key on.
func (e *Engine) Changes() uint64 { return e.changes.Load() }

// New returns an empty engine.
func New(opts Options) (*Engine, error) {
	if err := opts.EnsureDefaults(); err != nil {
		return nil, err
	}
	c, err := compile(opts.Model)
	if err != nil {
		return nil, err
	}
	e := &Engine{opts: opts, model: c, rules: *opts.Rules}
	for 1<<e.shardBits < opts.Shards {
		e.shardBits++
	}
	e.shards = make([]*shard, opts.Shards)
	for i := range e.shards {
		e.shards[i] = newShard()
	}
	e.evals.New = func() any { return &evaluator{m: c, cfg: e.rules} }
	return e, nil
}

// Model returns the engine's risk model.
func (e *Engine) Model() *Model { return e.model.m }

// ModelName is the model identity shown in reports (id@version+hash).
func (e *Engine) ModelName() string { return e.model.name }

// Rules returns the engine's record rules configuration.
func (e *Engine) Rules() record.Config { return e.rules }

// Scheme returns the tier scheme of the model.
func (e *Engine) Scheme() *tier.Scheme { return e.model.scheme }

// Now returns the engine clock's current time.
func (e *Engine) Now() time.Time { return e.opts.Now() }

// shardFor returns the shard and hash of a packed code. The top bits pick
// the shard, the low bits the slot, so both stay independent.
func (e *Engine) shardFor(p uscc.Packed) (*shard, uint64) {
	h := p.Hash()
	return e.shards[h>>(64-e.shardBits)&uint64(len(e.shards)-1)], h
}

func (e *Engine) evaluator() *evaluator { return e.evals.Get().(*evaluator) }
func (e *Engine) release(ev *evaluator) { e.evals.Put(ev) }

// Outcome is what Apply did with an event.
type Outcome uint8

// Apply outcomes.
const (
	Rejected Outcome = iota
	Applied
	Duplicate
)

// String names the outcome as metrics label it.
func (o Outcome) String() string {
	return [...]string{"rejected", "applied", "duplicate"}[o]
}

// TierChange is a change of an entity's tier as a member of the
// supervised population: From is tier.None when the entity enters it
// (its registration), To is tier.None when it leaves (deregistration).
// Cause is the id of the event that caused it, or "time:<rule>" for a time
// rule (decay, publicity_ended, window_ended, abnormal_unresolved_3y, clean_year). At
// is the instant of the cause (the event's occurred_at, a repair's
// decision date, a rule's due instant), not of processing, so a replay
// yields the same changes.
type TierChange struct {
	USCC   uscc.Code
	Region string
	From   tier.Tier // tier.None for an entity seen for the first time
	To     tier.Tier
	Score  int32
	At     time.Time
	Cause  string
}

// Result reports what Apply did, and what the event's history rows and
// the outputs need, taken from the apply itself: callers never query the
// engine again for them. Facts are set for an applied event only. Changes
// holds up to two tier changes: a pending time-rule change found first,
// then the event's own.
type Result struct {
	Outcome Outcome
	Facts
	Changes  [2]TierChange
	NChanges int
}

// Facts are what the history of an applied event needs about its entity.
type Facts struct {
	// Region is the entity's division code with the event applied: its
	// registered region, else characters 3–8 of its USCC; "" if neither is
	// a valid code. It is the engine's copy, not the event's bytes.
	Region string
	// InspectedTier is, for an inspection, the tier the entity had when
	// inspected: its tier at occurred_at − 1 s with the event applied (what
	// TierAt answers then; per-tier hit rates, domain.md §8). NoTier for
	// other events.
	InspectedTier tier.Tier
}

// TierChanges returns the changes as a slice aliasing r.
func (r *Result) TierChanges() []TierChange { return r.Changes[:r.NChanges] }

// Apply applies one decoded event (see ApplyAt).
func (e *Engine) Apply(ev *event.Event, beforeCommit func() error) (Result, error) {
	return e.ApplyAt(ev, e.opts.Now(), true, beforeCommit)
}

// ApplyAt applies one decoded event with now as the current time.
//
// It validates the event against the entity's state (duplicate ids,
// references, repair rules and, when checkFuture is set, the 24-hour
// future rule) and returns a *event.RejectError without changing anything
// when the event is invalid. For a valid, new event it calls beforeCommit
// (if not nil) before changing memory — the place to append the event to a
// durable log — and applies the event only if beforeCommit succeeds. A
// duplicate id has no effect and returns Duplicate. Replays of a log set
// checkFuture to false: the event was accepted once.
func (e *Engine) ApplyAt(ev *event.Event, now time.Time, checkFuture bool, beforeCommit func() error) (Result, error) {
	var res Result
	if ev.Type == event.TypeInvalid || ev.ID == "" {
		return res, &event.RejectError{Reason: event.ReasonInvalidField, Detail: "event was not decoded"}
	}
	if checkFuture {
		if err := event.CheckTime(ev, now); err != nil {
			return res, err
		}
	}
	p := ev.USCC.Pack()
	s, h := e.shardFor(p)
	idHash := hashID(ev.ID)
	nowU := now.Unix()

	s.mu.Lock()
	defer s.mu.Unlock()

	idx, exists := s.find(p, h)
	var ent *entity
	if exists {
		ent = s.ent(idx)
		if e.isDuplicate(s, ent, ev.ID, idHash) {
			res.Outcome = Duplicate
			return res, nil
		}
	}

	// Validate against the state; nothing is changed before beforeCommit.
	var target uint32
	switch ev.Type {
	case event.TypeRegistered:
		if exists && ent.flags&entRegistered != 0 {
			return res, &event.RejectError{Reason: event.ReasonConflict, Field: "type",
				Detail: fmt.Sprintf("%s is already registered by event %s", ev.USCC, e.regID(s, ent))}
		}
	case event.TypeDeregistered:
		if exists && ent.flags&entDeregistered != 0 {
			return res, &event.RejectError{Reason: event.ReasonConflict, Field: "type",
				Detail: fmt.Sprintf("%s is already deregistered", ev.USCC)}
		}
	case event.TypeRepair:
		t, err := e.checkRepair(s, ent, exists, ev)
		if err != nil {
			return res, err
		}
		target = t
	case event.TypeObjectionFiled:
		t, err := e.checkObjection(s, ent, exists, ev)
		if err != nil {
			return res, err
		}
		target = t
	default:
		if want := ev.Type.RefTarget(); want != event.TypeInvalid {
			t, err := e.checkRef(s, ent, exists, ev, want)
			if err == nil && ev.Type == event.TypeObjectionAnswered {
				err = e.checkAnswer(s, ent, ev, t)
			}
			if err != nil {
				return res, err
			}
			target = t
		}
	}
	if !exists && s.nent >= maxShardEnt {
		return res, &event.RejectError{Reason: event.ReasonStateFull, Detail: "the store's shard is full"}
	}
	if exists && ent.nrec == 0xffff && ev.Type != event.TypeRegistered {
		return res, &event.RejectError{Reason: event.ReasonStateFull, Detail: "the entity has 65535 records"}
	}
	// Arena space: check before committing.
	var fields [4]string
	blob := fields[:3]
	if ev.Type == event.TypeRegistered {
		fields = [4]string{ev.ID, ev.Name, ev.Industry, ev.Authority}
		blob = fields[:4]
	} else {
		// The attrs bytes are only read by putBlob below: no copy needed.
		fields = [4]string{ev.ID, ev.Authority, unsafe.String(unsafe.SliceData(ev.RawAttrs), len(ev.RawAttrs))}
	}
	need := blobLen(blob...)
	if need > maxArenaEntry || (ev.Type == event.TypeRegistered && need > 0xffff) {
		return res, &event.RejectError{Reason: event.ReasonStateFull, Detail: "event text too large to store"}
	}
	// Arena bytes reserved here are wasted, harmlessly, if beforeCommit fails.
	off, buf, ok := s.alloc(need)
	if !ok {
		return res, &event.RejectError{Reason: event.ReasonStateFull, Detail: "the shard's text arena is full (4 GiB)"}
	}
	if beforeCommit != nil {
		if err := beforeCommit(); err != nil {
			return res, err
		}
	}
	e.changes.Add(1) // under the shard's lock, before readers can see the change

	// Commit. Writers hold the shard's write lock, so the shard's own
	// evaluator serves them without a pool round trip.
	if s.wev == nil {
		s.wev = &evaluator{m: e.model, cfg: e.rules}
	}
	ev2 := s.wev
	from := tier.None
	// An inspection's own record starts at occurred_at, so the tier just
	// before it is the same before and after the apply: the entity's cache,
	// when it covers that instant, answers without an evaluation.
	inspT, inspected, inspCached := ev.OccurredAt.Unix()-1, tier.None, false
	if ev.Type == event.TypeInspection && exists && cacheValid(ent, inspT) {
		inspected, inspCached = tier.Tier(ent.tier), true
	}
	if !exists {
		idx = s.insert(p, h)
		ent = s.ent(idx)
		if ev.Exception {
			ent.flags |= entException
		}
	} else if ent.flags&entEvaluated != 0 {
		from = popTier(ent, tier.Tier(ent.tier), nowU)
		if !cacheValid(ent, nowU) {
			// A time rule changed the entity since it was last evaluated.
			r := ev2.eval(s, ent, nowU, false)
			if to := popTier(ent, r.tier, nowU); to != from {
				res.Changes[res.NChanges] = e.change(s, ev.USCC, ent, from, to, r, r.causeAt, "")
				res.NChanges++
				from = to
			}
		}
	}
	putBlob(buf, blob...)

	switch ev.Type {
	case event.TypeRegistered:
		ent.flags |= entRegistered
		ent.regOff, ent.regLen = off, uint16(need)
		ent.regIDHash = uint32(idHash)
		ent.regOn = int32(ev.RegisteredOn)
		ent.region = parseRegion(ev.Region)
	default:
		ri := s.newRecord()
		r := s.rec(ri)
		r.idHash = idHash
		r.at = ev.OccurredAt.Unix()
		r.strOff, r.strLen = off, uint32(need)
		r.typ = uint8(ev.Type)
		r.sub = ev.Sub
		r.year = uint16(ev.Year)
		if ev.OnTime {
			r.flags |= recOnTime
		}
		if ev.Substantiated {
			r.flags |= recSubstantiated
		}
		if ev.Type == event.TypePenalty {
			setPenalty(r, ev)
		}
		if ev.Type == event.TypeRepair {
			r.sub = uint8(record.ChannelOf(ev.Channel))
		}
		r.target = target
		r.next = ent.firstRec
		ent.firstRec = ri
		ent.nrec++
		switch ev.Type {
		case event.TypeDeregistered:
			ent.flags |= entDeregistered
			ent.deregAt = clampU32(r.at)
		case event.TypeRepair:
			t := s.rec(target)
			if record.ChannelOf(ev.Channel) == record.ChannelSAMR {
				t.endAt, t.endKind, t.endBy = repairInstant(ev), endStopped, ri
			} else {
				t.repairAt = repairInstant(ev)
				t.repairBy = ri
			}
		case event.TypeAbnormalRemoved, event.TypeDishonestRemoved, event.TypeCourtDebtorRemoved:
			t := s.rec(target)
			t.endAt, t.endKind, t.endBy = r.at, endRemoved, ri
		case event.TypeCommitmentBreached, event.TypeCommitmentFulfilled:
			t := s.rec(target)
			t.endAt, t.endBy = r.at, ri
			t.endKind = endFulfilled
			if ev.Type == event.TypeCommitmentBreached {
				t.endKind = endBreached
			}
		case event.TypeObjectionFiled, event.TypeObjectionAnswered:
			e.commitObjection(s, idx, ri, r, ev)
		}
	}
	if ent.region == 0 {
		ent.region = parseRegion(ev.USCC.Division())
	}

	r := ev2.eval(s, ent, nowU, false)
	e.store(s, idx, ent, r)
	if to := popTier(ent, r.tier, nowU); to != from {
		// The change is dated by its cause, not by when it was processed,
		// so that a replay produces the same history.
		at := ev.OccurredAt.Unix()
		if ev.Type == event.TypeRepair {
			at = repairInstant(ev)
		}
		if at > nowU {
			at = nowU
		}
		res.Changes[res.NChanges] = e.change(s, ev.USCC, ent, from, to, r, at, ev.ID)
		res.NChanges++
	}
	if ev.Type == event.TypeInspection && !inspCached {
		inspected = e.tierAt(s, ent, ev2, inspT)
	}
	res.Facts = Facts{Region: s.regionName(ent.region), InspectedTier: inspected}
	res.Outcome = Applied
	return res, nil
}

// repairInstant is when a repair takes effect: the start of its decision
// day (CST), or its occurred_at if that is later.
func repairInstant(ev *event.Event) int64 {
	t := ev.DecidedOn.Unix()
	if o := ev.OccurredAt.Unix(); o > t {
		return o
	}
	return t
}

func cacheValid(ent *entity, t int64) bool {
	return ent.flags&entEvaluated != 0 && int64(ent.validFrom) <= t && u32ToUnix(ent.nextChange) > t
}

// store caches an evaluation in the entity and schedules its next change.
func (e *Engine) store(s *shard, idx uint32, ent *entity, r evalResult) {
	ent.flags |= entEvaluated
	ent.score, ent.tier = r.score, uint8(r.tier)
	ent.validFrom = clampU32(r.validFrom)
	next := clampU32(r.next)
	if next != ent.nextChange && next != never {
		s.push(heapItem{t: next, idx: idx})
	}
	ent.nextChange = next
}

// popTier is the tier of an entity as a member of the supervised
// population at T: NoTier before its registration is applied and from its
// deregistration on. Tier changes are reported on this tier, so that
// subscribers see entities enter (From NoTier) and leave (To NoTier).
func popTier(ent *entity, t tier.Tier, T int64) tier.Tier {
	if ent.flags&entRegistered == 0 || (ent.flags&entDeregistered != 0 && int64(ent.deregAt) <= T) {
		return tier.None
	}
	return t
}

// change builds a TierChange dated at; an empty cause is taken from the
// evaluation (the latest boundary: a time rule or an event's effect).
func (e *Engine) change(s *shard, code uscc.Code, ent *entity, from, to tier.Tier, r evalResult, at int64, cause string) TierChange {
	if cause == "" {
		cause = e.causeString(s, r)
	}
	return TierChange{USCC: code, Region: s.regionName(ent.region), From: from, To: to,
		Score: r.score, At: time.Unix(at, 0).UTC(), Cause: cause}
}

// rlockEntity finds the entity with code and returns its shard, read
// locked, and its index; the caller unlocks. When ok is false nothing is
// locked.
func (e *Engine) rlockEntity(code uscc.Code) (s *shard, idx uint32, ok bool) {
	p := code.Pack()
	s, h := e.shardFor(p)
	s.mu.RLock()
	if idx, ok = s.find(p, h); !ok {
		s.mu.RUnlock()
	}
	return s, idx, ok
}

// TierAt returns an entity's tier and score at instant t.
func (e *Engine) TierAt(code uscc.Code, t time.Time) (tier.Tier, int32, bool) {
	s, idx, ok := e.rlockEntity(code)
	if !ok {
		return tier.None, 0, false
	}
	defer s.mu.RUnlock()
	ent := s.ent(idx)
	T := t.Unix()
	if cacheValid(ent, T) {
		return tier.Tier(ent.tier), ent.score, true
	}
	ev := e.evaluator()
	defer e.release(ev)
	r := ev.eval(s, ent, T, false)
	return r.tier, r.score, true
}

// tierAt is TierAt's tier for an entity whose shard the caller has locked,
// evaluating with ev when the cache does not cover T.
func (e *Engine) tierAt(s *shard, ent *entity, ev *evaluator, T int64) tier.Tier {
	if cacheValid(ent, T) {
		return tier.Tier(ent.tier)
	}
	return ev.eval(s, ent, T, false).tier
}

func (e *Engine) causeString(s *shard, r evalResult) string {
	switch r.causeKind {
	case causeEvent, causeRemoved, causeRepaired:
		if r.causeRec != 0 {
			return string(blobField(s.bytes(s.rec(r.causeRec).strOff, s.rec(r.causeRec).strLen), 0))
		}
	case causeDecay, causePublicityEnd, causeWindowEnd, causeAbnormal3y, causeCleanYear:
		return causeNames[r.causeKind]
	}
	return "time"
}

// isDuplicate reports whether id was already applied to the entity.
func (e *Engine) isDuplicate(s *shard, ent *entity, id string, h uint64) bool {
	if ent.regLen != 0 && ent.regIDHash == uint32(h) && string(blobField(s.bytes(ent.regOff, uint32(ent.regLen)), 0)) == id {
		return true
	}
	for ri := ent.firstRec; ri != 0; {
		r := s.rec(ri)
		if r.idHash == h && string(blobField(s.bytes(r.strOff, r.strLen), 0)) == id {
			return true
		}
		ri = r.next
	}
	return false
}

func (e *Engine) regID(s *shard, ent *entity) string {
	return string(blobField(s.bytes(ent.regOff, uint32(ent.regLen)), 0))
}

// findRecord returns the record of the entity with the given id.
func findRecord(s *shard, ent *entity, id string) (uint32, *storedRecord) {
	h := hashID(id)
	for ri := ent.firstRec; ri != 0; {
		r := s.rec(ri)
		if r.idHash == h && string(blobField(s.bytes(r.strOff, r.strLen), 0)) == id {
			return ri, r
		}
		ri = r.next
	}
	return 0, nil
}

// refRecord returns the record ev.Ref names, or an unknown_ref rejection.
func refRecord(s *shard, ent *entity, exists bool, ev *event.Event) (uint32, *storedRecord, error) {
	if exists {
		if ri, r := findRecord(s, ent, ev.Ref); r != nil {
			return ri, r, nil
		}
	}
	return 0, nil, &event.RejectError{Reason: event.ReasonUnknownRef, Field: "attrs.ref",
		Detail: fmt.Sprintf("no record %q of %s has been applied", truncate(ev.Ref, 64), ev.USCC)}
}

// checkRef validates the ref of a removal or commitment outcome.
func (e *Engine) checkRef(s *shard, ent *entity, exists bool, ev *event.Event, want event.Type) (uint32, error) {
	ri, r, err := refRecord(s, ent, exists, ev)
	if err != nil {
		return 0, err
	}
	if event.Type(r.typ) != want {
		return 0, &event.RejectError{Reason: event.ReasonRefType, Field: "attrs.ref",
			Detail: fmt.Sprintf("%s must refer to a %s record, %q is %s", ev.Type, want, truncate(ev.Ref, 64), event.Type(r.typ))}
	}
	if ev.OccurredAt.Unix() < r.at {
		return 0, &event.RejectError{Reason: event.ReasonRefOrder, Field: "occurred_at",
			Detail: fmt.Sprintf("%s occurred before the record it refers to (%s)", ev.Type, time.Unix(r.at, 0).UTC().Format(time.RFC3339))}
	}
	if r.endKind != endNone || r.repairAt != noTime {
		return 0, &event.RejectError{Reason: event.ReasonAlreadyEnded, Field: "attrs.ref",
			Detail: fmt.Sprintf("record %q was already %s", truncate(ev.Ref, 64), endedWord(r))}
	}
	return ri, nil
}

func endedWord(r *storedRecord) string {
	switch {
	case r.repairAt != noTime:
		return "repaired"
	case r.endKind == endBreached:
		return "breached"
	case r.endKind == endFulfilled:
		return "fulfilled"
	case r.endKind == endUpheld || r.endKind == endRejected:
		return "answered"
	case r.endKind == endStopped:
		return "repaired on the SAMR publicity system"
	}
	return "removed"
}

func describeRecord(t event.Type, sub uint8) string {
	if n := event.SubName(t, sub); n != "" && t == event.TypePenalty {
		return n + " penalty"
	}
	return t.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// parseRegion turns a 6-digit division code into a number (0 if invalid).
func parseRegion(s string) uint32 {
	if len(s) != 6 {
		return 0
	}
	var v uint32
	for i := 0; i < 6; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0
		}
		v = v*10 + uint32(c-'0')
	}
	return v + 1_000_000 // keep leading zeros distinguishable from "unset"
}

func regionString(v uint32) string {
	if v == 0 {
		return ""
	}
	var b [6]byte
	regionBytes(v, &b)
	return string(b[:])
}

// regionBytes writes the digits of an encoded region into b (zeros if unset).
func regionBytes(v uint32, b *[6]byte) {
	if v == 0 {
		*b = [6]byte{}
		return
	}
	v -= 1_000_000
	for i := 5; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}

// Len returns the number of entities.
func (e *Engine) Len() int {
	n := 0
	for _, s := range e.shards {
		s.mu.RLock()
		n += int(s.nent)
		s.mu.RUnlock()
	}
	return n
}

// Shards is the number of shards (the partitions Scan reads in parallel).
func (e *Engine) Shards() int { return len(e.shards) }

// parallelShards runs fn for every shard on up to GOMAXPROCS goroutines.
func (e *Engine) parallelShards(fn func(i int, s *shard)) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	next := make(chan int, len(e.shards))
	for i := range e.shards {
		next <- i
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i, e.shards[i])
			}
		}()
	}
	wg.Wait()
}
