package sampler

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// V2Inputs are what a draw/v2 draw needs beyond the request: the blinding
// key B registered with the seed commitment, when it was registered, and
// the standing conflict register.
type V2Inputs struct {
	BlindKey    [32]byte
	CommittedAt time.Time
	Register    []RegisterEntry
}

// RegisterEntry is a standing conflict (回避, 行政处罚法 Art. 43, domain.md
// §3.4): the inspector must not inspect the entity from ValidFrom to
// ValidUntil (dates "YYYY-MM-DD", inclusive; ValidUntil "" = open).
type RegisterEntry struct {
	Inspector  string `json:"inspector"`
	USCC       string `json:"uscc"`
	ValidFrom  string `json:"valid_from"`
	ValidUntil string `json:"valid_until,omitempty"`
}

// ValidAt reports whether the entry applies at instant t (its UTC date).
func (e *RegisterEntry) ValidAt(t time.Time) bool {
	d := t.UTC().Format(time.DateOnly)
	return e.ValidFrom <= d && (e.ValidUntil == "" || d <= e.ValidUntil)
}

// Check validates an entry and puts its USCC in canonical (uppercase) form.
func (e *RegisterEntry) Check() error {
	c, err := uscc.ParseFormat(e.USCC)
	if err != nil {
		return fmt.Errorf("uscc: %v", err)
	}
	e.USCC = c.String()
	if e.Inspector == "" || len(e.Inspector) > draw.MaxInspectorIDLen {
		return fmt.Errorf("inspector: must be 1–%d characters", draw.MaxInspectorIDLen)
	}
	if _, err := time.Parse(time.DateOnly, e.ValidFrom); err != nil {
		return fmt.Errorf("valid_from: want YYYY-MM-DD: %v", err)
	}
	if e.ValidUntil != "" {
		if _, err := time.Parse(time.DateOnly, e.ValidUntil); err != nil || e.ValidUntil < e.ValidFrom {
			return fmt.Errorf("valid_until: want YYYY-MM-DD, not before valid_from")
		}
	}
	return nil
}

// PrepareRequestV2 is PrepareRequest with the v2 exemption rule: the
// lowest tier may have ratio or weight 0 only when the request sets
// exempt_lowest_tier and the scheme permits exemption
// (draw.SchemeExempts; Shandong: 不免抽, domain.md §2.2).
func PrepareRequestV2(req *draw.Request, scheme *tier.Scheme, opts *Options) (*draw.Request, []int64, error) {
	if req.ExemptLowestTier && !draw.SchemeExempts(scheme) {
		return nil, nil, &draw.Error{Path: "exempt_lowest_tier", Msg: fmt.Sprintf(
			"tier scheme %s does not permit exempting a tier from random inspection (不免抽, domain.md §2.2)", scheme.ID)}
	}
	o := *opts
	o.AllowZeroLowestTier = req.ExemptLowestTier
	return PrepareRequest(req, scheme, &o)
}

// SampleSizesV2 is SampleSizes with the v2 rounding rule: a stratum with
// N_t > 0 and a positive ratio or weight never gets 0 draws; it gets 1 and
// a warning (不免抽: a positive rate must not mean probability zero).
func SampleSizesV2(a *draw.Allocation, vals, N []int64, s *tier.Scheme) ([]int64, []draw.Warning) {
	n := SampleSizes(a, vals, N)
	var ws []draw.Warning
	for t := range n {
		if n[t] == 0 && N[t] > 0 && vals[t] > 0 {
			n[t] = 1
			ws = append(ws, draw.RoundUpWarning(s.Labels[t], a.IsBudget(), vals[t], N[t]))
		}
	}
	return n, ws
}

// DrawV2 runs a draw/v2 draw over src and returns the regulatory edition
// of its record (draw.V2.Public gives the public one). The
// population file (`USCC,XX` lines with blinded tiers) goes to pop. As
// Draw, it persists nothing.
func DrawV2(ctx context.Context, req *draw.Request, src Source, ledger *Ledger, pop io.Writer, opts Options, in *V2Inputs) (*draw.V2, *Stats, error) {
	opts.EnsureDefaults()
	p, err := PrepareV2(req, SchemeOf(src, &opts), &opts)
	if err != nil {
		return nil, nil, err
	}
	return executeV2(ctx, p, src, ledger, pop, opts, in, keepSigmas)
}

// PrepareV2 checks req for a draw/v2 draw under scheme (PrepareRequestV2).
func PrepareV2(req *draw.Request, scheme *tier.Scheme, opts *Options) (*Prepared, error) {
	r, vals, err := PrepareRequestV2(req, scheme, opts)
	if err != nil {
		return nil, err
	}
	return &Prepared{req: r, scheme: scheme, vals: vals}, nil
}

// executeV2 is DrawV2 on a prepared request, with the selection's margin
// as a parameter (tests force the slow path with a negative one).
func executeV2(ctx context.Context, p *Prepared, src Source, ledger *Ledger, pop io.Writer, opts Options, in *V2Inputs, sigmas float64) (*draw.V2, *Stats, error) {
	opts.EnsureDefaults()
	start := time.Now()
	scheme := p.scheme
	r, vals := p.req, p.vals
	seed := r.SeedBytes()
	r.SeedCommitment = draw.SeedDigest(seed)
	params := &scanParams{asOf: r.AsOf.Unix(), filter: &r.Population, scheme: scheme,
		excl: newExclusion(r, ledger), k: selectKeyV2(in.BlindKey, seed), v2Filters: r.Population.HasV2Filters()}
	// the walk of one entity costs k steps when inspectors are free, up to
	// all its candidates when they are at the cap or in conflict: the same
	// worst-case bound as v1's rankings (though a step is a quarter hash)
	perEntity := int64(newAssigner(r, 0).maxCandidates())
	st := &Stats{}
	var roundWarn []draw.Warning
	mem, release := opts.Arena.take(opts.Workers)
	defer release()
	pr, err := runPasses(ctx, src, params, &r.Allocation, vals, opts, mem, sigmas, st, func(Nt []int64) ([]int64, error) {
		var nt []int64
		nt, roundWarn = SampleSizesV2(&r.Allocation, vals, Nt, scheme)
		return nt, checkWork(nt, perEntity, int64(r.Inspectors.PerEntity), &opts)
	})
	if err != nil {
		return nil, st, err
	}
	sel := arenaSlice(&mem.selections, len(pr.sp.selected))
	selections(sel, pr.sp.selected)
	pr.sp.selected = nil
	register := registerFor(in.Register, r.AsOf, sel)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		digest         [32]byte
		popErr, asgErr error
		entries        v2Entries
	)
	g := &group{stop: cancel}
	g.Go(func() {
		t := time.Now()
		digest, st.PopulationBytes, popErr = emitPopulation(ctx, pr.popu, scheme, opts.Workers, mem, pop, &in.BlindKey)
		st.PopulationTime = time.Since(t)
		if popErr != nil {
			cancel()
		}
	})
	g.Go(func() {
		t := time.Now()
		a := newPermAssigner(r, register)
		order, err := a.orderV2(ctx, sel, opts.Workers, mem)
		if err == nil {
			err = a.assignAll(ctx, order, r.Inspectors.PerEntity, loadCap(r, len(sel)))
		}
		st.AssignHashes = a.hashes
		st.AssignTime = time.Since(t)
		// the record's entries are built here, while the population is
		// still being written
		if asgErr = err; err == nil {
			entries = buildV2Entries(order, scheme)
		}
		if asgErr != nil {
			cancel()
		}
	})
	g.Wait()
	if popErr != nil {
		return nil, st, popErr
	}
	if asgErr != nil {
		return nil, st, asgErr
	}

	rec := &draw.V2{
		Format: draw.FormatV2, Edition: report.EditionRegulatory, Request: r, TierScheme: scheme.ID,
		CommittedAt:       in.CommittedAt.UTC().Format(time.RFC3339Nano),
		KeyCommitment:     draw.KeyCommitment(in.BlindKey),
		PopulationDigest:  hex.EncodeToString(digest[:]),
		RegisterConflicts: register,
		Selected:          entries.selected,
		Tiers:             entries.tiers,
		TierStrata:        map[string]draw.V2Stratum{},
		BlindKey:          hex.EncodeToString(in.BlindKey[:]),
	}
	for t, l := range scheme.Labels {
		rec.TierStrata[l] = draw.V2Stratum{N: pr.Nt[t], N2: pr.nt[t], Pi: draw.PiString(pr.nt[t], pr.Nt[t])}
		rec.PopulationSize += pr.Nt[t]
		rec.SampleSize += pr.nt[t]
	}
	rec.Strata = draw.PublicStrata(&r.Population, rec.TierStrata, nil)
	st.Unassigned = entries.unassigned
	// warnings are aggregates only: no entity's tier
	ws := append(strataWarnings(scheme, pr.Nt, pr.nt), roundWarn...)
	if c := pr.sp.counts.untiered; c > 0 {
		ws = append(ws, draw.UntieredWarning(c))
	}
	if rec.Strata == nil {
		ws = publicWarnings(ws)
	}
	rec.Warnings = draw.Strings(ws)
	// the public encoding is only hashed: its buffer is the Arena's
	enc := draw.AppendV2(mem.encoded[:0], rec.Public())
	mem.encoded = enc[:0]
	pub, err := draw.PublicBytes(enc)
	if err != nil {
		return nil, st, err
	}
	if rec.DrawID, err = draw.V2ID(pub, r.PlanID, r.AsOf); err != nil {
		return nil, st, err
	}
	st.Total = time.Since(start)
	return rec, st, nil
}

// v2Entries are a v2 record's per-entity members, in service order.
type v2Entries struct {
	selected   []draw.V2Selected
	tiers      []draw.V2Tier
	unassigned int
}

// buildV2Entries makes the record's selected and tiers entries. One string
// holds every selected entity's USCC, region and priority (substrings
// share it): a quarter of a million small allocations less, which matters
// with a heap of millions of units for the GC to mark (a Builder's String
// does not copy).
func buildV2Entries(order []orderedSel, scheme *tier.Scheme) v2Entries {
	const per = 18 + 6 + 64
	e := v2Entries{selected: make([]draw.V2Selected, len(order)), tiers: make([]draw.V2Tier, len(order))}
	var text strings.Builder
	text.Grow(per * len(order))
	var line [per]byte
	for _, o := range order {
		copy(line[:18], o.sel.USCC[:])
		copy(line[18:24], o.sel.Region[:])
		hex.Encode(line[24:], o.sel.Priority[:])
		text.Write(line[:])
	}
	all := text.String()
	for i, o := range order {
		s, t := o.sel, all[i*per:(i+1)*per]
		e.selected[i] = draw.V2Selected{USCC: t[:18], Region: t[18:24],
			Inspectors: s.Inspectors, Unassigned: s.Unassigned, Reason: s.Reason}
		e.tiers[i] = draw.V2Tier{USCC: t[:18], Tier: scheme.Labels[s.Tier], Priority: t[24:]}
		if s.Unassigned > 0 {
			e.unassigned++
		}
	}
	return e
}

// publicWarnings drops the warnings that name tiers when the public
// edition suppresses its strata (a small or targeted population).
func publicWarnings(ws []draw.Warning) []draw.Warning {
	var out []draw.Warning
	for _, w := range ws {
		if !w.NamesTier() {
			out = append(out, w)
		}
	}
	return out
}

// registerFor returns the register entries valid at asOf whose entity is
// selected, as the record lists them (sorted by USCC, then inspector).
func registerFor(reg []RegisterEntry, asOf time.Time, sel []draw.Selection) []draw.V2Conflict {
	if len(reg) == 0 {
		return nil
	}
	selected := make(map[string]bool, len(sel))
	for i := range sel {
		selected[sel[i].USCC.String()] = true
	}
	var out []draw.V2Conflict
	for i := range reg {
		if e := &reg[i]; selected[e.USCC] && e.ValidAt(asOf) {
			out = append(out, draw.V2Conflict{Inspector: e.Inspector, USCC: e.USCC})
		}
	}
	slices.SortFunc(out, func(a, b draw.V2Conflict) int {
		if c := strings.Compare(a.USCC, b.USCC); c != 0 {
			return c
		}
		return strings.Compare(a.Inspector, b.Inspector)
	})
	return slices.Compact(out)
}
