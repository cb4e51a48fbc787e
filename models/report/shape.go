package report

// The shape check of a received report: the members each object may carry,
// their JSON kinds, and the I-JSON rules the format adds (integers only).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/creditrisk/creditd/models/jcs"
)

// checkReportDetail requires a JSON object that canonicalises (so valid
// I-JSON: UTF-8, no duplicate names) and holds integers only.
func checkReportDetail(d json.RawMessage) error {
	t := bytes.TrimLeft(d, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return errors.New("not a JSON object")
	}
	if _, err := jcs.Canonicalize(d); err != nil {
		return err
	}
	return checkIntegerSyntax(d)
}

// checkIntegerSyntax rejects any number in the JSON text doc written with a
// fraction or an exponent ("no floats anywhere"): 1.0 is a float on the
// wire even though RFC 8785 would accept it. doc must be valid JSON.
func checkIntegerSyntax(doc []byte) error {
	inString := false
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
		case c == '-' || (c >= '0' && c <= '9'):
			start := i
			for i+1 < len(doc) && strings.IndexByte("0123456789+-.eE", doc[i+1]) >= 0 {
				i++
			}
			if num := doc[start : i+1]; bytes.ContainsAny(num, ".eE") {
				return fmt.Errorf("number %s at byte offset %d is not written as an integer (credit-report/v1 numbers are integers)", num, start)
			}
		}
	}
	return nil
}

// reportShape describes the members of a credit-report/v1 object: their
// JSON type and whether they are required. Parse checks a document
// against it before decoding into Report, because encoding/json would
// otherwise accept what the format does not: member names in another case
// ("Format"), null in place of a string or number (read as "" or 0), a
// string where a number belongs in an unknown position, and so on.
type reportMember struct {
	name     string
	kind     reportKind
	required bool
	sub      []reportMember // object members; for arrays, the element object's
}

type reportKind uint8

const (
	rkString         reportKind = iota
	rkNullableString            // string or null; absent reads as null
	rkInt
	rkObject    // an object with the sub members
	rkArray     // an array of objects with the sub members
	rkAnyObject // an object of any content
	rkAnyValue  // any JSON value (checked when decoded)
)

var reportShape = []reportMember{
	{"format", rkString, true, nil},
	{"report_id", rkString, true, nil},
	{"issuer", rkObject, true, []reportMember{
		{"code", rkString, true, nil}, {"name", rkString, true, nil}, {"key_id", rkString, true, nil}}},
	{"edition", rkString, true, nil},
	{"channel", rkString, false, nil},
	{"issued_at", rkString, true, nil},
	{"valid_until", rkString, true, nil},
	{"subject", rkObject, true, []reportMember{
		{"uscc", rkString, true, nil}, {"name", rkString, true, nil}, {"region", rkString, true, nil},
		{"entity_type", rkString, true, nil}, {"registered_on", rkString, true, nil}, {"status", rkString, true, nil}}},
	{"assessment", rkObject, false, []reportMember{
		{"as_of", rkString, true, nil}, {"score", rkInt, true, nil}, {"tier", rkString, true, nil},
		{"tier_scheme", rkString, true, nil}, {"model", rkString, true, nil},
		{"reasons", rkArray, true, []reportMember{
			{"code", rkString, true, nil}, {"text", rkString, true, nil}, {"points", rkInt, true, nil}}}}},
	{"records", rkArray, true, []reportMember{
		{"id", rkString, true, nil}, {"category", rkString, true, nil}, {"detail", rkAnyObject, true, nil},
		{"authority", rkString, true, nil}, {"occurred_on", rkString, true, nil}, {"status", rkString, true, nil},
		{"publicity_until", rkNullableString, false, nil}, {"repaired_on", rkNullableString, false, nil},
		{"samr", rkObject, false, channelStatusShape}, {"credit_china", rkObject, false, channelStatusShape},
		{"objection", rkObject, false, []reportMember{
			{"status", rkString, true, nil}, {"filed_on", rkString, true, nil},
			{"due_on", rkString, false, nil}, {"answered_on", rkString, false, nil}}}}},
	{"query_code", rkString, false, nil},
	{"measures", rkObject, false, []reportMember{
		{"commitment_route_barred", rkAnyValue, true, nil},
		{"barred_by", rkAnyValue, true, nil},
		{"for_review", rkArray, true, []reportMember{
			{"record_id", rkString, true, nil}, {"commitment_no", rkString, true, nil},
			{"matter", rkString, true, nil}, {"breached_on", rkString, true, nil}}},
		{"active", rkArray, true, []reportMember{
			{"code", rkString, true, nil}, {"kind", rkString, true, nil}, {"text", rkString, true, nil},
			{"basis", rkString, true, nil}, {"trigger", rkString, true, nil}, {"record_id", rkString, true, nil},
			{"from", rkString, true, nil}, {"until", rkNullableString, false, nil}}}}},
	{"signature", rkObject, false, []reportMember{
		{"alg", rkString, true, nil}, {"key_id", rkString, true, nil}, {"value", rkString, true, nil}}},
}

func checkReportShape(p *reportProblems, path string, obj map[string]any, members []reportMember) {
	for name := range obj {
		for _, m := range members {
			if name != m.name && strings.EqualFold(name, m.name) {
				p.add(joinPath(path, name), "member name must be %q exactly", m.name)
			}
		}
	}
	for _, m := range members {
		field := joinPath(path, m.name)
		v, ok := obj[m.name]
		if !ok {
			if m.required {
				p.add(field, "missing")
			}
			continue
		}
		checkReportValue(p, field, v, m)
	}
}

func checkReportValue(p *reportProblems, field string, v any, m reportMember) {
	switch m.kind {
	case rkString:
		if _, ok := v.(string); !ok {
			p.add(field, "want a string, got %s", jsonTypeName(v))
		}
	case rkNullableString:
		if _, ok := v.(string); !ok && v != nil {
			p.add(field, "want a string or null, got %s", jsonTypeName(v))
		}
	case rkInt:
		if _, ok := v.(json.Number); !ok {
			p.add(field, "want an integer, got %s", jsonTypeName(v))
		}
	case rkObject:
		o, ok := v.(map[string]any)
		if !ok {
			p.add(field, "want an object, got %s", jsonTypeName(v))
			return
		}
		checkReportShape(p, field, o, m.sub)
	case rkAnyObject:
		if _, ok := v.(map[string]any); !ok {
			p.add(field, "want an object, got %s", jsonTypeName(v))
		}
	case rkArray:
		a, ok := v.([]any)
		if !ok {
			p.add(field, "want an array, got %s", jsonTypeName(v))
			return
		}
		for i, e := range a {
			checkReportValue(p, fmt.Sprintf("%s[%d]", field, i), e, reportMember{kind: rkObject, sub: m.sub})
		}
	}
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
