#!/usr/bin/env python3
"""Independent reference implementation of a `draw/v1` draw.

Written from spec/draw.md (and the eligibility choices documented in the
sampler package: exclusion windows, the per-year cap, and how an inspection
merges with the selection of the same plan; the unassigned "reason" text).
It shares no code with the Go sampler. Python 3.11 standard library only.

Usage: reference_draw.py CASE.json > CASE.expected.json

CASE.json:
  {"scheme": "national-4" | "shandong-5",
   "options": {"allow_zero_lowest_tier": bool},
   "request": { a draw/v1 request },
   "units": [{"uscc", "region", "tier" (label or null), "registered_at",
              "deregistered_at", "inspections": [{"at", "plan_id"}]}],
   "ledger": [{"plan_id", "as_of", "selected": [uscc, ...]}]}

Output: {"population": lines, "population_digest", "strata", "selected",
         "below_3_percent"} or {"error": message}.
"""
import hashlib
import json
import sys
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

SCHEMES = {"national-4": ["A", "B", "C", "D"], "shandong-5": ["A", "B", "C", "D", "E"]}
DAY = 86400


def unix(ts):
    assert ts.endswith("Z")
    return int(datetime.fromisoformat(ts[:-1] + "+00:00").timestamp())


def micro(d):
    v = Decimal(d) * 1000000
    if v != v.to_integral_value():
        raise ValueError("ratio %s has more than 6 decimals" % d)
    return int(v)


def occasions_excluded(unit, ledger, req, as_of):
    """(recent, capped) per the documented occasion rule."""
    days = req.get("exclude_selected_within_days", 0) or 0
    cap = req.get("max_inspections_per_year", 0) or 0
    if days == 0 and cap == 0:
        return False, False
    ex_from = as_of - days * DAY
    cap_from = as_of - 365 * DAY
    sels = [(d["at"], d["plan_id"]) for d in ledger if unit["uscc"] in d["selected"] and d["at"] <= as_of]
    insps = [(i["at"], i.get("plan_id", "")) for i in unit.get("inspections", []) if i["at"] <= as_of]
    if days > 0:
        if any(at >= ex_from for at, _ in sels) or any(at >= ex_from for at, _ in insps):
            return True, False
    if cap == 0:
        return False, False
    latest = [at for at, _ in sels]
    count = 0
    for at, plan in insps:
        best = None
        if plan:
            for j, (sat, splan) in enumerate(sels):
                if splan == plan and at - 365 * DAY <= sat <= at:
                    if best is None or sat > sels[best][0]:
                        best = j
        if best is not None:
            latest[best] = max(latest[best], at)
        elif at >= cap_from:
            count += 1
    count += sum(1 for t in latest if t >= cap_from)
    return False, count >= cap


def eligible_population(case, labels):
    req = case["request"]
    as_of = unix(req["as_of"])
    pop = req.get("population") or {}
    prefix = pop.get("region_prefix", "")
    types = pop.get("entity_types") or []
    auths = pop.get("registration_authorities") or []
    ledger = [{"plan_id": d["plan_id"], "at": unix(d["as_of"]), "selected": set(d["selected"])}
              for d in case.get("ledger", [])]
    out = []
    for u in case["units"]:
        code = u["uscc"]
        if u["registered_at"] > as_of:
            continue
        if u.get("deregistered_at", 0) and u["deregistered_at"] <= as_of:
            continue
        if not u["region"].startswith(prefix):
            continue
        if types and code[1] not in types:
            continue
        if auths and code[0] not in auths:
            continue
        if u["tier"] is None:
            continue
        recent, capped = occasions_excluded(u, ledger, req, as_of)
        if recent or capped:
            continue
        out.append(u)
    return out


def sample_sizes(alloc, labels, N):
    if "ratios" in alloc:
        r = [micro(alloc["ratios"][l]) for l in labels]
        for t in range(1, len(labels)):
            if r[t] < r[t - 1]:
                raise ValueError("ratio falls as risk rises")
        return [min((r[t] * N[t] + 500000) // 1000000, N[t]) for t in range(len(labels))], r
    w = [int(alloc["weights"][l]) for l in labels]
    for t in range(1, len(labels)):
        if w[t] < w[t - 1]:
            raise ValueError("weight falls as risk rises")
    tiers = range(len(labels))
    T = min(int(alloc["budget"]), sum(N[t] for t in tiers if w[t] > 0))
    full = set()
    while True:
        rest = [t for t in tiers if w[t] > 0 and t not in full]
        S = sum(w[t] * N[t] for t in rest)
        if S == 0:
            break
        C = sum(N[t] for t in full)
        lam = Fraction(T - C, S)
        over = [t for t in rest if lam * w[t] >= 1]
        if not over:
            break
        top = max(w[t] for t in rest)  # fill in descending weight
        full |= {t for t in rest if w[t] == top}
    C = sum(N[t] for t in full)
    rest = [t for t in tiers if w[t] > 0 and t not in full]
    S = sum(w[t] * N[t] for t in rest)
    n = [0] * len(labels)
    q = {}
    for t in full:
        n[t] = N[t]
    for t in rest:
        if S:
            q[t] = Fraction((T - C) * w[t] * N[t], S)
            n[t] = q[t].numerator // q[t].denominator
    left = T - sum(n)
    order = sorted(q, key=lambda t: (-(q[t] - n[t]), t))
    for t in order[:left]:
        n[t] += 1
    return n, w


def pi_string(n, N):
    if N == 0:
        return "0.000000"
    m = Fraction(n * 1000000, N)
    r = (m + Fraction(1, 2)).numerator // (m + Fraction(1, 2)).denominator  # round half up
    return "%d.%06d" % (r // 1000000, r % 1000000)


def quote_go(s):
    # the reason quotes department names like Go's %q; for names without
    # control characters this is JSON's quoting with non-ASCII kept
    return json.dumps(s, ensure_ascii=False)


def assign(req, selected, total):
    ins = req["inspectors"]
    pool = ins["pool"]
    k = ins.get("per_entity") or 2
    cap = ins.get("max_load") or -(-k * total // len(pool))
    dept = req.get("department") or ""
    seed = bytes.fromhex(req["seed"])
    k2 = hashlib.sha256(b"assign/v1\x00" + seed).digest()
    conflicts = {(c["inspector"], c["uscc"]) for c in req.get("conflicts") or []}
    load = {p["id"]: 0 for p in pool}
    dept_ok = [not dept or not p.get("departments") or dept in p["departments"] for p in pool]
    dept_count = sum(dept_ok)
    for e in selected:
        covering = conflicted = at_cap = 0
        elig = []
        for p, ok in zip(pool, dept_ok):
            if not ok:
                continue
            regions = p.get("regions") or []
            if regions and not any(e["region"].startswith(r) for r in regions):
                continue
            covering += 1
            if (p["id"], e["uscc"]) in conflicts:
                conflicted += 1
                continue
            if load[p["id"]] >= cap:
                at_cap += 1
                continue
            g = hashlib.sha256(k2 + e["uscc"].encode() + b"\x00" + p["id"].encode()).digest()
            elig.append((g, p["id"]))
        elig.sort()
        chosen = [pid for _, pid in elig[:k]]
        for pid in chosen:
            load[pid] += 1
        e["inspectors"] = chosen
        if len(chosen) < k:
            e["unassigned"] = k - len(chosen)
            of = "in the pool" if not dept else "of department " + quote_go(dept)
            e["reason"] = ("only %d of %d inspectors available: %d of the %d inspectors %s cover region %s, "
                           "%d of them in conflict, %d at the load cap of %d") % (
                len(chosen), k, covering, dept_count, of, e["region"], conflicted, at_cap, cap)


def draw(case):
    labels = SCHEMES[case["scheme"]]
    req = case["request"]
    alloc = req["allocation"]
    units = eligible_population(case, labels)
    N = [sum(1 for u in units if u["tier"] == l) for l in labels]
    n, vals = sample_sizes(alloc, labels, N)
    if vals[0] == 0 and not case.get("options", {}).get("allow_zero_lowest_tier"):
        raise ValueError("lowest tier exempt")
    lines = "".join("%s,%s\n" % (u["uscc"], u["tier"]) for u in sorted(units, key=lambda u: u["uscc"].encode()))
    seed = bytes.fromhex(req["seed"])
    K = hashlib.sha256(b"draw/v1\x00" + seed).digest()
    chosen = []
    for t, l in enumerate(labels):
        stratum = [u for u in units if u["tier"] == l]
        stratum.sort(key=lambda u: hashlib.sha256(K + u["uscc"].encode()).digest())
        chosen += stratum[:n[t]]
    selected = [{"uscc": u["uscc"], "region": u["region"], "tier": u["tier"],
                 "priority": hashlib.sha256(K + u["uscc"].encode()).hexdigest()} for u in chosen]
    selected.sort(key=lambda e: e["priority"])
    assign(req, selected, sum(n))
    return {
        "population": lines,
        "population_digest": hashlib.sha256(lines.encode()).hexdigest(),
        "strata": {l: {"N": N[t], "n": n[t], "pi": pi_string(n[t], N[t])} for t, l in enumerate(labels)},
        "selected": selected,
        "below_3_percent": 100 * sum(n) < 3 * sum(N),
    }


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        case = json.load(f, parse_float=Decimal)
    try:
        out = draw(case)
    except ValueError as e:
        out = {"error": str(e)}
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
