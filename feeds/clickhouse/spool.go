package clickhouse

// The spool keeps batches that could not (yet) be inserted, on local disk,
// in the order they were spooled, so a ClickHouse outage or a crash loses
// nothing that reached it.
//
// Layout of SpoolDir:
//
//	LOCK                     flock'd while a sink owns the directory
//	<id:016x>.seg            segments, appended in id order, each a run of records
//	cursor                   segment id + offset of the first record not yet inserted
//	quarantine/*.rec         records ClickHouse refused or that fail their CRC
//
// Record framing: uint32 LE payload length, uint32 LE CRC-32C (Castagnoli)
// of the payload, payload (batch.go). Appends are written at once (a process
// crash loses nothing written) and fsync'd after each round of appends, on
// segment roll and on close (an OS crash may lose the last round). On open, every
// segment's record headers are scanned; a torn tail (a crash mid-append) is
// moved to quarantine and the segment truncated. Payload CRCs are checked on
// replay. The cursor is advanced after each successful insert; a crash in
// between replays that record once more, which the ReplacingMergeTree tables
// deduplicate. A lost or stale cursor therefore only costs re-inserts.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creditrisk/creditd/feeds/internal/fsutil"
)

const (
	frameHeader = 8
	// maxRecordBytes bounds one record; a larger length field is corruption.
	maxRecordBytes = 1 << 30
	// peekBytes is enough of a payload to read its table, row count and
	// firstAdded (2 bytes + two 10-byte varints).
	peekBytes = 22
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type spoolRec struct {
	seg        uint64
	off        int64 // offset of the frame header
	size       int64 // payload length
	tbl        table
	rows       int
	firstAdded int64
	seq        uint64
}

type spool struct {
	dir      string
	segBytes int64
	log      *slog.Logger
	lockf    *os.File

	mu         sync.Mutex
	segIDs     []uint64 // live segments, ascending
	segSize    map[uint64]int64
	active     *os.File // write handle of the last segment, nil until the next append
	activeID   uint64
	nextID     uint64
	rf         *os.File // read handle, for segment rfID
	rfID       uint64
	recs       []spoolRec // unconsumed records in order
	rows       int
	bytes      int64
	nextSeq    func() uint64
	frame      []byte
	dirty      bool // appended since the last fsync
	quarantine int  // records quarantined since open
}

func segName(id uint64) string { return fmt.Sprintf("%016x.seg", id) }

// openSpool opens (creating) dir, locks it and indexes the records left by
// an earlier run. nextSeq numbers them in order.
func openSpool(dir string, segBytes int64, log *slog.Logger, nextSeq func() uint64) (*spool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("clickhouse spool: %w", err)
	}
	lockf, err := lockDir(filepath.Join(dir, "LOCK"))
	if err != nil {
		return nil, fmt.Errorf("clickhouse spool %s: %w", dir, err)
	}
	s := &spool{dir: dir, segBytes: segBytes, log: log, lockf: lockf, segSize: map[uint64]int64{}, nextSeq: nextSeq}
	if err := s.load(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *spool) load() error {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("clickhouse spool: %w", err)
	}
	var ids []uint64
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, ".seg") {
			continue
		}
		id, err := strconv.ParseUint(strings.TrimSuffix(name, ".seg"), 16, 64)
		if err != nil || segName(id) != name {
			s.log.Warn("clickhouse spool: ignoring unexpected file", "file", name)
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	curSeg, curOff, curOK := s.readCursor()
	if curOK {
		s.nextID = curSeg + 1
	}
	for _, id := range ids {
		s.nextID = max(s.nextID, id+1)
		if curOK && id < curSeg {
			// Fully inserted before the last stop: the cursor moved past it.
			if err := os.Remove(filepath.Join(s.dir, segName(id))); err != nil {
				return fmt.Errorf("clickhouse spool: %w", err)
			}
			continue
		}
		recs, size, err := s.scanSegment(id)
		if err != nil {
			return err
		}
		if curOK && id == curSeg {
			k := slices.IndexFunc(recs, func(r spoolRec) bool { return r.off >= curOff })
			switch {
			case k < 0 && curOff >= size:
				recs = nil
			case k >= 0 && recs[k].off == curOff:
				recs = recs[k:]
			default:
				s.log.Warn("clickhouse spool: cursor is not at a record boundary; replaying the whole segment", "segment", segName(id), "offset", curOff)
			}
		}
		s.segIDs = append(s.segIDs, id)
		s.segSize[id] = size
		s.bytes += size
		for i := range recs {
			recs[i].seq = s.nextSeq()
			s.rows += recs[i].rows
		}
		s.recs = append(s.recs, recs...)
	}
	if len(s.recs) == 0 {
		return s.reset()
	}
	return nil
}

// scanSegment indexes a segment's records from their headers. A tail that
// does not frame (a torn append) is moved to quarantine and cut off.
func (s *spool) scanSegment(id uint64) ([]spoolRec, int64, error) {
	path := filepath.Join(s.dir, segName(id))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("clickhouse spool: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("clickhouse spool: %w", err)
	}
	size := st.Size()
	var recs []spoolRec
	var hdr [frameHeader + peekBytes]byte
	off := int64(0)
	for off < size {
		n, err := f.ReadAt(hdr[:], off)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, fmt.Errorf("clickhouse spool: %w", err)
		}
		if n < frameHeader {
			break
		}
		plen := int64(binary.LittleEndian.Uint32(hdr[0:4]))
		if plen == 0 || plen > maxRecordBytes || off+frameHeader+plen > size {
			break
		}
		avail := min(int64(n-frameHeader), plen)
		r, ok := peekPayload(hdr[frameHeader : frameHeader+avail])
		if !ok {
			break
		}
		r.seg, r.off, r.size = id, off, plen
		recs = append(recs, r)
		off += frameHeader + plen
	}
	if off < size {
		tail := make([]byte, size-off)
		if _, err := f.ReadAt(tail, off); err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, fmt.Errorf("clickhouse spool: %w", err)
		}
		q, qerr := s.writeQuarantine("torn", tail)
		s.log.Error("clickhouse spool: segment has a torn or corrupt tail; moved to quarantine and truncated",
			"segment", segName(id), "offset", off, "bytes", len(tail), "quarantine", q, "err", qerr)
		if qerr != nil {
			return nil, 0, fmt.Errorf("clickhouse spool: cannot quarantine torn tail of %s: %w", segName(id), qerr)
		}
		if err := f.Truncate(off); err != nil {
			return nil, 0, fmt.Errorf("clickhouse spool: %w", err)
		}
		size = off
	}
	return recs, size, nil
}

// peekPayload reads the table, row count and firstAdded at the start of a
// payload.
func peekPayload(p []byte) (spoolRec, bool) {
	if len(p) < 2 || p[0] != payloadVersion || table(p[1]) >= numTables {
		return spoolRec{}, false
	}
	rows, n := binary.Uvarint(p[2:])
	if n <= 0 || rows > maxRowsPerRecord {
		return spoolRec{}, false
	}
	first, m := binary.Varint(p[2+n:])
	if m <= 0 {
		return spoolRec{}, false
	}
	return spoolRec{tbl: table(p[1]), rows: int(rows), firstAdded: first}, true
}

func (s *spool) readCursor() (seg uint64, off int64, ok bool) {
	b, err := os.ReadFile(filepath.Join(s.dir, "cursor"))
	if err != nil {
		return 0, 0, false
	}
	if len(b) != 20 || crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		s.log.Warn("clickhouse spool: cursor file is corrupt; replaying every segment")
		return 0, 0, false
	}
	return binary.LittleEndian.Uint64(b[0:8]), int64(binary.LittleEndian.Uint64(b[8:16])), true
}

func (s *spool) writeCursor(seg uint64, off int64) error {
	var b [20]byte
	binary.LittleEndian.PutUint64(b[0:8], seg)
	binary.LittleEndian.PutUint64(b[8:16], uint64(off))
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
	tmp := filepath.Join(s.dir, "cursor.tmp")
	if err := os.WriteFile(tmp, b[:], 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(s.dir, "cursor"))
}

// reset removes every segment and the cursor: the spool is empty. The
// cursor goes first, so a crash in between replays (never skips) segments.
func (s *spool) reset() error {
	if err := os.Remove(filepath.Join(s.dir, "cursor")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("clickhouse spool: %w", err)
	}
	s.closeFiles()
	for _, id := range s.segIDs {
		if err := os.Remove(filepath.Join(s.dir, segName(id))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("clickhouse spool: %w", err)
		}
	}
	s.segIDs = s.segIDs[:0]
	clear(s.segSize)
	s.recs = s.recs[:0]
	s.rows, s.bytes = 0, 0
	return nil
}

func (s *spool) closeFiles() {
	if s.active != nil {
		if err := s.syncLocked(); err != nil {
			s.log.Error("clickhouse spool: sync at close", "err", err)
		}
		s.active.Close()
		s.active = nil
	}
	if s.rf != nil {
		s.rf.Close()
		s.rf = nil
	}
}

// append writes b as one record at the end of the spool and syncs it.
func (s *spool) append(b *batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	frame := encodePayload(append(s.frame[:0], make([]byte, frameHeader)...), b)
	s.frame = frame[:0]
	plen := len(frame) - frameHeader
	if plen > maxRecordBytes {
		return fmt.Errorf("clickhouse spool: batch of %d bytes exceeds the record limit", plen)
	}
	binary.LittleEndian.PutUint32(frame[0:4], uint32(plen))
	binary.LittleEndian.PutUint32(frame[4:8], crc32.Checksum(frame[frameHeader:], castagnoli))
	if s.active == nil || s.segSize[s.activeID] >= s.segBytes {
		if err := s.roll(); err != nil {
			return err
		}
	}
	off := s.segSize[s.activeID]
	if _, err := s.active.WriteAt(frame, off); err != nil {
		_ = s.active.Truncate(off)
		return fmt.Errorf("clickhouse spool: %w", err)
	}
	s.dirty = true
	size := int64(len(frame))
	s.segSize[s.activeID] = off + size
	s.bytes += size
	s.rows += b.len()
	s.recs = append(s.recs, spoolRec{seg: s.activeID, off: off, size: int64(plen), tbl: b.tbl, rows: b.len(), firstAdded: b.firstAdded, seq: b.seq})
	if cap(s.frame) > 64<<20 {
		s.frame = nil // do not pin a huge buffer
	}
	return nil
}

// sync makes the appended records durable against an OS crash (a process
// crash loses nothing written). The flusher calls it after each round of
// appends, so one fsync covers many batches.
func (s *spool) sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncLocked()
}

func (s *spool) syncLocked() error {
	if !s.dirty || s.active == nil {
		return nil
	}
	if err := s.active.Sync(); err != nil {
		return fmt.Errorf("clickhouse spool: %w", err)
	}
	s.dirty = false
	return nil
}

// roll starts a new segment for appends.
func (s *spool) roll() error {
	if s.active != nil {
		if err := s.syncLocked(); err != nil {
			return err
		}
		if err := s.active.Close(); err != nil {
			return fmt.Errorf("clickhouse spool: %w", err)
		}
		s.active = nil
	}
	id := s.nextID
	f, err := os.OpenFile(filepath.Join(s.dir, segName(id)), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("clickhouse spool: %w", err)
	}
	if err := fsutil.SyncDir(s.dir); err != nil {
		f.Close()
		return fmt.Errorf("clickhouse spool: %w", err)
	}
	s.nextID++
	s.active, s.activeID = f, id
	s.segIDs = append(s.segIDs, id)
	s.segSize[id] = 0
	return nil
}

// errCorruptRecord is returned by peek for a record whose CRC or payload is
// bad; the record has been quarantined and skipped.
var errCorruptRecord = errors.New("clickhouse spool: corrupt record quarantined")

// peek returns the oldest unconsumed record, decoded. ok is false when the
// spool is empty. A record that fails its CRC or does not decode is moved to
// quarantine, consumed, and reported as errCorruptRecord with its meta.
func (s *spool) peek() (rec spoolRec, b *batch, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.recs) == 0 {
		return spoolRec{}, nil, false, nil
	}
	rec = s.recs[0]
	if s.rf == nil || s.rfID != rec.seg {
		if s.rf != nil {
			s.rf.Close()
			s.rf = nil
		}
		f, err := os.Open(filepath.Join(s.dir, segName(rec.seg)))
		if err != nil {
			return rec, nil, true, fmt.Errorf("clickhouse spool: %w", err)
		}
		s.rf, s.rfID = f, rec.seg
	}
	raw := make([]byte, frameHeader+rec.size)
	if _, err := s.rf.ReadAt(raw, rec.off); err != nil {
		return rec, nil, true, fmt.Errorf("clickhouse spool: reading %s@%d: %w", segName(rec.seg), rec.off, err)
	}
	payload := raw[frameHeader:]
	var derr error
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(raw[4:8]) {
		derr = errors.New("CRC mismatch")
	} else if b, derr = decodePayload(payload); derr == nil && b.len() != rec.rows {
		derr = fmt.Errorf("row count %d, header says %d", b.len(), rec.rows)
	}
	if derr != nil {
		q, qerr := s.writeQuarantine(rec.tbl.String(), raw)
		s.log.Error("clickhouse spool: corrupt record moved to quarantine", "segment", segName(rec.seg), "offset", rec.off,
			"rows", rec.rows, "table", rec.tbl.String(), "err", derr, "quarantine", q, "quarantine_err", qerr)
		if qerr != nil {
			return rec, nil, true, fmt.Errorf("clickhouse spool: cannot quarantine corrupt record: %w", qerr)
		}
		s.quarantine++
		if err := s.commitLocked(rec); err != nil {
			return rec, nil, true, err
		}
		return rec, nil, true, errCorruptRecord
	}
	b.seq = rec.seq
	return rec, b, true, nil
}

// commit marks the oldest record as inserted.
func (s *spool) commit(rec spoolRec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commitLocked(rec)
}

func (s *spool) commitLocked(rec spoolRec) error {
	if len(s.recs) == 0 || s.recs[0].seq != rec.seq {
		return fmt.Errorf("clickhouse spool: commit of record %d out of order", rec.seq)
	}
	s.recs = s.recs[1:]
	s.rows -= rec.rows
	if len(s.recs) == 0 {
		return s.reset()
	}
	next := s.recs[0]
	if err := s.writeCursor(next.seg, next.off); err != nil {
		return fmt.Errorf("clickhouse spool: cursor: %w", err)
	}
	for len(s.segIDs) > 0 && s.segIDs[0] < next.seg {
		id := s.segIDs[0]
		if s.rf != nil && s.rfID == id {
			s.rf.Close()
			s.rf = nil
		}
		if err := os.Remove(filepath.Join(s.dir, segName(id))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("clickhouse spool: %w", err)
		}
		s.bytes -= s.segSize[id]
		delete(s.segSize, id)
		s.segIDs = s.segIDs[1:]
	}
	return nil
}

// writeQuarantine stores raw bytes under quarantine/ and returns the path.
func (s *spool) writeQuarantine(what string, raw []byte) (string, error) {
	return writeQuarantineFile(filepath.Join(s.dir, "quarantine"), what, raw)
}

func writeQuarantineFile(dir, what string, raw []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("%d-%s.rec", time.Now().UnixNano(), what))
	return path, os.WriteFile(path, raw, 0o644)
}

// quarantineBatch stores a batch ClickHouse refused as a framed record.
func (s *spool) quarantineBatch(b *batch) (string, error) {
	payload := encodePayload(make([]byte, frameHeader), b)
	binary.LittleEndian.PutUint32(payload[0:4], uint32(len(payload)-frameHeader))
	binary.LittleEndian.PutUint32(payload[4:8], crc32.Checksum(payload[frameHeader:], castagnoli))
	return s.writeQuarantine(b.tbl.String(), payload)
}

// spoolStats is a snapshot for metrics.
type spoolStats struct {
	bytes      int64
	segments   int
	records    int
	rows       int
	oldest     int64 // Unix ns of the oldest firstAdded, 0 if empty
	quarantine int
}

func (s *spool) stats() spoolStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := spoolStats{bytes: s.bytes, segments: len(s.segIDs), records: len(s.recs), rows: s.rows, quarantine: s.quarantine}
	for i := range s.recs {
		if f := s.recs[i].firstAdded; st.oldest == 0 || f < st.oldest {
			st.oldest = f
		}
	}
	return st
}

// pendingSeqs appends the seqs of unconsumed records.
func (s *spool) pendingSeqs(dst []uint64) []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.recs {
		dst = append(dst, s.recs[i].seq)
	}
	return dst
}

// close releases files and the directory lock; unconsumed records stay.
func (s *spool) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeFiles()
	if s.lockf != nil {
		unlockDir(s.lockf)
		s.lockf = nil
	}
}
