package reportpage

import (
	"io"
	"testing"

	"github.com/creditrisk/creditd/models/report"
)

// BenchmarkRender: the regulatory page of a six-record report.
func BenchmarkRender(b *testing.B) {
	r := testReport(b, report.EditionRegulatory)
	b.ReportAllocs()
	for b.Loop() {
		if err := Render(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
