package scoring

import (
	"encoding/binary"
	"math"
	"sync"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// Storage design.
//
// A province holds millions of entities, most with no records at all, so
// per-entity cost and garbage-collector work decide what fits in memory.
// Everything here is pointer-free: entities live in fixed-size structs in
// chunked slabs, records in another chunked slab, strings in byte-arena
// blocks, and the index is an open-addressing table of uint32 slab
// positions. The GC sees a few thousand chunk headers, not millions of
// objects, and a snapshot is a copy of the slabs. The store is split into
// shards by the hash of the USCC, each with its own lock, padded apart so
// that writers on different shards do not share cache lines.

const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
	chunkMask = chunkSize - 1

	arenaBlockBits = 16 // 64 KiB arena blocks: little waste per shard
	arenaBlockSize = 1 << arenaBlockBits
	// maxArenaEntry is the largest text entry; an entry larger than a
	// block gets a dedicated block of its own.
	maxArenaEntry = 4 << 20

	// noTime marks an absent instant in records.
	noTime = math.MaxInt64
	// never marks "no next change" in the entity cache.
	never = math.MaxUint32
)

// entity flags
const (
	entRegistered   = 1 << iota // a registered event was applied
	entDeregistered             // a deregistered event was applied
	entException                // the USCC is a listed exception
	entEvaluated                // the cached score/tier are set
)

// entity is the fixed-size state of one market entity (52 bytes). The
// cached score and tier are those at every instant in [validFrom,
// nextChange): the fast path of any as-of query.
type entity struct {
	code       uscc.Packed // 10
	flags      uint8
	tier       uint8  // cached tier
	region     uint32 // division code as a number (registered region or USCC chars 3–8)
	regOn      int32  // registered_on (civil.Date), NoDate if unknown
	deregAt    uint32 // unix seconds of deregistration (entDeregistered)
	score      int32  // cached score
	validFrom  uint32 // cache valid from (unix seconds, clamped)
	nextChange uint32 // cache valid until, exclusive; never = no time rule pending
	firstRec   uint32 // head of the record list, 0 = none
	regOff     uint32 // arena offset of the registration blob
	regLen     uint16 // its length (0 = none)
	nrec       uint16 // number of records
	regIDHash  uint32 // low bits of the registered event id's hash
}

// record end kinds
const (
	endNone = iota
	endRemoved
	endBreached
	endFulfilled
	endUpheld   // objection_filed: answered upheld (the target is withdrawn)
	endRejected // objection_filed: answered rejected
)

// record flags
const (
	recOnTime = 1 << iota
	recSubstantiated
	recException
)

// record is one applied event of an entity other than its registration
// (64 bytes). Referencing events (removals, outcomes, repairs) are records
// too, so that duplicates are recognised and reports can cite them; their
// effect is written into their target (endAt/repairAt).
type storedRecord struct {
	idHash   uint64
	at       int64 // occurred_at, unix seconds
	endAt    int64 // removal or outcome instant, noTime if none
	repairAt int64 // repair effective instant, noTime if none
	strOff   uint32
	strLen   uint32
	next     uint32 // next record of the entity, 0 = end
	target   uint32 // referencing events: the target record, else 0
	endBy    uint32 // the record that removed/ended this one
	repairBy uint32 // the repair record
	year     uint16
	typ      uint8
	sub      uint8
	endKind  uint8
	flags    uint8
	_        [2]byte
}

// heapItem schedules an entity's next time-rule re-evaluation.
type heapItem struct {
	t   uint32
	idx uint32
}

// shard is one lock domain of the store.
type shard struct {
	mu sync.RWMutex

	slots []uint32 // open addressing; 0 = empty, else slotTag | entity index + 1
	ents  [][]entity
	nent  uint32

	recs [][]storedRecord // index 0 is reserved as "none"
	nrec uint32

	arena     [][]byte
	arenaUsed int // bytes used in the last block

	heap []heapItem // min-heap on t, lazily invalidated

	regionNames map[uint32]string // interned region strings for tier changes (a few thousand divisions)
	wev         *evaluator        // the writer's evaluator (used under the write lock)
	objs        []objRef          // the objection_filed records (objection.go)

	_ [64]byte // keep neighbouring shards' locks on separate cache lines
}

func newShard() *shard {
	// Record index 0 means "none"; its chunk is allocated with the first
	// record, so entities without records cost no record memory.
	return &shard{slots: make([]uint32, 1024), nrec: 1}
}

func (s *shard) ent(i uint32) *entity       { return &s.ents[i>>chunkBits][i&chunkMask] }
func (s *shard) rec(i uint32) *storedRecord { return &s.recs[i>>chunkBits][i&chunkMask] }

// Slots hold the entity index + 1 in their low slotIdxBits bits and 6
// bits of the code's hash above them. A probe compares the tag before it
// loads the entity, so a miss (every insert) and most collisions cost no
// cache miss on the entity slab: the fast path of find. 2^26 − 1 entities
// per shard is the limit (4.3 billion in 64 shards).
const (
	slotIdxBits = 26
	slotIdxMask = 1<<slotIdxBits - 1
	maxShardEnt = slotIdxMask - 1
)

func slotTag(h uint64) uint32 { return uint32(h>>32) &^ slotIdxMask }

// find returns the index of the entity with code p.
func (s *shard) find(p uscc.Packed, h uint64) (uint32, bool) {
	mask := uint64(len(s.slots) - 1)
	tag := slotTag(h)
	for i := h & mask; ; i = (i + 1) & mask {
		v := s.slots[i]
		if v == 0 {
			return 0, false
		}
		if v&^slotIdxMask == tag {
			if idx := v&slotIdxMask - 1; s.ent(idx).code == p { // slow path: compare the code
				return idx, true
			}
		}
	}
}

// insert adds a new entity with code p and returns its index.
func (s *shard) insert(p uscc.Packed, h uint64) uint32 {
	if uint64(s.nent+1)*4 > uint64(len(s.slots))*3 {
		s.grow()
	}
	if int(s.nent>>chunkBits) == len(s.ents) {
		s.ents = append(s.ents, make([]entity, chunkSize))
	}
	idx := s.nent
	s.nent++
	e := s.ent(idx)
	*e = entity{code: p, regOn: int32(civil.NoDate), nextChange: never, tier: uint8(tier.None)}
	s.place(h, idx)
	return idx
}

func (s *shard) place(h uint64, idx uint32) {
	mask := uint64(len(s.slots) - 1)
	i := h & mask
	for s.slots[i] != 0 {
		i = (i + 1) & mask
	}
	s.slots[i] = slotTag(h) | (idx + 1)
}

func (s *shard) grow() {
	old := s.slots
	s.slots = make([]uint32, len(old)*2)
	for _, v := range old {
		if v != 0 {
			idx := v&slotIdxMask - 1
			s.place(s.ent(idx).code.Hash(), idx)
		}
	}
}

// newRecord appends a zeroed record and returns its index.
func (s *shard) newRecord() uint32 {
	if int(s.nrec>>chunkBits) == len(s.recs) {
		s.recs = append(s.recs, make([]storedRecord, chunkSize))
	}
	i := s.nrec
	s.nrec++
	*s.rec(i) = storedRecord{endAt: noTime, repairAt: noTime}
	return i
}

// alloc reserves n bytes in the arena and returns their offset and slice.
// It returns ok=false when n exceeds a block.
func (s *shard) alloc(n int) (uint32, []byte, bool) {
	if n > maxArenaEntry {
		return 0, nil, false
	}
	if n > arenaBlockSize {
		// Slow path: a dedicated block; the next entry starts a new block.
		if len(s.arena) >= 1<<(32-arenaBlockBits) {
			return 0, nil, false
		}
		s.arena = append(s.arena, make([]byte, n))
		s.arenaUsed = arenaBlockSize
		return uint32(len(s.arena)-1) << arenaBlockBits, s.arena[len(s.arena)-1], true
	}
	if len(s.arena) == 0 || s.arenaUsed+n > arenaBlockSize {
		if len(s.arena) >= 1<<(32-arenaBlockBits) {
			return 0, nil, false
		}
		s.arena = append(s.arena, make([]byte, arenaBlockSize))
		s.arenaUsed = 0
	}
	b := len(s.arena) - 1
	off := uint32(b)<<arenaBlockBits | uint32(s.arenaUsed)
	buf := s.arena[b][s.arenaUsed : s.arenaUsed+n : s.arenaUsed+n]
	s.arenaUsed += n
	return off, buf, true
}

func (s *shard) bytes(off, n uint32) []byte {
	b := s.arena[off>>arenaBlockBits]
	o := off & (arenaBlockSize - 1)
	return b[o : o+n]
}

// Blob layout: a sequence of fields, each a uvarint length and the bytes.
// Records store id, authority, raw attrs; registrations store id, name,
// industry, authority.
func blobLen(fields ...string) int {
	n := 0
	for _, f := range fields {
		n += uvarintLen(uint64(len(f))) + len(f)
	}
	return n
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func putBlob(buf []byte, fields ...string) {
	p := 0
	for _, f := range fields {
		p += binary.PutUvarint(buf[p:], uint64(len(f)))
		p += copy(buf[p:], f)
	}
}

// blobField returns field i of a blob.
func blobField(b []byte, i int) []byte {
	p := 0
	for {
		n, k := binary.Uvarint(b[p:])
		p += k
		if i == 0 {
			return b[p : p+int(n)]
		}
		p += int(n)
		i--
	}
}

// heap operations (min-heap on t)

func (s *shard) push(it heapItem) {
	s.heap = append(s.heap, it)
	i := len(s.heap) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s.heap[p].t <= s.heap[i].t {
			break
		}
		s.heap[p], s.heap[i] = s.heap[i], s.heap[p]
		i = p
	}
}

func (s *shard) pop() heapItem {
	h := s.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].t < h[m].t {
			m = l
		}
		if r < len(h) && h[r].t < h[m].t {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	s.heap = h
	return top
}

// compactHeap drops stale heap items when they dominate.
func (s *shard) compactHeap() {
	if len(s.heap) < 1024 || len(s.heap) < 4*int(s.nrecEntities()) {
		return
	}
	s.heap = s.heap[:0]
	for i := uint32(0); i < s.nent; i++ {
		if e := s.ent(i); e.nextChange != never {
			s.push(heapItem{t: e.nextChange, idx: i})
		}
	}
}

// nrecEntities approximates the number of entities that can be scheduled.
func (s *shard) nrecEntities() uint32 {
	if s.nrec < s.nent {
		return s.nrec
	}
	return s.nent
}

// regionName returns the interned string of an encoded region; the shard's
// write lock must be held.
func (s *shard) regionName(v uint32) string {
	if r, ok := s.regionNames[v]; ok {
		return r
	}
	if s.regionNames == nil {
		s.regionNames = map[uint32]string{}
	}
	r := regionString(v)
	if len(s.regionNames) < 1<<16 {
		s.regionNames[v] = r
	}
	return r
}

// hashID is FNV-1a 64 of an event id: stable across runs (snapshots keep
// it), cheap for short ids, allocation-free on the apply path. It is part
// of the snapshot format, so it stays here rather than shared with other
// packages' FNV-1a (feeds/clickhouse keys rejected inputs with its own).
func hashID(id string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	return h
}

// clampU32 converts unix seconds to the entity cache's uint32 range.
func clampU32(t int64) uint32 {
	if t <= 0 {
		return 0
	}
	if t >= never {
		return never
	}
	return uint32(t)
}

func u32ToUnix(t uint32) int64 {
	if t == never {
		return noTime
	}
	return int64(t)
}
