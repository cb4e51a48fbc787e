package reportid

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/testenv"
)

func strp(s string) *string { return &s }

var issued = time.Date(2026, 3, 1, 8, 0, 0, 250_000_000, time.UTC)

// testReport is a report issued at issued, with its id left empty.
func testReport(edition string) *report.Report {
	r := &report.Report{
		Format: report.Format, Issuer: report.Issuer{Code: "37", Name: "山东省市场监督管理局", KeyID: "kid"},
		Edition: edition, IssuedAt: report.Instant(issued), ValidUntil: report.Instant(issued.Add(24 * time.Hour)),
		Subject: report.Subject{USCC: "91370200MA3C5KQB07", Name: "青岛海岸线贸易有限公司", Region: "370200",
			EntityType: "enterprise", RegisteredOn: "2016-05-12", Status: report.SubjectActive},
		Records: []report.Record{
			{ID: "SAMR-370200-2025-000123", Category: "penalty", Detail: json.RawMessage(`{"severity":"general","amount_yuan":20000}`),
				Authority: "青岛市市场监督管理局", OccurredOn: "2025-06-03", Status: report.RecordActive, PublicityUntil: strp("2026-06-02")},
		},
	}
	if edition == report.EditionRegulatory {
		r.Assessment = &report.Assessment{AsOf: r.IssuedAt, Score: 612, Tier: "C", TierScheme: "national-4", Model: "m/1",
			Reasons: []report.Reason{{Code: "penalty_general", Text: "一般行政处罚", Points: 80}}}
	}
	return r
}

func edKey(t testing.TB, seed byte) *Key {
	t.Helper()
	k, err := NewKey("37", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// stamp gives r its id under k and returns the claim its URL makes.
func stamp(t testing.TB, k *Key, r *report.Report) *Claim {
	t.Helper()
	id, err := k.ID(r, issued)
	if err != nil {
		t.Fatal(err)
	}
	r.ReportID = id
	d, err := Digest(r)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(id, r.Subject.USCC, b64url.EncodeToString(d[:]))
	if err != nil {
		t.Fatalf("the id's own URL: %v", err)
	}
	return c
}

// An id issued by a key is genuine and current for an unchanged report,
// under an Ed25519 and an SM2 key alike, and carries the issue instant.
func TestIDVerifies(t *testing.T) {
	smKey, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, priv := range map[string]crypto.Signer{
		"ed25519": ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)), "sm2": smKey} {
		k, err := NewKey("37", priv)
		if err != nil {
			t.Fatal(err)
		}
		for _, ed := range []string{report.EditionPublic, report.EditionRegulatory} {
			r := testReport(ed)
			c := stamp(t, k, r)
			if !strings.HasPrefix(r.ReportID, "37-") || len(r.ReportID) != 3+32 {
				t.Fatalf("%s %s: id %q", name, ed, r.ReportID)
			}
			if !k.Genuine(c) || c.ReportID() != r.ReportID || c.IssuedAt() != r.IssuedAt || c.Millis != issued.UnixMilli() {
				t.Fatalf("%s %s: %q not genuine or misread: %+v", name, ed, r.ReportID, c)
			}
			if cur, err := k.Current(c, testReport(report.EditionPublic)); err != nil || !cur {
				t.Fatalf("%s %s: unchanged content not current: %v", name, ed, err)
			}
		}
	}
}

// Every single-character change of the id, every bit of the digest, and
// another subject, issuer or key make the claim not genuine.
func TestForgedClaimsRefused(t *testing.T) {
	k := edKey(t, 1)
	r := testReport(report.EditionPublic)
	c := stamp(t, k, r)
	d := b64url.EncodeToString(c.Digest[:])
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	tried := 0
	for i := 3; i < len(r.ReportID); i++ {
		for _, ch := range []byte(alphabet) {
			if ch == r.ReportID[i] {
				continue
			}
			id := r.ReportID[:i] + string(ch) + r.ReportID[i+1:]
			f, err := Parse(id, r.Subject.USCC, d)
			if err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			tried++
			if k.Genuine(f) {
				t.Fatalf("forged id %s (position %d) is genuine", id, i)
			}
		}
	}
	if tried != 32*31 {
		t.Fatalf("tried %d forged ids, want %d", tried, 32*31)
	}
	for bit := range DigestSize * 8 {
		fd := c.Digest
		fd[bit/8] ^= 1 << (bit % 8)
		f, err := Parse(r.ReportID, r.Subject.USCC, b64url.EncodeToString(fd[:]))
		if err != nil {
			t.Fatal(err)
		}
		if k.Genuine(f) {
			t.Fatalf("digest with bit %d flipped is genuine", bit)
		}
	}
	other, _ := Parse(r.ReportID, "91440300MA5FXT4K8Q", d)
	if k.Genuine(other) {
		t.Fatal("another USCC is genuine")
	}
	if edKey(t, 2).Genuine(c) {
		t.Fatal("another key accepts the id")
	}
	k44, _ := NewKey("44", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)))
	if k44.Genuine(c) {
		t.Fatal("another issuer code with the same key accepts the id")
	}
	// The same key, the same id under another issuer code: refused.
	moved, err := Parse("44"+r.ReportID[2:], r.Subject.USCC, d)
	if err != nil {
		t.Fatal(err)
	}
	if k.Genuine(moved) || k44.Genuine(moved) {
		t.Fatal("the id moved to issuer 44 is genuine")
	}
}

// Current compares the subject and the records only: a changed record
// status, a new record or a new name is not current; a different
// assessment (regulatory edition) or issue time is (the route is public
// and must not depend on the tier, domain.md §2.1).
func TestCurrent(t *testing.T) {
	k := edKey(t, 3)
	c := stamp(t, k, testReport(report.EditionRegulatory))
	for _, tc := range []struct {
		name   string
		change func(r *report.Report)
		want   bool
	}{
		{"unchanged", func(*report.Report) {}, true},
		{"other tier and score", func(r *report.Report) { r.Assessment.Tier, r.Assessment.Score = "A", 100 }, true},
		{"public edition, issued later", func(r *report.Report) {
			r.Assessment, r.Edition, r.IssuedAt = nil, report.EditionPublic, "2026-04-01T00:00:00Z"
		}, true},
		{"record repaired", func(r *report.Report) { r.Records[0].Status = report.RecordRepaired }, false},
		{"record detail", func(r *report.Report) {
			r.Records[0].Detail = json.RawMessage(`{"severity":"serious","amount_yuan":20000}`)
		}, false},
		{"detail members reordered", func(r *report.Report) {
			r.Records[0].Detail = json.RawMessage(`{"amount_yuan":20000, "severity":"general"}`)
		}, true},
		{"new record", func(r *report.Report) {
			r.Records = append(r.Records, report.Record{ID: "X", Category: "honor", Authority: "A", OccurredOn: "2026-01-01", Status: report.RecordActive})
		}, false},
		{"no records", func(r *report.Report) { r.Records = nil }, false},
		{"renamed", func(r *report.Report) { r.Subject.Name += "（新）" }, false},
		{"deregistered", func(r *report.Report) { r.Subject.Status = report.SubjectDeregistered }, false},
		{"another subject", func(r *report.Report) { r.Subject.USCC = "91440300MA5FXT4K8Q" }, false},
	} {
		now := testReport(report.EditionRegulatory)
		tc.change(now)
		got, err := k.Current(c, now)
		if err != nil || got != tc.want {
			t.Errorf("%s: current %v (%v), want %v", tc.name, got, err, tc.want)
		}
	}
}

// ID refuses a report whose issued_at is not the issue instant, or of
// another issuer.
func TestIDChecksItsInputs(t *testing.T) {
	k := edKey(t, 4)
	r := testReport(report.EditionPublic)
	if _, err := k.ID(r, issued.Add(time.Second)); err == nil {
		t.Fatal("issued_at one second off accepted")
	}
	if _, err := k.ID(r, issued.Truncate(time.Second).Add(999*time.Millisecond)); err != nil {
		t.Fatalf("the last millisecond of the second refused: %v", err)
	}
	r.Issuer.Code = "44"
	if _, err := k.ID(r, issued); err == nil {
		t.Fatal("another issuer's report accepted")
	}
	if _, err := NewKey("", ed25519.NewKeyFromSeed(make([]byte, 32))); err == nil {
		t.Fatal("empty issuer code accepted")
	}
}

// Malformed URL parts are syntax errors naming the parameter.
func TestParseRefusesBadEncodings(t *testing.T) {
	k := edKey(t, 5)
	r := testReport(report.EditionPublic)
	c := stamp(t, k, r)
	id, d := r.ReportID, b64url.EncodeToString(c.Digest[:])
	for _, tc := range []struct{ name, id, d, param string }{
		{"empty id", "", d, "report_id"},
		{"no issuer", id[2:], d, "report_id"},
		{"no dash", strings.Replace(id, "-", "", 1), d, "report_id"},
		{"31 characters", id[:len(id)-1], d, "report_id"},
		{"33 characters", id + "0", d, "report_id"},
		{"lower case", id[:3] + strings.ToLower(id[3:]), d, "report_id"},
		{"letter I", id[:len(id)-1] + "I", d, "report_id"},
		{"letter L", id[:len(id)-1] + "L", d, "report_id"},
		{"letter O", id[:len(id)-1] + "O", d, "report_id"},
		{"letter U", id[:len(id)-1] + "U", d, "report_id"},
		{"issuer with a space", "3 7" + id[2:], d, "report_id"},
		{"issuer with a control character", "3\x017" + id[2:], d, "report_id"},
		{"too long", strings.Repeat("9", 20) + id[2:], d, "report_id"},
		{"no digest", id, "", "d"},
		{"short digest", id, d[:21], "d"},
		{"long digest", id, d + "A", "d"},
		{"padded digest", id, d[:20] + "==", "d"},
		{"standard base64", id, strings.Repeat("+", 22), "d"},
		{"non-zero trailing bits", id, d[:21] + "B", "d"},
	} {
		if tc.name == "non-zero trailing bits" && d[21] == 'B' {
			tc.d = d[:21] + "C"
		}
		_, err := Parse(tc.id, r.Subject.USCC, tc.d)
		se, ok := err.(*SyntaxError)
		if !ok || se.Param != tc.param {
			t.Errorf("%s (%q, %q): %v, want a syntax error of %s", tc.name, tc.id, tc.d, err, tc.param)
		}
	}
}

// The URL is base, the verify path, the id, the USCC and the digest; a
// trailing slash of base is dropped; it fits a small QR code (version 8 at
// level M holds 152 bytes) with a 40-character public URL.
func TestURL(t *testing.T) {
	k := edKey(t, 6)
	r := testReport(report.EditionPublic)
	c := stamp(t, k, r)
	want := "https://xy.example.gov.cn/creditd/v1/reports/verify/" + r.ReportID + "?uscc=91370200MA3C5KQB07&d=" + b64url.EncodeToString(c.Digest[:])
	for _, base := range []string{"https://xy.example.gov.cn/creditd", "https://xy.example.gov.cn/creditd/"} {
		got, err := URL(base, r)
		if err != nil || got != want {
			t.Fatalf("URL(%q) = %q, %v; want %q", base, got, err, want)
		}
	}
	long := "https://" + strings.Repeat("x", 32) // 40 characters
	if u, _ := URL(long, r); len(u) > 152 {
		t.Fatalf("%d bytes with a 40-byte base: %s", len(u), u)
	}
}

// The digest and the id follow report.md ("Verification URL"): an
// independent python3 script (testdata/digest.py, standard library only)
// computes the digest from the signed JSON alone, and rebuilds the id from
// the JSON, the seed and the id's milliseconds.
func TestDigestIndependently(t *testing.T) {
	k := edKey(t, 8) // seed: 32 bytes of 8
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32))
	dir := t.TempDir()
	for i, ed := range []string{report.EditionPublic, report.EditionRegulatory} {
		r := testReport(ed)
		r.Issuer.KeyID = report.KeyID(priv.Public().(ed25519.PublicKey))
		// Characters outside the BMP and escapes, where canonical forms differ.
		r.Subject.Name = "𠮷野家 \"quoted\" \\ </>"
		c := stamp(t, k, r)
		if err := report.Sign(r, priv, report.KeyID(priv.Public().(ed25519.PublicKey))); err != nil {
			t.Fatal(err)
		}
		raw, err := json.MarshalIndent(r, "", "   ") // not canonical: the script canonicalises
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, ed+".json")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		out := strings.Fields(testenv.Python(t, "testdata", "digest.py", path, hex.EncodeToString(bytes.Repeat([]byte{8}, 32))))
		if want := b64url.EncodeToString(c.Digest[:]); len(out) != 2 || out[0] != want {
			t.Fatalf("case %d: python digest %q, Go %s", i, out, want)
		}
		if out[1] != r.ReportID {
			t.Fatalf("case %d: python rebuilds the id as %s, Go made %s", i, out[1], r.ReportID)
		}
	}
}

// Parse never panics, and what it accepts names the id it was given.
func FuzzParse(f *testing.F) {
	k := edKey(f, 9)
	r := testReport(report.EditionPublic)
	c := stamp(f, k, r)
	f.Add(r.ReportID, b64url.EncodeToString(c.Digest[:]))
	f.Add("37-", "")
	f.Add("-0000000000000000000000000000000", "AAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, id, d string) {
		c, err := Parse(id, "91370200MA3C5KQB07", d)
		if err != nil {
			return
		}
		if c.ReportID() != id || b64url.EncodeToString(c.Digest[:]) != d {
			t.Fatalf("Parse(%q, %q) reads as %q, %x", id, d, c.ReportID(), c.Digest)
		}
		_ = k.Genuine(c)
	})
}
