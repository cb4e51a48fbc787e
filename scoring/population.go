package scoring

import (
	"context"
	"time"

	"github.com/creditrisk/creditd/models/tier"
)

// Population scores the population as of asOf, the reference population
// of CutoffsForTargets (targets.go): every entity registered by then and
// not deregistered (the population of TierStats), with its score and the
// tier floor its overrides set while their conditions hold (0, the
// lowest-risk tier, if none). The order is unspecified.
func (e *Engine) Population(ctx context.Context, asOf time.Time) ([]Scored, error) {
	T := asOf.Unix()
	parts := make([][]Scored, len(e.shards))
	err := e.eachEntity(ctx, func(i int, s *shard, ev *evaluator, ent *entity) {
		if inPopulation(ent, T) {
			r := ev.eval(s, ent, T, false)
			parts[i] = append(parts[i], Scored{Score: r.score, Floor: e.model.floor(r.conds)})
		}
	})
	if err != nil {
		return nil, err
	}
	var out []Scored
	for _, p := range parts {
		out = append(out, p...)
	}
	return out, nil
}

// eachEntity calls fn for every entity, the shards in parallel, each under
// its read lock with an evaluator of its own; a shard stops when ctx ends,
// and the first such error is returned.
func (e *Engine) eachEntity(ctx context.Context, fn func(part int, s *shard, ev *evaluator, ent *entity)) error {
	errs := make([]error, len(e.shards))
	e.parallelShards(func(i int, s *shard) {
		ev := e.evaluator()
		defer e.release(ev)
		s.mu.RLock()
		defer s.mu.RUnlock()
		for j := uint32(0); j < s.nent; j++ {
			if j&4095 == 0 && ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			fn(i, s, ev, s.ent(j))
		}
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// floor is the highest tier the overrides whose conditions hold impose.
func (c *compiled) floor(conds uint8) tier.Tier {
	var f tier.Tier
	for _, o := range c.overrides {
		if conds&condBit(o.Condition) != 0 && o.min > f {
			f = o.min
		}
	}
	return f
}

// TierShares returns the share of pop in each tier under m's cut-offs,
// from the lowest risk up: an entity is in tier max(tier of its score,
// its floor), as in the engine.
func (m *Model) TierShares(pop []Scored) []float64 {
	out := make([]float64, len(m.Cutoffs)+1)
	if len(pop) == 0 {
		return out
	}
	for _, p := range pop {
		t := len(m.Cutoffs)
		for i, c := range m.Cutoffs {
			if int(p.Score) >= c {
				t = i
				break
			}
		}
		out[max(t, int(p.Floor))]++
	}
	for i := range out {
		out[i] /= float64(len(pop))
	}
	return out
}
