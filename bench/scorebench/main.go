// Command scorebench measures the scoring engine: events applied per second
// per core from decoded events and from NDJSON bytes, heap bytes per
// entity, snapshot write and restore, and the tier-as-of sweep.
//
//	go run ./bench/scorebench -entities 1000000
//	go run ./bench/scorebench -entities 10000000
//
// Every apply phase runs on one goroutine, so its rate is per core.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
)

var now = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// code returns a valid USCC numbered i (unique for i < 10^12).
func code(i int) uscc.Code {
	var b [18]byte
	copy(b[:], "9137")
	div := []byte(fmt.Sprintf("%04d", i%10000))
	copy(b[4:8], div)
	body := []byte(fmt.Sprintf("%08d", i/10000%100000000))
	copy(b[8:16], body)
	b[16] = uscc.OrgCheckCharacter(b[8:16])
	b[17] = uscc.CheckCharacter(b[:17])
	c, err := uscc.Parse(string(b[:]))
	if err != nil {
		panic(err)
	}
	return c
}

// cpu returns the process's user+system CPU time. The apply phases run on
// one goroutine, so on a machine shared with other work their CPU time is
// the better measure of the per-core rate (GC workers add a little).
func cpu() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func main() {
	n := flag.Int("entities", 1_000_000, "entities")
	dir := flag.String("dir", os.TempDir(), "directory for the snapshot file")
	batch := flag.Int("batch", 1_000_000, "events generated per batch (untimed)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the registration phase to this file")
	flag.Parse()
	debug.SetGCPercent(200)
	fmt.Printf("scorebench: %d entities, GOMAXPROCS=%d, %s\n", *n, runtime.GOMAXPROCS(0), runtime.Version())

	// Phase 1: registrations from decoded events, one goroutine.
	base := heap()
	eng, err := scoring.New(scoring.Options{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	var applyTime, applyCPU time.Duration
	evs := make([]event.Event, 0, *batch)
	for start := 0; start < *n; start += *batch {
		evs = evs[:0]
		for i := start; i < min(start+*batch, *n); i++ {
			evs = append(evs, event.Event{ID: fmt.Sprintf("REG-%d", i), USCC: code(i), Type: event.TypeRegistered,
				OccurredAt: now.Add(-time.Hour), Name: "鲁企", Region: "370102", RegisteredOn: civil.MakeDate(2015, 1, 1)})
		}
		if *cpuprofile != "" && start == 0 {
			f, err := os.Create(*cpuprofile)
			if err != nil {
				panic(err)
			}
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
		t0, c0 := time.Now(), cpu()
		for i := range evs {
			if _, err := eng.ApplyAt(&evs[i], now, true, nil); err != nil {
				panic(err)
			}
		}
		applyTime += time.Since(t0)
		applyCPU += cpu() - c0
	}
	evs = nil
	fmt.Printf("decoded registrations: %d events in %v wall = %.0f events/s; %v CPU = %.0f events per CPU-second\n", *n,
		applyTime.Round(time.Millisecond), float64(*n)/applyTime.Seconds(), applyCPU.Round(time.Millisecond), float64(*n)/applyCPU.Seconds())
	h := heap() - base
	ms := eng.MemoryStats()
	fmt.Printf("heap per entity without records: %.1f bytes (heap %d MB); structure: entity slab %.1f + index %.1f bytes/entity; registration text %.1f bytes/entity (id, name)\n",
		float64(h)/float64(*n), h>>20, float64(ms.EntityBytes)/float64(*n), float64(ms.IndexBytes)/float64(*n), float64(ms.ArenaUsed)/float64(*n))

	// Phase 2: records from decoded events on 10% of the entities (penalties,
	// inspections, listings), one goroutine.
	m := *n / 10
	var recTime, recCPU time.Duration
	evs2 := make([]event.Event, 0, *batch)
	attrs := []byte(`{"severity":"general","decision_no":"鲁济市监罚〔2026〕1号"}`)
	for start := 0; start < m; start += *batch {
		evs2 = evs2[:0]
		for i := start; i < min(start+*batch, m); i++ {
			typ, sub := event.TypePenalty, event.SeverityGeneral
			switch i % 3 {
			case 1:
				typ, sub = event.TypeInspection, event.ResultProblemFound
			case 2:
				typ, sub = event.TypeAbnormalListed, event.AbnormalAnnualReportMissing
			}
			evs2 = append(evs2, event.Event{ID: fmt.Sprintf("EV-%d", i), USCC: code(i * 10), Type: typ, Sub: sub,
				Authority: "SAMR-370102", OccurredAt: now.Add(-time.Duration(i%700) * 24 * time.Hour), RawAttrs: attrs})
		}
		t0, c0 := time.Now(), cpu()
		for i := range evs2 {
			if _, err := eng.ApplyAt(&evs2[i], now, true, nil); err != nil {
				panic(err)
			}
		}
		recTime += time.Since(t0)
		recCPU += cpu() - c0
	}
	evs2 = nil
	fmt.Printf("decoded record events: %d events in %v wall = %.0f events/s; %v CPU = %.0f events per CPU-second\n", m,
		recTime.Round(time.Millisecond), float64(m)/recTime.Seconds(), recCPU.Round(time.Millisecond), float64(m)/recCPU.Seconds())

	// Phase 3: NDJSON bytes → decode → apply, one goroutine, on new entities
	// (a registration and a penalty each).
	k := min(*n/5, 2_000_000)
	d := event.Decoder{Borrow: true} // lines are kept while their events are used
	var ev event.Event
	var ndTime, ndCPU time.Duration
	var nbytes int64
	lines := make([][]byte, 0, *batch)
	for start := 0; start < 2*k; start += *batch {
		lines = lines[:0]
		for j := start; j < min(start+*batch, 2*k); j++ {
			c := code(*n + j/2)
			if j%2 == 0 {
				lines = append(lines, fmt.Appendf(nil, `{"id":"NDR-%d","uscc":"%s","type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"济南某某商贸有限公司","region":"370102","registered_on":"2019-12-30","industry":"F52"}}`, j, c))
			} else {
				lines = append(lines, fmt.Appendf(nil, `{"id":"NDP-%d","uscc":"%s","type":"penalty","occurred_at":"2026-01-01T02:00:00+08:00","authority":"济南市历下区市场监督管理局","attrs":{"severity":"general","decision_no":"鲁济市监罚〔2026〕%d号","amount_yuan":5000}}`, j, c, j))
			}
		}
		t0, c0 := time.Now(), cpu()
		for _, l := range lines {
			nbytes += int64(len(l) + 1)
			if err := d.Decode(l, &ev); err != nil {
				panic(err)
			}
			if _, err := eng.ApplyAt(&ev, now, true, nil); err != nil {
				panic(err)
			}
		}
		ndTime += time.Since(t0)
		ndCPU += cpu() - c0
	}
	lines = nil
	fmt.Printf("NDJSON decode+apply: %d events (%.0f MB) in %v wall = %.0f events/s; %v CPU = %.0f events per CPU-second\n", 2*k,
		float64(nbytes)/1e6, ndTime.Round(time.Millisecond), float64(2*k)/ndTime.Seconds(), ndCPU.Round(time.Millisecond), float64(2*k)/ndCPU.Seconds())

	// Phase 4: tier-as-of sweeps.
	ctx := context.Background()
	for _, at := range []struct {
		name string
		t    time.Time
	}{{"now (cached: fast path)", now}, {"one year ago (re-evaluates entities with records: slow path)", now.AddDate(-1, 0, 0)}} {
		t0 := time.Now()
		st, err := eng.TierStats(ctx, at.t, "")
		if err != nil {
			panic(err)
		}
		fmt.Printf("tier counts as of %s over %d entities: %v (%d registered)\n", at.name, eng.Len(), time.Since(t0).Round(time.Millisecond), st.Entities)
	}
	t0 := time.Now()
	re := eng.Advance(now.AddDate(0, 6, 0), nil)
	fmt.Printf("time-rule sweep six months ahead: %d entities re-evaluated in %v\n", re, time.Since(t0).Round(time.Millisecond))

	// Phase 5: snapshot write and restore.
	path := filepath.Join(*dir, "scorebench.snap")
	defer os.Remove(path)
	t0 = time.Now()
	f, err := os.Create(path)
	if err != nil {
		panic(err)
	}
	if err := eng.WriteSnapshot(f, 1); err != nil {
		panic(err)
	}
	if err := f.Sync(); err != nil {
		panic(err)
	}
	f.Close()
	fi, _ := os.Stat(path)
	fmt.Printf("snapshot write (fsynced): %d entities, %.0f MB in %v\n", eng.Len(), float64(fi.Size())/1e6, time.Since(t0).Round(time.Millisecond))
	total := eng.Len()
	probe, _ := eng.Entity(code(10), now, false)
	eng = nil
	heap()
	eng2, _ := scoring.New(scoring.Options{Now: func() time.Time { return now }})
	t0 = time.Now()
	f, _ = os.Open(path)
	if _, err := eng2.ReadSnapshot(f); err != nil {
		panic(err)
	}
	f.Close()
	fmt.Printf("snapshot restore (from page cache): %d entities in %v\n", eng2.Len(), time.Since(t0).Round(time.Millisecond))
	got, _ := eng2.Entity(code(10), now, false)
	if eng2.Len() != total || got.Score != probe.Score || got.TierLabel != probe.TierLabel {
		panic("restored state differs")
	}
}
