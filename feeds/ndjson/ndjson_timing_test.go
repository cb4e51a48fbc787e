package ndjson

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
)

// benchData is n NDJSON lines of about 300 bytes, like credit events.
func benchData(n int, crlf bool) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"id":"SAMR-370200-2026-%06d","uscc":"91370200MA3C%05dX","type":"penalty","occurred_at":"2026-03-01T08:00:00+08:00","authority":"370200","attrs":{"severity":"general","decision_no":"青市监罚〔2026〕%d号","amount_yuan":50000,"note":"%s"}}`,
			i, i%100000, i, "padding-padding-padding-padding-padding-padding-padding-padding-padding-padding-pa")
		if crlf {
			b.WriteByte('\r')
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func benchNext(b *testing.B, crlf bool) {
	data := benchData(100_000, crlf)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	br := bytes.NewReader(data)
	r := NewReader(br, Options{})
	lines := 0
	for b.Loop() {
		br.Reset(data)
		r.Reset(br)
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			lines++
		}
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkNext splits 100,000 lines of ~300 bytes from memory.
func BenchmarkNext(b *testing.B) { benchNext(b, false) }

// BenchmarkNextCRLF is BenchmarkNext with "\r\n" line ends.
func BenchmarkNextCRLF(b *testing.B) { benchNext(b, true) }

// BenchmarkForEach is BenchmarkNext through ForEach, with a context.
func BenchmarkForEach(b *testing.B) {
	data := benchData(100_000, false)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for b.Loop() {
		if err := ForEach(ctx, bytes.NewReader(data), Options{}, func(Line, error) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
