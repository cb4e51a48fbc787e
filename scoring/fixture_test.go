package scoring

import (
	"os"
	"testing"
)

// rulesModel returns the rules fixture of a tier scheme: the built-in model
// as it was before its cut-offs were set to the tier targets and clean
// years were added (testdata/models/<scheme>.rules.json; MODEL.md of
// 2026.11: cut-offs national-4 620/560/480, shandong-5 630/605/560/480).
// The hand-worked rule tests (golden timelines, score edges, facts) use it
// so that they test the rules (decay, publicity, repair, overrides, the
// order of reasons) with expectations a reader can check against that
// table, independent of the calibration of the shipped models, which
// TestShippedTierCutoffs, TestShippedCleanYears and TestDemoTierShares
// test.
func rulesModel(t testing.TB, scheme string) *Model {
	t.Helper()
	b, err := os.ReadFile("testdata/models/" + scheme + ".rules.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseModel(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
