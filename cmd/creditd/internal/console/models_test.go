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
// only; the built-in model has no reference, so drift cannot be computed.
// Anonymous visitors are sent to sign in.
func TestModelsPageNoChallenger(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	if code, _ := h.get(t, c, "/console/reg/models"); code != http.StatusSeeOther {
		t.Errorf("anonymous: %d, want a redirect to sign in", code)
	}
	h.signIn(t, c)
	h.latestScan(t)
	_, page := h.get(t, c, "/console/reg/models?lang=en")
	for _, s := range []string{`id="no-challenger"`, "started without --challenger", "cannot be computed", "not computable"} {
		if !strings.Contains(page, s) {
			t.Errorf("the page lacks %q", s)
		}
	}
	for _, s := range []string{`id="agreement-table"`, `id="psi-challenger"`, `class="psi-value"`} {
		if strings.Contains(page, s) {
			t.Errorf("the page without a challenger has %q", s)
		}
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
