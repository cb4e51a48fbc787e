package sampler

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
)

// Stats describe one draw, for logs and metrics.
type Stats struct {
	// Scanned is the number of units the Source yielded (selection pass).
	Scanned int64
	// Eligible is the population size Σ N_t.
	Eligible int64
	// Selected is Σ n_t.
	Selected int
	// Unassigned is the number of selected entities with fewer than k
	// inspectors.
	Unassigned int
	// Excluded counts the units that were not eligible, by reason.
	Excluded Exclusions
	// AssignHashes is the number of inspector rank hashes g computed
	// (selected entities × the inspectors that could serve each; the slow
	// path recomputes some).
	AssignHashes int64
	// AssignSlowPaths is the number of selected entities whose kept
	// ranking ran out of inspectors below the load cap, so that every
	// candidate was ranked again.
	AssignSlowPaths int64
	// Passes is the number of scans of the Source in the fast path (1,
	// SinglePass set), or else of counting+selection pass pairs (1 unless
	// the Source's population changed between passes, or the heap fallback
	// ran).
	Passes int
	// SinglePass is set when the draw took the fast path: one scan of the
	// Source (ratio allocations; see runSinglePass).
	SinglePass bool
	// HeapFallback is set when the selection's fast path (a priority
	// threshold) kept too few candidates to prove the sample, and the
	// selection pass was repeated with exact bottom-n heaps.
	HeapFallback bool
	// Replayed is set when Sampler.Run returned a stored draw of the same
	// request instead of drawing again (the other fields are then zero).
	Replayed bool
	// PopulationBytes is the length of the population lines.
	PopulationBytes int64
	// CountTime is the counting pass (0 in the fast path); SelectTime the
	// selection pass or the single pass (scan, hashing, selection); PopulationTime sorting, formatting and hashing the
	// population lines; AssignTime inspector assignment (the last two run
	// concurrently); Total the whole draw.
	CountTime, SelectTime, PopulationTime, AssignTime, Total time.Duration
}

// Exclusions count ineligible units by reason.
type Exclusions struct {
	NotYetRegistered int64 // registered after as_of
	Deregistered     int64 // deregistered at or before as_of
	Filtered         int64 // outside the population filter
	Untiered         int64 // no tier as of as_of
	RecentlySelected int64 // exclude_selected_within_days
	YearCap          int64 // max_inspections_per_year
}

// PrepareRequest validates req against the scheme and the Options' policy
// and returns a canonical copy (allocation in scheme order) with the
// allocation's values in tier order. Draw calls it; services can call it to
// refuse a bad request before anything else.
func PrepareRequest(req *draw.Request, scheme *tier.Scheme, opts *Options) (*draw.Request, []int64, error) {
	if err := req.Validate(); err != nil {
		return nil, nil, err
	}
	vals, err := req.Allocation.Resolve(scheme)
	if err != nil {
		return nil, nil, err
	}
	if err := checkAllocation(&req.Allocation, vals, scheme, opts); err != nil {
		return nil, nil, err
	}
	if req.Inspectors.PerEntity < opts.MinPerEntity {
		return nil, nil, &draw.Error{Path: "inspectors.per_entity", Msg: fmt.Sprintf(
			"is %d; at least %d inspectors per inspection are required (行政处罚法 Art. 42)", req.Inspectors.PerEntity, opts.MinPerEntity)}
	}
	r := *req
	r.Allocation.Ratios = append([]draw.TierValue(nil), req.Allocation.Ratios...)
	r.Allocation.Weights = append([]draw.TierValue(nil), req.Allocation.Weights...)
	if req.Allocation.Ratios == nil {
		r.Allocation.Ratios = nil
	}
	if req.Allocation.Weights == nil {
		r.Allocation.Weights = nil
	}
	r.Allocation.Canonicalize(scheme)
	r.AsOf = req.AsOf.UTC()
	return &r, vals, nil
}

// SchemeOf returns the tier scheme a draw over src uses: the Source's own
// (SchemeSource) or opts.Scheme.
func SchemeOf(src Source, opts *Options) *tier.Scheme {
	if ss, ok := src.(SchemeSource); ok {
		if s := ss.TierScheme(); s != nil {
			return s
		}
	}
	if opts.Scheme == nil {
		return tier.National4
	}
	return opts.Scheme
}

// Draw runs a draw over src: it selects entities, assigns inspectors,
// writes the population lines (`USCC,TIER\n`, sorted) to pop (which may be
// io.Discard: the digest is computed either way), and returns the record.
// ledger (may be nil) supplies earlier draws' selections for exclusions
// and caps; Draw does not change it. Draw persists nothing: Sampler.Run
// adds the Store, commitments and the ledger update.
func Draw(ctx context.Context, req *draw.Request, src Source, ledger *Ledger, pop io.Writer, opts Options) (*draw.Record, *Stats, error) {
	opts.EnsureDefaults()
	p, err := Prepare(req, SchemeOf(src, &opts), &opts)
	if err != nil {
		return nil, nil, err
	}
	return execute(ctx, p, src, ledger, pop, opts, keepSigmas)
}

// Prepared is a draw request checked once (PrepareRequest: the request's
// own validity, then the scheme's and the Options' policy) in canonical
// form, with the allocation's values in the scheme's tier order. The draw
// itself takes it as is and checks nothing again: a request is validated
// once, however many stages it passes.
type Prepared struct {
	req    *draw.Request
	scheme *tier.Scheme
	vals   []int64
}

// Request is the canonical request (read-only).
func (p *Prepared) Request() *draw.Request { return p.req }

// Prepare checks req for a draw/v1 draw under scheme (PrepareRequest).
func Prepare(req *draw.Request, scheme *tier.Scheme, opts *Options) (*Prepared, error) {
	r, vals, err := PrepareRequest(req, scheme, opts)
	if err != nil {
		return nil, err
	}
	return &Prepared{req: r, scheme: scheme, vals: vals}, nil
}

// execute is Draw on a prepared request, with the selection fast path's
// margin as a parameter (tests force the slow path with a negative one).
func execute(ctx context.Context, p *Prepared, src Source, ledger *Ledger, pop io.Writer, opts Options, sigmas float64) (*draw.Record, *Stats, error) {
	opts.EnsureDefaults()
	start := time.Now()
	r, vals, scheme := p.req, p.vals, p.scheme
	params := &scanParams{
		asOf:   r.AsOf.Unix(),
		filter: &r.Population,
		scheme: scheme,
		excl:   newExclusion(r, ledger),
		k:      drawKey(r.SeedBytes()),
	}
	asg := newAssigner(r, 0) // the load cap is set once Σ n_t is known
	perEntity := int64(asg.maxCandidates())
	st := &Stats{}
	mem, release := opts.Arena.take(opts.Workers)
	defer release()
	pr, err := runPasses(ctx, src, params, &r.Allocation, vals, opts, mem, sigmas, st, func(Nt []int64) ([]int64, error) {
		nt := SampleSizes(&r.Allocation, vals, Nt)
		return nt, checkWork(nt, perEntity, int64(r.Inspectors.PerEntity), &opts)
	})
	if err != nil {
		return nil, st, err
	}
	sp, popu, Nt, nt, c := pr.sp, pr.popu, pr.Nt, pr.nt, &pr.sp.counts

	rec := &draw.Record{
		Request:  *r,
		Scheme:   scheme,
		Strata:   make([]draw.Stratum, scheme.Len()),
		Selected: make([]draw.Selection, len(sp.selected)),
	}
	for t, l := range scheme.Labels {
		rec.Strata[t] = draw.Stratum{Label: l, N: Nt[t], Sample: nt[t], Pi: draw.PiString(nt[t], Nt[t])}
	}
	selections(rec.Selected, sp.selected)
	sp.selected = nil

	// population lines and assignment run concurrently; either failing
	// (or panicking) stops the other
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var popErr error
	g := &group{stop: cancel}
	g.Go(func() {
		t := time.Now()
		rec.PopulationDigest, st.PopulationBytes, popErr = emitPopulation(ctx, popu, scheme, opts.Workers, mem, pop, nil)
		st.PopulationTime = time.Since(t)
		if popErr != nil {
			cancel()
		}
	})
	var asgErr error
	g.Go(func() {
		t := time.Now()
		asg.cap = loadCap(r, len(rec.Selected))
		st.AssignHashes, st.AssignSlowPaths, asgErr = asg.assign(ctx, rec.Selected, opts.Workers)
		st.AssignTime = time.Since(t)
		if asgErr != nil {
			cancel()
		}
	})
	g.Wait()
	popu = nil
	if popErr != nil {
		return nil, st, popErr
	}
	if asgErr != nil {
		return nil, st, asgErr
	}
	for i := range rec.Selected {
		if rec.Selected[i].Unassigned > 0 {
			st.Unassigned++
		}
	}
	ws := strataWarnings(scheme, Nt, nt)
	if c.untiered > 0 {
		ws = append(ws, draw.UntieredWarning(c.untiered))
	}
	rec.Warnings = draw.Strings(ws)
	rec.DrawID = rec.ComputeID()
	st.Total = time.Since(start)
	return rec, st, nil
}

// selections fills dst with the selected candidates' codes, regions,
// tiers and priorities (big-endian bytes).
func selections(dst []draw.Selection, cs []cand) {
	for i := range cs {
		c, d := &cs[i], &dst[i]
		d.USCC, d.Region, d.Tier = c.uscc, c.region, c.tier
		for w := range 4 {
			binary.BigEndian.PutUint64(d.Priority[8*w:], c.prio[w])
		}
	}
}

// passResult is the outcome of the counting and selection passes.
type passResult struct {
	sp     *selectPass
	popu   *population
	Nt, nt []int64
}

// runPasses scans the Source and selects the sample, filling st. sizes
// gives n_t from N_t, or an error that stops the draw before assignment.
//
// Fast path (ratio allocations, runSinglePass): one scan. Slow path (budget
// allocations, or a single pass that could not prove its sample): the
// counting and selection passes, repeated until the Source yields the same
// population in both (Options.MaxPasses), with the selection proven
// (falling back to exact heaps).
func runPasses(ctx context.Context, src Source, params *scanParams, a *draw.Allocation, vals []int64, opts Options, mem *drawMem, sigmas float64, st *Stats, sizes func([]int64) ([]int64, error)) (*passResult, error) {
	if !a.IsBudget() {
		ratio := make([]float64, params.scheme.Len())
		for t := range ratio {
			ratio[t] = float64(vals[t]) / 1e6
		}
		st.Passes++
		t0 := time.Now()
		one, err := runSinglePass(ctx, src, params, &opts, mem, ratio, sigmas, sizes)
		st.SelectTime += time.Since(t0)
		if err != nil {
			return nil, err
		}
		if one.ok {
			st.SinglePass = true
			return finishPasses(st, &one.counts, &passResult{&selectPass{counts: one.counts, selected: one.selected}, one.popu, one.Nt, one.nt}), nil
		}
		st.Passes = 0
	}
	return runTwoPasses(ctx, src, params, opts, sigmas, st, sizes)
}

// finishPasses fills st from the passes' counts and result.
func finishPasses(st *Stats, c *scanCounts, pr *passResult) *passResult {
	st.Scanned = c.scanned
	st.Excluded = Exclusions{c.notRegistered, c.deregistered, c.filtered, c.untiered, c.recent, c.capped}
	for _, n := range pr.Nt {
		st.Eligible += n
	}
	st.Selected = len(pr.sp.selected)
	return pr
}

// runTwoPasses is runPasses' slow path.
func runTwoPasses(ctx context.Context, src Source, params *scanParams, opts Options, sigmas float64, st *Stats, sizes func([]int64) ([]int64, error)) (*passResult, error) {
	var (
		cp     *countPass
		sp     *selectPass
		popu   *population
		Nt, nt []int64
		err    error
		mode   = selThreshold
	)
	changes := 0
	for {
		st.Passes++
		t0 := time.Now()
		if cp, err = runCountPass(ctx, src, params, opts.Workers); err != nil {
			return nil, err
		}
		Nt = append([]int64(nil), cp.counts.n[:params.scheme.Len()]...)
		if nt, err = sizes(Nt); err != nil {
			return nil, err
		}
		popu = newPopulation(cp.prefixes, opts.Workers)
		t1 := time.Now()
		st.CountTime += t1.Sub(t0)
		sp, err = runSelectPass(ctx, src, params, opts.Workers, popu, nt, Nt, mode, sigmas)
		st.SelectTime += time.Since(t1)
		if err != nil {
			return nil, err
		}
		switch {
		case sp.changed || sp.counts.n != cp.counts.n:
			if changes++; changes == opts.MaxPasses {
				return nil, ErrPopulationChanged
			}
		case sp.tooFew:
			mode = selHeaps // slow path: exact bottom-n heaps
			st.HeapFallback = true
		default:
			return finishPasses(st, &sp.counts, &passResult{sp, popu, Nt, nt}), nil
		}
		popu = nil // let the keys go before the next attempt allocates
	}
}
