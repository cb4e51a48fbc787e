package wal

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// matrixLog is a log of 30 records of 50 bytes in real files: with 1 KiB
// segments, records 0..16 are in the older segment and 17..29 in the last
// (frames are 58 bytes: 20 + 17×58 = 1006 bytes fit, an 18th would not).
const (
	matrixRecords = 30
	matrixSplit   = 17
	matrixFrame   = recordHeaderSize + 50
)

// matrixOffset is the segment offset of record k of a segment.
func matrixOffset(k int) int { return segmentHeaderSize + k*matrixFrame }

func buildMatrixLog(t *testing.T) (segs [2][]byte, want [][]byte) {
	t.Helper()
	dir := t.TempDir()
	opts := testOptions(OSFS())
	l := mustOpen(t, dir, opts)
	for i := range matrixRecords {
		want = append(want, payload(i, 50))
		if _, err := l.Append(want[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for i, first := range []Position{0, matrixSplit} {
		b, err := os.ReadFile(filepath.Join(dir, segmentName(first)))
		if err != nil {
			t.Fatalf("segment layout changed: %v", err)
		}
		segs[i] = b
	}
	if len(segs[1]) != matrixOffset(matrixRecords-matrixSplit) {
		t.Fatalf("last segment has %d bytes", len(segs[1]))
	}
	return segs, want
}

// TestCorruptionMatrix damages a log in real files in each way a crash or a
// disk can, and checks what Open and Replay do. A torn tail (damage with
// nothing valid after it) is cut and its non-zero bytes are kept under
// damaged/; damage followed by a valid record is refused with the segment
// and offset and changes no file, in the last segment as in an older one;
// with Salvage, the damaged remainder of the last segment is moved aside,
// byte for byte.
func TestCorruptionMatrix(t *testing.T) {
	segs, want := buildMatrixLog(t)
	last := len(segs[1])
	lastRec := matrixOffset(matrixRecords - matrixSplit - 1)
	mid := matrixOffset(5) // record 17+5 = 22 in the last segment, 5 in the older one
	flip := func(off int) func([]byte) []byte {
		return func(b []byte) []byte { b[off] ^= 0x20; return b }
	}
	cases := []struct {
		name   string
		seg    int // 0: the older segment, 1: the last
		damage func([]byte) []byte
		// For a torn tail: records kept and bytes cut, and whether they
		// are kept aside. For a refusal: the offset and position named.
		torn     bool
		keep     int
		cut      int
		aside    bool
		badOff   int
		badPos   Position
		readOnly bool // older segment: Open does not scan it, Replay refuses
	}{
		{name: "torn last record", seg: 1, damage: func(b []byte) []byte { return b[:last-20] },
			torn: true, keep: matrixRecords - 1, cut: matrixFrame - 20, aside: true},
		{name: "torn record header", seg: 1, damage: func(b []byte) []byte { return b[:lastRec+5] },
			torn: true, keep: matrixRecords - 1, cut: 5, aside: true},
		{name: "flipped byte in the last record", seg: 1, damage: flip(last - 10),
			torn: true, keep: matrixRecords - 1, cut: matrixFrame, aside: true},
		{name: "flipped length of the last record", seg: 1, damage: flip(lastRec + 6),
			torn: true, keep: matrixRecords - 1, cut: matrixFrame, aside: true},
		{name: "zero-filled last record", seg: 1, damage: func(b []byte) []byte { clear(b[lastRec:]); return b },
			torn: true, keep: matrixRecords - 1, cut: matrixFrame},
		{name: "zero-filled tail after the last record", seg: 1, damage: func(b []byte) []byte { return append(b, make([]byte, 4096)...) },
			torn: true, keep: matrixRecords, cut: 4096},
		{name: "truncated header of the last segment", seg: 1, damage: func(b []byte) []byte { return b[:11] },
			torn: true, keep: matrixSplit, cut: 11, aside: true},
		{name: "flipped payload byte mid-segment, last segment", seg: 1, damage: flip(mid + 30),
			badOff: mid, badPos: matrixSplit + 5},
		{name: "flipped checksum byte mid-segment, last segment", seg: 1, damage: flip(mid + 1),
			badOff: mid, badPos: matrixSplit + 5},
		{name: "flipped length byte mid-segment, last segment", seg: 1, damage: flip(mid + 7),
			badOff: mid, badPos: matrixSplit + 5},
		{name: "zeroed sector mid-segment, last segment", seg: 1, damage: func(b []byte) []byte { clear(b[mid : mid+64]); return b },
			badOff: mid, badPos: matrixSplit + 5},
		{name: "flipped header byte of the last segment", seg: 1, damage: flip(2),
			badOff: 0, badPos: matrixSplit},
		{name: "flipped byte mid-segment, older segment", seg: 0, damage: flip(mid + 30),
			badOff: mid, badPos: 5, readOnly: true},
		{name: "flipped byte in the last record of the older segment", seg: 0, damage: flip(len(segs[0]) - 10),
			badOff: matrixOffset(matrixSplit - 1), badPos: matrixSplit - 1, readOnly: true},
		{name: "truncated header of the older segment", seg: 0, damage: func(b []byte) []byte { return b[:11] },
			badOff: 0, badPos: 0, readOnly: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			damaged := c.damage(bytes.Clone(segs[c.seg]))
			files := [2][]byte{segs[0], segs[1]}
			files[c.seg] = damaged
			for i, first := range []Position{0, matrixSplit} {
				if err := os.WriteFile(filepath.Join(dir, segmentName(first)), files[i], 0o640); err != nil {
					t.Fatal(err)
				}
			}
			name := segmentName([]Position{0, matrixSplit}[c.seg])
			opts := testOptions(OSFS())
			l, err := Open(dir, opts)
			switch {
			case c.torn:
				if err != nil {
					t.Fatalf("Open refused a torn tail: %v", err)
				}
				rc := l.Recovery()
				if rc.CutBytes != int64(c.cut) || rc.Damaged || (rc.SetAside != "") != c.aside {
					t.Fatalf("Recovery = %+v, want %d bytes cut, set aside %v", rc, c.cut, c.aside)
				}
				if c.aside {
					kept, err := os.ReadFile(rc.SetAside)
					if err != nil || !bytes.Equal(kept, damaged[len(damaged)-c.cut:]) {
						t.Fatalf("set-aside file %s does not hold the cut bytes: %v", rc.SetAside, err)
					}
				}
				checkRecords(t, replayAll(t, l, 0), want[:c.keep], 0)
				if p, err := l.Append([]byte("next")); err != nil || p != Position(c.keep) {
					t.Fatalf("Append after recovery = %d, %v", p, err)
				}
				l.Close()
				return
			case c.readOnly:
				if err != nil {
					t.Fatalf("Open scanned an older segment: %v", err)
				}
				err = l.Replay(0, func(Position, []byte) error { return nil })
				l.Close()
			default:
				if err == nil {
					l.Close()
				}
			}
			var ce *CorruptionError
			if !errors.As(err, &ce) || ce.Segment != name || ce.Offset != int64(c.badOff) || ce.Position != c.badPos {
				t.Fatalf("got %v, want a corruption of %s at offset %d (position %d)", err, name, c.badOff, c.badPos)
			}
			t.Log(err)
			if got, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(got, damaged) {
				t.Fatal("refusing to open changed the damaged segment")
			}
			if _, err := os.Stat(filepath.Join(dir, DamagedDir)); !os.IsNotExist(err) {
				t.Fatalf("refusing to open set something aside: %v", err)
			}

			// Salvage: the last segment's damaged remainder is moved aside
			// whole; an older segment's damage is still refused.
			opts.Salvage = true
			l, err = Open(dir, opts)
			if c.readOnly {
				if err != nil {
					t.Fatal(err)
				}
				if err := l.Replay(0, func(Position, []byte) error { return nil }); !errors.As(err, &ce) {
					t.Fatalf("Replay with Salvage over a damaged older segment: %v", err)
				}
				l.Close()
				return
			}
			if err != nil {
				t.Fatalf("Open with Salvage: %v", err)
			}
			rc := l.Recovery()
			if !rc.Damaged || rc.ValidBytes != int64(c.badOff) || rc.CutBytes != int64(len(damaged)-c.badOff) {
				t.Fatalf("Recovery with Salvage = %+v", rc)
			}
			if kept, err := os.ReadFile(rc.SetAside); err != nil || !bytes.Equal(kept, damaged[c.badOff:]) {
				t.Fatalf("set-aside file %q does not hold the damaged remainder: %v", rc.SetAside, err)
			}
			checkRecords(t, replayAll(t, l, 0), want[:c.badPos], 0)
			if p, err := l.Append([]byte("next")); err != nil || p != c.badPos {
				t.Fatalf("Append after salvage = %d, %v", p, err)
			}
			l.Close()
			opts.Salvage = false
			l = mustOpen(t, dir, opts)
			defer l.Close()
			if rc := l.Recovery(); rc.CutBytes != 0 {
				t.Fatalf("reopen after salvage cut %d bytes", rc.CutBytes)
			}
			checkRecords(t, replayAll(t, l, 0), append(want[:c.badPos:c.badPos], []byte("next")), 0)
		})
	}
}

// TestCrashThenBitRot is the MemFS crash test of the distinction: crashes
// (adversarial: torn, zeroed and garbage unsynced tails) never make Open
// refuse and never lose an acknowledged record, while a flipped byte in an
// acknowledged record that has acknowledged records after it makes Open
// refuse, not cut them.
func TestCrashThenBitRot(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		fsys := NewMemFS()
		opts := testOptions(fsys)
		opts.SegmentSize = 1 << 20 // one segment: every record is in the last
		const dir = "/wal"
		l := mustOpen(t, dir, opts)
		var want [][]byte
		for round := range 5 {
			for range 3 + rng.IntN(5) {
				want = append(want, payload(len(want), 1+rng.IntN(200)))
				if _, err := l.Append(want[len(want)-1]); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			acked := len(want)
			for range 1 + rng.IntN(5) { // an unsynced group commit
				want = append(want, payload(len(want), 1+rng.IntN(200)))
				l.Append(want[len(want)-1])
			}
			fsys.Crash(rng)
			var err error
			if l, err = Open(dir, opts); err != nil {
				t.Fatalf("seed %d round %d: Open after a crash: %v", seed, round, err)
			}
			next := int(l.Next())
			if next < acked {
				t.Fatalf("seed %d round %d: %d records after the crash, %d were acknowledged", seed, round, next, acked)
			}
			want = want[:next]
			checkRecords(t, replayAll(t, l, 0), want, 0)
		}
		l.Close()
		name := filepath.Join(dir, segmentName(0))
		data, _ := fsys.ReadFile(name)
		off := segmentHeaderSize + rng.IntN(len(data)/2)
		data[off] ^= 1 << rng.IntN(8)
		fsys.WriteFile(name, data)
		var ce *CorruptionError
		if l, err := Open(dir, opts); !errors.As(err, &ce) {
			if err == nil {
				l.Close()
			}
			t.Fatalf("seed %d: Open over a flipped byte at offset %d of %d: %v", seed, off, len(data), err)
		}
	}
}
