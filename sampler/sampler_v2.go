package sampler

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/uscc"
)

// RunV2 runs a draw/v2 draw over src and persists it: the regulatory
// edition as the record, the blinded population file next to it. Rules
// beyond Run's:
//
//   - the seed must be committed for the plan (Commit) no later than
//     as_of; the commitment's blinding key B is the draw's (ErrCommitment);
//   - one commitment, one draw: a plan that already has a stored draw
//     refuses any other request (ErrPlanDrawn); the identical request
//     returns the stored draw (Stats.Replayed);
//   - the Store's conflict register applies.
func (s *Sampler) RunV2(ctx context.Context, req *draw.Request, src Source) (*draw.V2, *Stats, error) {
	p, err := s.PrepareV2(req, src)
	if err != nil {
		return nil, nil, err
	}
	return s.RunPreparedV2(ctx, p, src)
}

// PrepareV2 checks req once for a draw/v2 draw over src under the
// Sampler's Options (a service calls it before waiting for its turn, so a
// bad request is refused at once).
func (s *Sampler) PrepareV2(req *draw.Request, src Source) (*Prepared, error) {
	return PrepareV2(req, SchemeOf(src, &s.opts), &s.opts)
}

// RunPreparedV2 is RunV2 on a request PrepareV2 checked; it checks
// nothing of the request again.
func (s *Sampler) RunPreparedV2(ctx context.Context, p *Prepared, src Source) (*draw.V2, *Stats, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, nil, err
	}
	defer s.release()
	r := p.req
	digest := draw.SeedDigest(r.SeedBytes())
	if r.SeedCommitment != "" && r.SeedCommitment != digest {
		return nil, nil, fmt.Errorf("%w: seed_commitment %s is not the seed's SHA-256 %s", ErrCommitment, r.SeedCommitment, digest)
	}
	r.SeedCommitment = digest
	reg, registered, _ := s.store.commitment(digest, r.PlanID)
	switch {
	case !registered:
		return nil, nil, fmt.Errorf("%w: a draw/v2 draw needs its seed committed for plan %q before as_of (POST the seed's SHA-256 %s first)", ErrCommitment, r.PlanID, digest)
	case reg.PlanID != r.PlanID:
		return nil, nil, fmt.Errorf("%w: the seed was committed for plan %q, not %q", ErrCommitment, reg.PlanID, r.PlanID)
	case reg.CommittedAt.After(r.AsOf):
		return nil, nil, fmt.Errorf("%w: the seed was committed at %s, after as_of %s; a commitment must precede the population it draws from",
			ErrCommitment, reg.CommittedAt.Format(time.RFC3339), r.AsOf.Format(time.RFC3339))
	}
	if id, ok := s.store.lookup(r); ok {
		rec, _, err := s.store.RecordV2(id)
		if err != nil {
			return nil, nil, err
		}
		return rec, &Stats{Replayed: true}, nil
	}
	if prev := s.store.Records(r.PlanID); len(prev) > 0 {
		return nil, nil, fmt.Errorf("%w: plan %q was drawn as %s; one commitment, one draw: another seed or request for the same plan is refused (a redraw needs a new plan, and stays visible in the plan's listing)",
			ErrPlanDrawn, r.PlanID, prev[0].DrawID)
	}
	if id, used := s.store.seedUse(digest); used {
		return nil, nil, fmt.Errorf("%w: draw %s already revealed this seed; a new draw needs a new seed", ErrSeedReused, id)
	}
	register, err := s.store.Register()
	if err != nil {
		return nil, nil, err
	}
	return drawToStore(s.store, func(pop io.Writer) (*draw.V2, *Stats, error) {
		return executeV2(ctx, p, src, s.store.ledger, pop, s.opts, &V2Inputs{BlindKey: reg.key, CommittedAt: reg.CommittedAt, Register: register}, keepSigmas)
	}, func(rec *draw.V2, tmp string) error { return s.store.putBytes(shadowV1(rec), draw.EncodeV2(rec), tmp) })
}

// Amend records a recusal after a v2 draw (spec "Recusal amendments"): the
// inspector is replaced on the entity's team by the next inspector of the
// entity's own permutation, and the amendment is appended to the draw's
// amendments document. at is the declaration time.
func (s *Sampler) Amend(ctx context.Context, drawID, uscc, inspector, reason string, at time.Time) (*draw.Amendment, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	rec, _, err := s.store.RecordV2(drawID)
	if err != nil {
		return nil, err
	}
	doc, err := s.store.Amendments(drawID)
	if err != nil {
		return nil, err
	}
	st, err := newAmendState(rec)
	if err != nil {
		return nil, err
	}
	for i := range doc.Amendments {
		if _, err := st.apply(doc.Amendments[i].USCC, doc.Amendments[i].Recused); err != nil {
			return nil, err
		}
	}
	repl, err := st.apply(uscc, inspector)
	if err != nil {
		return nil, err
	}
	a := draw.Amendment{Seq: len(doc.Amendments) + 1, USCC: uscc, Recused: inspector, Replacement: repl,
		Reason: reason, At: at.UTC().Format(time.RFC3339), Prev: ""}
	if n := len(doc.Amendments); n > 0 {
		a.Prev = doc.Amendments[n-1].ID
	}
	a.ID = draw.AmendmentID(drawID, &a)
	doc.Amendments = append(doc.Amendments, a)
	if err := s.store.putAmendments(doc); err != nil {
		return nil, err
	}
	return &a, nil
}

// amendState replays a v2 record's assignment state for amendments.
type amendState struct {
	a         *permAssigner
	rec       *draw.V2
	ids       map[string]int32
	bySel     map[string]int
	team      map[int][]int32 // current inspectors
	taken     map[int][]int32 // taken by the walk, in order
	recused   map[int][]int32
	exhausted map[int]bool
	cap       int64
}

func newAmendState(rec *draw.V2) (*amendState, error) {
	st := &amendState{a: newPermAssigner(rec.Request, rec.RegisterConflicts), rec: rec, ids: map[string]int32{},
		bySel: map[string]int{}, team: map[int][]int32{}, taken: map[int][]int32{}, recused: map[int][]int32{},
		exhausted: map[int]bool{}, cap: loadCap(rec.Request, len(rec.Selected))}
	for i, in := range rec.Request.Inspectors.Pool {
		st.ids[in.ID] = int32(i)
	}
	for i := range rec.Selected {
		s := &rec.Selected[i]
		st.bySel[s.USCC] = i
		for _, id := range s.Inspectors {
			j, ok := st.ids[id]
			if !ok {
				return nil, fmt.Errorf("selected %s: inspector %q is not in the pool", s.USCC, id)
			}
			st.a.load[j]++
			st.team[i] = append(st.team[i], j)
		}
		st.taken[i] = slices.Clone(st.team[i])
		st.exhausted[i] = s.Unassigned > 0
	}
	return st, nil
}

// apply applies one recusal and returns the replacement's id ("" when none
// is left).
func (st *amendState) apply(code, inspector string) (string, error) {
	i, ok := st.bySel[code]
	if !ok {
		return "", &draw.Error{Path: "uscc", Msg: fmt.Sprintf("%s is not selected in this draw", code)}
	}
	x, ok := st.ids[inspector]
	if !ok || !slices.Contains(st.team[i], x) {
		return "", &draw.Error{Path: "inspector", Msg: fmt.Sprintf("%q is not on the team of %s", inspector, code)}
	}
	st.team[i] = slices.DeleteFunc(st.team[i], func(y int32) bool { return y == x })
	st.recused[i] = append(st.recused[i], x)
	st.a.load[x]--
	sel := &st.rec.Selected[i]
	var region [6]byte
	copy(region[:], sel.Region)
	skip := append(slices.Clone(st.recused[i]), st.team[i]...)
	r := st.a.replacement(uscc.Code([]byte(code)), region, st.taken[i], st.exhausted[i], skip, st.cap)
	if r < 0 {
		st.exhausted[i] = true
		return "", nil
	}
	st.a.load[r]++
	st.team[i] = append(st.team[i], r)
	st.taken[i] = append(st.taken[i], r)
	return st.rec.Request.Inspectors.Pool[r].ID, nil
}
