#!/usr/bin/env python3
"""Independent check of the report page goldens (public.html,
regulatory.html), written from docs/spec/report.md and the project rule that
the risk tier is internal: parses the HTML with the standard library and
checks that every record and the subject of the test report are shown, that
the public page reveals nothing of the assessment (score, tier, scheme,
model, reasons), that the regulatory page shows it, and that tags balance.
python3 check_page.py public.html regulatory.html"""
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.text, self.errs, self.scripts, self.classes = [], [], [], 0, set()
    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1
        for k, v in attrs:
            if k == "class" and v:
                self.classes.update(v.split())
        if tag not in VOID:
            self.stack.append(tag)
    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errs.append("unbalanced </%s> (open: %s)" % (tag, self.stack[-3:]))
            return
        self.stack.pop()
    def handle_data(self, data):
        if self.stack and self.stack[-1] in ("style", "script"):
            return
        self.text.append(data)

# The test report (reportpage_test.go testReport), by hand.
SHOWN = ["91370200MA3C5KQB07", "青岛海岸线贸易有限公司", "山东省市场监督管理局", "37-01JQ8Z6Y2M7D4W9X3K5N8P2R6T",
         "SAMR-370200-2025-000123", "SAMR-370200-2025-000456", "SAMR-370200-2024-I-0077", "TAX-37-2024-A-0001",
         "COURT-370203-2023-0901", "ZJ-330100-2025-77", "青市监罚〔2025〕123号", "青岛市市北区人民法院",
         "2025-10-09", "2026-06-02"]
ASSESSMENT = ["612", "national-4", "national-logit/2026.1", "列入经营异常名录 listed as abnormal",
              "抽查发现问题 problem found in inspection", "纳税信用A级 tax rating A", "已修复的行政处罚 repaired penalty"]

def check(path, regulatory):
    p = Page()
    with open(path, encoding="utf-8") as f:
        src = f.read()
    p.feed(src)
    p.close()
    errs = list(p.errs)
    if p.stack:
        errs.append("unclosed tags %s" % p.stack)
    if p.scripts:
        errs.append("%d script elements" % p.scripts)
    text = " ".join(" ".join(p.text).split())
    for s in SHOWN:
        if s not in text:
            errs.append("%r is not shown" % s)
    for s in ASSESSMENT:
        if regulatory and s not in text:
            errs.append("regulatory page: %r is not shown" % s)
        if not regulatory and s in src:
            errs.append("public page reveals %r" % s)
    if not regulatory:
        low = text.lower()  # visible text; the shared style sheet names classes for both editions
        for word in ("tier", "score", "风险分类", "分类结果"):
            if word in low:
                errs.append("public page says %r" % word)
        for c in p.classes:
            if "tier" in c or "assessment" in c:
                errs.append("public page has an element of class %r" % c)
    elif not any("tier" in c for c in p.classes):
        errs.append("regulatory page shows no tier element")
    return ["%s: %s" % (path, e) for e in errs]

def main(public, regulatory):
    errs = check(public, False) + check(regulatory, True)
    if errs:
        print("\n".join(errs), file=sys.stderr)
        return 1
    print("pages ok")
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
