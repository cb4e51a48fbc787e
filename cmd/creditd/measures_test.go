package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/models/report"
)

// The commitment bar and the joint measures (domain.md §4.3, §4.6, §4.7)
// over HTTP: on the entity view and the regulatory edition, not on the
// public edition; and the change feed other departments read.
func TestMeasuresOverHTTP(t *testing.T) {
	s := startService(t, t.TempDir())
	const c = "91350100M000100Y43"
	events := []string{
		`{"id":"M-R","uscc":"` + c + `","type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"n","region":"350100","registered_on":"2020-01-01"}}`,
		`{"id":"M-C1","uscc":"` + c + `","type":"commitment_made","occurred_at":"2026-01-10T00:00:00Z","authority":"FZ-AMR","attrs":{"commitment_no":"CN-1","matter":"食品经营许可"}}`,
		`{"id":"M-C1B","uscc":"` + c + `","type":"commitment_breached","occurred_at":"2026-03-02T00:00:00Z","authority":"FZ-AMR","attrs":{"ref":"M-C1"}}`,
		`{"id":"M-H1","uscc":"` + c + `","type":"honor","occurred_at":"2026-05-20T00:00:00Z","authority":"FZ-AMR","attrs":{"title":"守合同重信用","level":"provincial"}}`,
	}
	if res, code := s.postEvents(api.RoleSource, []byte(strings.Join(events, "\n")+"\n")); code != 200 || res.Applied != 4 {
		t.Fatalf("setup: %d %+v", code, res)
	}
	_, b := s.do("GET", "/v1/entities/"+c, api.RolePeer, nil)
	var ent api.Entity
	if err := json.Unmarshal(b, &ent); err != nil {
		t.Fatal(err)
	}
	m := ent.Measures
	if m == nil || !m.CommitmentRouteBarred || len(m.BarredBy) != 1 || m.BarredBy[0] != "M-C1" ||
		len(m.ForReview) != 1 || m.ForReview[0].Matter != "食品经营许可" || m.ForReview[0].BreachedOn != "2026-03-02" {
		t.Fatalf("entity measures: %s", b)
	}
	codes := map[string]bool{}
	for _, a := range m.Active {
		codes[a.Code+"/"+a.Kind] = true
	}
	if len(codes) != 4 || !codes["no_commitment_route/restriction"] || !codes["green_channel/incentive"] || !codes["fewer_checks/incentive"] {
		t.Fatalf("active measures: %v", codes)
	}
	_, b = s.do("GET", "/v1/reports/"+c+"?edition=regulatory", api.RoleRegulator, nil)
	rep, err := report.Parse(b)
	if err != nil || rep.Measures == nil || !rep.Measures.CommitmentRouteBarred || len(rep.Measures.Active) != 4 {
		t.Fatalf("regulatory edition: %v %s", err, b)
	}
	_, b = s.do("GET", "/v1/reports/"+c, api.RolePublic, nil)
	if err := checkPublicReport(b); err != nil || bytes.Contains(b, []byte(`"measures"`)) {
		t.Fatalf("public edition: %v", err)
	}
	// The feed since 1 March 2026: the breach's bar (2 March, CST) and the
	// honour's three incentives (20 May).
	resp, b := s.do("GET", "/v1/measures/changes?since=2026-03-01T00:00:00Z", api.RolePeer, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Creditd-As-Of") == "" {
		t.Fatalf("feed: %d %s", resp.StatusCode, b)
	}
	var got []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var l api.MeasureChangeLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		got = append(got, l.At+" "+l.Change+" "+l.RecordID+":"+l.Code)
	}
	want := []string{"2026-03-01T16:00:00Z start M-C1:no_commitment_route",
		"2026-05-19T16:00:00Z start M-H1:green_channel", "2026-05-19T16:00:00Z start M-H1:accept_with_materials_pending",
		"2026-05-19T16:00:00Z start M-H1:fewer_checks"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("feed:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// After the breach is repaired the bar is lifted, and the feed says so.
	rep1 := `{"id":"M-RP","uscc":"` + c + `","type":"repair","occurred_at":"2026-09-10T00:00:00Z","authority":"FZ-AMR","attrs":{"ref":"M-C1B","decided_on":"2026-09-10"}}`
	if res, code := s.postEvents(api.RoleSource, []byte(rep1+"\n")); code != 200 || res.Applied != 1 {
		t.Fatalf("repair: %d %+v", code, res)
	}
	_, b = s.do("GET", "/v1/entities/"+c, api.RoleRegulator, nil)
	if err := json.Unmarshal(b, &ent); err != nil || ent.Measures.CommitmentRouteBarred || len(ent.Measures.ForReview) != 0 {
		t.Fatalf("after repair: %s", b)
	}
	_, b = s.do("GET", "/v1/measures/changes?since=2026-09-01T00:00:00Z", api.RoleRegulator, nil)
	if !bytes.Contains(b, []byte(`"change":"end"`)) || !bytes.Contains(b, []byte(`"record_id":"M-C1"`)) {
		t.Fatalf("feed after repair: %s", b)
	}
}
