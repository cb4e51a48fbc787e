package sampler

// Selection in the selection pass. Every eligible entity is hashed; what is
// kept is either
//
//   - fast path (selThreshold): the entities whose priority's first 64 bits
//     are at most a per-stratum limit, set so that about n_t + 8·√n_t are
//     expected to pass. Priorities are uniform, so this keeps a small
//     superset of the sample with no heap work: one comparison and, for
//     ~2% of entities, one 64-byte copy into a shared array reserved in
//     blocks. After the pass, if a stratum kept at least n_t, its n_t
//     smallest kept are exactly its n_t smallest overall (everything
//     smaller than the limit was kept). Memory is ~n·64 bytes.
//   - slow path (selHeaps): per worker and stratum, a bounded max-heap of
//     the n_t smallest seen. Always exact; used when the fast path kept too
//     few (a 8-sigma event) or its array overflowed. Memory is
//     workers·n·64 bytes.

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/creditrisk/creditd/models/tier"
)

type selMode int

const (
	selThreshold selMode = iota // fast path
	selHeaps                    // slow path
)

// keepSigmas is the fast path's margin in standard deviations.
const keepSigmas = 8

// strataSel is the shared state of one selection pass's selection.
type strataSel struct {
	mode  selMode
	nt    []int64
	limit []uint64 // fast path: keep when prio[0] ≤ limit[t]
	base  []int64  // fast path: stratum t's region of slots
	size  []int64
	next  []paddedCursor
	slots []cand
	// slow path: per worker, per stratum
	heaps [][]bottomN
}

// keepLimit returns the fast path's limit for a stratum: about n + σ·√n
// entities of N are expected to have prio[0] ≤ limit.
func keepLimit(n, N int64, sigmas float64) (limit uint64, expected float64) {
	e := math.Max(float64(n)+sigmas*math.Sqrt(float64(n))+16, 0)
	f := e / float64(max(N, 1))
	if f >= 1 {
		return math.MaxUint64, float64(N)
	}
	return uint64(f * (1 << 64)), e
}

func newStrataSel(mode selMode, nt, Nt []int64, workers int, sigmas float64) *strataSel {
	s := &strataSel{mode: mode, nt: nt}
	if mode == selHeaps {
		s.heaps = make([][]bottomN, workers)
		for w := range s.heaps {
			s.heaps[w] = make([]bottomN, len(nt))
			for t := range nt {
				s.heaps[w][t] = bottomN{n: int(nt[t]), h: make([]cand, 0, min(nt[t], Nt[t]))}
			}
		}
		return s
	}
	s.limit = make([]uint64, len(nt))
	s.base = make([]int64, len(nt)+1)
	s.size = make([]int64, len(nt))
	s.next = make([]paddedCursor, len(nt))
	var total int64
	for t := range nt {
		if nt[t] == 0 {
			continue
		}
		var e float64
		s.limit[t], e = keepLimit(nt[t], Nt[t], sigmas)
		s.size[t] = int64(e+keepSigmas*math.Sqrt(e)) + int64(workers+1)*keyBlock
		s.base[t] = total
		total += s.size[t]
	}
	s.base[len(nt)] = total
	s.slots = make([]cand, total)
	return s
}

// selWorker is one scan worker's selection state.
type selWorker struct {
	pos, end []int64 // fast path: reserved block per stratum
	overflow bool
	heaps    []bottomN
}

func (s *strataSel) worker(w int) selWorker {
	if s.mode == selHeaps {
		return selWorker{heaps: s.heaps[w]}
	}
	return selWorker{pos: make([]int64, len(s.nt)), end: make([]int64, len(s.nt))}
}

// offer considers one eligible entity with its priority in c.prio; c's
// other fields are filled from u only when it is kept.
func (s *strataSel) offer(sw *selWorker, c *cand, u *Unit) {
	t := u.Tier
	if s.mode == selHeaps {
		hp := &sw.heaps[t]
		if hp.wants(&c.prio) {
			c.uscc, c.region, c.tier = u.USCC, u.Region, t
			hp.add(c)
		}
		return
	}
	if c.prio[0] > s.limit[t] {
		return
	}
	if sw.pos[t] == sw.end[t] {
		start := s.next[t].n.Add(keyBlock) - keyBlock
		if start >= s.size[t] {
			sw.overflow = true
			return
		}
		sw.pos[t], sw.end[t] = s.base[t]+start, s.base[t]+min(start+keyBlock, s.size[t])
	}
	d := &s.slots[sw.pos[t]]
	d.prio, d.uscc, d.region, d.tier = c.prio, u.USCC, u.Region, t
	sw.pos[t]++
}

// result returns the sample (all strata, ascending priority), or ok false
// when the fast path cannot prove it has each stratum's n_t smallest.
func (s *strataSel) result(ws []selWorker) (sel []cand, ok bool) {
	if s.mode == selHeaps {
		var total int
		for w := range s.heaps {
			for t := range s.nt {
				total += len(s.heaps[w][t].h)
			}
		}
		all := make([]cand, 0, total)
		at := 0
		for t := range s.nt {
			lo := len(all)
			for w := range s.heaps {
				all = append(all, s.heaps[w][t].h...)
				s.heaps[w][t].h = nil
			}
			st := all[lo:]
			slices.SortFunc(st, func(a, b cand) int { return prioCmp(&a.prio, &b.prio) })
			at += copy(all[at:], st[:min(int64(len(st)), s.nt[t])])
		}
		all = all[:at]
		slices.SortFunc(all, func(a, b cand) int { return prioCmp(&a.prio, &b.prio) })
		return all, true
	}
	for _, sw := range ws {
		if sw.overflow {
			return nil, false
		}
		for t := range s.nt {
			for i := sw.pos[t]; i < sw.end[t]; i++ {
				s.slots[i].tier = tier.None // unused end of a reserved block
			}
		}
	}
	at := int64(0)
	for t := range s.nt {
		if s.nt[t] == 0 {
			continue
		}
		// compact the stratum's kept candidates to the front of its region
		lo, hi := s.base[t], s.base[t]+min(s.next[t].n.Load(), s.size[t])
		j := lo
		for i := lo; i < hi; i++ {
			if s.slots[i].tier != tier.None {
				s.slots[j] = s.slots[i]
				j++
			}
		}
		if j-lo < s.nt[t] {
			return nil, false // too few below the limit: take the slow path
		}
		st := s.slots[lo:j]
		slices.SortFunc(st, func(a, b cand) int { return prioCmp(&a.prio, &b.prio) })
		at += int64(copy(s.slots[at:], st[:s.nt[t]]))
	}
	all := s.slots[:at:at]
	s.slots = nil
	slices.SortFunc(all, func(a, b cand) int { return prioCmp(&a.prio, &b.prio) })
	return all, true
}

// selectPass is the result of pass 1.
type selectPass struct {
	counts   scanCounts
	selected []cand // all strata, ascending priority
	changed  bool   // the population differs from pass 0
	tooFew   bool   // the fast path could not prove its sample
}

func runSelectPass(ctx context.Context, src Source, p *scanParams, workers int, pop *population, nt, Nt []int64, mode selMode, sigmas float64) (*selectPass, error) {
	type worker struct {
		c   scanCounts
		sel selWorker
		buf [50]byte
		// per bucket: reserved block [pos, end) and entities written
		pos, end, written []int64
		overflow          bool
		cache             prefixCache // prefix → bucket
	}
	nb := len(pop.prefixes)
	ss := newStrataSel(mode, nt, Nt, workers, sigmas)
	ws := make([]worker, workers)
	for i := range ws {
		wk := &ws[i]
		wk.sel = ss.worker(i)
		copy(wk.buf[:32], p.k[:])
		wk.pos, wk.end, wk.written = make([]int64, nb), make([]int64, nb), make([]int64, nb)
	}
	pop.reset()
	err := scanAll(ctx, src, time.Unix(p.asOf, 0), workers, func(w int, u *Unit) error {
		wk := &ws[w]
		if ok, err := p.admit(u, &wk.c); !ok || err != nil {
			return err
		}
		t := u.Tier
		// population key
		pre := prefixOf(&u.USCC)
		b, found, _ := wk.cache.lookup(pre, func() (int64, bool, error) {
			bi, found := pop.index[pre]
			return int64(bi), found, nil
		})
		if !found {
			wk.overflow = true // a prefix pass 0 did not see
			return nil
		}
		suffix, ok := packSuffix(&u.USCC)
		if !ok {
			return checkUnit(u)
		}
		if wk.pos[b] == wk.end[b] {
			start := pop.cursor[b].n.Add(keyBlock) - keyBlock
			if start >= pop.size[b] {
				wk.overflow = true
				return nil
			}
			wk.pos[b], wk.end[b] = pop.off[b]+start, pop.off[b]+min(start+keyBlock, pop.size[b])
		}
		pop.keys[wk.pos[b]] = suffix<<4 | uint64(t)
		wk.pos[b]++
		wk.written[b]++
		// selection
		if nt[t] == 0 {
			return nil
		}
		var c cand
		priority(&wk.buf, &u.USCC, &c.prio)
		ss.offer(&wk.sel, &c, u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sp := &selectPass{}
	written := make([]int64, nb)
	sws := make([]selWorker, len(ws))
	for i := range ws {
		wk := &ws[i]
		sws[i] = wk.sel
		sp.counts.add(&wk.c)
		sp.changed = sp.changed || wk.overflow
		for b := range nb {
			written[b] += wk.written[b]
			for s := wk.pos[b]; s < wk.end[b]; s++ {
				pop.keys[s] = sentinelKey
			}
		}
	}
	for b := range nb {
		if written[b] != pop.count[b] {
			sp.changed = true
		}
		for s := pop.off[b] + min(pop.cursor[b].n.Load(), pop.size[b]); s < pop.off[b]+pop.size[b]; s++ {
			pop.keys[s] = sentinelKey
		}
	}
	if sp.changed || !slices.Equal(sp.counts.n[:len(nt)], Nt) {
		sp.changed = true
		return sp, nil
	}
	var ok bool
	if sp.selected, ok = ss.result(sws); !ok {
		sp.tooFew = true
	}
	return sp, nil
}
