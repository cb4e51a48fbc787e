package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/monitor"
	"github.com/creditrisk/creditd/cmd/creditd/internal/testlines"
	chsink "github.com/creditrisk/creditd/feeds/clickhouse"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
)

// Champion / challenger and drift in the service (domain.md §8). The
// models are written by the tests from the built-in national-4 model, so
// they follow whatever cut-offs it has:
//   - the champion is the built-in model with a reference distribution
//     (hand-chosen test data: the built-in artifacts carry none, see
//     scoring/models/MODEL.md), so its drift is measured;
//   - the challenger is the built-in model at a PDO of 27 instead of 40
//     (every feature's points scaled by 40/27), without a reference.

// testReference is the champion's reference in these tests.
var testReference = &testlines.Reference

func testModels(t *testing.T) (champ, chall *scoring.Model) { return testlines.ChallengerModels(t) }

// challengerCase is a test's models (written to dir), events and the
// answers of independent engines of both models fed the events.
type challengerCase struct {
	champPath, challPath string
	lines                [][]byte
	a, b                 *scoring.Engine // champion, challenger
	codes                []uscc.Code
}

func newChallengerCase(t *testing.T, dir string, entities, days int, seed uint64) *challengerCase {
	t.Helper()
	champ, chall := testModels(t)
	c := &challengerCase{champPath: writeModel(t, dir, champ), challPath: writeModel(t, dir, chall),
		lines: genLines(t, entities, days, seed, 0)}
	c.a, c.codes = replayWith(t, champ, c.lines)
	c.b, _ = replayWith(t, chall, c.lines)
	return c
}

func writeModel(t *testing.T, dir string, m *scoring.Model) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, m.ID+".json")
	if err := os.WriteFile(p, b, 0o640); err != nil {
		t.Fatal(err)
	}
	return p
}

// replayWith applies lines to an engine of model m, as the service does.
func replayWith(t *testing.T, m *scoring.Model, lines [][]byte) (*scoring.Engine, []uscc.Code) {
	t.Helper()
	eng, err := scoring.New(scoring.Options{Model: m})
	if err != nil {
		t.Fatal(err)
	}
	d := event.Decoder{}
	seen := map[uscc.Code]bool{}
	var codes []uscc.Code
	now := time.Now()
	for _, l := range lines {
		var ev event.Event
		if d.Decode(l, &ev) != nil {
			continue
		}
		if _, err := eng.ApplyAt(&ev, now, true, nil); err == nil && !seen[ev.USCC] {
			seen[ev.USCC] = true
			codes = append(codes, ev.USCC)
		}
	}
	return eng, codes
}

// challengerDoc polls GET /v1/stats/challenger until a scan counts
// entities entities.
func challengerDoc(t *testing.T, s *service, entities int64) *monitor.Doc {
	t.Helper()
	var d monitor.Doc
	waitUntil(t, "a monitoring scan of every entity", 60*time.Second, func() bool {
		resp, b := s.do("GET", "/v1/stats/challenger", api.RoleRegulator, nil)
		if resp.StatusCode != 200 {
			return false
		}
		d = monitor.Doc{}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		return d.Entities == entities
	})
	return &d
}

// wantMonitoring works out, from engines of the champion (a) and the
// challenger (b) fed the same events, what the scan must show: per-tier
// counts, the agreement matrix entity by entity, the challenger's
// inspections and problems found (TierStats of b: the tier just before
// each inspection), and the champion's PSI by the formula of domain.md §8
// over the reference's bands.
func checkMonitoring(t *testing.T, d *monitor.Doc, a, b *scoring.Engine, codes []uscc.Code) {
	t.Helper()
	now := time.Now()
	agree := [][]int64{make([]int64, 4), make([]int64, 4), make([]int64, 4), make([]int64, 4)}
	bands := make([]float64, 5)
	var n int64
	for _, c := range codes {
		va, _ := a.Entity(c, now, false)
		vb, _ := b.Entity(c, now, false)
		if !va.Registered || va.Deregistered {
			continue
		}
		n++
		agree[va.Tier][vb.Tier]++
		band := 0
		for band < 4 && int32(va.Score) >= testReference.Edges[band] {
			band++
		}
		bands[band]++
	}
	if d.Entities != n || !reflect.DeepEqual(d.Agreement.Counts, agree) {
		t.Fatalf("scan: %d entities, agreement %v; want %d, %v", d.Entities, d.Agreement.Counts, n, agree)
	}
	disagree := n
	for i := range 4 {
		disagree -= agree[i][i]
	}
	if disagree == 0 || d.Agreement.Agreeing != n-disagree {
		t.Fatalf("%d entities disagree (agreeing %d): the test cannot tell the models apart", disagree, d.Agreement.Agreeing)
	}
	st, err := b.TierStats(context.Background(), now, "")
	if err != nil {
		t.Fatal(err)
	}
	inspections := 0
	for i, l := range st.Tiers {
		ct := d.Challenger.Tiers[i]
		if ct.Tier != l.Tier || ct.Entities != int64(l.Entities) || *ct.Inspections != int64(l.Inspections) ||
			*ct.ProblemsFound != int64(l.Found) || *ct.Adverse != int64(l.Adverse) {
			t.Errorf("challenger tier %+v, challenger engine %+v", ct, l)
		}
		inspections += l.Inspections
		if l.Inspections > 0 {
			// The hit rate counts findings (models/event.Finding: Adverse),
			// the definition model fit and eval use, not problems found.
			rate := float64(l.Adverse) / float64(l.Inspections)
			if ct.HitRate == nil || math.Abs(*ct.HitRate-rate) > 1e-12 || !(*ct.HitRateLow <= rate && rate <= *ct.HitRateHigh) ||
				*ct.HitRateLow < 0 || *ct.HitRateHigh > 1 {
				t.Errorf("tier %s hit rate %v [%v, %v], want %v inside", l.Tier, ct.HitRate, ct.HitRateLow, ct.HitRateHigh, rate)
			}
		} else if ct.HitRate != nil {
			t.Errorf("tier %s: hit rate without inspections", l.Tier)
		}
	}
	if inspections == 0 {
		t.Fatal("no inspections: hit rates untested")
	}
	psi := 0.0
	for i, c := range bands {
		act, exp := max(c/float64(n), 1e-4), max(testReference.Shares[i], 1e-4)
		psi += (act - exp) * math.Log(act/exp)
	}
	if dd := d.Champion.Drift; dd.PSI == nil || math.Abs(*dd.PSI-psi) > 1e-9 || dd.Level != monitor.Level(psi) {
		t.Fatalf("champion drift %+v, want PSI %v", dd, psi)
	}
	if dd := d.Challenger.Drift; dd.PSI != nil || dd.Reference != nil || !strings.Contains(dd.Note, "no reference") {
		t.Fatalf("challenger without a reference: drift %+v", dd)
	}
}

// scrapePSI returns creditd_score_psi by model label from /metrics.
func scrapePSI(t *testing.T, s *service) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	if f, ok := scrapeFamilies(t, s)["creditd_score_psi"]; ok {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "model" {
					out[l.GetValue()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	return out
}

// checkChallengerMetrics checks the regulator-only metrics page against
// the scan, and that it is refused to everyone else.
func checkChallengerMetrics(t *testing.T, s *service, d *monitor.Doc) {
	t.Helper()
	for _, role := range []api.Role{api.RolePublic, api.RolePeer, api.RoleSource} {
		if resp, _ := s.do("GET", "/v1/stats/challenger/metrics", role, nil); resp.StatusCode != 401 && resp.StatusCode != 403 {
			t.Errorf("challenger metrics as %s: %d", role, resp.StatusCode)
		}
	}
	resp, body := s.do("GET", "/v1/stats/challenger/metrics", api.RoleRegulator, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("challenger metrics: %d", resp.StatusCode)
	}
	tp := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := tp.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, m := range fams["creditd_challenger_entities"].GetMetric() {
		got[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
	}
	for _, tl := range d.Challenger.Tiers {
		if got[tl.Tier] != float64(tl.Entities) {
			t.Errorf("creditd_challenger_entities{challenger_tier=%q} = %v, scan %d", tl.Tier, got[tl.Tier], tl.Entities)
		}
	}
	if n := len(fams["creditd_challenger_agreement_entities"].GetMetric()); n != 16 {
		t.Errorf("%d agreement series, want 4×4", n)
	}
	// The public /metrics has no tier-labelled series of the challenger.
	for name := range scrapeFamilies(t, s) {
		if strings.HasPrefix(name, "creditd_challenger_") {
			t.Errorf("public /metrics exports %s", name)
		}
	}
}

// Local mode: the scan served to regulators equals what independent
// engines of both models compute; the PSI is scraped from /metrics; a
// restart with the challenger as --model (promotion) restores the
// champion's snapshot into exactly the challenger's tiers, and a restart
// with the champion again restores the champion's.
func TestChallengerAndDriftLocal(t *testing.T) {
	dir := t.TempDir()
	tc := newChallengerCase(t, dir, 400, 500, 77)
	champPath, challPath, lines, a, b, codes := tc.champPath, tc.challPath, tc.lines, tc.a, tc.b, tc.codes
	data := filepath.Join(dir, "data")
	s := startService(t, data, "--model", champPath, "--challenger", challPath, "--monitor-interval", "100ms")
	if res, code := s.postEvents(api.RoleSource, joinLines(lines)); code != 200 || len(res.Rejected) != 0 {
		t.Fatalf("post: %d %+v", code, res)
	}
	var st statsAnswer
	_, sb := s.do("GET", "/v1/stats/tiers", api.RoleRegulator, nil)
	if err := json.Unmarshal(sb, &st); err != nil {
		t.Fatal(err)
	}
	d := challengerDoc(t, s, int64(st.Entities))
	checkMonitoring(t, d, a, b, codes)
	for i, l := range st.Tiers {
		if d.Champion.Tiers[i].Entities != int64(l.Entities) {
			t.Errorf("champion tier %s: scan %d, /v1/stats/tiers %d", l.Tier, d.Champion.Tiers[i].Entities, l.Entities)
		}
	}
	psi := scrapePSI(t, s)
	if _, ok := psi["challenger"]; ok || math.Abs(psi["champion"]-*d.Champion.Drift.PSI) > 1e-12 {
		t.Fatalf("creditd_score_psi %v, scan %v (challenger has no reference: no series)", psi, *d.Champion.Drift.PSI)
	}
	checkChallengerMetrics(t, s, d)
	s.stop()

	// Promotion: restart with the challenger as the model.
	tiersOf := func(s *service) statsAnswer {
		var st statsAnswer
		resp, b := s.do("GET", "/v1/stats/tiers", api.RoleRegulator, nil)
		if resp.StatusCode != 200 || json.Unmarshal(b, &st) != nil {
			t.Fatalf("tiers: %d %s", resp.StatusCode, b)
		}
		return st
	}
	p := startService(t, data, "--model", challPath, "--monitor-interval", "100ms")
	for i, l := range tiersOf(p).Tiers {
		ct := d.Challenger.Tiers[i]
		if int64(l.Entities) != ct.Entities || int64(l.Inspections) != *ct.Inspections || int64(l.ProblemsFound) != *ct.ProblemsFound {
			t.Errorf("promoted tier %s: %d entities, %d inspections, %d found; the challenger in shadow had %d, %d, %d",
				l.Tier, l.Entities, l.Inspections, l.ProblemsFound, ct.Entities, *ct.Inspections, *ct.ProblemsFound)
		}
	}
	pd := challengerDoc(t, p, d.Entities)
	if pd.Challenger != nil || pd.Agreement != nil || pd.Champion.Model != d.Challenger.Model || pd.Champion.Drift.PSI != nil {
		t.Fatalf("promoted service's scan: %+v", pd)
	}
	if _, ok := scrapePSI(t, p)["champion"]; ok {
		t.Fatal("a PSI series for a model without a reference")
	}
	p.stop()
	// And back: the champion's snapshot, written under the challenger,
	// restores the champion's tiers.
	r := startService(t, data, "--model", champPath)
	for i, l := range tiersOf(r).Tiers {
		if int64(l.Entities) != d.Champion.Tiers[i].Entities {
			t.Errorf("restored champion tier %s: %d, before %d", l.Tier, l.Entities, d.Champion.Tiers[i].Entities)
		}
	}
}

// Kafka mode: the members' scans summed over every partition equal the
// independent engines' answer.
func TestChallengerAndDriftKafka(t *testing.T) {
	dir := t.TempDir()
	tc := newChallengerCase(t, dir, 300, 400, 78)
	champPath, challPath, lines, a, b, codes := tc.champPath, tc.challPath, tc.lines, tc.a, tc.b, tc.codes
	c := newKafkaCluster(t)
	data := filepath.Join(dir, "data")
	sharedTokens(t, data)
	s := startService(t, data, kafkaArgs(c, data, "--model", champPath, "--challenger", challPath, "--monitor-interval", "100ms")...)
	produceLines(t, c.ListenAddrs(), lines)
	var st statsAnswer
	waitUntil(t, "every event applied", 60*time.Second, func() bool {
		resp, sb := s.do("GET", "/v1/stats/tiers", api.RoleRegulator, nil)
		st = statsAnswer{}
		return resp.StatusCode == 200 && json.Unmarshal(sb, &st) == nil && st.Entities > 0 && int64(st.Entities) == countPopulation(a, codes)
	})
	d := challengerDoc(t, s, int64(st.Entities))
	if len(d.Partitions) != kafkaTestParts {
		t.Fatalf("scan covers partitions %v", d.Partitions)
	}
	checkMonitoring(t, d, a, b, codes)
	if psi := scrapePSI(t, s); math.Abs(psi["champion"]-*d.Champion.Drift.PSI) > 1e-12 {
		t.Fatalf("creditd_score_psi %v, scan %v", psi, *d.Champion.Drift.PSI)
	}
	checkChallengerMetrics(t, s, d)
}

// tierEntities is the population /v1/stats/tiers counts.
func tierEntities(t *testing.T, s *service) int64 {
	t.Helper()
	var st statsAnswer
	resp, b := s.do("GET", "/v1/stats/tiers", api.RoleRegulator, nil)
	if resp.StatusCode != 200 || json.Unmarshal(b, &st) != nil {
		t.Fatalf("tiers: %d %s", resp.StatusCode, b)
	}
	return int64(st.Entities)
}

func countPopulation(e *scoring.Engine, codes []uscc.Code) int64 {
	var n int64
	for _, c := range codes {
		if v, _ := e.Entity(c, time.Now(), false); v.Registered && !v.Deregistered {
			n++
		}
	}
	return n
}

// volatile are a report's per-issue members: a new id, instant (also the
// assessment's as_of: a report is always as of its issue), expiry and
// signature each time one is issued.
var volatile = regexp.MustCompile(`"(report_id|issued_at|valid_until|as_of)":"[^"]*"|"signature":\{[^}]*\}`)

// The challenger changes no report and no draw: two services fed the same
// events with the same key, one with --challenger, issue byte-identical
// reports (but for the per-issue id, instant, expiry and signature) in
// both editions (the signed JSON; the HTML page renders it), and draw
// from the same strata (population and sample per tier).
func TestChallengerLeavesReportsAndDraws(t *testing.T) {
	dir := t.TempDir()
	_, chall := testModels(t)
	challPath := writeModel(t, dir, chall)
	lines := genLines(t, 300, 400, 79, 0)
	with := startService(t, filepath.Join(dir, "with"), "--challenger", challPath, "--monitor-interval", "50ms")
	keys := filepath.Join(dir, "without", "keys")
	if err := os.MkdirAll(keys, 0o750); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(dir, "with", "keys", "signing.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(keys, "signing.pem"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	without := startService(t, filepath.Join(dir, "without"))
	_, codes := replayWith(t, chall, lines)
	for _, s := range []*service{with, without} {
		if res, code := s.postEvents(api.RoleSource, joinLines(lines)); code != 200 || len(res.Rejected) != 0 {
			t.Fatalf("post: %d %+v", code, res)
		}
	}
	challengerDoc(t, with, tierEntities(t, with)) // the challenger has scanned everything
	for _, c := range codes[:60] {
		for _, ed := range []struct {
			q    string
			role api.Role
		}{{"", api.RolePublic}, {"?edition=regulatory", api.RoleRegulator}} {
			r1, b1 := with.do("GET", "/v1/reports/"+c.String()+ed.q, ed.role, nil)
			r2, b2 := without.do("GET", "/v1/reports/"+c.String()+ed.q, ed.role, nil)
			if r1.StatusCode != r2.StatusCode {
				t.Fatalf("%s%s: %d with the challenger, %d without", c, ed.q, r1.StatusCode, r2.StatusCode)
			}
			v1, v2 := volatile.ReplaceAll(b1, nil), volatile.ReplaceAll(b2, nil)
			if !bytes.Equal(v1, v2) {
				t.Fatalf("%s%s differs with the challenger:\n%s\n%s", c, ed.q, b1, b2)
			}
			if r1.StatusCode == 200 && bytes.Equal(v1, b1) {
				t.Fatalf("%s%s: no per-issue member found to ignore: %s", c, ed.q, b1)
			}
		}
	}
	seed := "00112233445566778899aabbccddeeff"
	var selected [2]string
	for _, s := range []*service{with, without} {
		commitSeed(t, s, "37-T-1", seed)
	}
	asOf := nextSecond()
	for i, s := range []*service{with, without} {
		resp, rb := s.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(drawRequest("37-T-1", seed, asOf, 0)))
		if resp.StatusCode != 201 {
			t.Fatalf("draw: %d %s", resp.StatusCode, rb)
		}
		// The selection itself differs between any two instances (draw/v2
		// blinds each with a key of its own); what the tiers decide must not.
		var rec struct {
			Strata     json.RawMessage `json:"tier_strata"`
			Population int             `json:"population_size"`
			Sample     int             `json:"sample_size"`
		}
		if err := json.Unmarshal(rb, &rec); err != nil || rec.Sample == 0 || len(rec.Strata) < 10 {
			t.Fatalf("draw record: %v %s", err, rb)
		}
		sel, _ := json.Marshal(rec)
		selected[i] = string(sel)
	}
	if selected[0] != selected[1] {
		t.Fatalf("draws differ with the challenger:\n%s\n%s", selected[0], selected[1])
	}
}

// The drift alerts fire at the documented PSI thresholds (scoring.PSIWatch
// and scoring.PSIAlert): the numbers in docs/ops/alerts.yml are theirs.
func TestDriftAlertThresholds(t *testing.T) {
	exprs := alertExprs(t)
	want := map[string]string{
		"CreditdModelDrift":         fmt.Sprintf("(creditd_score_psi) >= %v < %v", scoring.PSIWatch, scoring.PSIAlert),
		"CreditdModelDriftCritical": fmt.Sprintf("(creditd_score_psi) >= %v", scoring.PSIAlert),
	}
	for name, w := range want {
		if e, ok := exprs[name]; !ok || !strings.HasSuffix(strings.TrimSpace(e), w) {
			t.Errorf("alert %s: expr %q, want it to end with %q", name, e, w)
		}
	}
}

// With ClickHouse: every scan's score bands, agreement matrix and
// challenger tiers land in score_bands, challenger_agreement and
// challenger_tiers, and GET /v1/stats/tiers/history shows this month's
// PSI of the champion equal to the scan's.
func TestChallengerInClickHouse(t *testing.T) {
	addr := clickhouseAddr(t)
	db := fmt.Sprintf("creditd_chall_%d", time.Now().UnixNano())
	dir := t.TempDir()
	tc := newChallengerCase(t, dir, 300, 400, 80)
	s := startService(t, filepath.Join(dir, "data"), "--clickhouse-dsn", "clickhouse://"+addr+"/"+db, "--model", tc.champPath,
		"--challenger", tc.challPath, "--monitor-interval", "200ms")
	if res, code := s.postEvents(api.RoleSource, joinLines(tc.lines)); code != 200 || len(res.Rejected) != 0 {
		t.Fatalf("post: %d %+v", code, res)
	}
	d := challengerDoc(t, s, tierEntities(t, s))
	var th chsink.TierHistory
	waitUntil(t, "this month's psi in the tier history", 60*time.Second, func() bool {
		resp, b := s.do("GET", "/v1/stats/tiers/history", api.RoleRegulator, nil)
		th = chsink.TierHistory{}
		if resp.StatusCode != 200 || json.Unmarshal(b, &th) != nil || len(th.Series) == 0 {
			return false
		}
		ms := th.Series[0].Months
		return ms[len(ms)-1].PSI != nil
	})
	ms := th.Series[0].Months
	if got := *ms[len(ms)-1].PSI; math.Abs(got-*d.Champion.Drift.PSI) > 1e-12 || th.PSIModel != d.Champion.Model {
		t.Fatalf("tier history psi %v of %s, scan %v of %s", got, th.PSIModel, *d.Champion.Drift.PSI, d.Champion.Model)
	}
	if ms[0].PSI != nil {
		t.Fatalf("a psi for %s, a month without a scan", ms[0].Month)
	}
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, ReadTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	defer func() { _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db) }()
	latest := func(query string, scan func(rows interface{ Scan(...any) error }) error) {
		rows, err := conn.Query(context.Background(), query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				t.Fatal(err)
			}
		}
	}
	agree := map[[2]string]uint64{}
	latest(`SELECT champion_tier, challenger_tier, argMax(entities, toUInt64(scanned_at) * 1000 + scanned_ms)
		FROM `+db+`.challenger_agreement FINAL WHERE part = 'local' GROUP BY champion_tier, challenger_tier`,
		func(rows interface{ Scan(...any) error }) error {
			var a, b string
			var n uint64
			err := rows.Scan(&a, &b, &n)
			agree[[2]string{a, b}] = n
			return err
		})
	for i, row := range d.Agreement.Counts {
		for j, n := range row {
			if k := [2]string{d.Agreement.ChampionTiers[i], d.Agreement.ChallengerTiers[j]}; agree[k] != uint64(n) {
				t.Errorf("challenger_agreement %v: %d, scan %d", k, agree[k], n)
			}
		}
	}
	found := map[string]uint64{}
	latest(`SELECT tier, argMax(problems_found, toUInt64(scanned_at) * 1000 + scanned_ms) FROM `+db+`.challenger_tiers FINAL
		WHERE part = 'local' GROUP BY tier`, func(rows interface{ Scan(...any) error }) error {
		var tier string
		var n uint64
		err := rows.Scan(&tier, &n)
		found[tier] = n
		return err
	})
	for _, l := range d.Challenger.Tiers {
		if found[l.Tier] != uint64(*l.ProblemsFound) {
			t.Errorf("challenger_tiers %s: %d problems found, scan %d", l.Tier, found[l.Tier], *l.ProblemsFound)
		}
	}
}
