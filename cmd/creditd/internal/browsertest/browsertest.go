// Package browsertest runs creditd's web pages in a real browser for
// tests: headless Chromium driven by chromedp, with flags that keep it from
// reaching the network on its own, and the QR decoder of Debian's
// zbar-tools. Without Chromium or zbarimg a test fails under CI and skips
// elsewhere (models/testenv). Install both with
// `apt-get install -y chromium zbar-tools` (.ci/run does).
//
// It is imported by tests only (the printable report's QR code, the web
// console).
package browsertest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/creditrisk/creditd/models/testenv"
)

// Flags are Chromium's command-line switches besides the user data
// directory: headless, no sandbox (tests run as root in containers), no
// GPU, and nothing the browser would fetch by itself (QUIC, first-run
// pages, background networking, component updates, sync).
var Flags = []string{"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
	"disable-background-networking", "disable-component-update", "disable-sync"}

// chromiumNames are the executables tried, Debian's first.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Chromium returns the path of the Chromium executable, or ends the test
// (testenv.MissingTool).
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.MissingTool(t, "chromium", "the pages are checked in a real browser: apt-get install -y chromium")
	return ""
}

// New starts headless Chromium with Flags and a fresh user data directory
// under t.TempDir, and returns a chromedp context of a new tab that ends
// after timeout; the browser is stopped when the test ends.
func New(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	exe := Chromium(t)
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(exe), chromedp.UserDataDir(filepath.Join(t.TempDir(), "chromium"))}
	for _, f := range Flags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tctx, cancelTimeout := context.WithTimeout(actx, timeout)
	ctx, cancelTab := chromedp.NewContext(tctx)
	t.Cleanup(func() {
		cancelTab()
		cancelTimeout()
		cancelAlloc() // waits for the browser to exit
	})
	// Start the browser now, so that a failure to start is reported here.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	return ctx
}

// DecodeQR decodes the QR codes in a PNG image with zbarimg (Debian's
// zbar-tools) and returns their texts; the test fails when there is none.
// Without zbarimg it ends the test (testenv.MissingTool).
func DecodeQR(t testing.TB, png []byte) []string {
	t.Helper()
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		testenv.MissingTool(t, "zbarimg", "QR codes are read by an independent decoder: apt-get install -y zbar-tools")
		return nil
	}
	path := filepath.Join(t.TempDir(), "screenshot.png")
	if err := os.WriteFile(path, png, 0o600); err != nil {
		t.Fatal(err)
	}
	// --raw: the texts alone, one per line; -q: no statistics on stderr.
	cmd := exec.Command(zbar, "--raw", "-q", "-Sdisable", "-Sqrcode.enable", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		// zbarimg exits 4 when it finds no symbol.
		t.Fatalf("zbarimg %s: %v (no QR code found?) %s", path, err, stderr.String())
	}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("zbarimg found no QR code in %s", path)
	}
	return out
}
