package scoring

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/creditrisk/creditd/models/uscc"
)

// withVersion rewrites a snapshot's version and fixes its checksum.
func withVersion(b []byte, v uint32) []byte {
	b = append([]byte(nil), b...)
	binary.LittleEndian.PutUint32(b[8:], v)
	binary.LittleEndian.PutUint32(b[len(b)-12:], crc32.Checksum(b[:len(b)-12], castagnoli))
	return b
}

// TestSnapshotVersion2Migrated: a version 2 snapshot (written before the
// penalty attributes were read: their record bytes zero) is restored with
// the attributes re-read from the stored attrs. Under shandong-5 a
// simple-procedure penalty is then not credit information (Art. 13): 600,
// tier C, not published in either channel; read as version 2 without the
// migration it would score −40 (560). A version 1 snapshot is refused.
func TestSnapshotVersion2Migrated(t *testing.T) {
	e := chanEngine(t, "shandong-5", chanEnterprise, chanLine(chanEnterprise, "REC", "penalty", "2026-04-01",
		`{"severity":"general","decision_no":"x","amount_yuan":200,"penalty_types":["fine"],"procedure":"simple"}`))
	// Make the state what version 2 wrote: no penalty attributes in the record.
	for _, s := range e.shards {
		for i := uint32(1); i < s.nrec; i++ {
			r := s.rec(i)
			r.pen, r.flags = 0, r.flags&^recSimple
		}
	}
	var buf bytes.Buffer
	if err := e.WriteSnapshot(&buf, 7); err != nil {
		t.Fatal(err)
	}
	v2 := withVersion(buf.Bytes(), 2)
	code, _ := uscc.Parse(chanEnterprise)
	at := mustInstant(t, "2026-04-02T02:00:00Z")

	f := boundaryEngine(t, "shandong-5")
	if pos, err := f.ReadSnapshot(bytes.NewReader(v2)); err != nil || pos != 7 {
		t.Fatalf("version 2: %d %v", pos, err)
	}
	v, _ := f.Entity(code, at, true)
	if v.Score != 600 || v.TierLabel != "C" || len(v.Records) != 1 || v.Records[0].SAMR.Status != StatusNotPublished ||
		v.Records[0].CreditChina.Status != StatusNotPublished {
		t.Errorf("migrated: score %d tier %s records %+v", v.Score, v.TierLabel, v.Records)
	}
	// The un-migrated state (the engine that wrote it) scores the penalty.
	if w, _ := e.Entity(code, at, false); w.Score != 560 {
		t.Errorf("without attributes: score %d, want 560", w.Score)
	}

	g := boundaryEngine(t, "shandong-5")
	_, err := g.ReadSnapshot(bytes.NewReader(withVersion(buf.Bytes(), 1)))
	if !errors.Is(err, ErrSnapshotCorrupt) || !strings.Contains(err.Error(), "version 2 or 3") {
		t.Errorf("version 1: %v", err)
	}
}
