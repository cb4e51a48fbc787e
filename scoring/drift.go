package scoring

import (
	"fmt"
	"math"
	"sort"
)

// Drift of the score distribution (domain.md §8: a model is monitored for
// population stability). The reference is the distribution of the score
// over the population the model was fitted on; drift is the population
// stability index (PSI) of a later distribution against it, over the same
// score bands.

// PSI thresholds as credit-risk teams read them: below PSIWatch the
// population is stable, from PSIWatch a shift worth watching, from
// PSIAlert a shift that calls for a review of the model.
const (
	PSIWatch = 0.10
	PSIAlert = 0.25
)

// psiFloor replaces an empty band's share, so that a band that is empty
// in one distribution and not the other adds a large but finite term.
const psiFloor = 1e-4

// ScoreReference is the score distribution of a model's training
// population, stored in the artifact ("reference").
type ScoreReference struct {
	// AsOf is the date (YYYY-MM-DD) the reference population was scored.
	AsOf string `json:"as_of"`
	// Entities is the size of the reference population.
	Entities int `json:"entities"`
	// Edges are the band boundaries, strictly ascending: band 0 holds
	// scores < Edges[0], band i scores in [Edges[i-1], Edges[i]), the last
	// band scores ≥ Edges[len-1]. There are len(Edges)+1 bands.
	Edges []int32 `json:"edges"`
	// Shares are the fractions of the population per band; they sum to 1.
	Shares []float64 `json:"shares"`
}

// Band returns the band index of a score.
func (r *ScoreReference) Band(score int32) int {
	return sort.Search(len(r.Edges), func(i int) bool { return score < r.Edges[i] })
}

// Validate checks the reference's consistency.
func (r *ScoreReference) Validate() error {
	if len(r.Edges) == 0 {
		return fmt.Errorf("reference: no edges")
	}
	for i := 1; i < len(r.Edges); i++ {
		if r.Edges[i] <= r.Edges[i-1] {
			return fmt.Errorf("reference: edges must be strictly ascending (%d after %d)", r.Edges[i], r.Edges[i-1])
		}
	}
	if len(r.Shares) != len(r.Edges)+1 {
		return fmt.Errorf("reference: %d shares for %d bands", len(r.Shares), len(r.Edges)+1)
	}
	sum := 0.0
	for _, s := range r.Shares {
		if !(s >= 0 && s <= 1) {
			return fmt.Errorf("reference: share %v outside [0,1]", s)
		}
		sum += s
	}
	if math.Abs(sum-1) > 1e-6 {
		return fmt.Errorf("reference: shares sum to %v, want 1", sum)
	}
	if r.Entities <= 0 {
		return fmt.Errorf("reference: entities must be positive")
	}
	return nil
}

// Distribution turns counts per band into shares (all zero for no counts).
func Distribution(counts []int64) []float64 {
	var n int64
	for _, c := range counts {
		n += c
	}
	out := make([]float64, len(counts))
	if n == 0 {
		return out
	}
	for i, c := range counts {
		out[i] = float64(c) / float64(n)
	}
	return out
}

// PSI is the population stability index of actual against expected, two
// distributions over the same bands: Σ (a − e) · ln(a / e), with an empty
// band's share floored at 1e-4. It is 0 for identical distributions and
// grows with the shift. It panics if the lengths differ.
func PSI(expected, actual []float64) float64 {
	if len(expected) != len(actual) {
		panic(fmt.Sprintf("scoring.PSI: %d expected bands, %d actual", len(expected), len(actual)))
	}
	psi := 0.0
	for i := range expected {
		e, a := max(expected[i], psiFloor), max(actual[i], psiFloor)
		psi += (a - e) * math.Log(a/e)
	}
	return psi
}
