// Package objection holds the rules of objections (异议) to credit records
// that need no engine state: the answer deadline in Chinese working days
// (Shandong Social Credit Regulation Art. 39, domain.md §4.8), overdue
// status, and the query code printed on the credit report issued to the
// subject itself that lets the holder of that report file an objection.
package objection

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/models/workday"
)

// Working days the source authority has to decide (Shandong Social Credit
// Regulation Art. 39, domain.md §4.8 and §9 item 25).
const (
	// Days is the limit when the objection is within the receiving unit's
	// remit.
	Days = 3
	// VerifyDays is the limit when another unit must help verify (the
	// objection was referred).
	VerifyDays = 7
)

// Deadline is the last day (CST) on which an objection filed at filed
// must be answered: the Days-th working day after the filing's date, or
// the VerifyDays-th when referred. The day of filing is not counted (民法典
// Art. 201). provisional is true when the calendar lacks the State
// Council's notice for a day counted (the deadline assumes Monday to
// Friday there).
func Deadline(cal *workday.Calendar, filed time.Time, referred bool) (due civil.Date, provisional bool) {
	n := Days
	if referred {
		n = VerifyDays
	}
	from := civil.DateOf(filed)
	due = cal.Add(from, n)
	return due, !cal.Covered(from) || !cal.Covered(due)
}

// Overdue reports whether an objection still open at now is past its
// deadline: now's date (CST) is after the deadline's day.
func Overdue(cal *workday.Calendar, filed time.Time, referred bool, now time.Time) bool {
	due, _ := Deadline(cal, filed, referred)
	return civil.DateOf(now) > due
}

// QueryCodeLen is the length of a query code.
const QueryCodeLen = 16

// queryCodeDomain separates query codes from any other use of the key.
// v1 codes were printed on every report, public ones included, so anyone
// could have taken one; v2 codes are printed only on the reports issued
// to the subject (report.md "Changes"), and the new domain voids every v1
// code.
const queryCodeDomain = "creditd/query-code/v2\x00"

var b32 = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// QueryCode returns the query code of entity c under key: the first 80
// bits of HMAC-SHA256(key, domain ‖ USCC) in Crockford base32, 16
// characters. It is printed only on the reports issued to the entity
// itself (never on one anyone may fetch) and proves that a caller holds
// one of them; it is the same on every such report while the key is the
// same.
func QueryCode(key []byte, c uscc.Code) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(queryCodeDomain))
	m.Write([]byte(c.String()))
	return b32.EncodeToString(m.Sum(nil)[:10])
}

// CheckQueryCode reports whether code is c's query code under key
// (constant time).
func CheckQueryCode(key []byte, c uscc.Code, code string) bool {
	return len(code) == QueryCodeLen && hmac.Equal([]byte(QueryCode(key, c)), []byte(code))
}

// IDPrefix starts every objection id: OBJ-<USCC>-<16 random base32
// characters>. The id names its entity (and so its Kafka partition) and
// cannot be guessed (80 random bits): it is the objection's tracking code
// (查询码, as Credit China's provincial portals give, domain.md §5.2).
const IDPrefix = "OBJ-"

// NewID returns a new objection id of entity c.
func NewID(c uscc.Code) string { return IDPrefix + c.String() + "-" + RandomCode() }

// RandomCode returns 16 random base32 characters.
func RandomCode() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return b32.EncodeToString(b[:])
}

// IDUSCC returns the USCC part of an objection id ("" and false when id is
// not of the form NewID makes).
func IDUSCC(id string) (string, bool) {
	rest, ok := strings.CutPrefix(id, IDPrefix)
	if !ok || len(rest) != 18+1+QueryCodeLen || rest[18] != '-' {
		return "", false
	}
	return rest[:18], true
}
