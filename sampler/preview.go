package sampler

import (
	"context"
	"time"

	"github.com/creditrisk/creditd/models/draw"
)

// Preview is what a draw/v2 request would draw, computed without drawing:
// the strata sizes N_t over the live population (the same counting pass
// and eligibility rules as the draw), the sample sizes n_t and inclusion
// probabilities π_t (the same allocation and rounding, SampleSizesV2), the
// exclusions and the warnings the record would carry. It selects nothing,
// stores nothing and needs no seed. It reveals tier counts: regulators
// only.
type Preview struct {
	TierScheme string           `json:"tier_scheme"`
	AsOf       time.Time        `json:"as_of"`
	Strata     []PreviewStratum `json:"strata"`
	Population int64            `json:"population_size"`
	Sample     int64            `json:"sample_size"`
	Excluded   Exclusions       `json:"excluded"`
	Warnings   []string         `json:"warnings"`
	// TooLarge is the refusal the draw would give for its work limit
	// (ErrTooLarge), or "".
	TooLarge string `json:"too_large,omitempty"`
}

// PreviewStratum is one tier's line of a Preview.
type PreviewStratum struct {
	Tier string `json:"tier"`
	N    int64  `json:"N"`
	N2   int64  `json:"n"`
	Pi   string `json:"pi"`
}

// PreviewV2 computes the Preview of a request PrepareV2 checked. It takes
// the draws' turn (the ledger of earlier selections is read as a draw
// reads it).
func (s *Sampler) PreviewV2(ctx context.Context, p *Prepared, src Source) (*Preview, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	opts := s.opts
	opts.EnsureDefaults()
	r, scheme := p.req, p.scheme
	params := &scanParams{asOf: r.AsOf.Unix(), filter: &r.Population, scheme: scheme,
		excl: newExclusion(r, s.store.ledger), v2Filters: r.Population.HasV2Filters()}
	cp, err := runCountPass(ctx, src, params, opts.Workers)
	if err != nil {
		return nil, err
	}
	Nt := append([]int64(nil), cp.counts.n[:scheme.Len()]...)
	nt, roundWarn := SampleSizesV2(&r.Allocation, p.vals, Nt, scheme)
	c := &cp.counts
	pv := &Preview{TierScheme: scheme.ID, AsOf: r.AsOf, Strata: make([]PreviewStratum, len(Nt)),
		Excluded: Exclusions{c.notRegistered, c.deregistered, c.filtered, c.untiered, c.recent, c.capped},
		Warnings: draw.Strings(append(strataWarnings(scheme, Nt, nt), roundWarn...))}
	for t := range Nt {
		pv.Strata[t] = PreviewStratum{Tier: scheme.Labels[t], N: Nt[t], N2: nt[t], Pi: draw.PiString(nt[t], Nt[t])}
		pv.Population += Nt[t]
		pv.Sample += nt[t]
	}
	if err := checkWork(nt, int64(newAssigner(r, 0).maxCandidates()), int64(r.Inspectors.PerEntity), &opts); err != nil {
		pv.TooLarge = err.Error()
	}
	if pv.Warnings == nil {
		pv.Warnings = []string{}
	}
	return pv, nil
}
