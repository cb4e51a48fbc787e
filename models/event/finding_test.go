package event

import "testing"

// domain.md §8: of the inspection results (§3.7 codes 1, E, A–D, 8, 6)
// only no_problem (code 1) is "no finding"; worked out by hand.
func TestFinding(t *testing.T) {
	for name, want := range map[string]bool{
		"no_problem": false, "corrected": true, "problem_found": true, "refused": true, "unreachable": true,
	} {
		var d Decoder
		var e Event
		if err := d.Decode([]byte(line("inspection", `{"plan_id":"P1","result":"`+name+`"}`)), &e); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if Finding(e.Sub) != want {
			t.Errorf("Finding(%s) = %v, want %v", name, !want, want)
		}
	}
	for _, r := range []uint8{0, ResultUnreachable + 1, 255} {
		if Finding(r) {
			t.Errorf("Finding(%d) = true for an unknown code", r)
		}
	}
}
