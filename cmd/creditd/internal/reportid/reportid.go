// Package reportid makes creditd's report ids self-verifying, so that the
// verification URL printed as a QR code on a report (report.md
// "Verification URL") can be checked without storing anything.
//
// A report id is the issuer code, "-", and 32 Crockford base32 characters
// of 20 bytes:
//
//	ms (6 bytes)   the issue instant in Unix milliseconds, big-endian
//	G  (8 bytes)   HMAC-SHA256(k, "genuine" ‖ issuer ‖ ms ‖ uscc ‖ d ‖ C)[:8]
//	C  (6 bytes)   HMAC-SHA256(k, "current" ‖ issuer ‖ ms ‖ uscc ‖ d ‖ p)[:6]
//
// where d is the report's digest (Digest: the first 16 bytes of the SHA-256
// of the RFC 8785 form of the report without "report_id" and "signature",
// which anyone holding the JSON can compute), p the SHA-256 of its public
// content (subject and records, the same in both editions) and k a key
// derived from the signing key with HKDF (NewKey).
//
// The verification URL carries the id, the USCC and d. G proves that this
// service issued a report with that id, subject and digest: a change of
// any character of the id (C included) or of the digest fails it (one chance in 2⁶⁴ per guess). C answers whether the
// report is current: the verifier re-issues the public content as of now
// and recomputes C with its p; equal means a report issued now would show
// the same subject and records. Neither depends on the tier, so the answer
// is safe on a public route (domain.md §2.1), and nothing is stored: any
// instance holding the signing key can verify any report it or its peers
// issued. After a key rotation, reports issued under the old key no
// longer verify (the same limit as the JWKS, docs/deploy.md).
package reportid

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/creditrisk/creditd/models/jcs"
	"github.com/creditrisk/creditd/models/report"
)

// DigestSize is the length in bytes of a report digest in a URL.
const DigestSize = 16

// The id's layout: 6 bytes of milliseconds, 8 of G, 6 of C.
const (
	msSize      = 6
	genuineSize = 8
	currentSize = 6
	rawSize     = msSize + genuineSize + currentSize // 20 bytes, 32 base32 characters
	encodedSize = rawSize * 8 / 5
	// maxIDSize bounds a report id in a URL: a 16-byte issuer code, "-"
	// and the 32 characters.
	maxIDSize = 16 + 1 + encodedSize
)

// crockford is Crockford's base32 (the ULID alphabet): ids sort by time.
var crockford = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

var b64url = base64.RawURLEncoding.Strict()

// VerifyPath is the path of the verification URL before the report id.
const VerifyPath = "/v1/reports/verify/"

// Key makes and checks the ids of one issuer.
type Key struct {
	issuer string
	mac    []byte
}

// NewKey derives the id key of issuer from its signing key (an
// ed25519.PrivateKey or a *sm2.PrivateKey): HKDF-SHA256 (RFC 5869) of the
// key's secret (the Ed25519 seed, the SM2 scalar), so that every instance
// holding the signing key holds the id key too, and nothing else is kept.
func NewKey(issuer string, priv crypto.Signer) (*Key, error) {
	if issuer == "" || len(issuer) > 255 {
		return nil, errors.New("report ids: the issuer code must be 1–255 bytes")
	}
	var secret []byte
	switch k := priv.(type) {
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return nil, errors.New("report ids: a malformed Ed25519 key")
		}
		secret = k.Seed()
	case *sm2.PrivateKey:
		secret = k.D.FillBytes(make([]byte, 32))
	default:
		return nil, fmt.Errorf("report ids: a %T, not an Ed25519 or SM2 key", priv)
	}
	mac, err := hkdf.Key(sha256.New, secret, nil, "creditd credit-report-id/v1", 32)
	if err != nil {
		return nil, fmt.Errorf("report ids: %w", err)
	}
	return &Key{issuer: issuer, mac: mac}, nil
}

// Digest returns the digest of r that its verification URL carries: the
// first DigestSize bytes of the SHA-256 of the RFC 8785 form of r without
// its "report_id" and "signature" members (report.md "Verification URL").
// It covers everything the signature covers but the id, so it can be
// computed before the id is chosen.
func Digest(r *report.Report) ([DigestSize]byte, error) {
	var d [DigestSize]byte
	b, err := json.Marshal(r)
	if err != nil {
		return d, fmt.Errorf("report digest: %w", err)
	}
	c, err := jcs.CanonicalizeWithout(b, "report_id", "signature")
	if err != nil {
		return d, fmt.Errorf("report digest: %w", err)
	}
	sum := sha256.Sum256(c)
	copy(d[:], sum[:])
	return d, nil
}

// publicContent is the SHA-256 of the RFC 8785 form of r's subject and
// records: what "current" compares.
func publicContent(r *report.Report) ([32]byte, error) {
	b, err := json.Marshal(report.Report{Subject: r.Subject, Records: r.Records})
	if err != nil {
		return [32]byte{}, fmt.Errorf("report content: %w", err)
	}
	c, err := jcs.CanonicalizeWithout(b, "format", "report_id", "issuer", "edition", "issued_at", "valid_until")
	if err != nil {
		return [32]byte{}, fmt.Errorf("report content: %w", err)
	}
	return sha256.Sum256(c), nil
}

// ID returns the self-verifying id of r, issued at now (r.IssuedAt must be
// report.Instant(now)). r's members other than report_id and signature
// must be final.
func (k *Key) ID(r *report.Report, now time.Time) (string, error) {
	if r.Issuer.Code != k.issuer {
		return "", fmt.Errorf("report id: issuer %q, the key is %q's", r.Issuer.Code, k.issuer)
	}
	if report.Instant(now) != r.IssuedAt {
		return "", fmt.Errorf("report id: issued_at %s is not the issue instant %s", r.IssuedAt, report.Instant(now))
	}
	ms := now.UnixMilli()
	if ms < 0 || ms >= 1<<48 {
		return "", fmt.Errorf("report id: %s is out of range", now)
	}
	d, err := Digest(r)
	if err != nil {
		return "", err
	}
	p, err := publicContent(r)
	if err != nil {
		return "", err
	}
	c := Claim{Issuer: k.issuer, Millis: ms, USCC: r.Subject.USCC, Digest: d}
	var raw [rawSize]byte
	putMillis(raw[:msSize], ms)
	copy(raw[msSize+genuineSize:], k.tag("current", &c, p[:])[:currentSize])
	copy(raw[msSize:], k.tag("genuine", &c, raw[msSize+genuineSize:])[:genuineSize])
	c.raw = raw
	return c.id(), nil
}

// tag is the HMAC of what an id binds and last (C's public-content
// digest, or G's C), under a label that separates G from C. Every field
// has a fixed length but the issuer code, which is length-prefixed.
func (k *Key) tag(label string, c *Claim, last []byte) []byte {
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte(label))
	m.Write([]byte{0, byte(len(c.Issuer))})
	m.Write([]byte(c.Issuer))
	var ms [msSize]byte
	putMillis(ms[:], c.Millis)
	m.Write(ms[:])
	m.Write([]byte(c.USCC))
	m.Write(c.Digest[:])
	m.Write(last)
	return m.Sum(nil)
}

func putMillis(b []byte, ms int64) {
	var full [8]byte
	binary.BigEndian.PutUint64(full[:], uint64(ms))
	copy(b, full[8-msSize:])
}

// Claim is what a verification URL claims: a report of USCC with this id
// and digest, issued at Millis by Issuer.
type Claim struct {
	Issuer string
	Millis int64
	USCC   string
	Digest [DigestSize]byte
	raw    [rawSize]byte
}

// ReportID returns the claimed report id.
func (c *Claim) ReportID() string { return c.id() }

func (c *Claim) id() string { return c.Issuer + "-" + crockford.EncodeToString(c.raw[:]) }

// IssuedAt returns the claimed issue instant, as report.Instant writes it.
func (c *Claim) IssuedAt() string { return report.Instant(time.UnixMilli(c.Millis)) }

// SyntaxError is a verification URL that cannot be read.
type SyntaxError struct {
	Param  string // "report_id", "uscc" or "d"
	Reason string
}

func (e *SyntaxError) Error() string { return e.Param + ": " + e.Reason }

// Parse reads the parts of a verification URL: the report id (path),
// the USCC (already checked by the caller) and the digest d (query). It
// checks their form only; Key.Genuine checks the claim.
func Parse(reportID, uscc, d string) (*Claim, error) {
	if reportID == "" {
		return nil, &SyntaxError{"report_id", "missing"}
	}
	if len(reportID) > maxIDSize {
		return nil, &SyntaxError{"report_id", fmt.Sprintf("longer than %d bytes", maxIDSize)}
	}
	i := strings.LastIndexByte(reportID, '-')
	if i <= 0 || len(reportID)-i-1 != encodedSize {
		return nil, &SyntaxError{"report_id", fmt.Sprintf("not an issuer code, '-' and %d base32 characters", encodedSize)}
	}
	c := &Claim{Issuer: reportID[:i], USCC: uscc}
	for j := 0; j < len(c.Issuer); j++ {
		if b := c.Issuer[j]; b <= 0x20 || b > 0x7e {
			return nil, &SyntaxError{"report_id", "the issuer code is not printable ASCII"}
		}
	}
	n, err := crockford.Decode(c.raw[:], []byte(reportID[i+1:]))
	if err != nil || n != rawSize {
		return nil, &SyntaxError{"report_id", "not Crockford base32 (digits and capital letters but I, L, O, U)"}
	}
	var full [8]byte
	copy(full[8-msSize:], c.raw[:msSize])
	c.Millis = int64(binary.BigEndian.Uint64(full[:]))
	if d == "" {
		return nil, &SyntaxError{"d", "missing"}
	}
	if len(d) != b64url.EncodedLen(DigestSize) {
		return nil, &SyntaxError{"d", fmt.Sprintf("not %d base64url characters", b64url.EncodedLen(DigestSize))}
	}
	if n, err := b64url.Decode(c.Digest[:], []byte(d)); err != nil || n != DigestSize {
		return nil, &SyntaxError{"d", "not base64url without padding"}
	}
	return c, nil
}

// Genuine reports whether this issuer issued the claimed report: its id's
// G matches the claim.
func (k *Key) Genuine(c *Claim) bool {
	return c.Issuer == k.issuer &&
		hmac.Equal(k.tag("genuine", c, c.raw[msSize+genuineSize:])[:genuineSize], c.raw[msSize:msSize+genuineSize])
}

// Current reports whether a genuine claim's report has the subject and
// records of now, a report of the same subject issued now (either
// edition: the public content is the same).
func (k *Key) Current(c *Claim, now *report.Report) (bool, error) {
	if now.Subject.USCC != c.USCC {
		return false, nil
	}
	p, err := publicContent(now)
	if err != nil {
		return false, err
	}
	return hmac.Equal(k.tag("current", c, p[:])[:currentSize], c.raw[msSize+genuineSize:]), nil
}

// URL returns the verification URL of r under base, the service's public
// URL (scheme, host and any path prefix; report.md "Verification URL"):
// base/v1/reports/verify/{report_id}?uscc={uscc}&d={digest}.
func URL(base string, r *report.Report) (string, error) {
	d, err := Digest(r)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	b.WriteString(strings.TrimRight(base, "/"))
	b.WriteString(VerifyPath)
	b.WriteString(url.PathEscape(r.ReportID))
	b.WriteString("?uscc=")
	b.WriteString(url.QueryEscape(r.Subject.USCC))
	b.WriteString("&d=")
	b.WriteString(b64url.EncodeToString(d[:]))
	return b.String(), nil
}
