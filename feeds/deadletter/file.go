package deadletter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/creditrisk/creditd/feeds/internal/fsutil"
)

// Options configure a FileSink. The zero value is valid: EnsureDefaults
// fills every zero field with the default documented on it.
type Options struct {
	// Now stamps letters whose At is zero. Default time.Now.
	Now func() time.Time
	// BufferSize is how many bytes of letters are buffered before they are
	// written to the file; Sync writes what is buffered. Writes always
	// carry whole lines, so several processes may append to one file.
	// Default 64 KiB.
	BufferSize int
	// Logger receives the repair of a torn last line and I/O failures.
	// Default slog.Default().
	Logger *slog.Logger
}

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BufferSize <= 0 {
		o.BufferSize = 64 << 10
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// FileSink appends letters to an NDJSON file. It is safe for concurrent use.
//
// Write encodes into a buffer under a mutex; Sync is group commit as in
// feeds/wal: one caller runs fsync outside the mutex, callers arriving
// meanwhile share the next one.
type FileSink struct {
	path string
	opts Options

	mu      sync.Mutex
	cond    sync.Cond // broadcast when a Sync leaves fsync; L is &mu
	f       *os.File
	buf     []byte
	written int64 // letters written
	synced  int64 // letters durable
	syncing bool
	err     error // sticky failure
	closed  bool
}

var _ Sink = (*FileSink)(nil)

// OpenFile opens (creating it and its directory if needed) the dead-letter
// file at path for appending. If the file's last line is torn (a crash during
// a write that was never synced), a newline is added so that new letters
// start on a line of their own; the torn line is kept, and readers report it
// as malformed.
func OpenFile(path string, opts Options) (*FileSink, error) {
	opts.EnsureDefaults()
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("deadletter: %w", err)
	}
	created := true
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o640)
	if errors.Is(err, os.ErrExist) {
		created = false
		f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("deadletter: %w", err)
	}
	s := &FileSink{path: path, opts: opts, f: f, buf: make([]byte, 0, opts.BufferSize)}
	s.cond.L = &s.mu
	if created {
		err = fsutil.SyncDir(dir)
	} else {
		err = s.repairTail()
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("deadletter: %w", err)
	}
	return s, nil
}

// repairTail ends a torn last line with a newline.
func (s *FileSink) repairTail() error {
	fi, err := s.f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return nil
	}
	var last [1]byte
	if _, err := s.f.ReadAt(last[:], fi.Size()-1); err != nil && err != io.EOF {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	s.opts.Logger.Warn("deadletter: the file ends in a torn line; terminating it", "path", s.path, "size", fi.Size())
	if _, err := s.f.Write([]byte{'\n'}); err != nil {
		return err
	}
	return s.f.Sync()
}

// Path returns the file's path.
func (s *FileSink) Path() string { return s.path }

// Write implements Sink: it buffers l's line. l.Original is copied.
func (s *FileSink) Write(ctx context.Context, l Letter) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := l.Validate(); err != nil {
		return err
	}
	if l.At.IsZero() {
		l.At = s.opts.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.err != nil {
		return s.err
	}
	s.buf = append(l.AppendJSON(s.buf), '\n')
	s.written++
	if len(s.buf) >= s.opts.BufferSize {
		return s.flushLocked()
	}
	return nil
}

func (s *FileSink) flushLocked() error {
	if len(s.buf) == 0 {
		return nil
	}
	if _, err := s.f.Write(s.buf); err != nil {
		return s.fail(err)
	}
	s.buf = s.buf[:0]
	return nil
}

// fail makes err sticky: after a failed write or fsync the file's contents
// are unknown, so no later Sync may report success.
func (s *FileSink) fail(err error) error {
	if s.err == nil {
		s.err = fmt.Errorf("deadletter: %s failed, reopen it: %w", s.path, err)
		s.opts.Logger.Error("deadletter: sink failed", "path", s.path, "err", err)
	}
	return s.err
}

// Sync implements Sink: it writes buffered letters and fsyncs the file.
func (s *FileSink) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	target := s.written
	for {
		if s.err != nil {
			return s.err
		}
		if s.synced >= target {
			return nil
		}
		if s.closed {
			return ErrClosed
		}
		if !s.syncing {
			break
		}
		s.cond.Wait()
	}
	if err := s.flushLocked(); err != nil {
		return err
	}
	end := s.written
	s.syncing = true
	s.mu.Unlock()
	err := s.f.Sync()
	s.mu.Lock()
	s.syncing = false
	s.cond.Broadcast()
	if err != nil {
		return s.fail(err)
	}
	s.synced = max(s.synced, end)
	return nil
}

// Close implements Sink.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.syncing {
		s.cond.Wait()
	}
	if s.closed {
		return ErrClosed
	}
	s.closed = true
	s.cond.Broadcast()
	err := s.err
	if err == nil {
		if err = s.flushLocked(); err == nil {
			if err = s.f.Sync(); err == nil {
				s.synced = s.written
			}
		}
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}
