package sampler

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
)

// tamperDraw is a draw with every kind of member filled in: filter,
// exclusion settings, department, conflicts, a commitment, a tight load cap
// (so that some entities are unassigned), warnings.
func tamperDraw(t testing.TB) (*draw.Record, []byte) {
	t.Helper()
	units := testUnits(11, 3000, []int{30, 55, 12, 3}, false)
	var pool []draw.Inspector
	for i, r := range []string{"", "3701", "370102", "3702", "", "3703", "37", "370301"} {
		in := draw.Inspector{ID: "insp-" + string(rune('a'+i))}
		if r != "" {
			in.Regions = []string{r}
		}
		if i%3 == 1 {
			in.Departments = []string{"食品"}
		}
		if i%3 == 2 {
			in.Departments = []string{"市场监管", "食品"}
		}
		pool = append(pool, in)
	}
	seed := strings.Repeat("5a", 20)
	req := &draw.Request{
		PlanID: "SD 2026/Q1", AsOf: testAsOf,
		Population:                draw.Population{RegionPrefix: "37", EntityTypes: []string{"1", "2"}, RegistrationAuthorities: []string{"9"}},
		ExcludeSelectedWithinDays: 30, MaxInspectionsPerYear: 2,
		Allocation: ratios(10000, 20000, 50000, 300000),
		Inspectors: draw.Inspectors{Pool: pool, PerEntity: 2, MaxLoad: 4},
		Department: "食品",
		Seed:       seed,
	}
	req.SeedCommitment = draw.SeedDigest(req.SeedBytes())
	for _, u := range units[:40] {
		req.Conflicts = append(req.Conflicts, draw.Conflict{Inspector: "insp-a", USCC: u.USCC})
	}
	var pop bytes.Buffer
	rec, _, err := Draw(context.Background(), req, &MemSource{Units: units, Parts: 4}, nil, &pop, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Selected) < 10 || len(rec.Warnings) == 0 {
		t.Fatalf("tamper draw too small: %d selected, warnings %q", len(rec.Selected), rec.Warnings)
	}
	un := 0
	for _, s := range rec.Selected {
		if s.Unassigned > 0 {
			un++
		}
	}
	if un == 0 || un == len(rec.Selected) {
		t.Fatalf("want some unassigned entities, have %d of %d", un, len(rec.Selected))
	}
	return rec, pop.Bytes()
}

func firstWith(rec *draw.Record, f func(*draw.Selection) bool) *draw.Selection {
	for i := range rec.Selected {
		if f(&rec.Selected[i]) {
			return &rec.Selected[i]
		}
	}
	return nil
}

func TestVerifyTamper(t *testing.T) {
	orig, pop := tamperDraw(t)
	enc := orig.AppendJSON(nil)
	if _, err := Verify(context.Background(), orig, bytes.NewReader(pop)); err != nil {
		t.Fatalf("untampered record: %v", err)
	}
	fresh := func() *draw.Record {
		r, err := draw.ParseRecord(enc)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	lines := strings.SplitAfter(string(pop), "\n")
	lines = lines[:len(lines)-1]
	editLines := func(f func([]string) []string) []byte {
		return []byte(strings.Join(f(append([]string(nil), lines...)), ""))
	}
	sel0 := func(r *draw.Record) *draw.Selection { return &r.Selected[0] }
	for _, tc := range []struct {
		name  string
		rec   func(*draw.Record)
		pop   func([]string) []string
		field string // prefix of VerifyError.Field
	}{
		{name: "draw_id", rec: func(r *draw.Record) { r.DrawID = r.DrawID[:len(r.DrawID)-1] + "0" }, field: "draw_id"},
		{name: "plan_id", rec: func(r *draw.Record) { r.Request.PlanID = "SD 2026/Q2" }, field: "draw_id"},
		{name: "as_of", rec: func(r *draw.Record) { r.Request.AsOf = r.Request.AsOf.Add(1e9) }, field: "draw_id"},
		{name: "exclusion days", rec: func(r *draw.Record) { r.Request.ExcludeSelectedWithinDays = 0 }, field: "draw_id"},
		{name: "per-year cap", rec: func(r *draw.Record) { r.Request.MaxInspectionsPerYear = 3 }, field: "draw_id"},
		{name: "region prefix", rec: func(r *draw.Record) { r.Request.Population.RegionPrefix = "3702" }, field: "selected["},
		{name: "entity types", rec: func(r *draw.Record) { r.Request.Population.EntityTypes = []string{"1"} }, field: "population line"},
		{name: "authorities", rec: func(r *draw.Record) { r.Request.Population.RegistrationAuthorities = []string{"N"} }, field: "population line"},
		{name: "ratio", rec: func(r *draw.Record) { r.Request.Allocation.Ratios[3].Value = 310000 }, field: "strata.D.n"},
		{name: "pool id", rec: func(r *draw.Record) { r.Request.Inspectors.Pool[2].ID = "insp-z" }, field: "selected["},
		{name: "pool region", rec: func(r *draw.Record) { r.Request.Inspectors.Pool[2].Regions = nil }, field: "selected["},
		{name: "per_entity", rec: func(r *draw.Record) { r.Request.Inspectors.PerEntity = 3 }, field: "selected["},
		{name: "max_load", rec: func(r *draw.Record) { r.Request.Inspectors.MaxLoad = 5 }, field: "selected["},
		{name: "department", rec: func(r *draw.Record) { r.Request.Department = "市场监管" }, field: "selected["},
		{name: "conflicts", rec: func(r *draw.Record) {
			s := firstWith(r, func(s *draw.Selection) bool { return len(s.Inspectors) > 0 })
			r.Request.Conflicts = append(r.Request.Conflicts, draw.Conflict{Inspector: s.Inspectors[0], USCC: s.USCC})
		}, field: "selected["},
		{name: "seed", rec: func(r *draw.Record) { r.Request.Seed = strings.Repeat("5b", 20) }, field: "request"},
		{name: "seed without commitment", rec: func(r *draw.Record) {
			r.Request.Seed, r.Request.SeedCommitment = strings.Repeat("5b", 20), ""
		}, field: "selected[0].priority"},
		{name: "commitment", rec: func(r *draw.Record) {
			r.Request.SeedCommitment = draw.SeedDigest([]byte("other"))
		}, field: "request"},
		{name: "scheme", rec: func(r *draw.Record) { r.Scheme = tier.Shandong5 }, field: "request"},
		{name: "digest", rec: func(r *draw.Record) { r.PopulationDigest[0] ^= 1 }, field: "population_digest"},
		{name: "stratum N", rec: func(r *draw.Record) { r.Strata[1].N++ }, field: "strata.B.N"},
		{name: "stratum n", rec: func(r *draw.Record) { r.Strata[1].Sample-- }, field: "strata.B.n"},
		{name: "stratum pi", rec: func(r *draw.Record) { r.Strata[1].Pi = "0.030000" }, field: "strata.B.pi"},
		{name: "selected uscc", rec: func(r *draw.Record) { sel0(r).USCC[17] = '0' + (sel0(r).USCC[17]-'0'+1)%10 }, field: "selected[0].uscc"},
		{name: "selected region", rec: func(r *draw.Record) {
			s := firstWith(r, func(s *draw.Selection) bool { return len(s.Inspectors) > 0 })
			copy(s.Region[:], "110101")
		}, field: "selected["},
		{name: "selected region, same assignment", rec: func(r *draw.Record) { sel0(r).Region[5] ^= 1 }, field: ""},
		{name: "selected tier", rec: func(r *draw.Record) { sel0(r).Tier ^= 1 }, field: "selected[0].tier"},
		{name: "selected priority", rec: func(r *draw.Record) { sel0(r).Priority[31] ^= 1 }, field: "selected[0].priority"},
		{name: "inspector order", rec: func(r *draw.Record) {
			s := firstWith(r, func(s *draw.Selection) bool { return len(s.Inspectors) == 2 })
			s.Inspectors[0], s.Inspectors[1] = s.Inspectors[1], s.Inspectors[0]
		}, field: "selected["},
		{name: "inspector swapped", rec: func(r *draw.Record) {
			s := firstWith(r, func(s *draw.Selection) bool { return len(s.Inspectors) == 2 })
			s.Inspectors[1] = "insp-h"
			if s.Inspectors[0] == "insp-h" {
				s.Inspectors[1] = "insp-g"
			}
		}, field: "selected["},
		{name: "unassigned", rec: func(r *draw.Record) {
			s := firstWith(r, func(s *draw.Selection) bool { return s.Unassigned > 0 })
			s.Unassigned++
		}, field: "selected["},
		{name: "reason", rec: func(r *draw.Record) {
			s := firstWith(r, func(s *draw.Selection) bool { return s.Unassigned > 0 })
			s.Reason += "."
		}, field: "selected["},
		{name: "dropped selection", rec: func(r *draw.Record) { r.Selected = r.Selected[1:] }, field: "selected"},
		{name: "repeated selection", rec: func(r *draw.Record) { r.Selected = append(r.Selected, r.Selected[0]) }, field: "selected["},
		{name: "reordered selection", rec: func(r *draw.Record) { r.Selected[0], r.Selected[1] = r.Selected[1], r.Selected[0] }, field: "selected["},
		{name: "warnings", rec: func(r *draw.Record) { r.Warnings = nil }, field: "draw_id"},
		{name: "line tier", pop: func(l []string) []string { l[5] = l[5][:19] + "D\n"; return l }, field: "population_digest"},
		{name: "line removed", pop: func(l []string) []string { return append(l[:7], l[8:]...) }, field: "population_digest"},
		{name: "line added", pop: func(l []string) []string { return append(l[:1], l...) }, field: "population line 2"},
		{name: "lines swapped", pop: func(l []string) []string { l[3], l[4] = l[4], l[3]; return l }, field: "population line 5"},
		{name: "line uscc", pop: func(l []string) []string { l[9] = l[9][:17] + "Y" + l[9][18:]; return l }, field: "population"},
		{name: "no final newline", pop: func(l []string) []string { l[len(l)-1] = strings.TrimSuffix(l[len(l)-1], "\n"); return l }, field: "population line"},
		{name: "line garbage", pop: func(l []string) []string { l[2] = "hello\n"; return l }, field: "population line 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fresh()
			p := pop
			if tc.rec != nil {
				tc.rec(r)
			}
			if tc.pop != nil {
				p = editLines(tc.pop)
			}
			_, err := Verify(context.Background(), r, bytes.NewReader(p))
			if err == nil {
				t.Fatal("tampered draw verifies")
			}
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("%T %v is not a *VerifyError", err, err)
			}
			if !strings.HasPrefix(ve.Field, tc.field) {
				t.Fatalf("first difference %q, want a field starting %q", err, tc.field)
			}
			if strings.HasPrefix(ve.Field, "selected[") && ve.Entity == "" {
				t.Fatalf("difference in a selected entity does not name it: %v", err)
			}
			t.Log(err)
		})
	}
}

// TestVerifyTamperJSON tampers with the published JSON text and checks the
// parse or the verification catches it.
func TestVerifyTamperJSON(t *testing.T) {
	rec, pop := tamperDraw(t)
	enc := string(rec.AppendJSON(nil))
	for _, tc := range []struct{ old, new, want string }{
		{`"format": "draw/v1"`, `"format": "draw/v2"`, "format"},
		{`"tier_scheme": "national-4"`, `"tier_scheme": "shandong-5"`, "strata"},
		{`"max_inspections_per_year":2`, `"max_inspections_per_year":2,"max_inspections_per_year":5`, "appears twice"},
		{`"per_entity":2`, `"per_entity":2.5`, "per_entity"},
	} {
		in := strings.Replace(enc, tc.old, tc.new, 1)
		if in == enc {
			t.Fatalf("%q not found", tc.old)
		}
		r, err := draw.ParseRecord([]byte(in))
		if err == nil {
			_, err = Verify(context.Background(), r, bytes.NewReader(pop))
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s → %s: error %v, want %q", tc.old, tc.new, err, tc.want)
		}
	}
}

// FuzzVerifyPopulation: arbitrary population bytes never crash the
// verifier, and only the real lines verify.
func FuzzVerifyPopulation(f *testing.F) {
	rec, pop := tamperDraw(f)
	f.Add(pop)
	f.Add(pop[:len(pop)/2])
	f.Add([]byte("91370102MA00000001,A\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Verify(context.Background(), rec, bytes.NewReader(data))
		if err == nil && !bytes.Equal(data, pop) {
			t.Fatalf("a different population verifies")
		}
	})
}
