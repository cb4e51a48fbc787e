package ingest

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/metrics"
	"github.com/creditrisk/creditd/cmd/creditd/internal/testlines"
	"github.com/creditrisk/creditd/feeds/wal"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/scoring"
)

// snapStart is one start of the service on a data directory, cut down to
// what snapshots and the log do: open the log, recover, ingest, snapshot.
type snapStart struct {
	t   *testing.T
	eng *scoring.Engine
	log *wal.Log
	ing *Ingester
}

func startSnap(t *testing.T, data string) (*snapStart, error) {
	t.Helper()
	eng, err := scoring.New(scoring.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(data, "snapshots"), 0o750); err != nil {
		t.Fatal(err)
	}
	log, err := wal.Open(filepath.Join(data, "log"), wal.Options{SegmentSize: 4096, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	ing := New(eng, log, nil, metrics.New(), logger, Options{SnapshotDir: filepath.Join(data, "snapshots")})
	err = ing.Recover(context.Background(), nil, logger)
	return &snapStart{t: t, eng: eng, log: log, ing: ing}, err
}

// ingest appends lines to the log and applies them, as the ingester does.
func (s *snapStart) ingest(lines [][]byte) {
	if _, err := s.log.AppendBatch(lines); err != nil {
		s.t.Fatal(err)
	}
	var d event.Decoder
	for _, l := range lines {
		var ev event.Event
		if err := d.Decode(l, &ev); err != nil {
			s.t.Fatal(err)
		}
		s.eng.ApplyAt(&ev, s.eng.Now(), false, nil)
	}
}

func snapshotNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func corruptFile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x10
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
}

// A newest snapshot that fails its check at start is set aside, never
// counted: the next snapshot keeps the good older one and the log it needs,
// so a second corrupt snapshot still leaves the state recoverable, equal to
// applying every event. (Before: retention kept {new, corrupt}, deleted the
// good one and the log before the corrupt one's position, and the next
// failure made the data directory unrecoverable.) Leftover temporary files
// of interrupted snapshots are removed at start.
func TestSnapshotRetentionSkipsCorrupt(t *testing.T) {
	data := t.TempDir()
	snapDir := filepath.Join(data, "snapshots")
	lines := testlines.Gen(t, 40, 200, 3, 0)
	part := func(i int) [][]byte { return lines[i*len(lines)/4 : (i+1)*len(lines)/4] }
	q := func(i int) uint64 { return uint64((i + 1) * len(lines) / 4) } // log position after part i

	s, err := startSnap(t, data)
	if err != nil {
		t.Fatal(err)
	}
	s.ingest(part(0))
	s.ing.snapshot() // S(q0)
	s.ingest(part(1))
	s.ing.snapshot() // S(q1)
	s.log.Close()

	corruptFile(t, filepath.Join(snapDir, scoring.SnapshotName(q(1))))
	tmp := filepath.Join(snapDir, ".snapshot-12345.tmp")
	os.WriteFile(tmp, []byte("interrupted"), 0o640)

	s, err = startSnap(t, data) // restores S(q0), sets S(q1) aside
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("temporary snapshot file left at start: %v", err)
	}
	if !slices.Equal(s.ing.snaps.valid, []uint64{q(0)}) {
		t.Fatalf("verified snapshots after start: %v, want [%d]", s.ing.snaps.valid, q(0))
	}
	s.ingest(part(2))
	s.ing.snapshot() // S(q2): keeps S(q0), the only other one that verified
	want := []string{scoring.SnapshotName(q(0)), scoring.SnapshotName(q(1)) + ".corrupt", scoring.SnapshotName(q(2))}
	if got := snapshotNames(t, snapDir); !slices.Equal(got, want) {
		t.Fatalf("snapshots after retention: %v, want %v", got, want)
	}
	if first := s.log.Stats().First; first > wal.Position(q(0)) {
		t.Fatalf("the log was truncated to %d, after the oldest valid snapshot %d", first, q(0))
	}
	s.ingest(part(3))
	s.log.Close()

	corruptFile(t, filepath.Join(snapDir, scoring.SnapshotName(q(2))))
	s, err = startSnap(t, data) // S(q2) is corrupt too: S(q0) and the log
	if err != nil {
		t.Fatalf("second corrupt snapshot made the data unrecoverable: %v", err)
	}
	defer s.log.Close()
	if !slices.Equal(s.ing.snaps.valid, []uint64{q(0)}) || s.log.Next() != wal.Position(len(lines)) {
		t.Fatalf("restored %v, log at %d", s.ing.snaps.valid, s.log.Next())
	}
	clean, _ := scoring.New(scoring.Options{})
	var d event.Decoder
	for _, l := range lines {
		var ev event.Event
		d.Decode(l, &ev)
		clean.ApplyAt(&ev, clean.Now(), false, nil)
	}
	asOf := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	got, err1 := s.eng.TierStats(context.Background(), asOf, "")
	exp, err2 := clean.TierStats(context.Background(), asOf, "")
	if err1 != nil || err2 != nil || s.eng.Len() != clean.Len() || !reflect.DeepEqual(got, exp) {
		t.Fatalf("recovered state differs from applying every event: %d entities %+v, want %d %+v (%v %v)", s.eng.Len(), got, clean.Len(), exp, err1, err2)
	}
}

// A flipped byte mid-way in the last log segment stops the start with a
// message naming the segment, the offset and --wal-salvage, and changes
// nothing; with salvage the start goes on and the damaged part is kept.
func TestOpenLogRefusesCorruption(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, wal.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		l.Append([]byte(`{"id":"E-` + string(rune('a'+i)) + `"}`))
	}
	l.Close()
	seg := filepath.Join(dir, "00000000000000000000.wal")
	corruptFile(t, seg)
	before, _ := os.ReadFile(seg)
	_, err = OpenLog(dir, false, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("started on a log damaged mid-segment")
	}
	for _, s := range []string{"00000000000000000000.wal", "offset", "--wal-salvage", "nothing was changed"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q does not say %q", err, s)
		}
	}
	if after, _ := os.ReadFile(seg); !bytes.Equal(after, before) {
		t.Fatal("a refused start changed the segment")
	}
	l, err = OpenLog(dir, true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("--wal-salvage: %v", err)
	}
	defer l.Close()
	if rc := l.Recovery(); !rc.Damaged || rc.SetAside == "" || l.Next() >= 20 {
		t.Fatalf("salvage recovery %+v, next %d", rc, l.Next())
	}
}
