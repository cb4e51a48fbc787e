package sampler

// A draw's working memory, kept between draws. A 14M-entity draw needs
// ~250 MB of scratch (the population keys, the kept and selected
// candidates, the sort and line buffers, the selections and their service
// order, the public encoding hashed for the draw id); allocated fresh for
// every draw it costs tens of thousands of page faults (first touches,
// ~19 µs each on the project's VM, bench/RESULTS.md), which is as much CPU
// as a third of the draw's hashing. An Arena holds that scratch between the draws of a
// service (Sampler owns one), sized from the last draw: memory the last
// draw did not use is dropped when the next one starts.
//
// Nothing a draw returns points into its Arena: the record is built from
// copies, so the next draw may overwrite the scratch freely.

import (
	"cmp"
	"sync"

	"github.com/creditrisk/creditd/models/draw"
)

// Arena is working memory reused across draws (Options.Arena). The zero
// value is ready to use. One draw uses an Arena at a time; a draw that
// finds it busy works with fresh memory instead (the result is the same).
type Arena struct {
	mu  sync.Mutex
	mem drawMem
	// slab block sizes (0: keySlab, candSlab); tests make them tiny
	keyBlock, candBlock int
}

// drawMem is one draw's scratch: per scan worker a slab of population keys
// and one of kept candidates, the selection's candidate buffers, and the
// population's sort and format buffers.
type drawMem struct {
	keys    []slab[uint64]
	kept    []slab[cand]
	stratum []cand // one stratum's kept candidates below its limit
	sorts   []sortBuffers
	lines   [][]byte // formatted population segments (emitPopulation)
	// hashSort's buffers
	candScratch []cand
	order       []orderedSel
	counts      []int32
	encoded     []byte // the public edition's encoding, hashed for the draw id
	// the selection's candidates, the v2 selections and their service
	// order (the record copies what it keeps from them)
	selected   []cand
	selections []draw.Selection
	orderOut   []orderedSel
	uses       int // draws that used this memory
}

// take returns the scratch for a draw with the given number of workers,
// and the function that hands it back. A nil or busy Arena gives fresh
// memory.
func (a *Arena) take(workers int) (*drawMem, func()) {
	m := &drawMem{}
	release := func() {}
	kb, cb := keySlab, candSlab
	if a != nil && a.mu.TryLock() {
		m, release = &a.mem, a.mu.Unlock
		kb, cb = cmp.Or(a.keyBlock, kb), cmp.Or(a.candBlock, cb)
	}
	m.uses++
	for len(m.keys) < workers {
		m.keys = append(m.keys, slab[uint64]{block: kb})
		m.kept = append(m.kept, slab[cand]{block: cb})
		m.sorts = append(m.sorts, sortBuffers{})
	}
	for i := range m.keys {
		m.keys[i].reset()
		m.kept[i].reset()
	}
	return m, release
}

// Reused reports how many draws have used the Arena's memory so far (the
// benchmark tells first draws from later ones).
func (a *Arena) Reused() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.mem.uses
}

// arenaSlice returns (*buf)[:n], zeroed, growing *buf when it is shorter.
func arenaSlice[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	s := (*buf)[:n]
	clear(s)
	return s
}

// Slab block sizes: 8 MiB of keys, 1 MiB of candidates.
const (
	keySlab  = 1 << 20
	candSlab = 1 << 14
)

// slab is a bump allocator over blocks that are kept between draws. A
// chunk it hands out has length 0 and a fixed capacity (appends beyond
// it would reallocate; chunkList never makes them).
type slab[T any] struct {
	block  int // elements per block (more for a larger request)
	blocks [][]T
	i, off int // current block and offset in it
}

// alloc returns an empty slice with capacity n from the slab.
func (s *slab[T]) alloc(n int) []T {
	for s.i < len(s.blocks) {
		if b := s.blocks[s.i]; s.off+n <= len(b) {
			c := b[s.off : s.off : s.off+n]
			s.off += n
			return c
		}
		s.i++
		s.off = 0
	}
	s.blocks = append(s.blocks, make([]T, max(n, s.block)))
	s.off = n
	return s.blocks[s.i][:0:n]
}

// reset makes every block available again and drops the blocks the last
// draw did not reach (the slab is sized from the last draw).
func (s *slab[T]) reset() {
	n := s.i // blocks used: those before i, and i itself when begun
	if s.off > 0 {
		n++
	}
	n = min(n, len(s.blocks))
	clear(s.blocks[n:])
	s.blocks = s.blocks[:n]
	s.i, s.off = 0, 0
}
