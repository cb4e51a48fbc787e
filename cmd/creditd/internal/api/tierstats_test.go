package api

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/creditrisk/creditd/scoring"
)

// Two parts sum to the whole, rates are computed once from the sums
// (worked by hand: 1 found of 3 = 3333 bp, 2 adverse of 3 = 6667 bp), a
// JSON round trip (how Kafka members exchange parts) loses nothing, and
// parts of different schemes, instants or prefixes do not merge.
func TestTierStatsMerge(t *testing.T) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	p1 := scoring.TierStats{AsOf: at, Scheme: "national-4", RegionPrefix: "37", Entities: 5, Tiers: []scoring.TierStat{
		{Tier: "A", Entities: 4, Inspections: 2, Found: 1, Adverse: 1, ByResult: map[string]int{"no_problem": 1, "corrected": 1}},
		{Tier: "B", Entities: 1}}}
	p2 := scoring.TierStats{AsOf: at, Scheme: "national-4", RegionPrefix: "37", Entities: 2, Tiers: []scoring.TierStat{
		{Tier: "A", Entities: 1, Inspections: 1, Found: 0, Adverse: 1, ByResult: map[string]int{"refused": 1}},
		{Tier: "B", Entities: 1}}}
	doc := newTierStatsDoc(p1)
	b, _ := json.Marshal(newTierStatsDoc(p2))
	var part TierStatsDoc
	if err := json.Unmarshal(b, &part); err != nil {
		t.Fatal(err)
	}
	if err := doc.Add(&part); err != nil {
		t.Fatal(err)
	}
	doc.Finish()
	got, _ := json.Marshal(doc)
	want := `{"as_of":"2026-11-01T00:00:00Z","tier_scheme":"national-4","region_prefix":"37","entities":7,"tiers":[` +
		`{"tier":"A","entities":5,"inspections":3,"problems_found":1,"hit_rate_bp":3333,"adverse":2,"adverse_rate_bp":6667,"inspections_by_result":{"corrected":1,"no_problem":1,"refused":1}},` +
		`{"tier":"B","entities":2,"inspections":0,"problems_found":0,"hit_rate_bp":null,"adverse":0,"adverse_rate_bp":null,"inspections_by_result":{}}],` +
		`"definition":"` + tierStatsDefinition + `"}`
	if string(got) != want {
		t.Errorf("merged\n got %s\nwant %s", got, want)
	}
	for name, o := range map[string]scoring.TierStats{
		"scheme": {AsOf: at, Scheme: "shandong-5", RegionPrefix: "37", Tiers: p1.Tiers},
		"as_of":  {AsOf: at.Add(time.Second), Scheme: "national-4", RegionPrefix: "37", Tiers: p1.Tiers},
		"prefix": {AsOf: at, Scheme: "national-4", RegionPrefix: "3701", Tiers: p1.Tiers},
		"tiers":  {AsOf: at, Scheme: "national-4", RegionPrefix: "37", Tiers: p1.Tiers[:1]},
	} {
		if err := newTierStatsDoc(p1).Add(newTierStatsDoc(o)); err == nil {
			t.Errorf("parts differing in %s merged", name)
		}
	}
}
