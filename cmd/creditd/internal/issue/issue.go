// Package issue builds credit reports (credit-report/v1) from an entity's
// view of the engine: what each edition contains, which attributes of a
// record are public, the report id. Signing is report.Sign; serving
// is the api package's.
package issue

import (
	"crypto"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/reportid"
	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/objection"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/models/workday"
	"github.com/creditrisk/creditd/scoring"
)

// Issuer signs credit reports.
type Issuer struct {
	Code     string
	Name     string
	KeyID    string
	Priv     crypto.Signer // an ed25519.PrivateKey or a *sm2.PrivateKey
	Validity time.Duration
	// IDs makes self-verifying report ids (reportid), which the QR code's
	// verification URL relies on; nil: random ULIDs, which never verify.
	IDs *reportid.Key
	// QueryKey derives the query code printed on the reports issued to
	// their subject (objection.QueryCode, BuildForSubject); nil: no report
	// carries one and objections cannot be filed.
	QueryKey []byte
	// Calendar counts objection deadlines in working days; nil: records
	// under objection carry no due_on.
	Calendar *workday.Calendar
}

// ProvinceName names the market regulation bureau of a 2-digit province
// code ("" for an unknown code).
func ProvinceName(code string) string { return provinceNames[code] }

// provinceNames names the market regulation bureau of a 2-digit province code.
var provinceNames = map[string]string{
	"11": "北京市市场监督管理局", "12": "天津市市场监督管理局", "13": "河北省市场监督管理局", "14": "山西省市场监督管理局",
	"15": "内蒙古自治区市场监督管理局", "21": "辽宁省市场监督管理局", "22": "吉林省市场监督管理厅", "23": "黑龙江省市场监督管理局",
	"31": "上海市市场监督管理局", "32": "江苏省市场监督管理局", "33": "浙江省市场监督管理局", "34": "安徽省市场监督管理局",
	"35": "福建省市场监督管理局", "36": "江西省市场监督管理局", "37": "山东省市场监督管理局", "41": "河南省市场监督管理局",
	"42": "湖北省市场监督管理局", "43": "湖南省市场监督管理局", "44": "广东省市场监督管理局", "45": "广西壮族自治区市场监督管理局",
	"46": "海南省市场监督管理局", "50": "重庆市市场监督管理局", "51": "四川省市场监督管理局", "52": "贵州省市场监督管理局",
	"53": "云南省市场监督管理局", "54": "西藏自治区市场监督管理局", "61": "陕西省市场监督管理局", "62": "甘肃省市场监督管理局",
	"63": "青海省市场监督管理局", "64": "宁夏回族自治区市场监督管理厅", "65": "新疆维吾尔自治区市场监督管理局",
}

// detailKeys are the public attributes of each record type, copied into a
// report record's detail. Only these keys are copied: attrs may hold
// unknown members (kept but not published) and floats, which the report
// format forbids.
var detailKeys = map[event.Type][]string{
	event.TypePenalty:           {"severity", "decision_no", "amount_yuan", "penalty_types", "restriction_months", "procedure", "sector"},
	event.TypeAbnormalListed:    {"reason"},
	event.TypeDishonestListed:   {"reason"},
	event.TypeCourtDebtorListed: {"case_no"},
	event.TypeInspection:        {"plan_id", "result"},
	event.TypeAnnualReport:      {"year", "on_time"},
	event.TypeCommitmentMade:    {"commitment_no", "matter"},
	event.TypeTaxRating:         {"year", "level"},
	event.TypeHonor:             {"title", "level"},
	event.TypeComplaint:         {"substantiated"},
}

// Build builds the credit report of an entity view (made with its
// records). The public edition has no assessment (domain.md §2.1: the tier
// is an internal reference, never published). Neither edition carries a
// query code: anyone may fetch the public one (BuildForSubject's does).
func Build(v *scoring.EntityView, edition string, iss *Issuer, now time.Time) *report.Report {
	return build(v, edition, "", iss, now)
}

// ErrNoQueryKey is BuildForSubject's error when the issuer has no query
// key.
var ErrNoQueryKey = errors.New("the issuer has no query key: reports to the subject cannot carry a query code")

// BuildForSubject builds the public edition issued to the credit subject
// itself, out of band (the registration authority's front desk, 窗口:
// the subject's own credit information, which it may query free of
// charge, Shandong Social Credit Regulation Art. 37, domain.md §6.2). It
// alone carries the subject's query code (report.md "Objections"), which
// proves to the objection route (domain.md §4.8) that the filer holds a
// report issued to the subject, or was given one by it. The code is set
// before the report id is made, so the id's digest and the signature bind
// it like any member.
func BuildForSubject(v *scoring.EntityView, iss *Issuer, now time.Time) (*report.Report, error) {
	if iss.QueryKey == nil {
		return nil, ErrNoQueryKey
	}
	return build(v, report.EditionPublic, objection.QueryCode(iss.QueryKey, v.USCC), iss, now), nil
}

// build builds a report of edition with queryCode ("" for none).
func build(v *scoring.EntityView, edition, queryCode string, iss *Issuer, now time.Time) *report.Report {
	r := &report.Report{
		Format:     report.Format,
		ReportID:   iss.Code + "-" + newULID(now),
		Issuer:     report.Issuer{Code: iss.Code, Name: iss.Name, KeyID: iss.KeyID},
		Edition:    edition,
		IssuedAt:   report.Instant(now),
		ValidUntil: report.Instant(now.Add(iss.Validity)),
		Subject: report.Subject{
			USCC: v.USCC.String(), Name: v.Name, Region: v.Region, EntityType: EntityType(v.USCC),
			RegisteredOn: v.RegisteredOn.String(), Status: report.SubjectActive,
		},
		Channel:   report.EditionChannel(edition),
		Records:   []report.Record{},
		QueryCode: queryCode,
	}
	if v.Deregistered {
		r.Subject.Status = report.SubjectDeregistered
	}
	if edition == report.EditionRegulatory {
		a := &report.Assessment{AsOf: report.Instant(v.AsOf), Score: int64(v.Score), Tier: v.TierLabel,
			TierScheme: v.Scheme, Model: v.Model, Reasons: []report.Reason{}}
		for _, rs := range v.Reasons {
			a.Reasons = append(a.Reasons, report.Reason{Code: rs.Code, Text: rs.Text, Points: int64(rs.Points)})
		}
		r.Assessment = a
		r.Measures = Measures(scoring.MeasuresOf(v))
	}
	for _, rec := range v.Records {
		// A record withdrawn on an upheld objection was wrong: it is not
		// listed (domain.md §4.8).
		if rec.Status == scoring.StatusWithdrawn {
			continue
		}
		if rr, ok := buildRecord(&rec, r.Channel); ok {
			rr.Objection = recordObjection(rec.Objection, iss.Calendar)
			r.Records = append(r.Records, rr)
		}
	}
	if iss.IDs != nil {
		// The id binds the content, so it is made last. It fails only
		// where signing fails too (content RFC 8785 cannot encode), and
		// the random ULID then stays.
		if id, err := iss.IDs.ID(r, now); err == nil {
			r.ReportID = id
		}
	}
	return r
}

// Measures is the report form of an entity's measures (regulatory
// edition: report.md "Measures").
func Measures(m scoring.Measures) *report.Measures {
	out := &report.Measures{CommitmentRouteBarred: m.CommitmentBarred, BarredBy: append([]string{}, m.BarredBy...),
		ForReview: []report.CommitmentReview{}, Active: []report.Measure{}}
	for _, rv := range m.Review {
		out.ForReview = append(out.ForReview, report.CommitmentReview{RecordID: rv.Record, CommitmentNo: rv.CommitmentNo,
			Matter: rv.Matter, BreachedOn: rv.BreachedOn.String()})
	}
	for _, a := range m.Active {
		rm := report.Measure{Code: a.Code, Kind: string(a.Kind), Text: a.Text, Basis: a.Basis, Trigger: string(a.Trigger),
			RecordID: a.Record, From: a.From.String()}
		if a.Until != civil.NoDate {
			s := a.Until.String()
			rm.Until = &s
		}
		out.Active = append(out.Active, rm)
	}
	return out
}

// recordObjection is what a report shows of a record's objection, the same
// on both editions: that it is under objection (and until when the
// authority has to answer), or that it was rejected. The filer's and the
// authority's texts are not published.
func recordObjection(o *scoring.ObjectionView, cal *workday.Calendar) *report.RecordObjection {
	if o == nil || o.Status == scoring.ObjectionUpheld {
		return nil
	}
	ro := &report.RecordObjection{Status: report.ObjectionUnder, FiledOn: civil.DateOf(o.FiledAt).String()}
	if o.Status == scoring.ObjectionRejected {
		ro.Status, ro.AnsweredOn = report.ObjectionRejected, civil.DateOf(o.AnsweredAt).String()
	} else if cal != nil {
		due, _ := objection.Deadline(cal, o.FiledAt, o.Status == scoring.ObjectionReferred)
		ro.DueOn = due.String()
	}
	return ro
}

// buildRecord is a view's record in a report whose records follow
// channel; ok is false when the record is not listed. What is publicly
// visible as of the report: records in their publicity period, and
// records repaired or removed, with their status (report.md). Expired and
// never-public records are not. A penalty follows the channel's own rules
// (report.md "Channels") and carries both channels' blocks.
func buildRecord(rec *scoring.RecordView, channel string) (report.Record, bool) {
	status, until, repaired := rec.Status, rec.PublicityUntil, rec.RepairedOn
	if rec.SAMR != nil && rec.CreditChina != nil {
		c := rec.CreditChina
		if channel == report.ChannelSAMR {
			c = rec.SAMR
		}
		if c.Status == scoring.StatusNotPublished {
			return report.Record{}, false
		}
		status, until, repaired = c.Status, c.PublicityUntil, c.RepairedOn
	} else if !rec.Public {
		return report.Record{}, false
	}
	if status == scoring.StatusExpired {
		return report.Record{}, false
	}
	rr := report.Record{ID: rec.ID, Category: rec.Category.String(), Detail: recordDetail(rec),
		Authority: rec.Authority, OccurredOn: civil.DateOf(rec.OccurredAt).String(), Status: status,
		PublicityUntil: dateOrNull(until), RepairedOn: dateOrNull(repaired)}
	if rec.Transferred {
		rr.OccurredOn = rec.TransferredOn.String() // the serious listing began then
	}
	if rec.SAMR != nil && rec.CreditChina != nil {
		rr.SAMR, rr.CreditChina = ChannelStatus(rec.SAMR), ChannelStatus(rec.CreditChina)
	}
	return rr, true
}

// ChannelStatus is a record's channel view as a report's channel block.
func ChannelStatus(c *scoring.ChannelView) *report.ChannelStatus {
	return &report.ChannelStatus{Status: c.Status, PublicityUntil: dateOrNull(c.PublicityUntil),
		RepairedOn: dateOrNull(c.RepairedOn), RepairableFrom: dateOrNull(c.RepairFrom)}
}

func dateOrNull(d civil.Date) *string {
	if d == civil.NoDate {
		return nil
	}
	s := d.String()
	return &s
}

// recordDetail copies a record's public attributes.
func recordDetail(rec *scoring.RecordView) json.RawMessage {
	var attrs map[string]json.RawMessage
	_ = json.Unmarshal(rec.Attrs, &attrs)
	out := map[string]any{}
	for _, k := range detailKeys[rec.Type] {
		if v, ok := attrs[k]; ok {
			out[k] = v
		}
	}
	if rec.Outcome != "" {
		out["outcome"] = rec.Outcome
		out["outcome_on"] = civil.DateOf(rec.OutcomeAt).String()
	}
	if rec.EndedBy != "" && rec.Status == scoring.StatusRemoved {
		out["removed_on"] = civil.DateOf(rec.EndedAt).String()
		out["removed_by"] = rec.EndedBy
	}
	if rec.RepairedBy != "" {
		out["repaired_by"] = rec.RepairedBy
	}
	if rec.SAMR != nil && rec.SAMR.RepairedBy != "" {
		out["samr_repaired_by"] = rec.SAMR.RepairedBy
	}
	if rec.Transferred {
		// An enterprise's abnormal listing unresolved for 3 years, shown as
		// the serious-list record it became (domain.md §4.2, §4.3).
		delete(out, "reason")
		out["cause"] = "transferred_from_abnormal_list"
		out["abnormal_reason"] = attrs["reason"]
		out["abnormal_listed_on"] = civil.DateOf(rec.OccurredAt).String()
	}
	b, _ := json.Marshal(out)
	return b
}

// EntityType names the subject's entity type for the report.
func EntityType(c uscc.Code) string {
	if k := c.EntityKind(); k != "" {
		return k
	}
	return "type_" + strings.ToLower(string([]byte{c.RegistrationAuthority(), c.EntityType()}))
}

// newULID returns a ULID (Crockford base32 of 48-bit ms time + 80 random bits).
func newULID(t time.Time) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var b [16]byte
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint16(b[0:], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:], uint32(ms))
	_, _ = rand.Read(b[6:])
	// 128 bits → 26 base32 characters, most significant first.
	var out [26]byte
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	for i := 25; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
