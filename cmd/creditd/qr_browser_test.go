package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/browsertest"
)

// The QR code of a printable report, as a clerk would use it (issue 15,
// domain.md §6.5): headless Chromium opens the report page of a running
// creditd, a screenshot of it is decoded by zbarimg, and the decoded URL,
// followed in the browser, says "genuine" and "current"; after a new
// record it says "genuine" and "not current"; with one character of the
// report id or of the digest changed it says "not genuine". The JSON
// answers say the same, with only the allowed members.
func TestReportQRCodeInBrowser(t *testing.T) {
	s := startService(t, t.TempDir())
	const code = "914403001922038216"
	body := `{"id":"Q-1","uscc":"` + code + `","type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"华为技术有限公司","region":"440300","registered_on":"1987-09-15"}}
{"id":"Q-2","uscc":"` + code + `","type":"penalty","occurred_at":"2026-01-15T02:00:00Z","authority":"深圳市市场监督管理局","attrs":{"severity":"general","decision_no":"深市监罚〔2026〕1号","amount_yuan":20000}}
`
	if res, status := s.postEvents(api.RoleSource, []byte(body)); status != 200 || res.Applied != 2 {
		t.Fatalf("post: %d %+v", status, res)
	}
	ctx := browsertest.New(t, 3*time.Minute)
	err := chromedp.Do(ctx,
		// An A4-wide window at twice the pixel density, as a scan would be.
		chromedp.EmulateViewport(1000, 1400, chromedp.EmulateScale(2)),
		chromedp.Navigate(s.base+"/v1/reports/"+code),
		chromedp.WaitVisible("#verify-qr"))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shownURL, err := chromedp.Run(ctx, chromedp.Text("#verify-url"))
	if err != nil {
		t.Fatal(err)
	}
	codes := browsertest.DecodeQR(t, shot)
	if len(codes) != 1 {
		t.Fatalf("%d QR codes on the page: %q", len(codes), codes)
	}
	verifyURL := codes[0]
	// --public-url defaults to the listen address: the test server.
	if !strings.HasPrefix(verifyURL, s.base+"/v1/reports/verify/37-") || strings.TrimSpace(shownURL) != verifyURL {
		t.Fatalf("QR code %q, URL on the page %q, service %s", verifyURL, shownURL, s.base)
	}
	u, err := url.Parse(verifyURL)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Query().Get("uscc"); got != code {
		t.Fatalf("uscc %q in %s", got, verifyURL)
	}

	// open follows a URL in the browser and returns the HTTP status and
	// the page's verdict: the id of the verdict box shown first.
	open := func(link string) (int, []string) {
		t.Helper()
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(link))
		if err != nil {
			t.Fatalf("%s: %v", link, err)
		}
		ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".verdict")].map(e => e.id)`))
		if err != nil {
			t.Fatal(err)
		}
		return int(resp.Status), ids
	}
	// answer is the JSON answer of a URL (checked against the OpenAPI
	// document by s.do).
	answer := func(link string) (int, map[string]any) {
		t.Helper()
		resp, b := s.do("GET", strings.TrimPrefix(link, s.base), api.RolePublic, nil, "Accept", "application/json")
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %s", link, b)
		}
		return resp.StatusCode, m
	}

	if status, verdict := open(verifyURL); status != 200 || !slices.Equal(verdict, []string{"verdict-genuine", "verdict-current"}) {
		t.Fatalf("the decoded URL: %d %v, want genuine and current", status, verdict)
	}
	status, m := answer(verifyURL)
	if status != 200 || m["genuine"] != true || m["current"] != true {
		t.Fatalf("JSON answer %d %v", status, m)
	}
	// The allow-list of a public answer: nothing else, no tier, score or
	// assessment member (domain.md §2.1).
	allowed := []string{"genuine", "current", "report_id", "issuer", "issued_at", "subject", "checked_at", "report_path"}
	for k := range m {
		if !slices.Contains(allowed, k) {
			t.Errorf("the public verification answer has %q", k)
		}
	}
	if sub := m["subject"].(map[string]any); sub["uscc"] != code || sub["name"] != "华为技术有限公司" || len(sub) != 2 {
		t.Errorf("subject %v", sub)
	}

	id := strings.TrimPrefix(u.Path, "/v1/reports/verify/")
	d := u.Query().Get("d")
	forged := map[string]string{
		"report id": s.base + "/v1/reports/verify/" + id[:10] + flip(id[10]) + id[11:] + "?uscc=" + code + "&d=" + d,
		"digest":    s.base + "/v1/reports/verify/" + id + "?uscc=" + code + "&d=" + d[:5] + flip(d[5]) + d[6:],
		"subject":   s.base + "/v1/reports/verify/" + id + "?uscc=91350100M000100Y43&d=" + d,
	}
	for name, link := range forged {
		if status, verdict := open(link); status != 404 || !slices.Equal(verdict, []string{"verdict-not-genuine"}) {
			t.Errorf("forged %s: %d %v, want 404 not genuine", name, status, verdict)
		}
		if status, m := answer(link); status != 404 || m["reason"] != "report_not_genuine" || m["genuine"] != nil {
			t.Errorf("forged %s as JSON: %d %v", name, status, m)
		}
	}

	// A new public record: the printed report is still genuine, no longer current.
	more := `{"id":"Q-3","uscc":"` + code + `","type":"inspection","occurred_at":"2026-02-01T02:00:00Z","authority":"深圳市市场监督管理局","attrs":{"plan_id":"P-1","result":"problem_found"}}` + "\n"
	if res, status := s.postEvents(api.RoleSource, []byte(more)); status != 200 || res.Applied != 1 {
		t.Fatalf("post: %d %+v", status, res)
	}
	if status, verdict := open(verifyURL); status != 200 || !slices.Equal(verdict, []string{"verdict-genuine", "verdict-stale"}) {
		t.Fatalf("after a new record: %d %v, want genuine and not current", status, verdict)
	}
	if status, m := answer(verifyURL); status != 200 || m["genuine"] != true || m["current"] != false {
		t.Fatalf("after a new record, JSON: %d %v", status, m)
	}
	if resp, _ := s.do("GET", "/v1/reports/verify/"+id+"?uscc="+code+"&d=%%%", api.RolePublic, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a digest that is not base64url: %d", resp.StatusCode)
	}
}

// flip returns another character of the same alphabet (base32 digits and
// capitals, base64url), so that only the value is forged, not the form.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}
