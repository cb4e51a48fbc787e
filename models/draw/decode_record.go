package draw

// This file holds the strict JSON reader of draw/v1 records (see
// draw_decode.go).

import (
	"encoding/json"
	"fmt"

	"github.com/creditrisk/creditd/models/jsontext"

	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// record reads a draw/v1 record.
func (d *drawDec) record(r *Record) error {
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
			if f, err = d.stringAt(name); err == nil && f != Format {
				err = drawErr(name, "is %q, want %q", f, Format)
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
				if r.Scheme, err = tier.LookupScheme(id); err != nil {
					err = drawErr(name, "%v", err)
				}
			}
			have.scheme = true
		case "population_digest":
			err = d.digest(name, &r.PopulationDigest)
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
						st.N, err = d.integer(p+".N", MaxCount)
						st.haveN = true
					case "n":
						st.n, err = d.integer(p+".n", MaxCount)
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
			selPos = d.sc.Offset()
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
	r.Strata = make([]Stratum, r.Scheme.Len())
	got := make([]bool, r.Scheme.Len())
	for _, st := range strata {
		t, err := r.Scheme.Parse(st.label)
		if err != nil {
			return drawErr("strata."+st.label, "tier is not in scheme %s", r.Scheme.ID)
		}
		got[t] = true
		r.Strata[t] = Stratum{Label: st.label, N: st.N, Sample: st.n, Pi: st.pi}
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
	end := d.sc.Offset()
	d.sc.Seek(selPos)
	err = d.array("selected", func(i int) error {
		r.Selected = append(r.Selected, Selection{})
		return d.selection(fmt.Sprintf("selected[%d]", i), &r.Selected[len(r.Selected)-1], r.Scheme)
	})
	d.sc.Seek(end)
	return err
}

// skipArray skips over an array value (checked for JSON syntax only; the
// elements are parsed strictly afterwards, once the scheme is known).
func (d *drawDec) skipArray(path string) error {
	if d.peek() != '[' {
		return drawErr(path, "want an array")
	}
	return lexical(d.sc.SkipValue())
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

func (d *drawDec) selection(path string, s *Selection, scheme *tier.Scheme) error {
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
			err = d.digest(p, &s.Priority)
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
	if err := drawRequire(path, []drawMember{{have.uscc, "uscc"}, {have.region, "region"}, {have.tier, "tier"}, {have.prio, "priority"}, {have.insp, "inspectors"}}); err != nil {
		return err
	}
	if have.un != have.reason || (have.reason && s.Reason == "") {
		return drawErr(path, `"unassigned" and a non-empty "reason" go together`)
	}
	return nil
}

// compile-time checks that the documents satisfy encoding/json's interfaces.
var (
	_ json.Marshaler   = (*Request)(nil)
	_ json.Unmarshaler = (*Request)(nil)
	_ json.Marshaler   = (*Record)(nil)
	_ json.Unmarshaler = (*Record)(nil)
)

// usccList reads an array of USCCs (at most MaxUSCCList).
func (d *drawDec) usccList(path string) ([]uscc.Code, error) {
	var out []uscc.Code
	err := d.array(path, func(i int) error {
		if i >= MaxUSCCList {
			return drawErr(path, "has more than %d codes", MaxUSCCList)
		}
		c, err := d.uscc(fmt.Sprintf("%s[%d]", path, i))
		out = append(out, c)
		return err
	})
	return out, err
}

// boolean reads true or false.
func (d *drawDec) boolean(path string) (bool, error) {
	if d.sc.Kind() != jsontext.Bool {
		return false, drawErr(path, "must be true or false")
	}
	v, err := d.sc.Bool()
	if err != nil {
		return false, drawErr(path, "must be true or false")
	}
	return v, nil
}
