package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
)

// statsAnswer is the /v1/stats/tiers answer.
type statsAnswer struct {
	RegionPrefix string `json:"region_prefix"`
	Entities     int    `json:"entities"`
	Tiers        []struct {
		Tier          string         `json:"tier"`
		Entities      int            `json:"entities"`
		Inspections   int            `json:"inspections"`
		ProblemsFound int            `json:"problems_found"`
		HitRateBP     *int           `json:"hit_rate_bp"`
		Adverse       int            `json:"adverse"`
		AdverseRateBP *int           `json:"adverse_rate_bp"`
		ByResult      map[string]int `json:"inspections_by_result"`
	} `json:"tiers"`
}

// statsRow is the expected line of one tier: entities, inspections,
// problems found, hit rate, adverse, adverse rate (-1: null).
type statsRow struct{ ents, insp, found, hitBP, adverse, advBP int }

// TestTierStatsByHand checks /v1/stats/tiers in memory (no ClickHouse) on a
// small event set whose answers are worked out by hand: the region filter
// at prefix boundaries, and the hit-rate definitions (README "Inspection
// hit rate": found = problem_found + corrected; adverse = every result but
// no_problem, domain.md §8; counted under the tier just before the
// inspection; basis points rounded half up).
//
// National-4 rules fixture (fixture_test.go; MODEL.md of 2026.11): base 600; INSP_CLEAN +10, INSP_PROBLEM −40,
// INSP_CORRECTED −15, INSP_REFUSED −50, INSP_UNREACHABLE −50, TAX_A +20,
// PEN_SERIOUS −90; cut-offs A ≥ 620, B ≥ 560, C ≥ 480. Every record is less
// than a year old at as_of, so nothing decays.
//
//	E1 91370102MA0000015A region 370102:
//	  03-01 no_problem    before 600 B → 610
//	  04-01 problem_found before 610 B → 570
//	  05-01 corrected     before 570 B → 555
//	  06-01 refused       before 555 C → 505
//	  07-01 unreachable   before 505 C → 455
//	  08-01 no_problem    before 455 D → 465 (D at as_of)
//	E2 91110000MA0000023W (USCC division 110000) region 370199 explicitly:
//	  02-01 tax A → 620; 03-01 no_problem before 620 A → 630;
//	  04-01 problem_found before 630 A → 590 (B at as_of)
//	E3 91370200MA00000318 region 370200: 05-01 serious penalty → 510 (C)
//	E4 91440300MA000004XF region 440300:
//	  03-01 refused before 600 B → 550; 05-01 no_problem before 550 C → 560 (B)
func TestTierStatsByHand(t *testing.T) {
	s := startService(t, t.TempDir(), "--model", rulesModelFile) // fixture_test.go
	var lines []string
	ev := func(id, code, typ, day, attrs string) {
		lines = append(lines, fmt.Sprintf(`{"id":%q,"uscc":%q,"type":%q,"occurred_at":"2025-%sT02:00:00Z","authority":"SAMR-37","attrs":%s}`, id, code, typ, day, attrs))
	}
	reg := func(id, code, region string) {
		ev(id, code, "registered", "01-02", fmt.Sprintf(`{"name":"企业%s","region":%q,"registered_on":"2019-05-06"}`, id, region))
	}
	insp := func(id, code, day, result string) {
		ev(id, code, "inspection", day, fmt.Sprintf(`{"plan_id":"37-2025-%s","result":%q}`, day[:2], result))
	}
	const e1, e2, e3, e4 = "91370102MA0000015A", "91110000MA0000023W", "91370200MA00000318", "91440300MA000004XF"
	reg("R1", e1, "370102")
	reg("R2", e2, "370199")
	reg("R3", e3, "370200")
	reg("R4", e4, "440300")
	insp("I11", e1, "03-01", "no_problem")
	insp("I12", e1, "04-01", "problem_found")
	insp("I13", e1, "05-01", "corrected")
	insp("I14", e1, "06-01", "refused")
	insp("I15", e1, "07-01", "unreachable")
	insp("I16", e1, "08-01", "no_problem")
	ev("T2", e2, "tax_rating", "02-01", `{"year":2024,"level":"A"}`)
	insp("I21", e2, "03-01", "no_problem")
	insp("I22", e2, "04-01", "problem_found")
	ev("P3", e3, "penalty", "05-01", `{"severity":"serious","decision_no":"鲁市监罚〔2025〕3号","amount_yuan":500000}`)
	insp("I41", e4, "03-01", "refused")
	insp("I42", e4, "05-01", "no_problem")
	res, code := s.postEvents(api.RoleSource, []byte(strings.Join(lines, "\n")+"\n"))
	if code != http.StatusOK || res.Applied != len(lines) || len(res.Rejected) != 0 {
		t.Fatalf("ingest: %d %+v", code, res)
	}

	const asOf = "2025-09-01T00:00:00Z"
	null := -1
	all := map[string]statsRow{
		"A": {0, 2, 1, 5000, 1, 5000}, // E2: no_problem, problem_found
		"B": {2, 4, 2, 5000, 3, 7500}, // E1 ×3 (no_problem, problem_found, corrected) + E4 refused
		"C": {1, 3, 0, 0, 2, 6667},    // E1 refused, unreachable; E4 no_problem: 2/3 = 6666.7 → 6667
		"D": {1, 1, 0, 0, 0, 0},       // E1 no_problem
	}
	jinan := map[string]statsRow{ // E1 and E2
		"A": {0, 2, 1, 5000, 1, 5000},
		"B": {1, 3, 2, 6667, 2, 6667}, // 2/3 both ways
		"C": {0, 2, 0, 0, 2, 10000},
		"D": {1, 1, 0, 0, 0, 0},
	}
	e1Only := map[string]statsRow{
		"A": {0, 0, 0, null, 0, null},
		"B": {0, 3, 2, 6667, 2, 6667},
		"C": {0, 2, 0, 0, 2, 10000},
		"D": {1, 1, 0, 0, 0, 0},
	}
	e2Only := map[string]statsRow{"A": {0, 2, 1, 5000, 1, 5000}, "B": {1, 0, 0, null, 0, null}, "C": {}, "D": {}}
	e3Only := map[string]statsRow{"A": {}, "B": {}, "C": {1, 0, 0, null, 0, null}, "D": {}}
	e4Only := map[string]statsRow{"A": {}, "B": {1, 1, 0, 0, 1, 10000}, "C": {0, 1, 0, 0, 0, 0}, "D": {}}
	none := map[string]statsRow{"A": {}, "B": {}, "C": {}, "D": {}}
	shandong := map[string]statsRow{ // E1, E2, E3
		"A": {0, 2, 1, 5000, 1, 5000},
		"B": {1, 3, 2, 6667, 2, 6667},
		"C": {1, 2, 0, 0, 2, 10000},
		"D": {1, 1, 0, 0, 0, 0},
	}
	for _, c := range []struct {
		prefix string
		want   map[string]statsRow
	}{
		{"", all},
		{"3", shandong},
		{"37", shandong},
		{"370", shandong},
		{"3701", jinan},    // E2 counts by its registered region, not its USCC's 110000
		{"37010", e1Only},  // 370102 yes, 370199 no
		{"37019", e2Only},  // 370199 only
		{"370102", e1Only}, // six digits: exact
		{"370103", none},   // next code: nobody
		{"370101", none},   // previous code: nobody
		{"3702", e3Only},
		{"44", e4Only},
		{"440300", e4Only},
		{"11", none}, // E2's USCC division is not its region
		{"0", none},
	} {
		q := "/v1/stats/tiers?as_of=" + url.QueryEscape(asOf) + "&region_prefix=" + url.QueryEscape(c.prefix)
		resp, body := s.do("GET", q, api.RoleRegulator, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("prefix %q: %d %s", c.prefix, resp.StatusCode, body)
		}
		var got statsAnswer
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, tier := range got.Tiers {
			w := c.want[tier.Tier]
			total += w.ents
			if w.insp == 0 {
				w.hitBP, w.advBP = null, null
			}
			g := statsRow{tier.Entities, tier.Inspections, tier.ProblemsFound, bp(tier.HitRateBP), tier.Adverse, bp(tier.AdverseRateBP)}
			if g != w {
				t.Errorf("prefix %q tier %s: got %+v, want %+v", c.prefix, tier.Tier, g, w)
			}
			sum := 0
			for _, n := range tier.ByResult {
				sum += n
			}
			if sum != tier.Inspections {
				t.Errorf("prefix %q tier %s: by result %v does not add up to %d", c.prefix, tier.Tier, tier.ByResult, tier.Inspections)
			}
		}
		if len(got.Tiers) != 4 || got.Entities != total || got.RegionPrefix != c.prefix {
			t.Errorf("prefix %q: %d tiers, entities %d (want %d), region_prefix %q", c.prefix, len(got.Tiers), got.Entities, total, got.RegionPrefix)
		}
	}

	// The tier counted is the one just before the inspection: one second
	// before E1's last inspection it is not counted at all, and E1 is in D.
	resp, body := s.do("GET", "/v1/stats/tiers?region_prefix=370102&as_of="+url.QueryEscape("2025-08-01T01:59:59Z"), api.RoleRegulator, nil)
	var before statsAnswer
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &before) != nil {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if d := before.Tiers[3]; d.Tier != "D" || d.Entities != 1 || d.Inspections != 0 {
		t.Errorf("before E1's last inspection: D = %+v, want 1 entity and no inspection", d)
	}

	// Prefixes that are not up to six digits are refused.
	for _, p := range []string{"3701021", "37a", "-37", " 37", "３７"} {
		resp, body := s.do("GET", "/v1/stats/tiers?region_prefix="+url.QueryEscape(p), api.RoleRegulator, nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("prefix %q: %d %s, want 400", p, resp.StatusCode, body)
		}
	}
}

func bp(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}
