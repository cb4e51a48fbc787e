package clickhouse

import (
	"encoding/binary"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

type seqGen struct{ n uint64 }

func (g *seqGen) next() uint64 { g.n++; return g.n - 1 }

func openTestSpool(t *testing.T, dir string, segBytes int64, g *seqGen) *spool {
	t.Helper()
	s, err := openSpool(dir, segBytes, discard, g.next)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// drain peeks and commits every record, returning the batches.
func drain(t *testing.T, s *spool) []*batch {
	t.Helper()
	var out []*batch
	for {
		rec, b, ok, err := s.peek()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, b)
		if err := s.commit(rec); err != nil {
			t.Fatal(err)
		}
	}
}

func segFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	return m
}

func TestSpoolOrderAcrossSegmentsAndRestarts(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(7, 8))
	g := &seqGen{}
	s := openTestSpool(t, dir, 4<<10, g) // tiny segments: many rolls
	var want []*batch
	for i := range 40 {
		b := randRows(r, table(i%int(numTables)), 1+r.IntN(20))
		b.seq = g.next()
		if err := s.append(b); err != nil {
			t.Fatal(err)
		}
		want = append(want, b)
	}
	st := s.stats()
	if st.records != 40 || st.segments < 3 {
		t.Fatalf("stats %+v: want 40 records over several segments", st)
	}
	// Consume 15, "crash", reopen: the rest come back, in order.
	for i := range 15 {
		rec, b, ok, err := s.peek()
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		if b.seq != want[i].seq || string(encodePayload(nil, b)) != string(encodePayload(nil, want[i])) {
			t.Fatalf("record %d differs", i)
		}
		if err := s.commit(rec); err != nil {
			t.Fatal(err)
		}
	}
	s.close()
	s = openTestSpool(t, dir, 4<<10, g)
	got := drain(t, s)
	if len(got) != 25 {
		t.Fatalf("after reopen: %d records, want 25", len(got))
	}
	for i, b := range got {
		w := want[15+i]
		if string(encodePayload(nil, b)) != string(encodePayload(nil, w)) {
			t.Fatalf("record %d after reopen differs", 15+i)
		}
	}
	if st := s.stats(); st.records != 0 || st.bytes != 0 || st.segments != 0 {
		t.Fatalf("drained spool not empty: %+v", st)
	}
	if f := segFiles(t, dir); len(f) != 0 {
		t.Fatalf("segment files left: %v", f)
	}
	s.close()
}

func TestSpoolTornTail(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(9, 10))
	g := &seqGen{}
	s := openTestSpool(t, dir, 1<<20, g)
	for range 3 {
		if err := s.append(randRows(r, tblTierChanges, 10)); err != nil {
			t.Fatal(err)
		}
	}
	s.close()
	seg := segFiles(t, dir)[0]
	// A crash in the middle of the fourth append leaves half a record.
	half := encodePayload(make([]byte, frameHeader), randRows(r, tblTierChanges, 10))
	binary.LittleEndian.PutUint32(half, uint32(len(half)-frameHeader))
	f, _ := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(half[:len(half)/2])
	f.Close()

	s = openTestSpool(t, dir, 1<<20, g)
	if got := drain(t, s); len(got) != 3 {
		t.Fatalf("%d records after torn tail, want 3", len(got))
	}
	q, _ := filepath.Glob(filepath.Join(dir, "quarantine", "*-torn.rec"))
	if len(q) != 1 {
		t.Fatalf("quarantine files %v, want the torn tail", q)
	}
	if b, _ := os.ReadFile(q[0]); len(b) != len(half)/2 {
		t.Fatalf("quarantined %d bytes, want %d", len(b), len(half)/2)
	}
	s.close()
}

func TestSpoolCorruptRecordQuarantined(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(11, 12))
	g := &seqGen{}
	s := openTestSpool(t, dir, 1<<20, g)
	for range 3 {
		if err := s.append(randRows(r, tblInspections, 5)); err != nil {
			t.Fatal(err)
		}
	}
	second := s.recs[1]
	s.close()
	// Flip a payload byte of the second record: its CRC fails on replay.
	seg := segFiles(t, dir)[0]
	f, _ := os.OpenFile(seg, os.O_RDWR, 0)
	var one [1]byte
	pos := second.off + frameHeader + second.size - 1
	f.ReadAt(one[:], pos)
	one[0] ^= 0xff
	f.WriteAt(one[:], pos)
	f.Close()

	s = openTestSpool(t, dir, 1<<20, g)
	var good, bad int
	for {
		rec, _, ok, err := s.peek()
		if !ok {
			break
		}
		if err == errCorruptRecord {
			bad++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		good++
		if err := s.commit(rec); err != nil {
			t.Fatal(err)
		}
	}
	if good != 2 || bad != 1 {
		t.Fatalf("good %d bad %d, want 2 and 1", good, bad)
	}
	q, _ := filepath.Glob(filepath.Join(dir, "quarantine", "*-inspections.rec"))
	if len(q) != 1 {
		t.Fatalf("quarantine %v", q)
	}
	s.close()
}

func TestSpoolStaleOrLostCursorReplays(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(13, 14))
	g := &seqGen{}
	s := openTestSpool(t, dir, 1<<20, g)
	for range 4 {
		if err := s.append(randRows(r, tblApplied, 3)); err != nil {
			t.Fatal(err)
		}
	}
	rec, _, _, _ := s.peek()
	if err := s.commit(rec); err != nil {
		t.Fatal(err)
	}
	s.close()
	// Cursor lost: everything left in the segment is replayed (the
	// committed record once more: the tables deduplicate it).
	if err := os.Remove(filepath.Join(dir, "cursor")); err != nil {
		t.Fatal(err)
	}
	s = openTestSpool(t, dir, 1<<20, g)
	if got := drain(t, s); len(got) != 4 {
		t.Fatalf("lost cursor: %d records, want 4", len(got))
	}
	s.close()
	// Corrupt cursor: same.
	s = openTestSpool(t, dir, 1<<20, g)
	for range 2 {
		if err := s.append(randRows(r, tblApplied, 3)); err != nil {
			t.Fatal(err)
		}
	}
	rec, _, _, _ = s.peek()
	s.commit(rec)
	s.close()
	os.WriteFile(filepath.Join(dir, "cursor"), []byte(strings.Repeat("x", 20)), 0o644)
	s = openTestSpool(t, dir, 1<<20, g)
	if got := drain(t, s); len(got) != 2 {
		t.Fatalf("corrupt cursor: %d records, want 2", len(got))
	}
	s.close()
}

func TestSpoolLock(t *testing.T) {
	dir := t.TempDir()
	g := &seqGen{}
	s := openTestSpool(t, dir, 1<<20, g)
	if _, err := openSpool(dir, 1<<20, discard, g.next); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open: %v, want in-use error", err)
	}
	s.close()
	s = openTestSpool(t, dir, 1<<20, g)
	s.close()
}
