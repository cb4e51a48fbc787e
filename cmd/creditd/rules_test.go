package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/report"
)

// TestRecordRulesOverHTTP: events with the penalty attributes of
// events.md pass through HTTP ingest; each report edition follows its
// channel (report.md "Channels"), with both channels' blocks; the
// province rules follow --scheme (Shandong drops simple-procedure
// penalties, Art. 13); a SAMR repair of a restriction is refused (Order 45
// Art. 14); GET /v1/notices lists the transfer announcement (domain.md
// §4.2) for regulators only.
func TestRecordRulesOverHTTP(t *testing.T) {
	for _, scheme := range []string{"national-4", "shandong-5"} {
		t.Run(scheme, func(t *testing.T) {
			s := startService(t, filepath.Join(t.TempDir(), "data"), "--scheme", scheme)
			now := time.Now()
			code := testUSCC(900)
			at := func(days int) civil.Date { return civil.DateOf(now.Add(-time.Duration(days) * 24 * time.Hour)) }
			evs := []string{
				// 1: general fine with a 6-year employment restriction, food sector, ordinary procedure.
				`penalty|30|{"severity":"general","decision_no":"济市监罚〔2026〕90号","amount_yuan":50000,"penalty_types":["fine","employment_restriction"],"restriction_months":72,"procedure":"ordinary","sector":"food"}`,
				// 2: a simple-procedure fine.
				`penalty|10|{"severity":"general","decision_no":"济市监简罚〔2026〕91号","amount_yuan":200,"penalty_types":["fine"],"procedure":"simple"}`,
				// 3: an abnormal listing 1080 days old: its 3-year mark is 15–16 days ahead, inside the 60-day notice window.
				`abnormal_listed|1080|{"reason":"annual_report_missing"}`,
			}
			if res, c := s.postEvents(api.RoleSource, eventLines(code, now, evs...)); c != 200 || res.Applied != 4 || len(res.Rejected) > 0 {
				t.Fatalf("post: %d %+v", c, res)
			}
			// A SAMR early stop of a 限制从业 is never allowed (Art. 14 para. 3).
			rep := fmt.Sprintf(`{"id":"%s-R","uscc":"%s","type":"repair","occurred_at":"%s","authority":"济南市市场监督管理局","attrs":{"ref":"%s-1","decided_on":"%s","channel":"samr"}}`+"\n",
				code, code, now.UTC().Format(time.RFC3339), code, at(0))
			if res, c := s.postEvents(api.RoleSource, []byte(rep)); c != 200 || len(res.Rejected) != 1 || res.Rejected[0].Reason != "not_repairable" {
				t.Fatalf("SAMR repair of a restriction: %d %+v", c, res)
			}
			d1 := at(30)
			samrUntil, ccUntil := d1.AddMonths(72)-1, d1.AddYears(1)-1 // Art. 13 restriction period; Credit China 2026 general 1 year
			if scheme == "shandong-5" {
				samrUntil = d1.AddYears(5) - 1 // Shandong Art. 38: 5 years at most
			}
			for _, ed := range []struct {
				query, channel string
				role           api.Role
				simpleShown    bool
			}{
				{"", report.ChannelCreditChina, api.RolePublic, scheme == "national-4"},
				{"?edition=regulatory", report.ChannelSAMR, api.RoleRegulator, false},
			} {
				resp, raw := s.do("GET", "/v1/reports/"+code+ed.query, ed.role, nil)
				if resp.StatusCode != 200 {
					t.Fatalf("report%s: %d %s", ed.query, resp.StatusCode, raw)
				}
				r, err := report.Parse(raw)
				if err != nil {
					t.Fatal(err)
				}
				if r.Channel != ed.channel {
					t.Errorf("report%s: channel %q, want %q", ed.query, r.Channel, ed.channel)
				}
				byID := map[string]report.Record{}
				for _, rec := range r.Records {
					byID[rec.ID] = rec
				}
				p := byID[code+"-1"]
				if p.SAMR == nil || p.CreditChina == nil || p.SAMR.Status != "active" || *p.SAMR.PublicityUntil != samrUntil.String() ||
					p.SAMR.RepairableFrom != nil || *p.CreditChina.PublicityUntil != ccUntil.String() {
					t.Errorf("report%s: penalty 1 %+v samr %+v cc %+v", ed.query, p, p.SAMR, p.CreditChina)
				}
				want := ccUntil
				if ed.channel == report.ChannelSAMR {
					want = samrUntil
				}
				if p.PublicityUntil == nil || *p.PublicityUntil != want.String() {
					t.Errorf("report%s: penalty 1 publicity_until %v, want %s", ed.query, p.PublicityUntil, want)
				}
				var detail map[string]any
				_ = json.Unmarshal(p.Detail, &detail)
				if detail["sector"] != "food" || detail["procedure"] != "ordinary" || fmt.Sprint(detail["penalty_types"]) != "[fine employment_restriction]" {
					t.Errorf("report%s: penalty 1 detail %s", ed.query, p.Detail)
				}
				if _, ok := byID[code+"-2"]; ok != ed.simpleShown {
					t.Errorf("report%s: simple-procedure penalty shown %v, want %v", ed.query, ok, ed.simpleShown)
				}
				if a := byID[code+"-3"]; a.Category != "abnormal_list" || a.Status != "active" {
					t.Errorf("report%s: abnormal listing %+v", ed.query, a)
				}
				if ed.query == "" {
					if err := checkPublicReport(raw); err != nil {
						t.Error(err)
					}
				}
			}
			// The regulators' entity view carries the channels too.
			resp, raw := s.do("GET", "/v1/entities/"+code+"?records=1", api.RoleRegulator, nil)
			var ent struct {
				History []struct {
					ID   string                `json:"id"`
					SAMR *report.ChannelStatus `json:"samr"`
				} `json:"history"`
			}
			if resp.StatusCode != 200 || json.Unmarshal(raw, &ent) != nil {
				t.Fatalf("entity: %d %s", resp.StatusCode, raw)
			}
			for _, h := range ent.History {
				if h.ID == code+"-1" && (h.SAMR == nil || *h.SAMR.PublicityUntil != samrUntil.String()) {
					t.Errorf("entity history: penalty 1 samr %+v", h.SAMR)
				}
			}
			resp, raw = s.do("GET", "/v1/notices?region_prefix=3701", api.RoleRegulator, nil)
			var doc api.NoticesDoc
			if resp.StatusCode != 200 || json.Unmarshal(raw, &doc) != nil || len(doc.Notices) != 1 {
				t.Fatalf("notices: %d %s", resp.StatusCode, raw)
			}
			n, listed := doc.Notices[0], at(1080)
			if n.RecordID != code+"-3" || n.USCC != code || n.ListedOn != listed.String() || n.TransferOn != listed.AddYears(3).String() ||
				n.NoticeOn != (listed.AddYears(3)-60).String() || n.Kind != "abnormal_to_serious_transfer" {
				t.Errorf("notice %+v", n)
			}
			for _, role := range []api.Role{api.RolePublic, api.RoleSource, api.RolePeer} {
				if resp, _ := s.do("GET", "/v1/notices", role, nil); resp.StatusCode != 401 && resp.StatusCode != 403 {
					t.Errorf("notices as %v: %d", role, resp.StatusCode)
				}
			}
		})
	}
}
