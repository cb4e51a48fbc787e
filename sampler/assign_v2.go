package sampler

// Inspector assignment of draw/v2 (spec "draw/v2", "Inspector assignment"):
// each selected entity walks a deterministic permutation of its candidate
// inspectors (partial Fisher–Yates) driven by a per-entity stream
// S_j = SHA-256(KA || USCC || u32(j)), four 64-bit values per block. A walk
// of s steps costs ceil(s/4) hashes, usually one (k = 2 and no skips), and
// S_0 is also the entity's place in the service order. The walk is shared
// by the draw, the verifier and recusal amendments, so the three cannot
// disagree on the rule; the Python reference verifier
// (testdata/reference_verify_v2.py) implements it independently from the
// spec text.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/uscc"
)

// assignKeyV2 returns KA = SHA-256("draw/v2/assign" || 0x00 || seed).
func assignKeyV2(seed []byte) [32]byte {
	return sha256.Sum256(append([]byte("draw/v2/assign\x00"), seed...))
}

// selectKeyV2 returns KS = SHA-256("draw/v2/select" || 0x00 || B || seed).
func selectKeyV2(b [32]byte, seed []byte) [32]byte {
	m := append([]byte("draw/v2/select\x00"), b[:]...)
	return sha256.Sum256(append(m, seed...))
}

// streamBlock returns S_j = SHA-256(KA || USCC || u32(j)) (54 bytes, one block).
func streamBlock(ka *[32]byte, c *uscc.Code, j uint32) [32]byte {
	var buf [54]byte
	copy(buf[:32], ka[:])
	copy(buf[32:50], c[:])
	binary.BigEndian.PutUint32(buf[50:], j)
	return sha256.Sum256(buf[:])
}

// permAssigner holds a v2 draw's assignment constants and the loads.
type permAssigner struct {
	base      *assigner // pool, department and region index (v1's)
	ka        [32]byte
	covering  map[[6]byte][]int32 // region → candidates in pool order
	conflicts map[uscc.Code][]int32
	load      []int64
	// the walk's displaced entries: swapped[i] holds position i's
	// inspector when stamp[i] == gen (no clearing between entities)
	swapped []int32
	stamp   []uint32
	gen     uint32
	chosen  []int32 // the last walk's choices (reused)
	hashes  int64
}

func newPermAssigner(req *draw.Request, register []draw.V2Conflict) *permAssigner {
	base := newAssigner(req, 0)
	a := &permAssigner{base: base, ka: assignKeyV2(req.SeedBytes()), covering: map[[6]byte][]int32{},
		conflicts: base.conflicts, load: make([]int64, len(base.pool)),
		swapped: make([]int32, len(base.pool)), stamp: make([]uint32, len(base.pool))}
	ids := make(map[string]int32, len(base.pool))
	for i := range base.pool {
		ids[base.pool[i].ID] = int32(i)
	}
	for _, c := range register {
		if j, ok := ids[c.Inspector]; ok {
			u := uscc.Code([]byte(c.USCC))
			a.conflicts[u] = append(a.conflicts[u], j)
		}
	}
	return a
}

// candidates returns the inspectors serving the department and covering
// region, in pool order (cached per region).
func (a *permAssigner) candidates(region [6]byte) []int32 {
	if c, ok := a.covering[region]; ok {
		return c
	}
	b := a.base
	var c []int32
	c = append(c, b.anyRegion...)
	for l := 1; l <= 6; l++ {
		c = append(c, b.byPrefix[string(region[:l])]...)
	}
	slices.Sort(c)
	c = slices.Compact(c)
	a.covering[region] = c
	return c
}

// walk is one entity's position in its permutation.
type walk struct {
	a     *permAssigner
	uscc  uscc.Code
	c     []int32
	pos   int
	block [32]byte
	bidx  int
}

func (a *permAssigner) newWalk(c uscc.Code, region [6]byte, s0 *[32]byte) walk {
	a.gen++
	if a.gen == 0 { // wrapped: forget every stamp
		clear(a.stamp)
		a.gen = 1
	}
	w := walk{a: a, uscc: c, c: a.candidates(region), bidx: 0}
	if s0 != nil {
		w.block = *s0
	} else {
		w.block = streamBlock(&a.ka, &c, 0)
		a.hashes++
	}
	return w
}

// next returns the next inspector of the permutation, false at its end.
func (w *walk) next() (int32, bool) {
	m := len(w.c)
	if w.pos >= m {
		return 0, false
	}
	if b := w.pos / 4; b != w.bidx {
		w.block = streamBlock(&w.a.ka, &w.uscc, uint32(b))
		w.bidx = b
		w.a.hashes++
	}
	q := w.pos % 4
	u := binary.BigEndian.Uint64(w.block[8*q:])
	r := w.pos + int(u%uint64(m-w.pos))
	a := w.a
	at := func(i int) int32 {
		if a.stamp[i] == a.gen {
			return a.swapped[i]
		}
		return w.c[i]
	}
	vi, vr := at(w.pos), at(r)
	a.swapped[r], a.stamp[r] = vi, a.gen
	w.pos++
	return vr, true
}

// walkResult is what a walk found.
type walkResult struct {
	chosen            []int32
	conflicted, atCap int
	exhausted         bool
}

// run walks until k inspectors are chosen or the permutation ends,
// skipping conflicts, inspectors at the cap and those in skip.
func (w *walk) run(k int, cap int64, skip []int32) walkResult {
	res := walkResult{chosen: w.a.chosen[:0]} // valid until the next walk
	bad := w.a.conflicts[w.uscc]
	for len(res.chosen) < k {
		x, ok := w.next()
		if !ok {
			res.exhausted = true
			break
		}
		switch {
		case slices.Contains(skip, x):
		case slices.Contains(bad, x):
			res.conflicted++
		case w.a.load[x] >= cap:
			res.atCap++
		default:
			res.chosen = append(res.chosen, x)
			w.a.load[x]++
		}
	}
	w.a.chosen = res.chosen
	return res
}

// orderedSel is a selected entity with its stream block S_0.
type orderedSel struct {
	s0  [32]byte
	sel *draw.Selection
}

// orderV2 computes S_0 for every selected entity (in parallel) and returns
// them in the service order: ascending S_0, ties by USCC.
func (a *permAssigner) orderV2(ctx context.Context, sel []draw.Selection, workers int, mem *drawMem) ([]orderedSel, error) {
	out := arenaSlice(&mem.orderOut, len(sel))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g := &group{stop: cancel}
	per := (len(sel) + workers - 1) / max(workers, 1)
	for w := range max(workers, 1) {
		lo, hi := w*per, min((w+1)*per, len(sel))
		g.Go(func() {
			for i := lo; i < hi; i++ {
				if i%1024 == 0 && stopped(ctx.Done()) {
					return
				}
				out[i] = orderedSel{streamBlock(&a.ka, &sel[i].USCC, 0), &sel[i]}
			}
		})
	}
	g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.hashes += int64(len(sel))
	hashSort(out, &mem.order, &mem.counts, func(o *orderedSel) uint64 { return binary.BigEndian.Uint64(o.s0[:8]) },
		func(x, y orderedSel) int {
			if c := bytes.Compare(x.s0[:], y.s0[:]); c != 0 {
				return c
			}
			return bytes.Compare(x.sel.USCC[:], y.sel.USCC[:])
		})
	clear(mem.order) // no pointers into this draw's selection kept
	return out, nil
}

// assignAll assigns inspectors to the ordered selection (the spec's
// sequential rule), filling Inspectors, Unassigned and Reason.
func (a *permAssigner) assignAll(ctx context.Context, order []orderedSel, k int, cap int64) error {
	b := a.base
	ids := make([]string, len(order)*k) // backing array of every entity's inspectors
	for i := range order {
		if i%1024 == 0 && stopped(ctx.Done()) {
			return ctx.Err()
		}
		s := order[i].sel
		w := a.newWalk(s.USCC, s.Region, &order[i].s0)
		res := w.run(k, cap, nil)
		s.Inspectors = ids[i*k : i*k+len(res.chosen) : (i+1)*k]
		for j, x := range res.chosen {
			s.Inspectors[j] = b.pool[x].ID
		}
		s.Unassigned, s.Reason = 0, ""
		if len(res.chosen) < k {
			s.Unassigned = k - len(res.chosen)
			s.Reason = unassignedReason(len(res.chosen), k, len(w.c), b.deptCount, b.dept, s.Region, res.conflicted, res.atCap, cap)
		}
	}
	return nil
}

// replacement continues an entity's walk after the draw for a recusal: it
// replays the permutation up to the last inspector in done (the entity's
// inspectors after the draw and every earlier replacement, in the order
// they were taken), then takes the next inspector that is not in skip
// (the recused ones and the entity's current inspectors), not in conflict
// and below the cap. Loads must be the loads after the draw and the
// earlier amendments, with the recused inspector's load already reduced.
// It returns -1 when none is left.
func (a *permAssigner) replacement(c uscc.Code, region [6]byte, done []int32, exhausted bool, skip []int32, cap int64) int32 {
	w := a.newWalk(c, region, nil)
	if exhausted {
		w.pos = len(w.c)
		return -1
	}
	seen := 0
	for seen < len(done) {
		x, ok := w.next()
		if !ok {
			return -1
		}
		if slices.Contains(done, x) {
			seen++
		}
	}
	res := w.run(1, cap, skip)
	if len(res.chosen) == 0 {
		return -1
	}
	return res.chosen[0]
}
