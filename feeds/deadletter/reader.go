package deadletter

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxLineSize is the longest dead-letter line a Reader accepts: an original
// of up to 1 MiB (the NDJSON default) escaped at worst six bytes per byte,
// plus room.
const MaxLineSize = 8 << 20

// ErrLineTooLong is the Err of a LineError for a line over MaxLineSize.
var ErrLineTooLong = fmt.Errorf("line longer than %d bytes", MaxLineSize)

// LineError reports a line of a dead-letter file that is not a letter (a
// torn line after a crash, or a line written by something else). It is not
// fatal: the Reader goes on with the next line.
type LineError struct {
	Line int64 // 1-based line number
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("deadletter: line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Reader reads letters back from a dead-letter file, for tests and tools.
//
// It reads what FileSink writes: one letter per line, each line ending in
// "\n" (a "\r" before it is dropped too); blank lines are skipped but
// counted. The last line may lack its newline (a torn append): it is then
// not a letter and reported as a LineError. It reads its own files, not
// foreign NDJSON, so it needs none of feeds/ndjson's rules for input from
// other systems (and feeds packages do not import each other).
type Reader struct {
	br   *bufio.Reader
	buf  []byte
	line int64 // number of the last line read
	err  error // sticky read error
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next letter, io.EOF at the end, a *LineError for a line
// that is not a letter (call Next again to go on), or a read error.
func (r *Reader) Next() (Letter, error) {
	for {
		b, tooLong, err := r.readLine()
		if err != nil {
			return Letter{}, err
		}
		if tooLong {
			return Letter{}, &LineError{Line: r.line, Err: ErrLineTooLong}
		}
		if len(bytes.Trim(b, " \t\r")) == 0 {
			continue
		}
		var lt Letter
		if err := lt.UnmarshalJSON(b); err != nil {
			return Letter{}, &LineError{Line: r.line, Err: err}
		}
		return lt, nil
	}
}

// readLine returns the next line without its terminator. A line over
// MaxLineSize is consumed without being kept (memory stays bounded) and
// reported with tooLong.
func (r *Reader) readLine() (b []byte, tooLong bool, err error) {
	if r.err != nil {
		return nil, false, r.err
	}
	r.buf = r.buf[:0]
	read := 0
	for {
		chunk, err := r.br.ReadSlice('\n')
		read += len(chunk)
		if !tooLong && len(r.buf)+len(chunk) > MaxLineSize+2 { // + "\r\n"
			tooLong, r.buf = true, r.buf[:0]
		}
		if !tooLong {
			r.buf = append(r.buf, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && (!errors.Is(err, io.EOF) || read == 0) {
			r.err = err
			return nil, false, err
		}
		break
	}
	r.line++
	b = bytes.TrimSuffix(bytes.TrimSuffix(r.buf, []byte("\n")), []byte("\r"))
	return b, tooLong || len(b) > MaxLineSize, nil
}

// ReadFile returns every letter in the file at path. A line that is not a
// letter is an error (use a Reader to skip such lines).
func ReadFile(path string) ([]Letter, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := NewReader(f)
	var out []Letter
	for {
		l, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, l)
	}
}
