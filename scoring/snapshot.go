package scoring

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/record"
)

// Snapshot format (little-endian):
//
//	header   "CRSNAP01" | u32 version | u32 sizeof(entity) | u32 sizeof(record)
//	         | u64 position | u32 shards | 64 bytes model hash (hex) | i64 unix nanos written
//	shard×N  u32 nent | u32 nrec | u32 nslots | u32 nblocks | u32 lastBlockUsed | u32 nheap
//	         | entities | records | slots | arena blocks | heap
//	arena block  u32 capacity | u32 stored | stored bytes (only the last block is partial)
//	trailer  u32 CRC-32C of everything before | "CRSNAPND"
//
// The slabs are written as their in-memory bytes: they hold no pointers,
// so this is exact, and restore is a read into freshly allocated chunks.
// The struct sizes in the header guard against a layout change; the model
// hash decides whether the cached scores can be kept (same model) or are
// recomputed from the records (another model: the facts are the same).

const (
	snapMagic = "CRSNAP01"
	snapEnd   = "CRSNAPND"
	// snapVersion 3 gives meaning to record bytes that version 2 left
	// zero: a penalty's attributes (rules.go) and a repair's channel (in
	// its sub). Version 2 snapshots are read and migrated (the penalty
	// attributes re-read from the stored attrs); older ones are refused.
	snapVersion  = 3
	snapVersion2 = 2
	snapPrefix   = "snapshot-"
	snapSuffix   = ".snap"
	maxSnapShard = 1 << 31
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteSnapshot writes the whole state to w, tagged with pos: the input
// position (e.g. the log sequence number of the next event) the state
// reflects. It holds every shard's read lock while writing, so applies wait
// and queries do not; callers must not apply events concurrently if pos is
// to be exact.
func (e *Engine) WriteSnapshot(w io.Writer, pos uint64) error {
	for _, s := range e.shards {
		s.mu.RLock()
	}
	defer func() {
		for _, s := range e.shards {
			s.mu.RUnlock()
		}
	}()
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 1<<20)
	var hdr [8 + 4 + 4 + 4 + 8 + 4 + 64 + 8]byte
	copy(hdr[:], snapMagic)
	binary.LittleEndian.PutUint32(hdr[8:], snapVersion)
	binary.LittleEndian.PutUint32(hdr[12:], uint32(unsafe.Sizeof(entity{})))
	binary.LittleEndian.PutUint32(hdr[16:], uint32(unsafe.Sizeof(storedRecord{})))
	binary.LittleEndian.PutUint64(hdr[20:], pos)
	binary.LittleEndian.PutUint32(hdr[28:], uint32(len(e.shards)))
	copy(hdr[32:96], e.model.m.Hash())
	binary.LittleEndian.PutUint64(hdr[96:], uint64(time.Now().UnixNano()))
	if _, err := bw.Write(hdr[:]); err != nil {
		return err
	}
	for _, s := range e.shards {
		if err := s.writeTo(bw); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	var tr [12]byte
	binary.LittleEndian.PutUint32(tr[:], crc.Sum32())
	copy(tr[4:], snapEnd)
	_, err := w.Write(tr[:])
	return err
}

func (s *shard) writeTo(w *bufio.Writer) error {
	last := 0
	if len(s.arena) > 0 {
		last = s.arenaUsed
	}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], s.nent)
	binary.LittleEndian.PutUint32(h[4:], s.nrec)
	binary.LittleEndian.PutUint32(h[8:], uint32(len(s.slots)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(s.arena)))
	binary.LittleEndian.PutUint32(h[16:], uint32(last))
	binary.LittleEndian.PutUint32(h[20:], uint32(len(s.heap)))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	if err := writeChunks(w, s.ents, int(s.nent)); err != nil {
		return err
	}
	if err := writeChunks(w, s.recs, int(s.nrec)); err != nil {
		return err
	}
	if _, err := w.Write(sliceBytes(s.slots)); err != nil {
		return err
	}
	for i, b := range s.arena {
		// [u32 capacity][u32 stored][bytes]: blocks are full but for the
		// last one; oversized entries have blocks of their own size.
		stored := len(b)
		if i == len(s.arena)-1 && len(b) == arenaBlockSize {
			stored = last
		}
		var bh [8]byte
		binary.LittleEndian.PutUint32(bh[0:], uint32(len(b)))
		binary.LittleEndian.PutUint32(bh[4:], uint32(stored))
		if _, err := w.Write(bh[:]); err != nil {
			return err
		}
		if _, err := w.Write(b[:stored]); err != nil {
			return err
		}
	}
	_, err := w.Write(sliceBytes(s.heap))
	return err
}

func writeChunks[T any](w io.Writer, chunks [][]T, n int) error {
	for i := 0; n > 0; i++ {
		if i >= len(chunks) { // the reserved record 0 of a shard without records
			var z [1]T
			if _, err := w.Write(sliceBytes(z[:])); err != nil {
				return err
			}
			n--
			continue
		}
		c := chunks[i]
		if n < len(c) {
			c = c[:n]
		}
		if _, err := w.Write(sliceBytes(c)); err != nil {
			return err
		}
		n -= len(c)
	}
	return nil
}

// sliceBytes views a slice of pointer-free values as bytes.
func sliceBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(z)))
}

// ErrSnapshotCorrupt is returned (wrapped) for a snapshot that fails its
// checksum or structure checks.
var ErrSnapshotCorrupt = errors.New("snapshot corrupt")

// ReadSnapshot replaces the engine's state with the snapshot in r and
// returns the position it reflects. The engine must have the same number of
// shards. If the snapshot was written with another model, every entity's
// score is recomputed from its records at the engine clock's now.
func (e *Engine) ReadSnapshot(r io.Reader) (uint64, error) {
	crc := crc32.New(castagnoli)
	br := &crcReader{r: bufio.NewReaderSize(r, 1<<20), h: crc}
	var hdr [8 + 4 + 4 + 4 + 8 + 4 + 64 + 8]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return 0, fmt.Errorf("%w: header: %v", ErrSnapshotCorrupt, err)
	}
	version := binary.LittleEndian.Uint32(hdr[8:])
	if string(hdr[:8]) != snapMagic || (version != snapVersion && version != snapVersion2) {
		return 0, fmt.Errorf("%w: not a version %d or %d snapshot", ErrSnapshotCorrupt, snapVersion2, snapVersion)
	}
	if binary.LittleEndian.Uint32(hdr[12:]) != uint32(unsafe.Sizeof(entity{})) ||
		binary.LittleEndian.Uint32(hdr[16:]) != uint32(unsafe.Sizeof(storedRecord{})) {
		return 0, fmt.Errorf("%w: written by a build with another state layout", ErrSnapshotCorrupt)
	}
	pos := binary.LittleEndian.Uint64(hdr[20:])
	if n := binary.LittleEndian.Uint32(hdr[28:]); int(n) != len(e.shards) {
		return 0, fmt.Errorf("snapshot has %d shards, the engine %d", n, len(e.shards))
	}
	// Cached scores are kept only for the same model under the scheme's
	// default record rules (the header does not record the rules) and a
	// current-version layout.
	sameModel := string(hdr[32:96]) == e.model.m.Hash() && version == snapVersion &&
		e.rules == record.DefaultConfig(e.model.m.TierScheme)
	shards := make([]*shard, len(e.shards))
	for i := range shards {
		s, err := readShard(br)
		if err != nil {
			return 0, fmt.Errorf("%w: shard %d: %v", ErrSnapshotCorrupt, i, err)
		}
		shards[i] = s
	}
	sum := crc.Sum32()
	var tr [12]byte
	if _, err := io.ReadFull(br.r, tr[:]); err != nil {
		return 0, fmt.Errorf("%w: trailer: %v", ErrSnapshotCorrupt, err)
	}
	if binary.LittleEndian.Uint32(tr[:]) != sum || string(tr[4:]) != snapEnd {
		return 0, fmt.Errorf("%w: checksum mismatch", ErrSnapshotCorrupt)
	}
	for i, s := range shards {
		e.shards[i].mu.Lock()
		e.changes.Add(1)
		old := e.shards[i]
		old.slots, old.ents, old.nent, old.recs, old.nrec = s.slots, s.ents, s.nent, s.recs, s.nrec
		old.arena, old.arenaUsed, old.heap = s.arena, s.arenaUsed, s.heap
		if version == snapVersion2 {
			migratePenalties(old)
		}
		rebuildObjections(old)
		if !sameModel {
			e.reevaluateAll(old, e.opts.Now().Unix())
		}
		old.mu.Unlock()
	}
	return pos, nil
}

// migratePenalties fills the penalty attributes of a version 2 shard's
// records from their stored attrs (rules.go), which version 2 kept but did
// not read. A record whose attrs no longer decode keeps none (judged by its
// severity, as version 2 did).
func migratePenalties(s *shard) {
	var d event.Decoder
	var ev event.Event
	for i := uint32(1); i < s.nrec; i++ {
		r := s.rec(i)
		if r.typ != uint8(event.TypePenalty) {
			continue
		}
		if d.DecodeAttrs(event.TypePenalty, blobField(s.bytes(r.strOff, r.strLen), 2), &ev) == nil {
			setPenalty(r, &ev)
		}
	}
}

// reevaluateAll recomputes every cached evaluation of a shard.
func (e *Engine) reevaluateAll(s *shard, now int64) {
	ev := e.evaluator()
	defer e.release(ev)
	s.heap = s.heap[:0]
	for i := uint32(0); i < s.nent; i++ {
		ent := s.ent(i)
		ent.nextChange = never
		e.store(s, i, ent, ev.eval(s, ent, now, false))
	}
}

type crcReader struct {
	r *bufio.Reader
	h hash.Hash32
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	return n, err
}

func readShard(r io.Reader) (*shard, error) {
	var h [24]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	nent := binary.LittleEndian.Uint32(h[0:])
	nrec := binary.LittleEndian.Uint32(h[4:])
	nslots := binary.LittleEndian.Uint32(h[8:])
	nblocks := binary.LittleEndian.Uint32(h[12:])
	last := binary.LittleEndian.Uint32(h[16:])
	nheap := binary.LittleEndian.Uint32(h[20:])
	if nslots == 0 || nslots&(nslots-1) != 0 || uint64(nent)*4 > uint64(nslots)*3+4 || nrec == 0 ||
		nblocks > 1<<(32-arenaBlockBits) || last > arenaBlockSize || nslots > maxSnapShard || nheap > maxSnapShard {
		return nil, errors.New("implausible sizes")
	}
	s := &shard{nent: nent, nrec: nrec}
	var err error
	if s.ents, err = readChunks[entity](r, int(nent)); err != nil {
		return nil, err
	}
	if s.recs, err = readChunks[storedRecord](r, int(nrec)); err != nil {
		return nil, err
	}
	s.slots = make([]uint32, nslots)
	if _, err := io.ReadFull(r, sliceBytes(s.slots)); err != nil {
		return nil, err
	}
	for i := uint32(0); i < nblocks; i++ {
		var bh [8]byte
		if _, err := io.ReadFull(r, bh[:]); err != nil {
			return nil, err
		}
		capacity, stored := binary.LittleEndian.Uint32(bh[0:]), binary.LittleEndian.Uint32(bh[4:])
		if capacity < arenaBlockSize || capacity > maxArenaEntry || stored > capacity {
			return nil, errors.New("implausible arena block")
		}
		b := make([]byte, capacity)
		if _, err := io.ReadFull(r, b[:stored]); err != nil {
			return nil, err
		}
		s.arena = append(s.arena, b)
	}
	s.arenaUsed = int(last)
	s.heap = make([]heapItem, nheap)
	if _, err := io.ReadFull(r, sliceBytes(s.heap)); err != nil {
		return nil, err
	}
	// Structural checks that keep a crafted snapshot from sending reads out
	// of bounds: slots name existing entities, lists name existing records.
	for _, v := range s.slots {
		if v&slotIdxMask > nent {
			return nil, errors.New("slot out of range")
		}
	}
	for i := uint32(0); i < nent; i++ {
		if e := s.ent(i); e.firstRec >= nrec {
			return nil, errors.New("record list out of range")
		}
	}
	return s, nil
}

func readChunks[T any](r io.Reader, n int) ([][]T, error) {
	var out [][]T
	for n > 0 || len(out) == 0 {
		c := make([]T, chunkSize)
		m := n
		if m > chunkSize {
			m = chunkSize
		}
		if _, err := io.ReadFull(r, sliceBytes(c[:m])); err != nil {
			return nil, err
		}
		out = append(out, c)
		n -= m
		if n == 0 {
			break
		}
	}
	return out, nil
}

// SnapshotName is the file name of the snapshot at position pos: ordered
// by position, as tsdb names checkpoints.
func SnapshotName(pos uint64) string {
	return fmt.Sprintf("%s%020d%s", snapPrefix, pos, snapSuffix)
}

// WriteSnapshotFile writes a snapshot at pos into dir atomically (temporary
// file, fsync, rename, directory fsync) and returns its path.
func (e *Engine) WriteSnapshotFile(dir string, pos uint64) (string, error) {
	final := filepath.Join(dir, SnapshotName(pos))
	tmp, err := os.CreateTemp(dir, snapTmpPattern)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := e.WriteSnapshot(tmp, pos); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", err
	}
	return final, syncDir(dir)
}

// SnapshotFiles lists the snapshots in dir, newest position first.
func SnapshotFiles(dir string) ([]string, []uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	type sf struct {
		name string
		pos  uint64
	}
	var fs []sf
	for _, d := range ents {
		n := d.Name()
		if !strings.HasPrefix(n, snapPrefix) || !strings.HasSuffix(n, snapSuffix) {
			continue
		}
		p, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(n, snapPrefix), snapSuffix), 10, 64)
		if err != nil {
			continue
		}
		fs = append(fs, sf{filepath.Join(dir, n), p})
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].pos > fs[j].pos })
	names := make([]string, len(fs))
	poss := make([]uint64, len(fs))
	for i, f := range fs {
		names[i], poss[i] = f.name, f.pos
	}
	return names, poss, nil
}

// LoadLatestSnapshot restores the newest snapshot in dir that verifies and
// returns its position; found is false when there is none. A snapshot that
// fails verification is skipped (and reported through skipped) in favour of
// an older one.
func (e *Engine) LoadLatestSnapshot(dir string, skipped func(path string, err error)) (pos uint64, found bool, err error) {
	names, _, err := SnapshotFiles(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return 0, false, nil
		}
		return 0, false, err
	}
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			return 0, false, err
		}
		p, rerr := e.ReadSnapshot(f)
		f.Close()
		if rerr == nil {
			return p, true, nil
		}
		if skipped != nil {
			skipped(n, rerr)
		}
		e.reset()
	}
	return 0, false, nil
}

// reset empties the engine.
func (e *Engine) reset() {
	for _, s := range e.shards {
		s.mu.Lock()
		e.changes.Add(1)
		n := newShard()
		s.slots, s.ents, s.nent, s.recs, s.nrec, s.arena, s.arenaUsed, s.heap = n.slots, n.ents, n.nent, n.recs, n.nrec, n.arena, n.arenaUsed, n.heap
		s.objs = nil
		s.mu.Unlock()
	}
}

// snapTmpPattern matches WriteSnapshotFile's temporary files.
const snapTmpPattern = ".snapshot-*.tmp"

// RemoveSnapshotTemps deletes the temporary files that a WriteSnapshotFile
// interrupted by a crash left in dir and returns their paths. They are never
// snapshots: a snapshot exists only once renamed to its final name.
func RemoveSnapshotTemps(dir string) ([]string, error) {
	tmps, err := filepath.Glob(filepath.Join(dir, snapTmpPattern))
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, t := range tmps {
		if err := os.Remove(t); err != nil && !os.IsNotExist(err) {
			return removed, err
		}
		removed = append(removed, t)
	}
	return removed, nil
}

// corruptSuffix is appended to the name of a snapshot set aside by
// SetAsideSnapshot: out of rotation, kept for inspection.
const corruptSuffix = ".corrupt"

// SetAsideSnapshot renames a snapshot that failed verification to its name
// with ".corrupt" appended, so that it is neither restored nor counted by
// retention, and returns the new path. The bytes are kept for the operator.
func SetAsideSnapshot(path string) (string, error) {
	aside := path + corruptSuffix
	if err := os.Rename(path, aside); err != nil {
		return "", err
	}
	return aside, syncDir(filepath.Dir(path))
}

// VerifySnapshotFile checks a snapshot file's header and its checksum over
// the whole file, without decoding it (one sequential read), and returns the
// position it reflects. A nil error means ReadSnapshot will not find it
// corrupt (with the same shard count).
func VerifySnapshotFile(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	var hdr [8 + 4 + 4 + 4 + 8]byte
	const trailer = 12
	if fi.Size() < int64(len(hdr))+trailer {
		return 0, fmt.Errorf("%w: %d bytes", ErrSnapshotCorrupt, fi.Size())
	}
	crc := crc32.New(castagnoli)
	br := bufio.NewReaderSize(f, 1<<20)
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return 0, fmt.Errorf("%w: header: %v", ErrSnapshotCorrupt, err)
	}
	crc.Write(hdr[:])
	if v := binary.LittleEndian.Uint32(hdr[8:]); string(hdr[:8]) != snapMagic || (v != snapVersion && v != snapVersion2) ||
		binary.LittleEndian.Uint32(hdr[12:]) != uint32(unsafe.Sizeof(entity{})) ||
		binary.LittleEndian.Uint32(hdr[16:]) != uint32(unsafe.Sizeof(storedRecord{})) {
		return 0, fmt.Errorf("%w: not a version %d snapshot of this build's state layout", ErrSnapshotCorrupt, snapVersion)
	}
	if _, err := io.CopyN(crc, br, fi.Size()-int64(len(hdr))-trailer); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrSnapshotCorrupt, err)
	}
	var tr [trailer]byte
	if _, err := io.ReadFull(br, tr[:]); err != nil {
		return 0, fmt.Errorf("%w: trailer: %v", ErrSnapshotCorrupt, err)
	}
	if binary.LittleEndian.Uint32(tr[:]) != crc.Sum32() || string(tr[4:]) != snapEnd {
		return 0, fmt.Errorf("%w: checksum mismatch", ErrSnapshotCorrupt)
	}
	return binary.LittleEndian.Uint64(hdr[20:]), nil
}

// syncDir makes the entries of dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
