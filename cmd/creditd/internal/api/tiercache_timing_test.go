package api

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
)

// BenchmarkDashboardMonthEnds is the console dashboard's trend: GET
// /v1/stats/tiers as of each of the last six month ends, over 2^20
// registered entities with a penalty on every other one. "uncached"
// applies one new event before each load (every month end is recomputed,
// as every load was before the cache); "cached" loads with no event in
// between.
//
//	go test ./cmd/creditd/internal/api -run '^$' -bench DashboardMonthEnds -benchtime 5x
func BenchmarkDashboardMonthEnds(b *testing.B) {
	const n = 1 << 20
	srv, eng := cacheServer(b, n)
	for i := 0; i < n; i += 2 {
		ev := &event.Event{ID: fmt.Sprintf("PEN-%d", i), USCC: cacheCode(i), Type: event.TypePenalty, Sub: uint8(1 + i%3),
			Authority: "SAMR-370102", OccurredAt: cacheNow.Add(-time.Duration(i%900) * 24 * time.Hour),
			RawAttrs: []byte(`{"severity":"general","decision_no":"x"}`)}
		if _, err := eng.ApplyAt(ev, cacheNow, true, nil); err != nil {
			b.Fatal(err)
		}
	}
	first := time.Date(cacheNow.Year(), cacheNow.Month(), 1, 0, 0, 0, 0, time.UTC)
	var ends []time.Time
	for i := 6; i >= 1; i-- {
		ends = append(ends, first.AddDate(0, -i+1, 0).Add(-time.Second))
	}
	load := func() {
		for _, at := range ends {
			if d := tierStatsAt(b, srv, at, "37"); d.Entities == 0 {
				b.Fatal("no entities")
			}
		}
	}
	runtime.GC()
	extra := 0
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			extra++
			ev := registration(n+extra, civil.MakeDate(2020, 1, 1))
			if _, err := eng.ApplyAt(ev, cacheNow, true, nil); err != nil {
				b.Fatal(err)
			}
			load()
		}
		b.ReportMetric(float64(eng.Len()), "entities")
	})
	b.Run("cached", func(b *testing.B) {
		load()
		b.ReportAllocs()
		for b.Loop() {
			load()
		}
		b.ReportMetric(float64(eng.Len()), "entities")
	})
}
