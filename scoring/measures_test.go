package scoring

import (
	"slices"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/measure"
)

// Measures follow public records (domain.md §4.3, §4.6, §4.7): a breached
// commitment bars the commitment route until repaired and puts its matter
// up for review; a serious dishonesty listing carries the Art. 30–31
// restrictions while listed; an honour carries the Art. 26 incentives
// until its publicity ends; a removed listing carries none.
func TestMeasuresOf(t *testing.T) {
	clock := time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC)
	e, _ := New(Options{Now: func() time.Time { return clock }, Shards: 1})
	code := testCode(21).String()
	for _, l := range [][]byte{
		objLine("R", code, "registered", "2020-01-01T00:00:00Z", `{"name":"n","region":"370102","registered_on":"2020-01-01"}`),
		objLine("C1", code, "commitment_made", "2026-01-10T00:00:00Z", `{"commitment_no":"CN-1","matter":"食品经营许可"}`),
		objLine("C1B", code, "commitment_breached", "2026-03-02T00:00:00Z", `{"ref":"C1"}`),
		objLine("D1", code, "dishonest_listed", "2026-04-01T00:00:00Z", `{"reason":"r"}`),
		objLine("A1", code, "abnormal_listed", "2026-02-01T00:00:00Z", `{"reason":"unreachable_at_address"}`),
		objLine("A1R", code, "abnormal_removed", "2026-05-01T00:00:00Z", `{"ref":"A1"}`),
		objLine("H1", code, "honor", "2026-05-20T00:00:00Z", `{"title":"守合同重信用","level":"provincial"}`),
	} {
		if _, err := applyObj(t, e, l); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
	}
	v, _ := e.Entity(testCode(21), clock, true)
	m := MeasuresOf(&v)
	if !m.CommitmentBarred || !slices.Equal(m.BarredBy, []string{"C1", "D1"}) {
		t.Fatalf("bar: %v %v", m.CommitmentBarred, m.BarredBy)
	}
	if len(m.Review) != 1 || m.Review[0].Matter != "食品经营许可" || m.Review[0].CommitmentNo != "CN-1" || m.Review[0].BreachedOn != civil.MakeDate(2026, 3, 2) {
		t.Fatalf("review: %+v", m.Review)
	}
	got := map[string]int{}
	for _, a := range m.Active {
		got[a.Record+":"+a.Code]++
		if a.Record == "H1" && (a.Kind != measure.Incentive || a.Until == civil.NoDate) {
			t.Fatalf("honour measure: %+v", a)
		}
		if a.Record == "D1" && (a.Kind != measure.Restriction || a.Until != civil.NoDate || a.From != civil.MakeDate(2026, 4, 1)) {
			t.Fatalf("listing measure: %+v", a)
		}
	}
	want := map[string]int{"C1:no_commitment_route": 1, "D1:no_commitment_route": 1, "D1:key_supervision": 1,
		"D1:restricted_qualifications": 1, "D1:restricted_procurement": 1, "D1:no_simplified_deregistration": 1,
		"H1:green_channel": 1, "H1:accept_with_materials_pending": 1, "H1:fewer_checks": 1}
	if len(got) != len(want) {
		t.Fatalf("active measures %v, want %v", got, want)
	}
	for k := range want {
		if got[k] != 1 {
			t.Fatalf("active measures %v, want %v", got, want)
		}
	}
	// Changes since 1 April 2026 (CST): D1's five start on 1 April, A1's
	// key supervision ends on its removal (1 May 08:00 CST), H1's three
	// start on 20 May. C1's breach (2 March) and A1's start are earlier.
	ch := MeasureChanges(&v, civil.MakeDate(2026, 3, 31).Time())
	var lines []string
	for _, c := range ch {
		lines = append(lines, c.At.Format(time.RFC3339)+" "+c.Change+" "+c.Record+":"+c.Measure.Code)
	}
	wantLines := []string{
		"2026-03-31T16:00:00Z start D1:no_commitment_route", "2026-03-31T16:00:00Z start D1:key_supervision",
		"2026-03-31T16:00:00Z start D1:restricted_qualifications", "2026-03-31T16:00:00Z start D1:restricted_procurement",
		"2026-03-31T16:00:00Z start D1:no_simplified_deregistration",
		"2026-05-01T00:00:00Z end A1:key_supervision",
		"2026-05-19T16:00:00Z start H1:green_channel", "2026-05-19T16:00:00Z start H1:accept_with_materials_pending",
		"2026-05-19T16:00:00Z start H1:fewer_checks",
	}
	if !slices.Equal(lines, wantLines) {
		t.Fatalf("changes:\n%v\nwant\n%v", lines, wantLines)
	}
	// Repairing the breach lifts its bar (the listing still bars).
	if _, err := applyObj(t, e, objLine("RP", code, "repair", "2026-06-05T00:00:00Z", `{"ref":"C1B","decided_on":"2026-06-05"}`)); err != nil {
		t.Fatalf("repair of the breach: %v", err)
	}
	v, _ = e.Entity(testCode(21), clock, true)
	if m := MeasuresOf(&v); !slices.Equal(m.BarredBy, []string{"D1"}) || len(m.Review) != 0 {
		t.Fatalf("after repair: %+v", m)
	}
}
