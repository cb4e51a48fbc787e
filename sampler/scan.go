package sampler

// The scan is the hot path of a draw: every registered entity of the
// province (14 million in Shandong) passes through it. Ratio draws take
// the single pass (onepass.go) and come here only when it cannot prove its
// sample; budget draws always do. The two passes are shaped so:
//
//   - Two passes over the Source. The counting pass (pass 0) applies the
//     eligibility rules and counts N_t and the entities per USCC prefix
//     (first 8 characters: authority, type, division); it hashes nothing.
//     Then n_t is known exactly, and the selection pass (pass 1) hashes each
//     eligible entity once, keeps per worker and per stratum the n_t
//     smallest priorities in a bounded max-heap (a "bottom-n"), and writes
//     one 8-byte key per entity into the slot range of its prefix. Merging
//     the workers' bottom-n gives exactly the single-pass sample: the n_t
//     smallest of a union are among the union of each part's n_t smallest.
//   - Pointer-free, exactly sized population: a key holds USCC positions
//     9–18 as a base-31 number (50 bits) and the tier (4 bits); the prefix is
//     implied by the slot range. 14M entities take 112 MB, allocated once
//     with the sizes pass 0 counted. Workers reserve slots in blocks of
//     keyBlock per prefix (one atomic add per block, not per entity); unused
//     slots keep a sentinel that sorts last.
//   - One SHA-256 block per priority: K || USCC is 50 bytes, which with
//     padding is a single 64-byte block (K is only 32 bytes, so there is no
//     midstate to precompute). The buffer holding K is per worker; nothing
//     is allocated per entity. crypto/sha256 uses SHA-NI where available.
//   - The heaps reject most entities with one 64-bit comparison against the
//     current maximum once they are full.

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// ErrPopulationChanged is returned when the Source yields a different
// population in the counting and selection passes, Options.MaxPasses times.
var ErrPopulationChanged = errors.New("sampler: the source's population changed between passes; it must present a stable view as of as_of")

// keyBlock is the number of key slots a worker reserves at a time.
const keyBlock = 64

// sentinelKey fills unused slots; real keys are below 2^54.
const sentinelKey = ^uint64(0)

// usccVal maps an alphabet byte to its value 0–30, 0xff otherwise.
var usccVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(uscc.Alphabet); i++ {
		t[uscc.Alphabet[i]] = byte(i)
	}
	return t
}()

// packSuffix packs USCC positions 9–18 into a base-31 number (< 31^10 <
// 2^50), preserving byte order. ok is false when a character is not in the
// alphabet.
func packSuffix(c *uscc.Code) (v uint64, ok bool) {
	var bad byte
	for _, b := range c[8:18] {
		x := usccVal[b]
		bad |= x
		v = v*31 + uint64(x)
	}
	return v, bad&0x80 == 0
}

// pairChars[v] are the two alphabet characters of v = 31·hi + lo.
var pairChars = func() (t [31 * 31][2]byte) {
	for i := range t {
		t[i] = [2]byte{uscc.Alphabet[i/31], uscc.Alphabet[i%31]}
	}
	return t
}()

// unpackSuffix writes the 10 characters of a packed suffix to dst.
func unpackSuffix(dst []byte, v uint64) {
	_ = dst[9]
	for i := 8; i >= 0; i -= 2 {
		p := pairChars[v%961]
		dst[i], dst[i+1] = p[0], p[1]
		v /= 961
	}
}

func prefixOf(c *uscc.Code) uint64 { return binary.BigEndian.Uint64(c[0:8]) }

// scanParams are a draw's per-draw constants for the scan.
type scanParams struct {
	asOf   int64
	filter *draw.Population
	scheme *tier.Scheme
	excl   *exclusion
	k      [32]byte // K = SHA-256("draw/v1" || 0x00 || seed); v2: KS
	// v2Filters: the filter has draw/v2 members (industries, include,
	// exclude), checked after the v1 ones
	v2Filters bool
}

// scanCounts are one worker's counters.
type scanCounts struct {
	scanned       int64
	n             [draw.MaxTiers]int64
	notRegistered int64
	deregistered  int64
	filtered      int64
	untiered      int64
	recent        int64
	capped        int64
}

func (c *scanCounts) add(o *scanCounts) {
	c.scanned += o.scanned
	for t := range c.n {
		c.n[t] += o.n[t]
	}
	c.notRegistered += o.notRegistered
	c.deregistered += o.deregistered
	c.filtered += o.filtered
	c.untiered += o.untiered
	c.recent += o.recent
	c.capped += o.capped
}

// eligible applies the spec's eligibility rules. It returns an error for
// units no source should yield (a tier outside the scheme).
func (p *scanParams) eligible(u *Unit, c *scanCounts) (bool, error) {
	c.scanned++
	switch {
	case u.RegisteredAt > p.asOf:
		c.notRegistered++
		return false, nil
	case u.DeregisteredAt != 0 && u.DeregisteredAt <= p.asOf:
		c.deregistered++
		return false, nil
	case !p.filter.Match(u.USCC, u.Region) || p.v2Filters && !p.filter.MatchV2(u.USCC, u.Region, u.Industry):
		c.filtered++
		return false, nil
	case u.Tier == tier.None:
		c.untiered++
		return false, nil
	case int(u.Tier) >= p.scheme.Len():
		return false, fmt.Errorf("sampler: unit %s has tier %d, outside scheme %s", u.USCC, u.Tier, p.scheme.ID)
	}
	if p.excl != nil {
		recent, capped := p.excl.check(u)
		if recent {
			c.recent++
			return false, nil
		}
		if capped {
			c.capped++
			return false, nil
		}
	}
	return true, nil
}

// admit is eligible, then counts an eligible unit in its stratum.
func (p *scanParams) admit(u *Unit, c *scanCounts) (bool, error) {
	ok, err := p.eligible(u, c)
	if ok {
		c.n[u.Tier]++
	}
	return ok, err
}

// checkUnit validates what the population lines and the record need: an
// uppercase alphabet USCC with a digit division, and a 6-digit region. The
// prefix (positions 1–8) is checked by checkPrefix once per distinct prefix;
// this checks the rest. It does not allocate.
func checkUnit(u *Unit) error {
	var bad byte
	for _, b := range u.USCC[8:] {
		bad |= usccVal[b] // 0xff outside the alphabet
	}
	if bad&0x80 != 0 || !regionDigits(&u.Region) {
		return unitError(u)
	}
	return nil
}

func regionDigits(r *[6]byte) bool {
	for _, b := range r {
		if b < '0' || b > '9' {
			return false
		}
	}
	return true
}

// checkPrefix validates positions 1–8 of a unit's USCC.
func checkPrefix(u *Unit) error {
	for i, b := range u.USCC[:8] {
		if usccVal[b] == 0xff || i >= 2 && (b < '0' || b > '9') {
			return unitError(u)
		}
	}
	return nil
}

func unitError(u *Unit) error {
	if !regionDigits(&u.Region) {
		return fmt.Errorf("sampler: unit %s: region %q is not a 6-digit division code", u.USCC, string(u.Region[:]))
	}
	_, err := uscc.ParseFormat(string(u.USCC[:]))
	if err == nil {
		err = errors.New("not uppercase")
	}
	return fmt.Errorf("sampler: unit %q: %v", string(u.USCC[:]), err)
}

// scanCheckEvery is how many units a scan worker visits between checks of
// the context, so that a cancelled draw stops even over a Source that does
// not check it.
const scanCheckEvery = 1024

// scanAll runs fn over every unit of src with the given number of workers;
// partitions are handed out in order. The first error stops all workers.
func scanAll(ctx context.Context, src Source, asOf time.Time, workers int, fn func(w int, u *Unit) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	parts := src.Partitions()
	var next atomic.Int64
	var once sync.Once
	var first error
	g := &group{stop: cancel}
	done := ctx.Done()
	for w := range min(workers, max(parts, 1)) {
		g.Go(func() {
			seen := 0
			visit := func(u *Unit) error {
				if seen++; seen%scanCheckEvery == 0 && stopped(done) {
					return ctx.Err()
				}
				return fn(w, u)
			}
			for {
				p := int(next.Add(1) - 1)
				if p >= parts {
					return
				}
				if err := src.Scan(ctx, p, asOf, visit); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		})
	}
	g.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// countPass is pass 0: eligibility counts and entities per prefix.
type countPass struct {
	counts   scanCounts
	prefixes map[uint64]int64
}

func runCountPass(ctx context.Context, src Source, p *scanParams, workers int) (*countPass, error) {
	type worker struct {
		c     scanCounts
		pref  map[uint64]int64
		cache prefixCache // counts per prefix, flushed into pref on eviction
	}
	ws := make([]worker, workers)
	for i := range ws {
		ws[i].pref = map[uint64]int64{}
	}
	err := scanAll(ctx, src, time.Unix(p.asOf, 0), workers, func(w int, u *Unit) error {
		wk := &ws[w]
		ok, err := p.eligible(u, &wk.c)
		if !ok || err != nil {
			return err
		}
		if err := checkUnit(u); err != nil {
			return err
		}
		wk.c.n[u.Tier]++
		pre := prefixOf(&u.USCC)
		s := prefixSlot(pre)
		if wk.cache.key[s] != pre {
			if err := checkPrefix(u); err != nil {
				return err
			}
			if wk.cache.key[s] != 0 {
				wk.pref[wk.cache.key[s]] += wk.cache.val[s]
			}
			wk.cache.key[s], wk.cache.val[s] = pre, 0
		}
		wk.cache.val[s]++
		return nil
	})
	if err != nil {
		return nil, err
	}
	cp := &countPass{prefixes: map[uint64]int64{}}
	for i := range ws {
		wk := &ws[i]
		for s, k := range wk.cache.key {
			if k != 0 {
				wk.pref[k] += wk.cache.val[s]
			}
		}
		cp.counts.add(&wk.c)
		for k, v := range wk.pref {
			cp.prefixes[k] += v
		}
	}
	return cp, nil
}

// prefixCache is a direct-mapped cache in front of a map keyed by USCC
// prefix: a province has a few hundred prefixes, so nearly every lookup
// hits and the map is rarely touched. Key 0 marks an empty slot (a prefix
// is 8 ASCII bytes, never 0).
type prefixCache struct {
	key [prefixSlots]uint64
	val [prefixSlots]int64
}

const prefixSlots = 4096

func prefixSlot(pre uint64) int { return int((pre * 0x9e3779b97f4a7c15) >> (64 - 12)) }

// lookup returns the value cached for pre, or calls miss and caches the
// value it returns (miss returns ok false to cache nothing).
func (c *prefixCache) lookup(pre uint64, miss func() (int64, bool, error)) (int64, bool, error) {
	s := prefixSlot(pre)
	if c.key[s] == pre {
		return c.val[s], true, nil
	}
	v, ok, err := miss()
	if ok && err == nil {
		c.key[s], c.val[s] = pre, v
	}
	return v, ok, err
}

// population is the eligible population as packed keys grouped by prefix.
type population struct {
	prefixes []uint64         // bucket prefixes, ascending (byte order)
	index    map[uint64]int32 // prefix → bucket
	count    []int64          // entities per bucket (pass 0)
	off      []int64          // first slot of each bucket in keys
	size     []int64          // slots of each bucket (count + slack)
	cursor   []paddedCursor   // next unreserved slot per bucket
	keys     []uint64
	// chunks (single pass): per bucket, the workers' key chunks, copied
	// into keys when the bucket is sorted
	chunks [][][]uint64
}

type paddedCursor struct {
	n atomic.Int64
	_ [56]byte
}

func newPopulation(prefixes map[uint64]int64, workers int) *population {
	pop := &population{index: make(map[uint64]int32, len(prefixes))}
	for k := range prefixes {
		pop.prefixes = append(pop.prefixes, k)
	}
	slices.Sort(pop.prefixes)
	nb := len(pop.prefixes)
	pop.count = make([]int64, nb)
	pop.off = make([]int64, nb+1)
	pop.size = make([]int64, nb)
	pop.cursor = make([]paddedCursor, nb)
	var total int64
	for b, k := range pop.prefixes {
		pop.index[k] = int32(b)
		pop.count[b] = prefixes[k]
		pop.size[b] = prefixes[k] + int64(workers)*keyBlock
		pop.off[b] = total
		total += pop.size[b]
	}
	pop.off[nb] = total
	pop.keys = make([]uint64, total)
	return pop
}

// reset prepares the slots for another selection pass.
func (pop *population) reset() {
	for b := range pop.cursor {
		pop.cursor[b].n.Store(0)
	}
}

// cand is a candidate for the sample: one entity and its priority. 64 bytes.
type cand struct {
	prio   [4]uint64 // SHA-256(K || USCC) as big-endian words
	uscc   uscc.Code
	region [6]byte
	tier   tier.Tier
}

func prioLess(a, b *[4]uint64) bool {
	if a[0] != b[0] {
		return a[0] < b[0]
	}
	if a[1] != b[1] {
		return a[1] < b[1]
	}
	if a[2] != b[2] {
		return a[2] < b[2]
	}
	return a[3] < b[3]
}

func prioCmp(a, b *[4]uint64) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// bottomN keeps the n candidates with the smallest priorities: a max-heap
// once full (h[0] is the largest kept).
type bottomN struct {
	n    int
	h    []cand
	full bool
}

// wants reports whether a priority would be kept (fast rejection).
func (b *bottomN) wants(p *[4]uint64) bool {
	return !b.full || prioLess(p, &b.h[0].prio)
}

func (b *bottomN) add(c *cand) {
	if !b.full {
		b.h = append(b.h, *c)
		if len(b.h) == b.n {
			for i := b.n/2 - 1; i >= 0; i-- {
				b.down(i)
			}
			b.full = true
		}
		return
	}
	b.h[0] = *c
	b.down(0)
}

func (b *bottomN) down(i int) {
	h := b.h
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && prioLess(&h[l].prio, &h[r].prio) {
			m = r
		}
		if !prioLess(&h[i].prio, &h[m].prio) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// priority computes SHA-256(K || USCC) into p, using buf (K in buf[:32]).
func priority(buf *[50]byte, c *uscc.Code, p *[4]uint64) {
	copy(buf[32:], c[:])
	h := sha256.Sum256(buf[:])
	p[0] = binary.BigEndian.Uint64(h[0:])
	p[1] = binary.BigEndian.Uint64(h[8:])
	p[2] = binary.BigEndian.Uint64(h[16:])
	p[3] = binary.BigEndian.Uint64(h[24:])
}
