#!/usr/bin/env python3
"""Independent reference verifier of `draw/v2` records (docs/spec/draw.md,
"draw/v2"), written from the spec text. Python 3 standard library only; it
shares no code with the Go sampler.

Usage: reference_verify_v2.py RECORD.json POPULATION.txt [AMENDMENTS.json]
       reference_verify_v2.py --batch < jobs   (lines "RECORD POPULATION [AMENDMENTS]")

Prints "ok EDITION" and the checks made, or "FAIL: reason"; exit 0 / 1.
The public edition gets every check that needs no tier; the regulatory
edition (tiers and the blinding key) also the key commitment, each line's
tier, the strata and the selection.
"""
import hashlib
import json
import struct
import sys
from decimal import Decimal
from datetime import datetime

SCHEMES = {"national-4": ["A", "B", "C", "D"], "shandong-5": ["A", "B", "C", "D", "E"]}
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
SHA = lambda b: hashlib.sha256(b).digest()


class Fail(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Fail(msg)


def unix(ts):
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def draw_id(public, plan, as_of):
    """Prefix + 12 hex of SHA-256 of the public bytes with draw_id emptied."""
    key = b'"draw_id":"'
    i = public.index(key) + len(key)
    j = public.index(b'"', i)
    slug = "".join(c if (c.isascii() and (c.isalnum() or c in "-_.")) and not (k == 0 and c == ".") else "_"
                   for k, c in enumerate(plan))
    t = datetime.fromisoformat(as_of.replace("Z", "+00:00")).strftime("%Y%m%dT%H%M%SZ")
    return slug + "-" + t + "-" + hashlib.sha256(public[:i] + public[j:]).hexdigest()[:12]


def public_bytes(data):
    reg = b'"edition":"regulatory"'
    if reg not in data:
        return data
    cut = data[:data.index(b',"blind_key":"')] + b"}"
    return cut.replace(reg, b'"edition":"public"', 1)


def sizes(alloc, labels, N):
    """n_t (v1 rules) then the v2 round-up of positive rates."""
    if "ratios" in alloc:
        vals = [int(Decimal(str(alloc["ratios"][l])) * 1000000) for l in labels]
        n = [min((v * Nt + 500000) // 1000000, Nt) for v, Nt in zip(vals, N)]
    else:
        from fractions import Fraction
        w = [alloc["weights"][l] for l in labels]
        vals = w
        T = min(alloc["budget"], sum(Nt for wt, Nt in zip(w, N) if wt > 0))
        full = [False] * len(N)
        n = [0] * len(N)
        while True:
            act = [t for t in range(len(N)) if w[t] > 0 and N[t] > 0 and not full[t]]
            S = sum(w[t] * N[t] for t in act)
            if S == 0:
                break
            C = sum(N[t] for t in range(len(N)) if full[t])
            tmax = max(act, key=lambda t: w[t])
            if Fraction(T - C, S) * w[tmax] >= 1:
                for t in act:
                    if w[t] == w[tmax]:
                        full[t] = True
                continue
            q = {t: Fraction((T - C) * w[t] * N[t], S) for t in act}
            for t in act:
                n[t] = int(q[t])
            rest = T - C - sum(n[t] for t in act)
            for t in sorted(act, key=lambda t: (-(q[t] - int(q[t])), t))[:rest]:
                n[t] += 1
            break
        for t in range(len(N)):
            if full[t]:
                n[t] = N[t]
    for t in range(len(N)):
        if n[t] == 0 and N[t] > 0 and vals[t] > 0:
            n[t] = 1
    return n


def pi(n, N):
    if N == 0:
        return "0.000000"
    m = (2 * n * 1000000 + N) // (2 * N)
    return "%d.%06d" % (m // 1000000, m % 1000000)


def reason(found, k, covering, pool, dept, region, conflicts, at_cap, cap):
    count = sum(1 for p in pool if not p.get("departments") or dept in p.get("departments", [])) if dept else len(pool)
    of = 'of department "%s"' % dept if dept else "in the pool"
    return ("only %d of %d inspectors available: %d of the %d inspectors %s cover region %s, %d of them in conflict, %d at the load cap of %d"
            % (found, k, covering, count, of, region, conflicts, at_cap, cap))


class Walk:
    """Partial Fisher-Yates over c driven by S_j = SHA-256(KA || USCC || u32(j))."""

    def __init__(self, ka, uscc, c):
        self.ka, self.uscc, self.c, self.pos, self.swaps = ka, uscc.encode(), c, 0, {}

    def next(self):
        m = len(self.c)
        if self.pos >= m:
            return None
        block = SHA(self.ka + self.uscc + struct.pack(">I", self.pos // 4))
        u = struct.unpack(">Q", block[8 * (self.pos % 4):8 * (self.pos % 4) + 8])[0]
        r = self.pos + u % (m - self.pos)
        vi, vr = self.swaps.get(self.pos, self.c[self.pos]), self.swaps.get(r, self.c[r])
        self.swaps[r] = vi
        self.pos += 1
        return vr


def verify(rec_bytes, pop_bytes, amend_bytes):
    checks = []
    rec = json.loads(rec_bytes)
    need(rec["format"] == "draw/v2", "format")
    reg = rec["edition"] == "regulatory"
    req = rec["request"]
    labels = SCHEMES[rec["tier_scheme"]]
    alloc = req["allocation"]
    rates = [Decimal(str(alloc["ratios"][l])) for l in labels] if "ratios" in alloc else [alloc["weights"][l] for l in labels]
    need(all(rates[t] >= rates[t - 1] for t in range(1, len(rates))), "rates fall as risk rises")
    need(rates[0] > 0 or (req.get("exempt_lowest_tier") and rec["tier_scheme"] == "national-4"),
         "tier %s has rate 0 without an exemption the scheme permits" % labels[0])
    need(req["inspectors"]["per_entity"] >= 2, "fewer than two inspectors per entity")
    pub = public_bytes(rec_bytes.rstrip(b"\n"))
    need(draw_id(pub, req["plan_id"], req["as_of"]) == rec["draw_id"], "draw_id does not bind the public edition")
    checks.append("draw_id")
    seed = bytes.fromhex(req["seed"])
    need(hashlib.sha256(seed).hexdigest() == req["seed_commitment"], "seed commitment")
    need(unix(rec["seed_committed_at"]) <= unix(req["as_of"]), "seed committed after as_of")
    checks.append("seed commitment")
    if reg:
        B = bytes.fromhex(rec["blind_key"])
        need(hashlib.sha256(b"draw/v2/key\x00" + B).hexdigest() == rec["key_commitment"], "key commitment")
        checks.append("key commitment")
    ka = SHA(b"draw/v2/assign\x00" + seed)
    sel = rec["selected"]
    s0 = [SHA(ka + s["uscc"].encode() + struct.pack(">I", 0)) for s in sel]
    need(all(s0[i] < s0[i + 1] for i in range(len(s0) - 1)), "selected not in ascending S_0")
    checks.append("service order")
    need(hashlib.sha256(pop_bytes).hexdigest() == rec["population_digest"], "population digest")
    lines = pop_bytes.split(b"\n")
    need(lines[-1] == b"", "population file must end with a newline") if pop_bytes else None
    lines = lines[:-1]
    need(len(lines) == rec["population_size"], "population_size")
    usccs = [l[:18].decode() for l in lines]
    for l in lines:
        need(len(l) == 21 and l[18:19] == b"," and all(ch in ALPHABET for ch in l[:18].decode()) and l[2:8].isdigit()
             and all(ch in "0123456789abcdef" for ch in l[19:].decode()), "population line %r" % l)
    need(all(usccs[i] < usccs[i + 1] for i in range(len(usccs) - 1)), "population not sorted")
    popset = set(usccs)
    need(all(s["uscc"] in popset for s in sel), "a selected entity is not in the population")
    need(len(sel) == rec["sample_size"], "sample_size")
    checks.append("population, membership")

    def check_strata(st, N):
        n = sizes(req["allocation"], labels, N)
        for t, l in enumerate(labels):
            need(st[l] == {"N": N[t], "n": n[t], "pi": pi(n[t], N[t])}, "stratum %s" % l)
        need(sum(N) == rec["population_size"] and sum(n) == rec["sample_size"], "strata totals")

    if rec["strata"] is not None:
        check_strata(rec["strata"], [rec["strata"][l]["N"] for l in labels])
        checks.append("strata")
    if reg:
        tiers = []
        for i, l in enumerate(lines):
            m = SHA(b"draw/v2/mask\x00" + B + struct.pack(">Q", i // 32))[i % 32]
            t = int(l[19:21], 16) ^ m
            need(t < len(labels), "line %d decodes outside the scheme" % (i + 1))
            tiers.append(t)
        N = [tiers.count(t) for t in range(len(labels))]
        check_strata(rec["tier_strata"], N)
        small = any(0 < x < 10 for x in N) or bool((req.get("population") or {}).get("include"))
        need((rec["strata"] is None) == small, "strata suppression")
        KS = SHA(b"draw/v2/select\x00" + B + seed)
        n = [rec["tier_strata"][l]["n"] for l in labels]
        want = {}
        for t in range(len(labels)):
            pri = sorted((SHA(KS + u.encode()), u) for u, tt in zip(usccs, tiers) if tt == t)[:n[t]]
            for p, u in pri:
                want[u] = (labels[t], p.hex())
        need(len(want) == len(sel), "selection size")
        for s, tr in zip(sel, rec["tiers"]):
            need(s["uscc"] in want and tr == {"uscc": s["uscc"], "tier": want[s["uscc"]][0], "priority": want[s["uscc"]][1]},
                 "selection of %s" % s["uscc"])
        checks.append("tiers, strata, selection")

    # assignment
    pool = req["inspectors"]["pool"]
    k = req["inspectors"]["per_entity"]
    dept = req.get("department", "")
    cap = req["inspectors"].get("max_load") or -(-k * len(sel) // len(pool))
    conflicts = {(c["inspector"], c["uscc"]) for c in req.get("conflicts", [])}
    conflicts |= {(c["inspector"], c["uscc"]) for c in rec["register_conflicts"]}
    ids = {p["id"]: j for j, p in enumerate(pool)}

    def cands(region):
        return [j for j, p in enumerate(pool)
                if (not dept or not p.get("departments") or dept in p["departments"])
                and (not p.get("regions") or any(region.startswith(r) for r in p["regions"]))]

    load = [0] * len(pool)
    for s in sel:
        c = cands(s["region"])
        w = Walk(ka, s["uscc"], c)
        chosen, nconf, ncap = [], 0, 0
        while len(chosen) < k:
            x = w.next()
            if x is None:
                break
            if (pool[x]["id"], s["uscc"]) in conflicts:
                nconf += 1
            elif load[x] >= cap:
                ncap += 1
            else:
                chosen.append(x)
                load[x] += 1
        need([pool[x]["id"] for x in chosen] == s["inspectors"], "inspectors of %s" % s["uscc"])
        if len(chosen) < k:
            need(s.get("unassigned") == k - len(chosen), "unassigned of %s" % s["uscc"])
            need(s.get("reason") == reason(len(chosen), k, len(c), pool, dept, s["region"], nconf, ncap, cap), "reason of %s" % s["uscc"])
        else:
            need("unassigned" not in s and "reason" not in s, "unassigned of %s" % s["uscc"])
    checks.append("assignment")

    if amend_bytes is not None:
        doc = json.loads(amend_bytes)
        need(doc["draw_id"] == rec["draw_id"], "amendments of another draw")
        team = {s["uscc"]: [ids[i] for i in s["inspectors"]] for s in sel}
        taken = {u: list(v) for u, v in team.items()}
        recused = {u: [] for u in team}
        exhausted = {s["uscc"]: bool(s.get("unassigned")) for s in sel}
        region = {s["uscc"]: s["region"] for s in sel}
        prev = ""
        for q, a in enumerate(doc["amendments"], 1):
            need(a["seq"] == q and a["prev"] == prev, "amendment %d chain" % q)
            h = hashlib.sha256(("draw/v2/amend\x00%s\x00%s\x00" % (doc["draw_id"], a["prev"])).encode() + struct.pack(">I", a["seq"])
                               + ("%s\x00%s\x00%s\x00%s\x00%s" % (a["uscc"], a["recused"], a["replacement"], a["at"], a["reason"])).encode())
            need(h.hexdigest() == a["id"], "amendment %d id" % q)
            prev = a["id"]
            u = a["uscc"]
            need(u in team and a["recused"] in ids and ids[a["recused"]] in team[u], "amendment %d recusal" % q)
            x = ids[a["recused"]]
            team[u].remove(x)
            recused[u].append(x)
            load[x] -= 1
            got = ""
            if not exhausted[u]:
                w = Walk(ka, u, cands(region[u]))
                seen = 0
                while seen < len(taken[u]):
                    y = w.next()
                    if y in taken[u]:
                        seen += 1
                while True:
                    y = w.next()
                    if y is None:
                        exhausted[u] = True
                        break
                    if y in recused[u] or y in team[u] or (pool[y]["id"], u) in conflicts or load[y] >= cap:
                        continue
                    got = pool[y]["id"]
                    load[y] += 1
                    team[u].append(y)
                    taken[u].append(y)
                    break
            need(a["replacement"] == got, "amendment %d replacement %r, the permutation gives %r" % (q, a["replacement"], got))
        checks.append("amendments")
    return rec["edition"], checks


def main():
    args = sys.argv[1:]
    if args == ["--batch"]:
        # one job per line: RECORD POPULATION [AMENDMENTS]; one verdict a line
        for line in sys.stdin:
            f = line.split()
            try:
                edition, _ = verify(open(f[0], "rb").read(), open(f[1], "rb").read(),
                                    open(f[2], "rb").read() if len(f) > 2 else None)
                print("ok " + edition)
            except (Fail, KeyError, ValueError, TypeError, IndexError, AttributeError) as e:
                print("FAIL: %s" % e)
        return
    rec = open(args[0], "rb").read()
    pop = open(args[1], "rb").read()
    am = open(args[2], "rb").read() if len(args) > 2 else None
    try:
        edition, checks = verify(rec, pop, am)
    except (Fail, KeyError, ValueError, TypeError, IndexError, AttributeError) as e:
        print("FAIL: %s" % e)
        sys.exit(1)
    print("ok %s: %s" % (edition, ", ".join(checks)))


if __name__ == "__main__":
    main()
