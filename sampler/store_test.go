package sampler

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/uscc"
)

func storeRequest(plan, seed string, asOf time.Time) *draw.Request {
	r := testRequest(ratios(100000, 200000, 300000, 500000), seed)
	r.PlanID, r.AsOf = plan, asOf
	return r
}

func TestStoreRunAndReopen(t *testing.T) {
	dir := t.TempDir()
	store, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	src := &MemSource{Units: testUnits(21, 2000, []int{30, 55, 12, 3}, false), Parts: 4}
	s := New(store, Options{})
	rec, st, err := s.Run(context.Background(), storeRequest("P1", strings.Repeat("11", 16), testAsOf), src)
	if err != nil {
		t.Fatal(err)
	}
	if st.Replayed || st.Selected == 0 {
		t.Fatalf("stats %+v", st)
	}
	// the stored record and population verify
	got, err := store.Record(rec.DrawID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.AppendJSON(nil), rec.AppendJSON(nil)) {
		t.Fatal("stored record differs")
	}
	f, err := store.Population(rec.DrawID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(context.Background(), got, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := store.Record("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing record: %v", err)
	}
	if _, err := store.Population("../records/x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("path outside the store: %v", err)
	}

	// the same request again is the same draw
	again, st2, err := s.Run(context.Background(), storeRequest("P1", strings.Repeat("11", 16), testAsOf), src)
	if err != nil || !st2.Replayed || again.DrawID != rec.DrawID {
		t.Fatalf("replay: %v %+v %s", err, st2, again.DrawID)
	}
	// another request with the same seed is refused
	other := storeRequest("P1", strings.Repeat("11", 16), testAsOf)
	other.Allocation = ratios(100000, 200000, 300000, 600000)
	if _, _, err := s.Run(context.Background(), other, src); !errors.Is(err, ErrSeedReused) {
		t.Fatalf("seed reuse: %v", err)
	}

	// a reopened store has rebuilt the ledger: a later draw excluding
	// recent selections does not select them again
	leftover := filepath.Join(dir, populationsDir, "draw-123.tmp")
	os.WriteFile(leftover, []byte("x"), 0o644)
	orphan := filepath.Join(dir, populationsDir, "P9-20260101T000000Z-000000000000.txt")
	os.WriteFile(orphan, []byte("x"), 0o644)
	store2, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{leftover, orphan} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s was not cleaned up", p)
		}
	}
	if store2.Ledger().Draws() != 1 || store2.Ledger().Selections() != len(rec.Selected) {
		t.Fatalf("ledger: %d draws, %d selections", store2.Ledger().Draws(), store2.Ledger().Selections())
	}
	if infos := store2.Records("P1"); len(infos) != 1 || infos[0].DrawID != rec.DrawID || infos[0].Selected != len(rec.Selected) {
		t.Fatalf("records: %+v", infos)
	}
	s2 := New(store2, Options{})
	later := storeRequest("P2", strings.Repeat("22", 16), testAsOf.Add(10*24*time.Hour))
	later.ExcludeSelectedWithinDays = 30
	rec2, st3, err := s2.Run(context.Background(), later, src)
	if err != nil {
		t.Fatal(err)
	}
	if st3.Excluded.RecentlySelected != int64(len(rec.Selected)) || st3.Eligible != int64(len(src.Units))-int64(len(rec.Selected)) {
		t.Fatalf("exclusion: %+v", st3)
	}
	first := map[uscc.Code]bool{}
	for _, s := range rec.Selected {
		first[s.USCC] = true
	}
	for _, s := range rec2.Selected {
		if first[s.USCC] {
			t.Fatalf("%s selected again within 30 days", s.USCC)
		}
	}
}

func TestStoreCommitments(t *testing.T) {
	store, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := testAsOf.Add(-time.Hour)
	s := New(store, Options{Now: func() time.Time { return now }})
	src := &MemSource{Units: testUnits(22, 500, []int{30, 55, 12, 3}, false)}
	seed := strings.Repeat("ab", 16)
	digest := draw.SeedDigest(storeRequest("P", seed, testAsOf).SeedBytes())

	if _, err := s.Commit("P", "xyz"); err == nil {
		t.Fatal("bad commitment accepted")
	}
	c, err := s.Commit("P", strings.ToUpper(digest))
	if err != nil || c.Commitment != digest || !c.CommittedAt.Equal(now) {
		t.Fatalf("commit: %+v %v", c, err)
	}
	if c2, err := s.Commit("P", digest); err != nil || !c2.CommittedAt.Equal(now) {
		t.Fatalf("re-commit: %+v %v", c2, err)
	}
	if _, err := s.Commit("Q", digest); !errors.Is(err, ErrCommitment) {
		t.Fatalf("commitment for another plan: %v", err)
	}
	// another seed for the committed plan is refused
	if _, _, err := s.Run(context.Background(), storeRequest("P", strings.Repeat("cd", 16), testAsOf), src); !errors.Is(err, ErrCommitment) {
		t.Fatalf("uncommitted seed: %v", err)
	}
	// the committed seed for another plan is refused
	if _, _, err := s.Run(context.Background(), storeRequest("Q", seed, testAsOf), src); !errors.Is(err, ErrCommitment) {
		t.Fatalf("seed of another plan: %v", err)
	}
	// a draw as of before the commitment is refused
	if _, _, err := s.Run(context.Background(), storeRequest("P", seed, now.Add(-time.Minute)), src); !errors.Is(err, ErrCommitment) {
		t.Fatalf("commitment after as_of: %v", err)
	}
	rec, _, err := s.Run(context.Background(), storeRequest("P", seed, testAsOf), src)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Request.SeedCommitment != digest {
		t.Fatalf("record's commitment %q", rec.Request.SeedCommitment)
	}
	// the commitment is used now: the plan may draw with a new seed
	if _, _, err := s.Run(context.Background(), storeRequest("P", strings.Repeat("cd", 16), testAsOf), src); err != nil {
		t.Fatalf("second draw of the plan: %v", err)
	}
	// the store remembers commitments across opens
	store2, err := OpenStore(store.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if cs := store2.Commitments("P"); len(cs) != 1 || cs[0].Commitment != digest || cs[0].UsedBy != rec.DrawID {
		t.Fatalf("commitments after reopen: %+v", cs)
	}
	// a seed revealed by a draw cannot be committed afterwards
	revealed := draw.SeedDigest(storeRequest("P", strings.Repeat("cd", 16), testAsOf).SeedBytes())
	if _, err := store2.Commit("P", revealed, now); !errors.Is(err, ErrSeedReused) {
		t.Fatalf("committing a revealed seed: %v", err)
	}
	strict := New(store2, Options{RequireCommitment: true})
	if _, _, err := strict.Run(context.Background(), storeRequest("R", strings.Repeat("ef", 16), testAsOf), src); !errors.Is(err, ErrCommitment) {
		t.Fatalf("RequireCommitment: %v", err)
	}
}

func TestOpenStoreCorrupt(t *testing.T) {
	dir := t.TempDir()
	store, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	src := &MemSource{Units: testUnits(23, 300, []int{30, 55, 12, 3}, false)}
	rec, _, err := New(store, Options{}).Run(context.Background(), storeRequest("P", strings.Repeat("12", 16), testAsOf), src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, recordsDir, rec.DrawID+".json")
	data, _ := os.ReadFile(path)
	os.WriteFile(path, data[:len(data)/2], 0o644)
	if _, err := OpenStore(dir); err == nil || !strings.Contains(err.Error(), rec.DrawID) {
		t.Fatalf("corrupt record: %v", err)
	}
	os.WriteFile(path, data, 0o644)
	os.Remove(filepath.Join(dir, populationsDir, rec.DrawID+".txt"))
	if _, err := OpenStore(dir); err == nil || !strings.Contains(err.Error(), "no population") {
		t.Fatalf("missing population: %v", err)
	}
}

// failingWriter fails after n bytes.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, io.ErrShortWrite
	}
	return len(p), nil
}

func TestDrawWriterError(t *testing.T) {
	src := &MemSource{Units: testUnits(24, 3000, []int{30, 55, 12, 3}, true), Parts: 3}
	_, _, err := Draw(context.Background(), storeRequest("P", strings.Repeat("34", 16), testAsOf), src, nil, &failingWriter{n: 1000}, Options{})
	if !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("error %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Draw(ctx, storeRequest("P", strings.Repeat("34", 16), testAsOf), src, nil, io.Discard, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
