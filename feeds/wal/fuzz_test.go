package wal

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

// FuzzRecovery feeds arbitrary bytes to recovery and the record decoder as
// the last (only) segment of a log. With withHeader the bytes follow a valid
// segment header (so the fuzzer works on records); without, they are the
// whole file. It must never panic; Open must refuse, changing nothing,
// exactly when a valid record follows the first damage (checked against a
// naive search); otherwise the log must hold
// exactly the longest valid prefix of records (checked against a naive
// decoder), whatever the read buffer size, and must take appends and reopen
// cleanly.
func FuzzRecovery(f *testing.F) {
	var valid []byte
	h := encodeSegmentHeader(0)
	valid = append(valid, h[:]...)
	for i, n := range []int{0, 1, 8, 30, 200} {
		valid = appendRecord(valid, payload(i, n))
	}
	f.Add(true, valid[segmentHeaderSize:])
	f.Add(true, valid[segmentHeaderSize:len(valid)-3])
	f.Add(false, valid)
	f.Add(false, valid[:11])
	f.Add(true, []byte{})
	f.Add(true, make([]byte, 64))
	f.Add(true, []byte{0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 1, 2, 3})
	f.Fuzz(func(t *testing.T, withHeader bool, data []byte) {
		seg := data
		if withHeader {
			seg = append(h[:len(h):len(h)], data...)
		}
		var want [][]byte
		refuse := false // damage with a valid frame after it is not a torn tail
		if _, err := decodeSegmentHeader(seg); err == nil {
			want = refDecode(seg[segmentHeaderSize:])
			valid := segmentHeaderSize
			for _, r := range want {
				valid += recordHeaderSize + len(r)
			}
			refuse = valid < len(seg) && refFollows(seg[valid+1:])
		} else {
			refuse = len(seg) > segmentHeaderSize && refFollows(seg[segmentHeaderSize:])
		}
		for _, bufSize := range []int{1, 13, 4096} {
			fsys := NewMemFS()
			fsys.MkdirAll("/log")
			name := filepath.Join("/log", segmentName(0))
			if err := fsys.WriteFile(name, seg); err != nil {
				t.Fatal(err)
			}
			opts := testOptions(fsys)
			opts.ReadBufferSize = bufSize
			l, err := Open("/log", opts)
			if refuse {
				var ce *CorruptionError
				if !errors.As(err, &ce) {
					t.Fatalf("Open of a segment with a valid record after damage: %v", err)
				}
				if got, _ := fsys.ReadFile(name); !bytes.Equal(got, seg) {
					t.Fatal("a refused Open changed the segment")
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			got := replayAll(t, l, 0)
			if len(got) != len(want) {
				t.Fatalf("buffer %d: recovered %d records, the valid prefix has %d", bufSize, len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("buffer %d: record %d differs", bufSize, i)
				}
			}
			if _, err := l.Append([]byte("next")); err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = mustOpen(t, "/log", opts)
			if rc := l.Recovery(); rc.CutBytes != 0 || l.Next() != Position(len(want)+1) {
				t.Fatalf("reopen after recovery: %+v, next %d", rc, l.Next())
			}
			l.Close()
		}
	})
}
