package signing

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/testenv"
	"github.com/emmansun/gmsm/sm2"
)

// install copies a testdata file into a fresh directory with the given
// mode (git does not keep 0600).
func install(t *testing.T, name string, mode os.FileMode) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // not subject to umask
		t.Fatal(err)
	}
	return path
}

// TestLoadOpenSSLKey: a key written by `openssl genpkey -algorithm ed25519`
// loads, and its key id is the RFC 7638 thumbprint computed independently
// (openssl pkey -pubout, then SHA-256 of the JWK members in Python).
func TestLoadOpenSSLKey(t *testing.T) {
	k, err := Load(install(t, "openssl-ed25519.pem", 0o600))
	if err != nil {
		t.Fatal(err)
	}
	if want := "2cJs_uU8yy8RYVseRCT5ZgMiG0JrfL8PxpeeazP9K18"; k.KeyID != want {
		t.Fatalf("KeyID = %s, want %s", k.KeyID, want)
	}
	keys, err := report.ParseJWKS(k.JWKSJSON())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.Keys) != 1 || keys.Keys[0].X != "ii9bX6e3eZUmn7sAGz615OzKJx2orrR9Afh2fXszwiw" || keys.Keys[0].Kid != k.KeyID {
		t.Fatalf("JWKS = %s", k.JWKSJSON())
	}
	pub, err := keys.Key(k.KeyID)
	if err != nil || !bytes.Equal(pub, k.Public.(ed25519.PublicKey)) {
		t.Fatalf("JWKS key: %v", err)
	}
}

// publicReport is a small valid public-edition report to sign.
func publicReport() *report.Report {
	return &report.Report{Format: report.Format, ReportID: "37-1", Issuer: report.Issuer{Code: "37", Name: "鲁"},
		Edition: report.EditionPublic, IssuedAt: "2026-03-01T08:00:00Z", ValidUntil: "2026-03-31T08:00:00Z",
		Subject: report.Subject{USCC: "91370200MA3C5KQB07", Name: "n", Region: "370200", EntityType: "enterprise",
			RegisteredOn: "2016-05-12", Status: report.SubjectActive}}
}

// TestLoadOpenSSLSM2Key: a key written by `openssl genpkey -algorithm SM2`
// loads as an SM2 key; its JWK's x and y and its kid (the RFC 7638
// thumbprint over crv, kty, x, y) were computed independently (openssl pkey
// -pubout, then the point's coordinates and SHA-256 in Python); it writes
// back as openssl wrote it; what it signs is SM2-SM3 and verifies.
func TestLoadOpenSSLSM2Key(t *testing.T) {
	k, err := Load(install(t, "openssl-sm2.pem", 0o600))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := k.Private.(*sm2.PrivateKey); !ok {
		t.Fatalf("loaded a %T", k.Private)
	}
	if want := "4nIHcerXNc5SE9Wuyckxl3flBFxLqObscg3PYOLs4Pw"; k.KeyID != want {
		t.Fatalf("KeyID = %s, want %s", k.KeyID, want)
	}
	keys, err := report.ParseJWKS(k.JWKSJSON())
	if err != nil {
		t.Fatal(err)
	}
	if j := keys.Keys[0]; len(keys.Keys) != 1 || j.Kty != "EC" || j.Crv != "SM2" || j.Kid != k.KeyID ||
		j.X != "QkGAvWOJxKWnvzjtUBurB2rcJVezIgXKpmSLysh4CtM" || j.Y != "-O8hqKsohSQFkYE5oZdRrvMTR0FZiwUbT6Jy_gH1yQM" {
		t.Fatalf("JWKS = %s", k.JWKSJSON())
	}
	data, err := MarshalPEM(k.Private)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParsePEM(data)
	if err != nil || !again.(*sm2.PrivateKey).Equal(k.Private) {
		t.Fatalf("round trip: %v", err)
	}
	r := publicReport()
	if err := k.Sign(r); err != nil {
		t.Fatal(err)
	}
	if r.Signature.Alg != report.SignatureAlgSM2 {
		t.Fatalf("alg %q", r.Signature.Alg)
	}
	raw, _ := r.CanonicalJSON()
	if _, err := report.Verify(raw, keys, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
}

// TestGenerateSM2: --key-alg sm2 on first start writes a PKCS#8 SM2 key
// that openssl reads as SM2.
func TestGenerateSM2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "signing.pem")
	k, created, err := LoadOrGenerate(path, AlgSM2)
	if err != nil || !created {
		t.Fatalf("created=%v, %v", created, err)
	}
	if _, ok := k.Private.(*sm2.PrivateKey); !ok || k.JWKS.Keys[0].Crv != "SM2" {
		t.Fatalf("generated a %T, JWKS %s", k.Private, k.JWKSJSON())
	}
	if _, err := Generate(filepath.Join(t.TempDir(), "k.pem"), "rsa"); err == nil {
		t.Fatal("Generate accepted algorithm rsa")
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		testenv.MissingTool(t, "openssl", "to read the generated SM2 key")
	}
	out, err := exec.Command("openssl", "pkey", "-in", path, "-noout", "-text").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SM2") {
		t.Fatalf("openssl pkey: %v\n%s", err, out)
	}
}

func TestLoadRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		mode       os.FileMode
		msg        string
	}{
		{"world readable", "openssl-ed25519.pem", 0o644, "has mode 0644: it must not be readable or writable by group or others"},
		{"group readable", "openssl-ed25519.pem", 0o640, "chmod 600"},
		{"group writable", "openssl-ed25519.pem", 0o620, "chmod 600"},
		{"encrypted", "encrypted-ed25519.pem", 0o600, "the key is encrypted"},
		{"rsa", "rsa.pem", 0o600, "not an Ed25519 or SM2 key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(install(t, tc.file, tc.mode))
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Load: %v, want an error containing %q", err, tc.msg)
			}
		})
	}
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.pem")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("directory: %v", err)
	}
	for _, in := range []string{"", "garbage", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"} {
		if _, err := ParsePEM([]byte(in)); err == nil {
			t.Errorf("ParsePEM(%q) accepted", in)
		}
	}
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, make([]byte, maxKeyFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("big file: %v", err)
	}
}

func TestGenerate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "keys", "signing.pem")
	k, created, err := LoadOrGenerate(path, AlgEd25519)
	if err != nil || !created {
		t.Fatalf("first start: created=%v, %v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %#o, want 0600", st.Mode().Perm())
	}
	if dst, _ := os.Stat(filepath.Dir(path)); dst.Mode().Perm() != 0o700 {
		t.Fatalf("key directory mode %#o, want 0700", dst.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if !bytes.HasPrefix(data, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Fatalf("key file:\n%s", data)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	k2, created, err := LoadOrGenerate(path, AlgSM2) // an existing key keeps its type
	if err != nil || created {
		t.Fatalf("second start: created=%v, %v", created, err)
	}
	if !k.Private.(ed25519.PrivateKey).Equal(k2.Private) || k.KeyID != k2.KeyID || k.KeyID != report.KeyID(k.Public.(ed25519.PublicKey)) {
		t.Fatal("second start loaded another key")
	}
	// Generate never replaces a key.
	if _, err := Generate(path, AlgEd25519); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Generate over an existing key: %v", err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, data) {
		t.Fatal("existing key file changed")
	}
	// What the key signs verifies with the key set it publishes.
	r := publicReport()
	if err := k2.Sign(r); err != nil {
		t.Fatal(err)
	}
	raw, _ := r.CanonicalJSON()
	keys, err := report.ParseJWKS(k.JWKSJSON())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := report.Verify(raw, keys, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
}

func TestLoadOrGenerateConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key.pem")
	var wg sync.WaitGroup
	ids := make([]string, 8)
	errs := make([]error, 8)
	for i := range ids {
		wg.Go(func() {
			k, _, err := LoadOrGenerate(path, AlgEd25519)
			errs[i] = err
			if err == nil {
				ids[i] = k.KeyID
			}
		})
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("different keys: %v", ids)
		}
	}
}

func TestMarshalPEMRoundTrip(t *testing.T) {
	k, err := Load(install(t, "openssl-ed25519.pem", 0o600))
	if err != nil {
		t.Fatal(err)
	}
	data, err := MarshalPEM(k.Private)
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(filepath.Join("testdata", "openssl-ed25519.pem"))
	if !bytes.Equal(data, orig) {
		t.Fatalf("MarshalPEM differs from openssl's encoding:\n%s\n%s", data, orig)
	}
}

func FuzzParsePEM(f *testing.F) {
	for _, name := range []string{"openssl-ed25519.pem", "openssl-sm2.pem", "encrypted-ed25519.pem", "rsa.pem"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		priv, err := ParsePEM(data)
		if err != nil {
			return
		}
		// What parses writes back as a key that parses to the same.
		out, err := MarshalPEM(priv)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParsePEM(out)
		if err != nil || !again.(interface{ Equal(crypto.PrivateKey) bool }).Equal(priv) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
