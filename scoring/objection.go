package scoring

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/record"
	"github.com/creditrisk/creditd/models/uscc"
)

// Objections (异议, domain.md §4.8; Shandong Social Credit Regulation
// Art. 39–40). An objection_filed event names a primary record of its
// entity (attrs.ref); an objection_answered event names the objection and
// says upheld, rejected or referred. Both are referencing records, so they
// replay and snapshot like every other event. Their effect:
//
//   - while an objection is open, the record carries it ("under objection"
//     on both report editions); the score is unchanged (the record stays in
//     force until the source authority decides);
//   - upheld: the record is withdrawn from the answer's instant on: it
//     stops counting, the score is recomputed and the tier change's cause
//     is the answering event (a correction is a new event of the source);
//   - rejected: the record stays, with the reasons;
//   - referred: another unit must verify; the objection stays open and its
//     deadline becomes 7 working days instead of 3 (the deadline itself is
//     computed by the caller with a working-day calendar: scoring has no
//     calendar).
//
// One record has at most one open objection; a withdrawn record takes no
// new one.

// Objection statuses.
const (
	ObjectionPending  = "pending"
	ObjectionReferred = "referred"
	ObjectionUpheld   = "upheld"
	ObjectionRejected = "rejected"
)

// StatusWithdrawn is the status of a record withdrawn by an upheld
// objection.
const StatusWithdrawn = "withdrawn"

// ObjectionView is one objection as of an instant.
type ObjectionView struct {
	ID         string
	USCC       uscc.Code
	Record     string // the id of the record objected to
	Category   string // the record's category
	Authority  string // the source authority named in the filing event (who answers)
	FiledAt    time.Time
	Reason     string // the filer's reason
	Status     string // ObjectionPending, ObjectionReferred, ObjectionUpheld or ObjectionRejected
	ReferredAt time.Time
	AnsweredAt time.Time // zero while open
	AnsweredBy string    // the final answer's event id
	Answer     string    // the answer's reasons (the cause recorded)
}

// Open reports whether the objection awaits its final answer.
func (o *ObjectionView) Open() bool {
	return o.Status == ObjectionPending || o.Status == ObjectionReferred
}

// objRef locates one objection_filed record in its shard.
type objRef struct {
	ent, rec uint32
}

// withdrawal is an upheld objection's effect on its target record.
type withdrawal struct {
	rec uint32 // the withdrawn record
	at  int64  // from when
	by  uint32 // the answering record
}

// checkObjection validates an objection_filed event and returns the record
// it names.
func (e *Engine) checkObjection(s *shard, ent *entity, exists bool, ev *event.Event) (uint32, error) {
	ri, r, err := refRecord(s, ent, exists, ev)
	if err != nil {
		return 0, err
	}
	if r.target != 0 || record.CategoryOf(event.Type(r.typ)) == record.CatNone {
		return 0, &event.RejectError{Reason: event.ReasonRefType, Field: "attrs.ref",
			Detail: fmt.Sprintf("an objection names a record of the credit record; %q is a %s event", truncate(ev.Ref, 64), event.Type(r.typ))}
	}
	if ev.OccurredAt.Unix() < r.at {
		return 0, &event.RejectError{Reason: event.ReasonRefOrder, Field: "occurred_at",
			Detail: "the objection is dated before the record it names"}
	}
	for oi := ent.firstRec; oi != 0; oi = s.rec(oi).next {
		o := s.rec(oi)
		if o.typ != uint8(event.TypeObjectionFiled) || o.target != ri {
			continue
		}
		switch o.endKind {
		case endNone:
			return 0, &event.RejectError{Reason: event.ReasonConflict, Field: "attrs.ref",
				Detail: fmt.Sprintf("record %q already has an open objection (%s)", truncate(ev.Ref, 64), e.recID(s, oi))}
		case endUpheld:
			return 0, &event.RejectError{Reason: event.ReasonAlreadyEnded, Field: "attrs.ref",
				Detail: fmt.Sprintf("record %q was withdrawn on objection %s", truncate(ev.Ref, 64), e.recID(s, oi))}
		}
	}
	return ri, nil
}

// checkAnswer validates an objection_answered event (its ref was checked
// by checkRef): a referral comes at most once.
func (e *Engine) checkAnswer(s *shard, ent *entity, ev *event.Event, target uint32) error {
	if ev.Sub != event.OutcomeReferred {
		return nil
	}
	for oi := ent.firstRec; oi != 0; oi = s.rec(oi).next {
		if o := s.rec(oi); o.typ == uint8(event.TypeObjectionAnswered) && o.target == target && o.sub == event.OutcomeReferred {
			return &event.RejectError{Reason: event.ReasonConflict, Field: "attrs.outcome",
				Detail: fmt.Sprintf("objection %q was already referred", truncate(ev.Ref, 64))}
		}
	}
	return nil
}

// commitObjection writes an applied objection event into its target.
func (e *Engine) commitObjection(s *shard, entIdx, ri uint32, r *storedRecord, ev *event.Event) {
	switch ev.Type {
	case event.TypeObjectionFiled:
		s.objs = append(s.objs, objRef{ent: entIdx, rec: ri})
	case event.TypeObjectionAnswered:
		t := s.rec(r.target)
		switch ev.Sub {
		case event.OutcomeUpheld:
			t.endAt, t.endKind, t.endBy = r.at, endUpheld, ri
		case event.OutcomeRejected:
			t.endAt, t.endKind, t.endBy = r.at, endRejected, ri
		}
	}
}

// rebuildObjections lists a shard's objection_filed records (after a
// snapshot is read).
func rebuildObjections(s *shard) {
	s.objs = s.objs[:0]
	for i := uint32(0); i < s.nent; i++ {
		for ri := s.ent(i).firstRec; ri != 0; ri = s.rec(ri).next {
			if s.rec(ri).typ == uint8(event.TypeObjectionFiled) {
				s.objs = append(s.objs, objRef{ent: i, rec: ri})
			}
		}
	}
}

// collectWithdrawals notes the upheld objections among an entity's records
// (evaluation's first pass).
func (ev *evaluator) collectWithdrawals(r *storedRecord) {
	if r.typ == uint8(event.TypeObjectionFiled) && r.endKind == endUpheld {
		ev.withdrawals = append(ev.withdrawals, withdrawal{rec: r.target, at: r.endAt, by: r.endBy})
	}
}

// withdrawnAt returns when record ri is withdrawn, and by which record.
func (ev *evaluator) withdrawnAt(ri uint32) (int64, uint32, bool) {
	for _, w := range ev.withdrawals {
		if w.rec == ri {
			return w.at, w.by, true
		}
	}
	return noTime, 0, false
}

// objectionView describes the objection_filed record oi as of T.
func (e *Engine) objectionView(s *shard, ent *entity, oi uint32, T int64) ObjectionView {
	o := s.rec(oi)
	b := s.bytes(o.strOff, o.strLen)
	t := s.rec(o.target)
	v := ObjectionView{ID: string(blobField(b, 0)), USCC: ent.code.Unpack(), Authority: string(blobField(b, 1)),
		Record: e.recID(s, o.target), Category: record.CategoryOf(event.Type(t.typ)).String(),
		FiledAt: time.Unix(o.at, 0).UTC(), Reason: attrText(blobField(b, 2), "reason"), Status: ObjectionPending}
	for ai := ent.firstRec; ai != 0; ai = s.rec(ai).next {
		a := s.rec(ai)
		if a.typ != uint8(event.TypeObjectionAnswered) || a.target != oi || a.at > T {
			continue
		}
		ab := s.bytes(a.strOff, a.strLen)
		switch a.sub {
		case event.OutcomeReferred:
			v.ReferredAt = time.Unix(a.at, 0).UTC()
			if v.Status == ObjectionPending {
				v.Status = ObjectionReferred
			}
		case event.OutcomeUpheld, event.OutcomeRejected:
			v.Status = ObjectionRejected
			if a.sub == event.OutcomeUpheld {
				v.Status = ObjectionUpheld
			}
			v.AnsweredAt = time.Unix(a.at, 0).UTC()
			v.AnsweredBy = string(blobField(ab, 0))
			v.Answer = attrText(blobField(ab, 2), "reasons")
		}
	}
	return v
}

// recordObjections maps each record of an entity to its latest objection
// filed by T.
func (e *Engine) recordObjections(s *shard, ent *entity, T int64) map[uint32]ObjectionView {
	var out map[uint32]ObjectionView
	for oi := ent.firstRec; oi != 0; oi = s.rec(oi).next {
		o := s.rec(oi)
		if o.typ != uint8(event.TypeObjectionFiled) || o.at > T {
			continue
		}
		if prev, ok := out[o.target]; ok && prev.FiledAt.Unix() > o.at {
			continue
		}
		if out == nil {
			out = map[uint32]ObjectionView{}
		}
		out[o.target] = e.objectionView(s, ent, oi, T)
	}
	return out
}

// Objection returns the objection with the given id of entity code as of
// asOf.
func (e *Engine) Objection(code uscc.Code, id string, asOf time.Time) (ObjectionView, bool) {
	s, idx, ok := e.rlockEntity(code)
	if !ok {
		return ObjectionView{}, false
	}
	defer s.mu.RUnlock()
	ent := s.ent(idx)
	oi, o := findRecord(s, ent, id)
	if o == nil || o.typ != uint8(event.TypeObjectionFiled) || o.at > asOf.Unix() {
		return ObjectionView{}, false
	}
	return e.objectionView(s, ent, oi, asOf.Unix()), true
}

// Objections calls fn for every objection filed by asOf, shard by shard
// (in no particular order); openOnly skips the answered ones.
func (e *Engine) Objections(ctx context.Context, asOf time.Time, openOnly bool, fn func(*ObjectionView) error) error {
	T := asOf.Unix()
	for _, s := range e.shards {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := e.shardObjections(s, T, openOnly, fn); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) shardObjections(s *shard, T int64, openOnly bool, fn func(*ObjectionView) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, ref := range s.objs {
		o := s.rec(ref.rec)
		if o.at > T || (openOnly && o.endKind != endNone && o.endAt <= T) {
			continue
		}
		v := e.objectionView(s, s.ent(ref.ent), ref.rec, T)
		if err := fn(&v); err != nil {
			return err
		}
	}
	return nil
}

// attrText returns the string member key of an attrs object ("" if none).
func attrText(attrs []byte, key string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(attrs, &m) != nil {
		return ""
	}
	var s string
	_ = json.Unmarshal(m[key], &s)
	return s
}
