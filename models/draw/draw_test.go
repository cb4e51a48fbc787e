package draw

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

const drawTestRequest = `{
  "plan_id": "SD-2026 Q1/food",
  "as_of": "2026-03-01T00:00:00Z",
  "population": {"region_prefix": "37", "entity_types": ["1", "2"], "registration_authorities": ["9"]},
  "exclude_selected_within_days": 30,
  "max_inspections_per_year": 2,
  "allocation": {"ratios": {"B": 0.02, "A": 0.010, "C": 5e-2, "D": 0.3}},
  "inspectors": {"pool": [
      {"id": "i1", "departments": ["食品"], "regions": ["3701"]},
      {"id": "i2"},
      {"id": "i3", "regions": ["37", "3702"]}
    ], "max_load": 10},
  "department": "食品",
  "conflicts": [{"inspector": "i2", "uscc": "91350100M000100Y43"}],
  "seed": "00112233445566778899AABBCCDDEEFF",
  "seed_commitment": null
}`

func TestParseRequest(t *testing.T) {
	r, err := ParseRequest([]byte(drawTestRequest))
	if err != nil {
		t.Fatal(err)
	}
	if r.PlanID != "SD-2026 Q1/food" || !r.AsOf.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("plan/as_of: %q %v", r.PlanID, r.AsOf)
	}
	if r.Inspectors.PerEntity != 2 || r.Inspectors.MaxLoad != 10 || len(r.Inspectors.Pool) != 3 {
		t.Fatalf("inspectors: %+v", r.Inspectors)
	}
	if r.Seed != "00112233445566778899aabbccddeeff" {
		t.Fatalf("seed not lowercased: %s", r.Seed)
	}
	vals, err := r.Allocation.Resolve(tier.National4)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{10000, 20000, 50000, 300000}; !equalInts(vals, want) {
		t.Fatalf("ratios %v, want %v", vals, want)
	}
	r.Allocation.Canonicalize(tier.National4)
	enc := r.AppendJSON(nil)
	if !json.Valid(enc) {
		t.Fatalf("canonical encoding is not JSON: %s", enc)
	}
	if !strings.Contains(string(enc), `"ratios":{"A":0.01,"B":0.02,"C":0.05,"D":0.3}`) {
		t.Fatalf("canonical ratios: %s", enc)
	}
	r2, err := ParseRequest(enc)
	if err != nil {
		t.Fatal(err)
	}
	if enc2 := r2.AppendJSON(nil); !bytes.Equal(enc, enc2) {
		t.Fatalf("not canonical:\n%s\n%s", enc, enc2)
	}
	// json.Unmarshal goes through the same strict parser
	var r3 Request
	if err := json.Unmarshal([]byte(drawTestRequest), &r3); err != nil || r3.PlanID != r.PlanID {
		t.Fatalf("json.Unmarshal: %v", err)
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseRequestErrors(t *testing.T) {
	base := drawTestRequest
	for _, tc := range []struct{ name, old, new, want string }{
		{"unknown member", `"max_inspections_per_year"`, `"max_inspections_per_yr"`, "max_inspections_per_yr: unknown member"},
		{"case differs", `"plan_id"`, `"Plan_ID"`, "Plan_ID: unknown member"},
		{"duplicate member", `"department": "食品",`, `"department": "食品", "department": "x",`, "department: member appears twice"},
		{"seven decimals", `0.02`, `0.0200001`, "allocation.ratios.B: ratio 0.0200001 has more than 6 decimals"},
		{"ratio above 1", `0.3}`, `1.5}`, "allocation.ratios.D: ratio 1.5 is too large"},
		{"negative ratio", `0.3}`, `-0.3}`, "negative"},
		{"ratio string", `0.3}`, `"0.3"}`, "allocation.ratios.D: want a number"},
		{"as_of offset", `2026-03-01T00:00:00Z`, `2026-03-01T08:00:00+08:00`, "as_of"},
		{"as_of garbage", `2026-03-01T00:00:00Z`, `2026-02-30T00:00:00Z`, "as_of"},
		{"short seed", `00112233445566778899AABBCCDDEEFF`, `0011`, "seed: must be"},
		{"odd seed", `00112233445566778899AABBCCDDEEFF`, `00112233445566778899AABBCCDDEEFF0`, "seed: must be"},
		{"non-hex seed", `00112233445566778899AABBCCDDEEFF`, `00112233445566778899AABBCCDDEEFG`, "seed: character 32"},
		{"commitment mismatch", `"seed_commitment": null`, `"seed_commitment": "` + strings.Repeat("0", 64) + `"`, "seed does not match its commitment"},
		{"conflict with unknown inspector", `"inspector": "i2"`, `"inspector": "i9"`, "conflicts[0].inspector"},
		{"conflict bad uscc", `91350100M000100Y43`, `91350100M000100Y4`, "conflicts[0].uscc"},
		{"duplicate inspector", `{"id": "i2"}`, `{"id": "i1"}`, "inspectors.pool[1].id"},
		{"inspector id with space", `{"id": "i2"}`, `{"id": "i 2"}`, "inspectors.pool[1].id"},
		{"bad region", `"3701"`, `"37x1"`, "inspectors.pool[0].regions[0]"},
		{"max_load zero", `"max_load": 10`, `"max_load": 0`, "inspectors.max_load"},
		{"per_entity fraction", `"max_load": 10`, `"per_entity": 2.5`, "inspectors.per_entity: 2.5 is not an integer"},
		{"pool too small", `"max_load": 10`, `"per_entity": 4`, "fewer than per_entity"},
		{"both allocations", `{"ratios"`, `{"budget": 3, "weights": {"A": 1}, "ratios"`, "has both"},
		{"budget without weights", `{"ratios": {"B": 0.02, "A": 0.010, "C": 5e-2, "D": 0.3}}`, `{"budget": 4}`, "allocation.weights: missing"},
		{"region prefix too long", `"region_prefix": "37"`, `"region_prefix": "3701011"`, "population.region_prefix"},
		{"entity type two chars", `["1", "2"]`, `["12"]`, "population.entity_types[0]"},
		{"entity type not in alphabet", `["1", "2"]`, `["I"]`, "population.entity_types[0]"},
		{"trailing data", "\n}", "\n} {}", "data after the document"},
		{"missing plan", `"plan_id": "SD-2026 Q1/food",`, ``, "plan_id: missing"},
		{"plan not printable", `SD-2026 Q1/food`, `SD\u00e9`, "plan_id"},
		{"invalid utf8 escape", `"食品",`, `"\ud800",`, "surrogate"},
		{"empty department", `"department": "食品",`, `"department": "",`, "department: is empty"},
		{"exclude negative", `"exclude_selected_within_days": 30`, `"exclude_selected_within_days": -1`, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Replace(base, tc.old, tc.new, 1)
			if in == base {
				t.Fatalf("replacement %q not found", tc.old)
			}
			_, err := ParseRequest([]byte(in))
			if err == nil {
				t.Fatalf("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestAllocationResolve(t *testing.T) {
	for _, tc := range []struct {
		alloc  string
		scheme *tier.Scheme
		want   string // error substring, "" = ok
	}{
		{`{"ratios": {"A": 0.01, "B": 0.02, "C": 0.05, "D": 0.3}}`, tier.National4, ""},
		{`{"ratios": {"A": 0.01, "B": 0.02, "C": 0.05, "D": 0.3}}`, tier.Shandong5, "no ratio for tier E"},
		{`{"ratios": {"A": 0.01, "B": 0.02, "C": 0.05, "D": 0.3, "E": 1}}`, tier.National4, "allocation.ratios.E: tier \"E\" is not in scheme national-4"},
		{`{"ratios": {"A": 0.02, "B": 0.01, "C": 0.05, "D": 0.3}}`, tier.National4, "allocation.ratios.B: ratio 0.01 of tier B is below 0.02 of lower-risk tier A"},
		{`{"budget": 100, "weights": {"A": 1, "B": 2, "C": 2, "D": 1}}`, tier.National4, "allocation.weights.D: weight 1 of tier D is below 2"},
		{`{"budget": 100, "weights": {"A": 0, "B": 1, "C": 5, "D": 30}}`, tier.National4, ""},
	} {
		req := strings.Replace(drawTestRequest, `{"ratios": {"B": 0.02, "A": 0.010, "C": 5e-2, "D": 0.3}}`, tc.alloc, 1)
		r, err := ParseRequest([]byte(req))
		if err != nil {
			t.Fatalf("%s: %v", tc.alloc, err)
		}
		_, err = r.Allocation.Resolve(tc.scheme)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.alloc, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.alloc, err, tc.want)
		}
	}
}

func TestParseMicro(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1", 1_000_000, true}, {"0.05", 50_000, true}, {"0.000001", 1, true},
		{"0.0000001", 0, false}, {"0.0500000", 50_000, true}, {"5e-2", 50_000, true}, {"5E-2", 50_000, true},
		{"1e-6", 1, true}, {"1e-7", 0, false}, {"1.0", 1_000_000, true}, {"1.000001", 0, false},
		{"-0", 0, true}, {"-0.5", 0, false}, {"01", 0, false}, {".5", 0, false}, {"1.", 0, false},
		{"1e", 0, false}, {"+1", 0, false}, {"0x1", 0, false}, {"", 0, false}, {"0e999999999", 0, true},
		{"1e999999999", 0, false}, {"0.1e1", 1_000_000, true}, {"100e-2", 1_000_000, true},
	} {
		got, err := ParseMicro(tc.in, MicroUnit)
		if (err == nil) != tc.ok || (tc.ok && int64(got) != tc.want) {
			t.Errorf("ParseMicro(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		m    Micro
		want string
	}{{0, "0"}, {1_000_000, "1"}, {50_000, "0.05"}, {1, "0.000001"}, {123_456, "0.123456"}} {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("Micro(%d) = %q, want %q", tc.m, got, tc.want)
		}
	}
}

func TestPiString(t *testing.T) {
	for _, tc := range []struct {
		n, N int64
		want string
	}{{0, 0, "0.000000"}, {1, 3, "0.333333"}, {2, 3, "0.666667"}, {3, 3, "1.000000"}, {1, 2_000_000, "0.000001"}, {1, 2_000_001, "0.000000"}, {1, 8, "0.125000"}} {
		if got := PiString(tc.n, tc.N); got != tc.want {
			t.Errorf("PiString(%d,%d) = %s, want %s", tc.n, tc.N, got, tc.want)
		}
	}
}

func testDrawRecord(t testing.TB) *Record {
	req, err := ParseRequest([]byte(drawTestRequest))
	if err != nil {
		t.Fatal(err)
	}
	req.Allocation.Canonicalize(tier.National4)
	c, _ := uscc.Parse("91350100M000100Y43")
	rec := &Record{
		Request: *req,
		Scheme:  tier.National4,
		Strata: []Stratum{
			{Label: "A", N: 10, Sample: 0, Pi: PiString(0, 10)},
			{Label: "B", N: 5, Sample: 0, Pi: PiString(0, 5)},
			{Label: "C", N: 0, Sample: 0, Pi: PiString(0, 0)},
			{Label: "D", N: 3, Sample: 1, Pi: PiString(1, 3)},
		},
		Selected: []Selection{{USCC: c, Region: [6]byte{'3', '7', '0', '1', '0', '2'}, Tier: 3, Inspectors: []string{"i3"}, Unassigned: 1, Reason: "only 1 \"inspector\""}},
		Warnings: []string{"sample below 3%"},
	}
	rec.Selected[0].Priority[0] = 0xab
	rec.PopulationDigest[31] = 1
	rec.DrawID = rec.ComputeID()
	return rec
}

func TestRecordRoundTrip(t *testing.T) {
	rec := testDrawRecord(t)
	if !strings.HasPrefix(rec.DrawID, "SD-2026_Q1_food-20260301T000000Z-") || len(rec.DrawID) != len("SD-2026_Q1_food-20260301T000000Z-")+12 {
		t.Fatalf("draw id %q", rec.DrawID)
	}
	enc := rec.AppendJSON(nil)
	if !json.Valid(enc) {
		t.Fatalf("not JSON:\n%s", enc)
	}
	var w bytes.Buffer
	if err := rec.WriteJSON(&w); err != nil || !bytes.Equal(w.Bytes(), enc) {
		t.Fatalf("WriteJSON differs from AppendJSON: %v", err)
	}
	got, err := ParseRecord(enc)
	if err != nil {
		t.Fatalf("%v\n%s", err, enc)
	}
	if enc2 := got.AppendJSON(nil); !bytes.Equal(enc, enc2) {
		t.Fatalf("round trip differs:\n%s\n%s", enc, enc2)
	}
	if got.ComputeID() != rec.DrawID {
		t.Fatalf("id changed")
	}
	// any change of content changes the id
	got.Selected[0].Inspectors[0] = "i1"
	if got.ComputeID() == rec.DrawID {
		t.Fatalf("id does not bind the content")
	}
}

func TestParseRecordErrors(t *testing.T) {
	enc := string(testDrawRecord(t).AppendJSON(nil))
	for _, tc := range []struct{ name, old, new, want string }{
		{"format", `"draw/v1"`, `"draw/v2"`, "format: is \"draw/v2\""},
		{"scheme", `"national-4"`, `"national-5"`, "tier_scheme"},
		{"digest upper", `"population_digest": "00`, `"population_digest": "AA`, "population_digest"},
		{"missing stratum", `"A": {"N": 10, "n": 0, "pi": "0.000000"}, `, ``, "strata: no stratum for tier A"},
		{"extra stratum", `"A": {"N": 10,`, `"E": {"N": 1, "n": 0, "pi": "0.000000"}, "A": {"N": 10,`, "strata.E"},
		{"n above N", `"D": {"N": 3, "n": 1`, `"D": {"N": 3, "n": 4`, "strata.D.n"},
		{"pi form", `"0.333333"`, `"0.33"`, "strata.D.pi"},
		{"tier", `"tier": "D"`, `"tier": "E"`, "selected[0].tier"},
		{"region", `"region": "370102"`, `"region": "37010"`, "selected[0].region"},
		{"priority", `"priority": "ab`, `"priority": "AB`, "selected[0].priority"},
		{"unassigned without reason", `, "reason": "only 1 \"inspector\""`, ``, `"unassigned" and a non-empty "reason"`},
		{"unknown", `"format"`, `"formats"`, "formats: unknown member"},
		{"request error", `"max_load":10`, `"max_load":0`, "request.inspectors.max_load"},
		{"request monotone", `"A":0.01`, `"A":0.5`, "request.allocation.ratios.B"},
		{"duplicate selected member", `"uscc": "91350100M000100Y43"`, `"uscc": "91350100M000100Y43", "uscc": "91350100M000100Y43"`, "selected[0].uscc: member appears twice"},
		{"lowercase uscc", `"uscc": "91350100M000100Y43"`, `"uscc": "91350100m000100y43"`, "must be uppercase"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Replace(enc, tc.old, tc.new, 1)
			if in == enc {
				t.Fatalf("replacement %q not found in\n%s", tc.old, enc)
			}
			_, err := ParseRecord([]byte(in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not a *DrawError", err)
			}
		})
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(drawTestRequest))
	f.Add([]byte(`{"plan_id":"p","as_of":"2026-01-01T00:00:00Z","allocation":{"budget":5,"weights":{"A":1,"B":2,"C":3,"D":4}},"inspectors":{"pool":[{"id":"a"},{"id":"b"}]},"seed":"00000000000000000000000000000000"}`))
	f.Add([]byte(`{"a":"\u00e9\ud83d\ude00"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRequest(data)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON: %q", data)
		}
		enc := r.AppendJSON(nil)
		r2, err := ParseRequest(enc)
		if err != nil {
			t.Fatalf("canonical encoding does not parse: %v\n%s", err, enc)
		}
		if enc2 := r2.AppendJSON(nil); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable:\n%s\n%s", enc, enc2)
		}
	})
}

func FuzzParseRecord(f *testing.F) {
	f.Add(testDrawRecord(f).AppendJSON(nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRecord(data)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON: %q", data)
		}
		enc := r.AppendJSON(nil)
		r2, err := ParseRecord(enc)
		if err != nil {
			t.Fatalf("canonical encoding does not parse: %v\n%s", err, enc)
		}
		if enc2 := r2.AppendJSON(nil); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable:\n%s\n%s", enc, enc2)
		}
	})
}

// FuzzParseMicro checks the exact decimal reader against math/big.
func FuzzParseMicro(f *testing.F) {
	for _, s := range []string{"0", "0.05", "1e-6", "0.0000001", "1.5", "-0", "5E-2", "100e-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseMicro(s, MicroUnit)
		validJSON := json.Valid([]byte(s)) && len(s) > 0 && (s[0] == '-' || s[0] >= '0' && s[0] <= '9')
		if err == nil && !validJSON {
			t.Fatalf("accepted %q, not a JSON number", s)
		}
		if !validJSON {
			return
		}
		if len(s) > 200 {
			return // big.Rat would be slow on huge exponents
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			return
		}
		scaled := new(big.Rat).Mul(r, big.NewRat(MicroUnit, 1))
		exact := scaled.IsInt() && scaled.Sign() >= 0 && scaled.Cmp(big.NewRat(MicroUnit, 1)) <= 0
		if exact != (err == nil) {
			t.Fatalf("ParseMicro(%q) = %d, %v; big.Rat says %s", s, v, err, scaled.RatString())
		}
		if exact && scaled.Num().Int64() != int64(v) {
			t.Fatalf("ParseMicro(%q) = %d, want %s", s, v, scaled.RatString())
		}
	})
}
