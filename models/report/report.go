package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/creditrisk/creditd/models/jcs"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// The credit-report/v1 document (spec/report.md): one market entity at one
// instant, plain JSON, signed with Ed25519 over its RFC 8785 canonical form.
//
// The Go types keep every instant and date as the string that is signed, not
// as time.Time: a report read from another issuer is verified over the bytes
// received, and what is shown must be exactly what was signed. Use
// Instant and Date.String to fill them, ParseInstant and
// ParseDate to read them.

// Format is the value of a credit report's "format" member.
const Format = "credit-report/v1"

// Report editions (report.md "Editions").
const (
	// EditionPublic is what anyone may see: subject and public records,
	// and no "assessment" member.
	EditionPublic = "public"
	// EditionRegulatory is the public content plus "assessment".
	EditionRegulatory = "regulatory"
)

// Subject statuses.
const (
	SubjectActive       = "active"
	SubjectDeregistered = "deregistered"
)

// Record statuses.
const (
	RecordActive   = "active"
	RecordRepaired = "repaired"
	RecordExpired  = "expired"
	RecordRemoved  = "removed"
)

// The signature algorithms of credit-report/v1 (report.md "Signature").
const (
	// SignatureAlg is Ed25519 (RFC 8032), the default.
	SignatureAlg = "Ed25519"
	// SignatureAlgSM2 is SM2 (GB/T 32918.2) with SM3 (GB/T 32905) and the
	// default user ID SM2UserID, for issuers bound to the national
	// algorithms (GB/T 39786).
	SignatureAlgSM2 = "SM2-SM3"
)

// Report is a credit-report/v1 document. Unknown members of a report read
// from elsewhere are not kept here, but they are covered by its signature
// and checked by Verify.
type Report struct {
	Format     string  `json:"format"`    // Format
	ReportID   string  `json:"report_id"` // unique, e.g. issuer code + ULID
	Issuer     Issuer  `json:"issuer"`
	Edition    string  `json:"edition"`     // EditionPublic or EditionRegulatory
	IssuedAt   string  `json:"issued_at"`   // instant, see Instant
	ValidUntil string  `json:"valid_until"` // instant; after it, receivers ask for a fresh report
	Subject    Subject `json:"subject"`
	// Channel names the publicity channel whose rules the records'
	// status, publicity_until and repaired_on follow (ChannelSAMR,
	// ChannelCreditChina; report.md "Channels"). Empty (no member) in
	// reports written before channels: Credit China.
	Channel string `json:"channel,omitempty"`
	// Assessment is present in the regulatory edition only; nil (and no
	// JSON member at all) in the public edition.
	Assessment *Assessment `json:"assessment,omitempty"`
	// Measures are the joint measures and the commitment bar in force
	// (report.md "Measures"): regulatory edition only, nil in the public
	// one.
	Measures *Measures `json:"measures,omitempty"`
	// Records lists the publicly visible records as of the report; a nil
	// slice is written as [].
	Records []Record `json:"records"`
	// QueryCode lets the holder of the report file an objection to its
	// records (report.md "Objections"). Only the public edition issued to
	// the subject itself carries it, never a report anyone may fetch;
	// optional, "" is written as no member at all.
	QueryCode string `json:"query_code,omitempty"`
	// Signature is nil before Sign.
	Signature *Signature `json:"signature,omitempty"`
}

// Issuer is the issuing authority.
type Issuer struct {
	Code  string `json:"code"`   // for a province its 2-digit division code, e.g. "37"
	Name  string `json:"name"`   // e.g. "山东省市场监督管理局"
	KeyID string `json:"key_id"` // the published key that signed the report
}

// Subject is the market entity a report describes.
type Subject struct {
	USCC         string `json:"uscc"`
	Name         string `json:"name"`
	Region       string `json:"region"` // 6-digit division code
	EntityType   string `json:"entity_type"`
	RegisteredOn string `json:"registered_on"` // date
	Status       string `json:"status"`        // SubjectActive or SubjectDeregistered
}

// Assessment is the risk assessment of the regulatory edition.
type Assessment struct {
	AsOf       string   `json:"as_of"` // instant
	Score      int64    `json:"score"`
	Tier       string   `json:"tier"`        // a label of tier.Scheme
	TierScheme string   `json:"tier_scheme"` // e.g. "national-4", "shandong-5"
	Model      string   `json:"model"`       // model id and version that produced the score
	Reasons    []Reason `json:"reasons"`     // in CompareReasons order; nil is written as []
}

// Reason is one explained contribution to the score.
type Reason struct {
	Code   string `json:"code"`
	Text   string `json:"text"`
	Points int64  `json:"points"`
}

// Record is one public record of the subject.
type Record struct {
	ID       string `json:"id"`       // the source event's id
	Category string `json:"category"` // e.g. "penalty", "abnormal_list" (see Category)
	// Detail holds the category-specific public fields: a JSON object with
	// integer numbers only. Nil is written as {}.
	Detail         json.RawMessage `json:"detail"`
	Authority      string          `json:"authority"`
	OccurredOn     string          `json:"occurred_on"`     // date
	Status         string          `json:"status"`          // RecordActive, RecordRepaired, RecordExpired, RecordRemoved
	PublicityUntil *string         `json:"publicity_until"` // date, or nil (null)
	RepairedOn     *string         `json:"repaired_on"`     // date, or nil (null)
	// SAMR and CreditChina are a penalty's publication in each channel
	// (absent for other records, which both channels publish alike).
	SAMR        *ChannelStatus `json:"samr,omitempty"`
	CreditChina *ChannelStatus `json:"credit_china,omitempty"`
	// Objection is the record's objection (异议), nil (no member) when it
	// has none to show (report.md "Objections").
	Objection *RecordObjection `json:"objection,omitempty"`
}

// Measures are the joint measures (联合惩戒 / 守信激励) and the commitment
// bar of the subject, derived from its public records only (never from its
// tier).
type Measures struct {
	CommitmentRouteBarred bool               `json:"commitment_route_barred"`
	BarredBy              []string           `json:"barred_by"`  // record ids; nil is written as []
	ForReview             []CommitmentReview `json:"for_review"` // nil is written as []
	Active                []Measure          `json:"active"`     // nil is written as []
}

// CommitmentReview is an approval obtained under a breached commitment,
// marked for review.
type CommitmentReview struct {
	RecordID     string `json:"record_id"`
	CommitmentNo string `json:"commitment_no"`
	Matter       string `json:"matter"`
	BreachedOn   string `json:"breached_on"` // date
}

// Measure is one joint measure in force.
type Measure struct {
	Code     string  `json:"code"`
	Kind     string  `json:"kind"` // "restriction" or "incentive"
	Text     string  `json:"text"`
	Basis    string  `json:"basis"`
	Trigger  string  `json:"trigger"` // the record kind that carries it
	RecordID string  `json:"record_id"`
	From     string  `json:"from"`  // date
	Until    *string `json:"until"` // date, or null while the record stands
}

// Objection statuses shown on a record.
const (
	ObjectionUnder    = "under_objection" // filed and not yet answered (referred included)
	ObjectionRejected = "rejected"        // answered: the record stands
)

// RecordObjection is an objection shown on a record: while it is open,
// and once rejected. An upheld objection withdraws the record, which is
// then not listed at all.
type RecordObjection struct {
	Status     string `json:"status"`                // ObjectionUnder or ObjectionRejected
	FiledOn    string `json:"filed_on"`              // date
	DueOn      string `json:"due_on,omitempty"`      // date: the answer's deadline, while open
	AnsweredOn string `json:"answered_on,omitempty"` // date, once answered
}

// Signature is the detached Ed25519 or SM2 signature over the canonical
// form of the report without its "signature" member.
type Signature struct {
	Alg   string `json:"alg"`    // SignatureAlg or SignatureAlgSM2
	KeyID string `json:"key_id"` // equal to Issuer.KeyID
	Value string `json:"value"`  // base64url, no padding, of the signature (64 bytes, or DER for SM2)
}

// MarshalJSON writes nil slices as [] and nil details as {}, as the format
// requires arrays and objects there, never null.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report // no methods: no recursion
	p := plain(r)
	if p.Records == nil {
		p.Records = []Record{}
	}
	if p.Measures != nil {
		m := *p.Measures
		if m.BarredBy == nil {
			m.BarredBy = []string{}
		}
		if m.ForReview == nil {
			m.ForReview = []CommitmentReview{}
		}
		if m.Active == nil {
			m.Active = []Measure{}
		}
		p.Measures = &m
	}
	if p.Assessment != nil && p.Assessment.Reasons == nil {
		a := *p.Assessment
		a.Reasons = []Reason{}
		p.Assessment = &a
	}
	copied := false
	for i := range p.Records {
		if p.Records[i].Detail == nil {
			if !copied { // never write into the caller's slice
				p.Records = append([]Record(nil), p.Records...)
				copied = true
			}
			p.Records[i].Detail = json.RawMessage("{}")
		}
	}
	return json.Marshal(p)
}

// CanonicalJSON returns the RFC 8785 canonical form of the whole report,
// signature included: the bytes to serve and store.
func (r *Report) CanonicalJSON() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return jcs.Canonicalize(b)
}

// Instant formats t as a credit-report instant: RFC 3339, UTC, "Z",
// whole seconds (a fraction is truncated).
func Instant(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format(reportInstantLayout)
}

const reportInstantLayout = "2006-01-02T15:04:05Z"

// ParseInstant parses a credit-report instant strictly: exactly
// YYYY-MM-DDTHH:MM:SSZ, UTC, whole seconds.
func ParseInstant(s string) (time.Time, error) {
	t, err := time.Parse(reportInstantLayout, s)
	if err != nil || len(s) != len(reportInstantLayout) {
		return time.Time{}, fmt.Errorf("%q is not an instant of the form YYYY-MM-DDTHH:MM:SSZ (UTC, whole seconds)", s)
	}
	return t, nil
}

// ParseDate parses a credit-report date strictly: YYYY-MM-DD.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != len(time.DateOnly) {
		return time.Time{}, fmt.Errorf("%q is not a date of the form YYYY-MM-DD", s)
	}
	return t, nil
}

// ErrInvalid is matched (errors.Is) by every error that says a
// document is not a well-formed credit-report/v1.
var ErrInvalid = errors.New("invalid credit report")

// Error lists what is wrong with a report. It matches
// ErrInvalid.
type Error struct {
	// Problems are "field.path: what is wrong", in document order.
	Problems []string
}

func (e *Error) Error() string {
	return ErrInvalid.Error() + ": " + strings.Join(e.Problems, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// reportProblems collects validation problems, at most maxProblems.
type reportProblems []string

const maxReportProblems = 20

func (p *reportProblems) add(field, format string, args ...any) {
	if len(*p) < maxReportProblems {
		*p = append(*p, field+": "+fmt.Sprintf(format, args...))
	}
}

func (p reportProblems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Problems: p}
}

// Validate checks r against credit-report/v1: the format, every required
// field, the edition's members, instants (UTC, Z, whole seconds) and dates,
// enumerations, integer-only details, and the signature's form when r is
// signed (not its value: see Verify). It does no I/O and needs no key.
//
// Beyond the field list, it requires what the spec implies: valid_until
// after issued_at; the assessment's as_of not after issued_at; reasons in
// the order of report.md (CompareReasons); a tier that belongs to a known tier scheme
// (unknown schemes of other provinces are accepted as they are); unique
// record ids; repaired_on on every repaired record; no record date after
// its publicity or repair date.
func (r *Report) Validate() error {
	var p reportProblems
	if r.Format != Format {
		p.add("format", "%q is not %q", r.Format, Format)
	}
	checkReportID(&p, "report_id", r.ReportID)
	checkText(&p, "issuer.code", r.Issuer.Code, 64)
	checkText(&p, "issuer.name", r.Issuer.Name, 256)
	checkReportID(&p, "issuer.key_id", r.Issuer.KeyID)
	switch r.Edition {
	case EditionPublic:
		if r.Assessment != nil {
			p.add("assessment", "the public edition has no assessment")
		}
		if r.Measures != nil {
			p.add("measures", "the public edition has no measures")
		}
	case EditionRegulatory:
		if r.Assessment == nil {
			p.add("assessment", "missing; the regulatory edition carries the assessment")
		}
	default:
		p.add("edition", "%q is not %q or %q", r.Edition, EditionPublic, EditionRegulatory)
	}
	issued, okIssued := checkInstant(&p, "issued_at", r.IssuedAt)
	until, okUntil := checkInstant(&p, "valid_until", r.ValidUntil)
	if okIssued && okUntil && !until.After(issued) {
		p.add("valid_until", "%s is not after issued_at %s", r.ValidUntil, r.IssuedAt)
	}
	if r.Channel != "" && r.Channel != ChannelSAMR && r.Channel != ChannelCreditChina {
		p.add("channel", "%q is not %q or %q", r.Channel, ChannelSAMR, ChannelCreditChina)
	}
	r.Subject.validate(&p)
	if a := r.Assessment; a != nil {
		a.validate(&p, issued, okIssued)
	}
	seen := make(map[string]int, len(r.Records))
	for i := range r.Records {
		rec := &r.Records[i]
		path := fmt.Sprintf("records[%d]", i)
		rec.validate(&p, path)
		if j, dup := seen[rec.ID]; dup && rec.ID != "" {
			p.add(path+".id", "%q repeats records[%d].id", rec.ID, j)
		}
		seen[rec.ID] = i
	}
	if s := r.Signature; s != nil {
		s.validate(&p, r.Issuer.KeyID)
	}
	return p.err()
}

func (s *Subject) validate(p *reportProblems) {
	if c, err := uscc.ParseFormat(s.USCC); err != nil {
		p.add("subject.uscc", "%v", err)
	} else if c.String() != s.USCC {
		p.add("subject.uscc", "%q must be written in upper case", s.USCC)
	}
	checkText(p, "subject.name", s.Name, 512)
	if len(s.Region) != 6 || strings.Trim(s.Region, "0123456789") != "" {
		p.add("subject.region", "%q is not a 6-digit division code", s.Region)
	}
	checkText(p, "subject.entity_type", s.EntityType, 64)
	checkDate(p, "subject.registered_on", s.RegisteredOn)
	if s.Status != SubjectActive && s.Status != SubjectDeregistered {
		p.add("subject.status", "%q is not %q or %q", s.Status, SubjectActive, SubjectDeregistered)
	}
}

func (a *Assessment) validate(p *reportProblems, issued time.Time, okIssued bool) {
	if asOf, ok := checkInstant(p, "assessment.as_of", a.AsOf); ok && okIssued && asOf.After(issued) {
		p.add("assessment.as_of", "%s is after issued_at", a.AsOf)
	}
	checkText(p, "assessment.tier_scheme", a.TierScheme, 64)
	checkText(p, "assessment.tier", a.Tier, 16)
	if scheme, err := tier.LookupScheme(a.TierScheme); err == nil && a.Tier != "" {
		if _, err := scheme.Parse(a.Tier); err != nil {
			p.add("assessment.tier", "%q is not a tier of %s (%s)", a.Tier, scheme.ID, strings.Join(scheme.Labels, ", "))
		}
	}
	checkText(p, "assessment.model", a.Model, 256)
	for i, rs := range a.Reasons {
		path := fmt.Sprintf("assessment.reasons[%d]", i)
		checkText(p, path+".code", rs.Code, 128)
		checkText(p, path+".text", rs.Text, 1024)
		if i > 0 && CompareReasons(a.Reasons[i-1], rs) > 0 {
			p.add(path, "%s (%d points) must come before the previous reason %s (%d points): %s",
				rs.Code, rs.Points, a.Reasons[i-1].Code, a.Reasons[i-1].Points, ReasonOrderRule)
		}
	}
}

func (rec *Record) validate(p *reportProblems, path string) {
	checkReportID(p, path+".id", rec.ID)
	if !isSnakeCase(rec.Category) {
		p.add(path+".category", "%q is not a lowercase snake_case category", rec.Category)
	}
	if rec.Detail != nil {
		if err := checkReportDetail(rec.Detail); err != nil {
			p.add(path+".detail", "%v", err)
		}
	}
	checkText(p, path+".authority", rec.Authority, 256)
	occurred, okOccurred := checkDate(p, path+".occurred_on", rec.OccurredOn)
	switch rec.Status {
	case RecordActive, RecordRepaired, RecordExpired, RecordRemoved:
	default:
		p.add(path+".status", "%q is not one of active, repaired, expired, removed", rec.Status)
	}
	if rec.PublicityUntil != nil {
		if d, ok := checkDate(p, path+".publicity_until", *rec.PublicityUntil); ok && okOccurred && d.Before(occurred) {
			p.add(path+".publicity_until", "%s is before occurred_on %s", *rec.PublicityUntil, rec.OccurredOn)
		}
	}
	if rec.RepairedOn != nil {
		if d, ok := checkDate(p, path+".repaired_on", *rec.RepairedOn); ok && okOccurred && d.Before(occurred) {
			p.add(path+".repaired_on", "%s is before occurred_on %s", *rec.RepairedOn, rec.OccurredOn)
		}
	} else if rec.Status == RecordRepaired {
		p.add(path+".repaired_on", "missing on a repaired record")
	}
	if o := rec.Objection; o != nil {
		if o.Status != ObjectionUnder && o.Status != ObjectionRejected {
			p.add(path+".objection.status", "%q is not %q or %q", o.Status, ObjectionUnder, ObjectionRejected)
		}
		checkDate(p, path+".objection.filed_on", o.FiledOn)
		if o.DueOn != "" {
			checkDate(p, path+".objection.due_on", o.DueOn)
		}
		if o.AnsweredOn != "" {
			checkDate(p, path+".objection.answered_on", o.AnsweredOn)
		}
	}
	if rec.SAMR != nil {
		rec.SAMR.validate(p, path+".samr")
	}
	if rec.CreditChina != nil {
		rec.CreditChina.validate(p, path+".credit_china")
	}
}

func (s *Signature) validate(p *reportProblems, issuerKeyID string) {
	if s.Alg != SignatureAlg && s.Alg != SignatureAlgSM2 {
		p.add("signature.alg", "%q is not %q or %q", s.Alg, SignatureAlg, SignatureAlgSM2)
	}
	if s.KeyID != issuerKeyID {
		p.add("signature.key_id", "%q differs from issuer.key_id %q", s.KeyID, issuerKeyID)
	}
	if _, err := decodeSignatureValue(s.Alg, s.Value); err != nil {
		p.add("signature.value", "%v", err)
	}
}

// ReasonOrderRule states the order of an assessment's reasons (report.md
// "Order of reasons").
const ReasonOrderRule = "overrides (0 points) first, then by non-increasing |points|, equal ones by code"

// CompareReasons orders reasons as report.md "Order of reasons" requires:
// overrides first (the reasons with 0 points: they set the tier, not the
// score), then the reasons that moved the score by non-increasing
// |points|; reasons of equal rank by code, in byte order (Unicode code
// point order). Text is not compared. It returns a negative number when a
// comes first, a positive one when b does, 0 when either order is right.
// The engine sorts with it and Validate checks with it, so the two cannot
// disagree.
func CompareReasons(a, b Reason) int {
	if (a.Points == 0) != (b.Points == 0) {
		if a.Points == 0 {
			return -1
		}
		return 1
	}
	if x, y := absInt64(a.Points), absInt64(b.Points); x != y {
		if x > y {
			return -1
		}
		return 1
	}
	return strings.Compare(a.Code, b.Code)
}

func absInt64(v int64) uint64 {
	if v < 0 {
		return uint64(-v)
	}
	return uint64(v)
}

// checkText requires a non-empty string of at most max bytes without
// control characters.
func checkText(p *reportProblems, field, s string, max int) {
	switch {
	case s == "":
		p.add(field, "missing or empty")
	case len(s) > max:
		p.add(field, "longer than %d bytes", max)
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		p.add(field, "contains a control character")
	}
}

// checkReportID requires 1–128 bytes of printable ASCII, the rule for event
// ids (events.md), report ids and key ids.
func checkReportID(p *reportProblems, field, s string) {
	if s == "" {
		p.add(field, "missing or empty")
		return
	}
	if len(s) > 128 {
		p.add(field, "longer than 128 bytes")
		return
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			p.add(field, "%q is not printable ASCII", s)
			return
		}
	}
}

func checkInstant(p *reportProblems, field, s string) (time.Time, bool) {
	t, err := ParseInstant(s)
	if err != nil {
		p.add(field, "%v", err)
		return t, false
	}
	return t, true
}

func checkDate(p *reportProblems, field, s string) (time.Time, bool) {
	t, err := ParseDate(s)
	if err != nil {
		p.add(field, "%v", err)
		return t, false
	}
	return t, true
}

// isSnakeCase reports whether s is a lowercase ASCII snake_case word:
// [a-z][a-z0-9_]*.
func isSnakeCase(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// Parse decodes a credit-report/v1 document strictly and validates
// it (Validate), without checking its signature: use Verify for a
// report received from anyone. Unknown members are accepted and ignored, as
// the format requires of readers. The document must be valid I-JSON with
// integer numbers only (written without fraction or exponent); member names
// must match exactly, and the public edition must not carry an
// "assessment" member at all, not even null.
func Parse(raw []byte) (*Report, error) {
	r, _, err := parseReport(raw)
	return r, err
}

// parseReport is Parse that also returns the canonical bytes the
// signature covers.
func parseReport(raw []byte) (*Report, []byte, error) {
	signed, err := jcs.CanonicalizeWithout(raw, "signature")
	if err != nil {
		if errors.Is(err, jcs.ErrNotObject) {
			return nil, nil, &Error{Problems: []string{"document: not a JSON object"}}
		}
		return nil, nil, &Error{Problems: []string{"document: " + strings.TrimPrefix(err.Error(), "jcs: ")}}
	}
	if err := checkIntegerSyntax(raw); err != nil {
		return nil, nil, &Error{Problems: []string{"document: " + err.Error()}}
	}
	var generic map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, nil, &Error{Problems: []string{"document: " + err.Error()}}
	}
	var p reportProblems
	if f, ok := generic["format"].(string); ok && f != Format {
		// Say this first and alone: a v2 document is not a broken v1.
		p.add("format", "%q is not %q", f, Format)
		return nil, nil, p.err()
	}
	checkReportShape(&p, "", generic, reportShape)
	if _, ok := generic["assessment"]; ok && generic["edition"] == EditionPublic {
		p.add("assessment", "the public edition has no assessment member")
	}
	if len(p) > 0 {
		return nil, nil, p.err()
	}
	r := new(Report)
	if err := json.Unmarshal(raw, r); err != nil {
		// The shape check makes this unreachable short of an integer
		// beyond int64, which jcs has already refused.
		return nil, nil, &Error{Problems: []string{"document: " + err.Error()}}
	}
	if err := r.Validate(); err != nil {
		return nil, nil, err
	}
	return r, signed, nil
}
