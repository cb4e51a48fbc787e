package wal

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sync"
)

// ErrClosed is returned by calls on a closed Log.
var ErrClosed = errors.New("wal: log is closed")

// ErrRecordTooLarge is returned (wrapped) by Append for a record longer than
// Options.MaxRecordSize.
var ErrRecordTooLarge = errors.New("wal: record too large")

// Log is an open write-ahead log. Its methods are safe for concurrent use.
//
// Design: Append only encodes the frame into a buffer under one mutex, so the
// hot path costs a CRC pass and a copy; the buffer goes to the file when it
// fills (one write(2) per BufferSize bytes) and at Sync. Sync is group
// commit: one caller at a time runs fdatasync outside the mutex while
// appends continue into the buffer, and callers arriving meanwhile wait and
// are covered by the next fdatasync, so N concurrent acknowledgements cost
// about two fsyncs, not N.
type Log struct {
	dir      string
	opts     Options
	fs       FS
	lock     io.Closer
	recovery Recovery

	truncMu sync.Mutex // serializes TruncateBefore

	mu       sync.Mutex
	cond     sync.Cond  // broadcast when a Sync leaves fdatasync; L is &mu
	segs     []Position // first position of each segment, ascending; the last is active
	f        File       // the active segment, open for append
	segSize  int64      // bytes in the active segment, buffered ones included
	buf      []byte     // frames appended but not yet written to f
	next     Position   // position of the next record
	synced   Position   // records before it are durable
	syncing  bool       // a Sync is in fdatasync, outside mu
	syncFile File       // the file that Sync is syncing
	err      error      // sticky failure
	closed   bool
	syncs    uint64
}

// Recovery describes the end of the last segment as Open found it.
type Recovery struct {
	Segment    string // file name of the last segment
	Records    int64  // valid records kept in it
	ValidBytes int64  // size of the valid part, where the cut was made (0 if the header itself was torn and rewritten)
	CutBytes   int64  // bytes cut after the last valid record (0 after a clean shutdown)
	Reason     string // why decoding stopped early; empty if nothing was cut
	// SetAside is the file under the log's damaged/ directory that holds
	// the cut bytes; empty if nothing was cut or they were all zero.
	SetAside string
	// Damaged is true when the cut was not a torn tail but damage before
	// valid records, accepted only because Options.Salvage was set.
	Damaged bool
}

// Open opens the log in dir, creating the directory and a first segment
// (starting at position 0) if there is none, and recovers it: the last
// segment is scanned and a torn tail (damage with no valid record after it,
// what a crash during an unsynced write leaves) is cut after the last valid
// record; cut bytes that are not all zero are kept under dir/damaged/, and
// what was cut is logged and reported by Recovery. Damage followed by a valid
// record is a *CorruptionError naming the segment and offset, unless
// Options.Salvage is set. It takes an exclusive lock on the
// directory for as long as the Log is open.
func Open(dir string, opts Options) (*Log, error) {
	opts.EnsureDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if err := opts.FS.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	lock, err := opts.FS.Lock(filepath.Join(dir, lockName))
	if err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	l := &Log{dir: dir, opts: opts, fs: opts.FS, lock: lock, buf: make([]byte, 0, opts.BufferSize)}
	l.cond.L = &l.mu
	if err := l.recover(); err != nil {
		if l.f != nil {
			l.f.Close()
		}
		lock.Close()
		return nil, err
	}
	return l, nil
}

// listSegments returns the first positions of the segments in dir, ascending.
func listSegments(fsys FS, dir string) ([]Position, error) {
	names, err := fsys.List(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	var segs []Position
	for _, n := range names {
		if p, ok := parseSegmentName(n); ok {
			segs = append(segs, p)
		}
	}
	slices.Sort(segs)
	return segs, nil
}

func (l *Log) recover() error {
	segs, err := listSegments(l.fs, l.dir)
	if err != nil {
		return err
	}
	if len(segs) == 0 {
		l.recovery = Recovery{Segment: segmentName(0)}
		return l.createSegment(0)
	}
	l.segs = segs
	first := segs[len(segs)-1]
	name := segmentName(first)
	path := filepath.Join(l.dir, name)

	rd := newReader(l.fs, l.dir, segs[len(segs)-1:], first, l.opts.ReadBufferSize)
	var n int64
	for rd.Next() {
		n++
	}
	damaged := false
	if err := rd.Err(); err != nil {
		var ce *CorruptionError
		if !l.opts.Salvage || !errors.As(err, &ce) || ce.Segment != name {
			return err
		}
		// Salvage: treat the damage like a torn tail, but keep every byte
		// from the bad record on, even zeros, and say so loudly.
		rd.tail, damaged = &Recovery{ValidBytes: ce.Offset, Reason: ce.Reason}, true
		rd.pos = ce.Position
	}

	f, err := l.fs.OpenAppend(path)
	if err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	l.f = f
	size, err := f.Size()
	if err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	l.recovery = Recovery{Segment: name, Records: n, ValidBytes: size}
	l.segSize = size
	if t := rd.tail; t != nil {
		aside, err := setAside(l.fs, l.dir, name, t.ValidBytes, damaged)
		if err != nil {
			return fmt.Errorf("wal: keeping the cut bytes of segment %s: %w", name, err)
		}
		l.recovery.ValidBytes, l.recovery.CutBytes, l.recovery.Reason = t.ValidBytes, size-t.ValidBytes, t.Reason
		l.recovery.SetAside, l.recovery.Damaged = aside, damaged
		attrs := []any{"dir", l.dir, "segment", name, "offset", t.ValidBytes, "cut_bytes", size - t.ValidBytes,
			"reason", t.Reason, "records_kept", n, "next_position", uint64(rd.pos), "set_aside", aside}
		if damaged {
			l.opts.Logger.Error("wal: salvage: moved the damaged remainder of the last segment aside; the records in it are not in the log", attrs...)
		} else {
			l.opts.Logger.Warn("wal: cut the torn tail of the last segment (an unacknowledged write interrupted by a crash)", attrs...)
		}
		if err := f.Truncate(t.ValidBytes); err != nil {
			return fmt.Errorf("wal: cutting torn tail: %w", err)
		}
		l.segSize = t.ValidBytes
		if t.ValidBytes < segmentHeaderSize {
			h := encodeSegmentHeader(first)
			if _, err := f.Write(h[:]); err != nil {
				return fmt.Errorf("wal: rewriting segment header: %w", err)
			}
			l.segSize = segmentHeaderSize
		}
	}
	// What recovery read may be only in the page cache (the previous
	// process died, the machine did not): make it durable before anything
	// is built on it.
	if err := f.Sync(); err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	l.next, l.synced = rd.pos, rd.pos
	return nil
}

// createSegment starts a new active segment whose first record is first. The
// header is synced before the directory entry, so a segment that exists after
// a crash has a whole header unless it was never synced at all.
func (l *Log) createSegment(first Position) error {
	path := filepath.Join(l.dir, segmentName(first))
	f, err := l.fs.Create(path)
	if err != nil {
		return fmt.Errorf("wal: creating segment: %w", err)
	}
	h := encodeSegmentHeader(first)
	if _, err := f.Write(h[:]); err != nil {
		f.Close()
		return fmt.Errorf("wal: writing segment header: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("wal: %w", err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		f.Close()
		return fmt.Errorf("wal: %w", err)
	}
	l.f = f
	l.segs = append(l.segs, first)
	l.segSize = segmentHeaderSize
	return nil
}

// writable reports why the log cannot take writes, if it cannot.
func (l *Log) writable() error {
	if l.closed {
		return ErrClosed
	}
	return l.err
}

// fail makes err the log's sticky failure and returns it.
func (l *Log) fail(err error) error {
	if l.err == nil {
		l.err = fmt.Errorf("wal: log failed, close and reopen it to recover: %w", err)
		l.opts.Logger.Error("wal: log failed", "dir", l.dir, "err", err)
	}
	return l.err
}

// Append adds rec to the log and returns its position. The record is not
// durable until Sync returns: acknowledge it only after that. Append keeps
// no reference to rec.
func (l *Log) Append(rec []byte) (Position, error) {
	if len(rec) > l.opts.MaxRecordSize {
		return 0, fmt.Errorf("%w: %d bytes, the limit is %d", ErrRecordTooLarge, len(rec), l.opts.MaxRecordSize)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return 0, err
	}
	return l.appendLocked(rec)
}

// AppendBatch adds recs to the log at consecutive positions and returns the
// position of the first (the others follow it). Either every record is
// appended or, on a size error, none is.
func (l *Log) AppendBatch(recs [][]byte) (Position, error) {
	for i, rec := range recs {
		if len(rec) > l.opts.MaxRecordSize {
			return 0, fmt.Errorf("%w: record %d of the batch has %d bytes, the limit is %d", ErrRecordTooLarge, i, len(rec), l.opts.MaxRecordSize)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return 0, err
	}
	first := l.next
	for _, rec := range recs {
		if _, err := l.appendLocked(rec); err != nil {
			return 0, err
		}
	}
	return first, nil
}

// appendLocked encodes one record. Fast path: the frame fits in the buffer.
func (l *Log) appendLocked(rec []byte) (Position, error) {
	frame := recordHeaderSize + len(rec)
	if l.segSize+int64(frame) > l.opts.SegmentSize && l.segSize > segmentHeaderSize {
		if err := l.rollLocked(); err != nil {
			return 0, err
		}
	}
	if len(l.buf)+frame > cap(l.buf) {
		if err := l.flushLocked(); err != nil {
			return 0, err
		}
	}
	if frame <= cap(l.buf) {
		l.buf = appendRecord(l.buf, rec)
	} else {
		// Slow path: larger than the whole buffer, so write it through.
		h := recordHeader(rec)
		if _, err := l.f.Write(h[:]); err != nil {
			return 0, l.fail(err)
		}
		if _, err := l.f.Write(rec); err != nil {
			return 0, l.fail(err)
		}
	}
	l.segSize += int64(frame)
	p := l.next
	l.next++
	return p, nil
}

// flushLocked writes the buffer to the active segment.
func (l *Log) flushLocked() error {
	if len(l.buf) == 0 {
		return nil
	}
	if _, err := l.f.Write(l.buf); err != nil {
		return l.fail(err)
	}
	l.buf = l.buf[:0]
	return nil
}

// rollLocked finishes the active segment (written and synced, so only the
// last segment can ever be torn) and starts the next one. If a Sync is in
// fdatasync on the old file, that Sync closes it when done; rollover does not
// wait for it, so a batch's positions stay consecutive.
func (l *Log) rollLocked() error {
	if err := l.flushLocked(); err != nil {
		return err
	}
	old := l.f
	if err := old.Sync(); err != nil {
		return l.fail(err)
	}
	l.syncs++
	l.synced = l.next
	if old != l.syncFile {
		if err := old.Close(); err != nil {
			return l.fail(err)
		}
	}
	if err := l.createSegment(l.next); err != nil {
		return l.fail(err)
	}
	return nil
}

// Sync makes every record appended before the call durable: it writes the
// buffer and calls fdatasync. Concurrent calls coalesce into shared
// fdatasyncs (group commit). After Sync returns nil, records appended
// before it was called survive a crash.
func (l *Log) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	target := l.next
	for {
		if l.err != nil {
			return l.err
		}
		if l.synced >= target {
			return nil
		}
		if l.closed {
			return ErrClosed
		}
		if !l.syncing {
			break
		}
		l.cond.Wait()
	}
	if err := l.flushLocked(); err != nil {
		return err
	}
	end, f := l.next, l.f
	l.syncing, l.syncFile = true, f
	l.mu.Unlock()
	err := f.Sync()
	l.mu.Lock()
	l.syncing, l.syncFile = false, nil
	l.cond.Broadcast()
	if f != l.f {
		f.Close() // retired by a rollover while we synced; it synced it too
	}
	if err != nil {
		return l.fail(err)
	}
	l.syncs++
	l.synced = max(l.synced, end)
	return nil
}

// Close syncs and closes the log and releases its directory lock. It returns
// the log's failure, if it had failed.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.syncing {
		l.cond.Wait()
	}
	if l.closed {
		return ErrClosed
	}
	l.closed = true
	l.cond.Broadcast()
	err := l.err
	if err == nil {
		if err = l.flushLocked(); err == nil {
			if err = l.f.Sync(); err == nil {
				l.synced = l.next
			}
		}
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if cerr := l.lock.Close(); err == nil {
		err = cerr
	}
	return err
}

// TruncateBefore deletes the segments whose records all lie before pos,
// typically after a snapshot at pos made them unnecessary. The active
// segment is never deleted, so records from pos on stay readable. Segments
// are deleted oldest first and the directory is synced after each, so a crash
// leaves a contiguous log. A Reader still reading a deleted segment fails
// with ErrTruncated.
func (l *Log) TruncateBefore(pos Position) error {
	l.truncMu.Lock()
	defer l.truncMu.Unlock()

	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	if pos > l.next {
		next := l.next
		l.mu.Unlock()
		return fmt.Errorf("%w: cannot truncate before %d, the log ends at %d", ErrBeyondEnd, pos, next)
	}
	var victims []Position
	for i := 0; i+1 < len(l.segs) && l.segs[i+1] <= pos; i++ {
		victims = append(victims, l.segs[i])
	}
	l.mu.Unlock()

	var err error
	removed := 0
	for _, v := range victims {
		if err = l.fs.Remove(filepath.Join(l.dir, segmentName(v))); err != nil {
			err = fmt.Errorf("wal: deleting segment: %w", err)
			break
		}
		removed++
		if err = l.fs.SyncDir(l.dir); err != nil {
			err = fmt.Errorf("wal: %w", err)
			break
		}
	}
	l.mu.Lock()
	l.segs = slices.Delete(l.segs, 0, removed)
	l.mu.Unlock()
	return err
}

// NewReader returns a Reader of the records from position from to the end of
// the log as of this call, synced or not. Reading before the oldest retained
// record fails with ErrTruncated, after the end with ErrBeyondEnd.
func (l *Log) NewReader(from Position) (*Reader, error) {
	l.mu.Lock()
	if err := l.writable(); err != nil {
		l.mu.Unlock()
		return nil, err
	}
	// Readers read files: put buffered records there.
	if err := l.flushLocked(); err != nil {
		l.mu.Unlock()
		return nil, err
	}
	segs, end := slices.Clone(l.segs), l.next
	l.mu.Unlock()
	if from < segs[0] {
		return nil, fmt.Errorf("%w: position %d, oldest retained is %d", ErrTruncated, from, segs[0])
	}
	if from > end {
		return nil, fmt.Errorf("%w: position %d, the log ends at %d", ErrBeyondEnd, from, end)
	}
	r := newReader(l.fs, l.dir, segs, from, l.opts.ReadBufferSize)
	r.bounded, r.end = true, end
	return r, nil
}

// Replay calls fn for each record from position from to the end of the log
// as of the call, in order. rec aliases a read buffer and is valid only
// during the call. An error from fn stops the replay and is returned as is;
// a damaged segment gives a *CorruptionError.
func (l *Log) Replay(from Position, fn func(pos Position, rec []byte) error) error {
	r, err := l.NewReader(from)
	if err != nil {
		return err
	}
	defer r.Close()
	for r.Next() {
		if err := fn(r.Position(), r.Record()); err != nil {
			return err
		}
	}
	return r.Err()
}

// Next returns the position the next appended record will get: the number
// of records ever appended.
func (l *Log) Next() Position {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.next
}

// Recovery returns what Open found at the end of the log.
func (l *Log) Recovery() Recovery { return l.recovery }

// Dir returns the log's directory.
func (l *Log) Dir() string { return l.dir }

// Stats is a snapshot of a Log's state, for metrics.
type Stats struct {
	First              Position // oldest retained record
	Next               Position // position of the next record
	Synced             Position // records before it are durable
	Segments           int      // segment files
	ActiveSegmentBytes int64    // size of the active segment, buffered bytes included
	Syncs              uint64   // fdatasyncs of segments since Open (Sync and rollover)
}

// Stats returns the log's current state.
func (l *Log) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Stats{
		First: l.segs[0], Next: l.next, Synced: l.synced, Segments: len(l.segs),
		ActiveSegmentBytes: l.segSize, Syncs: l.syncs,
	}
}
