package scoring

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
)

func benchEvents(n int) []*event.Event {
	out := make([]*event.Event, n)
	for i := range out {
		c := testCode(i)
		if i%4 == 0 {
			out[i] = &event.Event{ID: fmt.Sprintf("REG-%d", i), USCC: c, Type: event.TypeRegistered,
				OccurredAt: testNow.Add(-time.Hour), Name: "济南某某商贸有限公司", Region: "370102", RegisteredOn: civil.MakeDate(2020, 1, 1)}
		} else {
			out[i] = &event.Event{ID: fmt.Sprintf("PEN-%d", i), USCC: testCode(i / 4 * 4), Type: event.TypePenalty, Sub: uint8(1 + i%3),
				Authority: "SAMR-370102", OccurredAt: testNow.Add(-time.Duration(i%900) * 24 * time.Hour), RawAttrs: []byte(`{"severity":"general","decision_no":"x"}`)}
		}
	}
	return out
}

// BenchmarkApplyDecoded measures applying decoded events (one goroutine).
func BenchmarkApplyDecoded(b *testing.B) {
	evs := benchEvents(1 << 20)
	e := newTestEngine(b, "national-4")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := evs[i%len(evs)]
		if i >= len(evs) && i%len(evs) == 0 {
			b.StopTimer()
			e = newTestEngine(b, "national-4")
			b.StartTimer()
		}
		if _, err := e.ApplyAt(ev, testNow, true, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyNDJSON measures decoding NDJSON bytes and applying them.
func BenchmarkApplyNDJSON(b *testing.B) {
	lines := make([][]byte, 1<<18)
	for i := range lines {
		c := testCode(i / 2)
		if i%2 == 0 {
			lines[i] = fmt.Appendf(nil, `{"id":"REG-%d","uscc":"%s","type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"济南某某商贸有限公司","region":"370102","registered_on":"2019-12-30","industry":"F52"}}`, i, c)
		} else {
			lines[i] = fmt.Appendf(nil, `{"id":"PEN-%d","uscc":"%s","type":"penalty","occurred_at":"2026-01-01T02:00:00+08:00","authority":"SAMR-370102","attrs":{"severity":"general","decision_no":"鲁济市监罚〔2026〕%d号","amount_yuan":5000}}`, i, c, i)
		}
	}
	e := newTestEngine(b, "national-4")
	d := event.Decoder{Borrow: true} // lines are kept while their events are used
	var ev event.Event
	var bytes int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i >= len(lines) && i%len(lines) == 0 {
			b.StopTimer()
			e = newTestEngine(b, "national-4")
			b.StartTimer()
		}
		l := lines[i%len(lines)]
		bytes += int64(len(l))
		if err := d.Decode(l, &ev); err != nil {
			b.Fatal(err)
		}
		if _, err := e.ApplyAt(&ev, testNow, true, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(bytes / int64(b.N))
}

// BenchmarkEntityQuery measures an entity view with reasons and records.
func BenchmarkEntityQuery(b *testing.B) {
	evs := benchEvents(1 << 16)
	e := newTestEngine(b, "national-4")
	for _, ev := range evs {
		if _, err := e.ApplyAt(ev, testNow, true, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := e.Entity(testCode((i*4)%len(evs)), testNow, true); !ok {
			b.Fatal("missing")
		}
	}
}

// BenchmarkTierScan measures the fast-path scan of tiers as of now.
func BenchmarkTierScan(b *testing.B) {
	e := newTestEngine(b, "national-4")
	for _, ev := range benchEvents(1 << 18) {
		_, _ = e.ApplyAt(ev, testNow, true, nil)
	}
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.TierStats(b.Context(), testNow, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(e.Len()), "entities")
}
