package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/reportid"
	"github.com/creditrisk/creditd/cmd/creditd/internal/reportverify"
	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/record"
	"github.com/creditrisk/creditd/models/report"
)

// The enterprise's pages are public: they show only what the public
// edition of the report holds (records, status, publicity dates) and what
// the public rules derive from it (repair eligibility). No tier, score or
// assessment ever reaches them (domain.md §2.1: the tier is internal).

// handleHome is the console's start page: the report lookup.
func (c *Console) handleHome(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("home.title")
	c.render(w, v, http.StatusOK, "home", nil)
}

// normUSCC trims and upper-cases a typed USCC; the API checks it.
func normUSCC(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// reportView is the enterprise report page's data.
type reportView struct {
	USCC    string
	Report  *report.Report
	Records []recordRow
	JSON    string
	// VerifyURL is the report's verification URL (the one its printed QR
	// code holds, reportid.URL), relative to this service; "" unsigned.
	VerifyURL string
}

// recordRow is one record with its repair eligibility.
type recordRow struct {
	report.Record
	CategoryLabel string
	StatusLabel   string
	Detail        []kv
	Repair        repairInfo
}

type kv struct{ K, V string }

// repairInfo is what the public rules say about repairing one record.
type repairInfo struct {
	Applies    bool   // a negative record that is still in effect
	Repairable bool   // can be repaired at all
	From       string // first date repair is possible
	Until      string // last date ("" no limit)
	Now        bool   // possible today
	Need       string // what is needed (message)
	How        string // how to apply (message)
	Why        string // why not repairable
}

// handleReport shows an entity's public report.
func (c *Console) handleReport(w http.ResponseWriter, r *http.Request, v *View) {
	code := normUSCC(r.URL.Query().Get("uscc"))
	v.Title = v.T("report.title")
	if code == "" {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	rep, raw, err := c.publicReport(r, code)
	if err != nil {
		c.render(w, v, http.StatusNotFound, "home", map[string]any{"USCC": code, "Error": err.Error()})
		return
	}
	today := civil.DateOf(c.o.Now())
	rv := reportView{USCC: rep.Subject.USCC, Report: rep, JSON: string(raw)}
	for _, rec := range rep.Records {
		rv.Records = append(rv.Records, recordRow{Record: rec, CategoryLabel: v.T("cat." + rec.Category),
			StatusLabel: v.T("status." + rec.Status), Detail: detailRows(v, rec.Detail), Repair: repairFor(v, &rec, rep.Channel, today)})
	}
	if rep.Signature != nil {
		rv.VerifyURL, _ = reportid.URL("", rep)
	}
	v.Title = rep.Subject.Name + " · " + v.T("report.title")
	c.render(w, v, http.StatusOK, "report", rv)
}

// publicReport fetches the signed public edition as an anonymous caller.
func (c *Console) publicReport(r *http.Request, code string) (*report.Report, []byte, error) {
	a := c.call(r.Context(), http.MethodGet, "/v1/reports/"+urlPathEscape(code), "", nil)
	if a.Status != http.StatusOK {
		return nil, nil, errors.New(a.problem())
	}
	var rep report.Report
	if err := json.Unmarshal(a.Body, &rep); err != nil {
		return nil, nil, err
	}
	if rep.Edition != report.EditionPublic || rep.Assessment != nil {
		return nil, nil, errors.New("not a public edition") // never shown: the API gives the public one
	}
	return &rep, a.Body, nil
}

// handleDownload sends the signed JSON as a file.
func (c *Console) handleDownload(w http.ResponseWriter, r *http.Request, v *View) {
	code := normUSCC(r.URL.Query().Get("uscc"))
	_, raw, err := c.publicReport(r, code)
	if err != nil {
		c.fail(w, r, v, http.StatusNotFound, "err.noreport", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="credit-report-`+code+`.json"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(raw)))
	_, _ = w.Write(raw)
}

// detailRows lists a record's public detail members.
func detailRows(v *View, raw json.RawMessage) []kv {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	var out []kv
	for _, k := range []string{"severity", "decision_no", "amount_yuan", "penalty_types", "restriction_months", "procedure", "sector",
		"reason", "case_no", "plan_id", "result", "year",
		"on_time", "commitment_no", "matter", "level", "title", "outcome", "outcome_on", "removed_on", "repaired_by"} {
		val, ok := m[k]
		if !ok {
			continue
		}
		if l, ok := v.attrLabel(k, val); ok {
			out = append(out, kv{v.T("field." + k), l})
			continue
		}
		s := strings.TrimSpace(strings.Trim(jsonText(val), `"`))
		if t := v.T("val." + s); t != "val."+s {
			s = t
		}
		out = append(out, kv{v.T("field." + k), s})
	}
	return out
}

// attrLabel shows an enumerated penalty attribute (a string, or a list of
// them for penalty_types) in the view's language (models/event.AttrLabel);
// ok is false if any value has no label.
func (v *View) attrLabel(key string, x any) (string, bool) {
	var vals []any
	switch x := x.(type) {
	case string:
		vals = []any{x}
	case []any:
		vals = x
	default:
		return "", false
	}
	out := make([]string, 0, len(vals))
	for _, e := range vals {
		s, _ := e.(string)
		zh, en, ok := event.AttrLabel(key, s)
		if !ok {
			return "", false
		}
		out = append(out, map[bool]string{true: en, false: zh}[v.Lang == "en"])
	}
	sep := "、"
	if v.Lang == "en" {
		sep = ", "
	}
	return strings.Join(out, sep), len(out) > 0
}

func jsonText(x any) string {
	b, _ := json.Marshal(x)
	return string(b)
}

// subKeys are the detail members holding each type's enumerated attribute.
var subKeys = map[event.Type]string{event.TypePenalty: "severity", event.TypeAbnormalListed: "reason",
	event.TypeInspection: "result", event.TypeTaxRating: "level", event.TypeHonor: "level"}

// typeOf maps a report category back to its event type and sub-code.
func typeOf(rec *report.Record) (event.Type, uint8, map[string]any, bool) {
	var detail map[string]any
	_ = json.Unmarshal(rec.Detail, &detail)
	for t := event.Type(0); t < 64; t++ {
		if c := record.CategoryOf(t); c == record.CatNone || c.String() != rec.Category {
			continue
		}
		var sub uint8
		if k, ok := subKeys[t]; ok {
			name, _ := detail[k].(string)
			for s := uint8(1); s < 8; s++ {
				if event.SubName(t, s) == name && name != "" {
					sub = s
				}
			}
		}
		return t, sub, detail, true
	}
	return 0, 0, detail, false
}

// repairFor shows a record's repair eligibility as of today. A penalty's
// comes from its channel block (report.md "Channels"): the service's
// channel rules (models/record, domain.md §5) own the date and the console
// does not recompute it; the block of the report's channel is shown here,
// both channels' in the record's channel table. Other records have no
// channel blocks and take the same rules from models/record.
func repairFor(v *View, rec *report.Record, channel string, today civil.Date) repairInfo {
	t, sub, detail, ok := typeOf(rec)
	if !ok || rec.Status != report.RecordActive {
		return repairInfo{}
	}
	if t == event.TypePenalty {
		return penaltyRepair(v, rec, channel, today)
	}
	on, err := civil.ParseDate(rec.OccurredOn)
	if err != nil {
		return repairInfo{}
	}
	rule := record.RuleFor(t, sub, on)
	if t == event.TypeCommitmentMade {
		if detail["outcome"] != "breached" {
			return repairInfo{}
		}
		at, err := civil.ParseDate(strings.Trim(jsonText(detail["outcome_on"]), `"`))
		if err != nil {
			return repairInfo{}
		}
		rule = record.BreachRule(at) // a breached commitment is dishonesty information (domain.md §4.6)
	}
	if !rule.Negative {
		return repairInfo{}
	}
	info := repairInfo{Applies: true, Repairable: rule.Repairable}
	if !rule.Repairable {
		info.Why = v.T("repair.never." + rec.Category)
		if info.Why == "repair.never."+rec.Category {
			info.Why = rule.NotRepairable
		}
		return info
	}
	info.From = rule.RepairFrom.String()
	if rule.RepairUntil != civil.NoDate {
		info.Until = rule.RepairUntil.String()
	}
	info.Now = today >= rule.RepairFrom && (rule.RepairUntil == civil.NoDate || today <= rule.RepairUntil)
	info.Need = v.T("repair.need." + rec.Category)
	info.How = v.T("repair.how." + rec.Category)
	return info
}

// penaltyRepair reads a penalty's repair eligibility from the channel
// block of the report's channel (SAMR's when the report names none).
func penaltyRepair(v *View, rec *report.Record, channel string, today civil.Date) repairInfo {
	blk := rec.SAMR
	if channel == report.ChannelCreditChina {
		blk = rec.CreditChina
	}
	if blk == nil || blk.Status != report.RecordActive {
		return repairInfo{}
	}
	info := repairInfo{Applies: true}
	if blk.RepairableFrom == nil {
		info.Why = v.T("repair.never.penalty")
		return info
	}
	from, err := civil.ParseDate(*blk.RepairableFrom)
	if err != nil {
		return repairInfo{}
	}
	info.Repairable, info.From, info.Now = true, from.String(), today >= from
	info.Need, info.How = v.T("repair.need.penalty"), v.T("repair.how.penalty")
	return info
}

// check is one step of a verification and its result.
type check struct {
	Name   string
	OK     bool
	Done   bool // false: not reached
	Detail string
}

// verifyView is the verifier page's data.
type verifyView struct {
	Checks  []check
	OK      bool
	Subject string
	USCC    string
	Edition string
	Valid   string
	Posted  bool
	Error   string
}

// handleVerifyForm shows the report verifier.
func (c *Console) handleVerifyForm(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("verify.title")
	c.render(w, v, http.StatusOK, "verify", verifyView{})
}

// handleVerify verifies an uploaded (or pasted) report file against this
// service's keys and shows each check (reportverify, the independent
// verifier written from the spec).
func (c *Console) handleVerify(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("verify.title")
	raw, err := formFile(r, "report", "report_text")
	if err != nil {
		c.render(w, v, http.StatusBadRequest, "verify", verifyView{Posted: true, Error: v.T("verify.nofile")})
		return
	}
	keys := c.call(r.Context(), http.MethodGet, "/v1/keys", "", nil)
	c.render(w, v, http.StatusOK, "verify", verifyReport(v, raw, keys.Body, c.o.Now()))
}

// verifyReport runs the checks of report.md in order; the first failure
// ends the run and the rest are shown as not reached.
func verifyReport(v *View, raw, keys []byte, now time.Time) verifyView {
	out := verifyView{Posted: true}
	names := []string{"check.json", "check.format", "check.key", "check.signature", "check.validity"}
	var doc struct {
		Format    string `json:"format"`
		Edition   string `json:"edition"`
		Valid     string `json:"valid_until"`
		Subject   struct{ USCC, Name string }
		Signature *struct {
			KeyID string `json:"key_id"`
		} `json:"signature"`
	}
	var ks struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	_ = json.Unmarshal(keys, &ks)
	step := 0
	fail := func(detail string) verifyView {
		for i, n := range names {
			out.Checks = append(out.Checks, check{Name: v.T(n), Done: i <= step, OK: i < step, Detail: map[bool]string{true: detail}[i == step]})
		}
		return out
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fail(err.Error())
	}
	out.Subject, out.USCC, out.Edition, out.Valid = doc.Subject.Name, doc.Subject.USCC, doc.Edition, doc.Valid
	step++
	if doc.Format != report.Format || doc.Edition != report.EditionPublic && doc.Edition != report.EditionRegulatory {
		return fail(v.T("check.format.bad"))
	}
	step++
	known := false
	for _, k := range ks.Keys {
		known = known || doc.Signature != nil && k.Kid == doc.Signature.KeyID
	}
	if !known {
		return fail(v.T("check.key.unknown"))
	}
	step++
	// Verify checks the signature, then valid_until: "expired" means the
	// signature held.
	_, err := reportverify.Verify(raw, keys, now)
	if err != nil && err.Error() != "expired" {
		return fail(err.Error())
	}
	step++
	if err != nil {
		return fail(v.T("check.validity.expired"))
	}
	step++
	out.OK = true
	return fail("")
}
