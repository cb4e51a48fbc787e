#!/usr/bin/env python3
"""Generates the golden draw cases in golden/ (inputs only; the expected
outputs come from reference_draw.py). Deterministic. Python 3.11 stdlib.

  cd sampler/testdata && python3 gen_cases.py && \
    for f in golden/*.case.json; do python3 reference_draw.py $f > ${f%.case.json}.expected.json; done
"""
import json
import os
import random

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
W18 = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
W_ORG = [3, 7, 9, 10, 5, 8, 4, 2]
AS_OF = "2026-03-01T00:00:00Z"
AS_OF_UNIX = 1772323200
DAY = 86400


def org_check(body):
    s = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, W_ORG))
    c = 11 - s % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def uscc(rng, auth="9", etype="1", division="370102"):
    body = "".join(rng.choice(ALPHABET) for _ in range(8))
    code = auth + etype + division + body + org_check(body)
    s = sum(ALPHABET.index(c) * w for c, w in zip(code, W18))
    return code + ALPHABET[(31 - s % 31) % 31]


def divisions(city_count=3, counties=4):
    return ["37%02d%02d" % (c, k) for c in range(1, city_count + 1) for k in range(1, counties + 1)]


def units(rng, n, labels, mix, divs, untiered=0.02, dereg=0.05, future=0.03, moved=0.05, types="1123", auths="99999N"):
    out, seen = [], set()
    while len(out) < n:
        div = rng.choice(divs)
        code = uscc(rng, rng.choice(auths), rng.choice(types), div)
        if code in seen:
            continue
        seen.add(code)
        region = div if rng.random() >= moved else rng.choice(divs)
        tier = rng.choices(labels, weights=mix)[0]
        if rng.random() < untiered:
            tier = None
        reg = AS_OF_UNIX - rng.randrange(1, 3000) * DAY
        if rng.random() < future:
            reg = AS_OF_UNIX + rng.randrange(1, 100) * DAY
        dereg = 0
        if rng.random() < dereg:
            dereg = AS_OF_UNIX - rng.randrange(0, 50) * DAY  # includes "deregistered exactly at as_of"
        out.append({"uscc": code, "region": region, "tier": tier, "registered_at": reg, "deregistered_at": dereg,
                    "inspections": []})
    # a unit registered exactly at as_of is eligible
    out[0]["registered_at"] = AS_OF_UNIX
    return out


def pool(rng, n, divs, depts=("市场监管", "食品"), regional=0.7):
    out = []
    for i in range(n):
        p = {"id": "insp-%03d" % i}
        if rng.random() < regional:
            d = rng.choice(divs)
            p["regions"] = [d if rng.random() < 0.7 else d[:4]]
        if rng.random() < 0.5:
            p["departments"] = rng.sample(list(depts), rng.randint(1, len(depts)))
        out.append(p)
    return out


def request(seed, alloc, insp, **extra):
    r = {"plan_id": extra.pop("plan_id", "SD-2026-Q1"), "as_of": AS_OF, "allocation": alloc, "inspectors": insp,
         "seed": seed}
    r.update(extra)
    return r


def write(name, case):
    os.makedirs("golden", exist_ok=True)
    with open("golden/%s.case.json" % name, "w", encoding="utf-8") as f:
        json.dump(case, f, indent=1, ensure_ascii=False)
        f.write("\n")


def main():
    n4 = ["A", "B", "C", "D"]
    n5 = ["A", "B", "C", "D", "E"]

    rng = random.Random(1)
    divs = divisions()
    us = units(rng, 300, n4, [30, 55, 12, 3], divs)
    p = pool(rng, 14, divs)
    write("ratios_national", {
        "scheme": "national-4",
        "request": request("6b1f0e0c5d7a4c2e9f8a7b6c5d4e3f20",
                           {"ratios": {"A": 0.05, "B": 0.1, "C": 0.2, "D": 0.5}},
                           {"pool": p, "per_entity": 2},
                           population={"region_prefix": "3701", "entity_types": ["1", "2"],
                                       "registration_authorities": ["9"]},
                           department="食品",
                           conflicts=[{"inspector": p[0]["id"], "uscc": us[5]["uscc"]},
                                      {"inspector": p[1]["id"], "uscc": us[7]["uscc"]}]),
        "units": us})

    rng = random.Random(2)
    us = units(rng, 400, n4, [40, 45, 12, 3], divs)
    write("budget_full_strata", {
        "scheme": "national-4",
        "request": request("00112233445566778899aabbccddeeff0011",
                           {"budget": 60, "weights": {"A": 1, "B": 2, "C": 5, "D": 30}},
                           {"pool": pool(rng, 20, divs, regional=0), "per_entity": 3}),
        "units": us})

    rng = random.Random(3)
    us = units(rng, 500, n5, [25, 35, 25, 11, 4], divs)
    write("shandong5_ratios", {
        "scheme": "shandong-5",
        "request": request("a" * 64, {"ratios": {"A": 0.02, "B": 0.04, "C": 0.08, "D": 0.2, "E": 1}},
                           {"pool": pool(rng, 40, divs)},
                           seed_commitment=__import__("hashlib").sha256(bytes.fromhex("a" * 64)).hexdigest()),
        "units": us})

    rng = random.Random(4)
    us = units(rng, 200, n4, [30, 40, 20, 10], divs[:4])
    p = pool(rng, 6, divs[:4], regional=0.5)
    conflicts = [{"inspector": p[i % 6]["id"], "uscc": us[i]["uscc"]} for i in range(0, 200, 3)]
    write("conflicts_and_caps", {
        "scheme": "national-4",
        "request": request("fe" * 20, {"ratios": {"A": 0.3, "B": 0.3, "C": 0.3, "D": 0.3}},
                           {"pool": p, "per_entity": 2, "max_load": 9}, conflicts=conflicts),
        "units": us})

    rng = random.Random(5)
    us = units(rng, 300, n4, [30, 50, 15, 5], divs, untiered=0, future=0, dereg=0)
    ledger = [
        {"plan_id": "SD-2025-Q4", "as_of": "2026-01-15T00:00:00Z", "selected": [u["uscc"] for u in us[0:40]]},
        {"plan_id": "SD-2025-Q2", "as_of": "2025-06-01T00:00:00Z", "selected": [u["uscc"] for u in us[30:90]]},
        {"plan_id": "SD-2024", "as_of": "2024-06-01T00:00:00Z", "selected": [u["uscc"] for u in us[80:120]]},
        # a draw after as_of is ignored
        {"plan_id": "SD-2026-Q2", "as_of": "2026-04-01T00:00:00Z", "selected": [u["uscc"] for u in us[200:260]]},
    ]
    for i, u in enumerate(us):
        if 30 <= i < 90 and i % 2 == 0:
            # inspected under the plan that selected it: one occasion with the selection
            u["inspections"].append({"at": unix_of("2025-07-10"), "plan_id": "SD-2025-Q2"})
        if 100 <= i < 160 and i % 3 == 0:
            u["inspections"].append({"at": unix_of("2025-09-01"), "plan_id": ""})
        if 100 <= i < 160 and i % 4 == 0:
            u["inspections"].append({"at": unix_of("2025-11-20"), "plan_id": "complaint-17"})
        if 160 <= i < 175:
            u["inspections"].append({"at": unix_of("2026-02-20"), "plan_id": ""})  # recent: excluded
        if 175 <= i < 185:
            u["inspections"].append({"at": unix_of("2024-12-01"), "plan_id": ""})  # older than a year
    write("exclusions_and_caps", {
        "scheme": "national-4",
        "request": request("0123456789abcdef" * 3, {"ratios": {"A": 0.1, "B": 0.2, "C": 0.4, "D": 0.8}},
                           {"pool": pool(rng, 10, divs, regional=0)},
                           exclude_selected_within_days=30, max_inspections_per_year=2),
        "ledger": ledger,
        "units": us})

    rng = random.Random(6)
    us = units(rng, 77, n4, [30, 30, 30, 10], divs, untiered=0, dereg=0, future=0)
    # exact stratum sizes A 27, B 20, C 20, D 10: with budget 6 and equal
    # weights q = 2.4, 2.4, 1.2, so one unit goes to B or C: the tie rule
    # gives it to B, the lower-risk tier
    for i, u in enumerate(us):
        u["tier"] = "A" if i < 27 else "B" if i < 47 else "C" if i < 67 else "D"
    write("budget_ties_zero_weight", {
        "scheme": "national-4",
        "options": {"allow_zero_lowest_tier": True},
        "request": request("5" * 32, {"budget": 6, "weights": {"A": 0, "B": 1, "C": 1, "D": 1}},
                           {"pool": pool(rng, 8, divs, regional=0)}),
        "units": us})

    rng = random.Random(7)
    us = units(rng, 50, n4, [30, 55, 12, 3], divs)
    write("empty_population", {
        "scheme": "national-4",
        "request": request("7" * 32, {"ratios": {"A": 0.1, "B": 0.1, "C": 0.1, "D": 0.1}},
                           {"pool": pool(rng, 4, divs)}, population={"region_prefix": "4401"}),
        "units": us})

    rng = random.Random(8)
    us = units(rng, 600, n5, [20, 30, 30, 15, 5], divs)
    write("shandong5_budget", {
        "scheme": "shandong-5",
        "request": request("8" * 40, {"budget": 45, "weights": {"A": 1, "B": 1, "C": 3, "D": 10, "E": 40}},
                           {"pool": pool(rng, 30, divs), "per_entity": 2}, department="市场监管"),
        "units": us})


def unix_of(day):
    from datetime import datetime, timezone
    return int(datetime.fromisoformat(day).replace(tzinfo=timezone.utc).timestamp())


if __name__ == "__main__":
    main()
