#!/usr/bin/env python3
"""Companion of bench/fitbench (run by run.sh with Debian's python3): how
much of the tiers' hit ratio the generator allows, on DIR/ev.ndjson and
DIR/truth.csv (creditctl gen --truth).

  oracle.py oracle DIR     tier the held-out year's inspections
                           (2025-11-01 – 2026-10-31) by the TRUE latent z at
                           the national shares 30/50/15/5 % of the
                           population registered and not deregistered on
                           2025-11-01; print each tier's finding rate
                           (Wilson 95 %) and D/A (Katz 95 %).
  oracle.py ceiling DIR    an upper bound for any score built from the
                           observables: a gradient-boosted regression of the
                           TRUE z (cheating on the target) on 56 per-entity
                           event features as of 2025-11-01 (counts of every
                           event type and attribute, consumer complaints
                           apart from reports, the last tax level,
                           last-year counts, kind, registration year);
                           tier the population by it at 30/50/15/5 % and
                           print the held-out tiers' finding rates and D/A.

"Finding" is every result but no_problem (models/event.Finding).
"""
import collections
import csv
import json
import math
import sys

CUT, END = "2025-11-01", "2026-11-01"
SHARES = (0.30, 0.80, 0.95)  # cumulative national-4 tier targets


def wilson(k, n, z=1.96):
    p = k / n
    den = 1 + z * z / n
    c = (p + z * z / (2 * n)) / den
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return c - h, c + h


def report(n, k, label):
    for t in range(4):
        lo, hi = wilson(k[t], n[t])
        print(f"{'ABCD'[t]}  {n[t]:6d} inspections  {k[t]:5d} findings  {100 * k[t] / n[t]:6.2f} % [{100 * lo:.2f}, {100 * hi:.2f}]")
    r = (k[3] / n[3]) / (k[0] / n[0])
    se = math.sqrt(1 / k[3] - 1 / n[3] + 1 / k[0] - 1 / n[0])
    print(f"{label} D/A {r:.2f}x [{r * math.exp(-1.96 * se):.2f}, {r * math.exp(1.96 * se):.2f}]; "
          f"overall {100 * sum(k) / sum(n):.2f} % of {sum(n)} inspections")


def truth(d):
    return {r["uscc"]: r for r in csv.DictReader(open(f"{d}/truth.csv"))}


def alive(t):
    return [u for u, r in t.items() if r["registered_on"] < CUT and (not r["deregistered_on"] or r["deregistered_on"] >= CUT)]


def held_out(d):
    out = []
    for line in open(f"{d}/ev.ndjson"):
        if '"inspection"' not in line:
            continue
        e = json.loads(line)
        if e["type"] == "inspection" and CUT <= e["occurred_at"][:10] < END:
            out.append((e["uscc"], e["attrs"]["result"] != "no_problem"))
    return out


def tiers_of(units, score):
    s = sorted(score[u] for u in units)
    cuts = [s[int(p * len(s))] for p in SHARES]
    return {u: sum(score[u] > c for c in cuts) for u in units}


def count(tier, insp):
    n, k = [0] * 4, [0] * 4
    for u, hit in insp:
        if u in tier:
            n[tier[u]] += 1
            k[tier[u]] += hit
    return n, k


def oracle(d):
    t = truth(d)
    units = alive(t)
    tier = tiers_of(units, {u: float(t[u]["latent_z"]) for u in units})
    report(*count(tier, held_out(d)), "oracle (true z)")


def ceiling(d):
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingRegressor

    t = truth(d)
    feats = collections.defaultdict(collections.Counter)
    for line in open(f"{d}/ev.ndjson"):
        e = json.loads(line)
        day = e["occurred_at"][:10]
        if day >= CUT:
            continue
        a, key = e.get("attrs", {}), e["type"]
        for k in ("result", "severity", "level", "reason", "on_time", "substantiated"):
            if k in a:
                key += ":" + str(a[k])
        if e["id"].startswith("12315-"):  # consumer complaints (gen --consumer-complaints) apart from reports
            key += ":12315"
        f = feats[e["uscc"]]
        f[key] += 1
        if e["type"] == "tax_rating":
            f["taxlast:" + str(a.get("level"))] = 1
        if day >= "2024-11-01":
            f["recent:" + e["type"]] += 1
    keys = sorted({k for f in feats.values() for k in f})
    kinds = {"enterprise": 0, "individual_business": 1, "farmers_cooperative": 2}
    units = alive(t)
    X = np.array([[feats[u].get(k, 0) for k in keys] + [kinds[t[u]["kind"]], int(t[u]["registered_on"][:4])] for u in units], float)
    z = np.array([float(t[u]["latent_z"]) for u in units])
    s = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05, random_state=0).fit(X, z).predict(X)
    print(f"{len(keys) + 2} features; in-sample correlation of the score with z {np.corrcoef(s, z)[0, 1]:.3f}")
    tier = tiers_of(units, dict(zip(units, s)))
    report(*count(tier, held_out(d)), "observable ceiling")


if __name__ == "__main__":
    {"oracle": oracle, "ceiling": ceiling}[sys.argv[1]](sys.argv[2])
