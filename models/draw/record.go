package draw

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// This file holds the draw record (spec/draw.md, draw/v1) and micro-unit decimals.

// ---------------------------------------------------------------------------
// Record

// Stratum is one tier's stratum in a record.
type Stratum struct {
	Label string
	// N is the stratum size N_t (eligible entities of this tier).
	N int64
	// Sample is the sample size n_t.
	Sample int64
	// Pi is n_t/N_t as a decimal string with 6 places (see PiString).
	Pi string
}

// Selection is one selected entity in a record.
type Selection struct {
	USCC uscc.Code
	// Region is the 6-digit division code used for inspector regions.
	Region [6]byte
	Tier   tier.Tier
	// Priority is SHA-256(K || USCC).
	Priority [32]byte
	// Inspectors are the assigned inspector ids in rank order.
	Inspectors []string
	// Unassigned is k minus the inspectors found (0 when fully assigned).
	Unassigned int
	// Reason says why inspectors are missing (set iff Unassigned > 0).
	Reason string
}

// Record is a published `draw/v1` record.
type Record struct {
	DrawID  string
	Request Request
	// Scheme is the tier scheme the strata follow.
	Scheme           *tier.Scheme
	PopulationDigest [32]byte
	// Strata are in the scheme's tier order, one per tier.
	Strata []Stratum
	// Selected are in ascending priority order.
	Selected []Selection
	// Warnings are notes for the plan's reviewers (an extension member:
	// e.g. a sample below the 3% floor of 企业公示信息抽查办法 Art. 4).
	Warnings []string
}

// PiString formats n/N with 6 decimal places, rounding half up (the rule
// the spec uses for n_t); N = 0 gives "0.000000".
func PiString(n, N int64) string {
	return fixed6(piMicro(n, N))
}

// piMicro is n/N in micro-units, rounded half up (0 if N ≤ 0).
func piMicro(n, N int64) Micro {
	if N <= 0 {
		return 0
	}
	// floor((2·n·10^6 + N) / (2N)); n ≤ N ≤ 2^40 keeps this below 2^62.
	return Micro((2*n*MicroUnit + N) / (2 * N))
}

// fixed6 writes m with exactly 6 decimals, as PiString does.
func fixed6(m Micro) string {
	return fmt.Sprintf("%d.%06d", int64(m)/MicroUnit, int64(m)%MicroUnit)
}

// IDPrefix returns the readable part of a draw id:
// "<plan slug>-<as_of as YYYYMMDDTHHMMSSZ>", where the slug is plan_id with
// every character outside [A-Za-z0-9._-] (and a leading '.') replaced by '_'.
func IDPrefix(planID string, asOf time.Time) string {
	b := []byte(planID)
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') || (i == 0 && c == '.') {
			b[i] = '_'
		}
	}
	return string(b) + "-" + asOf.UTC().Format("20060102T150405Z")
}

// ComputeID returns the draw id the record's content determines:
// IDPrefix(plan_id, as_of) + "-" + the first 12 hex digits of the
// SHA-256 of the record's canonical encoding with draw_id set to "". The id
// is therefore plan-scoped, readable, safe in file names and URLs, and any
// change to the record's content changes it.
func (r *Record) ComputeID() string {
	c := *r
	c.DrawID = ""
	h := sha256.New()
	c.WriteJSON(h) // a hash.Hash never fails to write
	return IDPrefix(r.Request.PlanID, r.Request.AsOf) + "-" + hex.EncodeToString(h.Sum(nil)[:6])
}

// ParseRecord parses a draw record and validates its structure: every
// member is present and well formed, the strata are exactly the scheme's
// tiers, the allocation fits the scheme. It does not check that the draw is
// right: that is the verifier's job, with the population lines.
func ParseRecord(data []byte) (*Record, error) {
	d := newDrawDec(data)
	r := new(Record)
	if err := d.document(func() error { return d.record(r) }); err != nil {
		return nil, err
	}
	if err := r.Request.Validate(); err != nil {
		var de *Error
		if errors.As(err, &de) {
			de.Path = "request." + de.Path
		}
		return nil, err
	}
	if _, err := r.Request.Allocation.Resolve(r.Scheme); err != nil {
		var de *Error
		if errors.As(err, &de) {
			de.Path = "request." + de.Path
		}
		return nil, err
	}
	return r, nil
}

// MarshalJSON implements json.Marshaler with the canonical encoding.
func (r *Record) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// UnmarshalJSON implements json.Unmarshaler with ParseRecord.
func (r *Record) UnmarshalJSON(data []byte) error {
	p, err := ParseRecord(data)
	if err != nil {
		return err
	}
	*r = *p
	return nil
}

// ---------------------------------------------------------------------------
// Micro-unit decimals

// Micro is a non-negative decimal in millionths (micro-units): 0.05 is 50000.
type Micro int64

// String formats m as the shortest exact decimal: "0", "1", "0.05", "0.000001".
func (m Micro) String() string {
	if m < 0 {
		return "-" + Micro(-m).String()
	}
	s := fmt.Sprintf("%d.%06d", m/MicroUnit, m%MicroUnit)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// ParseMicro reads a JSON number's text exactly into micro-units. It refuses
// values that are negative, not a multiple of 10^-6 ("more than 6
// decimals"), or larger than max micro-units. Exponents are allowed
// (1e-2 is 10000); trailing zeros do not count as decimals (0.0500000 is 0.05).
func ParseMicro(text string, max int64) (Micro, error) {
	v, err := drawDecimal(text, 6, max)
	return Micro(v), err
}

// drawDecimal reads the JSON number text and returns value·10^scale, which
// must be a non-negative integer ≤ max. It never goes through float64.
func drawDecimal(text string, scale int, max int64) (int64, error) {
	s := text
	if s == "" {
		return 0, errors.New("empty number")
	}
	neg := false
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	// mantissa digits (without the point) and the position of the point
	i := 0
	var digits []byte
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		digits = append(digits, s[i])
		i++
	}
	if len(digits) == 0 || (len(digits) > 1 && digits[0] == '0') {
		return 0, fmt.Errorf("%q is not a JSON number", text)
	}
	exp := 0
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			digits = append(digits, s[i])
			i++
		}
		if i == j {
			return 0, fmt.Errorf("%q is not a JSON number", text)
		}
		exp = -(i - j)
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		j := i
		e := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if e < 1_000_000 {
				e = e*10 + int(s[i]-'0')
			}
			i++
		}
		if i == j {
			return 0, fmt.Errorf("%q is not a JSON number", text)
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i != len(s) {
		return 0, fmt.Errorf("%q is not a JSON number", text)
	}
	// strip leading and trailing zeros
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
	}
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	if len(digits) == 0 {
		return 0, nil // any form of zero, including -0
	}
	if neg {
		return 0, fmt.Errorf("%s is negative", text)
	}
	exp += scale
	if exp < 0 {
		if scale == 0 {
			return 0, fmt.Errorf("%s is not an integer", text)
		}
		return 0, fmt.Errorf("%s has more than %d decimals", text, scale)
	}
	if len(digits)+exp > 18 {
		return 0, fmt.Errorf("%s is too large (at most %s)", text, drawScaled(max, scale))
	}
	var v int64
	for _, c := range digits {
		v = v*10 + int64(c-'0')
	}
	for ; exp > 0; exp-- {
		v *= 10
	}
	if v > max {
		return 0, fmt.Errorf("%s is too large (at most %s)", text, drawScaled(max, scale))
	}
	return v, nil
}

func drawScaled(v int64, scale int) string {
	if scale == 6 {
		return Micro(v).String()
	}
	return strconv.FormatInt(v, 10)
}
