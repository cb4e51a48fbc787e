package console

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// publicDeny are words and members that would show or hint at a tier,
// score or assessment: none may appear on an enterprise's or the public's
// page (domain.md §2.1: the tier is an internal reference, never
// published).
var publicDeny = []string{"tier", "Tier", "score", "Score", "assessment", "风险分类", "风险类别", "分类方案", "评分", "national_tier",
	"hit_rate", "/console/reg/entity"}

// checkPublic fails when page carries a denied word, or its text the
// entity's actual tier label next to any tier word.
func checkPublic(t *testing.T, name, page string) {
	t.Helper()
	for _, d := range publicDeny {
		if strings.Contains(page, d) {
			i := strings.Index(page, d)
			t.Errorf("%s: public page contains %q: …%s…", name, d, page[max(0, i-80):min(len(page), i+80)])
		}
	}
}

// Public pages carry no tier: the home page, the report of an entity (in
// both languages), the verifier with the report verified, the peers page
// with the live example, for an anonymous visitor. The deny-list check is
// itself checked on the regulator's entity page, which does show the tier.
func TestPublicPagesShowNoTier(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	_, home := h.get(t, c, "/console/")
	checkPublic(t, "home", home)
	_, follow := h.get(t, c, "/console/objections")
	checkPublic(t, "objection follow form", follow)
	for _, lang := range []string{"zh", "en"} {
		code, rep := h.get(t, c, "/console/report?uscc="+h.withPenalty+"&lang="+lang)
		if code != 200 || !strings.Contains(rep, h.withPenalty) || !strings.Contains(rep, `id="records"`) {
			t.Fatalf("report page (%s): %d", lang, code)
		}
		checkPublic(t, "report "+lang, rep)
	}
	code, raw := h.get(t, c, "/console/report/download?uscc="+h.withPenalty)
	if code != 200 || !strings.Contains(raw, `"format":"credit-report/v1"`) || strings.Contains(raw, "assessment") {
		t.Fatalf("download: %d %.80s", code, raw)
	}
	_, form := h.get(t, c, "/console/verify")
	status, res := h.upload(t, c, "/console/verify", csrfOf(t, form), []byte(raw))
	if status != 200 || !strings.Contains(res, `class="verdict ok"`) {
		t.Fatalf("verify: %d", status)
	}
	checkPublic(t, "verify", res)
	_, peers := h.get(t, c, "/console/peers?uscc="+h.withPenalty)
	if !strings.Contains(peers, `id="example"`) || !strings.Contains(peers, `id="jwks"`) {
		t.Fatal("peers page without the live example or the JWKS")
	}
	ex := peers[strings.Index(peers, `id="example"`):]
	if strings.Contains(ex[:strings.Index(ex, "</pre>")], "assessment") {
		t.Error("the peers' live example carries an assessment")
	}
	// the deny-list catches a tier where one is shown
	r := h.client(t)
	h.signIn(t, r)
	_, ent := h.get(t, r, "/console/reg/entity?uscc="+h.withPenalty)
	if !strings.Contains(ent, "风险类别") || !strings.Contains(ent, `id="entity-score"`) {
		t.Fatal("the regulator's entity page shows no tier: the deny-list check proves nothing")
	}
}

// upload posts a report file to the verifier as a multipart form.
func (h *harness) upload(t *testing.T, c *http.Client, path, csrf string, file []byte) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if csrf != "" {
		_ = mw.WriteField("csrf", csrf)
	}
	fw, _ := mw.CreateFormFile("report", "report.json")
	_, _ = fw.Write(file)
	_ = mw.Close()
	resp, err := c.Post(h.srv.URL+path, mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The verifier shows each check: a report with one byte of its subject
// changed fails at the signature, with the checks before it passed and
// the validity not reached; a report that is not JSON fails first.
func TestVerifierShowsEachCheck(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	_, raw := h.get(t, c, "/console/report/download?uscc="+h.withPenalty)
	_, form := h.get(t, c, "/console/verify?lang=en")
	tampered := strings.Replace(raw, h.withPenalty, h.withPenalty[:17]+"X", 1)
	_, res := h.upload(t, c, "/console/verify", csrfOf(t, form), []byte(tampered))
	rows := regexp.MustCompile(`<tr class="(ok|bad|skip)">`).FindAllStringSubmatch(res, -1)
	var got []string
	for _, r := range rows {
		got = append(got, r[1])
	}
	if want := []string{"ok", "ok", "ok", "bad", "skip"}; !slices.Equal(got, want) {
		t.Errorf("tampered report: checks %v, want %v", got, want)
	}
	_, res = h.upload(t, c, "/console/verify", csrfOf(t, form), []byte("not json"))
	got = got[:0]
	for _, r := range regexp.MustCompile(`<tr class="(ok|bad|skip)">`).FindAllStringSubmatch(res, -1) {
		got = append(got, r[1])
	}
	if want := []string{"bad", "skip", "skip", "skip", "skip"}; !slices.Equal(got, want) {
		t.Errorf("not JSON: checks %v, want %v", got, want)
	}
}

// Every form post without the session's CSRF token is refused with 403
// and does nothing: sign-in, the verifier, a regulator's draw preview and
// publish, sign-out. With the token they go through.
func TestCSRFRefused(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	_, page := h.get(t, c, "/console/signin")
	token := csrfOf(t, page)
	for _, tc := range []struct{ name, csrf string }{{"none", ""}, {"wrong", strings.Repeat("A", 43)}} {
		form := map[string]string{"token": h.regToken, "next": "/console/reg/"}
		if tc.csrf != "" {
			form["csrf"] = tc.csrf
		}
		resp, _ := h.post(t, c, "/console/signin", form)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("sign-in with %s token: %d, want 403", tc.name, resp.StatusCode)
		}
	}
	if code, _ := h.get(t, c, "/console/reg/"); code != http.StatusSeeOther {
		t.Fatalf("a refused sign-in signed in: %d", code)
	}
	if status, _ := h.upload(t, c, "/console/verify", "", []byte("{}")); status != http.StatusForbidden {
		t.Errorf("verifier without token: %d", status)
	}
	if resp, _ := h.post(t, c, "/console/signin", map[string]string{"csrf": token, "token": h.regToken}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in with the token: %d", resp.StatusCode)
	}
	code, dash := h.get(t, c, "/console/reg/draws/new")
	if code != 200 {
		t.Fatalf("wizard: %d %.300s", code, dash)
	}
	if resp, _ := h.post(t, c, "/console/reg/draws/preview", map[string]string{"plan_id": "x", "mode": "ratios"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("preview without token: %d", resp.StatusCode)
	}
	if resp, _ := h.post(t, c, "/console/signout", map[string]string{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out without token: %d", resp.StatusCode)
	}
	// the session's token (a new one since sign-in) works
	if resp, _ := h.post(t, c, "/console/signout", map[string]string{"csrf": csrfOf(t, dash)}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign-out with the token: %d", resp.StatusCode)
	}
	if code, _ := h.get(t, c, "/console/reg/"); code != http.StatusSeeOther {
		t.Errorf("still signed in after sign-out: %d", code)
	}
}

// The session cookie is HttpOnly and SameSite=Strict; a session ends
// after 30 minutes unused (29 minutes is fine and renews it) and after 8
// hours however used; a source or unknown token does not sign in.
func TestSessionExpiry(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	_, page := h.get(t, c, "/console/signin")
	resp, _ := h.post(t, c, "/console/signin", map[string]string{"csrf": csrfOf(t, page), "token": h.srcToken})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("source token: %d", resp.StatusCode)
	}
	resp, _ = h.post(t, c, "/console/signin", map[string]string{"csrf": csrfOf(t, page), "token": "x" + h.regToken})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unknown token: %d", resp.StatusCode)
	}
	resp, _ = h.post(t, c, "/console/signin", map[string]string{"csrf": csrfOf(t, page), "token": h.regToken})
	ck := resp.Cookies()
	if len(ck) == 0 || ck[0].Name != sessionCookie || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie: %+v", ck)
	}
	for i := 0; i < 17; i++ { // 17 × 29 min = 8 h 13 min: renewed each time, until the 8-hour cap
		h.clock.Add(29 * time.Minute)
		code, _ := h.get(t, c, "/console/reg/entity")
		if want := map[bool]int{true: 200, false: http.StatusSeeOther}[i < 16]; code != want {
			t.Fatalf("after %d × 29 min: %d, want %d", i+1, code, want)
		}
	}
	h.signIn(t, c)
	h.clock.Add(30 * time.Minute)
	if code, _ := h.get(t, c, "/console/reg/entity"); code != http.StatusSeeOther {
		t.Errorf("after 30 minutes unused: %d, want a redirect to sign-in", code)
	}
}

// ?lang=en switches every page to English and the cookie keeps it; ?lang=zh
// switches back; Chinese is the default.
func TestLanguageSwitch(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	for _, tc := range []struct{ path, want, not string }{
		{"/console/", "企业信用报告", "Enterprise credit report"},
		{"/console/?lang=en", "Enterprise credit report", "企业信用报告"},
		{"/console/verify", "Verify a credit report", "报告验真</h1>"},
		{"/console/peers", "For other provinces", "外省对接"},
		{"/console/draws/verify?lang=zh", "抽查结果核验", "Verify an inspection draw"},
		{"/console/signin", "监管人员登录", "Regulator sign-in</h1>"},
	} {
		_, page := h.get(t, c, tc.path)
		if !strings.Contains(page, tc.want) || strings.Contains(page, tc.not) {
			t.Errorf("%s: want %q and not %q", tc.path, tc.want, tc.not)
		}
	}
	if _, page := h.get(t, h.client(t), "/console/"); !strings.Contains(page, `lang="zh-CN"`) {
		t.Error("the default is not Chinese")
	}
}

// Every message key the templates and handlers use exists in both
// languages.
func TestMessagesComplete(t *testing.T) {
	re := regexp.MustCompile(`\.T "([a-z0-9.]+)"|v\.T\("([a-z0-9.]+)"\)`)
	files, _ := os.ReadDir("templates")
	var src []string
	for _, f := range files {
		b, _ := os.ReadFile("templates/" + f.Name())
		src = append(src, string(b))
	}
	for _, n := range []string{"console.go", "enterprise.go", "regulator.go", "draws.go", "peers.go", "pages.go", "models.go", "issue.go"} {
		b, _ := os.ReadFile(n)
		src = append(src, string(b))
	}
	for _, m := range re.FindAllStringSubmatch(strings.Join(src, "\n"), -1) {
		key := m[1] + m[2]
		if v, ok := messages[key]; !ok || v[0] == "" || v[1] == "" {
			t.Errorf("message %q missing", key)
		}
	}
}
