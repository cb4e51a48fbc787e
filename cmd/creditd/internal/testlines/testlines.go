// Package testlines generates synthetic credit events for the tests of
// creditd's packages.
package testlines

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/creditrisk/creditd/feeds/synth"
)

// Gen generates a synthetic province as NDJSON lines, ending at
// 2026-11-01T00:00:00Z.
func Gen(t testing.TB, entities, days int, seed uint64, badRate float64) [][]byte {
	t.Helper()
	var lines [][]byte
	err := synth.Generate(context.Background(), synth.Options{Entities: entities, Days: days, Seed: seed,
		End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), BadRate: badRate}, func(l []byte) error {
		lines = append(lines, append([]byte(nil), l...))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// Join joins lines into an NDJSON body.
func Join(lines [][]byte) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		b.Write(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}
