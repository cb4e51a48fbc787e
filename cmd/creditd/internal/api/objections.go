package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creditrisk/creditd/cmd/creditd/internal/ingest"
	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/objection"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/models/workday"
	"github.com/creditrisk/creditd/scoring"
)

// Objections (异议, domain.md §4.8) over HTTP. The routes build
// objection_filed and objection_answered credit events and send them down
// the ingest path of the mode (the local write-ahead log, or the Kafka
// source topic): the objection exists once its event is durable, and it is
// replayed and snapshotted like any other event.
//
//   - POST /v1/objections (public): the credit subject, or whoever it gave
//     its report to, files an objection to one of the report's records,
//     proving it holds the report issued to the subject with that
//     report's query_code (POST /v1/reports/{uscc}/issue, regulators: the
//     front desk issues it; no report anyone can fetch carries the code).
//     The answer's objection_id is the tracking code (查询码) of the
//     objection.
//   - GET /v1/objections/{objection_id} (public): that objection's status,
//     deadline and answer; nothing else about the entity (no tier).
//   - GET /v1/objections (regulator): the queue, with deadlines in working
//     days and the overdue flag.
//   - POST /v1/objections/{objection_id}/answer (regulator): upheld,
//     rejected (with reasons), or referred (another unit must verify).

// objectionBodyMax bounds an objection request body.
const objectionBodyMax = 16 << 10

// maxReasonBytes bounds the reason texts (as events.md bounds text attrs).
const maxReasonBytes = 1024

// objectionUSCC returns the entity of an objection id.
func (s *Server) objectionUSCC(id string) (uscc.Code, bool) {
	u, ok := objection.IDUSCC(id)
	if !ok {
		return uscc.Code{}, false
	}
	c, _, err := s.exc.Parse(u)
	return c, err == nil
}

// ObjectionSink sends one credit event (a line of credit-event/v1) down
// the mode's ingest path. Local mode: nil (the Server's ingester applies
// it and the answer says applied or rejected); Kafka mode: produce it to
// the source topic keyed by its USCC (applied asynchronously).
type ObjectionSink func(ctx context.Context, key, line []byte) error

// submitEvent sends line and answers whether it was applied. In Kafka
// mode accepted is true once the brokers hold it and rej is nil: state
// checks happen at the partition's owner (dead letters on failure).
func (s *Server) submitEvent(ctx context.Context, key, line []byte) (accepted bool, rej *ingest.Rejection, err error) {
	if s.sink != nil {
		return true, nil, s.sink(ctx, key, line)
	}
	dec := event.Decoder{Exceptions: s.exc}
	res, err := s.ing.Submit(ctx, "http:"+s.NewRequestID(), []ingest.Line{ingest.DecodeLine(&dec, 1, line)})
	if err != nil {
		return false, nil, err
	}
	if len(res.Rejected) > 0 {
		return false, &res.Rejected[0], nil
	}
	return res.Applied+res.Duplicates > 0, nil, nil
}

// objectionEvent encodes an objection event line.
func objectionEvent(id string, code uscc.Code, typ event.Type, at time.Time, authority string, attrs map[string]string) []byte {
	a, _ := json.Marshal(attrs)
	b, _ := json.Marshal(struct {
		ID         string          `json:"id"`
		USCC       string          `json:"uscc"`
		Type       string          `json:"type"`
		OccurredAt string          `json:"occurred_at"`
		Authority  string          `json:"authority"`
		Attrs      json.RawMessage `json:"attrs"`
	}{id, code.String(), typ.String(), at.UTC().Format(time.RFC3339), authority, a})
	return b
}

// readJSONBody decodes a body of up to limit bytes strictly into v: one
// JSON value (whitespace around it) whose members are all v's, or the
// answer is 400 (413 over limit). The body stays readable (r.Body is
// replaced by the bytes read), so that Kafka mode can still proxy the
// request to the entity's owner.
func readJSONBody(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			writeProblem(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("body exceeds %d bytes", limit))
			return false
		}
		writeProblem(w, r, http.StatusBadRequest, "reading the body: "+err.Error())
		return false
	}
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(raw)), int64(len(raw))
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeProblem(w, r, http.StatusBadRequest, "body: "+err.Error())
		return false
	}
	// More() would pass a closing "]" or "}" after the value: anything
	// but the end of the body is refused.
	if _, err := dec.Token(); err != io.EOF {
		writeProblem(w, r, http.StatusBadRequest, "body: one JSON value expected, then the end of the body")
		return false
	}
	return true
}

func checkReasonText(w http.ResponseWriter, r *http.Request, field, v string, max int) bool {
	if strings.TrimSpace(v) == "" || len(v) > max {
		writeProblem(w, r, http.StatusBadRequest, fmt.Sprintf("%s must be 1-%d bytes of text", field, max))
		return false
	}
	return true
}

// ObjectionStatus is the public answer about one objection: its own
// status only, nothing else about the entity.
type ObjectionStatus struct {
	ObjectionID string `json:"objection_id"`
	USCC        string `json:"uscc"`
	RecordID    string `json:"record_id"`
	Category    string `json:"category"`
	Status      string `json:"status"` // pending, referred, upheld, rejected
	FiledAt     string `json:"filed_at"`
	DueOn       string `json:"due_on"` // the deadline (CST date) of the answer
	// DueProvisional: the calendar lacks a year's State Council notice
	// and the deadline assumes Monday to Friday.
	DueProvisional bool   `json:"due_provisional,omitempty"`
	ReferredAt     string `json:"referred_at,omitempty"`
	AnsweredAt     string `json:"answered_at,omitempty"`
	Answer         string `json:"answer,omitempty"` // the authority's reasons
	Overdue        bool   `json:"overdue"`
}

// QueuedObjection is one line of the regulators' queue: the public status
// plus who must answer, the filer's reason and the answering event.
type QueuedObjection struct {
	ObjectionStatus
	Authority  string `json:"authority"`
	Reason     string `json:"reason"`
	AnsweredBy string `json:"answered_by,omitempty"`
}

func (s *Server) objectionStatus(v *scoring.ObjectionView, now time.Time) ObjectionStatus {
	referred := !v.ReferredAt.IsZero()
	due, prov := objection.Deadline(s.cal, v.FiledAt, referred)
	o := ObjectionStatus{ObjectionID: v.ID, USCC: v.USCC.String(), RecordID: v.Record, Category: v.Category,
		Status: v.Status, FiledAt: report.Instant(v.FiledAt), DueOn: due.String(), DueProvisional: prov,
		Answer: v.Answer, Overdue: v.Open() && civil.DateOf(now) > due}
	if referred {
		o.ReferredAt = report.Instant(v.ReferredAt)
	}
	if !v.AnsweredAt.IsZero() {
		o.AnsweredAt = report.Instant(v.AnsweredAt)
	}
	return o
}

// handleObjectionFile serves POST /v1/objections.
func (s *Server) handleObjectionFile(w http.ResponseWriter, r *http.Request) {
	if s.notReady(w, r) {
		return
	}
	var in struct {
		USCC      string `json:"uscc"`
		QueryCode string `json:"query_code"`
		RecordID  string `json:"record_id"`
		Reason    string `json:"reason"`
	}
	if !readJSONBody(w, r, objectionBodyMax, &in) || !checkReasonText(w, r, "reason", in.Reason, maxReasonBytes) {
		return
	}
	code, _, err := s.exc.Parse(in.USCC)
	if err != nil {
		writeProblemReason(w, r, http.StatusBadRequest, event.ReasonInvalidUSCC, "uscc: "+err.Error())
		return
	}
	if s.issuer.QueryKey == nil || !objection.CheckQueryCode(s.issuer.QueryKey, code, strings.ToUpper(in.QueryCode)) {
		writeProblem(w, r, http.StatusForbidden, "query_code is not the query code of the credit report issued to "+code.String()+
			" (the registration authority issues that report to the enterprise; reports anyone can fetch carry none)")
		return
	}
	eng, ok := s.engineFor(w, r, code)
	if !ok {
		return
	}
	now := eng.Now()
	v, found := eng.Entity(code, now, true)
	var rec *scoring.RecordView
	for i := range v.Records {
		if v.Records[i].ID == in.RecordID {
			rec = &v.Records[i]
		}
	}
	// Only what the holder can see on the report can be objected to: a
	// record that is not published is answered as unknown, as if absent.
	if !found || rec == nil || !rec.Public || rec.Status == scoring.StatusExpired || rec.Status == scoring.StatusWithdrawn {
		writeProblemReason(w, r, http.StatusNotFound, event.ReasonUnknownRef, "no record "+strconv.Quote(in.RecordID)+" on the credit report of "+code.String())
		return
	}
	if rec.Objection != nil && rec.Objection.Open() {
		writeProblemReason(w, r, http.StatusConflict, event.ReasonConflict, "the record already has an open objection")
		return
	}
	id := objection.NewID(code)
	line := objectionEvent(id, code, event.TypeObjectionFiled, now, rec.Authority, map[string]string{"ref": rec.ID, "reason": in.Reason})
	s.answerSubmit(w, r, eng, code, id, line, now)
}

// answerSubmit submits an objection event and answers with the
// objection's status (201 applied, 202 accepted in Kafka mode).
func (s *Server) answerSubmit(w http.ResponseWriter, r *http.Request, eng *scoring.Engine, code uscc.Code, id string, line []byte, now time.Time) {
	accepted, rej, err := s.submitEvent(r.Context(), []byte(code.String()), line)
	switch {
	case err != nil:
		Unavailable(w, r, 5, "the event could not be written: "+err.Error()+"; nothing was recorded")
		return
	case rej != nil:
		status := http.StatusUnprocessableEntity
		if rej.Reason == event.ReasonConflict || rej.Reason == event.ReasonAlreadyEnded {
			status = http.StatusConflict
		}
		writeProblemReason(w, r, status, rej.Reason, rej.Detail)
		return
	case !accepted:
		writeProblem(w, r, http.StatusInternalServerError, "the event was neither applied nor rejected")
		return
	}
	if s.sink != nil {
		writeJSON(w, http.StatusAccepted, map[string]string{"objection_id": id, "event": string(line),
			"note": "accepted: the event is applied asynchronously by the partition's owner; GET /v1/objections/" + id + " shows it once applied"})
		return
	}
	v, ok := eng.Objection(code, id, now)
	if !ok {
		writeProblem(w, r, http.StatusInternalServerError, "the objection was applied but cannot be read back")
		return
	}
	writeJSON(w, http.StatusCreated, s.objectionStatus(&v, now))
}

// findObjection finds the objection of the {objection_id} path value, or
// answers (404, or the Kafka router's proxying) and returns ok=false. The
// request body is not read: a proxied request keeps it.
func (s *Server) findObjection(w http.ResponseWriter, r *http.Request) (eng *scoring.Engine, code uscc.Code, v scoring.ObjectionView, now time.Time, ok bool) {
	if s.notReady(w, r) {
		return
	}
	id := r.PathValue("objection_id")
	if code, ok = s.objectionUSCC(id); !ok {
		writeProblem(w, r, http.StatusNotFound, "no such objection")
		return
	}
	if eng, ok = s.engineFor(w, r, code); !ok {
		return
	}
	now = eng.Now()
	if v, ok = eng.Objection(code, id, now); !ok {
		writeProblem(w, r, http.StatusNotFound, "no such objection")
	}
	return
}

// handleObjectionGet serves GET /v1/objections/{objection_id}.
func (s *Server) handleObjectionGet(w http.ResponseWriter, r *http.Request) {
	if _, _, v, now, ok := s.findObjection(w, r); ok {
		writeJSON(w, http.StatusOK, s.objectionStatus(&v, now))
	}
}

// ObjectionQueue is the GET /v1/objections answer.
type ObjectionQueue struct {
	AsOf       string            `json:"as_of"`
	Open       int               `json:"open"`
	Overdue    int               `json:"overdue"`
	Truncated  bool              `json:"truncated"`
	Calendar   string            `json:"calendar"`
	Objections []QueuedObjection `json:"objections"`
}

// objectionQueueMax bounds the objections one answer lists.
const objectionQueueMax = 10000

// handleObjectionQueue serves GET /v1/objections: open objections by
// deadline (?status=all adds the answered ones; ?overdue=true keeps the
// overdue ones). In Kafka mode it lists the partitions this instance holds.
func (s *Server) handleObjectionQueue(w http.ResponseWriter, r *http.Request) {
	if s.notReady(w, r) {
		return
	}
	q := r.URL.Query()
	all := false
	switch q.Get("status") {
	case "", "open":
	case "all":
		all = true
	default:
		writeProblem(w, r, http.StatusBadRequest, "status must be open or all")
		return
	}
	onlyOverdue := q.Get("overdue") == "true" || q.Get("overdue") == "1"
	now := s.nowFor()
	out := ObjectionQueue{AsOf: report.Instant(now), Calendar: "Chinese working days with make-up workdays (" + workday.Source() + ")",
		Objections: []QueuedObjection{}}
	err := s.eachObjection(r.Context(), now, !all, func(v *scoring.ObjectionView) error {
		st := s.objectionStatus(v, now)
		if v.Open() {
			out.Open++
		}
		if st.Overdue {
			out.Overdue++
		}
		if onlyOverdue && !st.Overdue {
			return nil
		}
		if len(out.Objections) >= objectionQueueMax {
			out.Truncated = true
			return nil
		}
		out.Objections = append(out.Objections, QueuedObjection{ObjectionStatus: st, Authority: v.Authority, Reason: v.Reason, AnsweredBy: v.AnsweredBy})
		return nil
	})
	if err != nil {
		writeProblem(w, r, http.StatusServiceUnavailable, err.Error())
		return
	}
	slices.SortFunc(out.Objections, func(a, b QueuedObjection) int {
		if c := strings.Compare(a.DueOn, b.DueOn); c != 0 {
			return c
		}
		return strings.Compare(a.ObjectionID, b.ObjectionID)
	})
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) eachObjection(ctx context.Context, now time.Time, openOnly bool, fn func(*scoring.ObjectionView) error) error {
	for _, eng := range s.engines() {
		if err := eng.Objections(ctx, now, openOnly, fn); err != nil {
			return err
		}
	}
	return nil
}

// handleObjectionAnswer serves POST /v1/objections/{objection_id}/answer.
func (s *Server) handleObjectionAnswer(w http.ResponseWriter, r *http.Request) {
	eng, code, v, now, ok := s.findObjection(w, r)
	if !ok {
		return
	}
	id := v.ID
	var in struct {
		Outcome string `json:"outcome"`
		Reasons string `json:"reasons"`
	}
	if !readJSONBody(w, r, objectionBodyMax, &in) || !checkReasonText(w, r, "reasons", in.Reasons, maxReasonBytes) {
		return
	}
	if in.Outcome != "upheld" && in.Outcome != "rejected" && in.Outcome != "referred" {
		writeProblem(w, r, http.StatusBadRequest, "outcome must be upheld, rejected or referred")
		return
	}
	if !v.Open() {
		writeProblemReason(w, r, http.StatusConflict, event.ReasonAlreadyEnded, "the objection was already answered "+v.Status)
		return
	}
	line := objectionEvent(id+"-"+objection.RandomCode()[:8], code, event.TypeObjectionAnswered, now, v.Authority,
		map[string]string{"ref": id, "outcome": in.Outcome, "reasons": in.Reasons})
	s.answerSubmit(w, r, eng, code, id, line, now)
}

// registerObjectionMetrics adds creditd_objections_open and
// creditd_objections_overdue, computed at each scrape.
func (s *Server) registerObjectionMetrics() {
	count := func(overdue bool) func() float64 {
		return func() float64 {
			now := s.nowFor()
			n := 0
			_ = s.eachObjection(context.Background(), now, true, func(v *scoring.ObjectionView) error {
				if !overdue || s.objectionStatus(v, now).Overdue {
					n++
				}
				return nil
			})
			return float64(n)
		}
	}
	_ = s.m.Registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "creditd_objections_open",
		Help: "Objections to credit records awaiting their final answer (domain.md §4.8)."}, count(false)))
	_ = s.m.Registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "creditd_objections_overdue",
		Help: "Open objections past their deadline of 3 working days, 7 when referred (Shandong Social Credit Regulation Art. 39)."}, count(true)))
}
