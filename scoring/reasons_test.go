package scoring

import (
	"math/rand/v2"
	"testing"

	"github.com/creditrisk/creditd/models/report"
)

// Every explanation the engine gives follows report.md "Order of reasons"
// (report.CompareReasons): binding overrides first with 0 points, then the
// features that moved the score (never 0 points) by non-increasing
// |points|, ties by code; at most MaxReasons. Over random valid histories
// of both schemes, at every check instant; it also requires that histories
// with several overrides at once occur, so the rule is exercised.
func TestPropertyReasonOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 17))
	const n = 300
	evs := genEvents(r, n)
	for _, scheme := range []string{"national-4", "shandong-5"} {
		e := newTestEngine(t, scheme)
		applyAll(t, e, evs)
		overrides := map[string]bool{}
		for _, o := range e.Model().Overrides {
			overrides[o.Code] = true
		}
		var multi, mixed int
		for _, v := range stateOf(e, n) {
			if len(v.Reasons) > MaxReasons {
				t.Fatalf("%s %s: %d reasons", scheme, v.USCC, len(v.Reasons))
			}
			nOvr := 0
			for i, rs := range v.Reasons {
				if overrides[rs.Code] != (rs.Points == 0) {
					t.Fatalf("%s %s: reason %s has %d points (overrides and only overrides have 0)", scheme, v.USCC, rs.Code, rs.Points)
				}
				if rs.Points == 0 {
					nOvr++
				}
				if i == 0 {
					continue
				}
				prev := v.Reasons[i-1]
				if report.CompareReasons(report.Reason{Code: prev.Code, Points: int64(prev.Points)},
					report.Reason{Code: rs.Code, Points: int64(rs.Points)}) > 0 {
					t.Fatalf("%s %s at %s: reasons out of order: %+v", scheme, v.USCC, v.AsOf, v.Reasons)
				}
			}
			if nOvr > 1 {
				multi++
			}
			if nOvr > 0 && nOvr < len(v.Reasons) {
				mixed++
			}
		}
		if multi == 0 || mixed == 0 {
			t.Fatalf("%s: %d views with several overrides, %d with overrides and points: the property is not exercised", scheme, multi, mixed)
		}
	}
}
