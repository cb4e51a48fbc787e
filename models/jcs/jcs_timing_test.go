package jcs

import (
	"os"
	"path/filepath"
	"testing"
)

func benchInput(b *testing.B) []byte {
	in, err := os.ReadFile(filepath.Join("..", "report", "testdata", "report", "report-regulatory.json"))
	if err != nil {
		b.Fatal(err)
	}
	return in
}

// BenchmarkCanonicalizeCanonical: already canonical input (the fast path of
// the reordering: objects are sorted).
func BenchmarkCanonicalizeCanonical(b *testing.B) {
	in := benchInput(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	dst := make([]byte, 0, 2*len(in))
	for b.Loop() {
		var err error
		if dst, err = Append(dst[:0], in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCanonicalizeWithout: what a verifier does with a received report.
func BenchmarkCanonicalizeWithout(b *testing.B) {
	in := benchInput(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CanonicalizeWithout(in, "signature"); err != nil {
			b.Fatal(err)
		}
	}
}
