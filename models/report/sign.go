package report

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/creditrisk/creditd/models/jcs"
	"github.com/emmansun/gmsm/sm2"
)

// Signing and verifying credit-report/v1 (report.md "Signature"), and the
// issuers' public keys as a JSON Web Key Set (RFC 7517) of Ed25519 OKP keys
// (RFC 8037) and SM2 EC keys (sm2.go).

// Verification errors, matched with errors.Is. A malformed report gives an
// error matching ErrInvalid (a *Error).
var (
	// ErrSignature: the signature does not verify with the named key;
	// the report was altered or signed by someone else.
	ErrSignature = errors.New("credit report signature does not verify")
	// ErrUnknownKey: no key in the key set has the report's key_id.
	ErrUnknownKey = errors.New("credit report signed by a key not in the key set")
	// ErrKeyMismatch: signature.key_id differs from issuer.key_id.
	ErrKeyMismatch = errors.New("credit report signature.key_id differs from issuer.key_id")
	// ErrUnsigned: the report has no signature member.
	ErrUnsigned = errors.New("credit report is not signed")
	// ErrExpired: authentic, but valid_until has passed; ask the
	// issuer for a fresh report.
	ErrExpired = errors.New("credit report has expired")
)

var b64url = base64.RawURLEncoding.Strict()

// decodeSignatureValue decodes a signature value of algorithm alg:
// unpadded base64url, canonical (no stray bits in the last character), of
// 64 bytes for Ed25519 or a DER SEQUENCE of two positive INTEGERs for SM2.
func decodeSignatureValue(alg, v string) ([]byte, error) {
	sig, err := b64url.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("not unpadded base64url: %v", err)
	}
	switch alg {
	case SignatureAlg:
		if len(sig) != ed25519.SignatureSize {
			return nil, fmt.Errorf("decodes to %d bytes, an Ed25519 signature has %d", len(sig), ed25519.SignatureSize)
		}
	case SignatureAlgSM2:
		if err := checkSM2Signature(sig); err != nil {
			return nil, err
		}
	}
	return sig, nil
}

// Sign signs r with priv under keyID: it sets r.Issuer.KeyID to keyID
// when empty (and refuses a different one), validates r, and sets
// r.Signature to the signature of the RFC 8785 canonical form of r without
// its signature member. The algorithm follows the key: an
// ed25519.PrivateKey signs with Ed25519, a *sm2.PrivateKey with SM2-SM3
// (report.md "Signature"). Any previous signature is replaced. On error
// r.Signature is nil.
func Sign(r *Report, priv crypto.Signer, keyID string) error {
	r.Signature = nil
	alg, err := signatureAlg(priv)
	if err != nil {
		return fmt.Errorf("sign credit report: %w", err)
	}
	if keyID == "" {
		return errors.New("sign credit report: empty key id")
	}
	switch r.Issuer.KeyID {
	case "":
		r.Issuer.KeyID = keyID
	case keyID:
	default:
		return fmt.Errorf("sign credit report: issuer.key_id is %q, signing with key %q", r.Issuer.KeyID, keyID)
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("sign credit report: %w", err)
	}
	payload, err := r.CanonicalJSON() // Signature is nil: the member is absent
	if err != nil {
		return fmt.Errorf("sign credit report: %w", err)
	}
	var sig []byte
	switch k := priv.(type) {
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, payload)
	case *sm2.PrivateKey:
		if sig, err = signSM2(k, payload); err != nil {
			return fmt.Errorf("sign credit report: %w", err)
		}
	}
	r.Signature = &Signature{Alg: alg, KeyID: keyID, Value: b64url.EncodeToString(sig)}
	return nil
}

// signatureAlg returns the report signature algorithm of priv.
func signatureAlg(priv crypto.Signer) (string, error) {
	switch k := priv.(type) {
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return "", fmt.Errorf("private key has %d bytes, want %d", len(k), ed25519.PrivateKeySize)
		}
		return SignatureAlg, nil
	case *sm2.PrivateKey:
		if k == nil || k.D == nil {
			return "", errors.New("empty SM2 private key")
		}
		return SignatureAlgSM2, nil
	}
	return "", fmt.Errorf("a %T key; credit reports are signed with Ed25519 or SM2 keys", priv)
}

// Verify verifies a credit-report/v1 document from the bytes as
// received, and returns it decoded. It
//
//  1. parses and validates the document strictly (Parse): any error
//     matches ErrInvalid;
//  2. canonicalises the document without its "signature" member per
//     RFC 8785, from the raw bytes, so members unknown to this reader (added
//     by another issuer, or by a later minor version) are covered too;
//  3. requires signature.alg "Ed25519" or "SM2-SM3" and signature.key_id
//     equal to issuer.key_id (ErrKeyMismatch), finds that key in keys
//     (ErrUnknownKey), requires its type to match the algorithm, and
//     checks the signature (ErrSignature);
//  4. rejects a report whose valid_until is before now (ErrExpired).
//
// The signature is checked before the expiry, so ErrExpired means the
// report is authentic but stale.
func Verify(raw []byte, keys JWKS, now time.Time) (*Report, error) {
	// The key id checks come first so that their specific errors are not
	// buried among validation problems.
	var head struct {
		Issuer struct {
			KeyID *string `json:"key_id"`
		} `json:"issuer"`
		Signature *struct {
			KeyID *string `json:"key_id"`
		} `json:"signature"`
	}
	if json.Unmarshal(raw, &head) == nil && head.Signature != nil {
		if ik, sk := head.Issuer.KeyID, head.Signature.KeyID; ik != nil && sk != nil && *ik != *sk {
			return nil, fmt.Errorf("%w: signature.key_id %q, issuer.key_id %q", ErrKeyMismatch, *sk, *ik)
		}
	}
	r, signed, err := parseReport(raw)
	if err != nil {
		return nil, err
	}
	if r.Signature == nil {
		return nil, ErrUnsigned
	}
	pub, err := keys.VerifyingKey(r.Signature.KeyID)
	if err != nil {
		return nil, err
	}
	sig, err := decodeSignatureValue(r.Signature.Alg, r.Signature.Value)
	if err != nil { // unreachable: Validate checked it
		return nil, &Error{Problems: []string{"signature.value: " + err.Error()}}
	}
	var ok bool
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if r.Signature.Alg != SignatureAlg {
			return nil, fmt.Errorf("%w: signature.alg %q with the Ed25519 key %s", ErrSignature, r.Signature.Alg, r.Signature.KeyID)
		}
		ok = ed25519.Verify(k, signed, sig)
	case *ecdsa.PublicKey:
		if r.Signature.Alg != SignatureAlgSM2 {
			return nil, fmt.Errorf("%w: signature.alg %q with the SM2 key %s", ErrSignature, r.Signature.Alg, r.Signature.KeyID)
		}
		ok = verifySM2(k, signed, sig)
	}
	if !ok {
		return nil, fmt.Errorf("%w (key %s)", ErrSignature, r.Signature.KeyID)
	}
	until, _ := ParseInstant(r.ValidUntil) // validated
	if now.After(until) {
		return nil, fmt.Errorf("%w: valid until %s, now %s", ErrExpired, r.ValidUntil, Instant(now))
	}
	return r, nil
}

// JWK is one public key of a JSON Web Key Set (RFC 7517): an Ed25519
// OKP key (RFC 8037) or an SM2 EC key (report.md "Signature"). Other key
// types may appear in a set; they are kept and never used.
type JWK struct {
	Kty    string   `json:"kty"`               // "OKP" or "EC"
	Crv    string   `json:"crv,omitempty"`     // "Ed25519" or "SM2"
	X      string   `json:"x,omitempty"`       // base64url public key (OKP) or x coordinate (EC, 32 bytes)
	Y      string   `json:"y,omitempty"`       // base64url y coordinate (EC, 32 bytes)
	Kid    string   `json:"kid,omitempty"`     // key id, KeyID(pub) for keys made here
	Use    string   `json:"use,omitempty"`     // "sig"
	Alg    string   `json:"alg,omitempty"`     // "EdDSA" or "SM2-SM3"
	KeyOps []string `json:"key_ops,omitempty"` // if present, must allow "verify"
}

// JWKS is a JSON Web Key Set: what GET /v1/keys serves.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// KeyID returns the RFC 7638 JWK thumbprint of an Ed25519 public key: the
// base64url (unpadded) SHA-256 of {"crv":"Ed25519","kty":"OKP","x":"…"}.
// Anyone can derive it from the public key alone.
func KeyID(pub ed25519.PublicKey) string {
	return JWK{Kty: "OKP", Crv: "Ed25519", X: b64url.EncodeToString(pub)}.Thumbprint()
}

// Thumbprint returns the RFC 7638 thumbprint of k: the base64url
// (unpadded) SHA-256 of its required members in lexicographic order,
// without white space: crv, kty, x for OKP; crv, kty, x, y for EC.
func (k JWK) Thumbprint() string {
	m := map[string]string{"crv": k.Crv, "kty": k.Kty, "x": k.X}
	if k.Kty == "EC" {
		m["y"] = k.Y
	}
	b, err := json.Marshal(m) // sorted keys, no white space
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	h := sha256.Sum256(b)
	return b64url.EncodeToString(h[:])
}

// NewJWK returns the JWK of pub with kid KeyID(pub), use "sig", alg "EdDSA".
func NewJWK(pub ed25519.PublicKey) JWK {
	return JWK{Kty: "OKP", Crv: "Ed25519", X: b64url.EncodeToString(pub), Kid: KeyID(pub), Use: "sig", Alg: "EdDSA"}
}

// PublicJWK returns the JWK of an ed25519.PublicKey (as NewJWK) or an SM2
// *ecdsa.PublicKey (kty "EC", crv "SM2", alg "SM2-SM3"), with kid its RFC
// 7638 thumbprint and use "sig".
func PublicJWK(pub crypto.PublicKey) (JWK, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return JWK{}, fmt.Errorf("Ed25519 public key of %d bytes", len(k))
		}
		return NewJWK(k), nil
	case *ecdsa.PublicKey:
		return sm2JWK(k)
	}
	return JWK{}, fmt.Errorf("a %T public key; credit reports are signed with Ed25519 or SM2 keys", pub)
}

// NewJWKS returns the key set of the given public keys.
func NewJWKS(pubs ...ed25519.PublicKey) JWKS {
	s := JWKS{Keys: make([]JWK, len(pubs))}
	for i, p := range pubs {
		s.Keys[i] = NewJWK(p)
	}
	return s
}

// ParseJWKS decodes a JSON Web Key Set. Keys of types other than OKP
// Ed25519 and EC SM2 are kept but never used; a malformed Ed25519 or SM2
// key is an error, as are two keys with the same kid.
func ParseJWKS(data []byte) (JWKS, error) {
	var s JWKS
	if _, err := jcs.Canonicalize(data); err != nil {
		return JWKS{}, fmt.Errorf("key set: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return JWKS{}, fmt.Errorf("key set: %w", err)
	}
	if s.Keys == nil {
		return JWKS{}, errors.New(`key set: no "keys" array`)
	}
	kids := make(map[string]int, len(s.Keys))
	for i, k := range s.Keys {
		if k.Kty == "OKP" && k.Crv == "Ed25519" || k.Kty == "EC" && k.Crv == sm2Crv {
			if _, err := k.VerifyingKey(); err != nil {
				return JWKS{}, fmt.Errorf("key set: keys[%d]: %w", i, err)
			}
		}
		if k.Kid == "" {
			continue
		}
		if j, dup := kids[k.Kid]; dup {
			return JWKS{}, fmt.Errorf("key set: keys[%d] and keys[%d] have the same kid %q", j, i, k.Kid)
		}
		kids[k.Kid] = i
	}
	return s, nil
}

// PublicKey returns the Ed25519 public key of k, checking that k is an
// Ed25519 OKP key usable for verifying signatures.
func (k JWK) PublicKey() (ed25519.PublicKey, error) {
	if k.Kty != "OKP" || k.Crv != "Ed25519" {
		return nil, fmt.Errorf("key %q is kty %q crv %q, not an Ed25519 OKP key", k.Kid, k.Kty, k.Crv)
	}
	pub, err := k.VerifyingKey()
	if err != nil {
		return nil, err
	}
	return pub.(ed25519.PublicKey), nil
}

// VerifyingKey returns the public key of k, an ed25519.PublicKey or an
// SM2 *ecdsa.PublicKey, checking that k is usable for verifying signatures.
func (k JWK) VerifyingKey() (crypto.PublicKey, error) {
	var wantAlg []string
	switch {
	case k.Kty == "OKP" && k.Crv == "Ed25519":
		wantAlg = []string{"EdDSA", "Ed25519"}
	case k.Kty == "EC" && k.Crv == sm2Crv:
		wantAlg = []string{SignatureAlgSM2}
	default:
		return nil, fmt.Errorf("key %q is kty %q crv %q, not an Ed25519 OKP key or an SM2 EC key", k.Kid, k.Kty, k.Crv)
	}
	if k.Use != "" && k.Use != "sig" {
		return nil, fmt.Errorf("key %q has use %q, not \"sig\"", k.Kid, k.Use)
	}
	if k.Alg != "" && !slices.Contains(wantAlg, k.Alg) {
		return nil, fmt.Errorf("key %q has alg %q, not %q", k.Kid, k.Alg, wantAlg[0])
	}
	if k.KeyOps != nil && !slices.Contains(k.KeyOps, "verify") {
		return nil, fmt.Errorf("key %q: key_ops %q do not allow \"verify\"", k.Kid, k.KeyOps)
	}
	if k.Kty == "EC" {
		return k.sm2PublicKey()
	}
	x, err := b64url.DecodeString(k.X)
	if err != nil {
		return nil, fmt.Errorf("key %q: x is not unpadded base64url: %v", k.Kid, err)
	}
	if len(x) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("key %q: x decodes to %d bytes, want %d", k.Kid, len(x), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(x), nil
}

// Key returns the Ed25519 public key named keyID (see VerifyingKey); a
// plain error when the named key is not a usable Ed25519 key.
func (s JWKS) Key(keyID string) (ed25519.PublicKey, error) {
	pub, err := s.VerifyingKey(keyID)
	if err != nil {
		return nil, err
	}
	ed, ok := pub.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("key %q is not an Ed25519 key", keyID)
	}
	return ed, nil
}

// VerifyingKey returns the public key named keyID, an ed25519.PublicKey
// or an SM2 *ecdsa.PublicKey: the key whose kid is keyID or, failing that,
// the usable key whose RFC 7638 thumbprint is keyID. It returns an error
// matching ErrUnknownKey when there is none, and a plain error when the
// named key is not usable.
func (s JWKS) VerifyingKey(keyID string) (crypto.PublicKey, error) {
	for _, k := range s.Keys {
		if k.Kid == keyID {
			return k.VerifyingKey()
		}
	}
	for _, k := range s.Keys {
		if pub, err := k.VerifyingKey(); err == nil && k.Thumbprint() == keyID {
			return pub, nil
		}
	}
	ids := make([]string, 0, len(s.Keys))
	for _, k := range s.Keys {
		ids = append(ids, k.Kid)
	}
	return nil, fmt.Errorf("%w: key_id %q (the set has %q)", ErrUnknownKey, keyID, ids)
}
