package sampler

// The single pass: the fast path of draws with a ratio allocation (v1 and
// v2). One scan over the Source does everything the counting and selection
// passes did (scan.go, select.go), so each entity is read once:
//
//   - eligibility and the stratum counts N_t;
//   - the population key (USCC positions 9–18 packed, plus the tier) is
//     appended to the worker's own chunk list for the entity's USCC prefix:
//     no counting pass is needed to size anything, and no slot is shared
//     between workers. A full chunk is never copied: the next is twice its
//     size, up to chunkKeys keys (chunkList); nothing is allocated per
//     entity;
//   - the priority is hashed and kept when its first 64 bits are at most
//     the worker's limit for the stratum. With a ratio r_t the sample is
//     about r_t·N_t, so the limit for a worker that has seen m entities of
//     the stratum is the fraction (r_t·m + σ·√(r_t·m) + 16)/m of 2^64. It
//     only ever falls (it is lowered every max(64, m/32) entities), so
//     every entity whose prio[0] is at most L_t, the smallest final limit
//     of all workers, was kept by whichever worker saw it.
//
// After the scan n_t follows from N_t exactly as before. Per stratum, when
// at least n_t kept entities have prio[0] ≤ L_t, the n_t smallest kept are
// the n_t smallest of the stratum (every entity not kept has prio[0] > L_t);
// otherwise (an 8-sigma event, or a negative margin in tests) the draw
// falls back to the two passes (the slow path, runPasses), which also
// serve budget allocations: their n_t depend on every N_t in a way that
// gives no per-stratum fraction to keep.

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/creditrisk/creditd/models/draw"
)

// firstChunk and chunkKeys are the sizes of a prefix's first and of its
// largest chunks of population keys (256 B, 32 KiB); keptFirst and
// keptMost those of a stratum's kept candidates (4 KiB, 128 KiB).
const (
	firstChunk = 32
	chunkKeys  = 4096
	keptFirst  = 64
	keptMost   = 2048
)

// errKeptTooMany stops a single pass whose kept candidates exceed the
// largest sample a draw may have (Options.MaxAssignments): the two passes
// then refuse the draw (ErrTooLarge) before allocating for its sample.
var errKeptTooMany = errors.New("sampler: single pass kept too many candidates")

// chunkList is an append-only list held in chunks. A full chunk is never
// grown (no copy, no slack beyond the last chunk): the next one is twice
// its size, from first up to most elements.
type chunkList[T any] struct {
	full [][]T
	cur  []T
}

func (l *chunkList[T]) add(v T, first, most int, s *slab[T]) {
	if len(l.cur) == cap(l.cur) {
		if l.cur != nil {
			l.full = append(l.full, l.cur)
		}
		l.cur = s.alloc(min(max(2*cap(l.cur), first), most))
	}
	l.cur = append(l.cur, v)
}

// chunks returns every chunk, the last one included.
func (l *chunkList[T]) chunks() [][]T {
	if l.cur == nil {
		return l.full
	}
	return append(l.full, l.cur)
}

// keyChunks are one worker's population keys of one USCC prefix.
type keyChunks struct {
	prefix uint64
	chunkList[uint64]
}

// ratioLimit is the keep limit for a stratum with ratio r after m of its
// entities: about r·m + σ·√(r·m) + 16 of m are expected below it.
func ratioLimit(r float64, m int64, sigmas float64) uint64 {
	rm := r * float64(m)
	e := rm + sigmas*math.Sqrt(rm) + 16
	f := e / float64(max(m, 1))
	switch {
	case e <= 0:
		return 0
	case f >= 1:
		return math.MaxUint64
	}
	return uint64(f * (1 << 64))
}

// onePassWorker is one scan worker's state.
type onePassWorker struct {
	c       scanCounts
	buf     [50]byte    // K || USCC
	cache   prefixCache // prefix → index in buckets
	index   map[uint64]int32
	buckets []keyChunks
	kept    [draw.MaxTiers]chunkList[cand]
	limit   [draw.MaxTiers]uint64
	next    [draw.MaxTiers]int64 // c.n[t] at which the limit is lowered again
	keySlab *slab[uint64]        // the Arena's memory for buckets and kept
	kepSlab *slab[cand]
	// the workers are adjacent in one slice: without a cache line between
	// them, one worker's per-entity writes (c) and the other's per-entity
	// reads (limit, next, keySlab) share a line that then moves between
	// the cores on every entity (false sharing: +1 s CPU at 14M)
	_ [64]byte
}

// singlePass is the outcome of a single pass: ok is false when the draw
// must fall back to the two passes.
type singlePass struct {
	ok       bool
	counts   scanCounts
	selected []cand
	popu     *population
	Nt, nt   []int64
}

// runSinglePass scans src once. ratio[t] is stratum t's ratio (0 = no
// draws in that stratum whatever N_t); sizes gives n_t from N_t (and may
// refuse the draw, ErrTooLarge).
func runSinglePass(ctx context.Context, src Source, p *scanParams, opts *Options, mem *drawMem, ratio []float64, sigmas float64,
	sizes func([]int64) ([]int64, error)) (*singlePass, error) {
	workers := opts.Workers
	// kept by all workers: n_t ≤ MaxAssignments, plus each worker's margin
	// and early keeps (one atomic add per kept entity, ~2% of them)
	maxKept := opts.MaxAssignments + int64(4096*workers)
	var kept atomic.Int64
	ws := make([]onePassWorker, workers)
	for i := range ws {
		wk := &ws[i]
		copy(wk.buf[:32], p.k[:])
		wk.index = map[uint64]int32{}
		wk.keySlab, wk.kepSlab = &mem.keys[i], &mem.kept[i]
		for t := range wk.limit {
			wk.limit[t] = math.MaxUint64
		}
	}
	nt := len(ratio)
	err := scanAll(ctx, src, time.Unix(p.asOf, 0), workers, func(w int, u *Unit) error {
		wk := &ws[w]
		if ok, err := p.admit(u, &wk.c); !ok || err != nil {
			return err
		}
		t := u.Tier
		pre := prefixOf(&u.USCC)
		b, _, err := wk.cache.lookup(pre, func() (int64, bool, error) {
			bi, found := wk.index[pre]
			if !found {
				if err := checkPrefix(u); err != nil {
					return 0, false, err
				}
				bi = int32(len(wk.buckets))
				wk.index[pre] = bi
				wk.buckets = append(wk.buckets, keyChunks{prefix: pre})
			}
			return int64(bi), true, nil
		})
		if err != nil {
			return err
		}
		suffix, ok := packSuffix(&u.USCC)
		if !ok || !regionDigits(&u.Region) {
			return unitError(u)
		}
		wk.buckets[b].add(suffix<<4|uint64(t), firstChunk, chunkKeys, wk.keySlab)
		r := ratio[t]
		if r == 0 {
			return nil // n_t = 0: nothing to hash
		}
		if m := wk.c.n[t]; m >= wk.next[t] {
			// never raised (with a negative margin, in tests, the
			// formula would rise): the proof needs a falling limit
			wk.limit[t] = min(wk.limit[t], ratioLimit(r, m, sigmas))
			wk.next[t] = m + max(64, m/32)
		}
		var c cand
		priority(&wk.buf, &u.USCC, &c.prio)
		if c.prio[0] > wk.limit[t] {
			return nil
		}
		if kept.Add(1) > maxKept {
			return errKeptTooMany
		}
		c.uscc, c.region, c.tier = u.USCC, u.Region, t
		wk.kept[t].add(c, keptFirst, keptMost, wk.kepSlab)
		return nil
	})
	if errors.Is(err, errKeptTooMany) {
		return &singlePass{}, nil
	}
	if err != nil {
		return nil, err
	}
	sp := &singlePass{}
	for i := range ws {
		sp.counts.add(&ws[i].c)
	}
	sp.Nt = slices.Clone(sp.counts.n[:nt])
	if sp.nt, err = sizes(sp.Nt); err != nil {
		return nil, err
	}
	// per stratum: the kept entities at or below L_t, which must be at
	// least n_t
	var total int
	for t := range nt {
		total += int(sp.nt[t])
	}
	sel := slices.Grow(mem.selected[:0], total)
	defer func() { mem.selected = sel[:0] }()
	st := mem.stratum
	defer func() { mem.stratum = st[:0] }()
	for t := range nt {
		if sp.nt[t] == 0 {
			continue
		}
		L := uint64(math.MaxUint64)
		for i := range ws {
			if ws[i].c.n[t] > 0 {
				L = min(L, ws[i].limit[t])
			}
		}
		n := 0
		for i := range ws {
			for _, ch := range ws[i].kept[t].chunks() {
				n += len(ch)
			}
		}
		st = slices.Grow(st[:0], n)
		for i := range ws {
			for _, ch := range ws[i].kept[t].chunks() {
				for j := range ch {
					if ch[j].prio[0] <= L {
						st = append(st, ch[j])
					}
				}
			}
			ws[i].kept[t] = chunkList[cand]{}
		}
		if int64(len(st)) < sp.nt[t] {
			return &singlePass{}, nil // too few below the limit: the slow path
		}
		sortCands(st, mem)
		sel = append(sel, st[:sp.nt[t]]...)
	}
	sortCands(sel, mem)
	sp.selected = sel
	sp.popu = chunkedPopulation(ws)
	sp.ok = true
	return sp, nil
}

// chunkedPopulation gathers the workers' key chunks by prefix. The chunks
// stay where they are: emitPopulation sorts each bucket through a
// worker's buffer back into its chunks, and formats chunk by chunk.
func chunkedPopulation(ws []onePassWorker) *population {
	byPrefix := map[uint64][][]uint64{}
	counts := map[uint64]int64{}
	for i := range ws {
		for _, b := range ws[i].buckets {
			ch := b.chunks()
			byPrefix[b.prefix] = append(byPrefix[b.prefix], ch...)
			for _, c := range ch {
				counts[b.prefix] += int64(len(c))
			}
		}
		ws[i].buckets = nil
	}
	pop := &population{chunks: nil}
	for k := range counts {
		pop.prefixes = append(pop.prefixes, k)
	}
	slices.Sort(pop.prefixes)
	pop.count = make([]int64, len(pop.prefixes))
	for b, k := range pop.prefixes {
		pop.count[b] = counts[k]
	}
	pop.chunks = make([][][]uint64, len(pop.prefixes))
	for b, k := range pop.prefixes {
		pop.chunks[b] = byPrefix[k]
	}
	return pop
}
