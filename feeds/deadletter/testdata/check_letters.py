#!/usr/bin/env python3
"""Independent check of letters.golden, written from the format in
feeds/deadletter/letter.go's package comment (one JSON object per line;
members at, source, reason, detail, event_id?, original | original_b64, in
this order; at RFC 3339 UTC; original as a JSON string when the bytes are
valid UTF-8, else original_b64 in padded standard base64; neither when the
bytes were not kept) and the letters TestFileRoundTrip writes, re-derived
here by hand. Standard library only: python3 check_letters.py FILE."""
import base64, json, sys

AT = "2026-02-28T16:00:00.123456789Z"     # 2026-03-01 00:00:00.123456789 CST in UTC
AT1 = "2026-02-28T16:00:01.123456789Z"    # one second later
EXPECTED = [
    [("at", AT), ("source", "file:/srv/in/2026-03.ndjson:42"), ("reason", "invalid_uscc"),
     ("detail", "check character is 3, want X"), ("event_id", "SAMR-370200-2026-000123"),
     ("original", '{"id":"SAMR-370200-2026-000123","uscc":"91370200MA3C00001 3"}')],
    [("at", AT1), ("source", "http:req-7f3a:3"), ("reason", "not_json"),
     ("detail", "invalid character 'x' looking for beginning of value"),
     ("original", 'xyz <b>&amp;</b>\t"quoted" \\ back\u2028')],
    [("at", AT), ("source", "kafka:credit.events/11@1234567"), ("reason", "invalid_field"),
     ("detail", "名称不能为空: name 为空"), ("event_id", "鲁-1"),
     ("original", '{"attrs":{"name":"青岛某某有限公司"}}')],
    # invalid UTF-8: each bad byte of a text member becomes U+FFFD; the original goes to base64
    [("at", AT), ("source", "file:C:\\in\\a:b.ndjson:7"), ("reason", "not_json"),
     ("detail", "bad bytes \ufffd\ufffd in detail"),
     ("original_b64", base64.b64encode(bytes([0xff, 0xfe, 0x7b, 0x00, 0x80])).decode())],
    [("at", AT), ("source", "file:big.ndjson:9"), ("reason", "line_too_long"), ("detail", "2000000 bytes")],
    [("at", AT), ("source", "http:r:1"), ("reason", "not_object"), ("detail", ""), ("original", "")],
    [("at", AT), ("source", "http:r:2"), ("reason", "not_json"), ("detail", "control \x01\x1f\n\r"),
     ("original", "\x00\x01\x7f\r\n")],
]

def main(path):
    with open(path, "rb") as f:
        raw = f.read()
    errs = []
    if not raw.endswith(b"\n"):
        errs.append("no final newline")
    lines = raw[:-1].split(b"\n")
    if len(lines) != len(EXPECTED):
        errs.append("%d lines, want %d" % (len(lines), len(EXPECTED)))
    for n, (line, want) in enumerate(zip(lines, EXPECTED), 1):
        try:
            got = json.loads(line.decode("utf-8"), object_pairs_hook=list)
        except Exception as e:  # noqa: BLE001
            errs.append("line %d: not JSON: %s" % (n, e))
            continue
        if got != want:
            errs.append("line %d:\n  got  %r\n  want %r" % (n, got, want))
    if errs:
        print("\n".join(errs), file=sys.stderr)
        return 1
    print("%d letters ok" % len(lines))
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
