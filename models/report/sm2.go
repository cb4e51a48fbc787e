package report

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"github.com/emmansun/gmsm/ecdh"
	"github.com/emmansun/gmsm/sm2"
)

// SM2 with SM3 (report.md "Signature", alg "SM2-SM3"): GB/T 32918.2
// signatures over SM3 (GB/T 32905) of Z_A ‖ message, Z_A computed with the
// user ID SM2UserID; the signature is the DER SEQUENCE {r, s} that OpenSSL
// writes and reads; the key is a JWK {"kty":"EC","crv":"SM2","x","y"}.

// SM2UserID is the signer's user ID (ID_A) that enters Z_A: the default
// of GB/T 32918.2 and GM/T 0009, which OpenSSL and gmsm also use.
const SM2UserID = "1234567812345678"

// sm2Crv is the JWK "crv" of an SM2 key.
const sm2Crv = "SM2"

// sm2CoordSize is the size of an SM2 coordinate in a JWK: 256 bits.
const sm2CoordSize = 32

// maxSM2Signature bounds a DER SM2 signature: two 33-byte INTEGERs with
// their headers in a SEQUENCE.
const maxSM2Signature = 72

// signSM2 signs msg with priv under SM2UserID and returns the DER signature.
func signSM2(priv *sm2.PrivateKey, msg []byte) ([]byte, error) {
	return priv.Sign(rand.Reader, msg, sm2.NewSM2SignerOption(true, []byte(SM2UserID)))
}

// verifySM2 checks the DER signature sig of msg under SM2UserID.
func verifySM2(pub *ecdsa.PublicKey, msg, sig []byte) bool {
	return sm2.VerifyASN1WithSM2(pub, []byte(SM2UserID), msg, sig)
}

// checkSM2Signature checks that sig is a DER SEQUENCE of two positive
// INTEGERs and nothing else: one encoding per signature, so that no
// re-encoding of a valid signature verifies.
func checkSM2Signature(sig []byte) error {
	if len(sig) > maxSM2Signature {
		return fmt.Errorf("decodes to %d bytes, a DER SM2 signature has at most %d", len(sig), maxSM2Signature)
	}
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(sig, &rs)
	if err != nil || len(rest) != 0 {
		return errors.New("not a DER SEQUENCE {r INTEGER, s INTEGER} (an SM2 signature)")
	}
	if rs.R.Sign() <= 0 || rs.S.Sign() <= 0 {
		return errors.New("an SM2 signature has positive r and s")
	}
	if der, err := asn1.Marshal(rs); err != nil || string(der) != string(sig) {
		return errors.New("SM2 signature is not in DER (the one encoding of {r, s})")
	}
	return nil
}

// sm2JWK returns the JWK of an SM2 public key.
func sm2JWK(pub *ecdsa.PublicKey) (JWK, error) {
	if pub == nil || pub.Curve != sm2.P256() {
		return JWK{}, errors.New("an ECDSA public key not on the SM2 curve")
	}
	var x, y [sm2CoordSize]byte
	//lint:ignore SA1019 gmsm's SM2 API takes an *ecdsa.PublicKey; crypto/ecdsa has no other way to carry a point of a curve it does not know
	pub.X.FillBytes(x[:])
	pub.Y.FillBytes(y[:]) //lint:ignore SA1019 as above
	k := JWK{Kty: "EC", Crv: sm2Crv, X: b64url.EncodeToString(x[:]), Y: b64url.EncodeToString(y[:]), Use: "sig", Alg: SignatureAlgSM2}
	if _, err := k.sm2PublicKey(); err != nil {
		return JWK{}, err
	}
	k.Kid = k.Thumbprint()
	return k, nil
}

// sm2PublicKey decodes the SM2 public key of k (kty "EC", crv "SM2"): x
// and y 32 bytes each, a point of the curve other than infinity.
func (k JWK) sm2PublicKey() (*ecdsa.PublicKey, error) {
	x, errX := b64url.DecodeString(k.X)
	y, errY := b64url.DecodeString(k.Y)
	if errX != nil || errY != nil {
		return nil, fmt.Errorf("key %q: x or y is not unpadded base64url", k.Kid)
	}
	if len(x) != sm2CoordSize || len(y) != sm2CoordSize {
		return nil, fmt.Errorf("key %q: x and y decode to %d and %d bytes, want %d each", k.Kid, len(x), len(y), sm2CoordSize)
	}
	point := append(append([]byte{4}, x...), y...)
	if _, err := ecdh.P256().NewPublicKey(point); err != nil {
		return nil, fmt.Errorf("key %q: not a point of the SM2 curve: %v", k.Kid, err)
	}
	//lint:ignore SA1019 gmsm's SM2 API takes an *ecdsa.PublicKey; crypto/ecdsa has no other way to carry a point of a curve it does not know
	return &ecdsa.PublicKey{Curve: sm2.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}, nil
}
