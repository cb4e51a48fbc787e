// Package signing holds creditd's report-signing key: an Ed25519 or SM2
// private key in a PEM PKCS#8 file (what `openssl genpkey -algorithm
// ed25519` or `-algorithm SM2` writes), loaded at start or generated on
// first start, and the public key set (JWKS) that GET /v1/keys serves so
// that receivers can verify reports. The reports' signature algorithm
// follows the key (report.md "Signature").
//
// The key file must be readable by its owner only: Load refuses a file with
// any group or other permission bits, as ssh does, because whoever can read
// it can issue credit reports in the issuer's name.
package signing

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/creditrisk/creditd/models/report"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// The key algorithms of Generate (creditd's --key-alg).
const (
	AlgEd25519 = "ed25519" // Ed25519 reports (the default)
	AlgSM2     = "sm2"     // SM2-SM3 reports (GB/T 32918, GB/T 32905)
)

// Key is the issuer's signing key and what is published of it.
type Key struct {
	// Private is an ed25519.PrivateKey or a *sm2.PrivateKey.
	Private crypto.Signer
	// Public is its ed25519.PublicKey or SM2 *ecdsa.PublicKey.
	Public crypto.PublicKey
	// KeyID is the RFC 7638 thumbprint of Public (report.KeyID): the
	// key_id written into every report this key signs, and the kid in JWKS.
	KeyID string
	// JWKS is the public key set to serve at GET /v1/keys.
	JWKS report.JWKS
}

// New returns the Key of priv, an ed25519.PrivateKey or a *sm2.PrivateKey.
func New(priv crypto.Signer) (*Key, error) {
	switch priv.(type) {
	case ed25519.PrivateKey, *sm2.PrivateKey:
	default:
		return nil, fmt.Errorf("a %T, not an Ed25519 or SM2 key", priv)
	}
	pub := priv.Public()
	jwk, err := report.PublicJWK(pub)
	if err != nil {
		return nil, err
	}
	return &Key{Private: priv, Public: pub, KeyID: jwk.Kid, JWKS: report.JWKS{Keys: []report.JWK{jwk}}}, nil
}

// Sign signs r with the key: report.Sign(r, k.Private, k.KeyID).
func (k *Key) Sign(r *report.Report) error {
	return report.Sign(r, k.Private, k.KeyID)
}

// JWKSJSON returns the key set as indented JSON, ready to serve with
// Content-Type application/jwk-set+json (RFC 7517 §8.5).
func (k *Key) JWKSJSON() []byte {
	b, err := json.MarshalIndent(k.JWKS, "", "  ")
	if err != nil {
		panic(err) // a struct of strings always marshals
	}
	return append(b, '\n')
}

// maxKeyFile bounds how much of a key file is read; a PKCS#8 Ed25519 key
// in PEM is 119 bytes, an SM2 one 241.
const maxKeyFile = 64 << 10

// Load reads the Ed25519 or SM2 private key in the PEM file at path. The
// file must hold a "PRIVATE KEY" block (PKCS#8) of such a key and must not be
// accessible to group or others. A missing file gives an error matching
// fs.ErrNotExist.
func Load(path string) (*Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("signing key %s: not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("signing key %s has mode %#o: it must not be readable or writable by group or others "+
			"(whoever reads it can sign credit reports); run: chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("signing key %s: larger than %d bytes, not a key file", path, maxKeyFile)
	}
	priv, err := ParsePEM(data)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	k, err := New(priv)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return k, nil
}

// ParsePEM parses the first PEM block of data as a PKCS#8 Ed25519 or SM2
// private key (an ed25519.PrivateKey or a *sm2.PrivateKey), with errors
// that say what to do about the usual wrong inputs.
func ParsePEM(data []byte) (crypto.Signer, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New(`no PEM "PRIVATE KEY" block; create one with: openssl genpkey -algorithm ed25519 -out key.pem`)
		}
		switch block.Type {
		case "PRIVATE KEY":
			// smx509 reads the SM2 curve's OID, and otherwise defers to
			// crypto/x509.
			k, err := smx509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("PKCS#8: %v", err)
			}
			switch priv := k.(type) {
			case ed25519.PrivateKey:
				return priv, nil
			case *sm2.PrivateKey:
				return priv, nil
			}
			return nil, fmt.Errorf("a %T, not an Ed25519 or SM2 key; create one with: openssl genpkey -algorithm ed25519 (or -algorithm SM2)", k)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("the key is encrypted; creditd needs it unencrypted (protect it with file permissions): " +
				"openssl pkey -in encrypted.pem -out key.pem")
		case "OPENSSH PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			return nil, fmt.Errorf("a %q block; creditd needs a PKCS#8 Ed25519 or SM2 key: openssl genpkey -algorithm ed25519 -out key.pem", block.Type)
		}
		// Other blocks (a certificate, parameters) are skipped.
	}
}

// QueryKey derives the key of report query codes (objection.QueryCode)
// from the signing key: SHA-256 over a domain string and the key's PKCS#8
// form. A new signing key gives new query codes.
func QueryKey(priv crypto.Signer) ([]byte, error) {
	p, err := MarshalPEM(priv)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write([]byte("creditd/query-code-key/v1\x00"))
	h.Write(p)
	return h.Sum(nil), nil
}

// MarshalPEM returns priv as a PEM PKCS#8 "PRIVATE KEY" block, the format
// Load reads and openssl writes.
func MarshalPEM(priv crypto.Signer) ([]byte, error) {
	var (
		der []byte
		err error
	)
	if k, ok := priv.(*sm2.PrivateKey); ok {
		der, err = smx509.MarshalPKCS8PrivateKey(k)
	} else {
		der, err = x509.MarshalPKCS8PrivateKey(priv)
	}
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// Generate creates a new key of algorithm alg (AlgEd25519 or AlgSM2) and
// writes it to path with mode 0600,
// creating path's directory (mode 0700) if needed. The write is atomic and
// durable: a temporary file in the same directory is written and fsynced,
// then linked to path (which fails if path exists: an existing key is never
// replaced), and the directory is fsynced.
func Generate(path, alg string) (*Key, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case AlgEd25519:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case AlgSM2:
		priv, err = sm2.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("generate signing key: algorithm %q is not %q or %q", alg, AlgEd25519, AlgSM2)
	}
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	k, err := New(priv)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	data, err := MarshalPEM(priv)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	if err := writeNew(path, data); err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	return k, nil
}

// LoadOrGenerate loads the key at path, or generates one there when the
// file does not exist (first start), of algorithm alg (see Generate; an
// existing key is loaded whatever its type). created reports whether it did. Two
// processes starting at once end up with the same key: the loser of the
// race loads the winner's.
func LoadOrGenerate(path, alg string) (k *Key, created bool, err error) {
	k, err = Load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	k, err = Generate(path, alg)
	if errors.Is(err, fs.ErrExist) {
		k, err = Load(path)
		return k, false, err
	}
	return k, err == nil, err
}

// writeNew writes data to a new file at path, atomically and durably.
func writeNew(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp") // mode 0600
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer func() {
		if tmp != nil {
			tmp.Close()
		}
		os.Remove(tmpName) // after a link the key stays under path
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err := io.Copy(tmp, bytes.NewReader(data)); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		tmp = nil
		return err
	}
	tmp = nil
	// Link, unlike rename, refuses to replace an existing file.
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", path, fs.ErrExist)
		}
		// A file system without hard links: rename, after checking that
		// nothing is there (a narrower race, but no worse than none).
		if _, serr := os.Lstat(path); serr == nil {
			return fmt.Errorf("%s: %w", path, fs.ErrExist)
		}
		if rerr := os.Rename(tmpName, path); rerr != nil {
			return fmt.Errorf("link %s: %v; rename: %w", path, err, rerr)
		}
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
