package testlines

import (
	"math"
	"testing"

	"github.com/creditrisk/creditd/scoring"
)

// Reference is the champion's score reference in the champion /
// challenger tests. It is hand-chosen and replaces the built-in
// artifact's own reference (scoring/models/MODEL.md), so that the tests'
// expected drift does not move when the built-in artifact is refitted.
var Reference = scoring.ScoreReference{AsOf: "2026-01-01", Entities: 1000, Edges: []int32{500, 560, 600, 640},
	Shares: []float64{0.05, 0.15, 0.3, 0.3, 0.2}}

// ChallengerModels are the models of the champion / challenger tests
// (domain.md §8): the champion is the built-in national-4 model with a
// copy of Reference, so its drift is measured; the challenger
// ("national-4-pdo27") is the built-in model at a PDO of 27 instead of 40
// (every feature's points scaled by 40/27), without a reference.
func ChallengerModels(t testing.TB) (champ, chall *scoring.Model) {
	t.Helper()
	champ, err := scoring.DefaultModel("national-4")
	if err != nil {
		t.Fatal(err)
	}
	ref := Reference
	champ.Reference = &ref
	chall, _ = scoring.DefaultModel("national-4")
	chall.ID = "national-4-pdo27"
	chall.Scaling.PDO = 27
	chall.Reference = nil // the built-in model's reference is of its own scaling
	for i := range chall.Features {
		f := &chall.Features[i]
		f.Points = int(math.Round(-f.LogOdds * 27 / math.Ln2))
	}
	for _, m := range []*scoring.Model{champ, chall} {
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	return champ, chall
}
