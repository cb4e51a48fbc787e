package scoring

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/event"
)

// objLine builds a credit-event/v1 line for the objection tests.
func objLine(id, code, typ, at, attrs string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"uscc":%q,"type":%q,"occurred_at":%q,"authority":"SAMR-370102","attrs":%s}`, id, code, typ, at, attrs)
}

func applyObj(t *testing.T, e *Engine, line []byte) (Result, error) {
	t.Helper()
	var d event.Decoder
	var ev event.Event
	if err := d.Decode(line, &ev); err != nil {
		t.Fatalf("decode %s: %v", line, err)
	}
	return e.Apply(&ev, nil)
}

func reason(err error) string {
	var rej *event.RejectError
	if errors.As(err, &rej) {
		return rej.Reason
	}
	return fmt.Sprint(err)
}

// An objection (domain.md §4.8) marks its record while open; upheld
// withdraws the record from the answer on (score recomputed, the answer as
// the cause), rejected keeps it; one open objection per record; a referral
// comes once; the state survives a snapshot.
func TestObjectionLifecycle(t *testing.T) {
	clock := time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC)
	e, _ := New(Options{Now: func() time.Time { return clock }, Shards: 2})
	code := testCode(11).String()
	steps := []struct {
		line []byte
		want string // rejection reason, "" for applied
	}{
		{objLine("R", code, "registered", "2020-01-01T00:00:00Z", `{"name":"n","region":"370102","registered_on":"2020-01-01"}`), ""},
		{objLine("P1", code, "penalty", "2026-05-01T00:00:00Z", `{"severity":"serious","decision_no":"d1"}`), ""},
		{objLine("P2", code, "penalty", "2026-05-02T00:00:00Z", `{"severity":"general","decision_no":"d2"}`), ""},
		{objLine("O0", code, "objection_filed", "2026-06-01T00:00:00Z", `{"ref":"R","reason":"x"}`), event.ReasonUnknownRef}, // the registration is no record
		{objLine("O0", code, "objection_filed", "2026-06-01T00:00:00Z", `{"ref":"NOPE","reason":"x"}`), event.ReasonUnknownRef},
		{objLine("O0", code, "objection_filed", "2026-04-01T00:00:00Z", `{"ref":"P1","reason":"x"}`), event.ReasonRefOrder},
		{objLine("O1", code, "objection_filed", "2026-06-01T00:00:00Z", `{"ref":"P1","reason":"决定已撤销"}`), ""},
		{objLine("O1b", code, "objection_filed", "2026-06-01T01:00:00Z", `{"ref":"P1","reason":"again"}`), event.ReasonConflict},
		{objLine("O1c", code, "objection_filed", "2026-06-01T01:00:00Z", `{"ref":"O1","reason":"x"}`), event.ReasonRefType},
		{objLine("O2", code, "objection_filed", "2026-06-01T00:00:00Z", `{"ref":"P2","reason":"金额有误"}`), ""},
		{objLine("A0", code, "objection_answered", "2026-06-02T00:00:00Z", `{"ref":"P1","outcome":"upheld","reasons":"x"}`), event.ReasonRefType},
		{objLine("A2r", code, "objection_answered", "2026-06-02T00:00:00Z", `{"ref":"O2","outcome":"referred","reasons":"需税务机关核实"}`), ""},
		{objLine("A2r2", code, "objection_answered", "2026-06-02T01:00:00Z", `{"ref":"O2","outcome":"referred","reasons":"again"}`), event.ReasonConflict},
		{objLine("A2", code, "objection_answered", "2026-06-05T00:00:00Z", `{"ref":"O2","outcome":"rejected","reasons":"金额与决定书一致"}`), ""},
		{objLine("A2b", code, "objection_answered", "2026-06-06T00:00:00Z", `{"ref":"O2","outcome":"upheld","reasons":"x"}`), event.ReasonAlreadyEnded},
	}
	for i, st := range steps {
		_, err := applyObj(t, e, st.line)
		got := ""
		if err != nil {
			got = reason(err)
		}
		if got != st.want {
			t.Fatalf("step %d %s: got %q (%v), want %q", i, st.line, reason(err), err, st.want)
		}
	}
	c := testCode(11)
	before, _ := e.Entity(c, clock, true)
	var p1 RecordView
	for _, r := range before.Records {
		if r.ID == "P1" {
			p1 = r
		}
		if r.ID == "P2" && (r.Objection == nil || r.Objection.Status != ObjectionRejected || r.Objection.Answer != "金额与决定书一致" || r.Status != StatusActive) {
			t.Fatalf("P2 after rejection: %+v %+v", r, r.Objection)
		}
	}
	if p1.Objection == nil || p1.Objection.Status != ObjectionPending || p1.Objection.Reason != "决定已撤销" || p1.Status != StatusActive || p1.Points == 0 {
		t.Fatalf("P1 under objection: %+v %+v", p1, p1.Objection)
	}
	// The score without P1 is what an engine that never had it says.
	ref, _ := New(Options{Now: func() time.Time { return clock }, Shards: 2})
	for _, st := range steps[:3] {
		if !bytes.Contains(st.line, []byte(`"P1"`)) {
			_, _ = applyObj(t, ref, st.line)
		}
	}
	_, _ = applyObj(t, ref, objLine("O2x", code, "objection_filed", "2026-06-01T00:00:00Z", `{"ref":"P2","reason":"x"}`))
	want, _ := ref.Entity(c, clock, false)
	if want.Score == before.Score {
		t.Fatal("the test needs P1 to move the score")
	}
	res, err := applyObj(t, e, objLine("A1", code, "objection_answered", "2026-06-03T00:00:00Z", `{"ref":"O1","outcome":"upheld","reasons":"处罚决定已被撤销"}`))
	if err != nil {
		t.Fatal(err)
	}
	after, _ := e.Entity(c, clock, true)
	if after.Score != want.Score {
		t.Fatalf("score after upheld %d, want %d (without P1); before %d", after.Score, want.Score, before.Score)
	}
	if before.Tier != after.Tier && (res.NChanges == 0 || res.Changes[res.NChanges-1].Cause != "A1") {
		t.Fatalf("tier change cause: %+v", res)
	}
	for _, r := range after.Records {
		if r.ID == "P1" && (r.Status != StatusWithdrawn || r.EndedBy != "A1" || r.Points != 0 || r.Objection.Status != ObjectionUpheld) {
			t.Fatalf("P1 after upheld: %+v %+v", r, r.Objection)
		}
	}
	// As of before the answer, P1 still counts (history does not change).
	then, _ := e.Entity(c, time.Date(2026, 6, 2, 12, 0, 0, 0, time.UTC), false)
	if then.Score != before.Score {
		t.Fatalf("score as of before the answer %d, want %d", then.Score, before.Score)
	}
	// A withdrawn record takes no new objection.
	if _, err := applyObj(t, e, objLine("O3", code, "objection_filed", "2026-06-04T00:00:00Z", `{"ref":"P1","reason":"x"}`)); reason(err) != event.ReasonAlreadyEnded {
		t.Fatalf("objection to a withdrawn record: %v", err)
	}
	// Listing, and after a snapshot round trip.
	list := func(e *Engine, open bool) map[string]string {
		out := map[string]string{}
		_ = e.Objections(context.Background(), clock, open, func(v *ObjectionView) error { out[v.ID] = v.Status; return nil })
		return out
	}
	if got := list(e, false); len(got) != 2 || got["O1"] != ObjectionUpheld || got["O2"] != ObjectionRejected {
		t.Fatalf("all objections: %v", got)
	}
	if got := list(e, true); len(got) != 0 {
		t.Fatalf("open objections: %v", got)
	}
	_, _ = applyObj(t, e, objLine("O4", code, "objection_filed", "2026-06-09T00:00:00Z", `{"ref":"P2","reason":"y"}`))
	var buf bytes.Buffer
	if err := e.WriteSnapshot(&buf, 7); err != nil {
		t.Fatal(err)
	}
	e2, _ := New(Options{Now: func() time.Time { return clock }, Shards: 2})
	if _, err := e2.ReadSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	if got := list(e2, true); len(got) != 1 || got["O4"] != ObjectionPending {
		t.Fatalf("open objections after snapshot: %v", got)
	}
	if v, ok := e2.Objection(c, "O1", clock); !ok || v.Status != ObjectionUpheld || v.Record != "P1" || v.AnsweredBy != "A1" || v.Category != "penalty" {
		t.Fatalf("Objection(O1): %+v %v", v, ok)
	}
	if _, ok := e2.Objection(c, "P1", clock); ok {
		t.Fatal("a record that is not an objection was found as one")
	}
}

// EntityEvents rebuilds an entity with its objections, the answer after
// its objection even at the same instant.
func TestObjectionExport(t *testing.T) {
	clock := time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC)
	e, _ := New(Options{Now: func() time.Time { return clock }, Shards: 1})
	code := testCode(12).String()
	for _, l := range [][]byte{
		objLine("R", code, "registered", "2020-01-01T00:00:00Z", `{"name":"n","region":"370102","registered_on":"2020-01-01"}`),
		objLine("P1", code, "penalty", "2026-05-01T00:00:00Z", `{"severity":"serious","decision_no":"d1"}`),
		objLine("Z1", code, "objection_filed", "2026-06-01T00:00:00Z", `{"ref":"P1","reason":"x"}`),
		objLine("A1", code, "objection_answered", "2026-06-01T00:00:00Z", `{"ref":"Z1","outcome":"upheld","reasons":"y"}`),
	} {
		if _, err := applyObj(t, e, l); err != nil {
			t.Fatal(err)
		}
	}
	lines, _ := e.EntityEvents(testCode(12))
	e2, _ := New(Options{Now: func() time.Time { return clock }, Shards: 1})
	for _, l := range lines {
		if _, err := applyObj(t, e2, l); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
	}
	a, _ := e.Entity(testCode(12), clock, false)
	b, _ := e2.Entity(testCode(12), clock, false)
	if a.Score != b.Score || a.Tier != b.Tier {
		t.Fatalf("rebuilt %d/%v, original %d/%v", b.Score, b.Tier, a.Score, a.Tier)
	}
}
