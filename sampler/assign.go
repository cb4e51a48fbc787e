package sampler

// Inspector assignment (spec "Inspector assignment"). Its cost is one
// SHA-256 (two blocks for ids longer than 4 bytes) per selected entity and
// per inspector that could serve it, so it is shaped in two phases:
//
//   - Phase A, parallel: for each selected entity, the inspectors that
//     serve the plan's department, cover its region and have no conflict
//     with it (none of which depends on loads) are found through a
//     region-prefix index, ranked by g = SHA-256(K2 || USCC || 0x00 || id),
//     and the first topM kept.
//   - Phase B, sequential, in ascending priority: walk the kept ranking and
//     take the first k inspectors below the load cap. Only when the kept
//     ranking runs out before k are found (inspectors filling up late in a
//     draw) is the entity's full ranking recomputed: the slow path.
//
// Phase B is exactly the spec's sequential rule, because loads change only
// there and the ranking of an entity's candidates does not depend on loads.

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/uscc"
)

type assigner struct {
	pool      []draw.Inspector
	k         int
	cap       int64
	dept      string
	deptCount int
	anyRegion []int32            // department inspectors with no regions
	byPrefix  map[string][]int32 // region prefix → department inspectors listing it
	conflicts map[uscc.Code][]int32
	k2        [32]byte
}

// loadCap is the spec's cap: max_load if given, else ceil(k·Σn/|pool|).
func loadCap(req *draw.Request, total int) int64 {
	if req.Inspectors.MaxLoad > 0 {
		return req.Inspectors.MaxLoad
	}
	k, p := int64(req.Inspectors.PerEntity), int64(len(req.Inspectors.Pool))
	return (k*int64(total) + p - 1) / p
}

// assignKey returns K2 = SHA-256("assign/v1" || 0x00 || seed).
func assignKey(seed []byte) [32]byte {
	return sha256.Sum256(append([]byte("assign/v1\x00"), seed...))
}

// drawKey returns K = SHA-256("draw/v1" || 0x00 || seed).
func drawKey(seed []byte) [32]byte {
	return sha256.Sum256(append([]byte("draw/v1\x00"), seed...))
}

func newAssigner(req *draw.Request, total int) *assigner {
	a := &assigner{
		pool:      req.Inspectors.Pool,
		k:         req.Inspectors.PerEntity,
		cap:       loadCap(req, total),
		dept:      req.Department,
		byPrefix:  map[string][]int32{},
		conflicts: map[uscc.Code][]int32{},
		k2:        assignKey(req.SeedBytes()),
	}
	for i := range a.pool {
		in := &a.pool[i]
		if !in.ServesDepartment(a.dept) {
			continue
		}
		a.deptCount++
		if len(in.Regions) == 0 {
			a.anyRegion = append(a.anyRegion, int32(i))
		}
		for _, r := range in.Regions {
			a.byPrefix[r] = append(a.byPrefix[r], int32(i))
		}
	}
	ids := make(map[string]int32, len(a.pool))
	for i := range a.pool {
		ids[a.pool[i].ID] = int32(i)
	}
	for _, c := range req.Conflicts {
		a.conflicts[c.USCC] = append(a.conflicts[c.USCC], ids[c.Inspector])
	}
	return a
}

// maxCandidates bounds the inspectors phase A ranks for any one entity:
// the department's inspectors with no regions plus, along the listed
// region prefixes of one code, those listing each prefix (an inspector
// listing two prefixes of one code counts twice, so it is an upper bound).
func (a *assigner) maxCandidates() int {
	chain := 0
	for r := range a.byPrefix {
		c := 0
		for l := 1; l <= min(len(r), 6); l++ {
			c += len(a.byPrefix[r[:l]])
		}
		chain = max(chain, c)
	}
	return min(len(a.anyRegion)+chain, a.deptCount)
}

// ranked is one candidate inspector and its rank hash g.
type ranked struct {
	g   [4]uint64
	idx int32
}

// assignWorker holds one goroutine's scratch space.
type assignWorker struct {
	a     *assigner
	stamp []int // per inspector: last entity+1 that listed it (dedup)
	cands []int32
	rank  []ranked
	buf   [51 + draw.MaxInspectorIDLen]byte // K2 || USCC || 0x00 || id
	// hashes counts the g computed
	hashes int64
}

func (a *assigner) worker() *assignWorker {
	w := &assignWorker{a: a, stamp: make([]int, len(a.pool))}
	copy(w.buf[:32], a.k2[:])
	return w
}

// candidates collects the entity's department inspectors that cover its
// region, minus conflicts. It returns how many cover the region and how
// many of those are in conflict.
func (w *assignWorker) candidates(seq int, c uscc.Code, region *[6]byte) (covering, conflicted int) {
	a := w.a
	w.cands = w.cands[:0]
	add := func(list []int32) {
		for _, j := range list {
			if w.stamp[j] != seq {
				w.stamp[j] = seq
				w.cands = append(w.cands, j)
			}
		}
	}
	add(a.anyRegion)
	for l := 1; l <= 6; l++ {
		if list, ok := a.byPrefix[string(region[:l])]; ok {
			add(list)
		}
	}
	covering = len(w.cands)
	if bad := a.conflicts[c]; len(bad) > 0 {
		kept := w.cands[:0]
		for _, j := range w.cands {
			if !slices.Contains(bad, j) {
				kept = append(kept, j)
			}
		}
		conflicted = len(w.cands) - len(kept)
		w.cands = kept
	}
	return covering, conflicted
}

// rankCandidates computes g for every candidate in w.cands and leaves in
// w.rank the best keep of them (all when keep < 0), ascending.
func (w *assignWorker) rankCandidates(c uscc.Code, keep int) {
	copy(w.buf[32:50], c[:])
	w.buf[50] = 0
	w.rank = w.rank[:0]
	if keep < 0 {
		keep = len(w.cands)
	}
	for _, j := range w.cands {
		n := copy(w.buf[51:], w.a.pool[j].ID)
		h := sha256.Sum256(w.buf[:51+n])
		g := [4]uint64{binary.BigEndian.Uint64(h[0:]), binary.BigEndian.Uint64(h[8:]),
			binary.BigEndian.Uint64(h[16:]), binary.BigEndian.Uint64(h[24:])}
		// insertion into the sorted best-keep list
		if len(w.rank) == keep {
			if keep == 0 || !prioLess(&g, &w.rank[keep-1].g) {
				continue
			}
		} else {
			w.rank = append(w.rank, ranked{})
		}
		i := len(w.rank) - 1
		for ; i > 0 && prioLess(&g, &w.rank[i-1].g); i-- {
			w.rank[i] = w.rank[i-1]
		}
		w.rank[i] = ranked{g: g, idx: j}
	}
	w.hashes += int64(len(w.cands))
}

// keptLen is topM, how much of each entity's ranking phase A keeps: 2k+8
// (enough for phase B to rarely need the slow path), but never more than
// the inspectors that could serve any entity.
func (a *assigner) keptLen() int { return max(1, min(2*a.k+8, a.deptCount)) }

// assign assigns inspectors to sel (ascending priority) with the given
// number of workers, filling each selection's Inspectors, Unassigned and
// Reason. It returns the number of g hashes computed and of entities that
// took the slow path. Both phases check ctx before each entity (one
// entity's ranking is at most draw.MaxPoolSize hashes), so a cancelled
// draw stops promptly with ctx's error.
//
// Counters are int or int32: an entity's kept ranking holds up to
// 2·draw.MaxPerEntity+8 = 208 entries (an int8 here overflowed at
// per_entity 60), and candidate counts are at most draw.MaxPoolSize.
func (a *assigner) assign(ctx context.Context, sel []draw.Selection, workers int) (hashes, slowPaths int64, err error) {
	n := len(sel)
	topM := a.keptLen()
	kept := make([]int32, n*topM) // entity i's ranking prefix: kept[i*topM:][:keptN[i]]
	keptN := make([]int32, n)
	total := make([]int32, n) // candidates after conflicts
	cover := make([]int32, n)
	confl := make([]int32, n)
	// phase A
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := ctx.Done()
	var next, hashCount atomic.Int64
	g := &group{stop: cancel}
	const chunk = 256
	for range max(1, workers) {
		g.Go(func() {
			w := a.worker()
			defer func() { hashCount.Add(w.hashes) }()
			for {
				lo := int(next.Add(chunk) - chunk)
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+chunk, n); i++ {
					if stopped(done) {
						return
					}
					cv, cf := w.candidates(i+1, sel[i].USCC, &sel[i].Region)
					cover[i], confl[i], total[i] = int32(cv), int32(cf), int32(len(w.cands))
					w.rankCandidates(sel[i].USCC, topM)
					for r := range w.rank {
						kept[i*topM+r] = w.rank[r].idx
					}
					keptN[i] = int32(len(w.rank))
				}
			}
		})
	}
	g.Wait()
	if err := ctx.Err(); err != nil {
		return hashCount.Load(), 0, err
	}
	// phase B
	load := make([]int64, len(a.pool))
	ids := make([]string, n*a.k) // backing array of every entity's inspectors
	slow := a.worker()
	for i := range sel {
		if stopped(done) {
			return hashCount.Load() + slow.hashes, slowPaths, ctx.Err()
		}
		chosen := ids[i*a.k : i*a.k : (i+1)*a.k]
		take := func(j int32) {
			if load[j] < a.cap && len(chosen) < a.k {
				chosen = append(chosen, a.pool[j].ID)
				load[j]++
			}
		}
		for _, j := range kept[i*topM : i*topM+int(keptN[i])] {
			take(j)
		}
		if len(chosen) < a.k && total[i] > keptN[i] {
			// slow path: the kept ranking ran out; rank every candidate
			slowPaths++
			slow.candidates(i+1, sel[i].USCC, &sel[i].Region)
			slow.rankCandidates(sel[i].USCC, -1)
			for _, r := range slow.rank[keptN[i]:] {
				take(r.idx)
			}
		}
		s := &sel[i]
		s.Inspectors, s.Unassigned, s.Reason = chosen, 0, ""
		if len(chosen) < a.k {
			s.Unassigned = a.k - len(chosen)
			atCap := int(total[i]) - len(chosen)
			s.Reason = unassignedReason(len(chosen), a.k, int(cover[i]), a.deptCount, a.dept, s.Region, int(confl[i]), atCap, a.cap)
		}
	}
	return hashCount.Load() + slow.hashes, slowPaths, nil
}

// unassignedReason is the record's "reason" for an entity with fewer than k
// inspectors. The format is documented in the package doc.
func unassignedReason(found, k, covering, deptCount int, dept string, region [6]byte, conflicts, atCap int, cap int64) string {
	of := "in the pool"
	if dept != "" {
		of = fmt.Sprintf("of department %q", dept)
	}
	return fmt.Sprintf("only %d of %d inspectors available: %d of the %d inspectors %s cover region %s, %d of them in conflict, %d at the load cap of %d",
		found, k, covering, deptCount, of, region[:], conflicts, atCap, cap)
}
