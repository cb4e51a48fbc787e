package scoring

import (
	"context"
	"sync"
	"time"

	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/tier"
)

// Champion / challenger (domain.md §8: a model is monitored, and a new
// one is tried in shadow before it replaces the old).
//
// Design: the engine stores records, not scores of a particular model
// (every score is a pure function of the records and the instant, see
// eval.go), so a challenger needs no state of its own. Scoring it on every
// event would double the evaluation cost of the ingest hot path and its
// cache would double the 52 bytes per entity; instead a Shadow is the
// challenger's compiled model, and Monitor evaluates it over the records
// in a periodic scan, shard by shard under the read lock, released every
// 4096 entities (an apply waits at most for 4096 evaluations, about 5 ms).
// A scan is therefore not an instant's snapshot: an event applied during
// it may or may not be counted, as in a scan started a moment later or
// earlier. A scan costs one challenger evaluation per
// entity plus one per inspection (the tier just before it), measured in
// BenchmarkMonitor. The same scan yields the champion's score bands for
// drift monitoring (drift.go), so drift needs no per-event work either.

// Shadow is a challenger model compiled to evaluate an engine's records.
// It holds no entity state and is safe for concurrent use.
type Shadow struct {
	c     *compiled
	evals sync.Pool // *evaluator
}

// NewShadow compiles a challenger model.
func NewShadow(m *Model) (*Shadow, error) {
	c, err := compile(m)
	if err != nil {
		return nil, err
	}
	sh := &Shadow{c: c}
	sh.evals.New = func() any { return &evaluator{m: c} }
	return sh, nil
}

// Model returns the challenger's model.
func (sh *Shadow) Model() *Model { return sh.c.m }

// Name is the challenger's identity (id@version+hash).
func (sh *Shadow) Name() string { return sh.c.name }

// Scheme returns the challenger's tier scheme (it may differ from the
// champion's).
func (sh *Shadow) Scheme() *tier.Scheme { return sh.c.scheme }

// Monitoring is what one Monitor scan counted as of AsOf. Entities are
// the registered, not deregistered population (as TierStats counts them).
type Monitoring struct {
	AsOf     time.Time
	Entities int64
	// ChampionTiers counts the population per champion tier.
	ChampionTiers []int64
	// ChampionBands counts the population per band of the champion
	// model's Reference; nil when the model has none.
	ChampionBands []int64

	// The rest is nil without a challenger.

	// ChallengerTiers counts the population per challenger tier.
	ChallengerTiers []int64
	// Agreement[i][j] counts the entities in champion tier i and
	// challenger tier j.
	Agreement [][]int64
	// ChallengerBands counts the population per band of the challenger's
	// Reference; nil when it has none.
	ChallengerBands []int64
	// Inspections, Found and Adverse count, per challenger tier, the
	// inspections at or before AsOf under the tier the challenger gave the
	// entity just before each one (as TierStats does for the champion):
	// Found = problem_found + corrected, Adverse = the findings
	// (models/event.Finding: every result but no_problem, the definition
	// model fit and eval use), the numerator of the challenger hit rate.
	Inspections, Found, Adverse []int64
}

// newMonitoring returns zero counts for the champion c and challenger sh.
func newMonitoring(c *compiled, sh *Shadow) *Monitoring {
	m := &Monitoring{ChampionTiers: make([]int64, c.scheme.Len())}
	if ref := c.m.Reference; ref != nil {
		m.ChampionBands = make([]int64, len(ref.Edges)+1)
	}
	if sh == nil {
		return m
	}
	n := sh.c.scheme.Len()
	m.ChallengerTiers = make([]int64, n)
	m.Agreement = make([][]int64, c.scheme.Len())
	for i := range m.Agreement {
		m.Agreement[i] = make([]int64, n)
	}
	if ref := sh.c.m.Reference; ref != nil {
		m.ChallengerBands = make([]int64, len(ref.Edges)+1)
	}
	m.Inspections, m.Found, m.Adverse = make([]int64, n), make([]int64, n), make([]int64, n)
	return m
}

// add sums o's counts into m (same models).
func (m *Monitoring) add(o *Monitoring) {
	m.Entities += o.Entities
	addCounts(m.ChampionTiers, o.ChampionTiers)
	addCounts(m.ChampionBands, o.ChampionBands)
	addCounts(m.ChallengerTiers, o.ChallengerTiers)
	addCounts(m.ChallengerBands, o.ChallengerBands)
	addCounts(m.Inspections, o.Inspections)
	addCounts(m.Found, o.Found)
	addCounts(m.Adverse, o.Adverse)
	for i := range m.Agreement {
		addCounts(m.Agreement[i], o.Agreement[i])
	}
}

func addCounts(dst, src []int64) {
	for i := range dst {
		dst[i] += src[i]
	}
}

// Monitor scans every entity as of asOf: the champion's tiers and score
// bands and, when challenger is not nil, the challenger's tiers, score
// bands, its agreement with the champion and its inspection hit rates.
// Shards are scanned in parallel, each under its read lock.
func (e *Engine) Monitor(ctx context.Context, asOf time.Time, challenger *Shadow) (*Monitoring, error) {
	T := asOf.Unix()
	parts := make([]*Monitoring, len(e.shards))
	errs := make([]error, len(e.shards))
	e.parallelShards(func(i int, s *shard) {
		parts[i], errs[i] = e.monitorShard(ctx, s, T, challenger)
	})
	out := newMonitoring(e.model, challenger)
	out.AsOf = asOf.UTC().Truncate(time.Second)
	for i, p := range parts {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out.add(p)
	}
	return out, nil
}

func (e *Engine) monitorShard(ctx context.Context, s *shard, T int64, sh *Shadow) (*Monitoring, error) {
	m := newMonitoring(e.model, sh)
	ev := e.evaluator()
	defer e.release(ev)
	var cev *evaluator
	if sh != nil {
		cev = sh.evals.Get().(*evaluator)
		defer sh.evals.Put(cev)
	}
	champRef := e.model.m.Reference
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	locked := true
	defer func() {
		if locked {
			s.mu.RUnlock()
		}
	}()
	for j := uint32(0); j < s.nent; j++ {
		if j&4095 == 0 && j > 0 {
			// Let a waiting apply in every 4096 entities: a challenger
			// evaluates a 10M-entity shard for 0.2 s, too long to hold
			// ingest. Entities keep their index, so the scan resumes.
			s.mu.RUnlock()
			locked = false
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			s.mu.RLock()
			locked = true
		}
		ent := s.ent(j)
		if inPopulation(ent, T) {
			var t tier.Tier
			var score int32
			if cacheValid(ent, T) {
				t, score = tier.Tier(ent.tier), ent.score
			} else {
				r := ev.eval(s, ent, T, false)
				t, score = r.tier, r.score
			}
			m.Entities++
			m.ChampionTiers[t]++
			if champRef != nil {
				m.ChampionBands[champRef.Band(score)]++
			}
			if sh != nil {
				r := cev.eval(s, ent, T, false)
				m.ChallengerTiers[r.tier]++
				m.Agreement[t][r.tier]++
				if ref := sh.c.m.Reference; ref != nil {
					m.ChallengerBands[ref.Band(r.score)]++
				}
			}
		}
		if sh == nil {
			continue
		}
		for ri := ent.firstRec; ri != 0; ri = s.rec(ri).next {
			r := s.rec(ri)
			if r.typ != uint8(event.TypeInspection) || r.at > T {
				continue
			}
			t := cev.eval(s, ent, r.at-1, false).tier
			m.Inspections[t]++
			if r.sub == event.ResultProblemFound || r.sub == event.ResultCorrected {
				m.Found[t]++
			}
			if event.Finding(r.sub) {
				m.Adverse[t]++
			}
		}
	}
	return m, nil
}
