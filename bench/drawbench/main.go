// Command drawbench measures a double-random draw over a synthetic province
// held in memory, side by side with its hashing floor: one single-block
// SHA-256 per eligible entity (the priorities), spread over all cores. The
// whole draw includes the scan (one pass for ratio allocations), the sorted
// population lines and their SHA-256, inspector assignment and the record.
// The faults column counts the draw's minor page faults (first touches of
// fresh memory), which cost microseconds each on a VM.
//
//	go run ./bench/drawbench -entities 14000000 -pool 5000
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/sampler"
	"github.com/creditrisk/creditd/sampler/samplertest"
)

func main() {
	var (
		entities   = flag.Int("entities", 14_000_000, "entities in the province")
		poolSize   = flag.Int("pool", 5000, "inspectors in the pool")
		perEntity  = flag.Int("k", 2, "inspectors per entity")
		parts      = flag.Int("parts", 64, "source partitions")
		workers    = flag.Int("workers", runtime.GOMAXPROCS(0), "sampler workers")
		runs       = flag.Int("runs", 3, "timed runs of each measurement")
		budget     = flag.Int64("budget", 0, "use a budget allocation with weights 1,2,5,30 instead of ratios")
		department = flag.String("department", "", "the plan's department (\"食品\" narrows the pool to one in ten)")
		popFile    = flag.String("population", "", "write the population lines to this file (default: discard; the digest is computed either way)")
		excl       = flag.Bool("exclusions", false, "exclude entities selected within 30 days and cap at 2 a year, with a ledger of one earlier 2% draw")
		cpuprofile = flag.String("cpuprofile", "", "write a CPU profile of the timed draws")
		profFrom   = flag.Int("profilefrom", 1, "start the CPU profile at this run (2: leave out the first draw, whose Arena is empty)")
		storeDir   = flag.String("store", "", "also time Sampler.Run into a Store in this directory (record and population written and fsynced)")
		verify     = flag.Bool("verify", false, "also time the verification of the last run's record and population (v2: the auditor's and the public verification)")
		v1         = flag.Bool("v1", false, "run draw/v1 (sampler.Draw) instead of draw/v2 (sampler.DrawV2)")
		watch      = flag.Bool("peak", true, "sample the heap every 2 ms during the draw for the peak MB column (the sampler goroutine preempts the draw's workers)")
		fresh      = flag.Bool("fresh", false, "give every draw fresh memory (no sampler.Arena kept across the runs, as before the Arena)")
	)
	flag.Parse()
	ctx := context.Background()
	asOf := time.Now().UTC().Truncate(time.Second)

	t0 := time.Now()
	prov := &samplertest.Province{Entities: *entities, Seed: 1, AsOf: asOf.Unix(), InspectedPermille: 30}
	units := prov.Units()
	pool := prov.Pool(*poolSize, units)
	log.Printf("generated %d units and %d inspectors in %v", len(units), len(pool), time.Since(t0).Round(time.Millisecond))
	src := &sampler.MemSource{Units: units, Parts: *parts}

	req := &draw.Request{
		PlanID: "SD-bench", AsOf: asOf,
		Inspectors: draw.Inspectors{Pool: pool, PerEntity: *perEntity},
		Department: *department,
		Seed:       "5d41402abc4b2a76b9719d911017c592aa2b6ea7c3b1d0e1f2a3b4c5d6e7f809",
	}
	if *budget > 0 {
		req.Allocation = draw.Allocation{Budget: *budget, Weights: []draw.TierValue{{Label: "A", Value: 1}, {Label: "B", Value: 2}, {Label: "C", Value: 5}, {Label: "D", Value: 30}}}
	} else {
		// 1% / 1.5% / 4% / 10%: 2.0% overall with the A 30 B 55 C 12 D 3 mix
		req.Allocation = draw.Allocation{Ratios: []draw.TierValue{{Label: "A", Value: 10000}, {Label: "B", Value: 15000}, {Label: "C", Value: 40000}, {Label: "D", Value: 100000}}}
	}
	var ledger *sampler.Ledger
	if *excl {
		ledger = sampler.NewLedger()
		var sel []uscc.Code
		for i := 0; i < len(units); i += 50 {
			sel = append(sel, units[i].USCC)
		}
		ledger.Add("earlier", "SD-earlier", asOf.Add(-20*24*time.Hour), sel)
		req.ExcludeSelectedWithinDays, req.MaxInspectionsPerYear = 30, 2
	}
	opts := sampler.Options{Workers: *workers}
	if !*fresh {
		// a service's Sampler keeps one Arena: run 1 is a first draw
		// (fresh memory), later runs reuse its memory
		opts.Arena = new(sampler.Arena)
	}

	// the hashing floor: SHA-256(K || USCC) for each eligible entity, over
	// the same partitions and cores
	eligible := make([]bool, len(units))
	for i := range units {
		u := &units[i]
		eligible[i] = u.RegisteredAt <= asOf.Unix() && (u.DeregisteredAt == 0 || u.DeregisteredAt > asOf.Unix())
	}
	k := sha256.Sum256(append([]byte("draw/v1\x00"), req.SeedBytes()...))
	floor := func() (time.Duration, time.Duration, int64) {
		start, cpu0 := time.Now(), cpuTime()
		var next, count atomic.Int64
		var sink atomic.Uint64
		var wg sync.WaitGroup
		for range *workers {
			wg.Go(func() {
				var buf [50]byte
				copy(buf[:32], k[:])
				var acc uint64
				var n int64
				for {
					p := int(next.Add(1) - 1)
					if p >= *parts {
						break
					}
					lo, hi := len(units)*p / *parts, len(units)*(p+1) / *parts
					for i := lo; i < hi; i++ {
						if !eligible[i] {
							continue
						}
						copy(buf[32:], units[i].USCC[:])
						h := sha256.Sum256(buf[:])
						acc ^= binary.BigEndian.Uint64(h[:8])
						n++
					}
				}
				sink.Add(acc)
				count.Add(n)
			})
		}
		wg.Wait()
		return time.Since(start), cpuTime() - cpu0, count.Load()
	}

	fmt.Printf("machine: %s, GOMAXPROCS %d, workers %d\n", cpuModel(), runtime.GOMAXPROCS(0), *workers)
	fmt.Printf("province: %d entities, pool %d, k %d, department %q, allocation %s\n\n", len(units), len(pool), *perEntity, *department, allocName(req))
	fmt.Printf("wall and CPU (user+sys) times; the draw's phases are wall times (population and assignment overlap); count is 0 in the single pass\n")
	fmt.Printf("%-4s %9s %9s %7s | %9s %9s %7s | %8s %8s %8s %8s | %8s %8s %8s %s\n", "run", "floor", "draw", "ratio", "floorCPU", "drawCPU", "ratio", "count", "select", "popul.", "assign", "peak MB", "alloc MB", "faults", "memory")
	for run := 1; run <= *runs; run++ {
		if *cpuprofile != "" && run == *profFrom {
			f, err := os.Create(*cpuprofile)
			if err != nil {
				log.Fatal(err)
			}
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
		runtime.GC()
		fl, flCPU, hashed := floor()
		runtime.GC()
		var w io.Writer = io.Discard
		var popBuf *bytes.Buffer
		if *verify && run == *runs {
			// sized and touched before the draw, so that the draw's
			// population phase is not the buffer's growth and page faults
			popBuf = new(bytes.Buffer)
			popBuf.Grow(22 * len(units))
			clear(popBuf.AvailableBuffer()[:22*len(units)])
			w = popBuf
		}
		var f *os.File
		if *popFile != "" {
			var err error
			if f, err = os.Create(*popFile); err != nil {
				log.Fatal(err)
			}
			w = f
		}
		base, stop := uint64(0), func() uint64 { return 0 }
		if *watch {
			base, stop = watchHeap()
		}
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		cpu0, flt0 := cpuTime(), minorFaults()
		var (
			rec   *draw.Record
			recV2 *draw.V2
			st    *sampler.Stats
			err   error
		)
		if *v1 {
			rec, st, err = sampler.Draw(ctx, req, src, ledger, w, opts)
		} else {
			recV2, st, err = sampler.DrawV2(ctx, req, src, ledger, w, opts, &sampler.V2Inputs{BlindKey: sha256.Sum256([]byte("bench key")), CommittedAt: asOf.Add(-time.Hour)})
		}
		drawCPU, faults := cpuTime()-cpu0, minorFaults()-flt0
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		peak := stop()
		if err != nil {
			log.Fatal(err)
		}
		if f != nil {
			f.Close()
		}
		ms := func(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }
		memory := "fresh"
		if opts.Arena != nil {
			memory = "arena, first draw"
			if opts.Arena.Reused() > 1 {
				memory = fmt.Sprintf("arena, draw %d", opts.Arena.Reused())
			}
		}
		fmt.Printf("%-4d %9s %9s %6.2fx | %9s %9s %6.2fx | %8s %8s %8s %8s | %8.0f %8.0f %8d %s\n", run,
			ms(fl), ms(st.Total), float64(st.Total)/float64(fl),
			ms(flCPU), ms(drawCPU), float64(drawCPU)/float64(flCPU),
			ms(st.CountTime), ms(st.SelectTime),
			ms(st.PopulationTime), ms(st.AssignTime),
			float64(peak-base)/(1<<20), float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), faults, memory)
		if run == *runs && recV2 != nil {
			reportV2(ctx, recV2, st, hashed, popBuf)
		}
		if run == *runs && rec != nil {
			un := 0
			for _, s := range rec.Selected {
				if s.Unassigned > 0 {
					un++
				}
			}
			fmt.Printf("\nhashed %d (floor), eligible %d, selected %d (%.2f%%), unassigned %d, population %.0f MB, digest %x\n",
				hashed, st.Eligible, st.Selected, 100*float64(st.Selected)/float64(st.Eligible), un,
				float64(st.PopulationBytes)/(1<<20), rec.PopulationDigest[:8])
			for _, s := range rec.Strata {
				fmt.Printf("  %s N %9d n %7d pi %s\n", s.Label, s.N, s.Sample, s.Pi)
			}
			fmt.Printf("excluded: %+v\n", st.Excluded)
			fmt.Printf("selection slow path (heaps): %v; assignment: %d rank hashes, %d entities on the slow path\n",
				st.HeapFallback, st.AssignHashes, st.AssignSlowPaths)
			// SHA-256 blocks the spec requires: one per priority, the
			// population lines, and per rank hash g (51 bytes + id)
			idLen := 0
			for _, in := range pool {
				idLen += len(in.ID)
			}
			gBlocks := (51 + idLen/len(pool) + 9 + 63) / 64
			blocks := float64(st.Eligible) + float64(st.PopulationBytes)/64 + float64(st.AssignHashes*int64(gBlocks))
			if popBuf != nil {
				t, cpu0 := time.Now(), cpuTime()
				sum, err := sampler.Verify(ctx, rec, popBuf)
				if err != nil {
					log.Fatal(err)
				}
				fmt.Printf("sampler.Verify: %.3fs wall, %.3fs CPU (%d lines, %d selected)\n", time.Since(t).Seconds(), (cpuTime() - cpu0).Seconds(), sum.Lines, sum.Selected)
			}
			if *storeDir != "" {
				store, err := sampler.OpenStore(*storeDir)
				if err != nil {
					log.Fatal(err)
				}
				smp := sampler.New(store, opts)
				r := *req
				r.Seed = fmt.Sprintf("%064x", time.Now().UnixNano())
				t := time.Now()
				rec, _, err := smp.Run(ctx, &r, src)
				if err != nil {
					log.Fatal(err)
				}
				fmt.Printf("Sampler.Run with the Store in %s: %.3fs (draw %s)\n", *storeDir, time.Since(t).Seconds(), rec.DrawID)
			}
			fmt.Printf("SHA-256 work the spec requires: %d priorities + %.0f population blocks + %d rank hashes × %d blocks = %.2f× the floor\n",
				st.Eligible, float64(st.PopulationBytes)/64, st.AssignHashes, gBlocks, blocks/float64(st.Eligible))
		}
	}
}

// watchHeap samples the bytes in heap objects (runtime/metrics: no
// stop-the-world) every 2 ms until stopped, and returns the baseline and
// the peak.
func watchHeap() (base uint64, stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base = read()
	var peak atomic.Uint64
	peak.Store(base)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if v := read(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	return base, func() uint64 {
		close(done)
		<-finished
		return max(peak.Load(), read())
	}
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// minorFaults is the process's minor page faults (first touches of
// memory): on this VM each costs microseconds, so a draw's fresh memory
// shows in its CPU time.
func minorFaults() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Minflt
}

func allocName(r *draw.Request) string {
	if r.Allocation.IsBudget() {
		return fmt.Sprintf("budget %d, weights 1/2/5/30", r.Allocation.Budget)
	}
	return "ratios A 1% B 1.5% C 4% D 10%"
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range splitLines(string(data)) {
		if len(line) > 10 && line[:10] == "model name" {
			for i := range line {
				if line[i] == ':' {
					return line[i+2:]
				}
			}
		}
	}
	return runtime.GOARCH
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

// reportV2 prints a v2 draw's summary and, with the population, times the
// auditor's (regulatory edition) and the public verification.
func reportV2(ctx context.Context, rec *draw.V2, st *sampler.Stats, hashed int64, pop *bytes.Buffer) {
	fmt.Printf("\nhashed %d (floor), eligible %d, selected %d (%.2f%%), unassigned %d, population %.0f MB, digest %s\n",
		hashed, st.Eligible, st.Selected, 100*float64(st.Selected)/float64(st.Eligible), st.Unassigned,
		float64(st.PopulationBytes)/(1<<20), rec.PopulationDigest[:16])
	for _, l := range tier.National4.Labels {
		s := rec.TierStrata[l]
		fmt.Printf("  %s N %9d n %7d pi %s\n", l, s.N, s.N2, s.Pi)
	}
	fmt.Printf("excluded: %+v\nselection slow path (heaps): %v; assignment: %d stream hashes (%.2f per selected entity)\n",
		st.Excluded, st.HeapFallback, st.AssignHashes, float64(st.AssignHashes)/float64(max(st.Selected, 1)))
	blocks := float64(st.Eligible) + float64(st.PopulationBytes)/64 + float64(st.Eligible)/32 + float64(st.AssignHashes)
	fmt.Printf("SHA-256 blocks the spec requires: %d priorities + %.0f population-file blocks + %.0f mask blocks + %d stream hashes = %.2f× the floor\n",
		st.Eligible, float64(st.PopulationBytes)/64, float64(st.Eligible)/32, st.AssignHashes, blocks/float64(st.Eligible))
	if pop == nil {
		return
	}
	for _, r := range []*draw.V2{rec, rec.Public()} {
		t, cpu0 := time.Now(), cpuTime()
		sum, err := sampler.VerifyV2(ctx, draw.EncodeV2(r), bytes.NewReader(pop.Bytes()), nil)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("VerifyV2 %s edition: %.3fs wall, %.3fs CPU (%d lines, %d selected, %d checks)\n", sum.Edition,
			time.Since(t).Seconds(), (cpuTime() - cpu0).Seconds(), sum.Eligible, sum.Selected, len(sum.Checks))
	}
}
