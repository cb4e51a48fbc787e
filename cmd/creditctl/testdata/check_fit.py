#!/usr/bin/env python3
"""Independent check of `creditctl model fit` and `creditctl model eval`
(issue 13) with Debian's python3-statsmodels and python3-sklearn:

  check_fit.py DESIGN.csv UNPENALISED.json SCORES.csv EVAL.json

DESIGN.csv is `model fit --unpenalised --export-design` (finding, offset,
free features); UNPENALISED.json the model that fit wrote, whose
training.coefficients carry the unrounded estimates. statsmodels' Logit
(Newton; the binomial GLM when there is an offset) must agree with every free coefficient and the
intercept within 1e-4. SCORES.csv is `model eval --export-scores` (score,
finding) and EVAL.json its --json report: scikit-learn's roc_auc_score of
the risk (−score) must equal the report's AUC within 1e-9, and the KS
statistic (max |TPR − FPR| over thresholds, from roc_curve) within 1e-9.
Exits 1 with the differences on a mismatch."""
import csv
import json
import sys

import numpy as np
import statsmodels.api as sm
from sklearn.metrics import roc_auc_score, roc_curve


def main(design, model, scores, report):
    with open(design) as f:
        rd = csv.reader(f)
        head = next(rd)
        rows = np.array([[float(v) for v in r] for r in rd])
    y, offset, X = rows[:, 0], rows[:, 1], rows[:, 2:]
    codes = head[2:]
    if np.linalg.matrix_rank(np.column_stack([np.ones(len(y)), X])) != X.shape[1] + 1:
        sys.exit("design is not of full rank")
    Xc = sm.add_constant(X, has_constant="add")
    if np.any(offset != 0):
        # Logit takes no offset; the binomial GLM with the logit link is
        # the same likelihood and does.
        how = "statsmodels GLM(Binomial, logit) with the held features as offset"
        res = sm.GLM(y, Xc, family=sm.families.Binomial(), offset=offset).fit(tol=1e-12, maxiter=200)
    else:
        how = "statsmodels Logit"
        res = sm.Logit(y, Xc).fit(method="newton", tol=1e-12, maxiter=200, disp=0)
    with open(model) as f:
        m = json.load(f)
    tr = m["training"]
    coef = {c["code"]: c for c in tr["coefficients"]}
    bad = []
    worst = abs(res.params[0] - tr["intercept"])
    if worst > 1e-4:
        bad.append(f"intercept: creditctl {tr['intercept']:.8f}, statsmodels {res.params[0]:.8f}")
    for i, code in enumerate(codes):
        d = abs(res.params[i + 1] - coef[code]["estimate"])
        worst = max(worst, d)
        if d > 1e-4:
            bad.append(f"{code}: creditctl {coef[code]['estimate']:.8f}, statsmodels {res.params[i + 1]:.8f}")
        # standard errors from the observed information agree too
        if abs(res.bse[i + 1] - coef[code]["se"]) > 1e-4:
            bad.append(f"{code} se: creditctl {coef[code]['se']:.8f}, statsmodels {res.bse[i + 1]:.8f}")

    s = np.loadtxt(scores, delimiter=",", skiprows=1, ndmin=2)
    risk, fd = -s[:, 0], s[:, 1].astype(int)
    with open(report) as f:
        rep = json.load(f)
    auc = roc_auc_score(fd, risk)
    if abs(auc - rep["auc"]["value"]) > 1e-9:
        bad.append(f"AUC: creditctl {rep['auc']['value']:.12f}, sklearn {auc:.12f}")
    fpr, tpr, _ = roc_curve(fd, risk)
    ks = float(np.max(np.abs(tpr - fpr)))
    if abs(ks - rep["ks"]) > 1e-9:
        bad.append(f"KS: creditctl {rep['ks']:.12f}, sklearn {ks:.12f}")
    if rep["inspections"] != len(fd) or rep["findings"] != int(fd.sum()):
        bad.append(f"counts: report {rep['inspections']}/{rep['findings']}, scores file {len(fd)}/{int(fd.sum())}")
    if bad:
        print("\n".join(bad), file=sys.stderr)
        sys.exit(1)
    print(f"{len(codes)} coefficients + intercept within {worst:.2e} of {how} on {len(y)} inspections; "
          f"AUC {auc:.6f} and KS {ks:.6f} equal sklearn's on {len(fd)} held-out inspections")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
