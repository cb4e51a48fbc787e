package main

// rulesModelFile is the rules fixture of scoring's tests: the national-4
// built-in model as it was before its cut-offs were set to the tier
// targets and clean years were added (cut-offs 620/560/480; see
// scoring/fixture_test.go). The tests worked out by hand against that
// table (tier statistics, reasons over HTTP) run the service with it
// (--model), so that they test the service's counting and ordering, not
// the calibration of the shipped model.
const rulesModelFile = "../../scoring/testdata/models/national-4.rules.json"
