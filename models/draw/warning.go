package draw

import (
	"strconv"
	"strings"
)

// This file owns the draw warnings: the notes a record (both formats) and a
// preview carry for the plan's reviewers. A record stores them as English
// text and is signed and hashed, so the text of each form below is fixed
// byte for byte; Warning is the structure behind the text. The sampler
// builds Warnings and writes their String; readers of stored records get
// the structure back with ParseWarning (e.g. to render a warning in
// another language) and show a text it does not know as written.

// WarningCode names a warning's form.
type WarningCode string

// The known forms and their text (%s a label, %d a count):
const (
	// WarnEmpty: "the eligible population is empty: nothing was drawn".
	WarnEmpty WarningCode = "empty"
	// WarnFloor: "the sample is SHARE% of the eligible population (n of
	// N), below the FLOOR% floor for publicity-information spot checks
	// (企业公示信息抽查办法 Art. 4)"; SHARE is n/N in percent with two
	// decimals (rounded half up).
	WarnFloor WarningCode = "floor"
	// WarnOrder: "after rounding, tier T's inclusion probability π_T is
	// below tier L's π_L"; T is the tier above L and the π are PiString's.
	WarnOrder WarningCode = "order"
	// WarnRoundUp: "stratum T: ratio R of N rounds to 0; 1 drawn (no tier
	// is silently exempt, 不免抽)", or "weight W" for a budget allocation;
	// R is Micro's shortest decimal, W an integer (domain.md §2.2: 不免抽).
	WarnRoundUp WarningCode = "roundup"
	// WarnUntiered: "C registered entities matching the filter had no tier
	// as of as_of and are not in the population".
	WarnUntiered WarningCode = "untiered"
)

// Warning is a draw warning: its form and the values its text shows. Each
// form uses only the fields its comment names; the others are zero. Counts
// and values are non-negative, and tier labels are non-empty without
// spaces (as every scheme's labels): ParseWarning inverts String for such
// warnings.
type Warning struct {
	Code WarningCode
	// Tier is the stratum's label (WarnRoundUp) or the higher tier's
	// (WarnOrder); Lower is the tier below it (WarnOrder).
	Tier, Lower string
	// Pi and LowerPi are the inclusion probabilities of Tier and Lower in
	// micro-units, written with 6 decimals (WarnOrder).
	Pi, LowerPi Micro
	// Population is N: the eligible population (WarnFloor) or the
	// stratum's size (WarnRoundUp). Sample is the sample size n
	// (WarnFloor).
	Population, Sample int64
	// Share is Sample/Population in hundredths of a percent, and Floor the
	// floor in percent (WarnFloor).
	Share, Floor int64
	// Weighted says the allocation is a budget with weights, else ratios;
	// Value is the weight, or the ratio in micro-units (WarnRoundUp).
	Weighted bool
	Value    int64
	// Count is the number of registered entities without a tier
	// (WarnUntiered).
	Count int64
}

// EmptyWarning is the warning for a draw over an empty population.
func EmptyWarning() Warning { return Warning{Code: WarnEmpty} }

// FloorWarning is the warning for a sample of n out of a population of
// N below floor percent; its Share is n/N rounded half up to hundredths of
// a percent (0 if N is 0).
func FloorWarning(n, N, floor int64) Warning {
	w := Warning{Code: WarnFloor, Sample: n, Population: N, Floor: floor}
	if N > 0 {
		// n ≤ N ≤ 16·MaxCount keeps 2·n·10^4 below 2^59
		w.Share = (2*n*10000 + N) / (2 * N)
	}
	return w
}

// OrderWarning is the warning that tier's inclusion probability n/N is
// below the lower tier's ln/lN after rounding.
func OrderWarning(tier string, n, N int64, lower string, ln, lN int64) Warning {
	return Warning{Code: WarnOrder, Tier: tier, Pi: piMicro(n, N), Lower: lower, LowerPi: piMicro(ln, lN)}
}

// RoundUpWarning is the warning that stratum tier of N entities got 1 draw
// where its ratio (micro-units) or weight (weighted) rounded to 0.
func RoundUpWarning(tier string, weighted bool, value, N int64) Warning {
	return Warning{Code: WarnRoundUp, Tier: tier, Weighted: weighted, Value: value, Population: N}
}

// UntieredWarning is the warning that count registered entities had no
// tier and were left out of the population.
func UntieredWarning(count int64) Warning { return Warning{Code: WarnUntiered, Count: count} }

// NamesTier reports whether the warning's text names a tier (public
// editions that suppress their strata leave such warnings out).
func (w Warning) NamesTier() bool { return w.Code == WarnOrder || w.Code == WarnRoundUp }

// Kind is "weight" or "ratio": the allocation value a WarnRoundUp names.
func (w Warning) Kind() string {
	if w.Weighted {
		return "weight"
	}
	return "ratio"
}

// Args are the values of the warning's text as written, in the order the
// text shows them (nil for WarnEmpty and unknown codes): WarnFloor share,
// n, N, floor; WarnOrder tier, π, lower, π_lower; WarnRoundUp tier, Kind,
// value, N; WarnUntiered count.
func (w Warning) Args() []string {
	d := func(v int64) string { return strconv.FormatInt(v, 10) }
	switch w.Code {
	case WarnFloor:
		return []string{d(w.Share/100) + "." + twoDigits(w.Share%100), d(w.Sample), d(w.Population), d(w.Floor)}
	case WarnOrder:
		return []string{w.Tier, fixed6(w.Pi), w.Lower, fixed6(w.LowerPi)}
	case WarnRoundUp:
		v := Micro(w.Value).String()
		if w.Weighted {
			v = d(w.Value)
		}
		return []string{w.Tier, w.Kind(), v, d(w.Population)}
	case WarnUntiered:
		return []string{d(w.Count)}
	}
	return nil
}

// warnForms are the forms' texts around their Args: Args[i] goes between
// parts[i] and parts[i+1].
var warnForms = []struct {
	code  WarningCode
	parts []string
}{
	{WarnEmpty, []string{"the eligible population is empty: nothing was drawn"}},
	{WarnFloor, []string{"the sample is ", "% of the eligible population (", " of ", "), below the ",
		"% floor for publicity-information spot checks (企业公示信息抽查办法 Art. 4)"}},
	{WarnOrder, []string{"after rounding, tier ", "'s inclusion probability ", " is below tier ", "'s ", ""}},
	{WarnRoundUp, []string{"stratum ", ": ", " ", " of ", " rounds to 0; 1 drawn (no tier is silently exempt, 不免抽)"}},
	{WarnUntiered, []string{"", " registered entities matching the filter had no tier as of as_of and are not in the population"}},
}

// String is the warning's English text as records carry it ("" for an
// unknown code).
func (w Warning) String() string {
	var parts []string
	for _, f := range warnForms {
		if f.code == w.Code {
			parts = f.parts
		}
	}
	if parts == nil {
		return ""
	}
	args := w.Args()
	var b strings.Builder
	b.WriteString(parts[0])
	for i, a := range args {
		b.WriteString(a)
		b.WriteString(parts[i+1])
	}
	return b.String()
}

// Strings formats warnings as records carry them (nil for none).
func Strings(ws []Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.String())
	}
	return out
}

// ParseWarning reads a warning's text back into its Warning. It reports
// false for a text of no known form, including one whose values are not
// written as String writes them (a count with a leading zero or a sign, a
// π without its 6 decimals, a ratio with a trailing zero): for every text
// it accepts, String gives the text back.
func ParseWarning(s string) (Warning, bool) {
	for _, f := range warnForms {
		if args, ok := splitWarning(s, f.parts); ok {
			if w, ok := warningOf(f.code, args); ok {
				return w, true
			}
		}
	}
	return Warning{}, false
}

// splitWarning cuts s around parts and returns the args between them.
// Args are non-empty and hold no space (labels and numbers), and every
// part after the first holds a space or is the empty last one: an arg
// therefore ends where the part's text before its first space ends the
// arg's space-free run, and the split is unique.
func splitWarning(s string, parts []string) ([]string, bool) {
	rest, ok := strings.CutPrefix(s, parts[0])
	if !ok {
		return nil, false
	}
	args := make([]string, 0, len(parts)-1)
	for _, p := range parts[1:] {
		end := strings.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		k := strings.IndexByte(p, ' ')
		if k < 0 {
			k = len(p)
		}
		i := end - k
		if i < 1 || !strings.HasPrefix(rest[i:], p) {
			return nil, false
		}
		args = append(args, rest[:i])
		rest = rest[i+len(p):]
	}
	return args, rest == ""
}

// warningOf makes the code's Warning from its texts' args, or false if an
// arg is not written as String writes it.
func warningOf(code WarningCode, a []string) (Warning, bool) {
	ok := true
	num := func(s string) int64 {
		v, good := canonicalInt(s)
		ok = ok && good
		return v
	}
	var w Warning
	switch code {
	case WarnEmpty:
		w = EmptyWarning()
	case WarnFloor:
		share, good := fixedDecimal(a[0], 2)
		ok = good
		w = Warning{Code: code, Share: share, Sample: num(a[1]), Population: num(a[2]), Floor: num(a[3])}
	case WarnOrder:
		pi, good1 := fixedDecimal(a[1], 6)
		lpi, good2 := fixedDecimal(a[3], 6)
		ok = good1 && good2
		w = Warning{Code: code, Tier: a[0], Pi: Micro(pi), Lower: a[2], LowerPi: Micro(lpi)}
	case WarnRoundUp:
		w = Warning{Code: code, Tier: a[0], Weighted: a[1] == "weight", Population: num(a[3])}
		switch a[1] {
		case "weight":
			w.Value = num(a[2])
		case "ratio":
			var good bool
			w.Value, good = shortMicro(a[2])
			ok = ok && good
		default:
			ok = false
		}
	case WarnUntiered:
		w = UntieredWarning(num(a[0]))
	}
	return w, ok
}

// canonicalInt reads a non-negative decimal integer written without sign,
// leading zeros or overflow.
func canonicalInt(s string) (int64, bool) {
	if s == "" || len(s) > 1 && s[0] == '0' || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

// fixedDecimal reads "I.F" with a canonical integer part I and exactly
// places digits F as I·10^places + F.
func fixedDecimal(s string, places int) (int64, bool) {
	i := len(s) - places - 1
	if i < 1 || s[i] != '.' {
		return 0, false
	}
	ip, ok := canonicalInt(s[:i])
	var fp int64
	for _, c := range []byte(s[i+1:]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		fp = 10*fp + int64(c-'0')
	}
	scale := int64(1)
	for range places {
		scale *= 10
	}
	if !ok || ip > (1<<63-1-fp)/scale {
		return 0, false
	}
	return ip*scale + fp, true
}

// shortMicro reads a decimal as Micro.String writes it (no trailing
// zeros, no point without decimals) into micro-units.
func shortMicro(s string) (int64, bool) {
	i, f, point := strings.Cut(s, ".")
	if !point {
		return fixedDecimal(s+".000000", 6)
	}
	if f == "" || len(f) > 6 || f[len(f)-1] == '0' {
		return 0, false
	}
	return fixedDecimal(i+"."+f+strings.Repeat("0", 6-len(f)), 6)
}

// twoDigits writes 0 ≤ v < 100 with two digits.
func twoDigits(v int64) string {
	return string([]byte{byte('0' + v/10), byte('0' + v%10)})
}
