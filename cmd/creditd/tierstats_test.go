package main

import (
	"encoding/json"
	"strings"
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
	var part tierStatsDoc
	if err := json.Unmarshal(b, &part); err != nil {
		t.Fatal(err)
	}
	if err := doc.add(&part); err != nil {
		t.Fatal(err)
	}
	doc.finish()
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
		if err := newTierStatsDoc(p1).add(newTierStatsDoc(o)); err == nil {
			t.Errorf("parts differing in %s merged", name)
		}
	}
}

// Over HTTP: ?as_of= takes any RFC 3339 instant (lowercase t/z, offsets),
// says "out of range" for a year before 1900, and before an entity's
// registration the entity is 404 and not counted (registered_on
// 2020-03-10 begins at 2020-03-09T16:00:00Z).
func TestAsOfOverHTTP(t *testing.T) {
	s := startService(t, t.TempDir())
	code := "91350100M000100Y43"
	res, _ := s.postEvents(RoleSource, []byte(`{"id":"R1","uscc":"`+code+`","type":"registered","occurred_at":"2020-03-10T02:00:00Z","attrs":{"name":"n","region":"350100","registered_on":"2020-03-10"}}`+"\n"))
	if res.Applied != 1 {
		t.Fatalf("registration not applied: %+v", res)
	}
	for _, tc := range []struct {
		asOf     string
		status   int
		entities int
	}{
		{"2020-03-09T16:00:00Z", 200, 1},
		{"2020-03-10t00:00:00%2B08:00", 200, 1},
		{"2020-03-09t15:59:59.999999999z", 404, 0},
		{"2020-03-08T16:00:00Z", 404, 0},
		{"1000-01-01T00:00:00Z", 400, 0},
	} {
		resp, body := s.do("GET", "/v1/entities/"+code+"?as_of="+tc.asOf, RoleRegulator, nil)
		if resp.StatusCode != tc.status {
			t.Errorf("entity as of %s: %d %s, want %d", tc.asOf, resp.StatusCode, body, tc.status)
		}
		resp, body = s.do("GET", "/v1/stats/tiers?as_of="+tc.asOf, RoleRegulator, nil)
		if tc.status == 400 {
			if resp.StatusCode != 400 || !strings.Contains(string(body), "out of range") {
				t.Errorf("stats as of %s: %d %s", tc.asOf, resp.StatusCode, body)
			}
			continue
		}
		var doc tierStatsDoc
		if resp.StatusCode != 200 || json.Unmarshal(body, &doc) != nil || doc.Entities != tc.entities {
			t.Errorf("stats as of %s: %d %s, want %d entities", tc.asOf, resp.StatusCode, body, tc.entities)
		}
	}
}
