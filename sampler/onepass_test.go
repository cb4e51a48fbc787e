package sampler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// The single pass (fast path) and the two passes (slow path, kept as the
// oracle) give byte-identical v2 records and population files on random
// populations: random sizes, tier mixes (with empty and tiny strata),
// prefixes, ratios (including ones that round to 0 and are raised to 1,
// 不免抽, domain.md §2.2), worker and partition counts, deregistered and
// not yet registered units, and an exclusion ledger.
func TestSinglePassEqualsTwoPasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	for i := range 40 {
		n := []int{30, 60, 300, 2500, 9000}[rng.IntN(5)]
		mix := []int{rng.IntN(40), 1 + rng.IntN(60), rng.IntN(15), rng.IntN(4)}
		units := testUnits(uint64(100+i), n, mix, rng.IntN(3) == 0)
		for j := range units {
			switch rng.IntN(20) {
			case 0:
				units[j].DeregisteredAt = testAsOf.Unix() - 10
			case 1:
				units[j].RegisteredAt = testAsOf.Unix() + 10
			}
		}
		// ratios in micro-units, non-decreasing with risk, some tiny
		r := make([]int64, 4)
		r[0] = []int64{1, 1000, 10000, 300000}[rng.IntN(4)]
		for t := 1; t < 4; t++ {
			r[t] = min(r[t-1]+int64(rng.IntN(400000)), 1_000_000)
		}
		req := v2Request(units, int64(rng.IntN(3))*int64(1+n/50))
		req.Allocation = ratios(r...)
		req.Seed = fmt.Sprintf("%040x", i+1)
		var ledger *Ledger
		if rng.IntN(3) == 0 {
			ledger = NewLedger()
			ledger.Add("earlier", "P-earlier", testAsOf.Add(-5*24*time.Hour), codesOf(units[:len(units)/3]))
			req.ExcludeSelectedWithinDays = 30
		}
		workers, parts := 1+rng.IntN(4), 1+rng.IntN(9)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			fast, fastPop, fastSt := runV2With(t, req, units, ledger, workers, parts, keepSigmas)
			slow, slowPop, slowSt := runV2With(t, req, units, ledger, workers, parts, forceSlow)
			if !fastSt.SinglePass || fastSt.Passes != 1 || fastSt.CountTime != 0 {
				t.Fatalf("fast path not taken: %+v", fastSt)
			}
			if slowSt.SinglePass {
				t.Fatalf("a margin of %g sigma did not force the two passes: %+v", forceSlow, slowSt)
			}
			if !bytes.Equal(draw.EncodeV2(fast), draw.EncodeV2(slow)) {
				t.Fatalf("records differ:\n fast %s\n slow %s", draw.EncodeV2(fast), draw.EncodeV2(slow))
			}
			if !bytes.Equal(fastPop, slowPop) {
				t.Fatal("population files differ")
			}
			if fastSt.Eligible != slowSt.Eligible || fastSt.Excluded != slowSt.Excluded || fastSt.Scanned != slowSt.Scanned {
				t.Fatalf("stats differ: %+v vs %+v", fastSt, slowSt)
			}
			if _, err := VerifyV2(context.Background(), draw.EncodeV2(fast), bytes.NewReader(fastPop), nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// forceSlow is a margin that makes every limit 0: the single pass cannot
// prove its sample, and the two passes fall back to exact heaps.
const forceSlow = -1e9

func runV2With(t *testing.T, req *draw.Request, units []Unit, ledger *Ledger, workers, parts int, sigmas float64) (*draw.V2, []byte, *Stats) {
	t.Helper()
	return runV2Opts(t, req, units, ledger, Options{Workers: workers}, parts, sigmas)
}

func runV2Opts(t *testing.T, req *draw.Request, units []Unit, ledger *Ledger, opts Options, parts int, sigmas float64) (*draw.V2, []byte, *Stats) {
	t.Helper()
	opts.EnsureDefaults()
	p, err := PrepareV2(req, tier.National4, &opts)
	if err != nil {
		t.Fatal(err)
	}
	var pop bytes.Buffer
	rec, st, err := executeV2(context.Background(), p, &MemSource{Units: units, Parts: parts}, ledger, &pop, opts,
		&V2Inputs{BlindKey: testBlind, CommittedAt: testAsOf.Add(-time.Hour)}, sigmas)
	if err != nil {
		t.Fatal(err)
	}
	return rec, pop.Bytes(), st
}

// ratioLimit only falls as a worker sees more of a stratum (the proof of
// the fast path needs it), keeps everything while r·m is small, and keeps
// about r·m + σ√(r·m) + 16 of m.
func TestRatioLimit(t *testing.T) {
	for _, r := range []float64{1e-6, 0.001, 0.01, 0.1, 0.5, 1} {
		prev := uint64(math.MaxUint64)
		for m := int64(1); m < 1<<40; m = m*3/2 + 1 {
			l := ratioLimit(r, m, keepSigmas)
			if l > prev {
				t.Fatalf("r=%g m=%d: limit rose from %d to %d", r, m, prev, l)
			}
			prev = l
			want := (r*float64(m) + keepSigmas*math.Sqrt(r*float64(m)) + 16) / float64(m)
			if got := float64(l) / (1 << 64); want < 1 && math.Abs(got-want) > 1e-9 {
				t.Fatalf("r=%g m=%d: fraction %g, want %g", r, m, got, want)
			}
			if m <= 16 && l != math.MaxUint64 {
				t.Fatalf("r=%g m=%d: a stratum of at most 16 must be kept whole", r, m)
			}
		}
	}
	if ratioLimit(0.01, 1000, -50) != 0 {
		t.Fatal("a negative margin must keep nothing")
	}
}

// A single pass whose candidates would exceed the largest sample a draw
// may have (MaxAssignments, plus 4096 per worker) stops and falls back to
// the two passes, which refuse the draw after counting (ErrTooLarge),
// without holding the whole population. Below the bound the single pass
// itself refuses it once N_t is known, after one scan.
func TestSinglePassKeptBound(t *testing.T) {
	units := testUnits(41, 12000, []int{30, 55, 12, 3}, false)
	req := testRequest(ratios(1_000_000, 1_000_000, 1_000_000, 1_000_000), fmt.Sprintf("%032x", 41))
	for _, tc := range []struct {
		maxAssign int64
		scans     int64 // partition scans: 2 single pass, +2 counting pass
	}{
		{10, 4},     // 12,000 kept > 10 + 2·4096: stopped, two passes
		{10000, 2},  // 12,000 kept ≤ 10,000 + 8,192: refused after the single pass
		{100000, 2}, // runs
	} {
		src := &scanHooks{MemSource: MemSource{Units: units, Parts: 2}}
		_, st, err := Draw(context.Background(), req, src, nil, io.Discard, Options{Workers: 2, MaxAssignments: tc.maxAssign})
		if got := src.scans.Load(); got != tc.scans {
			t.Errorf("MaxAssignments %d: %d partition scans, want %d (%v %+v)", tc.maxAssign, got, tc.scans, err, st)
		}
		if tc.maxAssign == 100000 {
			if err != nil || !st.SinglePass || st.Selected != len(units) {
				t.Errorf("MaxAssignments %d: err %v, stats %+v", tc.maxAssign, err, st)
			}
			continue
		}
		if !errors.Is(err, ErrTooLarge) || st.SinglePass {
			t.Errorf("MaxAssignments %d: err %v, stats %+v", tc.maxAssign, err, st)
		}
	}
}

func codesOf(us []Unit) []uscc.Code {
	out := make([]uscc.Code, len(us))
	for i := range us {
		out[i] = us[i].USCC
	}
	return out
}
