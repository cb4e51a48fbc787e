package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"path/filepath"
	"slices"
)

// ErrTruncated is returned (wrapped) when reading from a position whose
// segment was deleted by TruncateBefore.
var ErrTruncated = errors.New("wal: position is before the oldest retained record")

// ErrBeyondEnd is returned (wrapped) when reading from a position after the
// last record.
var ErrBeyondEnd = errors.New("wal: position is after the last record")

// Reader reads records in log order, starting at a position.
//
// Design: a segment is read sequentially into one large reusable buffer
// (Options.ReadBufferSize, default 1 MiB, grown only for a larger record) and
// records are decoded in place: Record returns a sub-slice of that buffer, so
// replay costs one copy out of the page cache, one CRC-32C pass (hardware
// accelerated) and no allocation per record. The fast path, a whole record
// already buffered, is a few loads and compares; refilling and moving to the
// next segment are the slow path.
//
// A Reader from (*Log).NewReader sees the records that existed when it was
// created; one from OpenReader reads what is on disk, up to a torn tail of
// the last segment; damage followed by a valid record is a *CorruptionError
// in any segment. A Reader is not safe for concurrent use.
type Reader struct {
	fs      FS
	dir     string
	segs    []Position // first positions of the segments to read, ascending
	end     Position   // bounded: stop before this position
	bounded bool       // false: read to the end of the last segment, stopping quietly at a torn tail
	from    Position   // records before it are decoded and checked but not returned

	idx  int  // index in segs of the open segment, or -1
	f    File // open segment, nil between segments
	name string
	size int64  // segment size when opened
	base int64  // segment offset of buf[0]
	buf  []byte // buf[r:w] is read and not yet decoded
	r, w int

	pos    Position // position of the next record to decode
	rec    []byte
	recPos Position
	err    error
	done   bool
	tail   *Recovery // where an unbounded read stopped early, if it did
}

func newReader(fsys FS, dir string, segs []Position, from Position, bufSize int) *Reader {
	// Start in the last segment whose first record is at or before from.
	i, found := slices.BinarySearch(segs, from)
	if !found {
		i--
	}
	return &Reader{fs: fsys, dir: dir, segs: segs[i:], from: from, pos: segs[i], idx: -1, buf: make([]byte, bufSize)}
}

// OpenReader reads the log in dir from position from without opening it for
// writing: for tools, and for reading a log that another process owns. It
// stops at the end of the last segment or quietly at a torn tail there
// (which the writer's recovery would cut); corruption, in an older segment or
// before valid records of the last one, is an error. Only opts.FS and opts.ReadBufferSize are used.
func OpenReader(dir string, from Position, opts Options) (*Reader, error) {
	opts.EnsureDefaults()
	segs, err := listSegments(opts.FS, dir)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("wal: no segments in %s", dir)
	}
	if from < segs[0] {
		return nil, fmt.Errorf("%w: position %d, oldest retained is %d", ErrTruncated, from, segs[0])
	}
	return newReader(opts.FS, dir, segs, from, opts.ReadBufferSize), nil
}

// Next decodes the next record and reports whether there is one. After it
// returns false, Err says whether the read ended in an error.
func (r *Reader) Next() bool {
	for {
		if r.done || r.err != nil {
			return false
		}
		if r.bounded && r.pos >= r.end {
			r.finish()
			return false
		}
		if r.f == nil {
			r.openNext()
			continue
		}
		// Fast path: a whole record in the buffer.
		avail := r.w - r.r
		need := recordHeaderSize
		if avail >= recordHeaderSize {
			h := r.buf[r.r : r.r+recordHeaderSize]
			n := int64(binary.LittleEndian.Uint32(h[4:8]))
			left := r.size - (r.base + int64(r.r) + recordHeaderSize)
			switch {
			case n > MaxRecordSizeLimit:
				r.bad(fmt.Sprintf("record length %d exceeds the format limit %d", n, MaxRecordSizeLimit))
				return false
			case n > left:
				r.bad(fmt.Sprintf("record of %d bytes runs past the end of the segment (%d bytes left): partial record", n, left))
				return false
			}
			need = recordHeaderSize + int(n)
			if avail >= need {
				start := r.r
				if binary.LittleEndian.Uint32(h[0:4]) != recordChecksum(r.buf[start+4:start+need]) {
					r.bad("checksum mismatch")
					return false
				}
				r.r += need
				p := r.pos
				r.pos++
				if p < r.from {
					continue
				}
				r.rec, r.recPos = r.buf[start+recordHeaderSize:start+need], p
				return true
			}
		}
		// Slow path: need more bytes, or the segment is done.
		if r.base+int64(r.w) >= r.size {
			if avail == 0 {
				r.closeSegment()
				continue
			}
			r.bad(fmt.Sprintf("partial record header (%d bytes)", avail))
			return false
		}
		r.fill(need)
	}
}

// Record returns the payload of the current record. It aliases the Reader's
// buffer and is valid only until the next call to Next: copy it to keep it.
func (r *Reader) Record() []byte { return r.rec }

// Position returns the position of the current record.
func (r *Reader) Position() Position { return r.recPos }

// Err returns the error that ended the read, or nil.
func (r *Reader) Err() error { return r.err }

// Close releases the open segment file.
func (r *Reader) Close() error {
	r.done = true
	if r.f != nil {
		err := r.f.Close()
		r.f = nil
		return err
	}
	return nil
}

// fill reads until buf[r:w] holds need bytes or the segment (as of its size
// when opened) is exhausted.
func (r *Reader) fill(need int) {
	if r.r > 0 {
		copy(r.buf, r.buf[r.r:r.w])
		r.base += int64(r.r)
		r.w -= r.r
		r.r = 0
	}
	if need > len(r.buf) {
		nb := make([]byte, max(need, 2*len(r.buf)))
		copy(nb, r.buf[:r.w])
		r.buf = nb
	}
	for r.w < need {
		left := r.size - (r.base + int64(r.w))
		if left <= 0 {
			return
		}
		dst := r.buf[r.w:]
		if int64(len(dst)) > left {
			dst = dst[:left]
		}
		n, err := r.f.Read(dst)
		r.w += n
		if err == io.EOF && n == 0 {
			// Shorter than when opened: someone truncated it.
			r.size = r.base + int64(r.w)
			return
		}
		if err != nil && err != io.EOF {
			r.err = fmt.Errorf("wal: reading segment %s: %w", r.name, err)
			return
		}
	}
}

// isLast reports whether the open segment is the last one to read.
func (r *Reader) isLast() bool { return r.idx == len(r.segs)-1 }

// bad handles a record that does not decode at the current offset: a
// quietly recorded torn tail when reading the last segment of a log that may
// have crashed and no valid record follows (see tail.go), corruption
// otherwise.
func (r *Reader) bad(reason string) {
	off := r.base + int64(r.r)
	if !r.bounded && r.isLast() {
		if r.err = classifyDamage(r.fs, r.dir, r.name, off, off+1, r.pos, reason); r.err != nil {
			return
		}
		r.tail = &Recovery{Segment: r.name, ValidBytes: off, CutBytes: r.size - off, Reason: reason}
		r.finish()
		return
	}
	r.err = &CorruptionError{Segment: r.name, Offset: off, Position: r.pos, Reason: reason}
}

// finish ends the read normally.
func (r *Reader) finish() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	r.done = true
	if !r.bounded && r.pos < r.from {
		r.err = fmt.Errorf("%w: position %d, the log ends at %d", ErrBeyondEnd, r.from, r.pos)
	}
}

// closeSegment is called at the clean end of a segment.
func (r *Reader) closeSegment() {
	r.f.Close()
	r.f = nil
	if r.isLast() {
		if r.bounded {
			// Records up to end existed when the Reader was made.
			r.err = &CorruptionError{Segment: r.name, Offset: r.base + int64(r.w), Position: r.pos,
				Reason: fmt.Sprintf("segment ends at position %d, before the log end %d", r.pos, r.end)}
			return
		}
		r.finish()
	}
}

// openNext opens the next segment and checks its header.
func (r *Reader) openNext() {
	r.idx++
	first := r.segs[r.idx]
	r.name = segmentName(first)
	f, err := r.fs.Open(filepath.Join(r.dir, r.name))
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			r.err = fmt.Errorf("%w: segment %s was deleted while reading: %v", ErrTruncated, r.name, err)
		} else {
			r.err = fmt.Errorf("wal: opening segment %s: %w", r.name, err)
		}
		return
	}
	size, err := f.Size()
	if err != nil {
		f.Close()
		r.err = fmt.Errorf("wal: segment %s: %w", r.name, err)
		return
	}
	r.f, r.size, r.base, r.r, r.w = f, size, 0, 0, 0
	r.fill(segmentHeaderSize)
	if r.err != nil {
		return
	}
	hp, err := decodeSegmentHeader(r.buf[:r.w])
	if err != nil {
		if !r.bounded && r.isLast() {
			// A header that does not check out with no valid record after
			// it is a creation torn by a crash (or a zero-filled file).
			if r.err = classifyDamage(r.fs, r.dir, r.name, 0, segmentHeaderSize, first, err.Error()); r.err != nil {
				return
			}
			r.tail = &Recovery{Segment: r.name, ValidBytes: 0, CutBytes: r.size, Reason: "torn segment header: " + err.Error()}
			r.pos = first
			r.finish()
			return
		}
		r.err = &CorruptionError{Segment: r.name, Position: first, Reason: err.Error()}
		return
	}
	if hp != first {
		r.err = &CorruptionError{Segment: r.name, Position: first,
			Reason: fmt.Sprintf("header says the first position is %d, the file name says %d", hp, first)}
		return
	}
	if r.idx > 0 && first != r.pos {
		r.err = &CorruptionError{Segment: r.name, Position: r.pos,
			Reason: fmt.Sprintf("gap in the log: segment starts at position %d, the previous one ended at %d", first, r.pos)}
		return
	}
	r.pos = first
	r.r = segmentHeaderSize
}
