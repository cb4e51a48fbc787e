package draw

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/creditrisk/creditd/models/tier"
)

// warningTable pairs each form's text, written out by hand as the sampler
// writes it (the round-up and floor texts are those of the golden record
// sampler/testdata/golden_v2/round_up_exempt), with its Warning.
var warningTable = []struct {
	text string
	w    Warning
}{
	{"the eligible population is empty: nothing was drawn", Warning{Code: WarnEmpty}},
	{"the sample is 1.00% of the eligible population (6 of 600), below the 3% floor for publicity-information spot checks (企业公示信息抽查办法 Art. 4)",
		Warning{Code: WarnFloor, Share: 100, Sample: 6, Population: 600, Floor: 3}},
	{"the sample is 0.00% of the eligible population (0 of 1099511627776), below the 3% floor for publicity-information spot checks (企业公示信息抽查办法 Art. 4)",
		Warning{Code: WarnFloor, Share: 0, Sample: 0, Population: 1 << 40, Floor: 3}},
	{"the sample is 2.99% of the eligible population (299 of 10000), below the 3% floor for publicity-information spot checks (企业公示信息抽查办法 Art. 4)",
		Warning{Code: WarnFloor, Share: 299, Sample: 299, Population: 10000, Floor: 3}},
	{"after rounding, tier B's inclusion probability 0.000000 is below tier A's 0.100000",
		Warning{Code: WarnOrder, Tier: "B", Pi: 0, Lower: "A", LowerPi: 100000}},
	{"after rounding, tier E's inclusion probability 0.346843 is below tier D's 1.000000",
		Warning{Code: WarnOrder, Tier: "E", Pi: 346843, Lower: "D", LowerPi: MicroUnit}},
	{"stratum B: ratio 0.001 of 329 rounds to 0; 1 drawn (no tier is silently exempt, 不免抽)",
		Warning{Code: WarnRoundUp, Tier: "B", Value: 1000, Population: 329}},
	{"stratum A: ratio 0.000001 of 1 rounds to 0; 1 drawn (no tier is silently exempt, 不免抽)",
		Warning{Code: WarnRoundUp, Tier: "A", Value: 1, Population: 1}},
	{"stratum C: ratio 2 of 74 rounds to 0; 1 drawn (no tier is silently exempt, 不免抽)",
		Warning{Code: WarnRoundUp, Tier: "C", Value: 2 * MicroUnit, Population: 74}},
	{"stratum E: weight 3 of 7 rounds to 0; 1 drawn (no tier is silently exempt, 不免抽)",
		Warning{Code: WarnRoundUp, Tier: "E", Weighted: true, Value: 3, Population: 7}},
	{"stratum D: weight 0 of 0 rounds to 0; 1 drawn (no tier is silently exempt, 不免抽)",
		Warning{Code: WarnRoundUp, Tier: "D", Weighted: true}},
	{"12 registered entities matching the filter had no tier as of as_of and are not in the population",
		Warning{Code: WarnUntiered, Count: 12}},
	{"0 registered entities matching the filter had no tier as of as_of and are not in the population",
		Warning{Code: WarnUntiered}},
	{"9223372036854775807 registered entities matching the filter had no tier as of as_of and are not in the population",
		Warning{Code: WarnUntiered, Count: math.MaxInt64}},
}

func TestWarningTable(t *testing.T) {
	seen := map[WarningCode]bool{}
	for _, c := range warningTable {
		if got := c.w.String(); got != c.text {
			t.Errorf("%+v formats as\n %q, want\n %q", c.w, got, c.text)
		}
		w, ok := ParseWarning(c.text)
		if !ok || w != c.w {
			t.Errorf("%q parses as %+v %v, want %+v", c.text, w, ok, c.w)
		}
		seen[c.w.Code] = true
	}
	if len(seen) != 5 {
		t.Errorf("the table covers %v, want the five forms", seen)
	}
}

// The constructors compute what the sampler's record shows: a share
// rounded half up to hundredths of a percent, probabilities as PiString.
func TestWarningConstructors(t *testing.T) {
	for _, c := range []struct {
		got, want Warning
	}{
		// 10/400 = 2.5% exactly; 1/3 = 0.333…% → 0.33; 2/3 = 0.666…% → 0.67;
		// 1/8 = 0.125% → 0.13 (half up); 6/600 = 1%
		{FloorWarning(10, 400, 3), Warning{Code: WarnFloor, Share: 250, Sample: 10, Population: 400, Floor: 3}},
		{FloorWarning(1, 300, 3), Warning{Code: WarnFloor, Share: 33, Sample: 1, Population: 300, Floor: 3}},
		{FloorWarning(2, 300, 3), Warning{Code: WarnFloor, Share: 67, Sample: 2, Population: 300, Floor: 3}},
		{FloorWarning(1, 800, 3), Warning{Code: WarnFloor, Share: 13, Sample: 1, Population: 800, Floor: 3}},
		{FloorWarning(0, 0, 3), Warning{Code: WarnFloor, Floor: 3}},
		// 1/3 → 0.333333, 2/3 → 0.666667, 1/8 → 0.125, 0/N → 0
		{OrderWarning("C", 1, 3, "B", 2, 3), Warning{Code: WarnOrder, Tier: "C", Pi: 333333, Lower: "B", LowerPi: 666667}},
		{OrderWarning("B", 0, 5, "A", 1, 8), Warning{Code: WarnOrder, Tier: "B", Lower: "A", LowerPi: 125000}},
		{RoundUpWarning("A", false, 1000, 100), Warning{Code: WarnRoundUp, Tier: "A", Value: 1000, Population: 100}},
		{RoundUpWarning("A", true, 4, 100), Warning{Code: WarnRoundUp, Tier: "A", Weighted: true, Value: 4, Population: 100}},
		{UntieredWarning(7), Warning{Code: WarnUntiered, Count: 7}},
		{EmptyWarning(), Warning{Code: WarnEmpty}},
	} {
		if c.got != c.want {
			t.Errorf("got %+v, want %+v", c.got, c.want)
		}
	}
	if got := OrderWarning("C", 1, 3, "B", 2, 3).String(); !strings.Contains(got, PiString(1, 3)) || !strings.Contains(got, PiString(2, 3)) {
		t.Errorf("%q does not show PiString's π", got)
	}
}

// Texts close to a form but not written as String writes them, and other
// texts, are of no known form; an unknown code formats as "".
func TestParseWarningRefuses(t *testing.T) {
	for _, s := range []string{
		"",
		"something new the sampler says",
		"the eligible population is empty: nothing was drawn ",
		"The eligible population is empty: nothing was drawn",
		"012 registered entities matching the filter had no tier as of as_of and are not in the population",
		"-1 registered entities matching the filter had no tier as of as_of and are not in the population",
		"+1 registered entities matching the filter had no tier as of as_of and are not in the population",
		" registered entities matching the filter had no tier as of as_of and are not in the population",
		"9223372036854775808 registered entities matching the filter had no tier as of as_of and are not in the population",
		"1 2 registered entities matching the filter had no tier as of as_of and are not in the population",
		"after rounding, tier C's inclusion probability 1/3 is below tier B's 2/5",
		"after rounding, tier C's inclusion probability 0.33333 is below tier B's 0.400000",
		"after rounding, tier C's inclusion probability .333333 is below tier B's 0.400000",
		"after rounding, tier C's inclusion probability 00.333333 is below tier B's 0.400000",
		"after rounding, tier C's inclusion probability 0.333333 is below tier B's 0.400000 ",
		"after rounding, tier 's inclusion probability 0.333333 is below tier B's 0.400000",
		"after rounding, tier C D's inclusion probability 0.333333 is below tier B's 0.400000",
		"after rounding, tier C's inclusion probability 9223372036854.775808 is below tier B's 0.400000",
		"stratum A: ratio 0.0010 of 100 rounds to 0; 1 drawn (no tier is silently exempt, 不免抽)",
		"stratum A: ratio 1. of 100 rounds to 0; 1 drawn (no tier is silently exempt, 不免抽)",
		"stratum A: ratio 0.0000001 of 100 rounds to 0; 1 drawn (no tier is silently exempt, 不免抽)",
		"stratum A: ratio 1e-3 of 100 rounds to 0; 1 drawn (no tier is silently exempt, 不免抽)",
		"stratum A: weight 0.5 of 100 rounds to 0; 1 drawn (no tier is silently exempt, 不免抽)",
		"stratum A: weight 01 of 100 rounds to 0; 1 drawn (no tier is silently exempt, 不免抽)",
		"stratum A: budget 1 of 100 rounds to 0; 1 drawn (no tier is silently exempt, 不免抽)",
		"stratum A: ratio 0.001 of 100 rounds to 0; 1 drawn (不免抽)",
		"the sample is 2.5% of the eligible population (10 of 400), below the 3% floor for publicity-information spot checks (企业公示信息抽查办法 Art. 4)",
		"the sample is 2.50% of the eligible population (10 of 400), below the 3.0% floor for publicity-information spot checks (企业公示信息抽查办法 Art. 4)",
		"the sample is 2.50% of the eligible population (10 of 400), below the 3% floor for publicity-information spot checks",
	} {
		if w, ok := ParseWarning(s); ok {
			t.Errorf("%q parses as %+v", s, w)
		}
	}
	if s := (Warning{Code: "new"}).String(); s != "" {
		t.Errorf("an unknown code formats as %q", s)
	}
	if a := (Warning{Code: "new"}).Args(); a != nil {
		t.Errorf("an unknown code has args %q", a)
	}
}

// Args are the text's values in the order it shows them.
func TestWarningArgs(t *testing.T) {
	for _, c := range []struct {
		w    Warning
		want []string
	}{
		{warningTable[1].w, []string{"1.00", "6", "600", "3"}},
		{warningTable[4].w, []string{"B", "0.000000", "A", "0.100000"}},
		{warningTable[6].w, []string{"B", "ratio", "0.001", "329"}},
		{warningTable[9].w, []string{"E", "weight", "3", "7"}},
		{warningTable[11].w, []string{"12"}},
		{warningTable[0].w, nil},
	} {
		if got := c.w.Args(); !slices.Equal(got, c.want) {
			t.Errorf("%+v: args %q, want %q", c.w, got, c.want)
		}
	}
}

// randomWarning makes a warning of every form with values drawn from the
// edges (0, 1, powers of ten, draw.MaxCount, the int64 maximum) and at
// random, and tier labels from both schemes or any non-empty text without
// spaces.
func randomWarning(r *rand.Rand) Warning {
	edges := []int64{0, 1, 9, 10, 99, 100, 999_999, MicroUnit, MaxCount, MaxCount + 1, math.MaxInt64 - 1, math.MaxInt64}
	num := func() int64 {
		switch r.IntN(3) {
		case 0:
			return edges[r.IntN(len(edges))]
		case 1:
			return r.Int64N(2 * MicroUnit)
		}
		return r.Int64()
	}
	label := func() string {
		switch r.IntN(3) {
		case 0:
			return tier.National4.Labels[r.IntN(4)]
		case 1:
			return tier.Shandong5.Labels[r.IntN(5)]
		}
		pieces := []string{"A", "z", "'s", "'", ":", ".", "%", "(", ")", "0", "中", "\t", "\xff", "of", "tier"}
		var b strings.Builder
		for range 1 + r.IntN(4) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		return b.String()
	}
	switch r.IntN(5) {
	case 0:
		return Warning{Code: WarnEmpty}
	case 1:
		return Warning{Code: WarnFloor, Share: num(), Sample: num(), Population: num(), Floor: num()}
	case 2:
		return Warning{Code: WarnOrder, Tier: label(), Pi: Micro(num()), Lower: label(), LowerPi: Micro(num())}
	case 3:
		return Warning{Code: WarnRoundUp, Tier: label(), Weighted: r.IntN(2) == 0, Value: num(), Population: num()}
	}
	return Warning{Code: WarnUntiered, Count: num()}
}

// Parsing a formatted warning gives the warning back, and its text back.
func TestWarningRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for range 200_000 {
		w := randomWarning(r)
		s := w.String()
		got, ok := ParseWarning(s)
		if !ok || got != w {
			t.Fatalf("%+v formats as %q, which parses as %+v %v", w, s, got, ok)
		}
		if again := got.String(); again != s {
			t.Fatalf("%q formats back as %q", s, again)
		}
	}
}

// ParseWarning never panics, and a text it accepts is the text of the
// warning it returns.
func FuzzParseWarning(f *testing.F) {
	for _, c := range warningTable {
		f.Add(c.text)
	}
	f.Add("after rounding, tier A's's inclusion probability 0.1 is below tier : 's 0.000001")
	f.Add("stratum :: ratio 0.5 of 3 rounds to 0; 1 drawn (no tier is silently exempt, 不免抽)")
	f.Fuzz(func(t *testing.T, s string) {
		w, ok := ParseWarning(s)
		if !ok {
			if w != (Warning{}) {
				t.Fatalf("%q: refused with %+v", s, w)
			}
			return
		}
		if got := w.String(); got != s {
			t.Fatalf("%q parses as %+v, which formats as %q", s, w, got)
		}
	})
}
