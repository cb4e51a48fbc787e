package scoring

import (
	"fmt"
	"math"
	"slices"

	"github.com/creditrisk/creditd/models/tier"
)

// Tier targets (domain.md §2.3): regulators plan inspections by the share
// of entities in each tier, so the cut-offs of a model are chosen to meet
// documented target shares on a reference population rather than set by
// hand. The targets are part of the artifact ("tier_targets", one share per
// tier from the lowest risk up, summing to 1); CutoffsForTargets derives
// the cut-offs that meet them.

// validateTargets checks tier_targets against the scheme.
func (m *Model) validateTargets(scheme *tier.Scheme) error {
	if m.TierTargets == nil {
		return nil
	}
	if len(m.TierTargets) != scheme.Len() {
		return fmt.Errorf("model %s: %d tier targets for %d tiers", m.ID, len(m.TierTargets), scheme.Len())
	}
	sum := 0.0
	for _, t := range m.TierTargets {
		if !(t >= 0 && t <= 1) {
			return fmt.Errorf("model %s: tier target %v outside [0,1]", m.ID, t)
		}
		sum += t
	}
	if math.Abs(sum-1) > 1e-6 {
		return fmt.Errorf("model %s: tier targets sum to %v, want 1", m.ID, sum)
	}
	return nil
}

// Scored is one entity of a reference population: its score and the tier
// its overrides force it into at least (0, the lowest-risk tier, if none).
type Scored struct {
	Score int32
	Floor tier.Tier
}

// CutoffsForTargets returns the cut-offs (len(targets)−1, strictly
// decreasing) that put the shares of pop closest to targets, tier by tier
// from the lowest risk up. An entity ends in tier max(tierOf(score),
// floor), so the share of tiers ≤ i is the share of entities with floor ≤ i
// and score ≥ cutoff i; each cut-off is the score that brings that share
// nearest the cumulative target. Ties in the scores make some shares
// unreachable: the nearest reachable one is taken.
func CutoffsForTargets(pop []Scored, targets []float64) ([]int, error) {
	if len(targets) < 2 {
		return nil, fmt.Errorf("cutoffs: need at least two tier targets")
	}
	if len(pop) == 0 {
		return nil, fmt.Errorf("cutoffs: empty population")
	}
	n := float64(len(pop))
	cuts := make([]int, len(targets)-1)
	cum := 0.0
	scores := make([]int32, 0, len(pop))
	for i := range cuts {
		cum += targets[i]
		want := cum * n
		scores = scores[:0]
		for _, p := range pop {
			if int(p.Floor) <= i {
				scores = append(scores, p.Score)
			}
		}
		slices.SortFunc(scores, func(a, b int32) int { return int(b) - int(a) }) // descending
		cuts[i] = nearestCut(scores, want)
	}
	// Strictly decreasing: a later cut-off equal to or above an earlier one
	// (ties, or a tier with a zero target) is moved just below it.
	for i := 1; i < len(cuts); i++ {
		if cuts[i] >= cuts[i-1] {
			cuts[i] = cuts[i-1] - 1
		}
	}
	return cuts, nil
}

// nearestCut returns the cut c for which the number of scores ≥ c (scores
// sorted descending) is nearest want.
func nearestCut(scores []int32, want float64) int {
	if len(scores) == 0 {
		return math.MaxInt32
	}
	best, bestDiff := int(scores[0])+1, want // cut above everyone: count 0
	for j := 0; j < len(scores); {
		// count of scores ≥ scores[j] is the end of its run of ties
		k := j
		for k < len(scores) && scores[k] == scores[j] {
			k++
		}
		if d := math.Abs(float64(k) - want); d < bestDiff {
			best, bestDiff = int(scores[j]), d
		}
		j = k
	}
	return best
}
