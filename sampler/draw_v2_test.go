package sampler

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

var testBlind = [32]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}

// v2Request is a draw over units with regions, a department, conflicts and
// a tight load cap (so that some entities are unassigned).
func v2Request(units []Unit, maxLoad int64) *draw.Request {
	var pool []draw.Inspector
	for i, r := range []string{"", "3701", "370102", "3702", "", "3703", "37", "370301", "3701", "3702"} {
		in := draw.Inspector{ID: "insp-" + string(rune('a'+i))}
		if r != "" {
			in.Regions = []string{r}
		}
		pool = append(pool, in)
	}
	req := &draw.Request{
		PlanID: "SD 2026/v2", AsOf: testAsOf,
		Allocation: ratios(10000, 20000, 50000, 300000),
		Inspectors: draw.Inspectors{Pool: pool, PerEntity: 2, MaxLoad: maxLoad},
		Seed:       strings.Repeat("7c", 20),
	}
	for _, u := range units[:30] {
		req.Conflicts = append(req.Conflicts, draw.Conflict{Inspector: "insp-a", USCC: u.USCC})
	}
	return req
}

func drawV2(t testing.TB, units []Unit, req *draw.Request, reg []RegisterEntry) (*draw.V2, []byte) {
	t.Helper()
	var pop bytes.Buffer
	rec, _, err := DrawV2(context.Background(), req, &MemSource{Units: units, Parts: 3}, nil, &pop, Options{},
		&V2Inputs{BlindKey: testBlind, CommittedAt: testAsOf.Add(-time.Hour), Register: reg})
	if err != nil {
		t.Fatal(err)
	}
	return rec, pop.Bytes()
}

// The public and the regulatory edition of one draw both verify; the
// public one says which checks it could not make.
func TestDrawV2VerifiesBothEditions(t *testing.T) {
	units := testUnits(21, 4000, []int{30, 55, 12, 3}, false)
	reg := []RegisterEntry{{Inspector: "insp-b", USCC: units[100].USCC.String(), ValidFrom: "2026-01-01"}}
	rec, pop := drawV2(t, units, v2Request(units, 0), reg)
	regBytes := draw.EncodeV2(rec)
	pubBytes := draw.EncodeV2(rec.Public())
	if cut, _ := draw.PublicBytes(regBytes); !bytes.Equal(cut, pubBytes) {
		t.Fatalf("the public edition is not the cut of the regulatory one")
	}
	sr, err := VerifyV2(context.Background(), regBytes, bytes.NewReader(pop), nil)
	if err != nil {
		t.Fatalf("regulatory: %v", err)
	}
	sp, err := VerifyV2(context.Background(), pubBytes, bytes.NewReader(pop), nil)
	if err != nil {
		t.Fatalf("public: %v", err)
	}
	if len(sr.Skipped) != 0 || len(sp.Skipped) != 4 || len(sr.Checks) <= len(sp.Checks) {
		t.Fatalf("checks: regulatory %q skipped %q; public %q skipped %q", sr.Checks, sr.Skipped, sp.Checks, sp.Skipped)
	}
	if sp.Selected == 0 || sp.Selected != len(rec.Selected) {
		t.Fatalf("selected %d", sp.Selected)
	}
}

// Every single-byte change of the record (either edition) or of the
// population file is rejected.
func TestDrawV2EveryByteChangeRejected(t *testing.T) {
	units := testUnits(22, 150, []int{30, 55, 12, 3}, false)
	req := v2Request(units, 0)
	req.Conflicts = req.Conflicts[:3]
	rec, pop := drawV2(t, units, req, nil)
	ctx := context.Background()
	for _, ed := range []struct {
		name string
		b    []byte
	}{{"public", draw.EncodeV2(rec.Public())}, {"regulatory", draw.EncodeV2(rec)}} {
		if _, err := VerifyV2(ctx, ed.b, bytes.NewReader(pop), nil); err != nil {
			t.Fatalf("%s: %v", ed.name, err)
		}
		for i := range ed.b {
			c := bytes.Clone(ed.b)
			c[i] ^= 1
			if _, err := VerifyV2(ctx, c, bytes.NewReader(pop), nil); err == nil {
				t.Fatalf("%s: byte %d (%q→%q) changed, still verifies", ed.name, i, ed.b[i], c[i])
			}
		}
		for i := range pop {
			c := bytes.Clone(pop)
			c[i] ^= 1
			if _, err := VerifyV2(ctx, ed.b, bytes.NewReader(c), nil); err == nil {
				t.Fatalf("%s: population byte %d changed, still verifies", ed.name, i)
			}
		}
	}
}

// Nothing public gives a tier: decoding the blinded tiers with any key
// derivable from public data (or trying each tier against each line)
// recovers the tiers no better than chance, while the real key recovers
// all (domain.md §2.1: 不公开).
func TestDrawV2PublicTiersNotRecoverable(t *testing.T) {
	units := testUnits(23, 3000, []int{30, 55, 12, 3}, false)
	rec, pop := drawV2(t, units, v2Request(units, 0), nil)
	truth := map[string]int{}
	for _, u := range units {
		truth[u.USCC.String()] = int(u.Tier)
	}
	lines := bytes.Split(bytes.TrimSuffix(pop, []byte("\n")), []byte("\n"))
	seed := rec.Request.SeedBytes()
	kc, _ := hex.DecodeString(rec.KeyCommitment)
	dg, _ := hex.DecodeString(rec.PopulationDigest)
	candidates := map[string][32]byte{"zero": {}, "ka": assignKeyV2(seed), "v1 K": drawKey(seed), "v1 K2": assignKey(seed),
		"key commitment": [32]byte(kc), "population digest": [32]byte(dg), "select key without B": selectKeyV2([32]byte{}, seed)}
	decodeRate := func(key [32]byte) float64 {
		hits := 0
		for i, l := range lines {
			var x [1]byte
			hex.Decode(x[:], l[19:21])
			m := maskBlock(&key, uint64(i/32))
			if int(x[0]^m[i%32]) == truth[string(l[:18])] {
				hits++
			}
		}
		return float64(hits) / float64(len(lines))
	}
	if r := decodeRate(testBlind); r != 1 {
		t.Fatalf("the real key decodes %.3f of the lines", r)
	}
	for name, k := range candidates {
		if r := decodeRate(k); r > 0.02 { // chance is 1/256 per line
			t.Errorf("key %s decodes %.3f of the tiers", name, r)
		}
	}
	// per tier, the blinded values spread over the byte range: the value
	// alone says nothing about the tier
	seen := make([]map[string]bool, 4)
	for i := range seen {
		seen[i] = map[string]bool{}
	}
	for _, l := range lines {
		seen[truth[string(l[:18])]][string(l[19:21])] = true
	}
	for tier, s := range seen {
		if len(s) < 40 {
			t.Errorf("tier %d's blinded values take only %d distinct values", tier, len(s))
		}
	}
	// the public edition carries no tier and no priority (allow-list of
	// members per selected entity)
	pub := draw.EncodeV2(rec.Public())
	for _, bad := range []string{`"tier"`, `"priority"`, `"blind_key"`, `"tiers"`, `"tier_strata"`, hex.EncodeToString(testBlind[:])} {
		if bytes.Contains(pub, []byte(bad)) {
			t.Errorf("the public edition contains %s", bad)
		}
	}
}

// roundUpDraw is a v2 request over units with 166 of tier A, at 0.1 % for
// A: 0.166 rounds to 0.
func roundUpDraw() ([]Unit, *draw.Request) {
	var units []Unit
	as := 0
	for _, u := range testUnits(24, 3000, []int{30, 55, 12, 3}, false) {
		u.RegisteredAt, u.DeregisteredAt = 0, 0
		if u.Tier == 0 {
			if as == 166 {
				continue
			}
			as++
		}
		units = append(units, u)
	}
	req := v2Request(units, 0)
	req.Allocation = ratios(1000, 20000, 50000, 300000)
	return units, req
}

// Round-up under 不免抽 (domain.md §2.2): A at 0.1 % of 166 rounds to 0
// and gets 1, with a warning; the record verifies.
func TestDrawV2RoundsUpPositiveRatio(t *testing.T) {
	units, req := roundUpDraw()
	rec, pop := drawV2(t, units, req, nil)
	a := rec.TierStrata["A"]
	if a.N != 166 || a.N2 != 1 {
		t.Fatalf("stratum A: %+v, want N 166 n 1", a)
	}
	if !slices.ContainsFunc(rec.Warnings, func(w string) bool { return strings.Contains(w, "stratum A: ratio 0.001 of 166 rounds to 0; 1 drawn") }) {
		t.Fatalf("no round-up warning in %q", rec.Warnings)
	}
	if _, err := VerifyV2(context.Background(), draw.EncodeV2(rec), bytes.NewReader(pop), nil); err != nil {
		t.Fatal(err)
	}
	n, _ := SampleSizesV2(&req.Allocation, []int64{1000, 20000, 50000, 300000}, []int64{166, 0, 1, 2}, tier.National4)
	if !slices.Equal(n, []int64{1, 0, 1, 1}) {
		t.Fatalf("sizes %v, want [1 0 1 1] (N 0 stays 0; 0.05·1 and 0.3·2 round to 0 and 1)", n)
	}
}

// Exemption is a property of the scheme and the plan flag, not a service
// setting.
func TestDrawV2Exemption(t *testing.T) {
	units := testUnits(25, 500, []int{30, 55, 12, 3}, false)
	for _, c := range []struct {
		name   string
		scheme *tier.Scheme
		flag   bool
		a      int64
		ok     bool
	}{
		{"national, flag, A=0", tier.National4, true, 0, true},
		{"national, no flag, A=0", tier.National4, false, 0, false},
		{"shandong, flag", tier.Shandong5, true, 0, false},
		{"shandong, no flag, A>0", tier.Shandong5, false, 1000, true},
	} {
		req := v2Request(units, 0)
		req.ExemptLowestTier = c.flag
		vals := []int64{c.a, 20000, 50000, 300000}
		if c.scheme == tier.Shandong5 {
			vals = append(vals, 400000)
		}
		req.Allocation = ratios(vals...)
		_, _, err := PrepareRequestV2(req, c.scheme, &Options{})
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v", c.name, err)
		}
	}
}

// The conflict register applies while valid; request and register
// conflicts are never assigned.
func TestDrawV2ConflictRegister(t *testing.T) {
	units := testUnits(26, 4000, []int{30, 55, 12, 3}, false)
	req := v2Request(units, 0)
	rec, _ := drawV2(t, units, req, nil)
	// register every assigned inspector of the first selected entity
	first := rec.Selected[0]
	var reg []RegisterEntry
	for _, id := range first.Inspectors {
		reg = append(reg, RegisterEntry{Inspector: id, USCC: first.USCC, ValidFrom: "2026-02-01", ValidUntil: "2026-03-01"})
	}
	reg = append(reg, RegisterEntry{Inspector: "insp-e", USCC: first.USCC, ValidFrom: "2025-01-01", ValidUntil: "2026-02-28"}) // expired at as_of
	rec2, pop2 := drawV2(t, units, req, reg)
	s := rec2.Selected[slices.IndexFunc(rec2.Selected, func(s draw.V2Selected) bool { return s.USCC == first.USCC })]
	for _, id := range first.Inspectors {
		if slices.Contains(s.Inspectors, id) {
			t.Fatalf("register conflict %s assigned to %s", id, first.USCC)
		}
	}
	if len(rec2.RegisterConflicts) != len(first.Inspectors) {
		t.Fatalf("register conflicts in the record: %v", rec2.RegisterConflicts)
	}
	if _, err := VerifyV2(context.Background(), draw.EncodeV2(rec2.Public()), bytes.NewReader(pop2), nil); err != nil {
		t.Fatal(err)
	}
	for i := range rec2.Selected {
		for _, c := range req.Conflicts {
			if rec2.Selected[i].USCC == c.USCC.String() && slices.Contains(rec2.Selected[i].Inspectors, c.Inspector) {
				t.Fatalf("request conflict assigned")
			}
		}
	}
}

// The population filters: include (定向), exclude, industry.
func TestDrawV2Filters(t *testing.T) {
	units := testUnits(27, 1000, []int{30, 55, 12, 3}, false)
	for i := range units {
		units[i].Industry = []string{"F52", "C13", "I65"}[i%3]
	}
	req := v2Request(units, 0)
	req.Population.Include = []uscc.Code{units[0].USCC, units[1].USCC, units[2].USCC, units[4].USCC}
	req.Population.Exclude = []uscc.Code{units[1].USCC}
	req.Population.Industries = []string{"F", "C1"}
	req.Allocation = ratios(1000000, 1000000, 1000000, 1000000)
	rec, pop := drawV2(t, units, req, nil)
	var got []string
	for _, s := range rec.Selected {
		got = append(got, s.USCC)
	}
	slices.Sort(got)
	want := []string{units[0].USCC.String(), units[4].USCC.String()} // unit 2 is I65, unit 1 excluded
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("selected %v, want %v", got, want)
	}
	if rec.Public().Strata != nil {
		t.Fatalf("a targeted draw publishes per-tier totals")
	}
	if _, err := VerifyV2(context.Background(), draw.EncodeV2(rec.Public()), bytes.NewReader(pop), nil); err != nil {
		t.Fatal(err)
	}
}

// One commitment, one draw; recusal amendments through the Store.
func TestRunV2SeedShoppingAndRecusal(t *testing.T) {
	store, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := New(store, Options{Now: func() time.Time { return testAsOf.Add(-24 * time.Hour) }})
	units := testUnits(28, 3000, []int{30, 55, 12, 3}, false)
	src := &MemSource{Units: units, Parts: 2}
	req := v2Request(units, 1000) // room for replacements
	ctx := context.Background()
	if _, _, err := s.RunV2(ctx, req, src); !errors.Is(err, ErrCommitment) {
		t.Fatalf("uncommitted seed: %v", err)
	}
	if _, err := s.Commit(req.PlanID, draw.SeedDigest(req.SeedBytes())); err != nil {
		t.Fatal(err)
	}
	rec, st, err := s.RunV2(ctx, req, src)
	if err != nil || st.Replayed {
		t.Fatalf("draw: %v", err)
	}
	if _, st, err := s.RunV2(ctx, req, src); err != nil || !st.Replayed {
		t.Fatalf("identical request: %v %+v", err, st)
	}
	other := *req
	other.Seed = strings.Repeat("3e", 20)
	if _, err := s.Commit(req.PlanID, draw.SeedDigest(other.SeedBytes())); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RunV2(ctx, &other, src); !errors.Is(err, ErrPlanDrawn) {
		t.Fatalf("seed shopping: %v, want ErrPlanDrawn", err)
	}
	// recusal: the first two entities lose their first inspector
	var amended []*draw.Amendment
	for _, sel := range rec.Selected[:2] {
		a, err := s.Amend(ctx, rec.DrawID, sel.USCC, sel.Inspectors[0], "relative of the legal representative", testAsOf.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if a.Replacement == "" || a.Replacement == sel.Inspectors[0] || slices.Contains(sel.Inspectors, a.Replacement) {
			t.Fatalf("replacement %q for %v", a.Replacement, sel.Inspectors)
		}
		amended = append(amended, a)
	}
	if _, err := s.Amend(ctx, rec.DrawID, rec.Selected[0].USCC, "nobody", "", testAsOf); err == nil {
		t.Fatalf("recusal of an inspector not on the team accepted")
	}
	doc, _ := store.Amendments(rec.DrawID)
	data := draw.EncodeAmendments(doc)
	_, regBytes, _ := store.RecordV2(rec.DrawID)
	popf, _ := store.Population(rec.DrawID)
	defer popf.Close()
	pop := new(bytes.Buffer)
	pop.ReadFrom(popf)
	sum, err := VerifyV2(ctx, regBytes, bytes.NewReader(pop.Bytes()), data)
	if err != nil || sum.Amendments != 2 {
		t.Fatalf("verify with amendments: %v %+v", err, sum)
	}
	// a different replacement (with a recomputed id chain) is caught
	doc.Amendments[1].Replacement = rec.Selected[1].Inspectors[1]
	doc.Amendments[1].ID = draw.AmendmentID(doc.DrawID, &doc.Amendments[1])
	if _, err := VerifyV2(ctx, regBytes, bytes.NewReader(pop.Bytes()), draw.EncodeAmendments(doc)); err == nil {
		t.Fatalf("a wrong replacement verifies")
	}
	for i := range data {
		c := bytes.Clone(data)
		c[i] ^= 1
		if _, err := VerifyV2(ctx, regBytes, bytes.NewReader(pop.Bytes()), c); err == nil {
			t.Fatalf("amendments byte %d changed, still verifies", i)
		}
	}
	// the store reopens with the v2 record
	store2, err := OpenStore(store.Dir())
	if err != nil || len(store2.Records(req.PlanID)) != 1 {
		t.Fatalf("reopen: %v", err)
	}
	_ = amended
}

// The register keeps entries once, in canonical form, and refuses bad ones.
func TestConflictRegister(t *testing.T) {
	store, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := testUnits(29, 1, []int{1}, false)[0].USCC.String()
	e := RegisterEntry{Inspector: "insp-a", USCC: strings.ToLower(c), ValidFrom: "2026-01-01"}
	reg, err := store.AddRegister([]RegisterEntry{e, e})
	if err != nil || len(reg) != 1 || reg[0].USCC != c {
		t.Fatalf("register %v, %v", reg, err)
	}
	if reg, _ = store.AddRegister([]RegisterEntry{{Inspector: "insp-a", USCC: c, ValidFrom: "2026-01-01"}}); len(reg) != 1 {
		t.Fatalf("a duplicate was added: %v", reg)
	}
	for _, bad := range []RegisterEntry{
		{Inspector: "", USCC: c, ValidFrom: "2026-01-01"},
		{Inspector: "x", USCC: "nope", ValidFrom: "2026-01-01"},
		{Inspector: "x", USCC: c, ValidFrom: "2026-13-01"},
		{Inspector: "x", USCC: c, ValidFrom: "2026-02-01", ValidUntil: "2026-01-31"},
	} {
		if _, err := store.AddRegister([]RegisterEntry{bad}); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, v := range []struct {
		from, until string
		ok          bool
	}{{"2026-03-01", "", true}, {"2026-03-02", "", false}, {"2026-01-01", "2026-03-01", true}, {"2026-01-01", "2026-02-28", false}} {
		if got := (&RegisterEntry{ValidFrom: v.from, ValidUntil: v.until}).ValidAt(at); got != v.ok {
			t.Errorf("%s–%s at %s: %v", v.from, v.until, at, got)
		}
	}
}
