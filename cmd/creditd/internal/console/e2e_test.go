package console

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/creditrisk/creditd/models/testenv"
)

// docImages, when set, is where the end-to-end test also writes the three
// README screenshots (enterprise report, dashboard, draw wizard):
//
//	go test ./cmd/creditd/internal/console -run E2E -docimg ../../../../docs/img
var docImages = flag.String("docimg", "", "also write the README screenshots into this directory")

// browserTest is a headless Debian chromium on a fresh profile, with every
// request it makes recorded.
type browserTest struct {
	t        *testing.T
	h        *harness
	ctx      context.Context
	shots    string
	mu       sync.Mutex
	requests []string
	downDir  string
}

func chromiumPath() string {
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

func newBrowserTest(t *testing.T, h *harness) *browserTest {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		testenv.MissingTool(t, "chromium", "the console's end-to-end tests drive a headless browser: apt-get install -y chromium")
		return nil
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true), chromedp.Flag("no-default-browser-check", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	b := &browserTest{t: t, h: h, ctx: ctx, shots: t.ArtifactDir(), downDir: t.TempDir()}
	b.do(chromedp.Navigate("about:blank"))
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: b.downDir}); err != nil {
		t.Fatal(err)
	}
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.requests = append(b.requests, ev.Request.URL)
			b.mu.Unlock()
		}
	}()
	return b
}

func (b *browserTest) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

// attr is an attribute of the first element sel matches ("" if none).
func (b *browserTest) attr(sel, name string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(e => e ? (e.getAttribute(`+strconv.Quote(name)+`) || "") : "")(document.querySelector(`+strconv.Quote(sel)+`))`))
	if err != nil {
		b.t.Fatalf("attribute %s of %s: %v", name, sel, err)
	}
	return s
}

// issueAtFrontDesk is the registration authority's front desk (窗口) in
// the browser: a regulator, sent to sign in from the entity's page,
// issues the enterprise code its report from the front desk form (the
// entity page's link fills in the USCC), reads the query code off the
// printable page, checks that the clerk's note is on screen and not in
// print (the page's inline styles apply under its policy), and signs out.
// It returns the query code, as the enterprise's representative takes it
// home on paper.
func (b *browserTest) issueAtFrontDesk(code string) string {
	b.t.Helper()
	b.open("/console/reg/entity?uscc="+code, "#signin-form")
	b.do(chromedp.SendKeys(chromedp.ID("token"), b.h.regToken), chromedp.Click(chromedp.ID("signin-submit")))
	b.visible("#entity-score", "#entity-issue")
	b.do(chromedp.Click(chromedp.ID("entity-issue")))
	b.visible("#issue-form", "#issue-submit")
	if got, _ := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID("issue-uscc"))); got != code {
		b.t.Errorf("the front desk form is filled with %q, want %q", got, code)
	}
	b.shot("issue-form", "")
	b.do(chromedp.Click(chromedp.ID("issue-submit")))
	b.visible("#frontdesk-note", "#query-code-box", "#query-code")
	qc := strings.TrimSpace(b.text("#query-code"))
	if len(qc) != 16 {
		b.t.Fatalf("the query code on the issued page: %q", qc)
	}
	display := func() string {
		b.t.Helper()
		d, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`getComputedStyle(document.getElementById("frontdesk-note")).display`))
		if err != nil {
			b.t.Fatal(err)
		}
		return d
	}
	media := func(m string) {
		b.t.Helper()
		if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m}); err != nil {
			b.t.Fatal(err)
		}
	}
	media("print")
	if d := display(); d != "none" {
		b.t.Errorf("the clerk's note prints (display %q): the page's styles do not apply", d)
	}
	media("")
	if d := display(); d != "block" {
		b.t.Errorf("the clerk's note on screen: display %q", d)
	}
	// The printable report (reportpage, what ?format=html gives anyone)
	// is laid out for A4 and stacks each record's cells at phone width.
	b.shot("issued", "")
	b.do(chromedp.Click(chromedp.ID("issue-again")))
	b.visible("#issue-form", "#signout")
	if strings.Contains(b.text("main"), qc) {
		b.t.Error("the front desk form shows the code")
	}
	b.do(chromedp.Click(chromedp.ID("signout")))
	b.visible("#lookup")
	return qc
}

// fileObjection files an objection through the report page's form to an
// active penalty of the downloaded report (anyone's: it carries no query
// code), typing queryCode, the query code of the report the registration
// authority's front desk issued to the enterprise (issueAtFrontDesk), and
// returns the objection id and the record id.
func (b *browserTest) fileObjection(file, queryCode, reason string) (id, recID string) {
	b.t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		b.t.Fatal(err)
	}
	var rep struct {
		QueryCode *string `json:"query_code"`
		Subject   struct{ USCC string }
		Records   []struct{ ID, Category, Status string }
	}
	if err := json.Unmarshal(raw, &rep); err != nil || rep.QueryCode != nil {
		b.t.Fatalf("downloaded report: %v, query code %v", err, rep.QueryCode)
	}
	for _, r := range rep.Records {
		if r.Category == "penalty" && r.Status == "active" {
			recID = r.ID
		}
	}
	if recID == "" {
		b.t.Fatal("no active penalty to object to")
	}
	rec := `[id="rec-` + recID + `"] `
	b.open("/console/report?uscc="+rep.Subject.USCC, rec+"details.file-objection summary")
	b.do(chromedp.Click(chromedp.CSS(rec + "details.file-objection summary")))
	b.visible(rec + "input[name=query_code]")
	b.do(chromedp.SendKeys(chromedp.CSS(rec+"input[name=query_code]"), queryCode),
		chromedp.SendKeys(chromedp.CSS(rec+"textarea[name=reason]"), reason),
		chromedp.Click(chromedp.CSS(rec+"form button")))
	b.visible("#filed", "#objection-status", "#objection-due")
	if st := b.attr("#objection-status", "data-status"); st != "pending" {
		b.t.Errorf("a new objection's status %q", st)
	}
	href, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`new URL(location.href).searchParams.get("id")`))
	if err != nil || href == "" {
		b.t.Fatalf("objection id: %q %v", href, err)
	}
	return href, recID
}

func (b *browserTest) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// open loads a console page and waits for its key elements to be visible.
func (b *browserTest) open(path string, visible ...string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.h.srv.URL + path))
	b.visible(visible...)
}

func (b *browserTest) visible(sels ...string) {
	b.t.Helper()
	for _, s := range sels {
		ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
		err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(s)))
		cancel()
		if err != nil {
			page, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.href + " " + (document.getElementById("seed") ? document.getElementById("seed").validationMessage + "/" + document.getElementById("seed").dataset.checked : "") + "\n" + document.body.innerText.slice(0, 300)`))
			b.t.Fatalf("%s not visible: %v\n%s", s, err, page)
		}
	}
}

// shot saves the page at 1280 px and at phone width (390 px) under the
// test's artifact directory (go test -artifacts), and the wide one as a
// README image when asked; the page must not scroll sideways at either.
func (b *browserTest) shot(name, doc string) {
	b.t.Helper()
	b.shotAt(name, doc, 1280, 390)
}

// overflowing names the innermost elements that reach past the viewport's
// right edge (tag, id, classes and their right edge), for the message of
// a page that scrolls sideways.
const overflowing = `(() => {
	const cw = document.documentElement.clientWidth, out = [];
	for (const e of document.body.querySelectorAll("*")) {
		const r = e.getBoundingClientRect();
		if (r.right > cw + 1 && ![...e.children].some(c => c.getBoundingClientRect().right > cw + 1)) {
			out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "") + " right=" + Math.round(r.right) + " " + JSON.stringify((e.textContent || "").slice(0, 40)));
		}
	}
	return out.slice(0, 8).join("; ");
})()`

// shotAt is shot at the given widths only.
func (b *browserTest) shotAt(name, doc string, widths ...int64) {
	b.t.Helper()
	for _, w := range widths {
		b.do(chromedp.EmulateViewport(w, 900))
		over, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth + 1`))
		if err != nil || over {
			wide, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](overflowing))
			b.t.Errorf("%s at %d px scrolls sideways (%v): %s", name, w, err, wide)
		}
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			b.t.Fatal(err)
		}
		file := fmt.Sprintf("%s-%d.png", name, w)
		if err := os.WriteFile(filepath.Join(b.shots, file), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
		if w == 1280 && doc != "" && *docImages != "" {
			// the README image: the viewport from the page's first .repair, #preview or #psi-champion, if any
			b.do(chromedp.Evaluate[chromedp.Void](`(document.querySelector(".repair") ? document.querySelector(".record:has(.repair)") : document.querySelector("#preview") || document.querySelector("#psi-champion") || document.body).scrollIntoView()`))
			shot, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
			if err == nil {
				err = os.WriteFile(filepath.Join(*docImages, doc), shot, 0o644)
			}
			if err != nil {
				b.t.Fatal(err)
			}
		}
	}
	b.do(chromedp.EmulateViewport(1280, 900))
}

// outside lists the requests made to anything but creditd.
func (b *browserTest) outside() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, u := range b.requests {
		if !strings.HasPrefix(u, b.h.srv.URL+"/") && !strings.HasPrefix(u, "about:") && !strings.HasPrefix(u, "blob:") && !strings.HasPrefix(u, "data:") {
			out = append(out, u)
		}
	}
	return out
}

// waitFile waits for a download to finish in dir.
func waitFile(ctx context.Context, dir, suffix string) (string, error) {
	for {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), suffix) {
				return filepath.Join(dir, e.Name()), nil
			}
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// The console in a real browser: an enterprise looks up its report
// (typing the USCC), downloads the signed JSON and verifies the file; a
// regulator signs in, previews a draw, makes the seed in the browser,
// commits, runs, reviews and publishes it; an anonymous visitor verifies
// it; a form posted without its CSRF token is refused; the keyboard
// reaches the skip link first; no page asks anything of a host but
// creditd. Each page is saved at 1280 px and phone width.
func TestE2EConsole(t *testing.T) {
	h := newHarness(t)
	b := newBrowserTest(t, h)
	if b == nil {
		return
	}
	// enterprise
	b.open("/console/", "#lookup", "#uscc")
	b.do(chromedp.KeyEvent("\t"))
	if cls, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement.className`)); err != nil || cls != "skip" {
		t.Errorf("the first Tab reaches %q, want the skip link", cls)
	}
	b.shot("home", "")
	b.do(chromedp.SendKeys(chromedp.ID("uscc"), h.withPenalty), chromedp.Click(chromedp.CSS(`#lookup button`)))
	b.visible("#subject", "#records", "#download", "#print")
	if got := b.text("#subject .mono"); got != h.withPenalty {
		t.Errorf("report page for %q", got)
	}
	b.visible(".repair")
	b.shot("report", "console-report.png")
	b.do(chromedp.Click(chromedp.ID("download")))
	wctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	file, err := waitFile(wctx, b.downDir, ".json")
	cancel()
	if err != nil {
		t.Fatalf("the download did not arrive: %v", err)
	}
	// the front desk issues the enterprise its report, whose code it types
	qc := b.issueAtFrontDesk(h.withPenalty)
	id0, recID := b.fileObjection(file, qc, "the fine was paid before the decision")
	b.shot("objection", "")
	b.open("/console/report?uscc="+h.withPenalty, "#records")
	if st := b.attr(`[id="rec-`+recID+`"] .objection-state`, "data-status"); st != "under_objection" {
		t.Errorf("the report shows record %s's objection as %q", recID, st)
	}
	b.open("/console/verify", "#verify-form")
	b.do(chromedp.SetUploadFiles(chromedp.ID("report"), []string{file}), chromedp.Click(chromedp.ID("verify-submit")))
	b.visible("#verify-result", "#verdict")
	if cls, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById("verdict").className`)); err != nil || cls != "verdict ok" {
		t.Fatalf("verification of the downloaded report: %q %v\n%s", cls, err, b.text("#verify-result"))
	}
	b.shot("verify", "")
	b.open("/console/peers?uscc="+h.withPenalty+"&lang=en", "#jwks", "#example")
	b.shot("peers", "")

	// a form posted without its CSRF token is refused
	b.open("/console/signin?lang=zh", "#signin-form")
	b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#signin-form input[name=csrf]").remove()`),
		chromedp.SendKeys(chromedp.ID("token"), h.regToken), chromedp.Click(chromedp.ID("signin-submit")))
	b.visible(".error")
	if got := b.text(".error"); !strings.Contains(got, "安全令牌") {
		t.Errorf("sign-in without CSRF token: %q", got)
	}
	if code, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.title`)); err != nil || !strings.Contains(code, "出错") {
		t.Errorf("the refusal page: %q %v", code, err)
	}

	// regulator
	b.open("/console/reg/", "#signin-form") // sent to sign in
	b.do(chromedp.SendKeys(chromedp.ID("token"), h.regToken), chromedp.Click(chromedp.ID("signin-submit")))
	b.visible("#dist svg", "#hits svg", "#trend svg", "#signout")
	b.shot("dashboard", "console-dashboard.png")
	// model monitoring without --challenger: said plainly, PSI part only
	h.latestScan(t)
	b.open("/console/reg/models", "#no-challenger", "#psi-champion .psi-value")
	if n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#agreement-table").length`)); err != nil || n != 0 {
		t.Errorf("an agreement table without a challenger (%d, %v)", n, err)
	}
	b.shot("models-nochallenger", "")
	b.open("/console/reg/entity?uscc="+h.withPenalty, "#entity-score", "#reasons", "#timeline")
	b.visible("#measures")
	b.shot("entity", "")
	b.open("/console/reg/notices", "#notice-count")
	b.shot("notices", "")
	// the regulator answers the enterprise's objection from the queue
	row := `[id="q-` + id0 + `"]`
	b.open("/console/reg/objections", row)
	if !strings.Contains(b.text(row), recID) {
		t.Errorf("queue row of %s does not name record %s", id0, recID)
	}
	b.shot("objections-queue", "console-objections-queue.png")
	b.do(chromedp.SetValue(chromedp.CSS(row+` select[name=outcome]`), "rejected"),
		chromedp.SendKeys(chromedp.CSS(row+` input[name=reasons]`), "the decision stands"),
		chromedp.Click(chromedp.CSS(row+` button`)))
	b.visible(row + `[data-status="rejected"]`) // the queue again, with answered ones
	b.shot("objections-answered", "")
	b.open("/console/reg/draws/new", "#plan-form", "#ratio_A")
	b.do(chromedp.SetValue(chromedp.ID("plan_id"), "e2e-plan"), chromedp.Click(chromedp.ID("preview-submit")))
	b.visible("#preview-table", "#make-seed")
	b.do(chromedp.Click(chromedp.ID("make-seed")))
	if err := chromedp.Do(b.ctx, chromedp.Poll[chromedp.Void](`document.getElementById("commitment").value.length === 64`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		diag, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`typeof crypto.subtle + " " + window.isSecureContext + " " + document.getElementById("seed-show").value + " " + document.scripts.length`))
		t.Fatalf("no commitment made in the browser: %v (%s)", err, diag)
	}
	seed, _ := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID("seed-show")))
	if len(seed) != 64 {
		t.Fatalf("seed made in the browser: %q", seed)
	}
	b.visible("#seed-download")
	b.shot("wizard", "console-draw-wizard.png")
	b.do(chromedp.Click(chromedp.ID("commit-submit")))
	b.visible("#run-form")
	if got, _ := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID("seed"))); got != seed {
		t.Fatalf("the run step's seed %q, want the one kept in the browser", got)
	}
	b.shot("wizard-run", "")
	b.do(chromedp.Click(chromedp.ID("run-submit")))
	b.visible("#review", "#publish")
	id := b.text("#draw-id-value")
	b.shot("review", "")
	b.do(chromedp.Click(chromedp.ID("publish")))
	b.visible("#verify-link")

	// an anonymous visitor
	if _, err := chromedp.Call(b.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	b.open("/console/draws/verify", "#draw-id")
	b.do(chromedp.SendKeys(chromedp.ID("draw-id"), id), chromedp.Click(chromedp.CSS(`form.row button`)))
	b.visible("#draw-result", "#draw-checks")
	if got := b.text("#verdict"); got != "核验通过" {
		t.Errorf("anonymous verification: %q", got)
	}
	if !strings.Contains(b.text("#draw-result"), seed) {
		t.Error("the published draw does not reveal the seed")
	}
	b.shot("draw-verify", "")
	// the enterprise sees the answer
	b.open("/console/objections?id="+id0, "#objection-status", "#objection-answer")
	if st := b.attr("#objection-status", "data-status"); st != "rejected" || !strings.Contains(b.text("#objection-answer"), "the decision stands") {
		t.Errorf("the enterprise sees status %q, answer %q", st, b.text("#objection-answer"))
	}
	b.shot("objection-answered", "")
	if out := b.outside(); len(out) > 0 {
		t.Errorf("requests outside creditd: %q", out)
	}
	b.mu.Lock()
	n := len(b.requests)
	b.mu.Unlock()
	if n < 20 {
		t.Errorf("only %d requests seen: the network listener is not working", n)
	}
}

// Model monitoring in a real browser, with creditd started with
// --challenger: the regulator reaches the page from the dashboard's card
// by keyboard, sees the champion's PSI with its level, the agreement
// matrix, the challenger's tiers and the hit rates of both, in Chinese
// and in English, at 1280 px and phone width, with no request outside
// creditd.
func TestE2EModels(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{withChallenger: true})
	b := newBrowserTest(t, h)
	if b == nil {
		return
	}
	d := h.latestScan(t)
	b.open("/console/reg/", "#signin-form")
	b.do(chromedp.SendKeys(chromedp.ID("token"), h.regToken), chromedp.Click(chromedp.ID("signin-submit")))
	b.visible("#models-card", "#models-link")
	b.do(chromedp.Focus(chromedp.ID("models-link")), chromedp.KeyEvent("\r"))
	b.visible("#champion-model", "#challenger-model", "#psi-champion .psi-value", "#agreement-table", "#challenger-dist svg",
		"#hit-compare svg", "#hit-table")
	if got := b.text("#psi-champion .psi-value"); got != strconv.FormatFloat(*d.Champion.Drift.PSI, 'f', 4, 64) {
		t.Errorf("PSI shown %q, scan %v", got, *d.Champion.Drift.PSI)
	}
	if got := b.text("#challenger-model"); !strings.Contains(got, d.Challenger.Model) {
		t.Errorf("challenger shown %q, scan %s", got, d.Challenger.Model)
	}
	if n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#agreement-table tbody tr").length`)); err != nil || n != len(d.Agreement.Counts) {
		t.Errorf("agreement rows %d (%v), scan %d", n, err, len(d.Agreement.Counts))
	}
	b.shot("models", "console-models.png")
	b.open("/console/reg/models?lang=en", "#agreement-table")
	if got := b.text("#agreement h2"); got != "Champion / challenger agreement" {
		t.Errorf("English heading %q", got)
	}
	b.shot("models-en", "")
	if out := b.outside(); len(out) > 0 {
		t.Errorf("requests outside creditd: %q", out)
	}
}
