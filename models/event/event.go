package event

import (
	"fmt"
	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/uscc"
	"time"
)

// Format is the format name of credit events.
const Format = "credit-event/v1"

// Type is the type of a credit event (events.md "Types").
type Type uint8

// The event types of credit-event/v1.
const (
	TypeInvalid Type = iota
	TypeRegistered
	TypeDeregistered
	TypePenalty
	TypeAbnormalListed
	TypeAbnormalRemoved
	TypeDishonestListed
	TypeDishonestRemoved
	TypeCourtDebtorListed
	TypeCourtDebtorRemoved
	TypeInspection
	TypeAnnualReport
	TypeCommitmentMade
	TypeCommitmentBreached
	TypeCommitmentFulfilled
	TypeTaxRating
	TypeHonor
	TypeComplaint
	TypeRepair
	// Objections (异议, domain.md §4.8), appended after the original types.
	TypeObjectionFiled
	TypeObjectionAnswered
	NumTypes
)

var eventTypeNames = [NumTypes]string{
	"", "registered", "deregistered", "penalty", "abnormal_listed", "abnormal_removed",
	"dishonest_listed", "dishonest_removed", "court_debtor_listed", "court_debtor_removed",
	"inspection", "annual_report", "commitment_made", "commitment_breached", "commitment_fulfilled",
	"tax_rating", "honor", "complaint", "repair",
	"objection_filed", "objection_answered",
}

// String returns the wire name of the type.
func (t Type) String() string {
	if t < NumTypes {
		return eventTypeNames[t]
	}
	return fmt.Sprintf("EventType(%d)", uint8(t))
}

// ParseType returns the type with the given wire name.
func ParseType(s string) (Type, bool) {
	for i := TypeRegistered; i < NumTypes; i++ {
		if eventTypeNames[i] == s {
			return i, true
		}
	}
	return TypeInvalid, false
}

// Types lists every valid type in wire order.
func Types() []Type {
	out := make([]Type, 0, NumTypes-1)
	for i := TypeRegistered; i < NumTypes; i++ {
		out = append(out, i)
	}
	return out
}

// RefTarget is the type of record a referencing event must point at, or
// TypeInvalid when the type carries no ref.
func (t Type) RefTarget() Type {
	switch t {
	case TypeAbnormalRemoved:
		return TypeAbnormalListed
	case TypeDishonestRemoved:
		return TypeDishonestListed
	case TypeCourtDebtorRemoved:
		return TypeCourtDebtorListed
	case TypeCommitmentBreached, TypeCommitmentFulfilled:
		return TypeCommitmentMade
	case TypeObjectionAnswered:
		return TypeObjectionFiled
	}
	return TypeInvalid
}

// Sub-codes: the enumerated attribute of each type, as a small integer
// (Event.Sub). Zero means "none".
const (
	SeverityMinor   uint8 = 1
	SeverityGeneral uint8 = 2
	SeveritySerious uint8 = 3

	AbnormalAnnualReportMissing uint8 = 1
	AbnormalNotPublicized       uint8 = 2
	AbnormalFalseInformation    uint8 = 3
	AbnormalUnreachable         uint8 = 4

	ResultNoProblem    uint8 = 1
	ResultCorrected    uint8 = 2
	ResultProblemFound uint8 = 3
	ResultRefused      uint8 = 4
	ResultUnreachable  uint8 = 5

	TaxA uint8 = 1
	TaxB uint8 = 2
	TaxM uint8 = 3
	TaxC uint8 = 4
	TaxD uint8 = 5

	HonorNational   uint8 = 1
	HonorProvincial uint8 = 2
	HonorMunicipal  uint8 = 3

	// Outcomes of objection_answered (domain.md §4.8): upheld withdraws the
	// record, rejected keeps it, referred means another unit must verify
	// (7 working days instead of 3, Shandong Art. 39) and is not final.
	OutcomeUpheld   uint8 = 1
	OutcomeRejected uint8 = 2
	OutcomeReferred uint8 = 3
)

// enumeration tables: index = sub-code.
var (
	severityNames = []string{"", "minor", "general", "serious"}
	abnormalNames = []string{"", "annual_report_missing", "not_publicized", "false_information", "unreachable_at_address"}
	resultNames   = []string{"", "no_problem", "corrected", "problem_found", "refused", "unreachable"}
	taxNames      = []string{"", "A", "B", "M", "C", "D"}
	honorNames    = []string{"", "national", "provincial", "municipal"}
	outcomeNames  = []string{"", "upheld", "rejected", "referred"}
)

// SubName returns the wire value of the enumerated attribute sub of type t,
// or "" when t has none.
func SubName(t Type, sub uint8) string {
	var tab []string
	switch t {
	case TypePenalty:
		tab = severityNames
	case TypeAbnormalListed:
		tab = abnormalNames
	case TypeInspection:
		tab = resultNames
	case TypeTaxRating:
		tab = taxNames
	case TypeHonor:
		tab = honorNames
	case TypeObjectionAnswered:
		tab = outcomeNames
	}
	if int(sub) < len(tab) {
		return tab[sub]
	}
	return ""
}

// Event is one decoded credit-event/v1. Attribute fields are filled by type;
// the enumerated attribute of the type, if any, is in Sub.
type Event struct {
	ID         string
	USCC       uscc.Code
	Exception  bool // the USCC is a listed exception that fails a check character
	Type       Type
	OccurredAt time.Time // UTC
	Authority  string
	// RawAttrs is the attrs object exactly as received (nil when absent);
	// unknown attributes are kept here and otherwise ignored.
	RawAttrs []byte

	// Sub is the enumerated attribute: severity (penalty), reason
	// (abnormal_listed), result (inspection), level (tax_rating, honor).
	Sub uint8

	Name         string     // registered
	Region       string     // registered: 6-digit division code
	RegisteredOn civil.Date // registered
	Industry     string     // registered, optional
	DecisionNo   string     // penalty
	AmountYuan   int64      // penalty, optional; -1 when absent
	Reason       string     // abnormal_listed (wire value), dishonest_listed, objection_filed ("reason"), objection_answered ("reasons") (free text)
	Ref          string     // *_removed, commitment_breached/fulfilled, repair, objection_*
	CaseNo       string     // court_debtor_listed
	PlanID       string     // inspection
	Year         int        // annual_report, tax_rating
	OnTime       bool       // annual_report
	CommitmentNo string     // commitment_made
	Matter       string     // commitment_made
	Title        string     // honor
	// Substantiated is the complaint's attribute.
	Substantiated bool
	DecidedOn     civil.Date // repair

	ownsRaw bool // RawAttrs is a copy owned by the event
}

// Reset clears e for reuse, keeping the capacity of RawAttrs when e owns
// it (not when it aliased an input line in Decoder.Borrow mode).
func (e *Event) Reset() {
	var raw []byte
	if e.ownsRaw {
		raw = e.RawAttrs[:0]
	}
	*e = Event{RawAttrs: raw, ownsRaw: raw != nil, AmountYuan: -1, RegisteredOn: civil.NoDate, DecidedOn: civil.NoDate}
}

// Clone returns a deep copy of e that does not share RawAttrs.
func (e *Event) Clone() *Event {
	c := *e
	if e.RawAttrs != nil {
		c.RawAttrs = append([]byte(nil), e.RawAttrs...)
		c.ownsRaw = true
	}
	return &c
}

// Rejection reason codes, machine-readable: one per failure class.
const (
	ReasonNotJSON       = "not_json"        // the line is not a JSON value
	ReasonNotObject     = "not_object"      // the JSON value is not an object
	ReasonMissingField  = "missing_field"   // a required member is absent
	ReasonInvalidField  = "invalid_field"   // a member has the wrong JSON type or an invalid value
	ReasonUnknownField  = "unknown_field"   // a top-level member the format does not define
	ReasonDuplicateKey  = "duplicate_field" // a member appears twice
	ReasonInvalidUSCC   = "invalid_uscc"    // the uscc fails validation (detail says how)
	ReasonUnknownType   = "unknown_type"    // type is not one of the credit-event/v1 types
	ReasonInvalidAttrs  = "invalid_attrs"   // attrs missing, not an object, or an attr of the wrong shape
	ReasonFuture        = "future_event"    // occurred_at more than 24 hours ahead of the receiver's clock
	ReasonUnknownRef    = "unknown_ref"     // ref names no record of this entity
	ReasonRefType       = "ref_wrong_type"  // ref names a record of the wrong type
	ReasonRefOrder      = "ref_time_order"  // the event occurred before the record it refers to
	ReasonAlreadyEnded  = "already_ended"   // the referenced record was already removed or repaired
	ReasonNotRepairable = "not_repairable"  // the record can never be repaired
	ReasonRepairEarly   = "repair_too_early"
	ReasonConflict      = "conflict"      // contradicts an applied event (e.g. a second registration)
	ReasonLineTooLong   = "line_too_long" // the input line exceeds the size limit
	ReasonStateFull     = "capacity"      // the store cannot take more data for this entity
)

// RejectError says why an event was rejected. Reason is one of the Reason*
// codes; Field names the offending member ("attrs.severity") when there is
// one; Detail is for people. The zero time in PossibleFrom means none.
type RejectError struct {
	Reason string
	Field  string
	Detail string
	// PossibleFrom is, for repair_too_early, the first date a repair of the
	// record is allowed.
	PossibleFrom civil.Date
}

func (e *RejectError) Error() string {
	if e.Field != "" {
		return e.Reason + ": " + e.Field + ": " + e.Detail
	}
	return e.Reason + ": " + e.Detail
}

func reject(reason, field, format string, args ...any) *RejectError {
	return &RejectError{Reason: reason, Field: field, Detail: fmt.Sprintf(format, args...)}
}
