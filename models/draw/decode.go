package draw

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/jsontext"
	"github.com/creditrisk/creditd/models/uscc"
)

// This file holds the strict JSON reader of draw/v1 documents (see draw.go).

// drawDec reads draw documents, driven by their schema: each object
// member is dispatched by its exact name, with errors that name the
// member's path. The lexing (white space, punctuation, strings, numbers,
// literals, nesting depth) is the module's one JSON scanner
// (models/jsontext).
type drawDec struct {
	sc jsontext.Scanner
}

func newDrawDec(data []byte) *drawDec {
	d := &drawDec{}
	d.sc.Reset(data)
	return d
}

func (d *drawDec) syntax(format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf("invalid JSON at byte %d: ", d.sc.Offset()) + fmt.Sprintf(format, args...)}
}

// lexical wraps a scanner error as a draw error.
func lexical(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*Error); ok {
		return err
	}
	return &Error{Msg: err.Error()}
}

func (d *drawDec) peek() byte { return d.sc.Peek() }

// document reads one top-level value with fn and refuses trailing data.
func (d *drawDec) document(fn func() error) error {
	if in := d.sc.Input(); len(in) >= 3 && in[0] == 0xef && in[1] == 0xbb && in[2] == 0xbf {
		d.sc.Seek(3) // UTF-8 byte-order mark
	}
	if err := fn(); err != nil {
		return err
	}
	if !d.sc.AtEnd() {
		return d.syntax("data after the document")
	}
	return nil
}

// null reads null if it is next.
func (d *drawDec) null() bool {
	if d.sc.Kind() != jsontext.Null {
		return false
	}
	return d.sc.Null() == nil
}

// object reads an object, calling member for each member name; member must
// read the value. Repeated names are refused.
func (d *drawDec) object(path string, member func(name string) error) error {
	if d.peek() != '{' {
		return drawErr(path, "want an object")
	}
	var names []string
	return lexical(d.sc.Object(func(key []byte) error {
		name := string(key)
		for _, n := range names {
			if n == name {
				return drawErr(drawJoin(path, name), "member appears twice")
			}
		}
		names = append(names, name)
		return member(name)
	}))
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
	i := 0
	return lexical(d.sc.Array(func() error {
		err := elem(i)
		i++
		return err
	}))
}

// str reads a JSON string. Invalid UTF-8 and unescaped control characters
// are refused.
func (d *drawDec) str() (string, error) {
	if d.peek() != '"' {
		return "", d.syntax("want a string")
	}
	v, err := d.sc.StringBytes()
	if err != nil {
		return "", lexical(err)
	}
	return string(v), nil
}

// numText reads a JSON number and returns its text.
func (d *drawDec) numText(path string) (string, error) {
	if d.sc.Kind() != jsontext.Number {
		return "", drawErr(path, "want a number")
	}
	t, err := d.sc.Number()
	if err != nil {
		return "", drawErr(path, "%v", err)
	}
	return string(t), nil
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

func (d *drawDec) request(path string, r *Request) error {
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
			t, perr := civil.ParseInstant(s)
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
					var c Conflict
					err := d.conflict(fmt.Sprintf("%s[%d]", p, i), &c)
					r.Conflicts = append(r.Conflicts, c)
					return err
				})
			}
		case "seed":
			r.Seed, err = d.hexString(p)
			have.seed = true
		case "exempt_lowest_tier":
			if !d.null() {
				r.ExemptLowestTier, err = d.boolean(p)
			}
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
	return drawRequire(path, []drawMember{{have.plan, "plan_id"}, {have.asOf, "as_of"}, {have.alloc, "allocation"}, {have.insp, "inspectors"}, {have.seed, "seed"}})
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

func (d *drawDec) population(path string, p *Population) error {
	return d.object(path, func(name string) error {
		var err error
		switch name {
		case "region_prefix":
			p.RegionPrefix, err = d.stringAt(drawJoin(path, name))
		case "entity_types":
			p.EntityTypes, err = d.stringList(drawJoin(path, name))
		case "registration_authorities":
			p.RegistrationAuthorities, err = d.stringList(drawJoin(path, name))
		case "industries":
			p.Industries, err = d.stringList(drawJoin(path, name))
		case "include":
			p.Include, err = d.usccList(drawJoin(path, name))
		case "exclude":
			p.Exclude, err = d.usccList(drawJoin(path, name))
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
			v, err = drawDecimal(t, 0, MaxWeight)
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

func (d *drawDec) allocation(path string, a *Allocation) error {
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
			a.Budget, err = d.integer(p, MaxCount)
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

func (d *drawDec) inspectors(path string, in *Inspectors) error {
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
			in.MaxLoad, err = d.integer(p, MaxCount)
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

func (d *drawDec) uscc(path string) (uscc.Code, error) {
	s, err := d.stringAt(path)
	if err != nil {
		return uscc.Code{}, err
	}
	c, err := uscc.ParseFormat(s)
	if err != nil {
		return c, drawErr(path, "%v", err)
	}
	if c.String() != s {
		return c, drawErr(path, "%q must be uppercase", s)
	}
	return c, nil
}

func (d *drawDec) conflict(path string, c *Conflict) error {
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

// drawMember is a required member and whether it was seen.
type drawMember struct {
	ok   bool
	name string
}

// drawRequire names the first required member of the object at path that
// was not seen.
func drawRequire(path string, members []drawMember) error {
	for _, m := range members {
		if !m.ok {
			return drawErr(drawJoin(path, m.name), "missing")
		}
	}
	return nil
}

// digest reads a SHA-256 value at p: 64 lowercase hex digits.
func (d *drawDec) digest(p string, dst *[32]byte) error {
	h, err := d.stringAt(p)
	if err != nil {
		return err
	}
	if len(h) != 64 || !drawLowerHex(h) {
		return drawErr(p, "must be 64 lowercase hex digits")
	}
	hex.Decode(dst[:], []byte(h))
	return nil
}
