package report

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/jcs"
)

var updateReportGolden = flag.Bool("update-report", false, "rewrite models/report/testdata/report golden files")

// testReportKey is a fixed key so that signed test reports are byte-stable
// (Ed25519 signatures are deterministic).
func testReportKey() (ed25519.PrivateKey, ed25519.PublicKey) {
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, "credit-report/v1 test key seed!!")
	priv := ed25519.NewKeyFromSeed(seed)
	return priv, priv.Public().(ed25519.PublicKey)
}

func strp(s string) *string { return &s }

// sampleReport is a valid, unsigned report of the given edition.
func sampleReport(edition string) *Report {
	r := &Report{
		Format:     Format,
		ReportID:   "37-01JQ8Z6Y2M0000000000000000",
		Issuer:     Issuer{Code: "37", Name: "山东省市场监督管理局"},
		Edition:    edition,
		IssuedAt:   "2026-03-01T08:00:00Z",
		ValidUntil: "2026-03-31T08:00:00Z",
		Subject: Subject{USCC: "91370200MA3C5KQB07", Name: "青岛海岸线贸易有限公司", Region: "370200",
			EntityType: "enterprise", RegisteredOn: "2016-05-12", Status: SubjectActive},
		Records: []Record{
			{ID: "SAMR-370200-2025-000123", Category: "penalty",
				Detail:    json.RawMessage(`{"severity":"general","decision_no":"青市监罚〔2025〕123号","amount_yuan":20000}`),
				Authority: "青岛市市场监督管理局", OccurredOn: "2025-06-03", Status: RecordRepaired,
				PublicityUntil: strp("2026-06-02"), RepairedOn: strp("2025-10-09")},
			{ID: "SAMR-370200-2025-000456", Category: "abnormal_list",
				Detail:    json.RawMessage(`{"reason":"annual_report_missing"}`),
				Authority: "青岛市市场监督管理局", OccurredOn: "2025-07-10", Status: RecordActive},
			{ID: "TAX-37-2024-A-0001", Category: "tax_rating", Detail: json.RawMessage(`{"year":2024,"level":"A"}`),
				Authority: "国家税务总局山东省税务局", OccurredOn: "2025-04-01", Status: RecordActive, PublicityUntil: strp("2026-03-31")},
		},
	}
	if edition == EditionRegulatory {
		r.Assessment = &Assessment{AsOf: "2026-03-01T07:59:00Z", Score: 612, Tier: "C", TierScheme: "national-4",
			Model: "national-logit/2026.1",
			Reasons: []Reason{
				{Code: "abnormal_list_active", Text: "列入经营异常名录 listed as abnormal", Points: 140},
				{Code: "tax_rating_a", Text: "纳税信用A级 tax rating A", Points: -60},
				{Code: "penalty_repaired", Text: "已修复的行政处罚 repaired penalty", Points: 25},
			}}
	}
	return r
}

func signedSample(t testing.TB, edition string) (*Report, []byte, JWKS) {
	t.Helper()
	priv, pub := testReportKey()
	r := sampleReport(edition)
	if err := Sign(r, priv, KeyID(pub)); err != nil {
		t.Fatalf("SignReport: %v", err)
	}
	raw, err := r.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return r, raw, NewJWKS(pub)
}

var testNow = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, ed := range []string{EditionPublic, EditionRegulatory} {
		t.Run(ed, func(t *testing.T) {
			r, raw, keys := signedSample(t, ed)
			got, err := Verify(raw, keys, testNow)
			if err != nil {
				t.Fatalf("VerifyReport: %v\n%s", err, raw)
			}
			// What comes back is what was signed.
			again, err := got.CanonicalJSON()
			if err != nil || !bytes.Equal(again, raw) {
				t.Fatalf("round trip differs:\n%s\n%s", raw, again)
			}
			if r.Issuer.KeyID != r.Signature.KeyID || r.Signature.Alg != "Ed25519" || len(r.Signature.Value) != 86 {
				t.Fatalf("signature %+v, issuer %+v", r.Signature, r.Issuer)
			}
			// Not canonical on the wire (indented, keys in struct order):
			// still verifies, since the receiver canonicalises.
			pretty, _ := json.MarshalIndent(r, "", "  ")
			if _, err := Verify(pretty, keys, testNow); err != nil {
				t.Fatalf("indented report: %v", err)
			}
			var generic map[string]any
			if err := json.Unmarshal(raw, &generic); err != nil {
				t.Fatal(err)
			}
			_, hasAssessment := generic["assessment"]
			if hasAssessment != (ed == EditionRegulatory) {
				t.Fatalf("edition %s: assessment member present = %v", ed, hasAssessment)
			}
		})
	}
}

// TestReportGolden pins the signed bytes of the sample reports and the key
// set, so that a change of canonical form or signature input shows up, and
// so that implementers elsewhere have test vectors
// (models/report/testdata/report/).
func TestGolden(t *testing.T) {
	dir := filepath.Join("testdata", "report")
	_, pub := testReportKey()
	jwks, _ := json.MarshalIndent(NewJWKS(pub), "", "  ")
	files := map[string][]byte{"jwks.json": append(jwks, '\n')}
	for _, ed := range []string{EditionPublic, EditionRegulatory} {
		_, raw, _ := signedSample(t, ed)
		files["report-"+ed+".json"] = append(raw, '\n')
		unsigned := sampleReport(ed)
		unsigned.Issuer.KeyID = KeyID(pub)
		payload, err := unsigned.CanonicalJSON()
		if err != nil {
			t.Fatal(err)
		}
		files["report-"+ed+".signed-bytes.txt"] = payload // exactly the bytes signed, no newline
	}
	for name, want := range files {
		path := filepath.Join(dir, name)
		if *updateReportGolden {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./models -run TestReportGolden -update-report)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file:\ngot  %s\nwant %s", name, want, got)
		}
	}
	// The golden report verifies against the golden key set, read back
	// from disk as a receiver would.
	keys, err := ParseJWKS(files["jwks.json"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(files["report-public.json"], keys, testNow); err != nil {
		t.Fatal(err)
	}
}

func TestKeyIDRFC8037(t *testing.T) {
	// RFC 8037 Appendix A.1 and A.3.
	x := "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
	pub, err := b64url.DecodeString(x)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := KeyID(pub), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Fatalf("KeyID = %s, want %s", got, want)
	}
	// A.1's private key d generates x, and A.4's signature verifies with it.
	d, _ := b64url.DecodeString("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
	priv := ed25519.NewKeyFromSeed(d)
	if !bytes.Equal(priv.Public().(ed25519.PublicKey), pub) {
		t.Fatal("RFC 8037 A.1: d does not give x")
	}
	msg := []byte("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc")
	sig := b64url.EncodeToString(ed25519.Sign(priv, msg))
	if want := "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"; sig != want {
		t.Fatalf("RFC 8037 A.4 signature = %s, want %s", sig, want)
	}
	jwk := NewJWK(pub)
	if jwk.Kid != KeyID(pub) || jwk.X != x || jwk.Kty != "OKP" || jwk.Crv != "Ed25519" || jwk.Use != "sig" || jwk.Alg != "EdDSA" {
		t.Fatalf("NewJWK = %+v", jwk)
	}
}

func TestJWKS(t *testing.T) {
	_, pub := testReportKey()
	x := b64url.EncodeToString(pub)
	kid := KeyID(pub)
	ok := `{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"rsa1"},{"kty":"OKP","crv":"Ed25519","x":"` + x + `","kid":"k1"}]}`
	s, err := ParseJWKS([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Key("k1"); err != nil || !bytes.Equal(got, pub) {
		t.Fatalf("Key(k1) = %v, %v", got, err)
	}
	if got, err := s.Key(kid); err != nil || !bytes.Equal(got, pub) {
		t.Fatalf("Key(thumbprint) = %v, %v", got, err)
	}
	if _, err := s.Key("rsa1"); err == nil || !strings.Contains(err.Error(), "not an Ed25519") {
		t.Fatalf("Key(rsa1): %v", err)
	}
	if _, err := s.Key("nope"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Key(nope): %v", err)
	}
	for _, tc := range []struct{ name, in, msg string }{
		{"not JSON", `{"keys":[}`, "key set"},
		{"no keys", `{}`, `no "keys"`},
		{"duplicate kid", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + x + `","kid":"a"},{"kty":"OKP","crv":"Ed25519","x":"` + x + `","kid":"a"}]}`, "same kid"},
		{"padded x", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + x + `=","kid":"a"}]}`, "base64url"},
		{"short x", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"a"}]}`, "3 bytes"},
		{"wrong use", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + x + `","kid":"a","use":"enc"}]}`, `use "enc"`},
		{"wrong alg", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + x + `","kid":"a","alg":"ES256"}]}`, `alg "ES256"`},
		{"key_ops", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + x + `","kid":"a","key_ops":["sign"]}]}`, "verify"},
	} {
		if _, err := ParseJWKS([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: ParseJWKS error %v, want one containing %q", tc.name, err, tc.msg)
		}
	}
}

func TestValidateProblems(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edition string
		mutate  func(r *Report)
		msg     string
	}{
		{"format", EditionPublic, func(r *Report) { r.Format = "credit-report/v2" }, `format: "credit-report/v2" is not`},
		{"report id", EditionPublic, func(r *Report) { r.ReportID = "" }, "report_id: missing"},
		{"report id non-ASCII", EditionPublic, func(r *Report) { r.ReportID = "报告1" }, "report_id: \"报告1\" is not printable ASCII"},
		{"issuer name", EditionPublic, func(r *Report) { r.Issuer.Name = "" }, "issuer.name: missing"},
		{"edition", EditionPublic, func(r *Report) { r.Edition = "Public" }, `edition: "Public" is not`},
		{"public with assessment", EditionPublic, func(r *Report) { r.Assessment = sampleReport(EditionRegulatory).Assessment }, "assessment: the public edition has no assessment"},
		{"regulatory without assessment", EditionRegulatory, func(r *Report) { r.Assessment = nil }, "assessment: missing"},
		{"offset instant", EditionPublic, func(r *Report) { r.IssuedAt = "2026-03-01T08:00:00+08:00" }, "issued_at:"},
		{"fractional instant", EditionPublic, func(r *Report) { r.IssuedAt = "2026-03-01T08:00:00.5Z" }, "issued_at:"},
		{"lowercase z", EditionPublic, func(r *Report) { r.IssuedAt = "2026-03-01T08:00:00z" }, "issued_at:"},
		{"bad day", EditionPublic, func(r *Report) { r.ValidUntil = "2026-02-30T08:00:00Z" }, "valid_until:"},
		{"until before issued", EditionPublic, func(r *Report) { r.ValidUntil = r.IssuedAt }, "valid_until: 2026-03-01T08:00:00Z is not after"},
		{"uscc", EditionPublic, func(r *Report) { r.Subject.USCC = "91370200MA3C5KQB0" }, "subject.uscc: uscc_length"},
		{"uscc lowercase", EditionPublic, func(r *Report) { r.Subject.USCC = "91370200ma3c5kqb07" }, "upper case"},
		{"region", EditionPublic, func(r *Report) { r.Subject.Region = "37020" }, "subject.region"},
		{"registered_on", EditionPublic, func(r *Report) { r.Subject.RegisteredOn = "2016-5-12" }, "subject.registered_on"},
		{"subject status", EditionPublic, func(r *Report) { r.Subject.Status = "closed" }, "subject.status"},
		{"as_of after issue", EditionRegulatory, func(r *Report) { r.Assessment.AsOf = "2026-03-01T08:00:01Z" }, "assessment.as_of: 2026-03-01T08:00:01Z is after issued_at"},
		{"tier not in scheme", EditionRegulatory, func(r *Report) { r.Assessment.Tier = "E" }, `assessment.tier: "E" is not a tier of national-4`},
		{"unknown scheme accepted but tier required", EditionRegulatory, func(r *Report) { r.Assessment.TierScheme = "zhejiang-3"; r.Assessment.Tier = "" }, "assessment.tier: missing"},
		{"reasons order", EditionRegulatory, func(r *Report) { r.Assessment.Reasons[2].Points = -70 }, "assessment.reasons[2]: penalty_repaired (-70 points) must come before"},
		{"override after points", EditionRegulatory, func(r *Report) {
			r.Assessment.Reasons = append(r.Assessment.Reasons, Reason{Code: "OVR_ABNORMAL", Text: "t", Points: 0})
		}, "assessment.reasons[3]: OVR_ABNORMAL (0 points) must come before"},
		{"overrides by code", EditionRegulatory, func(r *Report) {
			r.Assessment.Reasons = append([]Reason{{Code: "OVR_DISHONEST", Text: "t"}, {Code: "OVR_ABNORMAL_3Y", Text: "t"}}, r.Assessment.Reasons...)
		}, "assessment.reasons[1]: OVR_ABNORMAL_3Y (0 points) must come before the previous reason OVR_DISHONEST"},
		{"equal points by code", EditionRegulatory, func(r *Report) { r.Assessment.Reasons[0].Points = -60; r.Assessment.Reasons[0].Code = "tax_z" }, "assessment.reasons[1]: tax_rating_a (-60 points) must come before the previous reason tax_z (-60 points)"},
		{"model", EditionRegulatory, func(r *Report) { r.Assessment.Model = "" }, "assessment.model: missing"},
		{"category", EditionPublic, func(r *Report) { r.Records[0].Category = "Penalty" }, "records[0].category"},
		{"detail array", EditionPublic, func(r *Report) { r.Records[0].Detail = json.RawMessage(`[1]`) }, "records[0].detail: not a JSON object"},
		{"detail float", EditionPublic, func(r *Report) { r.Records[0].Detail = json.RawMessage(`{"amount_yuan":1.5}`) }, "records[0].detail: jcs: number 1.5 is not an integer"},
		{"detail float syntax", EditionPublic, func(r *Report) { r.Records[0].Detail = json.RawMessage(`{"amount_yuan":2e3}`) }, "number 2e3 at byte offset 15 is not written as an integer"},
		{"detail duplicate", EditionPublic, func(r *Report) { r.Records[0].Detail = json.RawMessage(`{"a":1,"a":1}`) }, "duplicate member name"},
		{"record status", EditionPublic, func(r *Report) { r.Records[1].Status = "deleted" }, "records[1].status"},
		{"repaired without date", EditionPublic, func(r *Report) { r.Records[0].RepairedOn = nil }, "records[0].repaired_on: missing on a repaired record"},
		{"publicity before occurred", EditionPublic, func(r *Report) { r.Records[0].PublicityUntil = strp("2025-01-01") }, "records[0].publicity_until: 2025-01-01 is before occurred_on"},
		{"duplicate record id", EditionPublic, func(r *Report) { r.Records[2].ID = r.Records[0].ID }, "records[2].id: \"SAMR-370200-2025-000123\" repeats records[0].id"},
		{"control char", EditionPublic, func(r *Report) { r.Records[1].Authority = "a\nb" }, "records[1].authority: contains a control character"},
		{"signature alg", EditionPublic, func(r *Report) {
			r.Signature = &Signature{Alg: "EdDSA", KeyID: r.Issuer.KeyID, Value: strings.Repeat("A", 86)}
		}, `signature.alg: "EdDSA"`},
		{"signature key", EditionPublic, func(r *Report) {
			r.Signature = &Signature{Alg: "Ed25519", KeyID: "other", Value: strings.Repeat("A", 86)}
		}, `signature.key_id: "other" differs`},
		{"signature padding", EditionPublic, func(r *Report) {
			r.Signature = &Signature{Alg: "Ed25519", KeyID: r.Issuer.KeyID, Value: strings.Repeat("A", 86) + "=="}
		}, "signature.value: not unpadded base64url"},
		{"signature length", EditionPublic, func(r *Report) {
			r.Signature = &Signature{Alg: "Ed25519", KeyID: r.Issuer.KeyID, Value: strings.Repeat("A", 84)}
		}, "signature.value: decodes to 63 bytes"},
		{"signature stray bits", EditionPublic, func(r *Report) {
			r.Signature = &Signature{Alg: "Ed25519", KeyID: r.Issuer.KeyID, Value: strings.Repeat("A", 85) + "B"}
		}, "signature.value: not unpadded base64url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sampleReport(tc.edition)
			r.Issuer.KeyID = "k1"
			if err := r.Validate(); err != nil {
				t.Fatalf("sample invalid: %v", err)
			}
			tc.mutate(r)
			err := r.Validate()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Validate() = %v\nwant an ErrReportInvalid containing %q", err, tc.msg)
			}
		})
	}
}

func TestValidateAcceptsVariants(t *testing.T) {
	r := sampleReport(EditionRegulatory)
	r.Issuer.KeyID = "k1"
	r.Records = nil // no records: written as []
	r.Assessment.Reasons = nil
	r.Assessment.TierScheme, r.Assessment.Tier = "zhejiang-3", "Ⅱ" // another province's scheme
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := r.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"records":[]`)) || !bytes.Contains(b, []byte(`"reasons":[]`)) {
		t.Fatalf("nil slices not written as []: %s", b)
	}
	// A nil detail is written as {} without touching the caller's slice.
	r.Records = sampleReport(EditionPublic).Records
	r.Records[1].Detail = nil
	b, err = r.CanonicalJSON()
	if err != nil || !bytes.Contains(b, []byte(`"detail":{}`)) || r.Records[1].Detail != nil {
		t.Fatalf("nil detail: %s, %v", b, err)
	}
	if !bytes.Contains(b, []byte(`"publicity_until":null,"repaired_on":null`)) {
		t.Fatalf("nullable dates not written as null: %s", b)
	}
}

func TestInstant(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	got := Instant(time.Date(2026, 3, 1, 16, 0, 0, 999_999_999, cst))
	if got != "2026-03-01T08:00:00Z" {
		t.Fatalf("ReportInstant = %s", got)
	}
	if _, err := ParseInstant(got); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "2026-03-01", "2026-03-01T08:00:00", "2026-03-01 08:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T08:00:60Z", "+2026-03-01T08:00:00Z"} {
		if _, err := ParseInstant(bad); err == nil {
			t.Errorf("ParseReportInstant(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "2026-3-01", "2026-02-29", "20260301", "2026-03-01T00:00:00Z"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseReportDate(%q) accepted", bad)
		}
	}
}

// resign signs raw (a JSON object, any members) as an issuer in another
// language would: canonicalise without signature, sign, add the member.
func resign(t *testing.T, raw []byte, priv ed25519.PrivateKey, kid string) []byte {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	delete(m, "signature")
	body, _ := json.Marshal(m)
	payload, err := jcs.Canonicalize(body)
	if err != nil {
		t.Fatal(err)
	}
	m["signature"] = map[string]any{"alg": "Ed25519", "key_id": kid, "value": b64url.EncodeToString(ed25519.Sign(priv, payload))}
	out, _ := json.Marshal(m)
	return out
}

func TestVerifyRejects(t *testing.T) {
	priv, pub := testReportKey()
	kid := KeyID(pub)
	_, raw, keys := signedSample(t, EditionRegulatory)
	_, rawPublic, _ := signedSample(t, EditionPublic)
	edit := func(doc []byte, old, new string) []byte {
		t.Helper()
		if !bytes.Contains(doc, []byte(old)) {
			t.Fatalf("%q not in report", old)
		}
		return bytes.Replace(doc, []byte(old), []byte(new), 1)
	}
	otherPriv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	otherPub := otherPriv.Public().(ed25519.PublicKey)

	for _, tc := range []struct {
		name string
		raw  []byte
		keys JWKS
		now  time.Time
		is   error
		msg  string
	}{
		{"expired", raw, keys, time.Date(2026, 3, 31, 8, 0, 1, 0, time.UTC), ErrExpired, "valid until 2026-03-31T08:00:00Z"},
		{"unknown key", raw, NewJWKS(otherPub), testNow, ErrUnknownKey, kid},
		{"empty key set", raw, JWKS{}, testNow, ErrUnknownKey, kid},
		{"same kid, other key", raw, JWKS{Keys: []JWK{{Kty: "OKP", Crv: "Ed25519", X: b64url.EncodeToString(otherPub), Kid: kid}}}, testNow, ErrSignature, ""},
		{"altered score", edit(raw, `"score":612`, `"score":512`), keys, testNow, ErrSignature, ""},
		{"altered record status", edit(raw, `"status":"active"}`, `"status":"removed"}`), keys, testNow, ErrSignature, ""},
		{"assessment removed from regulatory", resign(t, edit(raw, `"edition":"regulatory"`, `"edition":"public"`), otherPriv, kid), keys, testNow, ErrInvalid, "assessment: the public edition has no assessment member"},
		{"unknown member added after signing", edit(raw, `{"assessment"`, `{"x_note":"hi","assessment"`), keys, testNow, ErrSignature, ""},
		{"key mismatch", edit(raw, `"key_id":"`+kid+`","value"`, `"key_id":"other","value"`), keys, testNow, ErrKeyMismatch, `signature.key_id "other"`},
		{"unsigned", edit(raw, `,"signature":{`, `,"x_signature":{`), keys, testNow, ErrUnsigned, ""},
		{"bad base64url", edit(raw, `"value":"`, `"value":"*`), keys, testNow, ErrInvalid, "signature.value: not unpadded base64url"},
		{"alg", edit(raw, `"alg":"Ed25519"`, `"alg":"EdDSA"`), keys, testNow, ErrInvalid, `signature.alg`},
		{"public with null assessment", edit(rawPublic, `{"edition"`, `{"assessment":null,"edition"`), keys, testNow, ErrInvalid, "no assessment member"},
		{"float score", edit(raw, `"score":612`, `"score":612.0`), keys, testNow, ErrInvalid, "number 612.0 at byte offset"},
		{"float in unknown member", edit(raw, `{"assessment"`, `{"x":1.5,"assessment"`), keys, testNow, ErrInvalid, "not an integer"},
		{"null score", edit(raw, `"score":612`, `"score":null`), keys, testNow, ErrInvalid, "assessment.score: want an integer, got null"},
		{"string score", edit(raw, `"score":612`, `"score":"612"`), keys, testNow, ErrInvalid, "assessment.score: want an integer, got a string"},
		{"case variant", edit(raw, `"edition"`, `"Edition"`), keys, testNow, ErrInvalid, `member name must be "edition" exactly`},
		{"duplicate member", edit(raw, `,"edition"`, `,"edition":"public","edition"`), keys, testNow, ErrInvalid, "duplicate member name"},
		{"records null", edit(raw, `"records":[`, `"records":null,"x":[`), keys, testNow, ErrInvalid, "records: want an array, got null"},
		{"missing subject", edit(raw, `"subject":`, `"subjekt":`), keys, testNow, ErrInvalid, "subject: missing"},
		{"format v2", edit(raw, `"format":"credit-report/v1"`, `"format":"credit-report/v2"`), keys, testNow, ErrInvalid, `format: "credit-report/v2" is not "credit-report/v1"`},
		{"trailing garbage", append(bytes.Clone(raw), "x"...), keys, testNow, ErrInvalid, "after the top-level value"},
		{"not an object", []byte(`[1]`), keys, testNow, ErrInvalid, "not a JSON object"},
		{"invalid UTF-8", edit(raw, `"青岛`, "\"\xff"), keys, testNow, ErrInvalid, "invalid UTF-8"},
		{"empty", nil, keys, testNow, ErrInvalid, "unexpected end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Verify(tc.raw, tc.keys, tc.now)
			if r != nil || !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("VerifyReport = %v, %v\nwant %v containing %q", r != nil, err, tc.is, tc.msg)
			}
		})
	}
	// Just before the end of validity it still verifies.
	if _, err := Verify(raw, keys, time.Date(2026, 3, 31, 8, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	_ = priv
}

// TestVerifyUnknownMembers: a report from another issuer with members this
// reader does not know, signed over them, verifies, and they are covered by
// the signature.
func TestVerifyUnknownMembers(t *testing.T) {
	priv, pub := testReportKey()
	kid := KeyID(pub)
	_, raw, keys := signedSample(t, EditionRegulatory)
	extended := bytes.Replace(raw, []byte(`{"assessment"`), []byte(`{"x_province_seal":{"serial":"SD-2026-0001","pages":3},"assessment"`), 1)
	extended = bytes.Replace(extended, []byte(`"region":"370200"`), []byte(`"region":"370200","legal_representative":"张三"`), 1)
	signed := resign(t, extended, priv, kid)
	r, err := Verify(signed, keys, testNow)
	if err != nil {
		t.Fatalf("extended report: %v\n%s", err, signed)
	}
	if r.Subject.Region != "370200" {
		t.Fatalf("decoded %+v", r.Subject)
	}
	tampered := bytes.Replace(signed, []byte(`"SD-2026-0001"`), []byte(`"SD-2026-0002"`), 1)
	if _, err := Verify(tampered, keys, testNow); !errors.Is(err, ErrSignature) {
		t.Fatalf("tampered unknown member: %v", err)
	}
}

func TestSignErrors(t *testing.T) {
	priv, pub := testReportKey()
	r := sampleReport(EditionPublic)
	r.Issuer.KeyID = "other"
	if err := Sign(r, priv, KeyID(pub)); err == nil || !strings.Contains(err.Error(), `issuer.key_id is "other"`) || r.Signature != nil {
		t.Fatalf("mismatched key id: %v", err)
	}
	r = sampleReport(EditionPublic)
	r.Subject.Status = "x"
	if err := Sign(r, priv, "k"); !errors.Is(err, ErrInvalid) || r.Signature != nil {
		t.Fatalf("invalid report: %v", err)
	}
	if err := Sign(sampleReport(EditionPublic), priv[:10], "k"); err == nil {
		t.Fatal("short key accepted")
	}
	if err := Sign(sampleReport(EditionPublic), priv, ""); err == nil {
		t.Fatal("empty key id accepted")
	}
	// Re-signing replaces the old signature and does not sign over it.
	r = sampleReport(EditionPublic)
	if err := Sign(r, priv, KeyID(pub)); err != nil {
		t.Fatal(err)
	}
	first := *r.Signature
	if err := Sign(r, priv, KeyID(pub)); err != nil || *r.Signature != first {
		t.Fatalf("re-sign: %v, %+v vs %+v", err, r.Signature, first)
	}
}

func FuzzParse(f *testing.F) {
	_, rawPublic, keys := signedSample(f, EditionPublic)
	_, rawReg, _ := signedSample(f, EditionRegulatory)
	f.Add(rawPublic)
	f.Add(rawReg)
	f.Add([]byte(`{"format":"credit-report/v1"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := Parse(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not matching ErrReportInvalid: %v", err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("parsed report does not validate: %v", err)
		}
		// What we write of it parses back to the same.
		b, err := r.CanonicalJSON()
		if err != nil {
			t.Fatal(err)
		}
		r2, err := Parse(b)
		if err != nil {
			t.Fatalf("re-encoded report rejected: %v\n%s", err, b)
		}
		b2, _ := r2.CanonicalJSON()
		if !bytes.Equal(b, b2) {
			t.Fatalf("unstable:\n%s\n%s", b, b2)
		}
		_, _ = Verify(raw, keys, testNow) // must not panic
	})
}

func FuzzParseJWKS(f *testing.F) {
	_, pub := testReportKey()
	b, _ := json.Marshal(NewJWKS(pub))
	f.Add(b)
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"r"},{"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"a"}]}`))
	f.Add([]byte(`{"keys":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseJWKS(data)
		if err != nil {
			return
		}
		for _, k := range s.Keys {
			// Every Ed25519 key of an accepted set is usable and found by
			// its kid or its thumbprint.
			if k.Kty != "OKP" || k.Crv != "Ed25519" {
				continue
			}
			pub, err := k.PublicKey()
			if err != nil {
				t.Fatalf("accepted set with unusable key %+v: %v", k, err)
			}
			id := k.Kid
			if id == "" {
				id = KeyID(pub)
				if slices.ContainsFunc(s.Keys, func(o JWK) bool { return o.Kid == id }) {
					continue // another key claims the thumbprint as its kid
				}
			}
			if got, err := s.Key(id); err != nil || len(got) != ed25519.PublicKeySize {
				t.Fatalf("Key(%q): %v", id, err)
			}
		}
	})
}

// The order of reasons (report.md "Order of reasons"), worked out by hand:
// overrides (0 points) first by code, then non-increasing |points|, equal
// |points| by code in byte order; the sign does not count.
func TestCompareReasons(t *testing.T) {
	rr := func(code string, points int64) Reason { return Reason{Code: code, Points: points} }
	for _, tc := range []struct {
		a, b Reason
		want int // sign
	}{
		{rr("OVR_DISHONEST", 0), rr("DISHONEST_LIST", -150), -1},
		{rr("DISHONEST_LIST", -150), rr("OVR_DISHONEST", 0), 1},
		{rr("Z", 0), rr("A", 1), -1}, // an override before the smallest effect
		{rr("OVR_ABNORMAL", 0), rr("OVR_COURT_DEBTOR", 0), -1},
		{rr("OVR_ABNORMAL_3Y", 0), rr("OVR_ABNORMAL", 0), 1}, // prefix first
		{rr("PEN", -90), rr("HON", 30), -1},
		{rr("HON", 30), rr("PEN", -90), 1},
		{rr("TAX_A", 20), rr("HONOR_PROVINCIAL", 20), 1},
		{rr("HONOR_PROVINCIAL", 20), rr("TAX_A", -20), -1}, // sign ignored
		{rr("A", -20), rr("A", 20), 0},
		{rr("B", 7), rr("B", 7), 0},
		{rr("a", 5), rr("B", 5), 1}, // byte order: 'B' (0x42) < 'a' (0x61)
		{rr("ä", 5), rr("z", 5), 1}, // U+00E4 after 'z'
		{rr("X", -9223372036854775808), rr("Y", 9223372036854775807), -1},
		{rr("X", 9223372036854775807), rr("Y", -9223372036854775807), -1},
	} {
		got := CompareReasons(tc.a, tc.b)
		if (got < 0) != (tc.want < 0) || (got > 0) != (tc.want > 0) {
			t.Errorf("CompareReasons(%v, %v) = %d, want sign %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// Regulatory reports whose reasons follow the rule validate, whatever the
// combination of overrides and point reasons (none, overrides alone,
// overrides and points, points alone).
func TestValidateReasonOrderAccepts(t *testing.T) {
	for _, reasons := range [][]Reason{
		nil,
		{{Code: "OVR_DISHONEST", Text: "t"}},
		{{Code: "OVR_ABNORMAL", Text: "t"}, {Code: "OVR_COURT_DEBTOR", Text: "t"}},
		{{Code: "OVR_ABNORMAL", Text: "t"}, {Code: "OVR_COURT_DEBTOR", Text: "t"}, {Code: "COURT_DEBTOR", Text: "t", Points: -80}, {Code: "ABNORMAL_LIST", Text: "t", Points: -60}},
		{{Code: "OVR_DISHONEST", Text: "t"}, {Code: "DISHONEST_LIST", Text: "t", Points: -150}, {Code: "HONOR_PROVINCIAL", Text: "t", Points: 20}, {Code: "TAX_A", Text: "t", Points: -20}},
		{{Code: "A", Text: "t", Points: 5}, {Code: "A", Text: "t", Points: -5}},
	} {
		r := sampleReport(EditionRegulatory)
		r.Issuer.KeyID = "k1"
		r.Assessment.Reasons = reasons
		if err := r.Validate(); err != nil {
			t.Errorf("reasons %v: %v", reasons, err)
		}
	}
}
