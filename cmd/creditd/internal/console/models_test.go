package console

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/monitor"
)

// latestScan polls GET /v1/stats/challenger until the first scan is done.
func (h *harness) latestScan(t *testing.T) *monitor.Doc {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/v1/stats/challenger", nil)
		req.Header.Set("Authorization", "Bearer "+h.regToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var d monitor.Doc
		err = json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && err == nil {
			return &d
		}
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("GET /v1/stats/challenger: %d %v", resp.StatusCode, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The model monitoring page with a challenger shows both model ids, the
// champion's PSI with its level (worked out here from the scan with the
// 0.1/0.25 thresholds), every cell of the agreement matrix with its
// share, the challenger's tiers and the hit rates of both models; the
// challenger has no reference, so its drift is said to be unmeasurable.
func TestModelsPageChallenger(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{withChallenger: true})
	c := h.client(t)
	h.signIn(t, c)
	d := h.latestScan(t)
	if d.Challenger == nil || d.Champion.Drift.PSI == nil {
		t.Fatalf("scan without challenger or champion PSI: %+v", d)
	}
	code, page := h.get(t, c, "/console/reg/models?lang=en")
	if code != http.StatusOK {
		t.Fatalf("models page: %d", code)
	}
	psi := *d.Champion.Drift.PSI
	want := "stable"
	switch {
	case psi >= 0.25:
		want = "critical"
	case psi >= 0.1:
		want = "watch"
	}
	for _, s := range []string{d.Champion.Model, "national-4-pdo27", `class="psi-value">` + strconv.FormatFloat(psi, 'f', 4, 64) + "<",
		`level-` + d.Champion.Drift.Level + `">` + want + "<", `id="agreement-table"`, "Challenger tier distribution",
		"cannot be computed", `id="hit-table"`} {
		if !strings.Contains(page, s) {
			t.Errorf("the page lacks %q", s)
		}
	}
	// the matrix: each cell's count and share of all entities, in order
	cells := regexp.MustCompile(`<td class="heat-\d( agree)?">(\d+)<br><span class="small">([0-9.]+%)</span>`).FindAllStringSubmatch(page, -1)
	var flat []int64
	for _, row := range d.Agreement.Counts {
		flat = append(flat, row...)
	}
	if len(cells) != len(flat) {
		t.Fatalf("%d matrix cells, scan %d", len(cells), len(flat))
	}
	for i, m := range cells {
		n, _ := strconv.ParseInt(m[2], 10, 64)
		share := strconv.FormatFloat(100*float64(flat[i])/float64(d.Entities), 'f', 1, 64) + "%"
		if n != flat[i] || m[3] != share {
			t.Errorf("cell %d: %s %s, scan %d (%s)", i, m[2], m[3], flat[i], share)
		}
		i, j := i/len(d.Agreement.ChallengerTiers), i%len(d.Agreement.ChallengerTiers)
		if agree := m[1] != ""; agree != (d.Agreement.ChampionTiers[i] == d.Agreement.ChallengerTiers[j]) {
			t.Errorf("cell %d,%d marked agreeing %v", i, j, agree)
		}
	}
	// the challenger's hit rates with their intervals, as the scan has them
	for _, tl := range d.Challenger.Tiers {
		if tl.HitRate != nil && !strings.Contains(page, pct(*tl.HitRateLow)+" – "+pct(*tl.HitRateHigh)) {
			t.Errorf("challenger tier %s: interval %s – %s not shown", tl.Tier, pct(*tl.HitRateLow), pct(*tl.HitRateHigh))
		}
	}
	// Chinese by default
	_, zh := h.get(t, c, "/console/reg/models?lang=zh")
	if !strings.Contains(zh, "冠军与挑战者分类一致性") {
		t.Error("the Chinese page lacks the agreement heading")
	}
	// the dashboard's card
	_, dash := h.get(t, c, "/console/reg/")
	if !strings.Contains(dash, `id="models-card"`) || !strings.Contains(dash, "national-4-pdo27") {
		t.Error("the dashboard has no model monitoring card naming the challenger")
	}
}

// Without --challenger the page says so plainly and shows the PSI part
// only: the built-in model carries its training reference, so the
// champion's drift is shown. Anonymous visitors are sent to sign in.
func TestModelsPageNoChallenger(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	if code, _ := h.get(t, c, "/console/reg/models"); code != http.StatusSeeOther {
		t.Errorf("anonymous: %d, want a redirect to sign in", code)
	}
	h.signIn(t, c)
	d := h.latestScan(t)
	if d.Champion.Drift.PSI == nil {
		t.Fatalf("the built-in model's drift was not computed: %+v", d.Champion.Drift)
	}
	_, page := h.get(t, c, "/console/reg/models?lang=en")
	psi := `class="psi-value">` + strconv.FormatFloat(*d.Champion.Drift.PSI, 'f', 4, 64) + "<"
	for _, s := range []string{`id="no-challenger"`, "started without --challenger", `id="psi-champion"`, psi} {
		if !strings.Contains(page, s) {
			t.Errorf("the page lacks %q", s)
		}
	}
	for _, s := range []string{`id="agreement-table"`, `id="psi-challenger"`, "cannot be computed"} {
		if strings.Contains(page, s) {
			t.Errorf("the page without a challenger has %q", s)
		}
	}
}

// A model artifact without a reference (one fitted before references, or
// written by hand) has no drift: the page says why instead of a number.
func TestModelsPageNoReference(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{noReference: true})
	c := h.client(t)
	h.signIn(t, c)
	h.latestScan(t)
	_, page := h.get(t, c, "/console/reg/models?lang=en")
	for _, s := range []string{`id="no-challenger"`, "cannot be computed", "not computable"} {
		if !strings.Contains(page, s) {
			t.Errorf("the page lacks %q", s)
		}
	}
	if strings.Contains(page, `class="psi-value"`) {
		t.Error("a PSI value without a reference")
	}
}

// Every PSI level the monitor names has its message in both languages.
func TestLevelMessages(t *testing.T) {
	for _, psi := range []float64{0, 0.0999, 0.1, 0.2499, 0.25, 3} {
		k := levelKey(monitor.Level(psi))
		if m, ok := messages[k]; !ok || m[0] == "" || m[1] == "" || k == "models.level.none" {
			t.Errorf("PSI %v: level %q, message %q", psi, monitor.Level(psi), k)
		}
	}
	if m, ok := messages[levelKey("")]; !ok || m[1] != "not computable" {
		t.Error("no message for a missing PSI")
	}
}

// stubAPI answers the model monitoring page's API calls with canned
// documents (path → status and body); the tier statistics only as of
// the scan.
type stubAPI map[string]struct {
	status int
	body   string
}

func (s stubAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, ok := s[r.URL.Path]
	if !ok || r.URL.Path == "/v1/stats/tiers" && r.URL.Query().Get("as_of") != "2026-11-20T08:00:00Z" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_, _ = w.Write([]byte(a.body))
}

// The page's numbers from hand-made API answers: the matrix's shares of
// 10 entities, the 0.3 PSI read as critical, the champion's 1 of 4 with
// its Wilson interval (4.6%–69.9%) as of the scan, the challenger's
// interval as served, and the monthly PSI at the thresholds' boundaries
// (0.1 is watch, 0.25 critical) and a month without one.
func TestModelsPageNumbers(t *testing.T) {
	scan := `{"as_of":"2026-11-20T08:00:00Z","entities":10,
"champion":{"model":"champ@1","tier_scheme":"s","tiers":[{"tier":"A","entities":6},{"tier":"B","entities":4}],
 "drift":{"reference":{"as_of":"2026-01-01","entities":100},"bands":[{"lo":null,"hi":600,"reference_share":0.5,"entities":8,"share":0.8},{"lo":600,"hi":null,"reference_share":0.5,"entities":2,"share":0.2}],"psi":0.3,"level":"alert"}},
"challenger":{"model":"chall@2","tier_scheme":"s","tiers":[{"tier":"A","entities":6,"inspections":10,"problems_found":2,"adverse":2,"hit_rate":0.2,"hit_rate_low":0.0567,"hit_rate_high":0.5098},{"tier":"B","entities":4,"inspections":0,"problems_found":0,"adverse":0}],
 "drift":{"reference":null,"bands":[],"psi":null,"level":"","note":"no reference"}},
"agreement":{"champion_tiers":["A","B"],"challenger_tiers":["A","B"],"counts":[[6,1],[0,3]],"agreeing":9,"agreement_rate":0.9}}`
	tiers := `{"as_of":"2026-11-20T08:00:00Z","tier_scheme":"s","entities":10,"tiers":[{"tier":"A","entities":6,"inspections":4,"problems_found":1},{"tier":"B","entities":4,"inspections":0,"problems_found":0}]}`
	hist := `{"psi_model":"champ@1","series":[{"scheme":"s","tiers":["A","B"],"months":[{"month":"2026-08","psi":0.05},{"month":"2026-09","psi":0.1},{"month":"2026-10","psi":0.25},{"month":"2026-11","psi":null}]}],"psi_note":""}`
	c, err := New(Options{API: stubAPI{"/v1/stats/challenger": {200, scan}, "/v1/stats/tiers": {200, tiers}, "/v1/stats/tiers/history": {200, hist}}})
	if err != nil {
		t.Fatal(err)
	}
	d := c.modelsData(t.Context(), &View{Lang: "en"})
	if d.Unavailable != "" || d.Challenger == nil {
		t.Fatalf("page data: %+v", d)
	}
	if d.Champion.PSI != "0.3000" || d.Champion.LevelKey != "models.level.alert" || messages[d.Champion.LevelKey][1] != "critical" {
		t.Errorf("champion PSI %s %s", d.Champion.PSI, d.Champion.LevelKey)
	}
	if d.Challenger.HasPSI || d.Challenger.Note != messages["models.noref"][1] {
		t.Errorf("challenger without reference: %+v", d.Challenger)
	}
	var cells []string
	for _, r := range d.Agreement {
		for _, x := range r.Cells {
			cells = append(cells, strconv.FormatInt(x.Count, 10)+" "+x.Share+" "+strconv.FormatBool(x.Agree))
		}
	}
	if got := strings.Join(cells, ", "); got != "6 60.0% true, 1 10.0% false, 0 0.0% false, 3 30.0% true" || d.AgreementRate != "90.0%" {
		t.Errorf("matrix %s, agreement %s", got, d.AgreementRate)
	}
	a := d.HitRows[0]
	if a.Champ.Rate != "25.0%" || a.Champ.Low != "4.6%" || a.Champ.High != "69.9%" || a.Chal.Rate != "20.0%" || a.Chal.Low != "5.7%" || a.Chal.High != "51.0%" {
		t.Errorf("tier A hit rates %+v", a)
	}
	if b := d.HitRows[1]; b.Champ.HasRate || b.Chal.HasRate {
		t.Errorf("tier B without inspections has a rate: %+v", b)
	}
	var months []string
	for _, m := range d.Months {
		months = append(months, m.Month+" "+m.PSI+" "+m.LevelKey)
	}
	want := "2026-08 0.0500 models.level.stable, 2026-09 0.1000 models.level.watch, 2026-10 0.2500 models.level.alert, 2026-11  models.level.none"
	if got := strings.Join(months, ", "); got != want {
		t.Errorf("months\n got %s\nwant %s", got, want)
	}
	// before the first scan, and without monitoring
	for status, key := range map[int]string{503: "models.pending", 501: "models.off", 500: "models.error"} {
		c, _ := New(Options{API: stubAPI{"/v1/stats/challenger": {status, `{"detail":"x"}`}}})
		if d := c.modelsData(t.Context(), &View{Lang: "en"}); d.Unavailable != key || d.Detail != "x" {
			t.Errorf("status %d: %q %q", status, d.Unavailable, d.Detail)
		}
		if mc := c.modelsSummary(t.Context(), &View{Lang: "en"}); mc.Unavailable != key {
			t.Errorf("dashboard card at status %d: %q", status, mc.Unavailable)
		}
	}
}
