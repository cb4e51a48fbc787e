package draw

// This file defines the documents of the `draw/v2` format (spec/draw.md,
// "draw/v2"): the public and regulatory editions of a draw record and the
// recusal amendments. The request is the v1 request with the v2 members.
//
// The editions are canonical JSON (EncodeV2, draw_v2_encode.go): a record
// is read with encoding/json
// (unknown members refused, the request through the strict v1 reader) and
// then re-encoded; a document whose bytes differ from its re-encoding is
// refused, which also refuses duplicate members and names that match only
// case-insensitively. The regulatory edition's bytes are the public
// edition's bytes with "edition":"public" replaced by
// "edition":"regulatory" and the regulatory members appended before the
// final '}', so any verifier can cut the public edition out of it (see
// PublicBytes) and check the draw id over the same bytes.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/tier"
)

// FormatV2 is the value of a v2 record's "format" member.
const FormatV2 = "draw/v2"

// Editions of a v2 record are EditionPublic and EditionRegulatory, as
// for reports.

// MinPublicStratum is the smallest non-zero stratum size the public edition
// shows: with fewer entities in a tier, per-tier counts would reveal tiers.
const MinPublicStratum = 10

// SchemeExempts reports whether a tier scheme permits exempting its
// lowest tier from random inspection (ratio or weight 0) when a plan asks
// for it: the national scheme does (A "可不主动实施现场检查", domain.md
// §2.1; Shanghai 2022, §2.3), Shandong's does not (不免抽, §2.2).
func SchemeExempts(s *tier.Scheme) bool { return s == tier.National4 || s.ID == tier.National4.ID }

// V2Stratum is one tier's totals.
type V2Stratum struct {
	N  int64  `json:"N"`
	N2 int64  `json:"n"`
	Pi string `json:"pi"`
}

// V2Selected is one selected entity of the public edition.
type V2Selected struct {
	USCC       string   `json:"uscc"`
	Region     string   `json:"region"`
	Inspectors []string `json:"inspectors"`
	Unassigned int      `json:"unassigned,omitempty"`
	Reason     string   `json:"reason,omitempty"`
}

// V2Tier is a selected entity's tier and priority (regulatory only).
type V2Tier struct {
	USCC     string `json:"uscc"`
	Tier     string `json:"tier"`
	Priority string `json:"priority"`
}

// V2Conflict is an (inspector, entity) pair from the conflict register.
type V2Conflict struct {
	Inspector string `json:"inspector"`
	USCC      string `json:"uscc"`
}

// V2 is a draw/v2 record in either edition. The members after Warnings
// are set in the regulatory edition only.
type V2 struct {
	Format            string               `json:"format"`
	Edition           string               `json:"edition"`
	DrawID            string               `json:"draw_id"`
	Request           *Request             `json:"request"`
	TierScheme        string               `json:"tier_scheme"`
	CommittedAt       string               `json:"seed_committed_at"`
	KeyCommitment     string               `json:"key_commitment"`
	PopulationDigest  string               `json:"population_digest"`
	PopulationSize    int64                `json:"population_size"`
	SampleSize        int64                `json:"sample_size"`
	Strata            map[string]V2Stratum `json:"strata"`
	Selected          []V2Selected         `json:"selected"`
	RegisterConflicts []V2Conflict         `json:"register_conflicts"`
	Warnings          []string             `json:"warnings"`

	BlindKey   string               `json:"blind_key,omitempty"`
	TierStrata map[string]V2Stratum `json:"tier_strata,omitempty"`
	Tiers      []V2Tier             `json:"tiers,omitempty"`
}

// Public returns the public edition of a record (a copy without the
// regulatory members; strata suppressed by PublicStrata).
func (r *V2) Public() *V2 {
	c := *r
	c.Edition = report.EditionPublic
	c.BlindKey, c.TierStrata, c.Tiers = "", nil, nil
	c.Strata = PublicStrata(&r.Request.Population, r.TierStrata, r.Strata)
	return &c
}

// PublicStrata is the spec's suppression rule: the public edition has no
// per-tier totals when the population is a targeted include list or some
// stratum has 0 < N_t < MinPublicStratum. full are the regulatory strata
// (nil: take shown, the strata already in a record).
func PublicStrata(p *Population, full, shown map[string]V2Stratum) map[string]V2Stratum {
	if full == nil {
		return shown
	}
	if len(p.Include) > 0 {
		return nil
	}
	for _, s := range full {
		if s.N > 0 && s.N < MinPublicStratum {
			return nil
		}
	}
	return full
}

// ParseV2 parses a v2 record of either edition and checks that its
// bytes are canonical and its members well formed. It does not verify the
// draw.
func ParseV2(data []byte) (*V2, error) {
	data = bytes.TrimSuffix(data, []byte("\n"))
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	r := new(V2)
	if err := d.Decode(r); err != nil {
		return nil, &Error{Msg: "draw/v2 record: " + err.Error()}
	}
	if d.More() {
		return nil, &Error{Msg: "draw/v2 record: data after the record"}
	}
	if r.Format != FormatV2 {
		return nil, drawErr("format", "is %q, want %q", r.Format, FormatV2)
	}
	if r.Request == nil {
		return nil, drawErr("request", "missing")
	}
	switch r.Edition {
	case report.EditionPublic:
		if r.BlindKey != "" || r.TierStrata != nil || r.Tiers != nil {
			return nil, drawErr("edition", "a public edition has no blind_key, tier_strata or tiers")
		}
	case report.EditionRegulatory:
		if len(r.BlindKey) != 64 || !drawLowerHex(r.BlindKey) {
			return nil, drawErr("blind_key", "must be 64 lowercase hex digits")
		}
		if r.TierStrata == nil {
			return nil, drawErr("tier_strata", "missing")
		}
		if len(r.Tiers) != len(r.Selected) {
			return nil, drawErr("tiers", "has %d entries for %d selected entities", len(r.Tiers), len(r.Selected))
		}
	default:
		return nil, drawErr("edition", "is %q, want %q or %q", r.Edition, report.EditionPublic, report.EditionRegulatory)
	}
	if !bytes.Equal(EncodeV2(r), data) {
		return nil, &Error{Msg: "draw/v2 record: not in canonical form (re-encoding gives other bytes: a changed byte, a duplicate or reordered member, or extra spaces)"}
	}
	for _, h := range []struct{ path, v string }{{"key_commitment", r.KeyCommitment}, {"population_digest", r.PopulationDigest}, {"request.seed_commitment", r.Request.SeedCommitment}} {
		if len(h.v) != 64 || !drawLowerHex(h.v) {
			return nil, drawErr(h.path, "must be 64 lowercase hex digits")
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, r.CommittedAt); err != nil {
		return nil, drawErr("seed_committed_at", "%v", err)
	}
	if err := drawCheckDrawID(r.DrawID); err != nil {
		return nil, err
	}
	return r, nil
}

// PublicBytes cuts the public edition's bytes out of a regulatory edition's
// canonical bytes (spec: the regulatory members are appended to the public
// edition). For a public edition it returns data unchanged.
func PublicBytes(data []byte) ([]byte, error) {
	data = bytes.TrimSuffix(data, []byte("\n"))
	reg := []byte(`"edition":"` + report.EditionRegulatory + `"`)
	i := bytes.Index(data, reg)
	if i < 0 {
		return data, nil
	}
	j := bytes.Index(data, []byte(`,"blind_key":"`))
	if j < 0 || j < i {
		return nil, errors.New("draw/v2: regulatory edition without blind_key")
	}
	out := make([]byte, 0, j+1)
	out = append(out, data[:i]...)
	out = append(out, `"edition":"`+report.EditionPublic+`"`...)
	out = append(out, data[i+len(reg):j]...)
	return append(out, '}'), nil
}

// V2ID computes the draw id from the public edition's bytes: the v1
// prefix and the first 12 hex digits of the SHA-256 of the bytes with the
// draw_id value emptied.
func V2ID(public []byte, planID string, asOf time.Time) (string, error) {
	const key = `"draw_id":"`
	i := bytes.Index(public, []byte(key))
	if i < 0 {
		return "", errors.New("draw/v2: no draw_id member")
	}
	j := bytes.IndexByte(public[i+len(key):], '"')
	if j < 0 {
		return "", errors.New("draw/v2: unterminated draw_id")
	}
	h := sha256.New()
	h.Write(public[:i+len(key)])
	h.Write(public[i+len(key)+j:])
	return IDPrefix(planID, asOf) + "-" + hex.EncodeToString(h.Sum(nil)[:6]), nil
}

// KeyCommitment returns SHA-256("draw/v2/key" || 0x00 || B) in hex.
func KeyCommitment(b [32]byte) string {
	h := sha256.Sum256(append([]byte("draw/v2/key\x00"), b[:]...))
	return hex.EncodeToString(h[:])
}

// Amendment is a recusal after the draw (spec "Recusal amendments").
type Amendment struct {
	Seq         int    `json:"seq"`
	USCC        string `json:"uscc"`
	Recused     string `json:"recused"`
	Replacement string `json:"replacement"`
	Reason      string `json:"reason"`
	At          string `json:"at"`
	Prev        string `json:"prev"`
	ID          string `json:"id"`
}

// Amendments is the amendments document of a draw.
type Amendments struct {
	DrawID     string      `json:"draw_id"`
	Amendments []Amendment `json:"amendments"`
}

// AmendmentID is the spec's chained id of an amendment: SHA-256 of
// "draw/v2/amend" 0x00 draw_id 0x00 prev 0x00 u32(seq) uscc 0x00 recused
// 0x00 replacement 0x00 at 0x00 reason.
func AmendmentID(drawID string, a *Amendment) string {
	h := sha256.New()
	var seq [4]byte
	binary.BigEndian.PutUint32(seq[:], uint32(a.Seq))
	for _, p := range [][]byte{[]byte("draw/v2/amend\x00" + drawID + "\x00" + a.Prev + "\x00"), seq[:],
		[]byte(a.USCC + "\x00" + a.Recused + "\x00" + a.Replacement + "\x00" + a.At + "\x00" + a.Reason)} {
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ParseAmendments parses an amendments document (canonical JSON, as
// records) and checks the id chain. Replacements are checked by the
// verifier.
func ParseAmendments(data []byte) (*Amendments, error) {
	data = bytes.TrimSuffix(data, []byte("\n"))
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	a := new(Amendments)
	if err := d.Decode(a); err != nil {
		return nil, &Error{Msg: "draw/v2 amendments: " + err.Error()}
	}
	if !bytes.Equal(EncodeAmendments(a), data) {
		return nil, &Error{Msg: "draw/v2 amendments: not in canonical form"}
	}
	prev := ""
	for i := range a.Amendments {
		m := &a.Amendments[i]
		p := fmt.Sprintf("amendments[%d]", i)
		if m.Seq != i+1 {
			return nil, drawErr(p+".seq", "is %d, want %d", m.Seq, i+1)
		}
		if m.Prev != prev {
			return nil, drawErr(p+".prev", "is %q, want the previous id %q", m.Prev, prev)
		}
		if id := AmendmentID(a.DrawID, m); m.ID != id {
			return nil, drawErr(p+".id", "is %q, the amendment's content gives %q", m.ID, id)
		}
		prev = m.ID
	}
	return a, nil
}

// EncodeAmendments is the canonical encoding of an amendments document.
func EncodeAmendments(a *Amendments) []byte {
	c := *a
	if c.Amendments == nil {
		c.Amendments = []Amendment{}
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(&c) // strings and ints only
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
