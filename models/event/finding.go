package event

// Finding is the one definition of "the inspection found a problem" (a
// hit): every inspection result but no_problem. domain.md §8 counts as "no
// finding" only 未发现问题 (code 1, no problem), F (no business activity in
// scope) and the status codes 9–12, none of which is an inspection result
// of the event vocabulary; unreachable (§3.7 code 6) and serious refusal
// (code 8) are findings that lead to listing (条例 Art. 15, 17), and
// corrected (code E) is a problem found. Model fitting and evaluation
// (scoring/fit, creditctl model), the service's tier statistics and the
// challenger monitor (scoring) and the synthetic province (feeds/synth)
// all count hits with it. Zero and unknown codes are not findings.
func Finding(result uint8) bool {
	switch result {
	case ResultCorrected, ResultProblemFound, ResultRefused, ResultUnreachable:
		return true
	}
	return false
}
