package sampler

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
)

const benchEntities = 1_000_000

var benchOnce sync.Once
var benchUnits []Unit
var benchPool []draw.Inspector

func benchSetup() {
	benchOnce.Do(func() {
		benchUnits = testUnits(3, benchEntities, []int{30, 55, 12, 3}, false)
		// 40 inspectors per division (the units use 9), a tenth province-wide
		for c := 1; c <= 3; c++ {
			for k := 1; k <= 3; k++ {
				for i := range 40 {
					in := draw.Inspector{ID: fmt.Sprintf("37%02d%02d-%04d", c, k, i), Regions: []string{fmt.Sprintf("37%02d%02d", c, k)}}
					if i%10 == 0 {
						in.Regions = []string{"37"}
					}
					benchPool = append(benchPool, in)
				}
			}
		}
	})
}

func benchRequest() *draw.Request {
	benchSetup()
	return &draw.Request{
		PlanID: "bench", AsOf: testAsOf,
		Allocation: ratios(10000, 15000, 40000, 100000),
		Inspectors: draw.Inspectors{Pool: benchPool, PerEntity: 2},
		Seed:       strings.Repeat("42", 16),
	}
}

// BenchmarkPriorityFloor is the hashing floor: one SHA-256(K || USCC) per
// unit, on one core.
func BenchmarkPriorityFloor(b *testing.B) {
	benchSetup()
	var buf [50]byte
	var p [4]uint64
	b.ReportAllocs()
	for b.Loop() {
		for i := range benchUnits {
			priority(&buf, &benchUnits[i].USCC, &p)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(benchUnits)), "ns/entity")
}

func BenchmarkCountPass(b *testing.B) {
	req := benchRequest()
	p := &scanParams{asOf: req.AsOf.Unix(), filter: &req.Population, scheme: tier.National4}
	src := &MemSource{Units: benchUnits, Parts: 64}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := runCountPass(context.Background(), src, p, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(benchUnits)), "ns/entity")
}

func BenchmarkSelectPass(b *testing.B) {
	req := benchRequest()
	p := &scanParams{asOf: req.AsOf.Unix(), filter: &req.Population, scheme: tier.National4, k: sha256.Sum256([]byte("k"))}
	src := &MemSource{Units: benchUnits, Parts: 64}
	cp, err := runCountPass(context.Background(), src, p, 1)
	if err != nil {
		b.Fatal(err)
	}
	vals, _ := req.Allocation.Resolve(tier.National4)
	Nt := cp.counts.n[:4]
	nt := SampleSizes(&req.Allocation, vals, Nt)
	b.ReportAllocs()
	for b.Loop() {
		pop := newPopulation(cp.prefixes, 1)
		if _, err := runSelectPass(context.Background(), src, p, 1, pop, nt, Nt, selThreshold, keepSigmas); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(benchUnits)), "ns/entity")
}

// BenchmarkSinglePass is the fast path's one scan (counts, population
// keys, priorities and the kept candidates) on one worker, with fresh
// memory and with an Arena's memory from the previous run.
func BenchmarkSinglePass(b *testing.B) {
	for _, mode := range []string{"fresh", "arena"} {
		b.Run(mode, func(b *testing.B) {
			var arena *Arena
			if mode == "arena" {
				arena = new(Arena)
			}
			benchSinglePass(b, arena)
		})
	}
}

func benchSinglePass(b *testing.B, arena *Arena) {
	req := benchRequest()
	p := &scanParams{asOf: req.AsOf.Unix(), filter: &req.Population, scheme: tier.National4, k: sha256.Sum256([]byte("k"))}
	src := &MemSource{Units: benchUnits, Parts: 64}
	vals, _ := req.Allocation.Resolve(tier.National4)
	ratio := make([]float64, len(vals))
	for t := range vals {
		ratio[t] = float64(vals[t]) / 1e6
	}
	opts := Options{Workers: 1}
	opts.EnsureDefaults()
	sizes := func(Nt []int64) ([]int64, error) { return SampleSizes(&req.Allocation, vals, Nt), nil }
	b.ReportAllocs()
	for b.Loop() {
		mem, release := arena.take(1)
		sp, err := runSinglePass(context.Background(), src, p, &opts, mem, ratio, keepSigmas, sizes)
		release()
		if err != nil || !sp.ok {
			b.Fatal(err, sp.ok)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(benchUnits)), "ns/entity")
}

// BenchmarkDraw is a whole draw over 1M entities with all cores.
func BenchmarkDraw(b *testing.B) {
	req := benchRequest()
	src := &MemSource{Units: benchUnits, Parts: 64}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Draw(context.Background(), req, src, nil, io.Discard, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(benchUnits)), "ns/entity")
}

// BenchmarkDrawV2 is a whole draw/v2 draw over 1M entities with all cores:
// with fresh memory for every draw, and with one Arena across the draws
// (a service's Sampler; the first draw fills it). cpu-ns/entity is the
// process's CPU time (user+system, page faults included) per entity, to
// set against PriorityFloor's ns/entity (one core).
func BenchmarkDrawV2(b *testing.B) {
	req := benchRequest()
	src := &MemSource{Units: benchUnits, Parts: 64}
	in := &V2Inputs{BlindKey: sha256.Sum256([]byte("bench key")), CommittedAt: testAsOf}
	for _, mode := range []string{"fresh", "arena"} {
		b.Run(mode, func(b *testing.B) {
			opts := Options{}
			if mode == "arena" {
				opts.Arena = new(Arena)
				if _, _, err := DrawV2(context.Background(), req, src, nil, io.Discard, opts, in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				if _, _, err := DrawV2(context.Background(), req, src, nil, io.Discard, opts, in); err != nil {
					b.Fatal(err)
				}
			}
			n := float64(b.N * len(benchUnits))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/entity")
			b.ReportMetric(float64(processCPU()-cpu0)/n, "cpu-ns/entity")
		})
	}
}

// processCPU is the process's user+system CPU time in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func BenchmarkVerify(b *testing.B) {
	req := benchRequest()
	src := &MemSource{Units: benchUnits, Parts: 64}
	var pop strings.Builder
	rec, _, err := Draw(context.Background(), req, src, nil, &pop, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(context.Background(), rec, strings.NewReader(pop.String())); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSortKeys sorts buckets of 32k keys (a 14M province has a few
// hundred such buckets).
func BenchmarkSortKeys(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	src := make([]uint64, 32<<10)
	for i := range src {
		src[i] = rng.Uint64() >> 10
	}
	a := make([]uint64, len(src))
	for _, sort := range []struct {
		name string
		fn   func([]uint64, *[]uint64)
	}{{"sortKeys", func(a []uint64, s *[]uint64) { sortKeys(a, s, lsdMax) }}, {"lsd8", lsdSort}, {"lsd11", lsdSort11}} {
		b.Run(sort.name, func(b *testing.B) {
			var scratch []uint64
			b.ReportAllocs()
			for b.Loop() {
				copy(a, src)
				sort.fn(a, &scratch)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(src)), "ns/key")
		})
	}
}

// BenchmarkFormatSegment formats population lines.
func BenchmarkFormatSegment(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	pop := &population{prefixes: []uint64{0x3931333730313032}, count: []int64{segKeys}, off: []int64{0, segKeys}}
	pop.keys = make([]uint64, segKeys)
	for i := range pop.keys {
		pop.keys[i] = uint64(i)<<20 | uint64(rng.IntN(4))
	}
	tails := [][]byte{[]byte(",A\n"), []byte(",B\n"), []byte(",C\n"), []byte(",D\n")}
	buf := make([]byte, 0, segKeys*21)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = formatSegment(buf[:0], pop.keys, sentinelKey, pop.prefixes[0], tails); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*segKeys), "ns/line")
}
