package api

import (
	"bufio"
	"encoding/json"
	"net/http"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/scoring"
)

// GET /v1/measures/changes?since=RFC3339: the joint-measure changes
// (联合惩戒 / 守信激励, domain.md §4.3, §4.6, §4.7) for other departments,
// as NDJSON: one line per measure that started or ended in (since, as_of],
// entity by entity, each entity's lines in time order. The answer's
// Creditd-As-Of header is the since of the next call. Measures follow
// public records only, never the tier (models/measure). In Kafka mode it
// covers the partitions this instance holds.
//
// The feed is computed from the state, so it costs one pass over the
// entities with records per call: poll it (hourly, daily), do not stream
// it.

// MeasureChangeLine is one line of the feed.
type MeasureChangeLine struct {
	USCC     string  `json:"uscc"`
	At       string  `json:"at"`     // instant
	Change   string  `json:"change"` // "start" or "end"
	Code     string  `json:"code"`
	Kind     string  `json:"kind"`
	Text     string  `json:"text"`
	Basis    string  `json:"basis"`
	Trigger  string  `json:"trigger"`
	RecordID string  `json:"record_id"`
	Until    *string `json:"until,omitempty"` // starts: the measure's last day when known
}

func (s *Server) handleMeasureChanges(w http.ResponseWriter, r *http.Request) {
	if s.notReady(w, r) {
		return
	}
	v := r.URL.Query().Get("since")
	if v == "" {
		writeProblem(w, r, http.StatusBadRequest, "since (RFC 3339) is required")
		return
	}
	since, err := civil.ParseInstant(v)
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, "since: "+err.Error())
		return
	}
	now := s.nowFor().UTC().Truncate(time.Second)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Creditd-As-Of", report.Instant(now))
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, eng := range s.engines() {
		for part := range eng.Shards() {
			for _, code := range eng.CodesWithRecords(part) {
				if r.Context().Err() != nil {
					return
				}
				ev, ok := eng.Entity(code, now, true)
				if !ok {
					continue
				}
				for _, c := range scoring.MeasureChanges(&ev, since) {
					line := MeasureChangeLine{USCC: c.USCC.String(), At: report.Instant(c.At), Change: c.Change,
						Code: c.Measure.Code, Kind: string(c.Measure.Kind), Text: c.Measure.Text, Basis: c.Measure.Basis,
						Trigger: string(c.Trigger), RecordID: c.Record}
					if c.Until != civil.NoDate {
						u := c.Until.String()
						line.Until = &u
					}
					if enc.Encode(line) != nil {
						return
					}
				}
			}
		}
	}
	_ = bw.Flush()
}
