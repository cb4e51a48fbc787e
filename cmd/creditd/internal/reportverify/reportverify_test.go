// Package reportverify_test checks the issuer's credit-report/v1 signing
// (package models) against an independent verifier (verifier_test.go),
// which shares no code with it.
package reportverify_test

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/reportverify"
	"github.com/creditrisk/creditd/models/report"
	"github.com/emmansun/gmsm/sm2"
)

var now = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func key(seed byte) (ed25519.PrivateKey, []byte) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	keys, err := json.Marshal(report.NewJWKS(priv.Public().(ed25519.PublicKey)))
	if err != nil {
		panic(err)
	}
	return priv, keys
}

func strp(s string) *string { return &s }

// TestGoldenVectors: the issuer's published test vectors verify
// independently, and the independent canonical form of the report without
// its signature is byte for byte the issuer's signed bytes.
func TestGoldenVectors(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "..", "models", "report", "testdata", "report")
	keys, err := os.ReadFile(filepath.Join(dir, "jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ed := range []string{"public", "regulatory"} {
		raw, err := os.ReadFile(filepath.Join(dir, "report-"+ed+".json"))
		if err != nil {
			t.Fatal(err)
		}
		signed, err := os.ReadFile(filepath.Join(dir, "report-"+ed+".signed-bytes.txt"))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := reportverify.Verify(raw, keys, now)
		if err != nil {
			t.Fatalf("%s: %v", ed, err)
		}
		canon, err := doc.CanonicalWithout("signature")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(canon, signed) {
			t.Fatalf("%s: canonical forms differ:\nindependent %s\nissuer      %s", ed, canon, signed)
		}
		if _, err := report.Verify(raw, mustKeys(t, keys), now); err != nil {
			t.Fatalf("%s: issuer's verifier: %v", ed, err)
		}
	}
}

func mustKeys(t testing.TB, b []byte) report.JWKS {
	t.Helper()
	k, err := report.ParseJWKS(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// alphabet for random text: CJK, Latin-1, characters JSON or HTML writers
// escape (<, >, &, U+2028), quotes and backslashes, and characters on both
// sides of the UTF-16 surrogate range (U+D7FF, U+E000, U+FFFF, non-BMP).
var alphabet = []rune("aZ09 -_<>&'\"\\/信用报告青岛é\u0080\u2028\u2029\ud7ff\ue000\ufb33\uffff😀𠀀\U0010ffff")

func randText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range 1 + r.IntN(n) {
		b.WriteRune(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

// randDetail is a detail object with random member names (names that sort
// differently by code point and by UTF-16), strings with control
// characters, and integers up to ±2^53.
func randDetail(r *rand.Rand) json.RawMessage {
	m := map[string]any{}
	for range r.IntN(5) {
		name := randText(r, 4)
		switch r.IntN(4) {
		case 0:
			m[name] = randText(r, 8) + string(rune(r.IntN(0x20)))
		case 1:
			m[name] = r.Int64N(1<<54+1) - 1<<53
		case 2:
			m[name] = []any{int64(1 << 53), int64(-1 << 53), true, nil, randText(r, 3)}
		default:
			m[name] = map[string]any{randText(r, 2): randText(r, 2), "\uffff": 1, "😀": 2}
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func randReport(r *rand.Rand, edition string) *report.Report {
	rep := &report.Report{
		Format:     report.Format,
		ReportID:   fmt.Sprintf("37-%016x", r.Uint64()),
		Issuer:     report.Issuer{Code: "37", Name: randText(r, 12)},
		Edition:    edition,
		IssuedAt:   "2026-03-01T08:00:00Z",
		ValidUntil: "2026-03-31T08:00:00Z",
		Subject: report.Subject{USCC: "91370200MA3C5KQB07", Name: randText(r, 20), Region: "370200",
			EntityType: "enterprise", RegisteredOn: "2016-05-12", Status: report.SubjectActive},
	}
	statuses := []string{report.RecordActive, report.RecordRepaired, report.RecordExpired, report.RecordRemoved}
	for i := range r.IntN(4) {
		rec := report.Record{ID: fmt.Sprintf("EV-%d-%d", i, r.IntN(1000)), Category: "penalty", Detail: randDetail(r),
			Authority: randText(r, 10), OccurredOn: "2025-06-03", Status: statuses[r.IntN(4)]}
		if r.IntN(2) == 0 {
			rec.PublicityUntil = strp("2026-06-02")
		}
		if rec.Status == report.RecordRepaired {
			rec.RepairedOn = strp("2025-10-09")
		}
		rep.Records = append(rep.Records, rec)
	}
	if edition == report.EditionRegulatory {
		rep.Assessment = &report.Assessment{AsOf: "2026-03-01T07:00:00Z", Score: r.Int64N(1001) - 500,
			Tier: "B", TierScheme: "national-4", Model: randText(r, 8)}
		for p := 100; p > 0 && r.IntN(3) > 0; p -= 10 {
			rep.Assessment.Reasons = append(rep.Assessment.Reasons, report.Reason{Code: "r", Text: randText(r, 10), Points: int64(p)})
		}
	}
	return rep
}

// TestIssuerReportsVerifyIndependently signs random reports with the
// issuer and verifies them with both verifiers, from the canonical bytes
// and from encoding/json's non-canonical, HTML-escaped output.
func TestIssuerReportsVerifyIndependently(t *testing.T) {
	priv, keysJSON := key(1)
	keys := mustKeys(t, keysJSON)
	kid := report.KeyID(priv.Public().(ed25519.PublicKey))
	r := rand.New(rand.NewPCG(37, 8785))
	for i := range 300 {
		ed := []string{report.EditionPublic, report.EditionRegulatory}[i%2]
		rep := randReport(r, ed)
		if err := report.Sign(rep, priv, kid); err != nil {
			t.Fatalf("case %d: SignReport: %v", i, err)
		}
		canon, err := rep.CanonicalJSON()
		if err != nil {
			t.Fatal(err)
		}
		plain, err := json.MarshalIndent(rep, "", "\t")
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range [][]byte{canon, plain} {
			if _, err := reportverify.Verify(raw, keysJSON, now); err != nil {
				t.Fatalf("case %d: independent verifier: %v\n%s", i, err, raw)
			}
			if _, err := report.Verify(raw, keys, now); err != nil {
				t.Fatalf("case %d: issuer verifier: %v\n%s", i, err, raw)
			}
		}
		// And neither accepts it with another key under the same kid.
		other, _ := key(2)
		wrong, _ := json.Marshal(report.JWKS{Keys: []report.JWK{{Kty: "OKP", Crv: "Ed25519",
			X: report.NewJWK(other.Public().(ed25519.PublicKey)).X, Kid: kid}}})
		if _, err := reportverify.Verify(canon, wrong, now); err == nil {
			t.Fatalf("case %d: independent verifier accepted the wrong key", i)
		}
		if _, err := report.Verify(canon, mustKeys(t, wrong), now); err == nil {
			t.Fatalf("case %d: issuer verifier accepted the wrong key", i)
		}
	}
}

// TestEveryByteFlipFails flips each bit of each byte of a small signed
// report: every altered document must fail in both verifiers (as a bad
// signature, a bad field, or invalid JSON). Ed25519 and SM2-SM3.
func TestEveryByteFlipFails(t *testing.T) {
	t.Run("Ed25519", func(t *testing.T) {
		priv, keysJSON := key(3)
		everyByteFlipFails(t, priv, keysJSON)
	})
	t.Run("SM2-SM3", func(t *testing.T) {
		priv, err := sm2.GenerateKey(crand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		jwk, err := report.PublicJWK(priv.Public())
		if err != nil {
			t.Fatal(err)
		}
		keysJSON, _ := json.Marshal(report.JWKS{Keys: []report.JWK{jwk}})
		everyByteFlipFails(t, priv, keysJSON)
	})
}

func everyByteFlipFails(t *testing.T, priv crypto.Signer, keysJSON []byte) {
	keys := mustKeys(t, keysJSON)
	kid := keys.Keys[0].Kid
	rep := &report.Report{
		Format: report.Format, ReportID: "37-1", Issuer: report.Issuer{Code: "37", Name: "鲁"},
		Edition: report.EditionRegulatory, IssuedAt: "2026-03-01T08:00:00Z", ValidUntil: "2026-03-31T08:00:00Z",
		Subject: report.Subject{USCC: "91370200MA3C5KQB07", Name: "青岛😀", Region: "370200",
			EntityType: "enterprise", RegisteredOn: "2016-05-12", Status: report.SubjectActive},
		Assessment: &report.Assessment{AsOf: "2026-03-01T08:00:00Z", Score: 612, Tier: "C", TierScheme: "national-4",
			Model: "m/1", Reasons: []report.Reason{{Code: "a", Text: "b", Points: 9}}},
		Records: []report.Record{{ID: "E1", Category: "penalty", Detail: json.RawMessage(`{"n":20000,"s":"x\n"}`),
			Authority: "A", OccurredOn: "2025-06-03", Status: report.RecordRepaired, PublicityUntil: strp("2026-06-02"),
			RepairedOn: strp("2025-10-09")}},
	}
	if err := report.Sign(rep, priv, kid); err != nil {
		t.Fatal(err)
	}
	raw, err := rep.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reportverify.Verify(raw, keysJSON, now); err != nil {
		t.Fatalf("unaltered report: %v", err)
	}
	if _, err := report.Verify(raw, keys, now); err != nil {
		t.Fatalf("unaltered report, issuer verifier: %v", err)
	}
	flipped := make([]byte, len(raw))
	tried := 0
	for pos := range raw {
		for bit := range 8 {
			copy(flipped, raw)
			flipped[pos] ^= 1 << bit
			tried++
			if _, err := reportverify.Verify(flipped, keysJSON, now); err == nil {
				t.Errorf("independent verifier accepts bit %d of byte %d flipped: %s", bit, pos, flipped)
			}
			if _, err := report.Verify(flipped, keys, now); err == nil {
				t.Errorf("issuer verifier accepts bit %d of byte %d flipped: %s", bit, pos, flipped)
			}
		}
	}
	t.Logf("%d single-bit alterations of a %d-byte report, all rejected by both", tried, len(raw))
}

// TestPublicEditionHasNoAssessment: the issuer's public edition has no
// "assessment" member at all, and both verifiers refuse one that does.
func TestPublicEditionHasNoAssessment(t *testing.T) {
	priv, keysJSON := key(4)
	kid := report.KeyID(priv.Public().(ed25519.PublicKey))
	r := rand.New(rand.NewPCG(1, 1))
	rep := randReport(r, report.EditionPublic)
	if err := report.Sign(rep, priv, kid); err != nil {
		t.Fatal(err)
	}
	raw, _ := rep.CanonicalJSON()
	doc, err := reportverify.Verify(raw, keysJSON, now)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Has("assessment") {
		t.Fatal("public edition has an assessment member")
	}
	// The issuer refuses to sign a public edition with an assessment...
	leaky := randReport(r, report.EditionRegulatory)
	leaky.Edition = report.EditionPublic
	if err := report.Sign(leaky, priv, kid); err == nil {
		t.Fatal("issuer signed a public edition with an assessment")
	}
	// ...and a public edition carrying one, even signed, is refused by both.
	leaky.Edition = report.EditionRegulatory
	if err := report.Sign(leaky, priv, kid); err != nil {
		t.Fatal(err)
	}
	regRaw, _ := leaky.CanonicalJSON()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(regRaw))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	m["edition"] = "public"
	delete(m, "signature")
	body, _ := json.Marshal(m)
	// Sign it as a careless issuer would, with the independent canonical form.
	canon, err := reportverify.Canonicalize(body)
	if err != nil {
		t.Fatal(err)
	}
	sig := ed25519.Sign(priv, canon)
	m["signature"] = map[string]any{"alg": "Ed25519", "key_id": kid, "value": base64.RawURLEncoding.EncodeToString(sig)}
	bad, _ := json.Marshal(m)
	if _, err := reportverify.Verify(bad, keysJSON, now); err == nil || !strings.Contains(err.Error(), "public edition") {
		t.Fatalf("independent verifier: %v", err)
	}
	if _, err := report.Verify(bad, mustKeys(t, keysJSON), now); err == nil || !strings.Contains(err.Error(), "no assessment") {
		t.Fatalf("issuer verifier: %v", err)
	}
}

// signCareless signs rep as an issuer that does not validate would: the
// independent canonical form of the report without signature, signed.
func signCareless(t *testing.T, priv ed25519.PrivateKey, rep *report.Report) []byte {
	t.Helper()
	kid := report.KeyID(priv.Public().(ed25519.PublicKey))
	rep.Issuer.KeyID = kid
	rep.Signature = nil
	body, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	canon, err := reportverify.Canonicalize(body)
	if err != nil {
		t.Fatal(err)
	}
	rep.Signature = &report.Signature{Alg: report.SignatureAlg, KeyID: kid,
		Value: base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, canon))}
	raw, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// verdicts returns whether each verifier accepts raw.
func verdicts(raw, keysJSON []byte, keys report.JWKS) (independent, issuer error) {
	_, independent = reportverify.Verify(raw, keysJSON, now)
	_, issuer = report.Verify(raw, keys, now)
	return independent, issuer
}

// Both verifiers apply report.md "Order of reasons" the same way, on
// orders worked out by hand (signed without validation, so that the
// verifiers alone judge).
func TestReasonOrderBothVerifiers(t *testing.T) {
	priv, keysJSON := key(5)
	keys := mustKeys(t, keysJSON)
	type rs = report.Reason
	for _, tc := range []struct {
		name    string
		reasons []rs
		ok      bool
	}{
		{"none", nil, true},
		{"one override", []rs{{Code: "OVR_DISHONEST", Points: 0}}, true},
		{"overrides by code", []rs{{Code: "OVR_ABNORMAL"}, {Code: "OVR_COURT_DEBTOR"}}, true},
		{"overrides not by code", []rs{{Code: "OVR_COURT_DEBTOR"}, {Code: "OVR_ABNORMAL"}}, false},
		{"prefix code first", []rs{{Code: "OVR_ABNORMAL_3Y"}, {Code: "OVR_ABNORMAL"}}, false},
		{"override then points", []rs{{Code: "OVR_DISHONEST"}, {Code: "DISHONEST_LIST", Points: -150}, {Code: "PEN_SERIOUS", Points: -90}}, true},
		{"points then override", []rs{{Code: "DISHONEST_LIST", Points: -150}, {Code: "OVR_DISHONEST"}}, false},
		{"override after smallest", []rs{{Code: "A", Points: 1}, {Code: "Z"}}, false},
		{"non-increasing with sign", []rs{{Code: "PEN", Points: -90}, {Code: "HON", Points: 30}, {Code: "AR", Points: -5}}, true},
		{"increasing", []rs{{Code: "HON", Points: 30}, {Code: "PEN", Points: -90}}, false},
		{"longer integer larger", []rs{{Code: "A", Points: 9}, {Code: "B", Points: -10}}, false},
		{"tie by code", []rs{{Code: "HONOR_PROVINCIAL", Points: 20}, {Code: "TAX_A", Points: -20}}, true},
		{"tie not by code", []rs{{Code: "TAX_A", Points: 20}, {Code: "HONOR_PROVINCIAL", Points: 20}}, false},
		{"tie by code point", []rs{{Code: "B", Points: 5}, {Code: "a", Points: 5}, {Code: "ä", Points: 5}}, true},
		{"equal reasons", []rs{{Code: "A", Points: 5}, {Code: "A", Points: -5}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := randReport(rand.New(rand.NewPCG(5, 5)), report.EditionRegulatory)
			rep.Assessment.Reasons = nil
			for _, r := range tc.reasons {
				r.Text = "t"
				rep.Assessment.Reasons = append(rep.Assessment.Reasons, r)
			}
			ind, iss := verdicts(signCareless(t, priv, rep), keysJSON, keys)
			if (ind == nil) != tc.ok || (iss == nil) != tc.ok {
				t.Fatalf("want accepted=%v; independent: %v; issuer: %v", tc.ok, ind, iss)
			}
		})
	}
}

// Random reasons (overrides, ties, signs) sorted by the issuer's
// CompareReasons pass both verifiers; swapping two neighbours of different
// rank fails both.
func TestReasonOrderRandomAgree(t *testing.T) {
	priv, keysJSON := key(6)
	keys := mustKeys(t, keysJSON)
	r := rand.New(rand.NewPCG(6, 6))
	codes := []string{"OVR_A", "OVR_B", "PEN", "HON", "TAX_A", "a", "ä", "Z"}
	var swapped int
	for i := range 300 {
		rep := randReport(r, report.EditionRegulatory)
		rep.Assessment.Reasons = nil
		for range r.IntN(6) {
			p := int64(r.IntN(5)*10) * int64(1-2*r.IntN(2))
			rep.Assessment.Reasons = append(rep.Assessment.Reasons, report.Reason{Code: codes[r.IntN(len(codes))], Text: "t", Points: p})
		}
		slices.SortFunc(rep.Assessment.Reasons, report.CompareReasons)
		if ind, iss := verdicts(signCareless(t, priv, rep), keysJSON, keys); ind != nil || iss != nil {
			t.Fatalf("case %d sorted %v: independent: %v; issuer: %v", i, rep.Assessment.Reasons, ind, iss)
		}
		rs := rep.Assessment.Reasons
		for j := 1; j < len(rs); j++ {
			if report.CompareReasons(rs[j-1], rs[j]) == 0 {
				continue
			}
			rs[j-1], rs[j] = rs[j], rs[j-1]
			if ind, iss := verdicts(signCareless(t, priv, rep), keysJSON, keys); ind == nil || iss == nil {
				t.Fatalf("case %d swapped %v: independent: %v; issuer: %v", i, rs, ind, iss)
			}
			swapped++
			break
		}
	}
	if swapped < 100 {
		t.Fatalf("only %d swapped cases", swapped)
	}
}
