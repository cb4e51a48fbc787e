package draw

import (
	"encoding/hex"
	"io"
	"strconv"
	"time"

	"github.com/creditrisk/creditd/models/jsontext"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// This file holds the canonical encoding of draw/v1 requests and records.

// ---------------------------------------------------------------------------
// Canonical encoding

// AppendJSON appends the request's canonical JSON encoding: members in a
// fixed order, defaults explicit (per_entity, population), optional members
// omitted when absent, ratios in shortest exact decimal form.
func (r *Request) AppendJSON(b []byte) []byte {
	b = append(b, `{"plan_id":`...)
	b = jsontext.AppendStringDraw(b, r.PlanID)
	b = append(b, `,"as_of":`...)
	b = jsontext.AppendStringDraw(b, r.AsOf.UTC().Format(time.RFC3339Nano))
	b = append(b, `,"population":{"region_prefix":`...)
	b = jsontext.AppendStringDraw(b, r.Population.RegionPrefix)
	b = append(b, `,"entity_types":`...)
	b = drawAppendStrings(b, r.Population.EntityTypes)
	b = append(b, `,"registration_authorities":`...)
	b = drawAppendStrings(b, r.Population.RegistrationAuthorities)
	if len(r.Population.Industries) > 0 {
		b = append(b, `,"industries":`...)
		b = drawAppendStrings(b, r.Population.Industries)
	}
	for _, l := range []struct {
		name string
		list []uscc.Code
	}{{`,"include":[`, r.Population.Include}, {`,"exclude":[`, r.Population.Exclude}} {
		if len(l.list) == 0 {
			continue
		}
		b = append(b, l.name...)
		for i, c := range l.list {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, c[:]...)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
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
			b = jsontext.AppendStringDraw(b, tv.Label)
			b = append(b, ':')
			b = strconv.AppendInt(b, tv.Value, 10)
		}
	} else {
		b = append(b, `"ratios":{`...)
		for i, tv := range a.Ratios {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsontext.AppendStringDraw(b, tv.Label)
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
		b = jsontext.AppendStringDraw(b, in.ID)
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
		b = jsontext.AppendStringDraw(b, r.Department)
	}
	if len(r.Conflicts) > 0 {
		b = append(b, `,"conflicts":[`...)
		for i, c := range r.Conflicts {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"inspector":`...)
			b = jsontext.AppendStringDraw(b, c.Inspector)
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
	if r.ExemptLowestTier {
		b = append(b, `,"exempt_lowest_tier":true`...)
	}
	return append(b, '}')
}

// AppendJSON appends the record's canonical JSON encoding: a readable layout
// with one selected entity per line, members in a fixed order.
func (r *Record) AppendJSON(b []byte) []byte {
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
func (r *Record) WriteJSON(w io.Writer) error {
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
func (r *Record) encodedSizeHint() int {
	n := 1024 + 300*len(r.Selected) + 100*len(r.Request.Inspectors.Pool) + 60*len(r.Request.Conflicts)
	for _, w := range r.Warnings {
		n += len(w) + 4
	}
	return n
}

func (r *Record) appendSelected(b []byte, i int) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	b = append(b, '\n')
	return r.Selected[i].appendJSON(b, r.Scheme)
}

func (r *Record) appendTail(b []byte) []byte {
	if len(r.Selected) > 0 {
		b = append(b, '\n')
	}
	return append(b, "]\n}\n"...)
}

func (r *Record) appendHead(b []byte) []byte {
	b = append(b, "{\n\"format\": \""+Format+"\",\n\"draw_id\": "...)
	b = jsontext.AppendStringDraw(b, r.DrawID)
	b = append(b, ",\n\"tier_scheme\": "...)
	b = jsontext.AppendStringDraw(b, r.Scheme.ID)
	b = append(b, ",\n\"population_digest\": \""...)
	b = hex.AppendEncode(b, r.PopulationDigest[:])
	b = append(b, "\",\n\"strata\": {"...)
	for i, s := range r.Strata {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = jsontext.AppendStringDraw(b, s.Label)
		b = append(b, `: {"N": `...)
		b = strconv.AppendInt(b, s.N, 10)
		b = append(b, `, "n": `...)
		b = strconv.AppendInt(b, s.Sample, 10)
		b = append(b, `, "pi": `...)
		b = jsontext.AppendStringDraw(b, s.Pi)
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

func (s *Selection) appendJSON(b []byte, scheme *tier.Scheme) []byte {
	b = append(b, `{"uscc": "`...)
	b = append(b, s.USCC[:]...)
	b = append(b, `", "region": "`...)
	b = append(b, s.Region[:]...)
	b = append(b, `", "tier": `...)
	b = jsontext.AppendStringDraw(b, scheme.Label(s.Tier))
	b = append(b, `, "priority": "`...)
	b = hex.AppendEncode(b, s.Priority[:])
	b = append(b, `", "inspectors": `...)
	b = drawAppendStrings(b, s.Inspectors)
	if s.Unassigned > 0 {
		b = append(b, `, "unassigned": `...)
		b = strconv.AppendInt(b, int64(s.Unassigned), 10)
		b = append(b, `, "reason": `...)
		b = jsontext.AppendStringDraw(b, s.Reason)
	}
	return append(b, '}')
}

func drawAppendStrings(b []byte, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsontext.AppendStringDraw(b, s)
	}
	return append(b, ']')
}
