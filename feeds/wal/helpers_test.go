package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
)

// testOptions are small sizes that make every path (rollover, buffer
// flushes, write-through of large records, reader refills) run often.
func testOptions(fsys FS) Options {
	return Options{
		FS:             fsys,
		SegmentSize:    1024,
		BufferSize:     128,
		ReadBufferSize: 64,
		MaxRecordSize:  4096,
		Logger:         slog.New(slog.DiscardHandler),
	}
}

// payload returns a deterministic record for sequence number i of size n,
// distinguishable from every other (i, n).
func payload(i, n int) []byte {
	b := make([]byte, n)
	var seed [8]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(i)*0x9e3779b97f4a7c15+uint64(n))
	for j := range b {
		b[j] = seed[j%8] ^ byte(j*31)
	}
	if n >= 8 {
		binary.LittleEndian.PutUint64(b, uint64(i))
	}
	return b
}

// replayAll returns copies of the records from position from.
func replayAll(t testing.TB, l *Log, from Position) [][]byte {
	t.Helper()
	var got [][]byte
	want := from
	err := l.Replay(from, func(p Position, rec []byte) error {
		if p != want {
			return fmt.Errorf("record at position %d, want %d", p, want)
		}
		want++
		got = append(got, bytes.Clone(rec))
		return nil
	})
	if err != nil {
		t.Fatalf("Replay(%d): %v", from, err)
	}
	return got
}

// checkRecords compares got against want[from:].
func checkRecords(t testing.TB, got, want [][]byte, from Position) {
	t.Helper()
	if len(got) != len(want)-int(from) {
		t.Fatalf("replayed %d records from %d, want %d", len(got), from, len(want)-int(from))
	}
	for i, g := range got {
		if !bytes.Equal(g, want[int(from)+i]) {
			t.Fatalf("record at position %d differs: got %d bytes %x..., want %d bytes", int(from)+i, len(g), g[:min(len(g), 16)], len(want[int(from)+i]))
		}
	}
}

func mustOpen(t testing.TB, dir string, opts Options) *Log {
	t.Helper()
	l, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

// refDecode is a deliberately naive decoder of a segment's record area: the
// records of the longest valid prefix. The fuzz test checks the real one
// against it.
func refDecode(data []byte) [][]byte {
	var recs [][]byte
	for {
		if len(data) < 8 {
			return recs
		}
		n := binary.LittleEndian.Uint32(data[4:])
		if uint64(n) > uint64(len(data)-8) || n > MaxRecordSizeLimit {
			return recs
		}
		p := data[8 : 8+n]
		if binary.LittleEndian.Uint32(data) != recordChecksum(data[4:8+n]) {
			return recs
		}
		recs = append(recs, p)
		data = data[8+n:]
	}
}

// refFollows is a deliberately naive answer to "does a whole, valid frame
// start at any offset of data": what makes recovery refuse rather than cut.
func refFollows(data []byte) bool {
	for o := range data {
		rest := data[o:]
		if len(rest) < 8 {
			return false
		}
		n := uint64(binary.LittleEndian.Uint32(rest[4:]))
		if n <= uint64(len(rest)-8) && binary.LittleEndian.Uint32(rest) == recordChecksum(rest[4:8+n]) {
			return true
		}
	}
	return false
}

// gateFS wraps an FS so that a test can hold file Syncs in fdatasync.
type gateFS struct {
	FS
	entered chan struct{} // receives when a Sync starts waiting, if gated
	release chan struct{} // closed to let gated Syncs finish
	gated   func() bool
}

type gateFile struct {
	File
	g *gateFS
}

func (g *gateFS) Create(name string) (File, error) {
	f, err := g.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return gateFile{f, g}, nil
}

func (g *gateFS) OpenAppend(name string) (File, error) {
	f, err := g.FS.OpenAppend(name)
	if err != nil {
		return nil, err
	}
	return gateFile{f, g}, nil
}

func (f gateFile) Sync() error {
	if f.g.gated() {
		f.g.entered <- struct{}{}
		<-f.g.release
	}
	return f.File.Sync()
}

// failFS makes writes or syncs fail on demand.
type failFS struct {
	FS
	failWrite, failSync func() bool
}

type failFile struct {
	File
	fs *failFS
}

var errInjected = errors.New("injected I/O error")

func (f *failFS) Create(name string) (File, error) {
	fl, err := f.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return failFile{fl, f}, nil
}

func (f *failFS) OpenAppend(name string) (File, error) {
	fl, err := f.FS.OpenAppend(name)
	if err != nil {
		return nil, err
	}
	return failFile{fl, f}, nil
}

func (f failFile) Write(p []byte) (int, error) {
	if f.fs.failWrite != nil && f.fs.failWrite() {
		return 0, errInjected
	}
	return f.File.Write(p)
}

func (f failFile) Sync() error {
	if f.fs.failSync != nil && f.fs.failSync() {
		return errInjected
	}
	return f.File.Sync()
}

var _ io.Writer = failFile{}
