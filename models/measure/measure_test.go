package measure

import (
	"strings"
	"testing"
)

// Every trigger carries measures, each with a code once, a kind, a text
// and a basis that cites domain.md; incentives follow honours only and a
// breached commitment bars the commitment route (domain.md §4.6, §4.7).
func TestTable(t *testing.T) {
	for _, tr := range Triggers() {
		ms := For(tr)
		if len(ms) == 0 {
			t.Fatalf("%s carries no measure", tr)
		}
		seen := map[string]bool{}
		for _, m := range ms {
			if seen[m.Code] || m.Code == "" || m.Text == "" || !strings.Contains(m.Basis, "domain.md §") {
				t.Errorf("%s: bad measure %+v", tr, m)
			}
			seen[m.Code] = true
			if (m.Kind == Incentive) != (tr == Honor) {
				t.Errorf("%s carries %s (%s)", tr, m.Code, m.Kind)
			}
		}
	}
	for _, tr := range []Trigger{CommitmentBreached, DishonestList, CourtDebtor} {
		found := false
		for _, m := range For(tr) {
			found = found || m == NoCommitmentRoute
		}
		if !found {
			t.Errorf("%s does not bar the commitment route", tr)
		}
	}
	if For("tier_a") != nil {
		t.Fatal("a trigger outside the table carries measures")
	}
}
