package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/creditrisk/creditd/models/event"
)

// What a public credit report may contain, written out by hand from
// report.md "Fields" and "Editions" and the implementation notes' list of
// published attributes: every member at every level, and the detail keys
// per record category. The check is an allow-list: a member not named here
// (an "assessment", a "tier", a "score", a "reasons", or anything a future
// change adds) fails it, whatever its name. The risk tier is internal
// (domain.md §2.1, §2.2: 不公开).

// publicShape maps a member path ("" for the top, "issuer", "records[]")
// to the members allowed there.
var publicShape = map[string][]string{
	"":          {"format", "report_id", "issuer", "edition", "channel", "issued_at", "valid_until", "subject", "records", "signature"},
	"issuer":    {"code", "name", "key_id"},
	"subject":   {"uscc", "name", "region", "entity_type", "registered_on", "status"},
	"records[]": {"id", "category", "detail", "authority", "occurred_on", "status", "publicity_until", "repaired_on", "samr", "credit_china", "objection"},
	// report.md "Channels": a penalty's publication in each channel.
	"records[].samr":         {"status", "publicity_until", "repaired_on", "repairable_from"},
	"records[].credit_china": {"status", "publicity_until", "repaired_on", "repairable_from"},
	// An objection shows its status and dates only (domain.md §4.8); the
	// filer's and the authority's texts are not published.
	"records[].objection": {"status", "filed_on", "due_on", "answered_on"},
	"signature":           {"alg", "key_id", "value"},
}

// publicDetail lists, per record category, the detail keys a report may
// publish: the event attributes the format publishes (events.md), and what
// the record's history adds (a removal, a repair, a commitment's outcome).
// Complaints are internal and never appear at all.
var publicDetail = map[string][]string{
	"penalty":       {"severity", "decision_no", "amount_yuan", "penalty_types", "restriction_months", "procedure", "sector", "repaired_by", "samr_repaired_by"},
	"abnormal_list": {"reason", "removed_on", "removed_by", "repaired_by"},
	// An individual business's abnormal status (domain.md §4.2).
	"abnormal_status": {"reason", "removed_on", "removed_by", "repaired_by"},
	// A serious listing, or an abnormal listing transferred to it (§4.2, §4.3).
	"dishonest_list": {"reason", "removed_on", "removed_by", "repaired_by", "cause", "abnormal_reason", "abnormal_listed_on"},
	"court_debtor":   {"case_no", "removed_on", "removed_by"},
	"inspection":     {"plan_id", "result"},
	"commitment":     {"commitment_no", "matter", "outcome", "outcome_on", "repaired_by"},
	"annual_report":  {"year", "on_time"},
	"tax_rating":     {"year", "level"},
	"honor":          {"title", "level"},
}

// checkPublicReport returns what in raw (a public edition) is not on the
// allow-lists, or nil. Detail values must be strings, integers or booleans:
// a nested object or array could carry anything.
func checkPublicReport(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return err
	}
	var problems []string
	if doc["edition"] != "public" {
		problems = append(problems, fmt.Sprintf("edition %v", doc["edition"]))
	}
	var walk func(path string, obj map[string]any)
	walk = func(path string, obj map[string]any) {
		allowed := publicShape[path]
		for name, v := range obj {
			if !slices.Contains(allowed, name) {
				problems = append(problems, fmt.Sprintf("%s: member %q is not on the allow-list", path, name))
				continue
			}
			child := strings.TrimPrefix(path+"."+name, ".")
			switch t := v.(type) {
			case map[string]any:
				if name == "detail" {
					continue // checked per category below
				}
				walk(child, t)
			case []any:
				for i, e := range t {
					o, ok := e.(map[string]any)
					if !ok {
						problems = append(problems, fmt.Sprintf("%s[%d]: not an object", child, i))
						continue
					}
					walk(child+"[]", o)
				}
			}
		}
	}
	walk("", doc)
	records, _ := doc["records"].([]any)
	for i, e := range records {
		rec, _ := e.(map[string]any)
		cat, _ := rec["category"].(string)
		keys, ok := publicDetail[cat]
		if !ok {
			problems = append(problems, fmt.Sprintf("records[%d]: category %q is never public", i, cat))
			continue
		}
		detail, _ := rec["detail"].(map[string]any)
		for k, v := range detail {
			if !slices.Contains(keys, k) {
				problems = append(problems, fmt.Sprintf("records[%d] (%s): detail key %q is not on the allow-list", i, cat, k))
			}
			switch v := v.(type) {
			case string, json.Number, bool:
			case []any: // penalty_types only: an array of the events.md names
				for _, e := range v {
					if name, _ := e.(string); k != "penalty_types" || !slices.Contains(event.PenaltyTypeNames(), name) {
						problems = append(problems, fmt.Sprintf("records[%d] (%s): detail %q holds %v", i, cat, k, e))
					}
				}
			default:
				problems = append(problems, fmt.Sprintf("records[%d] (%s): detail %q is %T", i, cat, k, v))
			}
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("public report: %s", strings.Join(problems, "; "))
	}
	return nil
}
