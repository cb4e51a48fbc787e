package report

import "testing"

// BenchmarkSignReport: validate, marshal, canonicalise and sign a
// regulatory report of three records (what GET /v1/reports costs).
func BenchmarkSign(b *testing.B) {
	priv, pub := testReportKey()
	kid := KeyID(pub)
	b.ReportAllocs()
	for b.Loop() {
		r := sampleReport(EditionRegulatory)
		if err := Sign(r, priv, kid); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyReport: strict parse, validation, canonicalisation and
// Ed25519 verification of the same report from its bytes.
func BenchmarkVerify(b *testing.B) {
	_, raw, keys := signedSample(b, EditionRegulatory)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(raw, keys, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
