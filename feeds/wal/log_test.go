package wal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	type fsCase struct {
		name string
		mk   func(t *testing.T) (FS, string)
	}
	fss := []fsCase{
		{"mem", func(t *testing.T) (FS, string) { return NewMemFS(), "/log" }},
		{"os", func(t *testing.T) (FS, string) { return OSFS(), filepath.Join(t.TempDir(), "log") }},
	}
	sizes := []struct {
		name  string
		sizes []int
	}{
		{"empty records", []int{0, 0, 0, 0, 0}},
		{"small", []int{1, 7, 8, 9, 30, 100, 5, 0, 64, 119, 120, 121}},
		{"larger than buffer", []int{300, 10, 129, 1000, 2, 4000}},
		{"larger than segment", []int{2000, 3000, 1, 2500}},
	}
	for _, fc := range fss {
		for _, sc := range sizes {
			t.Run(fc.name+"/"+sc.name, func(t *testing.T) {
				fsys, dir := fc.mk(t)
				opts := testOptions(fsys)
				l := mustOpen(t, dir, opts)
				var want [][]byte
				for round := range 5 {
					for i, n := range sc.sizes {
						r := payload(len(want), n+round)
						p, err := l.Append(r)
						if err != nil {
							t.Fatal(err)
						}
						if p != Position(len(want)) {
							t.Fatalf("Append returned position %d, want %d", p, len(want))
						}
						want = append(want, r)
						if i%3 == 0 {
							if err := l.Sync(); err != nil {
								t.Fatal(err)
							}
						}
					}
				}
				// Readable before Sync, from every position.
				for from := range Position(len(want) + 1) {
					checkRecords(t, replayAll(t, l, from), want, from)
				}
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				l = mustOpen(t, dir, opts)
				defer l.Close()
				if rc := l.Recovery(); rc.CutBytes != 0 || rc.Reason != "" {
					t.Errorf("clean reopen cut %d bytes: %s", rc.CutBytes, rc.Reason)
				}
				if l.Next() != Position(len(want)) {
					t.Fatalf("Next after reopen = %d, want %d", l.Next(), len(want))
				}
				checkRecords(t, replayAll(t, l, 0), want, 0)
				checkRecords(t, replayAll(t, l, Position(len(want)/2)), want, Position(len(want)/2))
				st := l.Stats()
				if st.First != 0 || st.Next != Position(len(want)) || st.Synced != st.Next || (st.Segments < 2) != (sc.name == "empty records") {
					t.Errorf("Stats = %+v", st)
				}
			})
		}
	}
}

func TestSegmentFiles(t *testing.T) {
	fsys := NewMemFS()
	opts := testOptions(fsys)
	l := mustOpen(t, "/log", opts)
	var starts []Position // first position of each segment, as the test predicts it
	size := int64(0)
	for i := range 100 {
		r := payload(i, 50)
		frame := int64(recordHeaderSize + len(r))
		if i == 0 || size+frame > opts.SegmentSize {
			starts = append(starts, Position(i))
			size = segmentHeaderSize
		}
		size += frame
		if _, err := l.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	names, err := fsys.List("/log")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, s := range starts {
		want = append(want, segmentName(s))
	}
	want = append(want, lockName)
	if !slices.Equal(names, want) {
		t.Fatalf("files = %v\nwant    %v", names, want)
	}
	for _, s := range starts {
		data, err := fsys.ReadFile(filepath.Join("/log", segmentName(s)))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(data)) > opts.SegmentSize {
			t.Errorf("segment %d has %d bytes, more than SegmentSize", s, len(data))
		}
		p, err := decodeSegmentHeader(data)
		if err != nil || p != s {
			t.Errorf("segment %d header: %d, %v", s, p, err)
		}
	}
}

func TestSegmentName(t *testing.T) {
	for _, p := range []Position{0, 1, 41217, 1<<64 - 1} {
		n := segmentName(p)
		if len(n) != 24 {
			t.Errorf("segmentName(%d) = %q", p, n)
		}
		if q, ok := parseSegmentName(n); !ok || q != p {
			t.Errorf("parseSegmentName(%q) = %d, %v", n, q, ok)
		}
	}
	for _, bad := range []string{"LOCK", "0.wal", "0000000000000000000a.wal", "00000000000000000000.wal.tmp",
		"99999999999999999999.wal", "+0000000000000000000.wal", "000000000000000000000.wal"} {
		if _, ok := parseSegmentName(bad); ok {
			t.Errorf("parseSegmentName(%q) accepted", bad)
		}
	}
}

func TestReplayBounds(t *testing.T) {
	fsys := NewMemFS()
	l := mustOpen(t, "/log", testOptions(fsys))
	defer l.Close()
	var want [][]byte
	for i := range 60 {
		want = append(want, payload(i, 60))
	}
	if p, err := l.AppendBatch(want); err != nil || p != 0 {
		t.Fatalf("AppendBatch = %d, %v", p, err)
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := l.Replay(61, func(Position, []byte) error { return nil }); !errors.Is(err, ErrBeyondEnd) {
		t.Errorf("Replay past the end: %v, want ErrBeyondEnd", err)
	}
	if got := replayAll(t, l, 60); len(got) != 0 {
		t.Errorf("Replay at the end returned %d records", len(got))
	}
	if err := l.TruncateBefore(61); !errors.Is(err, ErrBeyondEnd) {
		t.Errorf("TruncateBefore past the end: %v", err)
	}
	if err := l.TruncateBefore(45); err != nil {
		t.Fatal(err)
	}
	first := l.Stats().First
	if first == 0 || first > 45 {
		t.Fatalf("after TruncateBefore(45) the first position is %d", first)
	}
	err := l.Replay(first-1, func(Position, []byte) error { return nil })
	if !errors.Is(err, ErrTruncated) {
		t.Errorf("Replay before the oldest: %v, want ErrTruncated", err)
	}
	checkRecords(t, replayAll(t, l, first), want, first)
	checkRecords(t, replayAll(t, l, 45), want, 45)

	// An error from fn stops the replay and comes back as is.
	stop := errors.New("stop")
	n := 0
	err = l.Replay(first, func(Position, []byte) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Errorf("Replay with a failing fn: %v after %d records", err, n)
	}
}

func TestTruncateBefore(t *testing.T) {
	fsys := NewMemFS()
	opts := testOptions(fsys)
	l := mustOpen(t, "/log", opts)
	var want [][]byte
	for i := range 200 {
		r := payload(i, 40)
		want = append(want, r)
		if _, err := l.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	segsBefore := l.Stats().Segments
	for _, pos := range []Position{0, 10, 10, 77, 150, 200} {
		if err := l.TruncateBefore(pos); err != nil {
			t.Fatal(err)
		}
		st := l.Stats()
		if st.First > pos {
			t.Fatalf("TruncateBefore(%d) deleted records at or after it: first is %d", pos, st.First)
		}
		checkRecords(t, replayAll(t, l, st.First), want, st.First)
	}
	st := l.Stats()
	if st.Segments != 1 || st.Segments >= segsBefore {
		t.Errorf("after TruncateBefore(end) %d segments remain (had %d)", st.Segments, segsBefore)
	}
	// The active segment stays, so appends and reopen continue the positions.
	if p, err := l.Append(payload(200, 40)); err != nil || p != 200 {
		t.Fatalf("Append after truncation = %d, %v", p, err)
	}
	want = append(want, payload(200, 40))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, "/log", opts)
	defer l.Close()
	checkRecords(t, replayAll(t, l, st.First), want, st.First)
	if l.Next() != 201 {
		t.Errorf("Next after reopen = %d", l.Next())
	}
}

func TestTruncateBeforeEmptyLog(t *testing.T) {
	l := mustOpen(t, "/log", testOptions(NewMemFS()))
	defer l.Close()
	if err := l.TruncateBefore(0); err != nil {
		t.Fatal(err)
	}
	if got := replayAll(t, l, 0); len(got) != 0 {
		t.Errorf("empty log replayed %d records", len(got))
	}
}

func TestRecordTooLarge(t *testing.T) {
	l := mustOpen(t, "/log", testOptions(NewMemFS()))
	defer l.Close()
	if _, err := l.Append(make([]byte, 4097)); !errors.Is(err, ErrRecordTooLarge) {
		t.Errorf("Append of 4097 bytes: %v", err)
	}
	if _, err := l.AppendBatch([][]byte{{1}, make([]byte, 5000), {2}}); !errors.Is(err, ErrRecordTooLarge) {
		t.Errorf("AppendBatch with a large record: %v", err)
	}
	if l.Next() != 0 {
		t.Errorf("a rejected batch appended %d records", l.Next())
	}
	if p, err := l.Append(make([]byte, 4096)); err != nil || p != 0 {
		t.Errorf("Append at the limit = %d, %v", p, err)
	}
}

func TestOptionsValidation(t *testing.T) {
	var o Options
	o.EnsureDefaults()
	if o.SegmentSize != 64<<20 || o.BufferSize != 256<<10 || o.MaxRecordSize != 16<<20 || o.ReadBufferSize != 1<<20 || o.FS == nil || o.Logger == nil {
		t.Errorf("defaults = %+v", o)
	}
	for _, bad := range []Options{
		{SegmentSize: -1}, {BufferSize: -1}, {MaxRecordSize: MaxRecordSizeLimit + 1}, {MaxRecordSize: -1}, {ReadBufferSize: -2},
	} {
		bad.FS = NewMemFS()
		if _, err := Open("/log", bad); err == nil {
			t.Errorf("Open with %+v succeeded", bad)
		}
	}
}

func TestClosed(t *testing.T) {
	l := mustOpen(t, "/log", testOptions(NewMemFS()))
	if _, err := l.Append([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append([]byte("y")); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if err := l.TruncateBefore(0); !errors.Is(err, ErrClosed) {
		t.Errorf("TruncateBefore after Close: %v", err)
	}
	if _, err := l.NewReader(0); !errors.Is(err, ErrClosed) {
		t.Errorf("NewReader after Close: %v", err)
	}
	if err := l.Sync(); err != nil {
		t.Errorf("Sync with nothing to sync after Close: %v", err)
	}
}

func TestLockExclusive(t *testing.T) {
	for _, tc := range []struct {
		name string
		fs   FS
		dir  string
	}{{"mem", NewMemFS(), "/log"}, {"os", OSFS(), t.TempDir()}} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions(tc.fs)
			l := mustOpen(t, tc.dir, opts)
			if l2, err := Open(tc.dir, opts); err == nil {
				l2.Close()
				t.Fatal("a second Open of the same directory succeeded")
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = mustOpen(t, tc.dir, opts)
			l.Close()
		})
	}
}

func TestCorruptOlderSegment(t *testing.T) {
	fsys := NewMemFS()
	opts := testOptions(fsys)
	l := mustOpen(t, "/log", opts)
	for i := range 100 {
		if _, err := l.Append(payload(i, 50)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	names, _ := fsys.List("/log")
	first := filepath.Join("/log", names[0])
	orig, _ := fsys.ReadFile(first)

	t.Run("flipped byte", func(t *testing.T) {
		bad := bytes.Clone(orig)
		bad[len(bad)/2] ^= 0x40
		fsys.WriteFile(first, bad)
		defer fsys.WriteFile(first, orig)
		l := mustOpen(t, "/log", opts) // Open scans only the last segment
		defer l.Close()
		err := l.Replay(0, func(Position, []byte) error { return nil })
		var ce *CorruptionError
		if !errors.As(err, &ce) || ce.Segment != names[0] {
			t.Fatalf("Replay over a corrupt older segment: %v", err)
		}
	})
	t.Run("torn older segment", func(t *testing.T) {
		fsys.WriteFile(first, orig[:len(orig)-3])
		defer fsys.WriteFile(first, orig)
		l := mustOpen(t, "/log", opts)
		defer l.Close()
		var ce *CorruptionError
		if err := l.Replay(0, func(Position, []byte) error { return nil }); !errors.As(err, &ce) {
			t.Fatalf("Replay over a torn older segment: %v", err)
		}
	})
	t.Run("missing middle segment", func(t *testing.T) {
		mid := filepath.Join("/log", names[1])
		data, _ := fsys.ReadFile(mid)
		fsys.Remove(mid)
		defer fsys.WriteFile(mid, data)
		l := mustOpen(t, "/log", opts)
		defer l.Close()
		var ce *CorruptionError
		err := l.Replay(0, func(Position, []byte) error { return nil })
		if !errors.As(err, &ce) || ce.Reason == "" {
			t.Fatalf("Replay over a gap: %v", err)
		}
		t.Log(err)
	})
	t.Run("header position differs from name", func(t *testing.T) {
		bad := bytes.Clone(orig)
		h := encodeSegmentHeader(7)
		copy(bad, h[:])
		fsys.WriteFile(first, bad)
		defer fsys.WriteFile(first, orig)
		l := mustOpen(t, "/log", opts)
		defer l.Close()
		var ce *CorruptionError
		if err := l.Replay(0, func(Position, []byte) error { return nil }); !errors.As(err, &ce) {
			t.Fatalf("Replay over a misnamed segment: %v", err)
		}
	})
}

func TestLastSegmentHeader(t *testing.T) {
	fsys := NewMemFS()
	opts := testOptions(fsys)
	l := mustOpen(t, "/log", opts)
	for i := range 5 {
		l.Append(payload(i, 10))
	}
	l.Close()
	name := filepath.Join("/log", segmentName(0))
	orig, _ := fsys.ReadFile(name)

	// A bad header with records after it is not a torn creation: refuse.
	bad := bytes.Clone(orig)
	bad[0] = 'X'
	fsys.WriteFile(name, bad)
	if l, err := Open("/log", opts); err == nil {
		l.Close()
		t.Fatal("Open accepted a last segment with a corrupt header and records")
	}

	// A header cut short is a segment whose creation was torn: reset it.
	for k := range segmentHeaderSize {
		fsys.WriteFile(name, orig[:k])
		l, err := Open("/log", opts)
		if err != nil {
			t.Fatalf("header cut to %d bytes: %v", k, err)
		}
		if rc := l.Recovery(); rc.CutBytes != int64(k) || l.Next() != 0 {
			t.Fatalf("header cut to %d bytes: recovery %+v, next %d", k, rc, l.Next())
		}
		if _, err := l.Append([]byte("after")); err != nil {
			t.Fatal(err)
		}
		l.Close()
		l = mustOpen(t, "/log", opts)
		checkRecords(t, replayAll(t, l, 0), [][]byte{[]byte("after")}, 0)
		l.Close()
	}
}

func TestOpenReader(t *testing.T) {
	fsys := NewMemFS()
	opts := testOptions(fsys)
	l := mustOpen(t, "/log", opts)
	var want [][]byte
	for i := range 80 {
		want = append(want, payload(i, 33))
		l.Append(want[i])
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	// While the writer has it open, and with a torn tail appended.
	name := filepath.Join("/log", segmentName(l.Stats().First))
	_ = name
	for _, from := range []Position{0, 1, 40, 79, 80} {
		r, err := OpenReader("/log", from, opts)
		if err != nil {
			t.Fatal(err)
		}
		var got [][]byte
		for r.Next() {
			got = append(got, bytes.Clone(r.Record()))
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		r.Close()
		checkRecords(t, got, want, from)
	}
	r, err := OpenReader("/log", 81, opts)
	if err == nil {
		for r.Next() {
		}
		err = r.Err()
	}
	if !errors.Is(err, ErrBeyondEnd) {
		t.Errorf("OpenReader past the end: %v", err)
	}
	if _, err := OpenReader("/nonexistent", 0, opts); err == nil {
		t.Error("OpenReader of a missing directory succeeded")
	}
	l.Close()
}

// TestGroupCommit holds the first Sync in fdatasync while other goroutines
// append and Sync: all of them must be covered by exactly one more
// fdatasync.
func TestGroupCommit(t *testing.T) {
	mem := NewMemFS()
	var gate struct {
		sync.Mutex
		on bool
	}
	g := &gateFS{FS: mem, entered: make(chan struct{}), release: make(chan struct{}),
		gated: func() bool { gate.Lock(); defer gate.Unlock(); on := gate.on; gate.on = false; return on }}
	opts := testOptions(g)
	opts.SegmentSize = 1 << 20
	l := mustOpen(t, "/log", opts)
	defer l.Close()
	if _, err := l.Append([]byte("first")); err != nil {
		t.Fatal(err)
	}
	gate.Lock()
	gate.on = true
	gate.Unlock()
	before := mem.Syncs()
	leader := make(chan error)
	go func() { leader <- l.Sync() }()
	<-g.entered

	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		if _, err := l.Append(payload(i, 20)); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { errs <- l.Sync() })
	}
	close(g.release)
	if err := <-leader; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := mem.Syncs() - before; got != 2 {
		t.Errorf("%d Syncs after the leader made %d fdatasyncs, want 2 (the leader's and one shared)", n, got)
	}
	if st := l.Stats(); st.Synced != n+1 {
		t.Errorf("Synced = %d, want %d", st.Synced, n+1)
	}
}

func TestConcurrentAppendSync(t *testing.T) {
	fsys := NewMemFS()
	opts := testOptions(fsys)
	opts.SegmentSize = 4096
	l := mustOpen(t, "/log", opts)
	const writers, each = 4, 200
	var wg sync.WaitGroup
	got := make([][]Position, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				r := []byte(fmt.Sprintf("w%d-%d", w, i))
				var p Position
				var err error
				if i%5 == 0 {
					p, err = l.AppendBatch([][]byte{r, []byte("batch")})
				} else {
					p, err = l.Append(r)
				}
				if err != nil {
					t.Error(err)
					return
				}
				got[w] = append(got[w], p)
				if i%7 == 0 {
					if err := l.Sync(); err != nil {
						t.Error(err)
						return
					}
				}
				if i%50 == 0 {
					if err := l.Replay(l.Stats().First, func(Position, []byte) error { return nil }); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, "/log", opts)
	defer l.Close()
	recs := replayAll(t, l, 0)
	for w := range writers {
		for i, p := range got[w] {
			if want := fmt.Sprintf("w%d-%d", w, i); string(recs[p]) != want {
				t.Fatalf("position %d holds %q, want %q", p, recs[p], want)
			}
			if i%5 == 0 && string(recs[p+1]) != "batch" {
				t.Fatalf("batch at %d not consecutive: %q", p, recs[p+1])
			}
		}
	}
	if len(recs) != writers*(each+each/5) {
		t.Errorf("%d records, want %d", len(recs), writers*(each+each/5))
	}
}

func TestStickyFailure(t *testing.T) {
	mem := NewMemFS()
	var failSync, failWrite bool
	f := &failFS{FS: mem, failSync: func() bool { return failSync }, failWrite: func() bool { return failWrite }}
	opts := testOptions(f)
	opts.SegmentSize = 1 << 20
	for _, tc := range []struct {
		name string
		arm  func()
	}{
		{"fsync", func() { failSync = true }},
		{"write", func() { failWrite = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failSync, failWrite = false, false
			l := mustOpen(t, "/log-"+tc.name, opts)
			if _, err := l.Append([]byte("durable")); err != nil {
				t.Fatal(err)
			}
			if err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			l.Append([]byte("lost"))
			tc.arm()
			if err := l.Sync(); !errors.Is(err, errInjected) {
				t.Fatalf("Sync with a failing %s: %v", tc.name, err)
			}
			failSync, failWrite = false, false
			// Failed for good: no retry can claim durability.
			if err := l.Sync(); !errors.Is(err, errInjected) {
				t.Errorf("Sync after failure: %v", err)
			}
			if _, err := l.Append([]byte("more")); !errors.Is(err, errInjected) {
				t.Errorf("Append after failure: %v", err)
			}
			if err := l.Close(); !errors.Is(err, errInjected) {
				t.Errorf("Close after failure: %v", err)
			}
			mem.Crash(nil)
			l = mustOpen(t, "/log-"+tc.name, opts)
			defer l.Close()
			got := replayAll(t, l, 0)
			if len(got) < 1 || string(got[0]) != "durable" {
				t.Fatalf("after failure and crash: %q", got)
			}
		})
	}
}

func TestOSFSPermissions(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, Options{Logger: testOptions(nil).Logger})
	l.Append([]byte("x"))
	l.Close()
	fi, err := os.Stat(filepath.Join(dir, segmentName(0)))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o007 != 0 {
		t.Errorf("segment mode %v is world-accessible", fi.Mode())
	}
}
