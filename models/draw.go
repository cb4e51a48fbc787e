package models

// This file defines the documents of the `draw/v1` format (spec/draw.md):
// the draw request and the published draw record, with strict parsing,
// validation and a canonical encoding. It is pure: no I/O.
//
// Parsing is done by a small hand-written JSON reader rather than
// encoding/json because the format is public and must mean one thing to
// every verifier:
//   - duplicate member names are refused (encoding/json keeps the last one,
//     other languages keep the first: a tampered record could read
//     differently to different verifiers);
//   - member names match exactly (encoding/json matches case-insensitively);
//   - unknown members are refused (a typo such as "exclude_selected_within_day"
//     must not silently mean "no exclusion");
//   - numbers are read from their decimal text, never through float64:
//     ratios are exact micro-units (at most 6 decimals, more are refused).
//
// The encoding (AppendJSON) is canonical: one document has one encoding, so
// the draw id can bind the record's content (see DrawRecord.ComputeID).

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/creditrisk/creditd/models/jsontext"
)

// DrawFormat is the value of the record's "format" member.
const DrawFormat = "draw/v1"

// Limits on draw documents. They bound memory and arithmetic; real plans are
// far below them.
const (
	MaxPlanIDLen      = 64        // plan_id: 1–64 printable ASCII characters (spec)
	MaxInspectorIDLen = 64        // inspector ids: 1–64 printable ASCII, no spaces
	MaxDepartmentLen  = 64        // department names: 1–64 bytes of UTF-8
	MaxPoolSize       = 100_000   // inspectors in one pool
	MaxPerEntity      = 100       // inspectors per entity
	MaxSeedHexLen     = 1024      // seed: 32–1024 hex digits
	MaxDrawWeight     = 1_000_000 // allocation weights
	MaxDrawCount      = 1 << 40   // budgets, stratum sizes, loads
	MaxExcludeDays    = 36_500    // exclude_selected_within_days
	MaxPerYear        = 1_000     // max_inspections_per_year
	MicroUnit         = 1_000_000 // one, in micro-units
	MaxTiers          = 16        // tiers in a scheme
)

// DrawError is a problem with a draw document: Path names the member in
// JSON-path-like form ("allocation.ratios.B", "selected[3].priority"); it is
// empty for syntax errors, whose message gives the byte offset.
type DrawError struct {
	Path string
	Msg  string
}

func (e *DrawError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

func drawErr(path, format string, args ...any) error {
	return &DrawError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// ---------------------------------------------------------------------------
// Request

// DrawPopulation is the request's population filter.
type DrawPopulation struct {
	// RegionPrefix is a prefix (0–6 digits) of the entity's 6-digit division
	// code; "" matches all.
	RegionPrefix string
	// EntityTypes are USCC entity-type codes (position 2), one character
	// each; empty matches all.
	EntityTypes []string
	// RegistrationAuthorities are USCC registration-authority codes
	// (position 1), one character each; empty matches all.
	RegistrationAuthorities []string
}

// Match reports whether an entity with code c and division code region
// passes the filter.
func (p *DrawPopulation) Match(c USCC, region [6]byte) bool {
	if len(p.RegionPrefix) > 0 && string(region[:len(p.RegionPrefix)]) != p.RegionPrefix {
		return false
	}
	return drawCharIn(p.EntityTypes, c[1]) && drawCharIn(p.RegistrationAuthorities, c[0])
}

func drawCharIn(list []string, b byte) bool {
	if len(list) == 0 {
		return true
	}
	for _, s := range list {
		if s[0] == b {
			return true
		}
	}
	return false
}

// TierValue is one tier's entry of an allocation: a ratio in micro-units or
// a weight.
type TierValue struct {
	Label string
	Value int64
}

// DrawAllocation is either ratios (Ratios non-nil) or a budget with weights
// (Weights non-nil). Entries are kept in the order given until Canonicalize
// puts them in scheme order.
type DrawAllocation struct {
	// Ratios are per-tier inclusion ratios in micro-units (0 … 1,000,000).
	Ratios []TierValue
	// Budget is the total sample size n (with Weights).
	Budget int64
	// Weights are per-tier relative inspection rates (integers ≥ 0).
	Weights []TierValue
}

// IsBudget reports whether the allocation is a budget with weights.
func (a *DrawAllocation) IsBudget() bool { return a.Weights != nil }

// Resolve returns the allocation's values in the scheme's tier order
// (micro-unit ratios or weights). It refuses labels that are not the
// scheme's, missing tiers, and values that fall as risk rises (spec: the
// inspection probability must not fall as risk rises).
func (a *DrawAllocation) Resolve(s *TierScheme) ([]int64, error) {
	list, kind, path := a.Ratios, "ratio", "allocation.ratios"
	if a.IsBudget() {
		list, kind, path = a.Weights, "weight", "allocation.weights"
	}
	vals := make([]int64, s.Len())
	seen := make([]bool, s.Len())
	for _, tv := range list {
		t, err := s.Parse(tv.Label)
		if err != nil {
			return nil, drawErr(path+"."+tv.Label, "tier %q is not in scheme %s (%s)", tv.Label, s.ID, strings.Join(s.Labels, " "))
		}
		vals[t], seen[t] = tv.Value, true
	}
	for t, ok := range seen {
		if !ok {
			return nil, drawErr(path, "no %s for tier %s of scheme %s (every tier needs one)", kind, s.Labels[t], s.ID)
		}
	}
	for t := 1; t < len(vals); t++ {
		if vals[t] < vals[t-1] {
			show := func(v int64) string {
				if kind == "ratio" {
					return Micro(v).String()
				}
				return strconv.FormatInt(v, 10)
			}
			return nil, drawErr(path+"."+s.Labels[t], "%s %s of tier %s is below %s of lower-risk tier %s: inspection probability must not fall as risk rises",
				kind, show(vals[t]), s.Labels[t], show(vals[t-1]), s.Labels[t-1])
		}
	}
	return vals, nil
}

// Canonicalize puts the allocation's entries in the scheme's tier order. It
// assumes Resolve succeeded.
func (a *DrawAllocation) Canonicalize(s *TierScheme) {
	sortTV := func(list []TierValue) {
		out := make([]TierValue, 0, len(list))
		for _, l := range s.Labels {
			for _, tv := range list {
				if tv.Label == l {
					out = append(out, tv)
				}
			}
		}
		copy(list, out)
	}
	sortTV(a.Ratios)
	sortTV(a.Weights)
}

// Inspector is one law-enforcement officer in the pool.
type Inspector struct {
	// ID identifies the inspector: 1–64 printable ASCII characters without
	// spaces (ids are hashed as bytes, so no Unicode normalisation issues).
	ID string
	// Departments the inspector works for; empty = any department.
	Departments []string
	// Regions are division-code prefixes (1–6 digits) the inspector covers;
	// empty = everywhere.
	Regions []string
}

// Covers reports whether the inspector covers the 6-digit division code region.
func (in *Inspector) Covers(region [6]byte) bool {
	if len(in.Regions) == 0 {
		return true
	}
	for _, r := range in.Regions {
		if string(region[:len(r)]) == r {
			return true
		}
	}
	return false
}

// ServesDepartment reports whether the inspector may work for dept ("" =
// the plan names no department).
func (in *Inspector) ServesDepartment(dept string) bool {
	if dept == "" || len(in.Departments) == 0 {
		return true
	}
	for _, d := range in.Departments {
		if d == dept {
			return true
		}
	}
	return false
}

// DrawInspectors is the request's inspector section.
type DrawInspectors struct {
	Pool []Inspector
	// PerEntity is k, the inspectors assigned to each selected entity
	// (default 2: at least two officers per inspection, 行政处罚法 Art. 42).
	PerEntity int
	// MaxLoad caps the entities per inspector; 0 = not given (the cap is
	// then ceil(k·Σn/|pool|)).
	MaxLoad int64
}

// DefaultPerEntity is the default k.
const DefaultPerEntity = 2

// DrawConflict is a (inspector, entity) pair that must never be matched (回避).
type DrawConflict struct {
	Inspector string
	USCC      USCC
}

// DrawRequest is a `draw/v1` request. Parse it with ParseDrawRequest; a
// request built in code must pass Validate.
type DrawRequest struct {
	PlanID string
	// AsOf is the instant (UTC) the population and tiers are taken at.
	AsOf                      time.Time
	Population                DrawPopulation
	ExcludeSelectedWithinDays int
	MaxInspectionsPerYear     int
	Allocation                DrawAllocation
	Inspectors                DrawInspectors
	Department                string
	Conflicts                 []DrawConflict
	// Seed is the seed as lowercase hex (at least 32 digits, even length).
	Seed string
	// SeedCommitment is the lowercase hex SHA-256 of the seed bytes, or "".
	SeedCommitment string
}

// SeedBytes decodes the seed.
func (r *DrawRequest) SeedBytes() []byte {
	b, _ := hex.DecodeString(r.Seed)
	return b
}

// SeedDigest returns the lowercase hex SHA-256 of the seed bytes: the value
// a seed commitment must have.
func SeedDigest(seed []byte) string {
	h := sha256.Sum256(seed)
	return hex.EncodeToString(h[:])
}

// ParseDrawRequest parses and validates a draw request.
func ParseDrawRequest(data []byte) (*DrawRequest, error) {
	d := drawDec{data: data}
	r := new(DrawRequest)
	if err := d.document(func() error { return d.request("", r) }); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// UnmarshalJSON implements json.Unmarshaler with ParseDrawRequest.
func (r *DrawRequest) UnmarshalJSON(data []byte) error {
	p, err := ParseDrawRequest(data)
	if err != nil {
		return err
	}
	*r = *p
	return nil
}

// MarshalJSON implements json.Marshaler with the canonical encoding.
func (r *DrawRequest) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// Validate checks a request's fields (everything that does not need the
// tier scheme; DrawAllocation.Resolve checks the allocation against it).
func (r *DrawRequest) Validate() error {
	if n := len(r.PlanID); n == 0 || n > MaxPlanIDLen {
		return drawErr("plan_id", "must be 1–%d printable ASCII characters, has %d", MaxPlanIDLen, n)
	}
	for i := 0; i < len(r.PlanID); i++ {
		if c := r.PlanID[i]; c < 0x20 || c > 0x7e {
			return drawErr("plan_id", "character %d (%q) is not printable ASCII", i+1, c)
		}
	}
	if r.AsOf.IsZero() {
		return drawErr("as_of", "missing")
	}
	if y := r.AsOf.UTC().Year(); y < 1970 || y > 9999 {
		return drawErr("as_of", "year %d out of range", y)
	}
	p := &r.Population
	if len(p.RegionPrefix) > 6 || !drawDigits(p.RegionPrefix) {
		return drawErr("population.region_prefix", "%q is not a prefix (0–6 digits) of a division code", p.RegionPrefix)
	}
	if err := drawCodeList("population.entity_types", p.EntityTypes); err != nil {
		return err
	}
	if err := drawCodeList("population.registration_authorities", p.RegistrationAuthorities); err != nil {
		return err
	}
	if r.ExcludeSelectedWithinDays < 0 || r.ExcludeSelectedWithinDays > MaxExcludeDays {
		return drawErr("exclude_selected_within_days", "must be 0–%d, is %d", MaxExcludeDays, r.ExcludeSelectedWithinDays)
	}
	if r.MaxInspectionsPerYear < 0 || r.MaxInspectionsPerYear > MaxPerYear {
		return drawErr("max_inspections_per_year", "must be 0–%d, is %d", MaxPerYear, r.MaxInspectionsPerYear)
	}
	a := &r.Allocation
	switch {
	case a.Ratios == nil && a.Weights == nil:
		return drawErr("allocation", `needs "ratios" or "budget" with "weights"`)
	case a.Ratios != nil && a.Weights != nil:
		return drawErr("allocation", `has both "ratios" and "weights"`)
	}
	if err := drawCheckTV("allocation.ratios", a.Ratios, MicroUnit); err != nil {
		return err
	}
	if err := drawCheckTV("allocation.weights", a.Weights, MaxDrawWeight); err != nil {
		return err
	}
	if a.Ratios != nil && a.Budget != 0 {
		return drawErr("allocation.budget", `only goes with "weights"`)
	}
	if a.Budget < 0 || a.Budget > MaxDrawCount {
		return drawErr("allocation.budget", "must be 0–%d, is %d", int64(MaxDrawCount), a.Budget)
	}
	in := &r.Inspectors
	if len(in.Pool) == 0 {
		return drawErr("inspectors.pool", "is empty")
	}
	if len(in.Pool) > MaxPoolSize {
		return drawErr("inspectors.pool", "has %d inspectors, at most %d allowed", len(in.Pool), MaxPoolSize)
	}
	if in.PerEntity < 1 || in.PerEntity > MaxPerEntity {
		return drawErr("inspectors.per_entity", "must be 1–%d, is %d", MaxPerEntity, in.PerEntity)
	}
	if len(in.Pool) < in.PerEntity {
		return drawErr("inspectors.pool", "has %d inspectors, fewer than per_entity %d", len(in.Pool), in.PerEntity)
	}
	if in.MaxLoad < 0 || in.MaxLoad > MaxDrawCount {
		return drawErr("inspectors.max_load", "must be 1–%d when given, is %d", int64(MaxDrawCount), in.MaxLoad)
	}
	ids := make(map[string]int, len(in.Pool))
	for i := range in.Pool {
		insp := &in.Pool[i]
		path := fmt.Sprintf("inspectors.pool[%d]", i)
		if err := drawCheckID(path+".id", insp.ID); err != nil {
			return err
		}
		if j, dup := ids[insp.ID]; dup {
			return drawErr(path+".id", "%q repeats inspectors.pool[%d]", insp.ID, j)
		}
		ids[insp.ID] = i
		for j, d := range insp.Departments {
			if err := drawCheckDept(fmt.Sprintf("%s.departments[%d]", path, j), d); err != nil {
				return err
			}
			if drawIndex(insp.Departments[:j], d) >= 0 {
				return drawErr(fmt.Sprintf("%s.departments[%d]", path, j), "%q is listed twice", d)
			}
		}
		for j, g := range insp.Regions {
			if len(g) < 1 || len(g) > 6 || !drawDigits(g) {
				return drawErr(fmt.Sprintf("%s.regions[%d]", path, j), "%q is not a division-code prefix (1–6 digits)", g)
			}
			if drawIndex(insp.Regions[:j], g) >= 0 {
				return drawErr(fmt.Sprintf("%s.regions[%d]", path, j), "%q is listed twice", g)
			}
		}
	}
	if r.Department != "" {
		if err := drawCheckDept("department", r.Department); err != nil {
			return err
		}
	}
	type pair struct {
		id string
		c  USCC
	}
	seenPairs := make(map[pair]int, len(r.Conflicts))
	for i, c := range r.Conflicts {
		path := fmt.Sprintf("conflicts[%d]", i)
		if _, ok := ids[c.Inspector]; !ok {
			return drawErr(path+".inspector", "%q is not in inspectors.pool", c.Inspector)
		}
		if _, err := ParseUSCCFormat(c.USCC.String()); err != nil {
			return drawErr(path+".uscc", "%v", err)
		}
		if j, dup := seenPairs[pair{c.Inspector, c.USCC}]; dup {
			return drawErr(path, "repeats conflicts[%d]", j)
		}
		seenPairs[pair{c.Inspector, c.USCC}] = i
	}
	if n := len(r.Seed); n < 32 || n > MaxSeedHexLen || n%2 != 0 || !drawLowerHex(r.Seed) {
		return drawErr("seed", "must be an even number (32–%d) of lowercase hex digits, has %d characters", MaxSeedHexLen, n)
	}
	if r.SeedCommitment != "" {
		if len(r.SeedCommitment) != 64 || !drawLowerHex(r.SeedCommitment) {
			return drawErr("seed_commitment", "must be 64 lowercase hex digits (a SHA-256)")
		}
		if got := SeedDigest(r.SeedBytes()); got != r.SeedCommitment {
			return drawErr("seed_commitment", "is %s but SHA-256 of the seed is %s: the seed does not match its commitment", r.SeedCommitment, got)
		}
	}
	return nil
}

func drawIndex(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func drawDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func drawLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func drawCodeList(path string, list []string) error {
	for i, s := range list {
		if len(s) != 1 || usccValue[s[0]] < 0 || USCCAlphabet[usccValue[s[0]]] != s[0] {
			return drawErr(fmt.Sprintf("%s[%d]", path, i), "%q is not a single USCC character (%s)", s, USCCAlphabet)
		}
		if drawIndex(list[:i], s) >= 0 {
			return drawErr(fmt.Sprintf("%s[%d]", path, i), "%q is listed twice", s)
		}
	}
	return nil
}

func drawCheckTV(path string, list []TierValue, max int64) error {
	if list != nil && len(list) == 0 {
		return drawErr(path, "is empty")
	}
	if len(list) > MaxTiers {
		return drawErr(path, "has %d tiers, at most %d", len(list), MaxTiers)
	}
	for i, tv := range list {
		if tv.Label == "" || len(tv.Label) > 8 {
			return drawErr(path, "tier label %q must be 1–8 characters", tv.Label)
		}
		for j := 0; j < len(tv.Label); j++ {
			if c := tv.Label[j]; c <= 0x20 || c > 0x7e || c == ',' || c == '"' || c == '\\' {
				return drawErr(path, "tier label %q must be printable ASCII without spaces, commas or quotes", tv.Label)
			}
		}
		for _, o := range list[:i] {
			if o.Label == tv.Label {
				return drawErr(path+"."+tv.Label, "tier listed twice")
			}
		}
		if tv.Value < 0 || tv.Value > max {
			if max == MicroUnit {
				return drawErr(path+"."+tv.Label, "ratio %s is outside 0…1", Micro(tv.Value))
			}
			return drawErr(path+"."+tv.Label, "weight %d is outside 0…%d", tv.Value, max)
		}
	}
	return nil
}

func drawCheckID(path, id string) error {
	if len(id) == 0 || len(id) > MaxInspectorIDLen {
		return drawErr(path, "must be 1–%d printable ASCII characters without spaces, has %d", MaxInspectorIDLen, len(id))
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= 0x20 || c > 0x7e {
			return drawErr(path, "%q: character %d is not printable ASCII (spaces are not allowed)", id, i+1)
		}
	}
	return nil
}

func drawCheckDept(path, d string) error {
	if len(d) == 0 || len(d) > MaxDepartmentLen || !utf8.ValidString(d) {
		return drawErr(path, "must be 1–%d bytes of UTF-8", MaxDepartmentLen)
	}
	for _, c := range d {
		if c < 0x20 || c == 0x7f {
			return drawErr(path, "%q contains a control character", d)
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Record

// DrawStratum is one tier's stratum in a record.
type DrawStratum struct {
	Label string
	// N is the stratum size N_t (eligible entities of this tier).
	N int64
	// Sample is the sample size n_t.
	Sample int64
	// Pi is n_t/N_t as a decimal string with 6 places (see PiString).
	Pi string
}

// DrawSelection is one selected entity in a record.
type DrawSelection struct {
	USCC USCC
	// Region is the 6-digit division code used for inspector regions.
	Region [6]byte
	Tier   Tier
	// Priority is SHA-256(K || USCC).
	Priority [32]byte
	// Inspectors are the assigned inspector ids in rank order.
	Inspectors []string
	// Unassigned is k minus the inspectors found (0 when fully assigned).
	Unassigned int
	// Reason says why inspectors are missing (set iff Unassigned > 0).
	Reason string
}

// DrawRecord is a published `draw/v1` record.
type DrawRecord struct {
	DrawID  string
	Request DrawRequest
	// Scheme is the tier scheme the strata follow.
	Scheme           *TierScheme
	PopulationDigest [32]byte
	// Strata are in the scheme's tier order, one per tier.
	Strata []DrawStratum
	// Selected are in ascending priority order.
	Selected []DrawSelection
	// Warnings are notes for the plan's reviewers (an extension member:
	// e.g. a sample below the 3% floor of 企业公示信息抽查办法 Art. 4).
	Warnings []string
}

// PiString formats n/N with 6 decimal places, rounding half up (the rule
// the spec uses for n_t); N = 0 gives "0.000000".
func PiString(n, N int64) string {
	if N <= 0 {
		return "0.000000"
	}
	// floor((2·n·10^6 + N) / (2N)); n ≤ N ≤ 2^40 keeps this below 2^62.
	micro := (2*n*MicroUnit + N) / (2 * N)
	return fmt.Sprintf("%d.%06d", micro/MicroUnit, micro%MicroUnit)
}

// DrawIDPrefix returns the readable part of a draw id:
// "<plan slug>-<as_of as YYYYMMDDTHHMMSSZ>", where the slug is plan_id with
// every character outside [A-Za-z0-9._-] (and a leading '.') replaced by '_'.
func DrawIDPrefix(planID string, asOf time.Time) string {
	b := []byte(planID)
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') || (i == 0 && c == '.') {
			b[i] = '_'
		}
	}
	return string(b) + "-" + asOf.UTC().Format("20060102T150405Z")
}

// ComputeID returns the draw id the record's content determines:
// DrawIDPrefix(plan_id, as_of) + "-" + the first 12 hex digits of the
// SHA-256 of the record's canonical encoding with draw_id set to "". The id
// is therefore plan-scoped, readable, safe in file names and URLs, and any
// change to the record's content changes it.
func (r *DrawRecord) ComputeID() string {
	c := *r
	c.DrawID = ""
	h := sha256.New()
	c.WriteJSON(h) // a hash.Hash never fails to write
	return DrawIDPrefix(r.Request.PlanID, r.Request.AsOf) + "-" + hex.EncodeToString(h.Sum(nil)[:6])
}

// ParseDrawRecord parses a draw record and validates its structure: every
// member is present and well formed, the strata are exactly the scheme's
// tiers, the allocation fits the scheme. It does not check that the draw is
// right: that is the verifier's job, with the population lines.
func ParseDrawRecord(data []byte) (*DrawRecord, error) {
	d := drawDec{data: data}
	r := new(DrawRecord)
	if err := d.document(func() error { return d.record(r) }); err != nil {
		return nil, err
	}
	if err := r.Request.Validate(); err != nil {
		var de *DrawError
		if errors.As(err, &de) {
			de.Path = "request." + de.Path
		}
		return nil, err
	}
	if _, err := r.Request.Allocation.Resolve(r.Scheme); err != nil {
		var de *DrawError
		if errors.As(err, &de) {
			de.Path = "request." + de.Path
		}
		return nil, err
	}
	return r, nil
}

// MarshalJSON implements json.Marshaler with the canonical encoding.
func (r *DrawRecord) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// UnmarshalJSON implements json.Unmarshaler with ParseDrawRecord.
func (r *DrawRecord) UnmarshalJSON(data []byte) error {
	p, err := ParseDrawRecord(data)
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

// ---------------------------------------------------------------------------
// Canonical encoding

// AppendJSON appends the request's canonical JSON encoding: members in a
// fixed order, defaults explicit (per_entity, population), optional members
// omitted when absent, ratios in shortest exact decimal form.
func (r *DrawRequest) AppendJSON(b []byte) []byte {
	b = append(b, `{"plan_id":`...)
	b = drawAppendString(b, r.PlanID)
	b = append(b, `,"as_of":`...)
	b = drawAppendString(b, r.AsOf.UTC().Format(time.RFC3339Nano))
	b = append(b, `,"population":{"region_prefix":`...)
	b = drawAppendString(b, r.Population.RegionPrefix)
	b = append(b, `,"entity_types":`...)
	b = drawAppendStrings(b, r.Population.EntityTypes)
	b = append(b, `,"registration_authorities":`...)
	b = drawAppendStrings(b, r.Population.RegistrationAuthorities)
	b = append(b, `},"exclude_selected_within_days":`...)
	b = strconv.AppendInt(b, int64(r.ExcludeSelectedWithinDays), 10)
	b = append(b, `,"max_inspections_per_year":`...)
	b = strconv.AppendInt(b, int64(r.MaxInspectionsPerYear), 10)
	b = append(b, `,"allocation":{`...)
	if a := &r.Allocation; a.IsBudget() {
		b = append(b, `"budget":`...)
		b = strconv.AppendInt(b, a.Budget, 10)
		b = append(b, `,"weights":{`...)
		for i, tv := range a.Weights {
			if i > 0 {
				b = append(b, ',')
			}
			b = drawAppendString(b, tv.Label)
			b = append(b, ':')
			b = strconv.AppendInt(b, tv.Value, 10)
		}
	} else {
		b = append(b, `"ratios":{`...)
		for i, tv := range a.Ratios {
			if i > 0 {
				b = append(b, ',')
			}
			b = drawAppendString(b, tv.Label)
			b = append(b, ':')
			b = append(b, Micro(tv.Value).String()...)
		}
	}
	b = append(b, `}},"inspectors":{"pool":[`...)
	for i := range r.Inspectors.Pool {
		in := &r.Inspectors.Pool[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = drawAppendString(b, in.ID)
		if len(in.Departments) > 0 {
			b = append(b, `,"departments":`...)
			b = drawAppendStrings(b, in.Departments)
		}
		if len(in.Regions) > 0 {
			b = append(b, `,"regions":`...)
			b = drawAppendStrings(b, in.Regions)
		}
		b = append(b, '}')
	}
	b = append(b, `],"per_entity":`...)
	b = strconv.AppendInt(b, int64(r.Inspectors.PerEntity), 10)
	if r.Inspectors.MaxLoad > 0 {
		b = append(b, `,"max_load":`...)
		b = strconv.AppendInt(b, r.Inspectors.MaxLoad, 10)
	}
	b = append(b, '}')
	if r.Department != "" {
		b = append(b, `,"department":`...)
		b = drawAppendString(b, r.Department)
	}
	if len(r.Conflicts) > 0 {
		b = append(b, `,"conflicts":[`...)
		for i, c := range r.Conflicts {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"inspector":`...)
			b = drawAppendString(b, c.Inspector)
			b = append(b, `,"uscc":"`...)
			b = append(b, c.USCC[:]...)
			b = append(b, `"}`...)
		}
		b = append(b, ']')
	}
	b = append(b, `,"seed":"`...)
	b = append(b, r.Seed...)
	b = append(b, '"')
	if r.SeedCommitment != "" {
		b = append(b, `,"seed_commitment":"`...)
		b = append(b, r.SeedCommitment...)
		b = append(b, '"')
	}
	return append(b, '}')
}

// AppendJSON appends the record's canonical JSON encoding: a readable layout
// with one selected entity per line, members in a fixed order.
func (r *DrawRecord) AppendJSON(b []byte) []byte {
	if need := len(b) + r.encodedSizeHint(); cap(b) < need {
		b = append(make([]byte, 0, need), b...)
	}
	b = r.appendHead(b)
	for i := range r.Selected {
		b = r.appendSelected(b, i)
	}
	return r.appendTail(b)
}

// WriteJSON writes the record's canonical encoding (the bytes AppendJSON
// gives) to w in chunks, without holding the whole encoding in memory.
func (r *DrawRecord) WriteJSON(w io.Writer) error {
	const chunk = 64 << 10
	b := r.appendHead(make([]byte, 0, 2*chunk))
	for i := range r.Selected {
		if len(b) >= chunk {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
		b = r.appendSelected(b, i)
	}
	_, err := w.Write(r.appendTail(b))
	return err
}

// encodedSizeHint estimates the encoding's length.
func (r *DrawRecord) encodedSizeHint() int {
	n := 1024 + 300*len(r.Selected) + 100*len(r.Request.Inspectors.Pool) + 60*len(r.Request.Conflicts)
	for _, w := range r.Warnings {
		n += len(w) + 4
	}
	return n
}

func (r *DrawRecord) appendSelected(b []byte, i int) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	b = append(b, '\n')
	return r.Selected[i].appendJSON(b, r.Scheme)
}

func (r *DrawRecord) appendTail(b []byte) []byte {
	if len(r.Selected) > 0 {
		b = append(b, '\n')
	}
	return append(b, "]\n}\n"...)
}

func (r *DrawRecord) appendHead(b []byte) []byte {
	b = append(b, "{\n\"format\": \""+DrawFormat+"\",\n\"draw_id\": "...)
	b = drawAppendString(b, r.DrawID)
	b = append(b, ",\n\"tier_scheme\": "...)
	b = drawAppendString(b, r.Scheme.ID)
	b = append(b, ",\n\"population_digest\": \""...)
	b = hex.AppendEncode(b, r.PopulationDigest[:])
	b = append(b, "\",\n\"strata\": {"...)
	for i, s := range r.Strata {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = drawAppendString(b, s.Label)
		b = append(b, `: {"N": `...)
		b = strconv.AppendInt(b, s.N, 10)
		b = append(b, `, "n": `...)
		b = strconv.AppendInt(b, s.Sample, 10)
		b = append(b, `, "pi": `...)
		b = drawAppendString(b, s.Pi)
		b = append(b, '}')
	}
	b = append(b, "},\n"...)
	if len(r.Warnings) > 0 {
		b = append(b, "\"warnings\": "...)
		b = drawAppendStrings(b, r.Warnings)
		b = append(b, ",\n"...)
	}
	b = append(b, "\"request\": "...)
	b = r.Request.AppendJSON(b)
	return append(b, ",\n\"selected\": ["...)
}

func (s *DrawSelection) appendJSON(b []byte, scheme *TierScheme) []byte {
	b = append(b, `{"uscc": "`...)
	b = append(b, s.USCC[:]...)
	b = append(b, `", "region": "`...)
	b = append(b, s.Region[:]...)
	b = append(b, `", "tier": `...)
	b = drawAppendString(b, scheme.Label(s.Tier))
	b = append(b, `, "priority": "`...)
	b = hex.AppendEncode(b, s.Priority[:])
	b = append(b, `", "inspectors": `...)
	b = drawAppendStrings(b, s.Inspectors)
	if s.Unassigned > 0 {
		b = append(b, `, "unassigned": `...)
		b = strconv.AppendInt(b, int64(s.Unassigned), 10)
		b = append(b, `, "reason": `...)
		b = drawAppendString(b, s.Reason)
	}
	return append(b, '}')
}

func drawAppendStrings(b []byte, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = drawAppendString(b, s)
	}
	return append(b, ']')
}

// drawAppendString appends s as a JSON string: UTF-8 is written as is, only
// '"', '\\' and control characters are escaped (\n, \t etc. in short form,
// others as \u00XX).
func drawAppendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'u', '0', '0', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// ---------------------------------------------------------------------------
// Strict JSON reading

// drawDec is a strict, minimal JSON reader over a byte slice, driven by the
// document's schema: each object member is dispatched by its exact name.
type drawDec struct {
	data []byte
	pos  int
}

func (d *drawDec) syntax(format string, args ...any) error {
	return &DrawError{Msg: fmt.Sprintf("invalid JSON at byte %d: ", d.pos) + fmt.Sprintf(format, args...)}
}

func (d *drawDec) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *drawDec) peek() byte {
	d.ws()
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// document reads one top-level value with fn and refuses trailing data.
func (d *drawDec) document(fn func() error) error {
	if len(d.data) >= 3 && d.data[0] == 0xef && d.data[1] == 0xbb && d.data[2] == 0xbf {
		d.pos = 3 // UTF-8 byte-order mark
	}
	if err := fn(); err != nil {
		return err
	}
	if d.peek() != 0 || d.pos != len(d.data) {
		return d.syntax("data after the document")
	}
	return nil
}

func (d *drawDec) null() bool {
	if d.peek() == 'n' && len(d.data)-d.pos >= 4 && string(d.data[d.pos:d.pos+4]) == "null" {
		d.pos += 4
		return true
	}
	return false
}

// object reads an object, calling member for each member name; member must
// read the value. Repeated names are refused.
func (d *drawDec) object(path string, member func(name string) error) error {
	if d.peek() != '{' {
		return drawErr(path, "want an object")
	}
	d.pos++
	var names []string
	if d.peek() == '}' {
		d.pos++
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.syntax("want a member name")
		}
		name, err := d.str()
		if err != nil {
			return err
		}
		for _, n := range names {
			if n == name {
				return drawErr(drawJoin(path, name), "member appears twice")
			}
		}
		names = append(names, name)
		if d.peek() != ':' {
			return d.syntax("want ':'")
		}
		d.pos++
		d.ws()
		if err := member(name); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return d.syntax("want ',' or '}'")
		}
	}
}

func drawJoin(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func drawUnknown(path, name string) error {
	return drawErr(drawJoin(path, name), "unknown member")
}

// array reads an array, calling elem for each element.
func (d *drawDec) array(path string, elem func(i int) error) error {
	if d.peek() != '[' {
		return drawErr(path, "want an array")
	}
	d.pos++
	if d.peek() == ']' {
		d.pos++
		return nil
	}
	for i := 0; ; i++ {
		d.ws()
		if err := elem(i); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return nil
		default:
			return d.syntax("want ',' or ']'")
		}
	}
}

// str reads a JSON string. Invalid UTF-8 and unescaped control characters
// are refused.
func (d *drawDec) str() (string, error) {
	if d.peek() != '"' {
		return "", d.syntax("want a string")
	}
	// The lexing (escapes, surrogate pairs, UTF-8, control characters) is
	// the module's shared scanner (models/jsontext).
	var sc jsontext.Scanner
	sc.Reset(d.data)
	sc.Seek(d.pos)
	v, err := sc.StringBytes()
	if err != nil {
		return "", &DrawError{Msg: err.Error()}
	}
	d.pos = sc.Offset()
	return string(v), nil
}

// numText reads a JSON number and returns its text.
func (d *drawDec) numText(path string) (string, error) {
	d.ws()
	start := d.pos
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			d.pos++
			continue
		}
		break
	}
	if start == d.pos {
		return "", drawErr(path, "want a number")
	}
	return string(d.data[start:d.pos]), nil
}

// integer reads a non-negative integer ≤ max (exact; 1e3 and 1.0 are integers).
func (d *drawDec) integer(path string, max int64) (int64, error) {
	t, err := d.numText(path)
	if err != nil {
		return 0, err
	}
	v, err := drawDecimal(t, 0, max)
	if err != nil {
		return 0, drawErr(path, "%v", err)
	}
	return v, nil
}

func (d *drawDec) stringAt(path string) (string, error) {
	if d.peek() != '"' {
		return "", drawErr(path, "want a string")
	}
	return d.str()
}

func (d *drawDec) stringList(path string) ([]string, error) {
	list := []string{}
	err := d.array(path, func(i int) error {
		s, err := d.stringAt(fmt.Sprintf("%s[%d]", path, i))
		list = append(list, s)
		return err
	})
	return list, err
}

func (d *drawDec) request(path string, r *DrawRequest) error {
	var have struct{ plan, asOf, alloc, insp, seed bool }
	err := d.object(path, func(name string) error {
		p := drawJoin(path, name)
		var err error
		switch name {
		case "plan_id":
			r.PlanID, err = d.stringAt(p)
			have.plan = true
		case "as_of":
			var s string
			if s, err = d.stringAt(p); err != nil {
				return err
			}
			have.asOf = true
			t, perr := ParseInstant(s)
			if perr != nil {
				return drawErr(p, "%v", perr)
			}
			if !strings.HasSuffix(s, "Z") && !strings.HasSuffix(s, "z") {
				return drawErr(p, "%q is not an RFC 3339 UTC instant (it must end in Z)", s)
			}
			r.AsOf = t
		case "population":
			if d.null() {
				return nil
			}
			err = d.population(p, &r.Population)
		case "exclude_selected_within_days":
			var v int64
			if !d.null() {
				v, err = d.integer(p, MaxExcludeDays)
			}
			r.ExcludeSelectedWithinDays = int(v)
		case "max_inspections_per_year":
			var v int64
			if !d.null() {
				v, err = d.integer(p, MaxPerYear)
			}
			r.MaxInspectionsPerYear = int(v)
		case "allocation":
			err = d.allocation(p, &r.Allocation)
			have.alloc = true
		case "inspectors":
			err = d.inspectors(p, &r.Inspectors)
			have.insp = true
		case "department":
			if !d.null() {
				r.Department, err = d.stringAt(p)
				if err == nil && r.Department == "" {
					err = drawErr(p, "is empty (omit it when the plan names no department)")
				}
			}
		case "conflicts":
			if !d.null() {
				err = d.array(p, func(i int) error {
					var c DrawConflict
					err := d.conflict(fmt.Sprintf("%s[%d]", p, i), &c)
					r.Conflicts = append(r.Conflicts, c)
					return err
				})
			}
		case "seed":
			r.Seed, err = d.hexString(p)
			have.seed = true
		case "seed_commitment":
			if !d.null() {
				r.SeedCommitment, err = d.hexString(p)
				if err == nil && r.SeedCommitment == "" {
					err = drawErr(p, "is empty (omit it when there is no commitment)")
				}
			}
		default:
			return drawUnknown(path, name)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, m := range []struct {
		ok   bool
		name string
	}{{have.plan, "plan_id"}, {have.asOf, "as_of"}, {have.alloc, "allocation"}, {have.insp, "inspectors"}, {have.seed, "seed"}} {
		if !m.ok {
			return drawErr(drawJoin(path, m.name), "missing")
		}
	}
	return nil
}

// hexString reads a hex string and lowercases it.
func (d *drawDec) hexString(path string) (string, error) {
	s, err := d.stringAt(path)
	if err != nil {
		return "", err
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", drawErr(path, "character %d (%q) is not a hex digit", i+1, c)
		}
	}
	return strings.ToLower(s), nil
}

func (d *drawDec) population(path string, p *DrawPopulation) error {
	return d.object(path, func(name string) error {
		var err error
		switch name {
		case "region_prefix":
			p.RegionPrefix, err = d.stringAt(drawJoin(path, name))
		case "entity_types":
			p.EntityTypes, err = d.stringList(drawJoin(path, name))
		case "registration_authorities":
			p.RegistrationAuthorities, err = d.stringList(drawJoin(path, name))
		default:
			return drawUnknown(path, name)
		}
		return err
	})
}

func (d *drawDec) tierValues(path string, ratio bool) ([]TierValue, error) {
	list := []TierValue{}
	err := d.object(path, func(label string) error {
		p := drawJoin(path, label)
		t, err := d.numText(p)
		if err != nil {
			return err
		}
		var v int64
		if ratio {
			v, err = drawDecimal(t, 6, MicroUnit)
		} else {
			v, err = drawDecimal(t, 0, MaxDrawWeight)
		}
		if err != nil {
			kind := "weight"
			if ratio {
				kind = "ratio"
			}
			return drawErr(p, "%s %v", kind, err)
		}
		list = append(list, TierValue{Label: label, Value: v})
		return nil
	})
	return list, err
}

func (d *drawDec) allocation(path string, a *DrawAllocation) error {
	haveBudget := false
	err := d.object(path, func(name string) error {
		p := drawJoin(path, name)
		var err error
		switch name {
		case "ratios":
			a.Ratios, err = d.tierValues(p, true)
		case "weights":
			a.Weights, err = d.tierValues(p, false)
		case "budget":
			a.Budget, err = d.integer(p, MaxDrawCount)
			haveBudget = true
		default:
			return drawUnknown(path, name)
		}
		return err
	})
	if err != nil {
		return err
	}
	if a.Weights != nil && !haveBudget {
		return drawErr(drawJoin(path, "budget"), `missing (it goes with "weights")`)
	}
	if haveBudget && a.Weights == nil {
		return drawErr(drawJoin(path, "weights"), `missing (it goes with "budget")`)
	}
	return nil
}

func (d *drawDec) inspectors(path string, in *DrawInspectors) error {
	havePool := false
	in.PerEntity = DefaultPerEntity
	err := d.object(path, func(name string) error {
		p := drawJoin(path, name)
		var err error
		switch name {
		case "pool":
			havePool = true
			err = d.array(p, func(i int) error {
				in.Pool = append(in.Pool, Inspector{})
				return d.inspector(fmt.Sprintf("%s[%d]", p, i), &in.Pool[len(in.Pool)-1])
			})
		case "per_entity":
			var v int64
			if d.null() {
				return nil
			}
			v, err = d.integer(p, MaxPerEntity)
			in.PerEntity = int(v)
		case "max_load":
			if d.null() {
				return nil
			}
			in.MaxLoad, err = d.integer(p, MaxDrawCount)
			if err == nil && in.MaxLoad == 0 {
				err = drawErr(p, "must be at least 1 (omit it for the default cap ceil(k·Σn/|pool|))")
			}
		default:
			return drawUnknown(path, name)
		}
		return err
	})
	if err == nil && !havePool {
		err = drawErr(drawJoin(path, "pool"), "missing")
	}
	return err
}

func (d *drawDec) inspector(path string, in *Inspector) error {
	haveID := false
	err := d.object(path, func(name string) error {
		p := drawJoin(path, name)
		var err error
		switch name {
		case "id":
			in.ID, err = d.stringAt(p)
			haveID = true
		case "departments":
			if !d.null() {
				in.Departments, err = d.stringList(p)
			}
		case "regions":
			if !d.null() {
				in.Regions, err = d.stringList(p)
			}
		default:
			return drawUnknown(path, name)
		}
		return err
	})
	if err == nil && !haveID {
		err = drawErr(drawJoin(path, "id"), "missing")
	}
	if len(in.Departments) == 0 {
		in.Departments = nil
	}
	if len(in.Regions) == 0 {
		in.Regions = nil
	}
	return err
}

func (d *drawDec) uscc(path string) (USCC, error) {
	s, err := d.stringAt(path)
	if err != nil {
		return USCC{}, err
	}
	c, err := ParseUSCCFormat(s)
	if err != nil {
		return c, drawErr(path, "%v", err)
	}
	if c.String() != s {
		return c, drawErr(path, "%q must be uppercase", s)
	}
	return c, nil
}

func (d *drawDec) conflict(path string, c *DrawConflict) error {
	var haveI, haveU bool
	err := d.object(path, func(name string) error {
		p := drawJoin(path, name)
		var err error
		switch name {
		case "inspector":
			c.Inspector, err = d.stringAt(p)
			haveI = true
		case "uscc":
			c.USCC, err = d.uscc(p)
			haveU = true
		default:
			return drawUnknown(path, name)
		}
		return err
	})
	if err == nil && !haveI {
		err = drawErr(drawJoin(path, "inspector"), "missing")
	}
	if err == nil && !haveU {
		err = drawErr(drawJoin(path, "uscc"), "missing")
	}
	return err
}

func (d *drawDec) record(r *DrawRecord) error {
	var have struct{ format, id, req, scheme, digest, strata, selected bool }
	type rawStratum struct {
		label      string
		N, n       int64
		haveN, hvn bool
		pi         string
	}
	var strata []rawStratum
	// selected entries are decoded after the scheme is known; remember where
	// the array starts (members may come in any order).
	selPos := -1
	err := d.object("", func(name string) error {
		var err error
		switch name {
		case "format":
			var f string
			if f, err = d.stringAt(name); err == nil && f != DrawFormat {
				err = drawErr(name, "is %q, want %q", f, DrawFormat)
			}
			have.format = true
		case "draw_id":
			r.DrawID, err = d.stringAt(name)
			have.id = true
			if err == nil {
				err = drawCheckDrawID(r.DrawID)
			}
		case "request":
			err = d.request("request", &r.Request)
			have.req = true
		case "tier_scheme":
			var id string
			if id, err = d.stringAt(name); err == nil {
				if r.Scheme, err = LookupTierScheme(id); err != nil {
					err = drawErr(name, "%v", err)
				}
			}
			have.scheme = true
		case "population_digest":
			var s string
			if s, err = d.stringAt(name); err == nil {
				if len(s) != 64 || !drawLowerHex(s) {
					return drawErr(name, "must be 64 lowercase hex digits")
				}
				hex.Decode(r.PopulationDigest[:], []byte(s))
			}
			have.digest = true
		case "strata":
			have.strata = true
			err = d.object(name, func(label string) error {
				p := "strata." + label
				st := rawStratum{label: label}
				err := d.object(p, func(m string) error {
					var err error
					switch m {
					case "N":
						st.N, err = d.integer(p+".N", MaxDrawCount)
						st.haveN = true
					case "n":
						st.n, err = d.integer(p+".n", MaxDrawCount)
						st.hvn = true
					case "pi":
						st.pi, err = d.stringAt(p + ".pi")
					default:
						return drawUnknown(p, m)
					}
					return err
				})
				if err != nil {
					return err
				}
				if !st.haveN || !st.hvn || st.pi == "" {
					return drawErr(p, `needs "N", "n" and "pi"`)
				}
				if st.n > st.N {
					return drawErr(p+".n", "%d is more than N %d", st.n, st.N)
				}
				if !drawPiForm(st.pi) {
					return drawErr(p+".pi", "%q is not a decimal between 0 and 1 with 6 places", st.pi)
				}
				strata = append(strata, st)
				return nil
			})
		case "selected":
			have.selected = true
			selPos = d.pos
			err = d.skipArray(name)
		case "warnings":
			if !d.null() {
				r.Warnings, err = d.stringList(name)
			}
		default:
			return drawUnknown("", name)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, m := range []struct {
		ok   bool
		name string
	}{{have.format, "format"}, {have.id, "draw_id"}, {have.req, "request"}, {have.scheme, "tier_scheme"},
		{have.digest, "population_digest"}, {have.strata, "strata"}, {have.selected, "selected"}} {
		if !m.ok {
			return drawErr(m.name, "missing")
		}
	}
	// strata: exactly the scheme's tiers, stored in scheme order
	r.Strata = make([]DrawStratum, r.Scheme.Len())
	got := make([]bool, r.Scheme.Len())
	for _, st := range strata {
		t, err := r.Scheme.Parse(st.label)
		if err != nil {
			return drawErr("strata."+st.label, "tier is not in scheme %s", r.Scheme.ID)
		}
		got[t] = true
		r.Strata[t] = DrawStratum{Label: st.label, N: st.N, Sample: st.n, Pi: st.pi}
	}
	for t, ok := range got {
		if !ok {
			return drawErr("strata", "no stratum for tier %s of scheme %s", r.Scheme.Labels[t], r.Scheme.ID)
		}
	}
	if len(r.Warnings) == 0 {
		r.Warnings = nil
	}
	// selected, now that the scheme is known
	end := d.pos
	d.pos = selPos
	err = d.array("selected", func(i int) error {
		r.Selected = append(r.Selected, DrawSelection{})
		return d.selection(fmt.Sprintf("selected[%d]", i), &r.Selected[len(r.Selected)-1], r.Scheme)
	})
	d.pos = end
	return err
}

// skipArray skips over an array value (checking only its bracket
// structure and strings; the elements are parsed strictly afterwards).
func (d *drawDec) skipArray(path string) error {
	if d.peek() != '[' {
		return drawErr(path, "want an array")
	}
	depth := 0
	for d.pos < len(d.data) {
		switch c := d.data[d.pos]; c {
		case '[', '{':
			depth++
			d.pos++
		case ']', '}':
			depth--
			d.pos++
			if depth == 0 {
				return nil
			}
		case '"':
			if _, err := d.str(); err != nil {
				return err
			}
		default:
			d.pos++
		}
	}
	return d.syntax("unterminated array")
}

func drawPiForm(s string) bool {
	if len(s) != 8 || s[1] != '.' || (s[0] != '0' && s[0] != '1') || !drawDigits(s[2:]) {
		return false
	}
	return s[0] == '0' || s == "1.000000"
}

func drawCheckDrawID(id string) error {
	if len(id) == 0 || len(id) > 128 {
		return drawErr("draw_id", "must be 1–128 characters")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return drawErr("draw_id", "%q: character %d is not one of A-Z a-z 0-9 - _ .", id, i+1)
		}
	}
	if id[0] == '.' {
		return drawErr("draw_id", "must not start with '.'")
	}
	return nil
}

func (d *drawDec) selection(path string, s *DrawSelection, scheme *TierScheme) error {
	var have struct{ uscc, region, tier, prio, insp, un, reason bool }
	err := d.object(path, func(name string) error {
		p := drawJoin(path, name)
		var err error
		switch name {
		case "uscc":
			s.USCC, err = d.uscc(p)
			have.uscc = true
		case "region":
			var g string
			if g, err = d.stringAt(p); err == nil {
				if len(g) != 6 || !drawDigits(g) {
					return drawErr(p, "%q is not a 6-digit division code", g)
				}
				copy(s.Region[:], g)
			}
			have.region = true
		case "tier":
			var l string
			if l, err = d.stringAt(p); err == nil {
				if s.Tier, err = scheme.Parse(l); err != nil {
					err = drawErr(p, "%v", err)
				}
			}
			have.tier = true
		case "priority":
			var h string
			if h, err = d.stringAt(p); err == nil {
				if len(h) != 64 || !drawLowerHex(h) {
					return drawErr(p, "must be 64 lowercase hex digits")
				}
				hex.Decode(s.Priority[:], []byte(h))
			}
			have.prio = true
		case "inspectors":
			s.Inspectors, err = d.stringList(p)
			for i, id := range s.Inspectors {
				if err == nil {
					err = drawCheckID(fmt.Sprintf("%s[%d]", p, i), id)
				}
			}
			have.insp = true
		case "unassigned":
			var v int64
			v, err = d.integer(p, MaxPerEntity)
			s.Unassigned = int(v)
			have.un = true
			if err == nil && v == 0 {
				err = drawErr(p, "is 0 (omit it when every inspector was found)")
			}
		case "reason":
			s.Reason, err = d.stringAt(p)
			have.reason = true
		default:
			return drawUnknown(path, name)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, m := range []struct {
		ok   bool
		name string
	}{{have.uscc, "uscc"}, {have.region, "region"}, {have.tier, "tier"}, {have.prio, "priority"}, {have.insp, "inspectors"}} {
		if !m.ok {
			return drawErr(drawJoin(path, m.name), "missing")
		}
	}
	if have.un != have.reason || (have.reason && s.Reason == "") {
		return drawErr(path, `"unassigned" and a non-empty "reason" go together`)
	}
	return nil
}

// compile-time checks that the documents satisfy encoding/json's interfaces.
var (
	_ json.Marshaler   = (*DrawRequest)(nil)
	_ json.Unmarshaler = (*DrawRequest)(nil)
	_ json.Marshaler   = (*DrawRecord)(nil)
	_ json.Unmarshaler = (*DrawRecord)(nil)
)
