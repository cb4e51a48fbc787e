package draw

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
// the draw id can bind the record's content (see Record.ComputeID).

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// Format is the value of the record's "format" member.
const Format = "draw/v1"

// Limits on draw documents. They bound memory and arithmetic; real plans are
// far below them.
const (
	MaxPlanIDLen      = 64        // plan_id: 1–64 printable ASCII characters (spec)
	MaxInspectorIDLen = 64        // inspector ids: 1–64 printable ASCII, no spaces
	MaxDepartmentLen  = 64        // department names: 1–64 bytes of UTF-8
	MaxPoolSize       = 100_000   // inspectors in one pool
	MaxPerEntity      = 100       // inspectors per entity
	MaxSeedHexLen     = 1024      // seed: 32–1024 hex digits
	MaxWeight         = 1_000_000 // allocation weights
	MaxCount          = 1 << 40   // budgets, stratum sizes, loads
	MaxExcludeDays    = 36_500    // exclude_selected_within_days
	MaxPerYear        = 1_000     // max_inspections_per_year
	MicroUnit         = 1_000_000 // one, in micro-units
	MaxTiers          = 16        // tiers in a scheme
	MaxUSCCList       = 1_000_000 // population.include / exclude
	MaxIndustries     = 1_000     // population.industries
)

// Error is a problem with a draw document: Path names the member in
// JSON-path-like form ("allocation.ratios.B", "selected[3].priority"); it is
// empty for syntax errors, whose message gives the byte offset.
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

func drawErr(path, format string, args ...any) error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// ---------------------------------------------------------------------------
// Request

// Population is the request's population filter.
type Population struct {
	// RegionPrefix is a prefix (0–6 digits) of the entity's 6-digit division
	// code; "" matches all.
	RegionPrefix string
	// EntityTypes are USCC entity-type codes (position 2), one character
	// each; empty matches all.
	EntityTypes []string
	// RegistrationAuthorities are USCC registration-authority codes
	// (position 1), one character each; empty matches all.
	RegistrationAuthorities []string
	// Industries (draw/v2) are industry code prefixes (GB/T 4754, the
	// registered event's industry attribute); empty matches all.
	Industries []string
	// Include (draw/v2, a targeted 定向 check), when not empty, lists the
	// only entities that can be eligible; Exclude lists entities that never
	// are. Both are sorted and without duplicates after Validate.
	Include, Exclude []uscc.Code
}

// Match reports whether an entity with code c and division code region
// passes the filter.
func (p *Population) Match(c uscc.Code, region [6]byte) bool {
	if len(p.RegionPrefix) > 0 && string(region[:len(p.RegionPrefix)]) != p.RegionPrefix {
		return false
	}
	return drawCharIn(p.EntityTypes, c[1]) && drawCharIn(p.RegistrationAuthorities, c[0])
}

// MatchV2 adds the draw/v2 filters to Match: industry prefixes and the
// include and exclude lists.
func (p *Population) MatchV2(c uscc.Code, region [6]byte, industry string) bool {
	if !p.Match(c, region) {
		return false
	}
	if len(p.Industries) > 0 {
		ok := false
		for _, pre := range p.Industries {
			if strings.HasPrefix(industry, pre) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(p.Include) > 0 {
		if _, ok := slices.BinarySearchFunc(p.Include, c, compareUSCC); !ok {
			return false
		}
	}
	if len(p.Exclude) > 0 {
		if _, ok := slices.BinarySearchFunc(p.Exclude, c, compareUSCC); ok {
			return false
		}
	}
	return true
}

func compareUSCC(a, b uscc.Code) int { return bytes.Compare(a[:], b[:]) }

// HasV2Filters reports whether the filter uses a draw/v2 member.
func (p *Population) HasV2Filters() bool {
	return len(p.Industries) > 0 || len(p.Include) > 0 || len(p.Exclude) > 0
}

// drawIndustries checks industry code prefixes: 1–8 letters and digits.
func drawIndustries(list []string) error {
	if len(list) > MaxIndustries {
		return drawErr("population.industries", "has %d codes, at most %d", len(list), MaxIndustries)
	}
	for i, s := range list {
		ok := len(s) >= 1 && len(s) <= 8
		for j := 0; ok && j < len(s); j++ {
			c := s[j]
			ok = c >= '0' && c <= '9' || c >= 'A' && c <= 'Z'
		}
		if !ok {
			return drawErr(fmt.Sprintf("population.industries[%d]", i), "%q is not an industry code (1–8 capital letters and digits, GB/T 4754)", s)
		}
	}
	return nil
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

// Allocation is either ratios (Ratios non-nil) or a budget with weights
// (Weights non-nil). Entries are kept in the order given until Canonicalize
// puts them in scheme order.
type Allocation struct {
	// Ratios are per-tier inclusion ratios in micro-units (0 … 1,000,000).
	Ratios []TierValue
	// Budget is the total sample size n (with Weights).
	Budget int64
	// Weights are per-tier relative inspection rates (integers ≥ 0).
	Weights []TierValue
}

// IsBudget reports whether the allocation is a budget with weights.
func (a *Allocation) IsBudget() bool { return a.Weights != nil }

// Resolve returns the allocation's values in the scheme's tier order
// (micro-unit ratios or weights). It refuses labels that are not the
// scheme's, missing tiers, and values that fall as risk rises (spec: the
// inspection probability must not fall as risk rises).
func (a *Allocation) Resolve(s *tier.Scheme) ([]int64, error) {
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
func (a *Allocation) Canonicalize(s *tier.Scheme) {
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

// Inspectors is the request's inspector section.
type Inspectors struct {
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

// Conflict is a (inspector, entity) pair that must never be matched (回避).
type Conflict struct {
	Inspector string
	USCC      uscc.Code
}

// Request is a `draw/v1` request. Parse it with ParseRequest; a
// request built in code must pass Validate.
type Request struct {
	PlanID string
	// AsOf is the instant (UTC) the population and tiers are taken at.
	AsOf                      time.Time
	Population                Population
	ExcludeSelectedWithinDays int
	MaxInspectionsPerYear     int
	Allocation                Allocation
	Inspectors                Inspectors
	Department                string
	Conflicts                 []Conflict
	// Seed is the seed as lowercase hex (at least 32 digits, even length).
	Seed string
	// SeedCommitment is the lowercase hex SHA-256 of the seed bytes, or "".
	SeedCommitment string
	// ExemptLowestTier (draw/v2) lets the lowest tier have ratio or weight
	// 0 when the tier scheme permits exemption (SchemeExempts).
	ExemptLowestTier bool
}

// SeedBytes decodes the seed.
func (r *Request) SeedBytes() []byte {
	b, _ := hex.DecodeString(r.Seed)
	return b
}

// SeedDigest returns the lowercase hex SHA-256 of the seed bytes: the value
// a seed commitment must have.
func SeedDigest(seed []byte) string {
	h := sha256.Sum256(seed)
	return hex.EncodeToString(h[:])
}

// ParseRequest parses and validates a draw request.
func ParseRequest(data []byte) (*Request, error) {
	r, err := DecodeRequest(data)
	if err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeRequest is ParseRequest without Validate: the JSON syntax, the
// members and their types only. For a caller that hands the request on to
// the one validation it will get anyway (the sampler's Prepare), so that a
// request is validated once on its way.
func DecodeRequest(data []byte) (*Request, error) {
	d := newDrawDec(data)
	r := new(Request)
	if err := d.document(func() error { return d.request("", r) }); err != nil {
		return nil, err
	}
	return r, nil
}

// UnmarshalJSON implements json.Unmarshaler with ParseRequest.
func (r *Request) UnmarshalJSON(data []byte) error {
	p, err := ParseRequest(data)
	if err != nil {
		return err
	}
	*r = *p
	return nil
}

// MarshalJSON implements json.Marshaler with the canonical encoding.
func (r *Request) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// Validate checks a request's fields (everything that does not need the
// tier scheme; Allocation.Resolve checks the allocation against it).
func (r *Request) Validate() error {
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
	if err := drawIndustries(p.Industries); err != nil {
		return err
	}
	for _, l := range []struct {
		name string
		list *[]uscc.Code
	}{{"population.include", &p.Include}, {"population.exclude", &p.Exclude}} {
		if len(*l.list) > MaxUSCCList {
			return drawErr(l.name, "has %d codes, at most %d", len(*l.list), MaxUSCCList)
		}
		slices.SortFunc(*l.list, compareUSCC)
		*l.list = slices.Compact(*l.list)
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
	if err := drawCheckTV("allocation.weights", a.Weights, MaxWeight); err != nil {
		return err
	}
	if a.Ratios != nil && a.Budget != 0 {
		return drawErr("allocation.budget", `only goes with "weights"`)
	}
	if a.Budget < 0 || a.Budget > MaxCount {
		return drawErr("allocation.budget", "must be 0–%d, is %d", int64(MaxCount), a.Budget)
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
	if in.MaxLoad < 0 || in.MaxLoad > MaxCount {
		return drawErr("inspectors.max_load", "must be 1–%d when given, is %d", int64(MaxCount), in.MaxLoad)
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
		c  uscc.Code
	}
	seenPairs := make(map[pair]int, len(r.Conflicts))
	for i, c := range r.Conflicts {
		path := fmt.Sprintf("conflicts[%d]", i)
		if _, ok := ids[c.Inspector]; !ok {
			return drawErr(path+".inspector", "%q is not in inspectors.pool", c.Inspector)
		}
		if _, err := uscc.ParseFormat(c.USCC.String()); err != nil {
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
		if len(s) != 1 || !uscc.InAlphabet(s[0]) {
			return drawErr(fmt.Sprintf("%s[%d]", path, i), "%q is not a single USCC character (%s)", s, uscc.Alphabet)
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
