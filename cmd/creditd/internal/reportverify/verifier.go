// Package reportverify is an independent verifier of credit-report/v1,
// written from spec/report.md alone, the way a receiving province would
// write it. The service's end-to-end tests use it as the second verifier
// of reports fetched over HTTP. It
// shares no code with the issuer: no import of models or models/jcs (SM2
// comes from github.com/emmansun/gmsm, as a receiver would take it); its
// canonicalisation is encoding/json tokens (numbers kept as text) plus its
// own sorting by UTF-16 code units and its own string escaping. Keep it
// that way: its worth is that it is a second, separate reading of the spec.
package reportverify

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/emmansun/gmsm/ecdh"
	"github.com/emmansun/gmsm/sm2"
)

// jwks is RFC 7517's key set, with RFC 8037 OKP members.
type jwks struct {
	Keys []struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		X   string `json:"x"`
		Y   string `json:"y"`
		Kid string `json:"kid"`
	} `json:"keys"`
}

// member is one Object member, in input order.
type member struct {
	name  string
	value any
}

// Object keeps members in a slice so that duplicates can be detected.
type Object []member

// Verify verifies raw against the key set keysJSON (a JWKS document) at
// now and returns the report's top-level members.
func Verify(raw, keysJSON []byte, now time.Time) (Object, error) {
	if !utf8.Valid(raw) {
		return nil, errors.New("not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := readValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the report")
	}
	doc, ok := v.(Object)
	if !ok {
		return nil, errors.New("report is not an object")
	}
	get := func(o Object, name string) any {
		for _, m := range o {
			if m.name == name {
				return m.value
			}
		}
		return nil
	}
	if get(doc, "format") != "credit-report/v1" {
		return nil, errors.New("format is not credit-report/v1")
	}
	edition := get(doc, "edition")
	hasAssessment := slices.ContainsFunc(doc, func(m member) bool { return m.name == "assessment" })
	if edition == "public" && hasAssessment {
		return nil, errors.New("public edition with an assessment")
	}
	if edition != "public" && (edition != "regulatory" || !hasAssessment) {
		return nil, errors.New("bad edition")
	}
	sig, _ := get(doc, "signature").(Object)
	issuer, _ := get(doc, "issuer").(Object)
	if sig == nil || issuer == nil {
		return nil, errors.New("no signature or issuer")
	}
	kid, _ := get(sig, "key_id").(string)
	alg := get(sig, "alg")
	if alg != "Ed25519" && alg != "SM2-SM3" || kid == "" || get(issuer, "key_id") != kid {
		return nil, errors.New("signature alg or key_id wrong")
	}
	value, _ := get(sig, "value").(string)
	sigBytes, err := base64.RawURLEncoding.Strict().DecodeString(value)
	if err != nil || alg == "Ed25519" && len(sigBytes) != ed25519.SignatureSize {
		return nil, errors.New("signature value is not 64 bytes of base64url")
	}
	if alg == "SM2-SM3" && !derSignature(sigBytes) {
		return nil, errors.New("signature value is not a DER SM2 signature in base64url")
	}
	// Step 1: remove the signature member. Step 2: canonicalise.
	rest := slices.DeleteFunc(slices.Clone(doc), func(m member) bool { return m.name == "signature" })
	var canon bytes.Buffer
	if err := writeCanonical(&canon, rest); err != nil {
		return nil, err
	}
	// Step 3: check with the key named by key_id.
	var keys jwks
	if err := json.Unmarshal(keysJSON, &keys); err != nil {
		return nil, err
	}
	var pub ed25519.PublicKey
	var sm2Pub *ecdsa.PublicKey
	for _, k := range keys.Keys {
		if k.Kid != kid {
			continue
		}
		switch {
		case alg == "Ed25519" && k.Kty == "OKP" && k.Crv == "Ed25519":
			pub, err = base64.RawURLEncoding.DecodeString(k.X)
			if err != nil || len(pub) != ed25519.PublicKeySize {
				return nil, errors.New("bad key")
			}
		case alg == "SM2-SM3" && k.Kty == "EC" && k.Crv == "SM2":
			if sm2Pub, err = sm2Key(k.X, k.Y); err != nil {
				return nil, err
			}
		}
	}
	switch {
	case pub != nil:
		if !ed25519.Verify(pub, canon.Bytes(), sigBytes) {
			return nil, errors.New("signature does not verify")
		}
	case sm2Pub != nil:
		// GB/T 32918.2 with SM3 and the default user ID (report.md).
		if !sm2.VerifyASN1WithSM2(sm2Pub, []byte("1234567812345678"), canon.Bytes(), sigBytes) {
			return nil, errors.New("signature does not verify")
		}
	default:
		return nil, errors.New("unknown key " + kid + " for " + fmt.Sprint(alg))
	}
	if a, ok := get(doc, "assessment").(Object); ok {
		reasons, ok := get(a, "reasons").([]any)
		if !ok {
			return nil, errors.New("assessment.reasons is not an array")
		}
		if err := checkReasonOrder(reasons); err != nil {
			return nil, err
		}
	}
	untilText, _ := get(doc, "valid_until").(string)
	until, err := time.Parse(time.RFC3339, untilText)
	if err != nil || !strings.HasSuffix(untilText, "Z") {
		return nil, errors.New("bad valid_until")
	}
	if now.After(until) {
		return nil, errors.New("expired")
	}
	return doc, nil
}

// derSignature reports whether b is exactly DER SEQUENCE {INTEGER r,
// INTEGER s} with positive r and s (report.md: one encoding only).
func derSignature(b []byte) bool {
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(b, &rs)
	if err != nil || len(rest) != 0 || rs.R.Sign() <= 0 || rs.S.Sign() <= 0 {
		return false
	}
	again, err := asn1.Marshal(rs)
	return err == nil && bytes.Equal(again, b)
}

// sm2Key decodes a JWK {"kty":"EC","crv":"SM2"}'s x and y (32 bytes each)
// into a public key, checking the point is on the curve.
func sm2Key(x64, y64 string) (*ecdsa.PublicKey, error) {
	x, errX := base64.RawURLEncoding.DecodeString(x64)
	y, errY := base64.RawURLEncoding.DecodeString(y64)
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
		return nil, errors.New("bad SM2 key")
	}
	if _, err := ecdh.P256().NewPublicKey(append(append([]byte{4}, x...), y...)); err != nil {
		return nil, fmt.Errorf("bad SM2 key: %v", err)
	}
	//lint:ignore SA1019 gmsm's SM2 API takes an *ecdsa.PublicKey; crypto/ecdsa has no other way to carry a point of a curve it does not know
	return &ecdsa.PublicKey{Curve: sm2.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}, nil
}

// reasonKey is a reason's place in report.md "Order of reasons": the
// overrides (points 0) first, then by non-increasing |points|, then by
// code in code point order.
type reasonKey struct {
	override bool
	abs      string // |points| as integer text without sign or leading zeros
	code     []rune
}

// before compares keys: -1 when k must come first, 1 when o must, else 0.
func (k reasonKey) before(o reasonKey) int {
	switch {
	case k.override != o.override:
		if k.override {
			return -1
		}
		return 1
	case len(k.abs) != len(o.abs): // a longer integer text is larger
		if len(k.abs) > len(o.abs) {
			return -1
		}
		return 1
	case k.abs != o.abs:
		if k.abs > o.abs {
			return -1
		}
		return 1
	}
	return slices.Compare(k.code, o.code)
}

// checkReasonOrder checks the assessment's reasons against report.md
// "Order of reasons".
func checkReasonOrder(reasons []any) error {
	var prev reasonKey
	for i, v := range reasons {
		o, ok := v.(Object)
		if !ok {
			return fmt.Errorf("assessment.reasons[%d] is not an object", i)
		}
		var code string
		var points json.Number
		for _, m := range o {
			switch m.name {
			case "code":
				code, _ = m.value.(string)
			case "points":
				points, _ = m.value.(json.Number)
			}
		}
		if code == "" || !integerText.MatchString(string(points)) {
			return fmt.Errorf("assessment.reasons[%d] lacks a code or integer points", i)
		}
		abs := strings.TrimPrefix(string(points), "-")
		k := reasonKey{override: abs == "0", abs: abs, code: []rune(code)}
		if i > 0 && prev.before(k) > 0 {
			return fmt.Errorf("assessment.reasons[%d] (%s, %s points) is out of order: overrides (0 points) first, then non-increasing |points|, ties by code", i, code, points)
		}
		prev = k
	}
	return nil
}

// readValue reads one JSON value from dec: nil, bool, json.Number, string,
// []any or object; duplicate member names are an error (I-JSON).
func readValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			var o Object
			for dec.More() {
				nt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				name := nt.(string)
				for _, m := range o {
					if m.name == name {
						return nil, fmt.Errorf("duplicate member %q", name)
					}
				}
				v, err := readValue(dec)
				if err != nil {
					return nil, err
				}
				o = append(o, member{name, v})
			}
			_, err := dec.Token() // '}'
			return o, err
		case '[':
			a := []any{}
			for dec.More() {
				v, err := readValue(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token() // ']'
			return a, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil
	}
}

var integerText = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// writeCanonical writes v per RFC 8785 for integer-only JSON.
func writeCanonical(w *bytes.Buffer, v any) error {
	switch t := v.(type) {
	case nil:
		w.WriteString("null")
	case bool:
		w.WriteString(strconv.FormatBool(t))
	case json.Number:
		if !integerText.MatchString(string(t)) {
			return fmt.Errorf("number %s is not an integer", t)
		}
		n, err := strconv.ParseInt(string(t), 10, 64)
		if err != nil || n > 1<<53 || n < -(1<<53) {
			return fmt.Errorf("integer %s out of range", t)
		}
		w.WriteString(strconv.FormatInt(n, 10))
	case string:
		w.WriteByte('"')
		for _, r := range t {
			switch r {
			case '"':
				w.WriteString(`\"`)
			case '\\':
				w.WriteString(`\\`)
			case '\b':
				w.WriteString(`\b`)
			case '\f':
				w.WriteString(`\f`)
			case '\n':
				w.WriteString(`\n`)
			case '\r':
				w.WriteString(`\r`)
			case '\t':
				w.WriteString(`\t`)
			default:
				if r < 0x20 {
					fmt.Fprintf(w, `\u%04x`, r)
				} else {
					w.WriteRune(r)
				}
			}
		}
		w.WriteByte('"')
	case []any:
		w.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := writeCanonical(w, e); err != nil {
				return err
			}
		}
		w.WriteByte(']')
	case Object:
		sorted := slices.Clone(t)
		slices.SortFunc(sorted, func(a, b member) int {
			return slices.Compare(utf16.Encode([]rune(a.name)), utf16.Encode([]rune(b.name)))
		})
		w.WriteByte('{')
		for i, m := range sorted {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := writeCanonical(w, m.name); err != nil {
				return err
			}
			w.WriteByte(':')
			if err := writeCanonical(w, m.value); err != nil {
				return err
			}
		}
		w.WriteByte('}')
	default:
		return fmt.Errorf("unexpected %T", v)
	}
	return nil
}

// Has reports whether the object has a member called name.
func (o Object) Has(name string) bool {
	return slices.ContainsFunc(o, func(m member) bool { return m.name == name })
}

// CanonicalWithout returns the object's RFC 8785 form without the named
// members (the signed bytes, for "signature").
func (o Object) CanonicalWithout(names ...string) ([]byte, error) {
	rest := slices.DeleteFunc(slices.Clone(o), func(m member) bool { return slices.Contains(names, m.name) })
	var b bytes.Buffer
	if err := writeCanonical(&b, rest); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Canonicalize returns the RFC 8785 form of a JSON document.
func Canonicalize(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	v, err := readValue(dec)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := writeCanonical(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
