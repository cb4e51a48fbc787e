package sampler

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/creditrisk/creditd/models/draw"
)

// A sequence of draws sharing one Arena (large, small, large again, with
// varying workers, partitions, and v1 and v2 formats) gives records and
// population files byte-identical to the same draws with fresh memory:
// nothing of an earlier draw leaks into a later one. Tiny slab blocks make
// every draw span many blocks and requests larger than a block.
func TestArenaReuseEqualsFresh(t *testing.T) {
	arena := &Arena{keyBlock: 64, candBlock: 8}
	rng := rand.New(rand.NewPCG(5, 5))
	sizes := []int{9000, 40, 2500, 9000, 300, 6000}
	for i, n := range sizes {
		units := testUnits(uint64(200+i), n, []int{30, 55, 12, 3}, i%2 == 0)
		req := v2Request(units, int64(rng.IntN(3))*int64(1+n/50))
		req.Allocation = ratios(10000*int64(1+i), 20000*int64(1+i), 40000*int64(1+i), 100000*int64(1+i))
		req.Seed = fmt.Sprintf("%040x", 77+i)
		workers, parts := 1+rng.IntN(3), 1+rng.IntN(9)
		t.Run(fmt.Sprintf("v2/%d", i), func(t *testing.T) {
			reused, reusedPop, st := runV2Arena(t, req, units, workers, parts, arena)
			fresh, freshPop, _ := runV2Arena(t, req, units, workers, parts, nil)
			if !st.SinglePass {
				t.Fatalf("fast path not taken: %+v", st)
			}
			if !bytes.Equal(draw.EncodeV2(reused), draw.EncodeV2(fresh)) || !bytes.Equal(reusedPop, freshPop) {
				t.Fatal("a draw with a reused Arena differs from the same draw with fresh memory")
			}
		})
		t.Run(fmt.Sprintf("v1/%d", i), func(t *testing.T) {
			r1 := testRequest(req.Allocation, fmt.Sprintf("%032x", 300+i))
			var a, b bytes.Buffer
			reused, _, err := Draw(context.Background(), r1, &MemSource{Units: units, Parts: parts}, nil, &a, Options{Workers: workers, Arena: arena})
			if err != nil {
				t.Fatal(err)
			}
			fresh, _, err := Draw(context.Background(), r1, &MemSource{Units: units, Parts: parts}, nil, &b, Options{Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			if reused.DrawID != fresh.DrawID || !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatal("v1: a draw with a reused Arena differs from the same draw with fresh memory")
			}
		})
	}
	if got, want := arena.Reused(), 2*len(sizes); got != want {
		t.Fatalf("the Arena served %d draws, want %d", got, want)
	}
}

func runV2Arena(t *testing.T, req *draw.Request, units []Unit, workers, parts int, a *Arena) (*draw.V2, []byte, *Stats) {
	t.Helper()
	return runV2Opts(t, req, units, nil, Options{Workers: workers, Arena: a}, parts, keepSigmas)
}

// Draws running at the same time with one Arena: one uses it, the others
// get fresh memory; all give the same record.
func TestArenaBusyGivesFreshMemory(t *testing.T) {
	units := testUnits(9, 3000, []int{30, 55, 12, 3}, false)
	request := func() *draw.Request { // one each: preparing a request completes it
		req := v2Request(units, 0)
		req.Seed = fmt.Sprintf("%040x", 9)
		return req
	}
	arena := new(Arena)
	want, wantPop, _ := runV2Arena(t, request(), units, 2, 4, nil)
	var wg sync.WaitGroup
	for range 4 {
		req := request()
		wg.Go(func() {
			got, pop, _ := runV2Arena(t, req, units, 2, 4, arena)
			if !bytes.Equal(draw.EncodeV2(got), draw.EncodeV2(want)) || !bytes.Equal(pop, wantPop) {
				t.Error("concurrent draws over one Arena differ")
			}
		})
	}
	wg.Wait()
	m, release := arena.take(2)
	defer release()
	again, releaseAgain := arena.take(2)
	defer releaseAgain()
	if m != &arena.mem || again == m {
		t.Fatal("take of a held Arena must give separate memory")
	}
}

// The slab hands out disjoint chunks of the requested capacity, and a
// reset keeps only the blocks the last draw used.
func TestSlab(t *testing.T) {
	s := slab[uint64]{block: 10}
	var got [][]uint64
	for _, n := range []int{4, 4, 4, 25, 1, 10} {
		c := s.alloc(n)
		if len(c) != 0 || cap(c) != n {
			t.Fatalf("alloc(%d): len %d cap %d", n, len(c), cap(c))
		}
		for j := range n {
			c = append(c, uint64(len(got)*100+j))
		}
		got = append(got, c)
	}
	for i, c := range got {
		for j, v := range c {
			if v != uint64(i*100+j) {
				t.Fatalf("chunk %d overwritten at %d: %d", i, j, v)
			}
		}
	}
	// [4 4 .] [4 .] [25] [1 .] [10]: a chunk never straddles two blocks
	if len(s.blocks) != 5 || len(s.blocks[2]) != 25 {
		t.Fatalf("%d blocks, want 5 (the third of 25 elements)", len(s.blocks))
	}
	used := len(s.blocks)
	s.reset()
	if len(s.blocks) != used {
		t.Fatalf("reset after a draw that used %d blocks kept %d", used, len(s.blocks))
	}
	s.alloc(3) // a small draw: one block
	s.reset()
	if len(s.blocks) != 1 {
		t.Fatalf("after a draw using one block, %d kept", len(s.blocks))
	}
	s.reset() // a draw that used nothing
	if len(s.blocks) != 0 {
		t.Fatalf("after a draw using nothing, %d blocks kept", len(s.blocks))
	}
}
