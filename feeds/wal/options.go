package wal

import (
	"fmt"
	"log/slog"
)

// Options configure a Log. The zero value is valid: EnsureDefaults fills
// every zero field with the default documented on it.
type Options struct {
	// SegmentSize is the size in bytes at which the log starts a new
	// segment file. A segment holds at least one record, so a record larger
	// than this gets a segment of its own. Default 64 MiB.
	SegmentSize int64
	// BufferSize is how many bytes of appended records are buffered in
	// memory before they are written to the segment file; Sync writes what
	// is buffered. A record larger than the buffer is written directly.
	// Default 256 KiB.
	BufferSize int
	// MaxRecordSize is the largest record Append accepts, in bytes.
	// Default 16 MiB; at most MaxRecordSizeLimit.
	MaxRecordSize int
	// ReadBufferSize is the size of a Reader's buffer (grown for a larger
	// record). Default 1 MiB.
	ReadBufferSize int
	// FS is the file system. Default OSFS().
	FS FS
	// Salvage makes Open accept a last segment that is damaged before its
	// end (a record that does not decode, followed by one that does): the
	// bytes from the bad record on are moved to the log's damaged/
	// directory and the log continues after the last good record. The
	// records moved aside are no longer in the log. Without Salvage, Open
	// refuses such a log with a *CorruptionError and changes nothing.
	Salvage bool
	// Logger receives what recovery cut and why, and I/O failures.
	// Default slog.Default().
	Logger *slog.Logger
}

// Defaults of Options fields.
const (
	DefaultSegmentSize    = 64 << 20
	DefaultBufferSize     = 256 << 10
	DefaultMaxRecordSize  = 16 << 20
	DefaultReadBufferSize = 1 << 20
)

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.BufferSize == 0 {
		o.BufferSize = DefaultBufferSize
	}
	if o.MaxRecordSize == 0 {
		o.MaxRecordSize = DefaultMaxRecordSize
	}
	if o.ReadBufferSize == 0 {
		o.ReadBufferSize = DefaultReadBufferSize
	}
	if o.FS == nil {
		o.FS = OSFS()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// validate reports fields out of range after EnsureDefaults.
func (o *Options) validate() error {
	switch {
	case o.SegmentSize < 0:
		return fmt.Errorf("wal: SegmentSize %d is negative", o.SegmentSize)
	case o.BufferSize < 0:
		return fmt.Errorf("wal: BufferSize %d is negative", o.BufferSize)
	case o.MaxRecordSize < 0 || o.MaxRecordSize > MaxRecordSizeLimit:
		return fmt.Errorf("wal: MaxRecordSize %d is outside 0..%d", o.MaxRecordSize, MaxRecordSizeLimit)
	case o.ReadBufferSize < 0:
		return fmt.Errorf("wal: ReadBufferSize %d is negative", o.ReadBufferSize)
	}
	return nil
}
