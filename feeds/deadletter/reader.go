package deadletter

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/creditrisk/creditd/feeds/ndjson"
)

// MaxLineSize is the longest dead-letter line a Reader accepts: an original
// of up to 1 MiB (the NDJSON default) escaped at worst six bytes per byte,
// plus room.
const MaxLineSize = 8 << 20

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
type Reader struct {
	nd *ndjson.Reader
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader {
	return &Reader{nd: ndjson.NewReader(r, ndjson.Options{MaxLineSize: MaxLineSize})}
}

// Next returns the next letter, io.EOF at the end, a *LineError for a line
// that is not a letter (call Next again to go on), or a read error.
func (r *Reader) Next() (Letter, error) {
	l, err := r.nd.Next()
	if err != nil {
		var tl *ndjson.TooLongError
		if errors.As(err, &tl) {
			return Letter{}, &LineError{Line: tl.Number, Err: err}
		}
		return Letter{}, err
	}
	var lt Letter
	if err := lt.UnmarshalJSON(l.Bytes); err != nil {
		return Letter{}, &LineError{Line: l.Number, Err: err}
	}
	return lt, nil
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
