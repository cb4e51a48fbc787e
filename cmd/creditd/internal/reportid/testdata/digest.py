#!/usr/bin/env python3
"""Computes the verification-URL digest of a signed credit-report/v1 JSON
file from docs/spec/report.md ("Verification URL") alone, with the standard
library: drop "report_id" and "signature", serialise per RFC 8785 (JCS),
SHA-256, keep the first 16 bytes, base64url without padding.

For a report (integers only, ASCII member names) RFC 8785 is
json.dumps with sorted keys, no white space and UTF-8 output; member names
are sorted by UTF-16 code units, which for ASCII names is their order as
Python strings. Usage: digest.py report.json
"""
import base64
import hashlib
import json
import sys


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    doc.pop("report_id", None)
    doc.pop("signature", None)
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    digest = hashlib.sha256(canonical).digest()[:16]
    print(base64.urlsafe_b64encode(digest).decode("ascii").rstrip("="))


main()
