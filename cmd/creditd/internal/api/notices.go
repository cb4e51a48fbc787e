package api

import (
	"net/http"

	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/scoring"
)

// NoticesDoc is the GET /v1/notices document: the announcements due on
// the as_of day before enterprises' abnormal listings, unresolved for 3
// years, move to the serious illegal and dishonest list (domain.md §4.2:
// within the 60 days before the 3-year mark).
type NoticesDoc struct {
	AsOf         string   `json:"as_of"`
	RegionPrefix string   `json:"region_prefix"`
	Notices      []Notice `json:"notices"`
}

// Notice is one transfer announcement.
type Notice struct {
	Kind       string `json:"kind"` // "abnormal_to_serious_transfer"
	USCC       string `json:"uscc"`
	Region     string `json:"region"`
	RecordID   string `json:"record_id"`
	Authority  string `json:"authority"`
	Reason     string `json:"reason"`
	ListedOn   string `json:"listed_on"`
	NoticeOn   string `json:"notice_on"`   // first day of the 60-day announcement window
	TransferOn string `json:"transfer_on"` // the day it becomes a serious listing unless resolved before
}

// handleNotices answers GET /v1/notices (regulators): the transfer notices
// due on the as_of day, from this process's engines (in Kafka mode, the
// partitions this member holds).
func (s *Server) handleNotices(w http.ResponseWriter, r *http.Request) {
	at, prefix, ok := s.regionQuery(w, r)
	if !ok {
		return
	}
	doc := NoticesDoc{AsOf: report.Instant(at), RegionPrefix: prefix, Notices: []Notice{}}
	for _, eng := range s.engines() {
		ns, err := eng.Notices(r.Context(), at, prefix)
		if err != nil {
			writeProblem(w, r, http.StatusServiceUnavailable, err.Error())
			return
		}
		for _, n := range ns {
			doc.Notices = append(doc.Notices, notice(n))
		}
	}
	writeJSON(w, http.StatusOK, doc)
}

func notice(n scoring.TransferNotice) Notice {
	return Notice{Kind: "abnormal_to_serious_transfer", USCC: n.USCC.String(), Region: n.Region, RecordID: n.RecordID,
		Authority: n.Authority, Reason: n.Reason, ListedOn: n.ListedOn.String(), NoticeOn: n.NoticeOn.String(),
		TransferOn: n.TransferOn.String()}
}
