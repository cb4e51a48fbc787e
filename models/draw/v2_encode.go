package draw

// This file holds the canonical encoding of draw/v2 records: members in
// the order of the V2 struct, no spaces, strings escaped as in v1
// (drawAppendString), optional members omitted when empty. It is written
// by hand because a record of a quarter of a million selected entities
// encodes several times faster this way than through encoding/json, and
// the draw id needs the encoding on every draw.

import (
	"slices"
	"strconv"

	"github.com/creditrisk/creditd/models/jsontext"
)

// EncodeV2 returns the canonical encoding of a v2 record (no trailing
// newline). ParseV2 refuses any document whose bytes differ from it.
func EncodeV2(r *V2) []byte {
	return AppendV2(nil, r)
}

// AppendV2 appends the canonical encoding of a v2 record to dst (a
// caller that encodes many records reuses one buffer).
func AppendV2(dst []byte, r *V2) []byte {
	b := slices.Grow(dst, 4096+len(r.Selected)*96+len(r.Tiers)*120)
	str := func(name, v string) {
		b = append(b, ',', '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = jsontext.AppendStringDraw(b, v)
	}
	num := func(name string, v int64) {
		b = append(b, ',', '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, v, 10)
	}
	b = append(b, `{"format":`...)
	b = jsontext.AppendStringDraw(b, r.Format)
	str("edition", r.Edition)
	str("draw_id", r.DrawID)
	b = append(b, `,"request":`...)
	if r.Request == nil {
		b = append(b, "null"...)
	} else {
		b = r.Request.AppendJSON(b)
	}
	str("tier_scheme", r.TierScheme)
	str("seed_committed_at", r.CommittedAt)
	str("key_commitment", r.KeyCommitment)
	str("population_digest", r.PopulationDigest)
	num("population_size", r.PopulationSize)
	num("sample_size", r.SampleSize)
	b = append(b, `,"strata":`...)
	b = appendStrata(b, r.Strata)
	b = append(b, `,"selected":[`...)
	for i := range r.Selected {
		s := &r.Selected[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"uscc":`...)
		b = jsontext.AppendStringDraw(b, s.USCC)
		b = append(b, `,"region":`...)
		b = jsontext.AppendStringDraw(b, s.Region)
		b = append(b, `,"inspectors":`...)
		b = drawAppendStrings(b, s.Inspectors)
		if s.Unassigned != 0 {
			b = append(b, `,"unassigned":`...)
			b = strconv.AppendInt(b, int64(s.Unassigned), 10)
		}
		if s.Reason != "" {
			b = append(b, `,"reason":`...)
			b = jsontext.AppendStringDraw(b, s.Reason)
		}
		b = append(b, '}')
	}
	b = append(b, `],"register_conflicts":[`...)
	for i, c := range r.RegisterConflicts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"inspector":`...)
		b = jsontext.AppendStringDraw(b, c.Inspector)
		b = append(b, `,"uscc":`...)
		b = jsontext.AppendStringDraw(b, c.USCC)
		b = append(b, '}')
	}
	b = append(b, `],"warnings":`...)
	b = drawAppendStrings(b, r.Warnings)
	if r.BlindKey != "" {
		str("blind_key", r.BlindKey)
	}
	if r.TierStrata != nil {
		b = append(b, `,"tier_strata":`...)
		b = appendStrata(b, r.TierStrata)
	}
	if len(r.Tiers) > 0 {
		b = append(b, `,"tiers":[`...)
		for i, t := range r.Tiers {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"uscc":`...)
			b = jsontext.AppendStringDraw(b, t.USCC)
			b = append(b, `,"tier":`...)
			b = jsontext.AppendStringDraw(b, t.Tier)
			b = append(b, `,"priority":`...)
			b = jsontext.AppendStringDraw(b, t.Priority)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendStrata encodes strata keyed by label in byte order (null for nil).
func appendStrata(b []byte, m map[string]V2Stratum) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		s := m[k]
		if i > 0 {
			b = append(b, ',')
		}
		b = jsontext.AppendStringDraw(b, k)
		b = append(b, `:{"N":`...)
		b = strconv.AppendInt(b, s.N, 10)
		b = append(b, `,"n":`...)
		b = strconv.AppendInt(b, s.N2, 10)
		b = append(b, `,"pi":`...)
		b = jsontext.AppendStringDraw(b, s.Pi)
		b = append(b, '}')
	}
	return append(b, '}')
}
