package sampler

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

var testAsOf = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// testUnits makes n units with valid codes over a few prefixes (or, with
// manyPrefixes, over hundreds), tiers drawn from mix.
func testUnits(seed uint64, n int, mix []int, manyPrefixes bool) []Unit {
	rng := rand.New(rand.NewPCG(seed, 1))
	seen := map[uscc.Code]bool{}
	units := make([]Unit, 0, n)
	total := 0
	for _, m := range mix {
		total += m
	}
	for len(units) < n {
		var c uscc.Code
		c[0] = "9N1"[rng.IntN(3)]
		c[1] = "123"[rng.IntN(3)]
		div := fmt.Sprintf("37%02d%02d", 1+rng.IntN(3), 1+rng.IntN(3))
		if manyPrefixes {
			div = fmt.Sprintf("%06d", 100000+rng.IntN(900000))
		}
		copy(c[2:8], div)
		for j := 8; j < 16; j++ {
			c[j] = uscc.Alphabet[rng.IntN(31)]
		}
		c[16] = uscc.OrgCheckCharacter(c[8:16])
		c[17] = uscc.CheckCharacter(c[:17])
		if seen[c] {
			continue
		}
		seen[c] = true
		u := Unit{USCC: c, RegisteredAt: testAsOf.Unix() - 1000}
		copy(u.Region[:], div)
		r := rng.IntN(total)
		for t, m := range mix {
			if r < m {
				u.Tier = tier.Tier(t)
				break
			}
			r -= m
		}
		units = append(units, u)
	}
	return units
}

func testRequest(alloc draw.Allocation, seed string) *draw.Request {
	return &draw.Request{
		PlanID: "test", AsOf: testAsOf, Allocation: alloc, Seed: seed,
		Inspectors: draw.Inspectors{PerEntity: 2, Pool: []draw.Inspector{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}}},
	}
}

func ratios(vals ...int64) draw.Allocation {
	var a draw.Allocation
	for i, v := range vals {
		a.Ratios = append(a.Ratios, draw.TierValue{Label: tier.Shandong5.Labels[i], Value: v})
	}
	return a
}

func weights(budget int64, vals ...int64) draw.Allocation {
	a := draw.Allocation{Budget: budget}
	for i, v := range vals {
		a.Weights = append(a.Weights, draw.TierValue{Label: tier.Shandong5.Labels[i], Value: v})
	}
	return a
}

// naiveDraw is the spec's selection in one obvious pass: hash everything,
// sort each stratum, take the n smallest; and the population lines sorted
// as strings.
func naiveDraw(units []Unit, scheme *tier.Scheme, seed []byte, n []int64) ([]string, string) {
	k := sha256.Sum256(append([]byte("draw/v1\x00"), seed...))
	type e struct {
		c string
		h [32]byte
	}
	strata := make([][]e, scheme.Len())
	var lines []string
	for _, u := range units {
		h := sha256.Sum256(append(k[:], u.USCC[:]...))
		strata[u.Tier] = append(strata[u.Tier], e{u.USCC.String(), h})
		lines = append(lines, u.USCC.String()+","+scheme.Labels[u.Tier]+"\n")
	}
	var sel []e
	for t, s := range strata {
		slices.SortFunc(s, func(a, b e) int { return bytes.Compare(a.h[:], b.h[:]) })
		sel = append(sel, s[:n[t]]...)
	}
	slices.SortFunc(sel, func(a, b e) int { return bytes.Compare(a.h[:], b.h[:]) })
	var out []string
	for _, s := range sel {
		out = append(out, s.c)
	}
	slices.Sort(lines)
	return out, strings.Join(lines, "")
}

// TestParallelEqualsSinglePass: the partitioned, multi-worker draw selects
// exactly what one naive pass selects, and writes the same population.
func TestParallelEqualsSinglePass(t *testing.T) {
	for i, tc := range []struct {
		n       int
		many    bool
		alloc   draw.Allocation
		parts   int
		workers int
	}{
		{3000, false, ratios(20000, 50000, 100000, 300000), 1, 1},
		{3000, false, ratios(20000, 50000, 100000, 300000), 17, 2},
		{3000, true, ratios(20000, 50000, 100000, 300000), 9, 3},
		{2000, false, ratios(1_000_000, 1_000_000, 1_000_000, 1_000_000), 4, 4},
		{2500, true, weights(400, 1, 2, 5, 30), 8, 2},
		{2500, false, weights(1_000_000, 1, 1, 1, 1), 3, 2},
		{10, false, ratios(500000, 500000, 500000, 500000), 16, 4},
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			units := testUnits(uint64(i), tc.n, []int{30, 55, 12, 3}, tc.many)
			req := testRequest(tc.alloc, fmt.Sprintf("%032x", i+1))
			var pop bytes.Buffer
			rec, st, err := Draw(context.Background(), req, &MemSource{Units: units, Parts: tc.parts}, nil, &pop, Options{Workers: tc.workers})
			if err != nil {
				t.Fatal(err)
			}
			var n []int64
			for _, s := range rec.Strata {
				n = append(n, s.Sample)
			}
			want, wantPop := naiveDraw(units, tier.National4, req.SeedBytes(), n)
			var got []string
			for _, s := range rec.Selected {
				got = append(got, s.USCC.String())
			}
			if !slices.Equal(got, want) {
				t.Fatalf("selection differs from the single pass:\n got  %v\n want %v", got, want)
			}
			if pop.String() != wantPop {
				t.Fatalf("population lines differ from the sorted single pass")
			}
			if st.Eligible != int64(len(units)) || st.Selected != len(want) || st.Passes != 1 {
				t.Fatalf("stats %+v", st)
			}
			if st.HeapFallback {
				t.Fatalf("the fast path fell back (an 8-sigma event)")
			}
			if _, err := Verify(context.Background(), rec, bytes.NewReader(pop.Bytes())); err != nil {
				t.Fatal(err)
			}
			// the slow path (bottom-n heaps) gives the same record
			slowOpts := Options{Workers: tc.workers}
			slowOpts.EnsureDefaults()
			p, err := Prepare(req, tier.National4, &slowOpts)
			if err != nil {
				t.Fatal(err)
			}
			rec2, st2, err := execute(context.Background(), p, &MemSource{Units: units, Parts: tc.parts}, nil, io.Discard, slowOpts, -50)
			if err != nil {
				t.Fatal(err)
			}
			if !st2.HeapFallback && st.Selected > 0 && st.Selected < int(st.Eligible) {
				t.Fatalf("a margin of -50 sigma did not force the slow path")
			}
			if !bytes.Equal(rec.AppendJSON(nil), rec2.AppendJSON(nil)) {
				t.Fatalf("the slow path's record differs")
			}
		})
	}
}

func TestSortKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{0, 1, 2, 47, 48, 49, 1000, 5000, 40000} {
		for _, limit := range []int{lsdMax, 100, 2000} {
			a := make([]uint64, n)
			for i := range a {
				switch i % 4 {
				case 0:
					a[i] = rng.Uint64() >> 10
				case 1:
					a[i] = 0x2a<<46 | rng.Uint64()>>30 // shared high digits
				case 2:
					a[i] = sentinelKey
				default:
					a[i] = uint64(rng.IntN(300))
				}
			}
			want := slices.Clone(a)
			slices.Sort(want)
			var scratch []uint64
			sortKeys(a, &scratch, limit)
			if !slices.Equal(a, want) {
				t.Fatalf("n=%d limit=%d: not sorted", n, limit)
			}
			if cap(scratch) > max(limit, 0) && n > limit {
				t.Fatalf("scratch grew to %d beyond the limit %d", cap(scratch), limit)
			}
		}
	}
}

func TestPackSuffix(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var prev uscc.Code
	var prevV uint64
	for i := range 10000 {
		var c uscc.Code
		for j := range c {
			c[j] = uscc.Alphabet[rng.IntN(31)]
		}
		v, ok := packSuffix(&c)
		if !ok || v >= 1<<50 {
			t.Fatalf("%s: %d %v", c, v, ok)
		}
		var back [10]byte
		unpackSuffix(back[:], v)
		if string(back[:]) != string(c[8:]) {
			t.Fatalf("%s: unpacked %s", c, back)
		}
		if i > 0 && (bytes.Compare(c[8:], prev[8:]) < 0) != (v < prevV) && string(c[8:]) != string(prev[8:]) {
			t.Fatalf("order not preserved: %s %s", c, prev)
		}
		prev, prevV = c, v
	}
	bad := uscc.Code{}
	copy(bad[:], "91370102MA12345IO0")
	if _, ok := packSuffix(&bad); ok {
		t.Fatal("accepted I and O")
	}
}

// changingSource yields an extra unit in odd-numbered scans of partition 0
// (the counting passes) up to scan unstable, so that the counting and
// selection passes disagree.
type changingSource struct {
	MemSource
	scans, unstable int
}

func (s *changingSource) Scan(ctx context.Context, part int, asOf time.Time, fn func(*Unit) error) error {
	if part == 0 {
		s.scans++
		if s.scans <= s.unstable && s.scans%2 == 1 {
			u := s.Units[0]
			u.USCC[15] = uscc.Alphabet[(uscc.Alphabet[0]+u.USCC[15])%31]
			u.USCC[16] = uscc.OrgCheckCharacter(u.USCC[8:16])
			u.USCC[17] = uscc.CheckCharacter(u.USCC[:17])
			if err := fn(&u); err != nil {
				return err
			}
		}
	}
	return s.MemSource.Scan(ctx, part, asOf, fn)
}

func TestPopulationChanged(t *testing.T) {
	units := testUnits(5, 500, []int{30, 55, 12, 3}, false)
	// a ratio allocation scans once (the fast path): the population is
	// that scan's, whatever the source does afterwards
	req := testRequest(ratios(100000, 100000, 200000, 300000), strings.Repeat("ab", 16))
	src0 := &changingSource{MemSource: MemSource{Units: units, Parts: 3}, unstable: 100}
	var pop0 bytes.Buffer
	rec0, st0, err := Draw(context.Background(), req, src0, nil, &pop0, Options{Workers: 2, MaxPasses: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !st0.SinglePass || st0.Passes != 1 || st0.Eligible != 501 || src0.scans != 1 {
		t.Fatalf("single pass: %+v, %d scans of partition 0", st0, src0.scans)
	}
	if _, err := Verify(context.Background(), rec0, &pop0); err != nil {
		t.Fatal(err)
	}
	// a budget allocation counts first, then selects: the two passes must
	// agree
	req = testRequest(weights(60, 1, 1, 2, 3), strings.Repeat("ab", 16))
	// the first pass pair disagrees, the second agrees
	src := &changingSource{MemSource: MemSource{Units: units, Parts: 3}, unstable: 1}
	var pop bytes.Buffer
	rec, st, err := Draw(context.Background(), req, src, nil, &pop, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if st.Passes != 2 || st.SinglePass || st.Eligible != 500 {
		t.Fatalf("passes %d eligible %d", st.Passes, st.Eligible)
	}
	if _, err := Verify(context.Background(), rec, &pop); err != nil {
		t.Fatal(err)
	}
	src = &changingSource{MemSource: MemSource{Units: units, Parts: 3}, unstable: 100}
	_, _, err = Draw(context.Background(), req, src, nil, &bytes.Buffer{}, Options{Workers: 2, MaxPasses: 2})
	if !errors.Is(err, ErrPopulationChanged) {
		t.Fatalf("error %v, want ErrPopulationChanged", err)
	}
}

func TestBadSources(t *testing.T) {
	units := testUnits(6, 200, []int{30, 55, 12, 3}, false)
	req := testRequest(ratios(100000, 100000, 200000, 300000), strings.Repeat("cd", 16))
	for _, tc := range []struct {
		name   string
		mutate func([]Unit) []Unit
		want   string
	}{
		{"duplicate", func(u []Unit) []Unit { return append(u, u[17]) }, "more than once"},
		{"tier outside scheme", func(u []Unit) []Unit { u[3].Tier = 4; return u }, "outside scheme national-4"},
		{"lowercase code", func(u []Unit) []Unit { u[3].USCC[10] = 'a'; return u }, "sampler: unit"},
		{"region not digits", func(u []Unit) []Unit { u[3].Region[5] = 'x'; return u }, "region"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			us := tc.mutate(slices.Clone(units))
			_, _, err := Draw(context.Background(), req, &MemSource{Units: us, Parts: 3}, nil, &bytes.Buffer{}, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	// untiered units are left out and noted
	us := slices.Clone(units)
	us[0].Tier, us[1].Tier = tier.None, tier.None
	rec, st, err := Draw(context.Background(), req, &MemSource{Units: us}, nil, &bytes.Buffer{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Excluded.Untiered != 2 || st.Eligible != 198 || !slices.ContainsFunc(rec.Warnings, func(w string) bool { return strings.HasPrefix(w, "2 registered entities") }) {
		t.Fatalf("untiered: %+v %q", st, rec.Warnings)
	}
}

func TestDrawRefusals(t *testing.T) {
	units := testUnits(8, 100, []int{30, 55, 12, 3}, false)
	src := &MemSource{Units: units}
	for _, tc := range []struct {
		name string
		req  *draw.Request
		opts Options
		want string
	}{
		{"decreasing ratios", testRequest(ratios(20000, 10000, 30000, 40000), strings.Repeat("0", 32)), Options{}, "must not fall as risk rises"},
		{"decreasing weights", testRequest(weights(10, 1, 3, 2, 4), strings.Repeat("0", 32)), Options{}, "must not fall as risk rises"},
		{"lowest tier exempt", testRequest(ratios(0, 10000, 30000, 40000), strings.Repeat("0", 32)), Options{}, "exempts tier A"},
		{"five tiers for a four-tier scheme", testRequest(ratios(0, 10000, 30000, 40000, 50000), strings.Repeat("0", 32)), Options{AllowZeroLowestTier: true}, "not in scheme national-4"},
		{"one inspector", func() *draw.Request {
			r := testRequest(ratios(10000, 10000, 30000, 40000), strings.Repeat("0", 32))
			r.Inspectors.PerEntity = 1
			return r
		}(), Options{}, "at least 2 inspectors"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Draw(context.Background(), tc.req, src, nil, &bytes.Buffer{}, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			var de *draw.Error
			if !errors.As(err, &de) {
				t.Fatalf("%T is not a *models.DrawError", err)
			}
		})
	}
	// Shanghai: A may be exempt
	if _, _, err := Draw(context.Background(), testRequest(ratios(0, 10000, 30000, 40000), strings.Repeat("0", 32)), src, nil, &bytes.Buffer{}, Options{AllowZeroLowestTier: true}); err != nil {
		t.Fatal(err)
	}
}
