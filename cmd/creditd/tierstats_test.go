package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
)

// Over HTTP: ?as_of= takes any RFC 3339 instant (lowercase t/z, offsets),
// says "out of range" for a year before 1900, and before an entity's
// registration the entity is 404 and not counted (registered_on
// 2020-03-10 begins at 2020-03-09T16:00:00Z).
func TestAsOfOverHTTP(t *testing.T) {
	s := startService(t, t.TempDir())
	code := "91350100M000100Y43"
	res, _ := s.postEvents(api.RoleSource, []byte(`{"id":"R1","uscc":"`+code+`","type":"registered","occurred_at":"2020-03-10T02:00:00Z","attrs":{"name":"n","region":"350100","registered_on":"2020-03-10"}}`+"\n"))
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
		resp, body := s.do("GET", "/v1/entities/"+code+"?as_of="+tc.asOf, api.RoleRegulator, nil)
		if resp.StatusCode != tc.status {
			t.Errorf("entity as of %s: %d %s, want %d", tc.asOf, resp.StatusCode, body, tc.status)
		}
		resp, body = s.do("GET", "/v1/stats/tiers?as_of="+tc.asOf, api.RoleRegulator, nil)
		if tc.status == 400 {
			if resp.StatusCode != 400 || !strings.Contains(string(body), "out of range") {
				t.Errorf("stats as of %s: %d %s", tc.asOf, resp.StatusCode, body)
			}
			continue
		}
		var doc api.TierStatsDoc
		if resp.StatusCode != 200 || json.Unmarshal(body, &doc) != nil || doc.Entities != tc.entities {
			t.Errorf("stats as of %s: %d %s, want %d entities", tc.asOf, resp.StatusCode, body, tc.entities)
		}
	}
}
