package report

import (
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrisk/creditd/models/testenv"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// signedSM2Sample signs the regulatory sample with a new SM2 key.
func signedSM2Sample(t *testing.T) (*Report, []byte, JWKS, *sm2.PrivateKey) {
	t.Helper()
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := PublicJWK(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	r := sampleReport(EditionRegulatory)
	r.Issuer.KeyID = ""
	if err := Sign(r, priv, jwk.Kid); err != nil {
		t.Fatal(err)
	}
	raw, err := r.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return r, raw, JWKS{Keys: []JWK{jwk}}, priv
}

// TestSM2VerifiesWithOpenSSL: an SM2-SM3 report's signed bytes (report.md
// "Signature" steps 1–2), its DER signature and the public key verify with
// the openssl command the spec gives, and the signed bytes with one byte
// changed do not.
func TestSM2VerifiesWithOpenSSL(t *testing.T) {
	r, raw, keys, priv := signedSM2Sample(t)
	if r.Signature.Alg != SignatureAlgSM2 {
		t.Fatalf("alg %q", r.Signature.Alg)
	}
	if _, err := Verify(raw, keys, testNow); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		testenv.MissingTool(t, "openssl", "the receiver's SM2 check of report.md")
	}
	if out, err := exec.Command("openssl", "list", "-public-key-algorithms").CombinedOutput(); err != nil || !strings.Contains(string(out), "SM2") {
		testenv.MissingTool(t, "openssl with SM2", "this openssl lists no SM2 public key algorithm")
	}
	dir := t.TempDir()
	signed := *r
	signed.Signature = nil
	payload, err := signed.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := decodeSignatureValue(r.Signature.Alg, r.Signature.Value)
	if err != nil {
		t.Fatal(err)
	}
	der, err := smx509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pub := write("pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	sigPath := write("sig.der", sig)
	verify := func(in string) (string, error) {
		out, err := exec.Command("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", in,
			"-sigfile", sigPath, "-digest", "sm3", "-pkeyopt", "distid:"+SM2UserID).CombinedOutput()
		return string(out), err
	}
	if out, err := verify(write("signed-bytes", payload)); err != nil {
		t.Fatalf("openssl rejects the SM2 report: %v\n%s", err, out)
	} else {
		t.Logf("openssl: %s", strings.TrimSpace(out))
	}
	for _, i := range []int{0, len(payload) / 2, len(payload) - 1} {
		bad := append([]byte(nil), payload...)
		bad[i] ^= 0x01
		out, err := verify(write("tampered", bad))
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 {
			t.Fatalf("openssl accepts the signed bytes with byte %d changed: %v\n%s", i, err, out)
		}
	}
}

// TestSM2Rejects: an SM2 signature under an Ed25519 alg (and the reverse)
// fails, as do non-DER signature values and keys off the curve.
func TestSM2Rejects(t *testing.T) {
	_, raw, keys, _ := signedSM2Sample(t)
	s := string(raw)
	if _, err := Verify([]byte(strings.Replace(s, `"alg":"SM2-SM3"`, `"alg":"Ed25519"`, 1)), keys, testNow); err == nil {
		t.Fatal("SM2 signature accepted as Ed25519")
	}
	edRep, edRaw, edKeys := signedSample(t, EditionRegulatory)
	both := JWKS{Keys: append(edKeys.Keys, keys.Keys...)}
	if _, err := Verify(edRaw, both, testNow); err != nil {
		t.Fatalf("Ed25519 report with a mixed key set: %v", err)
	}
	if _, err := Verify([]byte(strings.Replace(string(edRaw), `"alg":"Ed25519"`, `"alg":"SM2-SM3"`, 1)), both, testNow); err == nil {
		t.Fatalf("Ed25519 signature accepted as SM2 (%s)", edRep.Signature.Value)
	}
	for _, bad := range [][]byte{
		{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00}, // trailing byte
		{0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01},       // r = 0
		{0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01}, // non-minimal INTEGER
		{0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}, // long-form length
		make([]byte, 73),
	} {
		if err := checkSM2Signature(bad); err == nil {
			t.Errorf("checkSM2Signature accepted % x", bad)
		}
	}
	if err := checkSM2Signature([]byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}); err != nil {
		t.Errorf("minimal DER rejected: %v", err)
	}
	off := keys.Keys[0]
	off.Y = off.X // (x, x) is not on the curve
	if _, err := off.VerifyingKey(); err == nil {
		t.Error("a point off the SM2 curve accepted")
	}
}
