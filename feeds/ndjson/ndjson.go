// Package ndjson reads newline-delimited JSON (NDJSON, JSON Lines): it splits
// a byte stream into lines and yields each line's bytes with its 1-based line
// number and byte offset, without parsing the JSON (the caller's decoder
// does that, and reports bad JSON with the line number given here).
//
// Line rules, as a careful reader of files from many source systems needs:
//   - a line ends at "\n"; a "\r" just before it is removed too ("\r\n"
//     files from Windows tools);
//   - a final line without a newline is a line;
//   - a blank line (empty, or only spaces, tabs and "\r") is skipped but
//     counted, so line numbers match what an editor shows;
//   - a UTF-8 byte order mark at the very start of the stream is skipped
//     (RFC 8259 §8.1 lets parsers ignore it; some Windows tools write it);
//   - a line longer than Options.MaxLineSize bytes (not counting its line
//     terminator) is not delivered: it is reported as a *TooLongError with
//     its line number and size, skipped, and reading goes on. Memory use is
//     bounded by MaxLineSize however long the line.
package ndjson

import (
	"bytes"
	"context"
	"fmt"
	"io"
)

// Options configure a Reader. The zero value is valid: EnsureDefaults fills
// every zero field with the default documented on it.
type Options struct {
	// MaxLineSize is the longest line delivered, in bytes, not counting
	// "\n" or "\r\n". Default 1 MiB.
	MaxLineSize int
	// BufferSize is the initial read buffer size; the buffer grows up to
	// MaxLineSize+2 for long lines. Default 64 KiB.
	BufferSize int
}

// Defaults of Options fields.
const (
	DefaultMaxLineSize = 1 << 20
	DefaultBufferSize  = 64 << 10
)

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.MaxLineSize <= 0 {
		o.MaxLineSize = DefaultMaxLineSize
	}
	if o.BufferSize <= 0 {
		o.BufferSize = DefaultBufferSize
	}
}

// Line is one non-blank line.
type Line struct {
	// Bytes is the line without its terminator. It aliases the Reader's
	// buffer and is valid only until the next call to Next: copy it to keep
	// it.
	Bytes []byte
	// Number is the 1-based line number in the stream; blank and over-long
	// lines count.
	Number int64
	// Offset is the byte offset in the stream of the line's first byte.
	Offset int64
}

// TooLongError reports a line longer than Options.MaxLineSize. It is not
// fatal: the line was skipped and the Reader goes on.
type TooLongError struct {
	Number int64 // 1-based line number
	Offset int64 // byte offset of the line's first byte
	Size   int64 // the line's length, without its terminator
	Max    int   // Options.MaxLineSize
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("ndjson: line %d (offset %d) is %d bytes long, over the limit of %d", e.Number, e.Offset, e.Size, e.Max)
}

// Reader splits a stream into lines.
//
// Design: one buffer, filled by large reads and scanned with bytes.IndexByte
// (vectorized), so a line costs a search and no copy: Next returns a
// sub-slice of the buffer. The fast path is a whole line already buffered;
// refilling, growing the buffer for a long line, and skipping an over-long
// one are the slow paths.
type Reader struct {
	rd   io.Reader
	opts Options
	buf  []byte // buf[r:w] is read and not yet consumed
	r, w int
	scan int   // bytes of buf[r:w] already searched for '\n' without success
	base int64 // stream offset of buf[0]
	line int64 // number of the last line consumed
	eof  bool
	err  error // sticky read error
	bom  bool  // the start of the stream was checked for a byte order mark
}

// NewReader returns a Reader of rd.
func NewReader(rd io.Reader, opts Options) *Reader {
	opts.EnsureDefaults()
	return &Reader{rd: rd, opts: opts, buf: make([]byte, min(opts.BufferSize, opts.MaxLineSize+2))}
}

// Reset makes the Reader read from rd as a new stream, keeping its buffer.
func (r *Reader) Reset(rd io.Reader) {
	*r = Reader{rd: rd, opts: r.opts, buf: r.buf}
}

// InputOffset returns the stream offset just past the last line Next
// returned or skipped (with its terminator): where a resumed read of the same
// stream would start.
func (r *Reader) InputOffset() int64 { return r.base + int64(r.r) }

// LineNumber returns the number of lines consumed so far, blank and
// over-long ones included.
func (r *Reader) LineNumber() int64 { return r.line }

// Next returns the next non-blank line. At the end of the stream it returns
// io.EOF. For a line over the size limit it returns a *TooLongError (the
// Line holds only its Number and Offset); the caller may go on calling Next.
// Any other error comes from the underlying reader, and is returned again by
// every later call.
func (r *Reader) Next() (Line, error) {
	for {
		if !r.bom {
			if !r.eof && r.err == nil && r.w-r.r < 3 {
				r.fill()
				continue
			}
			r.bom = true
			if bytes.HasPrefix(r.buf[r.r:r.w], utf8BOM) {
				r.r += len(utf8BOM)
			}
		}
		// Fast path: a whole line is buffered.
		if i := bytes.IndexByte(r.buf[r.r+r.scan:r.w], '\n'); i >= 0 {
			end := r.r + r.scan + i
			l, ok, err := r.take(end, end+1)
			if ok || err != nil {
				return l, err
			}
			continue
		}
		r.scan = r.w - r.r
		if r.eof {
			if r.r == r.w {
				return Line{}, io.EOF
			}
			l, ok, err := r.take(r.w, r.w) // the final line has no newline
			if ok || err != nil {
				return l, err
			}
			continue
		}
		if r.err != nil {
			return Line{}, r.err
		}
		if r.w-r.r >= r.opts.MaxLineSize+2 {
			// Slow path: no newline within the limit (plus "\r\n").
			err := r.skipLong()
			return Line{Number: err.Number, Offset: err.Offset}, err
		}
		r.fill()
	}
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// take consumes the line buf[r:end], whose terminator ends at next, and
// returns it unless it is blank.
func (r *Reader) take(end, next int) (Line, bool, error) {
	start := r.r
	r.r, r.scan = next, 0
	r.line++
	b := r.buf[start:end]
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	off := r.base + int64(start)
	if len(b) > r.opts.MaxLineSize {
		return Line{Number: r.line, Offset: off}, false, &TooLongError{Number: r.line, Offset: off, Size: int64(len(b)), Max: r.opts.MaxLineSize}
	}
	if isBlank(b) {
		return Line{}, false, nil
	}
	return Line{Bytes: b, Number: r.line, Offset: off}, true, nil
}

// isBlank reports whether b holds only JSON whitespace.
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// skipLong discards the over-long line that fills the buffer, up to and
// including its newline, and reports it.
func (r *Reader) skipLong() *TooLongError {
	r.line++
	off := r.base + int64(r.r)
	size := int64(0)
	lastCR := false // the previous chunk ended in '\r'
	for {
		seg := r.buf[r.r:r.w]
		if i := bytes.IndexByte(seg, '\n'); i >= 0 {
			size += int64(i)
			if (i > 0 && seg[i-1] == '\r') || (i == 0 && lastCR) {
				size--
			}
			r.r += i + 1
			break
		}
		size += int64(len(seg))
		if len(seg) > 0 {
			lastCR = seg[len(seg)-1] == '\r'
		}
		r.r = r.w
		if r.eof || r.err != nil {
			if lastCR {
				size--
			}
			break
		}
		r.fill()
	}
	r.scan = 0
	return &TooLongError{Number: r.line, Offset: off, Size: size, Max: r.opts.MaxLineSize}
}

// fill reads more into the buffer, moving unconsumed bytes to its front and
// growing it (up to MaxLineSize+2) when it is full.
func (r *Reader) fill() {
	if r.r > 0 && (r.r == r.w || r.w == len(r.buf)) {
		copy(r.buf, r.buf[r.r:r.w])
		r.base += int64(r.r)
		r.w -= r.r
		r.r = 0
	}
	if r.w == len(r.buf) {
		n := min(2*len(r.buf), r.opts.MaxLineSize+2)
		if n <= len(r.buf) {
			n = len(r.buf) + 1 // only skipLong reads into a full buffer: make room
		}
		nb := make([]byte, n)
		copy(nb, r.buf[:r.w])
		r.buf = nb
	}
	for range 100 {
		n, err := r.rd.Read(r.buf[r.w:])
		r.w += n
		if err == io.EOF {
			r.eof = true
			return
		}
		if err != nil {
			r.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	r.err = io.ErrNoProgress
}

// ForEach calls fn for every non-blank line of rd, in order. For a line over
// the size limit it calls fn with the line's number and offset and a
// *TooLongError, and goes on. It stops at the end of the stream (returning
// nil), when fn returns an error (returning it unchanged), at a read error,
// or when ctx is done (returning ctx.Err()). Cancellation is checked before
// each line and each read; a Read already blocked in rd is not interrupted
// (an HTTP request body, for one, is closed when its request ends).
func ForEach(ctx context.Context, rd io.Reader, opts Options, fn func(l Line, err error) error) error {
	done := ctx.Done()
	r := NewReader(ctxReader{ctx, rd}, opts)
	for {
		if done != nil {
			select {
			case <-done:
				return ctx.Err()
			default:
			}
		}
		l, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if _, ok := err.(*TooLongError); !ok {
				return err // a read error, or ctx's from ctxReader
			}
		}
		if err := fn(l, err); err != nil {
			return err
		}
	}
}

// ctxReader fails reads once its context is done.
type ctxReader struct {
	ctx context.Context
	rd  io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.rd.Read(p)
}
