package synth

import (
	"context"
	"testing"
	"time"
)

// BenchmarkGenerate measures the whole pipeline for a 100,000-entity
// province over one year: population, history, simulation and JSON
// encoding (emit discards the lines).
func BenchmarkGenerate(b *testing.B) {
	opts := Options{Entities: 100_000, Days: 365, Seed: 1, End: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)}
	b.ReportAllocs()
	var events, bytes int64
	cpu0 := cpuTime()
	for b.Loop() {
		g, err := New(opts)
		if err != nil {
			b.Fatal(err)
		}
		if err := g.Run(context.Background(), func(line []byte) error { bytes += int64(len(line)) + 1; return nil }); err != nil {
			b.Fatal(err)
		}
		events += g.Stats().Events
	}
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		// Events per CPU-second (GC included): the speed on an idle core.
		b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
	}
	b.SetBytes(bytes / int64(b.N))
}

// BenchmarkEncode measures appendEvent alone on a day's worth of events.
func BenchmarkEncode(b *testing.B) {
	g, err := New(Options{Entities: 20_000, Days: 60, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	var evs []pev
	for i := range int32(2000) {
		p := pev{ent: i, typ: uint8(i) % numTypes, sub: 1, aux: 2025, key: uint64(i) << 32}
		if p.typ == tHonor {
			p.aux, p.sub = levelMunicipal, 0
		}
		evs = append(evs, p)
	}
	var prefix [11]byte
	appendDate(prefix[:0], g.start)
	prefix[10] = 'T'
	g.curYear = yearOf(g.start)
	var line []byte
	b.ReportAllocs()
	for b.Loop() {
		for k := range evs {
			line, _ = g.appendEvent(line[:0], &evs[k], g.start, &prefix)
		}
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
