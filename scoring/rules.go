package scoring

import (
	"encoding/json"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/record"
	"github.com/creditrisk/creditd/models/uscc"
)

// Record rules that need more of a record than its type and sub-code:
// the penalty attributes (events.md "Penalty attributes") and the
// province's record.Config.
//
// A penalty's attributes are stored without growing storedRecord (64
// bytes, pointer-free): the penalty types in the low 13 bits of pen and
// the sector in its top 3, the restriction period in year (which only
// annual reports and tax ratings use otherwise), the simple procedure in
// flags. The fine's amount is read from the stored attrs when a SAMR rule
// needs it (repairs and record views, never the score).

// record flags beyond store.go's
const (
	recSimple = 1 << 3 // penalty under the simple procedure (简易程序)
)

const (
	penTypeBits  = 13
	penTypeMask  = 1<<penTypeBits - 1
	penSectorSft = penTypeBits
)

// setPenalty stores a penalty event's attributes in r.
func setPenalty(r *storedRecord, ev *event.Event) {
	r.pen = uint16(ev.PenaltyTypes)&penTypeMask | uint16(ev.Sector)<<penSectorSft
	r.year = ev.RestrictionMonths
	if ev.Procedure == event.ProcedureSimple {
		r.flags |= recSimple
	}
}

// penaltyOf returns what the rules need to know about penalty record r;
// withAmount reads the fine's amount from the stored attrs (else -1).
func penaltyOf(s *shard, r *storedRecord, withAmount bool) record.Penalty {
	p := record.Penalty{Severity: r.sub, Types: event.PenaltyType(r.pen & penTypeMask),
		RestrictionMonths: r.year, Sector: uint8(r.pen >> penSectorSft), AmountYuan: -1}
	if r.flags&recSimple != 0 {
		p.Procedure = event.ProcedureSimple
	}
	if withAmount && p.Types&event.PenFine != 0 {
		var a struct {
			Amount *int64 `json:"amount_yuan"`
		}
		if json.Unmarshal(blobField(s.bytes(r.strOff, r.strLen), 2), &a) == nil && a.Amount != nil {
			p.AmountYuan = *a.Amount
		}
	}
	return p
}

// individual reports whether code is an individual business (个体工商户:
// registration authority 9, entity type 2; domain.md §1.5), whose
// abnormal operation is a status, not a listing, and never moves to the
// serious list (§4.2, §5.3).
func individual(code uscc.Packed) bool {
	c := code.Unpack()
	return c.RegistrationAuthority() == '9' && c.EntityType() == '2'
}

// transferOn is the day an enterprise's abnormal listing dated on moves to
// the serious illegal and dishonest list when still unresolved (3 years,
// domain.md §4.2, §4.3), and noticeOn the first day of the 60 days before
// it in which the authority announces it.
func transferOn(on civil.Date) civil.Date { return on.AddYears(record.AbnormalToSeriousYears) }

// NoticeDays is how many days before the transfer its announcement is due
// (domain.md §4.2: "within the 60 days before the 3-year mark").
const NoticeDays = 60

func noticeOn(on civil.Date) civil.Date { return transferOn(on) - NoticeDays }
