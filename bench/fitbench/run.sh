#!/usr/bin/env bash
# Re-runs the model-fitting figures of bench/RESULTS.md ("Model fitting,
# evaluation and the promotion gate (issue 13)"): a 200,000-entity,
# three-year synthetic province, the fitted model against the built-in one
# and scikit-learn on the same design, the tiers' hit rates, the promotion
# gate (an honest refit accepted, a shuffled one refused), the oracle and
# observable-ceiling hit ratios (oracle.py), and the 1M × 30 fit time beside
# statsmodels and scikit-learn.
# Needs Debian's python3-statsmodels and python3-sklearn.
#
#   bench/fitbench/run.sh [DIR]     (default /tmp/fitbench)
#
# GEN_FLAGS adds flags to creditctl gen, e.g.
#   GEN_FLAGS=--consumer-complaints bench/fitbench/run.sh /tmp/fitbench-cc
set -euo pipefail
cd "$(dirname "$0")/../.."
D=${1:-/tmp/fitbench}
PY=/usr/bin/python3
mkdir -p "$D"
go build -o "$D/creditctl" ./cmd/creditctl
C=$D/creditctl
set -x
$C gen --entities 200000 --days 1095 --seed 7 --end 2026-11-01 --truth "$D/truth.csv" ${GEN_FLAGS:-} --quiet > "$D/ev.ndjson"
# The stream starts without the records of earlier years, so the first
# year's features lack history (burn-in): train on the second year, hold
# out the third.
$C model fit --events "$D/ev.ndjson" --train-from 2024-11-01 --tier-targets 0.3,0.5,0.15,0.05 \
  --export-design "$D/train.csv" --export-holdout "$D/hold.csv" --out "$D/fitted.json" 2> "$D/fit.txt"
$C model eval --events "$D/ev.ndjson" --model "$D/fitted.json" --json --svg "$D/svg" > "$D/eval_fitted.json"
$C model eval --events "$D/ev.ndjson" --model "$D/fitted.json" --truth "$D/truth.csv" > "$D/eval_fitted.txt"
$C model eval --events "$D/ev.ndjson" --scheme national-4 --json > "$D/eval_builtin.json"
$C model eval --events "$D/ev.ndjson" --scheme national-4 > "$D/eval_builtin.txt"
$C model compare national-4 "$D/fitted.json" --events "$D/ev.ndjson" > "$D/compare.txt" 2>&1 || true
# The damaged challenger: coefficients (and points) rotated by seven features.
$PY -c 'import json,sys; m=json.load(open(sys.argv[1])); f=m["features"]; o=[(x["log_odds"],x["points"]) for x in f]
for i,x in enumerate(f): x["log_odds"],x["points"]=o[(i+7)%len(f)]
m["version"]+="-shuffled"; json.dump(m,open(sys.argv[2],"w"),ensure_ascii=False,indent=1)' "$D/fitted.json" "$D/shuffled.json"
$C model compare "$D/fitted.json" "$D/shuffled.json" --events "$D/ev.ndjson" > "$D/compare_shuffled.txt" 2>&1 || true
$PY bench/fitbench/compare.py heldout "$D"
$PY bench/fitbench/oracle.py oracle "$D"
$PY bench/fitbench/oracle.py ceiling "$D"
go run ./bench/fitbench -n 1000000 -k 30 -dir "$D/big"
$PY bench/fitbench/compare.py timing "$D/big"
