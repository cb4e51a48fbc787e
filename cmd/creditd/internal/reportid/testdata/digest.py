#!/usr/bin/env python3
"""Computes the verification-URL digest of a signed credit-report/v1 JSON
file from docs/spec/report.md ("Verification URL") alone, with the standard
library: drop "report_id" and "signature", serialise per RFC 8785 (JCS),
SHA-256, keep the first 16 bytes, base64url without padding.

Given the issuer's Ed25519 seed (hex) too, it also rebuilds creditd's
report id from the table of that section (HKDF-SHA256 key, G and C tags,
Crockford base32), taking only the milliseconds from the report's id, and
prints it on a second line.

For a report (integers only, ASCII member names) RFC 8785 is json.dumps
with sorted keys, no white space and UTF-8 output; member names are sorted
by UTF-16 code units, which for ASCII names is their order as Python
strings. Usage: digest.py report.json [seed-hex]
"""
import base64
import hashlib
import hmac
import json
import sys

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RFC4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def jcs(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def hkdf_sha256(ikm, info, length):
    prk = hmac.new(b"\0" * 32, ikm, hashlib.sha256).digest()  # no salt: HashLen zeros (RFC 5869 §2.2)
    okm, t, i = b"", b"", 1
    while len(okm) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        okm, i = okm + t, i + 1
    return okm[:length]


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    report_id = doc.pop("report_id")
    doc.pop("signature", None)
    digest = hashlib.sha256(jcs(doc)).digest()[:16]
    print(base64.urlsafe_b64encode(digest).decode("ascii").rstrip("="))
    if len(sys.argv) < 3:
        return
    k = hkdf_sha256(bytes.fromhex(sys.argv[2]), b"creditd credit-report-id/v1", 32)
    code, _, tail = report_id.rpartition("-")
    raw = base64.b32decode(tail.translate(str.maketrans(CROCKFORD, RFC4648)))
    ms = raw[:6]
    head = b"\0" + bytes([len(code)]) + code.encode("ascii") + ms + doc["subject"]["uscc"].encode("ascii") + digest
    p = hashlib.sha256(jcs({"records": doc["records"], "subject": doc["subject"]})).digest()
    c = hmac.new(k, b"current" + head + p, hashlib.sha256).digest()[:6]
    g = hmac.new(k, b"genuine" + head + c, hashlib.sha256).digest()[:8]
    ident = base64.b32encode(ms + g + c).decode("ascii").translate(str.maketrans(RFC4648, CROCKFORD))
    print(code + "-" + ident)


main()
