package deadletter

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchLetter is a rejected event of about 300 bytes with some Chinese text.
var benchLetter = Letter{
	At:      time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
	Source:  FileSource("/srv/in/2026-03.ndjson", 123456),
	Reason:  "invalid_attrs",
	Detail:  "attrs.severity: must be one of minor, general, serious",
	EventID: "SAMR-370200-2026-000123",
	Original: []byte(`{"id":"SAMR-370200-2026-000123","uscc":"91370200MA3C00001X","type":"penalty","occurred_at":"2026-03-01T08:00:00+08:00","authority":"370200","attrs":{"severity":"grave","decision_no":"青市监罚〔2026〕123号","note":"` +
		strings.Repeat("x", 60) + `"}}`),
}

// BenchmarkAppendJSON encodes one letter.
func BenchmarkAppendJSON(b *testing.B) {
	buf := make([]byte, 0, 4096)
	b.SetBytes(int64(len(benchLetter.Original)))
	b.ReportAllocs()
	for b.Loop() {
		buf = benchLetter.AppendJSON(buf[:0])
	}
}

// BenchmarkFileWriteSync1000 writes letters to a file, syncing every 1,000.
func BenchmarkFileWriteSync1000(b *testing.B) {
	s, err := OpenFile(filepath.Join(b.TempDir(), "d.ndjson"), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	b.SetBytes(int64(len(benchLetter.Original)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := s.Write(ctx, benchLetter); err != nil {
			b.Fatal(err)
		}
		if i++; i%1000 == 0 {
			if err := s.Sync(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
