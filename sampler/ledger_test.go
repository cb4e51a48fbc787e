package sampler

import (
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/uscc"
)

func TestExclusionRules(t *testing.T) {
	asOf := testAsOf
	day := int64(daySeconds)
	at := func(daysBefore int64) int64 { return asOf.Unix() - daysBefore*day }
	c, _ := uscc.Parse("91350100M000100Y43")
	type sel struct {
		plan       string
		daysBefore int64
	}
	for _, tc := range []struct {
		name           string
		exclude, cap   int
		sels           []sel
		insp           []Inspection
		recent, capped bool
	}{
		{name: "nothing on record", exclude: 30, cap: 2},
		{name: "selected 10 days ago", exclude: 30, sels: []sel{{"P", 10}}, recent: true},
		{name: "selected exactly 30 days ago", exclude: 30, sels: []sel{{"P", 30}}, recent: true},
		{name: "selected 31 days ago", exclude: 30, sels: []sel{{"P", 31}}},
		{name: "inspected 5 days ago", exclude: 30, insp: []Inspection{{at(5), ""}}, recent: true},
		{name: "selected after as_of is ignored", exclude: 30, cap: 1, sels: []sel{{"P", -3}}},
		{name: "inspection after as_of is ignored", exclude: 30, cap: 1, insp: []Inspection{{at(-3), ""}}},
		{name: "two selections this year", cap: 2, sels: []sel{{"P", 100}, {"Q", 200}}, capped: true},
		{name: "one this year, one older", cap: 2, sels: []sel{{"P", 100}, {"Q", 400}}},
		{name: "selection and its inspection: one occasion", cap: 2, sels: []sel{{"P", 100}}, insp: []Inspection{{at(80), "P"}}},
		{name: "selection and its inspection and a follow-up: one occasion", cap: 2, sels: []sel{{"P", 100}}, insp: []Inspection{{at(80), "P"}, {at(60), "P"}}},
		{name: "selection and an inspection of another plan: two", cap: 2, sels: []sel{{"P", 100}}, insp: []Inspection{{at(80), "Q"}}, capped: true},
		{name: "selection and an unplanned inspection: two", cap: 2, sels: []sel{{"P", 100}}, insp: []Inspection{{at(80), ""}}, capped: true},
		{name: "inspection before the plan's selection does not merge", cap: 2, sels: []sel{{"P", 100}}, insp: []Inspection{{at(120), "P"}}, capped: true},
		{name: "old selection, inspected within the year: one occasion in the window", cap: 1, sels: []sel{{"P", 380}}, insp: []Inspection{{at(300), "P"}}, capped: true},
		{name: "old selection, inspected long ago: none", cap: 1, sels: []sel{{"P", 500}}, insp: []Inspection{{at(450), "P"}}},
		{name: "inspection merges with the latest selection of its plan", cap: 3, sels: []sel{{"P", 300}, {"P", 100}}, insp: []Inspection{{at(50), "P"}, {at(250), "P"}}},
		{name: "two unplanned inspections", cap: 2, insp: []Inspection{{at(50), ""}, {at(250), ""}}, capped: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLedger()
			for i, s := range tc.sels {
				l.Add(string(rune('a'+i)), s.plan, time.Unix(at(s.daysBefore), 0), []uscc.Code{c})
			}
			req := &draw.Request{AsOf: asOf, ExcludeSelectedWithinDays: tc.exclude, MaxInspectionsPerYear: tc.cap}
			x := newExclusion(req, l)
			u := &Unit{USCC: c, Inspections: tc.insp}
			recent, capped := x.check(u)
			if recent != tc.recent || capped != tc.capped {
				t.Fatalf("recent %v capped %v, want %v %v", recent, capped, tc.recent, tc.capped)
			}
		})
	}
	if newExclusion(&draw.Request{AsOf: asOf}, NewLedger()) != nil {
		t.Fatal("no exclusion settings should give no exclusion")
	}
	l := NewLedger()
	if !l.Add("d1", "P", asOf, []uscc.Code{c}) || l.Add("d1", "P", asOf, []uscc.Code{c}) || l.Draws() != 1 || l.Selections() != 1 {
		t.Fatal("ledger is not idempotent by draw id")
	}
}
