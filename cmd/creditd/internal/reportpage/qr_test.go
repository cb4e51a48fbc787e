package reportpage

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/creditrisk/creditd/cmd/creditd/internal/browsertest"
	"github.com/creditrisk/creditd/cmd/creditd/internal/reportid"
	"github.com/creditrisk/creditd/models/report"
)

var (
	svgRe   = regexp.MustCompile(`<figure class="qr" id="verify-qr"><svg viewBox="0 0 (\d+) (\d+)"[^>]*><rect[^>]*/><path fill="#000" d="([^"]*)"/></svg>`)
	runRe   = regexp.MustCompile(`^M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
	urlRe   = regexp.MustCompile(`<dd class="wide mono sig" id="verify-url">([^<]*)</dd>`)
	scale   = 8 // pixels per module of the rasterised code
	pageURL = "https://credit.amr.shandong.gov.cn"
)

// rasterize draws the dark modules of the page's QR path as a PNG, as a
// printer would, with nothing of the QR library: the path is read back
// from the page text.
func rasterize(t *testing.T, page string) (pngBytes []byte, modules int) {
	t.Helper()
	m := svgRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no QR code SVG on the page")
	}
	n, _ := strconv.Atoi(m[1])
	if m[2] != m[1] {
		t.Fatalf("viewBox %s×%s is not square", m[1], m[2])
	}
	img := image.NewGray(image.Rect(0, 0, n*scale, n*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	d := m[3]
	for d != "" {
		r := runRe.FindStringSubmatch(d)
		if r == nil {
			t.Fatalf("path element %.40q", d)
		}
		x, _ := strconv.Atoi(r[1])
		y, _ := strconv.Atoi(r[2])
		w, _ := strconv.Atoi(r[3])
		if r[4] != r[3] || x+w > n || y >= n {
			t.Fatalf("path element %q outside the %d×%d code", r[0], n, n)
		}
		for px := x * scale; px < (x+w)*scale; px++ {
			for py := y * scale; py < (y+1)*scale; py++ {
				img.SetGray(px, py, color.Gray{})
			}
		}
		d = d[len(r[0]):]
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), n
}

// The page of a signed report carries a QR code of its verification URL
// (reportid.URL), also printed as text; zbarimg decodes the code drawn from
// the page's SVG to that URL, in both editions; it is small (version 8 or
// less: at most 49 modules and the 4-module quiet zone each side) and the
// page still fetches nothing.
func TestRenderQRCode(t *testing.T) {
	for _, ed := range []string{report.EditionPublic, report.EditionRegulatory} {
		t.Run(ed, func(t *testing.T) {
			r := testReport(t, ed)
			var b bytes.Buffer
			if err := (Renderer{PublicURL: pageURL + "/"}).Render(&b, r); err != nil {
				t.Fatal(err)
			}
			page := b.String()
			want, err := reportid.URL(pageURL, r)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(want, pageURL+"/v1/reports/verify/"+r.ReportID+"?uscc="+r.Subject.USCC+"&d=") {
				t.Fatalf("verification URL %s", want)
			}
			shown := urlRe.FindStringSubmatch(page)
			if shown == nil || strings.ReplaceAll(shown[1], "&amp;", "&") != want {
				t.Fatalf("URL on the page %q, want %q", shown, want)
			}
			img, n := rasterize(t, page)
			if n > 49+8 {
				t.Errorf("a %d-module code (with quiet zone): larger than version 8", n)
			}
			if got := browsertest.DecodeQR(t, img); !slices.Equal(got, []string{want}) {
				t.Fatalf("zbarimg decodes %q, want %q", got, want)
			}
			for _, ext := range []string{"<script", "<link", "<img", "src=", "url(", "@import", "xmlns"} {
				if strings.Contains(page, ext) {
					t.Errorf("page has %q", ext)
				}
			}
			if strings.Count(page, pageURL) != 1 {
				t.Errorf("the public URL appears %d times, want once (the printed URL)", strings.Count(page, pageURL))
			}
		})
	}
}

// No QR code without a public URL (Render) or for an unsigned report,
// which could not be verified.
func TestNoQRCodeWhenUnverifiable(t *testing.T) {
	r := testReport(t, report.EditionPublic)
	unsigned := *r
	unsigned.Signature = nil
	for name, render := range map[string]func(*bytes.Buffer) error{
		"no public URL": func(b *bytes.Buffer) error { return Render(b, r) },
		"unsigned":      func(b *bytes.Buffer) error { return Renderer{PublicURL: pageURL}.Render(b, &unsigned) },
	} {
		var b bytes.Buffer
		if err := render(&b); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "verify-qr") || strings.Contains(b.String(), "<svg") || strings.Contains(b.String(), "/v1/reports/verify/") {
			t.Errorf("%s: the page has a QR code", name)
		}
	}
}

// The verification page: each verdict shows its own box only, the
// genuine page shows the allowed facts and the not-genuine page none of
// them, and text is escaped.
func TestRenderVerification(t *testing.T) {
	genuine := Verification{Genuine: true, Current: true, ReportID: "37-06H44KP27TXENNW2SCCTNSQASJT6HPS9",
		Issuer: VerifiedIssuer{Code: "37", Name: "山东省市场监督管理局"}, IssuedAt: "2026-03-01T08:00:00Z",
		Subject: VerifiedLabel{USCC: "91370200MA3C5KQB07", Name: `<b>青岛</b>`}, CheckedAt: "2026-03-02T08:00:00Z",
		ReportPath: "/v1/reports/91370200MA3C5KQB07"}
	stale := genuine
	stale.Current = false
	forged := Verification{Problem: `no report <script>`}
	for _, tc := range []struct {
		name    string
		v       *Verification
		boxes   []string
		has     []string
		hasNot  []string
		genuine string
	}{
		{"current", &genuine, []string{"verdict-genuine", "verdict-current"},
			[]string{"37-06H44KP27TXENNW2SCCTNSQASJT6HPS9", "山东省市场监督管理局 (37)", "2026-03-01 16:00:00 北京时间", "91370200MA3C5KQB07",
				"&lt;b&gt;青岛&lt;/b&gt;", `href="/v1/reports/91370200MA3C5KQB07?format=html"`}, []string{"<b>青岛"}, "true"},
		{"not current", &stale, []string{"verdict-genuine", "verdict-stale"}, []string{"Not current"}, nil, "true"},
		{"not genuine", &forged, []string{"verdict-not-genuine"}, []string{"Not genuine", "no report &lt;script&gt;"},
			[]string{"<script", "Issuer", "USCC"}, "false"},
	} {
		var b bytes.Buffer
		if err := RenderVerification(&b, tc.v); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		var boxes []string
		for _, m := range regexp.MustCompile(`class="verdict [a-z]+" id="([a-z-]+)"`).FindAllStringSubmatch(page, -1) {
			boxes = append(boxes, m[1])
		}
		if !slices.Equal(boxes, tc.boxes) {
			t.Errorf("%s: verdict boxes %v, want %v", tc.name, boxes, tc.boxes)
		}
		if !strings.Contains(page, fmt.Sprintf(`data-genuine="%s"`, tc.genuine)) {
			t.Errorf("%s: data-genuine is not %s", tc.name, tc.genuine)
		}
		for _, s := range tc.has {
			if !strings.Contains(page, s) {
				t.Errorf("%s: page lacks %q", tc.name, s)
			}
		}
		for _, s := range tc.hasNot {
			if strings.Contains(page, s) {
				t.Errorf("%s: page has %q", tc.name, s)
			}
		}
	}
}
