package sampler

// Hardening: per_entity up to the spec's 100, cancellation, work limits,
// and no temporary file left behind by a draw that fails or panics.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
)

// numberedPool returns n inspectors without departments or regions.
func numberedPool(n int) []draw.Inspector {
	pool := make([]draw.Inspector, n)
	for i := range pool {
		pool[i].ID = fmt.Sprintf("I-%06d", i)
	}
	return pool
}

// tempFiles lists the store's leftovers of unfinished writes.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var left []string
	for _, sub := range []string{populationsDir, recordsDir, commitmentsDir} {
		es, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if strings.HasSuffix(e.Name(), tmpSuffix) {
				left = append(left, filepath.Join(sub, e.Name()))
			}
		}
	}
	return left
}

// The spec allows per_entity up to 100 (draw.MaxPerEntity). An int8
// counter of the kept ranking (2k+8 entries) overflowed from k = 60 and
// the draw panicked, leaving its temporary population file behind.
func TestPerEntityBoundaries(t *testing.T) {
	units := testUnits(31, 600, []int{30, 55, 12, 3}, false)
	src := &MemSource{Units: units, Parts: 3}
	for i, tc := range []struct {
		k     int
		valid bool
	}{{59, true}, {60, true}, {100, true}, {101, false}} {
		t.Run(fmt.Sprint(tc.k), func(t *testing.T) {
			dir := t.TempDir()
			store, err := OpenStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			req := testRequest(ratios(20000, 50000, 100000, 200000), fmt.Sprintf("%032x", 700+i))
			req.Inspectors = draw.Inspectors{Pool: numberedPool(130), PerEntity: tc.k}
			rec, _, err := New(store, Options{Workers: 2}).Run(context.Background(), req, src)
			if left := tempFiles(t, dir); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
			if !tc.valid {
				var de *draw.Error
				if !errors.As(err, &de) || de.Path != "inspectors.per_entity" {
					t.Fatalf("per_entity %d: error %v, want a DrawError on inspectors.per_entity", tc.k, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Selected) == 0 {
				t.Fatal("nothing selected")
			}
			assigned := 0
			for _, s := range rec.Selected {
				if len(s.Inspectors)+s.Unassigned != tc.k {
					t.Fatalf("%s: %d inspectors + %d unassigned, want %d", s.USCC, len(s.Inspectors), s.Unassigned, tc.k)
				}
				seen := map[string]bool{}
				for _, id := range s.Inspectors {
					if seen[id] {
						t.Fatalf("%s: inspector %s twice", s.USCC, id)
					}
					seen[id] = true
				}
				assigned += len(s.Inspectors)
			}
			// 130 inspectors, cap ceil(k·n/130): most slots can be filled
			if assigned < tc.k*len(rec.Selected)*9/10 {
				t.Fatalf("only %d of %d inspector slots filled", assigned, tc.k*len(rec.Selected))
			}
			f, err := store.Population(rec.DrawID)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := Verify(context.Background(), rec, f); err != nil {
				t.Fatalf("per_entity %d does not verify: %v", tc.k, err)
			}
		})
	}
}

// scanHooks wraps a MemSource: it counts Scan calls, can call a function
// when a scan starts, and can panic in the selection pass.
type scanHooks struct {
	MemSource
	scans      atomic.Int64
	onScan     func(n int64) // n: this scan's number, from 1
	panicAfter int64         // panic in scans after this many (0: never)
}

func (s *scanHooks) Scan(ctx context.Context, part int, asOf time.Time, fn func(*Unit) error) error {
	n := s.scans.Add(1)
	if s.onScan != nil {
		s.onScan(n)
	}
	if s.panicAfter > 0 && n > s.panicAfter {
		panic("scanHooks: injected panic")
	}
	return s.MemSource.Scan(ctx, part, asOf, fn)
}

// A panic in a draw's worker goroutine reaches Run's caller (where the
// HTTP layer recovers it) instead of crashing the process; Run removes its
// temporary file and releases the lock. On the original code the panic in
// a scan worker killed the test binary.
func TestRunPanicCleansUp(t *testing.T) {
	dir := t.TempDir()
	store, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := New(store, Options{Workers: 2})
	units := testUnits(32, 400, []int{30, 55, 12, 3}, false)
	src := &scanHooks{MemSource: MemSource{Units: units, Parts: 2}, panicAfter: 1} // the single pass's second partition scan panics
	req := storeRequest("P-PANIC", strings.Repeat("5a", 16), testAsOf)
	func() {
		defer func() {
			p := recover()
			if p == nil || !strings.Contains(fmt.Sprint(p), "injected panic") {
				t.Fatalf("recovered %v, want the injected panic", p)
			}
		}()
		s.Run(context.Background(), req, src)
		t.Fatal("Run returned; want the panic raised again")
	}()
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left after a panic: %v", left)
	}
	if n := len(store.Records("")); n != 0 {
		t.Fatalf("%d records stored by a panicking draw", n)
	}
	// the lock is free: the same draw over a sound source succeeds
	if _, _, err := s.Run(context.Background(), req, &MemSource{Units: units, Parts: 2}); err != nil {
		t.Fatal(err)
	}
}

// hugeDraw is a draw whose assignment ranks 10^5 inspectors for each of
// ~10^4 selected entities (10^9 hashes, minutes of work; above the default
// MaxRankHashes, so the tests raise it).
func hugeDraw(seed string) (*draw.Request, []Unit) {
	req := testRequest(ratios(500000, 500000, 500000, 500000), seed)
	req.PlanID = "P-HUGE"
	req.Inspectors = draw.Inspectors{Pool: numberedPool(draw.MaxPoolSize), PerEntity: draw.MaxPerEntity}
	return req, testUnits(33, 20000, []int{30, 55, 12, 3}, false)
}

// signalWriter closes started on its first Write.
type signalWriter struct {
	once    sync.Once
	started chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.started) })
	return len(p), nil
}

// A cancelled context stops the inspector assignment: the population
// lines are written while the assignment runs, so cancelling on the first
// line cancels a running assignment. On the original code the assignment
// ignored ctx and ran its 10^9 hashes to the end (the test timed out).
func TestCancelStopsAssignment(t *testing.T) {
	req, units := hugeDraw(strings.Repeat("c4", 16))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &signalWriter{started: make(chan struct{})}
	go func() { <-w.started; cancel() }()
	_, st, err := Draw(ctx, req, &MemSource{Units: units, Parts: 4}, nil, w, Options{Workers: 2, MaxRankHashes: 1 << 40})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if st == nil || st.Selected == 0 {
		t.Fatalf("stats %+v: the draw did not reach the assignment", st)
	}
	if full := int64(st.Selected) * draw.MaxPoolSize; st.AssignHashes >= full {
		t.Fatalf("%d of %d rank hashes computed: the assignment was not stopped", st.AssignHashes, full)
	}
}

// Through a Sampler: a huge draw holds the lock; a second draw waiting for
// it gives up when its own context ends; cancelling the huge draw ends it
// with context.Canceled, leaves no temporary file, and frees the lock for
// the next draw. On the original code both waits lasted the whole draw.
func TestCancelReleasesSampler(t *testing.T) {
	dir := t.TempDir()
	store, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := New(store, Options{Workers: 2, MaxRankHashes: 1 << 40})
	req, units := hugeDraw(strings.Repeat("d5", 16))
	scanning := make(chan struct{})
	var once sync.Once
	src := &scanHooks{MemSource: MemSource{Units: units, Parts: 4}, onScan: func(int64) { once.Do(func() { close(scanning) }) }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		err error
	}
	huge := make(chan result, 1)
	go func() {
		_, _, err := s.Run(ctx, req, src)
		huge <- result{err}
	}()
	<-scanning // the huge draw holds the lock
	small := testRequest(ratios(100000, 100000, 200000, 300000), strings.Repeat("e6", 16))
	small.PlanID = "P-SMALL"
	smallSrc := &MemSource{Units: units[:500]}
	waitCtx, stopWaiting := context.WithCancel(context.Background())
	stopWaiting()
	if _, _, err := s.Run(waitCtx, small, smallSrc); !errors.Is(err, context.Canceled) {
		t.Fatalf("a draw waiting for the lock with a cancelled context: %v, want context.Canceled", err)
	}
	cancel()
	if r := <-huge; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("huge draw: %v, want context.Canceled", r.err)
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left after cancellation: %v", left)
	}
	rec, _, err := s.Run(context.Background(), small, smallSrc)
	if err != nil {
		t.Fatalf("draw after the cancelled one: %v", err)
	}
	if got := store.Records(""); len(got) != 1 || got[0].DrawID != rec.DrawID {
		t.Fatalf("stored %+v, want only the small draw", got)
	}
}

// maxCandidates bounds one entity's candidate inspectors, worked out by
// hand: 1 without regions; along 37 → 3701 → 370102 the lists have 2, 2
// and 1 entries (F lists two of them and counts twice).
func TestMaxCandidates(t *testing.T) {
	pool := []draw.Inspector{
		{ID: "A"}, {ID: "B", Regions: []string{"37"}}, {ID: "C", Regions: []string{"3701"}},
		{ID: "D", Regions: []string{"370102"}}, {ID: "E", Regions: []string{"44"}}, {ID: "F", Regions: []string{"37", "3701"}},
		{ID: "G", Departments: []string{"tax"}},
	}
	for _, tc := range []struct {
		dept string
		want int
	}{{"", 7}, {"market", 6}, {"tax", 7}} {
		req := &draw.Request{Department: tc.dept, Seed: strings.Repeat("0", 32),
			Inspectors: draw.Inspectors{Pool: pool, PerEntity: 2}}
		a := newAssigner(req, 0)
		// "" and "tax": A and G have no regions (2 + 5); "market": G does
		// not serve it (1 + 5)
		if got := a.maxCandidates(); got != tc.want {
			t.Errorf("department %q: %d, want %d", tc.dept, got, tc.want)
		}
	}
}

// A draw above MaxRankHashes or MaxAssignments is ErrTooLarge after one
// scan of the Source (the single pass of a ratio allocation; the counting
// pass of a budget), before anything is assigned or stored, no temporary
// file left. Exactly at
// the limit the draw runs. Boundaries from the same draw's Σ n_t.
func TestWorkLimits(t *testing.T) {
	units := testUnits(34, 1500, []int{30, 55, 12, 3}, false)
	const parts, pool, k = 3, 40, 3
	mkReq := func(seed int) *draw.Request {
		r := testRequest(ratios(20000, 50000, 100000, 200000), fmt.Sprintf("%032x", seed))
		r.Inspectors = draw.Inspectors{Pool: numberedPool(pool), PerEntity: k}
		return r
	}
	_, st, err := Draw(context.Background(), mkReq(1), &MemSource{Units: units}, nil, io.Discard, Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := int64(st.Selected)
	if n < 10 {
		t.Fatalf("only %d selected", n)
	}
	for i, tc := range []struct {
		name string
		opts Options
		ok   bool
	}{
		{"rank hashes at the limit", Options{MaxRankHashes: n * pool}, true},
		{"rank hashes above", Options{MaxRankHashes: n*pool - 1}, false},
		{"assignments at the limit", Options{MaxAssignments: n * k}, true},
		{"assignments above", Options{MaxAssignments: n*k - 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			store, err := OpenStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			src := &scanHooks{MemSource: MemSource{Units: units, Parts: parts}}
			tc.opts.Workers = 2
			rec, st, err := New(store, tc.opts).Run(context.Background(), mkReq(10+i), src)
			if tc.ok {
				if err != nil || int64(len(rec.Selected)) != n {
					t.Fatalf("at the limit: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v, want ErrTooLarge", err)
			}
			if got := src.scans.Load(); got != parts {
				t.Errorf("%d partition scans, want %d (one pass)", got, parts)
			}
			if st == nil || st.Passes != 1 || st.AssignHashes != 0 || st.Selected != 0 {
				t.Errorf("stats %+v: work done past the limit check", st)
			}
			if left := tempFiles(t, dir); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
			if len(store.Records("")) != 0 {
				t.Error("a refused draw was stored")
			}
		})
	}
}

// strataWarnings compares n_t·N_{t−1} with n_{t−1}·N_t: with stratum sizes
// near 2^40 (draw.MaxCount) the int64 products overflowed and warned
// about a tier whose probability does not fall (0.767 > 0.347).
func TestStrataWarningsLargeStrata(t *testing.T) {
	N := []int64{846087558021, 765513224102, 0, 0}
	n := []int64{293970699565, 649522587953, 0, 0}
	if ws := strataWarnings(tier.National4, N, n); len(ws) != 0 {
		t.Fatalf("%v", ws)
	}
	n[1] = 265513224102 // 0.3468427… < 0.3474466…, written rounded half up
	want := "after rounding, tier B's inclusion probability 0.346843 is below tier A's 0.347447"
	if ws := draw.Strings(strataWarnings(tier.National4, N, n)); len(ws) != 1 || ws[0] != want {
		t.Fatalf("%q, want %q", ws, want)
	}
}

// The draw (10^5 inspectors, k = 100) is refused by the default
// limits before selection; on the original code it ran for minutes.
func TestHugeDrawRefusedByDefault(t *testing.T) {
	req, units := hugeDraw(strings.Repeat("f7", 16))
	_, st, err := Draw(context.Background(), req, &MemSource{Units: units}, nil, io.Discard, Options{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "100000 candidate inspectors") {
		t.Fatalf("error %v, want ErrTooLarge naming the 100000 candidates", err)
	}
	if st.AssignHashes != 0 || st.Selected != 0 {
		t.Fatalf("stats %+v", st)
	}
}
