#!/usr/bin/env python3
"""Independent check of credit-event/v1 NDJSON (tiny.ndjson, the synthetic
generator's golden), written from docs/spec/events.md and domain.md §1
rather than from the Go code: python3 check_events.py FILE. Exit 0 when
every line is a valid event and the stream is consistent, else 1 with the
reasons. Standard library only."""
import json, re, sys

ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY"          # domain.md §1.2
W18 = [pow(3, i, 31) for i in range(17)]            # §1.3
W17 = [3, 7, 9, 10, 5, 8, 4, 2]                     # §1.4

def uscc_ok(c):
    if not re.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}", c):
        return "format"
    s = sum((int(ch) if ch.isdigit() else ord(ch) - 55) * w for ch, w in zip(c[8:16], W17))
    org = {10: "X", 11: "0"}.get(11 - s % 11, str(11 - s % 11))
    if c[16] != org:
        return "position 17 is %s, GB 11714 gives %s" % (c[16], org)
    chk = ALPHA[(31 - sum(ALPHA.index(ch) * w for ch, w in zip(c[:17], W18)) % 31) % 31]
    if c[17] != chk:
        return "position 18 is %s, GB 32100 gives %s" % (c[17], chk)
    return None

TOP = {"id", "uscc", "type", "occurred_at", "authority", "attrs"}
ENUMS = {  # docs/spec/events.md "Types"
    "penalty": ("severity", {"minor", "general", "serious"}),
    "abnormal_listed": ("reason", {"annual_report_missing", "not_publicized", "false_information", "unreachable_at_address"}),
    "inspection": ("result", {"no_problem", "corrected", "problem_found", "refused", "unreachable"}),
    "tax_rating": ("level", {"A", "B", "M", "C", "D"}),
    "honor": ("level", {"national", "provincial", "municipal"}),
    "objection_answered": ("outcome", {"upheld", "rejected", "referred"}),
}
OPTIONAL = {  # events.md "Penalty attributes", "repair"
    "penalty": {"procedure": {"ordinary", "simple"},
                "sector": {"food", "drug", "special_equipment", "work_safety", "fire", "other"}},
    "repair": {"channel": {"credit_china", "samr"}},
}
PENALTY_TYPES = {"warning", "reprimand", "fine", "confiscation", "licence_suspension", "qualification_downgrade",
                 "licence_revocation", "business_restriction", "production_suspension", "closure",
                 "employment_restriction", "business_licence_revocation", "other"}
RESTRICTIONS = {"business_restriction", "employment_restriction"}
# records an objection may name: every type that creates a record (events.md)
RECORDS = {"penalty", "abnormal_listed", "dishonest_listed", "court_debtor_listed", "inspection",
           "annual_report", "commitment_made", "tax_rating", "honor", "complaint"}
CROCKFORD = "[0-9A-HJKMNP-TV-Z]"   # report.md "Objections": OBJ-<USCC>-<16 characters>
REFS = {"abnormal_removed", "dishonest_removed", "court_debtor_removed", "commitment_breached", "commitment_fulfilled", "repair"}
TYPES = set(ENUMS) | REFS | {"registered", "deregistered", "dishonest_listed", "court_debtor_listed", "annual_report",
                             "commitment_made", "complaint", "objection_filed"}
# event ids: SOURCE-DIVISION-YEAR-NNNNNN (synth README "The stream"); the
# 12315 complaint platform issues consumer complaints only
EVENT_ID = re.compile(r"(SAMR|COURT|TAX|APPR|HONOR|12315)-\d{6}-\d{4}-\d{6,}")
INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
DATE = re.compile(r"\d{4}-\d\d-\d\d")

def main(path):
    errs, ids, registered = [], {}, {}
    types, objected, withdrawn, target = {}, set(), set(), {}
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    if lines[-1] != b"":
        errs.append("no final newline")
    for n, raw in enumerate(lines[:-1], 1):
        def bad(msg):
            errs.append("line %d: %s" % (n, msg))
        try:
            ev = json.loads(raw.decode("utf-8"))
        except Exception as e:  # noqa: BLE001
            bad("not JSON: %s" % e); continue
        if not isinstance(ev, dict):
            bad("not an object"); continue
        if set(ev) - TOP:
            bad("unknown members %s" % sorted(set(ev) - TOP))
        for k in ("id", "uscc", "type", "occurred_at"):
            if not isinstance(ev.get(k), str) or not ev.get(k):
                bad("missing %s" % k)
        if errs and errs[-1].startswith("line %d: missing" % n):
            continue
        t, code = ev["type"], ev["uscc"]
        if t not in TYPES:
            bad("unknown type %s" % t)
        why = uscc_ok(code)
        if why:
            bad("uscc %s: %s" % (code, why))
        if not INSTANT.fullmatch(ev["occurred_at"]):
            bad("occurred_at %s is not RFC 3339 UTC" % ev["occurred_at"])
        if ev["id"] in ids:
            bad("id %s reused" % ev["id"])
        ids[ev["id"]] = code
        types[ev["id"]] = ev["type"]
        attrs = ev.get("attrs")
        if t != "deregistered" and not isinstance(attrs, dict):
            bad("attrs missing"); continue
        if t == "registered":
            if not re.fullmatch(r"\d{6}", attrs.get("region", "")):
                bad("region %r" % attrs.get("region"))
            elif attrs["region"] != code[2:8]:
                bad("region %s differs from the USCC's %s" % (attrs["region"], code[2:8]))
            if not DATE.fullmatch(attrs.get("registered_on", "")):
                bad("registered_on %r" % attrs.get("registered_on"))
            if not attrs.get("name"):
                bad("no name")
            registered[code] = n
        elif code not in registered:
            bad("%s event for %s before its registration" % (t, code))
        if t in ENUMS:
            k, allowed = ENUMS[t]
            if attrs.get(k) not in allowed:
                bad("%s %s=%r" % (t, k, attrs.get(k)))
        if t in ("annual_report", "tax_rating") and not isinstance(attrs.get("year"), int):
            bad("%s without an integer year" % t)
        if t == "annual_report" and not isinstance(attrs.get("on_time"), bool):
            bad("annual_report without a boolean on_time")
        if t == "complaint" and not isinstance(attrs.get("substantiated"), bool):
            bad("complaint without a boolean substantiated")
        if not t.startswith("objection_"):
            m = EVENT_ID.fullmatch(ev["id"])
            if not m:
                bad("id %s" % ev["id"])
            elif m.group(1) == "12315" and t != "complaint":
                bad("12315 id on a %s" % t)
        if t in REFS or t.startswith("objection_"):
            ref = attrs.get("ref")
            if ids.get(ref) != code or ref == ev["id"]:
                bad("ref %r is not an earlier event of %s" % (ref, code))
        for k, allowed in OPTIONAL.get(t, {}).items():
            if k in attrs and attrs[k] not in allowed:
                bad("%s %s=%r" % (t, k, attrs[k]))
        if t == "penalty" and "penalty_types" in attrs:
            pt = attrs["penalty_types"]
            if not isinstance(pt, list) or not pt or len(set(pt)) != len(pt) or not set(pt) <= PENALTY_TYPES:
                bad("penalty_types %r" % pt)
            elif ("fine" in pt) != isinstance(attrs.get("amount_yuan"), int):
                bad("amount_yuan %r with penalty_types %r" % (attrs.get("amount_yuan"), pt))
            elif bool(RESTRICTIONS & set(pt)) != isinstance(attrs.get("restriction_months"), int):
                bad("restriction_months %r with penalty_types %r" % (attrs.get("restriction_months"), pt))
        if t == "objection_filed":
            if not re.fullmatch("OBJ-" + re.escape(code) + "-" + CROCKFORD + "{16}", ev["id"]):
                bad("objection id %s" % ev["id"])
            ref = attrs.get("ref")
            if types.get(ref) not in RECORDS or ref in objected or ref in withdrawn:
                bad("objection to %r: not a record, already objected or withdrawn" % ref)
            objected.add(ref)
            target[ev["id"]] = ref
            if not attrs.get("reason"):
                bad("objection without a reason")
        if t == "objection_answered":
            ref = attrs.get("ref")
            if types.get(ref) != "objection_filed" or not re.fullmatch(re.escape(ref) + "-" + CROCKFORD + "{8}", ev["id"]):
                bad("answer %s to %r" % (ev["id"], ref))
            if not attrs.get("reasons"):
                bad("answer without reasons")
            if attrs.get("outcome") == "upheld":
                withdrawn.add(target.get(ref))
        for k, v in (attrs or {}).items():
            if isinstance(v, str) and not (1 <= len(v.encode()) <= 1024):
                bad("attribute %s of %d bytes" % (k, len(v.encode())))
    if errs:
        print("\n".join(errs), file=sys.stderr)
        return 1
    print("%d events ok" % (len(lines) - 1))
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
