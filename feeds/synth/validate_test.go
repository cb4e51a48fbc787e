package synth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creditrisk/creditd/models/uscc"
)

// The stream validator of the tests: every good line decoded and checked
// against events.md (decode), and the whole stream against the generator's
// promises (validate).

// wire is one decoded event, checked against events.md by validate.
type wire struct {
	line  int
	ID    string
	USCC  string
	Type  string
	At    time.Time
	Attrs map[string]json.RawMessage
	ended bool
	raw   []byte
	// Follow-ups seen so far: repaired channels, the breach of a
	// commitment, objections (the open one, and whether one was upheld).
	repaired  map[string]bool
	breachAt  time.Time
	objected  bool
	withdrawn bool
	referred  bool
	attrsS    map[string]string // string attrs
}

func (w *wire) str(name string) (string, bool) {
	v, ok := w.attrsS[name]
	return v, ok
}

// attr shapes per type (events.md "Types").
const (
	aStr = iota
	aDate
	aInt
	aBool
	aEnum
	aList // a non-empty array of distinct enum strings
)

type attrSpec struct {
	name     string
	kind     int
	optional bool
	enum     []string
}

var specs = map[string][]attrSpec{
	"registered": {{"name", aStr, false, nil}, {"region", aStr, false, nil}, {"registered_on", aDate, false, nil},
		{"industry", aStr, true, nil}},
	"deregistered": {},
	"penalty": {{"severity", aEnum, false, []string{"minor", "general", "serious"}}, {"decision_no", aStr, false, nil},
		{"amount_yuan", aInt, true, nil}, {"penalty_types", aList, true, penaltyTypes}, {"restriction_months", aInt, true, nil},
		{"procedure", aEnum, true, []string{"ordinary", "simple"}},
		{"sector", aEnum, true, []string{"food", "drug", "special_equipment", "work_safety", "fire", "other"}}},
	"abnormal_listed": {{"reason", aEnum, false,
		[]string{"annual_report_missing", "not_publicized", "false_information", "unreachable_at_address"}}},
	"abnormal_removed":     {{"ref", aStr, false, nil}},
	"dishonest_listed":     {{"reason", aStr, false, nil}},
	"dishonest_removed":    {{"ref", aStr, false, nil}},
	"court_debtor_listed":  {{"case_no", aStr, false, nil}},
	"court_debtor_removed": {{"ref", aStr, false, nil}},
	"inspection": {{"plan_id", aStr, false, nil},
		{"result", aEnum, false, []string{"no_problem", "corrected", "problem_found", "refused", "unreachable"}}},
	"annual_report":        {{"year", aInt, false, nil}, {"on_time", aBool, false, nil}},
	"commitment_made":      {{"commitment_no", aStr, false, nil}, {"matter", aStr, false, nil}},
	"commitment_breached":  {{"ref", aStr, false, nil}},
	"commitment_fulfilled": {{"ref", aStr, false, nil}},
	"tax_rating":           {{"year", aInt, false, nil}, {"level", aEnum, false, []string{"A", "B", "M", "C", "D"}}},
	"honor": {{"title", aStr, false, nil},
		{"level", aEnum, false, []string{"national", "provincial", "municipal"}}},
	"complaint": {{"substantiated", aBool, false, nil}},
	"repair": {{"ref", aStr, false, nil}, {"decided_on", aDate, false, nil},
		{"channel", aEnum, true, []string{"credit_china", "samr"}}},
	"objection_filed":    {{"ref", aStr, false, nil}, {"reason", aStr, false, nil}},
	"objection_answered": {{"ref", aStr, false, nil}, {"outcome", aEnum, false, []string{"upheld", "rejected", "referred"}}, {"reasons", aStr, false, nil}},
}

// penaltyTypes are events.md's penalty_types values.
var penaltyTypes = []string{"warning", "reprimand", "fine", "confiscation", "licence_suspension", "qualification_downgrade",
	"licence_revocation", "business_restriction", "production_suspension", "closure", "employment_restriction",
	"business_licence_revocation", "other"}

// recordTypes are the types that create a record an objection may name
// (events.md "objection_filed": any record, not a referencing event).
var recordTypes = map[string]bool{"penalty": true, "abnormal_listed": true, "dishonest_listed": true,
	"court_debtor_listed": true, "inspection": true, "annual_report": true, "commitment_made": true,
	"tax_rating": true, "honor": true, "complaint": true}

// refTarget is the type a ref of each referencing type must point at.
var refTarget = map[string]string{
	"abnormal_removed": "abnormal_listed", "dishonest_removed": "dishonest_listed",
	"court_debtor_removed": "court_debtor_listed", "commitment_breached": "commitment_made",
	"commitment_fulfilled": "commitment_made",
}

var (
	idRE       = regexp.MustCompile(`^((SAMR|COURT|TAX|APPR|HONOR|12315)-\d{6}-\d{4}-\d{6,}|OBJ-[0-9A-Z]{18}-[0-9A-HJKMNP-TV-Z]{16}(-[0-9A-HJKMNP-TV-Z]{8})?)$`)
	occurredRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	decisionRE = regexp.MustCompile(`^\p{Han}{2}市监罚〔\d{4}〕\d+号$`)
	caseRE     = regexp.MustCompile(`^（\d{4}）\p{Han}\d{2,4}执\d+号$`)
)

// decode parses and shape-checks one good line.
func decode(t testing.TB, n int, line []byte) *wire {
	t.Helper()
	fail := func(format string, args ...any) *wire {
		t.Helper()
		t.Fatalf("line %d: %s\n%s", n, fmt.Sprintf(format, args...), line)
		return nil
	}
	if bytes.ContainsAny(line, "\n\r") || len(bytes.TrimSpace(line)) != len(line) {
		return fail("line has surrounding whitespace or newlines")
	}
	if !utf8.Valid(line) {
		return fail("not UTF-8")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(line, &top); err != nil {
		return fail("not a JSON object: %v", err)
	}
	for k := range top {
		switch k {
		case "id", "uscc", "type", "occurred_at", "authority", "attrs":
		default:
			return fail("unknown top-level member %q", k)
		}
	}
	w := &wire{line: n, raw: line, attrsS: map[string]string{}}
	var occ, auth string
	for _, f := range []struct {
		name string
		dst  *string
	}{{"id", &w.ID}, {"uscc", &w.USCC}, {"type", &w.Type}, {"occurred_at", &occ}, {"authority", &auth}} {
		raw, ok := top[f.name]
		if !ok {
			return fail("missing %s", f.name)
		}
		if err := json.Unmarshal(raw, f.dst); err != nil || *f.dst == "" {
			return fail("%s is not a non-empty string", f.name)
		}
	}
	if len(w.ID) > 128 || !idRE.MatchString(w.ID) {
		return fail("id %q", w.ID)
	}
	if _, err := uscc.Parse(w.USCC); err != nil {
		return fail("uscc: %v", err)
	}
	if !occurredRE.MatchString(occ) {
		return fail("occurred_at %q is not RFC 3339 UTC with Z", occ)
	}
	at, err := time.Parse(time.RFC3339, occ)
	if err != nil {
		return fail("occurred_at: %v", err)
	}
	w.At = at
	spec, ok := specs[w.Type]
	if !ok {
		return fail("unknown type %q", w.Type)
	}
	if strings.HasPrefix(w.ID, "12315-") && w.Type != "complaint" {
		return fail("a 12315 id on a %s: the platform issues complaints only", w.Type)
	}
	if err := json.Unmarshal(top["attrs"], &w.Attrs); err != nil || w.Attrs == nil {
		return fail("attrs is not an object")
	}
	for _, s := range spec {
		raw, ok := w.Attrs[s.name]
		if !ok {
			if !s.optional {
				return fail("attrs.%s missing", s.name)
			}
			continue
		}
		switch s.kind {
		case aStr, aEnum, aDate:
			var v string
			if err := json.Unmarshal(raw, &v); err != nil || v == "" {
				return fail("attrs.%s is not a non-empty string", s.name)
			}
			if s.kind == aDate {
				if _, err := time.Parse(time.DateOnly, v); err != nil {
					return fail("attrs.%s %q is not a date", s.name, v)
				}
			}
			if s.kind == aEnum && !contains(s.enum, v) {
				return fail("attrs.%s %q not in %v", s.name, v, s.enum)
			}
			w.attrsS[s.name] = v
		case aInt:
			var v json.Number
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			if err := d.Decode(&v); err != nil {
				return fail("attrs.%s is not a number", s.name)
			}
			if i, err := strconv.ParseInt(v.String(), 10, 64); err != nil || i < 0 {
				return fail("attrs.%s %s is not a non-negative integer", s.name, v)
			}
			w.attrsS[s.name] = v.String()
		case aBool:
			var v bool
			if err := json.Unmarshal(raw, &v); err != nil {
				return fail("attrs.%s is not a bool", s.name)
			}
			w.attrsS[s.name] = strconv.FormatBool(v)
		case aList:
			var v []string
			if err := json.Unmarshal(raw, &v); err != nil || len(v) == 0 {
				return fail("attrs.%s is not a non-empty array of strings", s.name)
			}
			seen := map[string]bool{}
			for _, x := range v {
				if !contains(s.enum, x) || seen[x] {
					return fail("attrs.%s: %q unknown or repeated", s.name, x)
				}
				seen[x] = true
			}
			w.attrsS[s.name] = strings.Join(v, ",")
		}
	}
	return w
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// validate checks a whole stream of good lines against events.md and the
// generator's promises; it returns the decoded events.
func validate(t *testing.T, lines [][]byte, opts Options) []*wire {
	t.Helper()
	opts.EnsureDefaults()
	reg, err := loadRegion(opts.Region)
	if err != nil {
		t.Fatal(err)
	}
	divs := map[string]bool{}
	for _, d := range reg.divs {
		divs[d.code] = true
	}
	byID := map[string]*wire{}
	registered := map[string]time.Time{}
	deregistered := map[string]bool{}
	var out []*wire
	var last time.Time
	for n, line := range lines {
		w := decode(t, n+1, line)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("line %d: %s\n%s", n+1, fmt.Sprintf(format, args...), line)
		}
		if w.At.Before(last) {
			fail("occurred_at goes back from %s", last.Format(time.RFC3339))
		}
		last = w.At
		if !w.At.Before(opts.End) {
			fail("occurred_at is not before the end %s", opts.End.Format(time.DateOnly))
		}
		if _, dup := byID[w.ID]; dup {
			fail("duplicate id %s", w.ID)
		}
		byID[w.ID] = w
		date := w.At.Format(time.DateOnly)
		if deregistered[w.USCC] {
			fail("event after deregistration")
		}
		if w.Type == "registered" {
			if _, again := registered[w.USCC]; again {
				fail("second registration of %s", w.USCC)
			}
			registered[w.USCC] = w.At
			region, _ := w.str("region")
			if region != w.USCC[2:8] || !divs[region] {
				fail("region %s does not match the USCC or the province", region)
			}
			if w.USCC[0] != '9' || w.USCC[1] < '1' || w.USCC[1] > '3' {
				fail("USCC %s is not a market-regulation entity", w.USCC)
			}
			if w.USCC[2:4] != opts.Region {
				fail("USCC %s outside region %s", w.USCC, opts.Region)
			}
			if on, _ := w.str("registered_on"); on != date {
				fail("registered_on %s differs from the event date", on)
			}
			name, _ := w.str("name")
			if utf8.RuneCountInString(name) < 5 || !strings.ContainsFunc(name, func(r rune) bool { return r >= 0x4E00 && r <= 0x9FFF }) {
				fail("implausible name %q", name)
			}
		} else {
			if _, ok := registered[w.USCC]; !ok {
				fail("event for an entity not yet registered")
			}
			if w.At.Before(opts.Start) {
				fail("non-registration event before the start")
			}
		}
		switch w.Type {
		case "deregistered":
			deregistered[w.USCC] = true
		case "penalty":
			dn, _ := w.str("decision_no")
			if !decisionRE.MatchString(dn) {
				fail("decision_no %q", dn)
			}
		case "court_debtor_listed":
			cn, _ := w.str("case_no")
			if !caseRE.MatchString(cn) {
				fail("case_no %q", cn)
			}
		case "inspection":
			if plan, _ := w.str("plan_id"); plan != opts.Region+"-"+w.At.Format("2006-01") {
				fail("plan_id %q", plan)
			}
		case "annual_report":
			ys, _ := w.str("year")
			y, _ := strconv.Atoi(ys)
			if y >= w.At.Year() {
				fail("annual report for year %d filed in %d", y, w.At.Year())
			}
			if y < registered[w.USCC].Year() {
				fail("annual report for %d before registration in %d", y, registered[w.USCC].Year())
			}
			deadline := time.Date(y+1, 7, 1, 0, 0, 0, 0, time.UTC)
			if on, _ := w.str("on_time"); (on == "true") != w.At.Before(deadline) {
				fail("on_time %s but filed %s", on, date)
			}
		case "tax_rating":
			ys, _ := w.str("year")
			y, _ := strconv.Atoi(ys)
			if w.At.Year() != y+1 || w.At.Month() != time.April {
				fail("tax rating for %d published %s", y, date)
			}
			if w.USCC[1] == '2' {
				fail("tax rating for an individual business")
			}
		}
		if w.Type == "penalty" {
			checkPenaltyAttrs(t, w)
		}
		if strings.HasPrefix(w.Type, "objection_") {
			checkObjection(t, w, byID)
			out = append(out, w)
			continue
		}
		if target, ok := refTarget[w.Type]; ok || w.Type == "repair" {
			ref, _ := w.str("ref")
			r := byID[ref]
			switch {
			case refProblem(w, r, ref) != "":
				fail("%s", refProblem(w, r, ref))
			case w.Type == "repair" && r.withdrawn && (r.Type == "penalty" || r.Type == "commitment_made"):
				fail("ref %s was withdrawn on objection", ref)
			case r.ended && !(w.Type == "repair" && r.Type == "commitment_made" && !r.breachAt.IsZero()):
				fail("ref %s was already removed or repaired", ref)
			case ok && r.Type != target:
				fail("ref %s is a %s, want %s", ref, r.Type, target)
			}
			if w.Type == "commitment_breached" {
				r.breachAt = w.At
			}
			if w.Type != "repair" || r.Type != "penalty" {
				r.ended = true
			}
			if w.Type == "repair" {
				decided, _ := w.str("decided_on")
				if decided != date {
					fail("decided_on %s differs from the event date", decided)
				}
				checkRepair(t, w, r)
			}
		}
		out = append(out, w)
	}
	return out
}
