package browsertest

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	qrcode "github.com/skip2/go-qrcode"
)

// The helpers work together: Chromium shows a page with a QR code, a
// screenshot of it decodes with zbarimg to the encoded text, and a page
// without one makes DecodeQR fail (checked on a fake testing.TB).
func TestScreenshotDecodes(t *testing.T) {
	const text = "https://credit.example.gov.cn/v1/reports/verify/37-X?uscc=1&d=2"
	png, err := qrcode.Encode(text, qrcode.Medium, 256)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		body := `<!DOCTYPE html><title>t</title><p>no code</p>`
		if r.URL.Path == "/qr" {
			body = `<!DOCTYPE html><title>t</title><img id="qr" src="data:image/png;base64,` +
				base64.StdEncoding.EncodeToString(png) + `">`
		}
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	ctx := New(t, 2*time.Minute)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/qr"), chromedp.WaitVisible("#qr")); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if got := DecodeQR(t, shot); !slices.Equal(got, []string{text}) {
		t.Fatalf("decoded %q, want %q", got, text)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/none")); err != nil {
		t.Fatal(err)
	}
	if shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
		t.Fatal(err)
	}
	ft := &fakeTB{TB: t}
	func() {
		defer func() { _ = recover() }() // fakeTB.Fatalf panics to stop like FailNow
		DecodeQR(ft, shot)
	}()
	if !ft.failed {
		t.Fatal("DecodeQR found a code in a page without one")
	}
}

// fakeTB records a failure instead of failing the test.
type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Fatalf(string, ...any) { f.failed = true; panic("fatal") }
