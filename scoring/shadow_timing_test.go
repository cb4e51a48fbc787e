package scoring

import (
	"context"
	"testing"
)

// BenchmarkMonitor measures one monitoring scan (shadow.go) of 262,144
// entities with three penalty records each on average, as of now: the
// champion alone (drift bands only) and with a challenger scored in
// shadow. It reports ns per entity, the figure that scales to 10M.
func BenchmarkMonitor(b *testing.B) {
	evs := benchEvents(1 << 20)
	champ, _ := DefaultModel("national-4")
	champ.Reference = &ScoreReference{AsOf: "2026-01-01", Entities: 1, Edges: []int32{500, 550, 600, 650, 700}, Shares: []float64{0.1, 0.1, 0.2, 0.2, 0.2, 0.2}}
	e := engineWith(b, champ)
	applyAll(b, e, evs)
	sh, err := NewShadow(challengerModel(b))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		sh   *Shadow
	}{{"champion", nil}, {"challenger", sh}} {
		b.Run(c.name, func(b *testing.B) {
			var n int64
			for b.Loop() {
				m, err := e.Monitor(context.Background(), testNow, c.sh)
				if err != nil {
					b.Fatal(err)
				}
				n += m.Entities
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/entity")
		})
	}
}
