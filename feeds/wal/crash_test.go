package wal

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestCrashDurability is a property test of the durability promise. A
// seeded random workload appends, batches, syncs, truncates and reopens on a
// MemFS, and crashes it, strictly (every unsynced byte and entry lost) or
// adversarially (random parts of the unsynced state survive, torn). After
// each crash the log must open, hold every record whose Append was followed
// by a returned Sync, hold a prefix of the rest and nothing else, and take
// appends again.
func TestCrashDurability(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 10
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { crashWorkload(t, uint64(seed)) })
	}
}

func crashWorkload(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0xC0FFEE))
	fsys := NewMemFS()
	opts := testOptions(fsys)
	opts.SegmentSize = int64(200 + rng.IntN(2000))
	opts.BufferSize = 16 + rng.IntN(300)
	opts.ReadBufferSize = 16 + rng.IntN(200)
	const dir = "/data/wal"

	l := mustOpen(t, dir, opts)
	var want [][]byte     // contents by position, as appended
	var acked Position    // every record before it must survive a crash
	var snapshot Position // the caller's latest snapshot: TruncateBefore was called with it
	crashes := 0

	for step := range 400 {
		switch op := rng.IntN(100); {
		case op < 50:
			r := payload(len(want), rng.IntN(120))
			p, err := l.Append(r)
			if err != nil {
				t.Fatalf("step %d: Append: %v", step, err)
			}
			if p != Position(len(want)) {
				t.Fatalf("step %d: Append at %d, want %d", step, p, len(want))
			}
			want = append(want, r)
		case op < 60:
			var batch [][]byte
			for range 1 + rng.IntN(8) {
				batch = append(batch, payload(len(want)+len(batch), rng.IntN(300)))
			}
			p, err := l.AppendBatch(batch)
			if err != nil || p != Position(len(want)) {
				t.Fatalf("step %d: AppendBatch = %d, %v", step, p, err)
			}
			want = append(want, batch...)
		case op < 78:
			target := Position(len(want))
			if err := l.Sync(); err != nil {
				t.Fatalf("step %d: Sync: %v", step, err)
			}
			acked = target
		case op < 82:
			// A snapshot at an acknowledged position lets the caller drop
			// what precedes it.
			snapshot += Position(rng.Uint64N(uint64(acked-snapshot) + 1))
			if err := l.TruncateBefore(snapshot); err != nil {
				t.Fatalf("step %d: TruncateBefore(%d): %v", step, snapshot, err)
			}
		case op < 85:
			if err := l.Close(); err != nil {
				t.Fatalf("step %d: Close: %v", step, err)
			}
			acked = Position(len(want))
			l = mustOpen(t, dir, opts)
		case op < 88:
			from := l.Stats().First
			checkRecords(t, replayAll(t, l, from), want, from)
		default:
			crashes++
			var crng *rand.Rand
			if rng.IntN(2) == 0 {
				crng = rng
			}
			fsys.Crash(crng) // the process and its handles are gone
			var err error
			l, err = Open(dir, opts)
			if err != nil {
				t.Fatalf("step %d: Open after crash (adversarial %v): %v", step, crng != nil, err)
			}
			next := l.Next()
			if next < acked {
				t.Fatalf("step %d: after crash the log ends at %d, but %d records were acknowledged", step, next, acked)
			}
			if next > Position(len(want)) {
				t.Fatalf("step %d: after crash the log ends at %d, past the %d appended", step, next, len(want))
			}
			first := l.Stats().First
			if first > snapshot {
				t.Fatalf("step %d: after crash the oldest record is %d, after the snapshot %d", step, first, snapshot)
			}
			want = want[:next]
			checkRecords(t, replayAll(t, l, first), want, first)
			acked = next // recovery synced what it kept
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, dir, opts)
	defer l.Close()
	first := l.Stats().First
	checkRecords(t, replayAll(t, l, first), want, first)
	if crashes == 0 {
		t.Fatal("the workload never crashed")
	}
}

// TestTornTailEveryOffset writes records to real files, then for every byte
// offset of the last record both cuts the file there and flips the byte
// there. Recovery must keep exactly the records before it, say what it cut,
// and let appends continue.
func TestTornTailEveryOffset(t *testing.T) {
	src := t.TempDir()
	opts := testOptions(OSFS())
	opts.SegmentSize = 1 << 20
	l := mustOpen(t, src, opts)
	var want [][]byte
	for i, n := range []int{300, 0, 17, 120} {
		want = append(want, payload(i, n))
		if _, err := l.Append(want[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	seg := segmentName(0)
	orig, err := os.ReadFile(filepath.Join(src, seg))
	if err != nil {
		t.Fatal(err)
	}
	lastStart := len(orig) - recordHeaderSize - len(want[len(want)-1])
	kept := want[:len(want)-1]

	check := func(t *testing.T, data []byte, wantCut int64) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, seg), data, 0o640); err != nil {
			t.Fatal(err)
		}
		l, err := Open(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		rc := l.Recovery()
		if rc.CutBytes != wantCut || rc.ValidBytes != int64(lastStart) || rc.Records != int64(len(kept)) || (rc.Reason == "") != (wantCut == 0) {
			t.Fatalf("Recovery = %+v, want %d bytes cut at %d", rc, wantCut, lastStart)
		}
		checkRecords(t, replayAll(t, l, 0), kept, 0)
		extra := []byte("appended after recovery")
		if p, err := l.Append(extra); err != nil || p != Position(len(kept)) {
			t.Fatalf("Append after recovery = %d, %v", p, err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l = mustOpen(t, dir, opts)
		defer l.Close()
		if rc := l.Recovery(); rc.CutBytes != 0 {
			t.Fatalf("second recovery cut %d bytes", rc.CutBytes)
		}
		checkRecords(t, replayAll(t, l, 0), append(kept[:len(kept):len(kept)], extra), 0)
	}
	for k := lastStart; k < len(orig); k++ {
		t.Run(fmt.Sprintf("cut at %d", k), func(t *testing.T) {
			check(t, orig[:k], int64(k-lastStart))
		})
		t.Run(fmt.Sprintf("flip at %d", k), func(t *testing.T) {
			bad := bytes.Clone(orig)
			bad[k] ^= 1 << (k % 8)
			check(t, bad, int64(len(orig)-lastStart))
		})
	}
	t.Run("zero-filled tail", func(t *testing.T) {
		// What ext4 can show after a crash: the size grew, the data did not land.
		bad := bytes.Clone(orig)
		clear(bad[lastStart:])
		check(t, bad, int64(len(orig)-lastStart))
	})
}
