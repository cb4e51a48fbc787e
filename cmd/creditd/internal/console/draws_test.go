package console

import (
	"crypto/sha256"
	"encoding/hex"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// wizardForm is a plan over the whole province: ratios by tier, four
// inspectors.
func wizardForm(csrf, plan string) map[string]string {
	return map[string]string{"csrf": csrf, "plan_id": plan, "mode": "ratios", "ratio_A": "5", "ratio_B": "10", "ratio_C": "30",
		"ratio_D": "60", "inspectors": "I-01\nI-02 37\nI-03\nI-04", "per_entity": "2"}
}

func field(t *testing.T, page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no field %s", name)
	}
	return html.UnescapeString(m[1])
}

// The wizard without a browser: the preview shows per-tier N, n and π
// that the draw then has; the commitment is registered before the seed is
// sent; the draw is reviewed, published, and verified by an anonymous
// visitor; before publication the anonymous verification finds nothing.
func TestDrawWizardFlow(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.signIn(t, c)
	_, page := h.get(t, c, "/console/reg/draws/new")
	resp, prev := h.post(t, c, "/console/reg/draws/preview", wizardForm(csrfOf(t, page), "wizard-1"))
	if resp.StatusCode != 200 || !strings.Contains(prev, `id="preview-table"`) {
		t.Fatalf("preview: %d %s", resp.StatusCode, prev[strings.Index(prev, "<main"):])
	}
	rows := regexp.MustCompile(`<tr><td>([A-D])</td><td>(\d+)</td><td>(\d+)</td><td>([0-9.]+)</td></tr>`).FindAllStringSubmatch(prev, -1)
	if len(rows) != 4 {
		t.Fatalf("preview rows: %v", rows)
	}
	seed := strings.Repeat("5a", 32)
	sum := sha256.Sum256(mustHex(seed))
	commitment := hex.EncodeToString(sum[:])
	req := field(t, prev, "request")
	resp, run := h.post(t, c, "/console/reg/draws/commit", map[string]string{"csrf": csrfOf(t, prev), "request": req, "commitment": commitment})
	if resp.StatusCode != 200 || !strings.Contains(run, `id="run-form"`) {
		t.Fatalf("commit: %d", resp.StatusCode)
	}
	resp, _ = h.post(t, c, "/console/reg/draws/run", map[string]string{"csrf": csrfOf(t, run), "request": req, "commitment": commitment, "seed": seed})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/reg/draws/view?id=") {
		t.Fatalf("run: %d %s", resp.StatusCode, loc)
	}
	id := strings.TrimPrefix(loc, "/console/reg/draws/view?id=")
	_, review := h.get(t, c, loc)
	for _, r := range rows {
		if !strings.Contains(review, "<tr><td>"+r[1]+"</td><td>"+r[2]+"</td><td>"+r[3]+"</td><td>"+r[4]+"</td></tr>") {
			t.Errorf("tier %s: the preview's N=%s n=%s π=%s is not the draw's", r[1], r[2], r[3], r[4])
		}
	}
	anon := h.client(t)
	if code, _ := h.get(t, anon, "/console/draws/verify?id="+id); code != http.StatusNotFound {
		t.Errorf("unpublished draw found by an anonymous visitor: %d", code)
	}
	resp, _ = h.post(t, c, "/console/reg/draws/publish", map[string]string{"csrf": csrfOf(t, review), "id": id})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
	code, ver := h.get(t, anon, "/console/draws/verify?id="+id)
	if code != 200 || !strings.Contains(ver, `class="verdict ok"`) || !strings.Contains(ver, seed) {
		t.Fatalf("anonymous verification: %d", code)
	}
	for _, d := range []string{"风险类别", "priority", "blind"} {
		if strings.Contains(ver, d) {
			t.Errorf("the public verification page shows %q", d)
		}
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
