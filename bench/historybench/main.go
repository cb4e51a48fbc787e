// Command historybench measures scoring with the ClickHouse history sink
// on and off in one run: the same synthetic stream is applied to a fresh
// engine without the sink, then with it (applied events, tier changes and
// inspections queued as creditd queues them), alternating, and it prints
// the scoring time of each, their ratio, and the rows per second that
// reached ClickHouse.
//
//	bash .ci/clickhouse.sh            # or any ClickHouse on 127.0.0.1:9000
//	go run ./bench/historybench -entities 200000 -days 730
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	chsink "github.com/creditrisk/creditd/feeds/clickhouse"
	"github.com/creditrisk/creditd/feeds/synth"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/scoring"
)

func main() {
	entities := flag.Int("entities", 200_000, "entities of the synthetic province")
	days := flag.Int("days", 730, "days of events")
	addr := flag.String("addr", "127.0.0.1:9000", "ClickHouse native address")
	rounds := flag.Int("rounds", 2, "off/on rounds (medians are reported)")
	flag.Parse()
	ctx := context.Background()
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

	var evs []*event.Event
	var d event.Decoder
	err := synth.Generate(ctx, synth.Options{Entities: *entities, Days: *days, Seed: 5, End: end}, func(l []byte) error {
		ev := &event.Event{}
		if err := d.Decode(l, ev); err != nil {
			return err
		}
		evs = append(evs, ev)
		return nil
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("historybench: %d events of %d entities; ClickHouse at %s\n", len(evs), *entities, *addr)

	apply := func(sink *chsink.Sink) (time.Duration, int) {
		eng, err := scoring.New(scoring.Options{Now: func() time.Time { return end }})
		if err != nil {
			panic(err)
		}
		scheme := eng.Scheme()
		rows := 0
		t0 := time.Now()
		for i, ev := range evs {
			res, err := eng.ApplyAt(ev, end, false, nil)
			if err != nil || res.Outcome != scoring.Applied || sink == nil {
				continue
			}
			code := ev.USCC.String()
			region := res.Region
			_ = sink.AddAppliedEvent(chsink.AppliedEvent{EventID: ev.ID, USCC: code, Type: ev.Type.String(), OccurredAt: ev.OccurredAt,
				Authority: ev.Authority, Region: region, Attrs: string(ev.RawAttrs), AppliedAt: end, Source: "bench", Seq: uint64(i)})
			rows++
			if ev.Type == event.TypeInspection {
				_ = sink.AddInspection(chsink.Inspection{EventID: ev.ID, USCC: code, Region: region, At: ev.OccurredAt,
					PlanID: ev.PlanID, Result: event.SubName(ev.Type, ev.Sub), TierAtInspection: scheme.Label(res.InspectedTier), Scheme: scheme.ID})
				rows++
			}
			for _, c := range res.TierChanges() {
				_ = sink.AddTierChange(chsink.TierChange{USCC: code, Region: c.Region, At: c.At, OldTier: scheme.Label(c.From),
					NewTier: scheme.Label(c.To), Scheme: scheme.ID, Score: c.Score, Cause: c.Cause})
				rows++
			}
		}
		return time.Since(t0), rows
	}

	var offs, ons []time.Duration
	var rates []float64
	for r := 0; r < *rounds; r++ {
		off, _ := apply(nil)
		offs = append(offs, off)
		spool, _ := os.MkdirTemp("", "historybench-spool-")
		db := fmt.Sprintf("creditd_bench_%d", time.Now().UnixNano())
		sink, err := chsink.New(ctx, chsink.Options{Addr: *addr, Database: db, SpoolDir: spool})
		if err != nil {
			panic(err)
		}
		t0 := time.Now()
		on, rows := apply(sink)
		if err := sink.Close(ctx); err != nil {
			panic(err)
		}
		total := time.Since(t0)
		st := sink.Stats()
		inserted := 0
		for _, n := range st.Inserted {
			inserted += int(n)
		}
		if inserted != rows {
			fmt.Printf("round %d: only %d of %d rows reached ClickHouse (is it up?); not counted\n", r+1, inserted, rows)
			os.Exit(1)
		}
		ons = append(ons, on)
		rates = append(rates, float64(rows)/total.Seconds())
		fmt.Printf("round %d: scoring without sink %v, with sink %v (ratio %.3f); %d rows in ClickHouse after %v = %.0f rows/s; sink stats %+v\n",
			r+1, off.Round(time.Millisecond), on.Round(time.Millisecond), on.Seconds()/off.Seconds(), rows, total.Round(time.Millisecond), rates[r], st)
		if q, err := chsink.OpenQuerier(chsink.Options{Addr: *addr, Database: db}); err == nil {
			_ = q.Exec(ctx, "DROP DATABASE IF EXISTS "+db)
			q.Close()
		}
		os.RemoveAll(spool)
	}
	med := func(ds []time.Duration) time.Duration {
		s := append([]time.Duration(nil), ds...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return s[len(s)/2]
	}
	sort.Float64s(rates)
	fmt.Printf("median: scoring %v without the sink, %v with it: slow-down ratio %.3f; %.0f rows/s sustained into ClickHouse\n",
		med(offs).Round(time.Millisecond), med(ons).Round(time.Millisecond), med(ons).Seconds()/med(offs).Seconds(), rates[len(rates)/2])
}
