#!/usr/bin/env python3
"""Companion of bench/fitbench (run by run.sh with Debian's python3).

  compare.py timing DIR        time statsmodels Logit (Newton) and
                               scikit-learn LogisticRegression (penalty=None,
                               lbfgs) on DIR/design.f64, beside the Go fit of
                               DIR/go.json, and report the largest coefficient
                               differences.
  compare.py heldout DIR       fit scikit-learn's LogisticRegression (no
                               penalty, and L2 C=1) on DIR/train.csv
                               (creditctl model fit --export-design) and score
                               DIR/hold.csv (--export-holdout); print its
                               held-out AUC beside DIR/eval_fitted.json and
                               DIR/eval_builtin.json (creditctl model eval --json).
"""
import json
import sys
import time

import numpy as np


def timing(d):
    import statsmodels.api as sm
    from sklearn.linear_model import LogisticRegression

    meta = json.load(open(f"{d}/design.json"))
    n, k = meta["n"], meta["k"]
    a = np.fromfile(f"{d}/design.f64", dtype="<f8").reshape(n, k + 1)
    y, X = a[:, 0], a[:, 1:]
    go = json.load(open(f"{d}/go.json"))
    t0 = time.perf_counter()
    sm_res = sm.Logit(y, sm.add_constant(X)).fit(method="newton", tol=1e-8, maxiter=100, disp=0)
    t_sm = time.perf_counter() - t0
    t0 = time.perf_counter()
    sk = LogisticRegression(penalty=None, solver="lbfgs", max_iter=1000, tol=1e-8).fit(X, y)
    t_sk = time.perf_counter() - t0
    go_params = np.array([go["intercept"]] + go["beta"])
    sk_params = np.concatenate([sk.intercept_, sk.coef_[0]])
    print(f"| fitter | fit time (s) | max abs coefficient difference from the Go fit |")
    print(f"|---|---:|---:|")
    print(f"| scoring/fit (Go, Newton, sparse) | {go['seconds']:.2f} | — |")
    print(f"| statsmodels {sm.__version__ if hasattr(sm, '__version__') else ''} Logit (Newton) | {t_sm:.2f} | {np.max(np.abs(sm_res.params - go_params)):.2e} |")
    import sklearn
    print(f"| scikit-learn {sklearn.__version__} LogisticRegression (lbfgs, no penalty) | {t_sk:.2f} | {np.max(np.abs(sk_params - go_params)):.2e} |")
    print(f"\n{n} inspections × {k} features, {meta['findings']} findings")


def heldout(d):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    tr = np.loadtxt(f"{d}/train.csv", delimiter=",", skiprows=1)
    ho = np.loadtxt(f"{d}/hold.csv", delimiter=",", skiprows=1)
    fitted = json.load(open(f"{d}/eval_fitted.json"))
    builtin = json.load(open(f"{d}/eval_builtin.json"))
    rows = []
    for name, clf in [("sklearn LogisticRegression, no penalty", LogisticRegression(penalty=None, max_iter=5000)),
                      ("sklearn LogisticRegression, L2 C=1", LogisticRegression(C=1.0, max_iter=5000))]:
        clf.fit(tr[:, 2:], tr[:, 0])
        rows.append((name, roc_auc_score(ho[:, 0], clf.decision_function(ho[:, 2:]))))
    f, b = fitted["auc"], builtin["auc"]
    print("| model | held-out AUC | 95 % interval |")
    print("|---|---:|---|")
    print(f"| built-in national-4 (integer score) | {b['value']:.4f} | [{b['lower']:.4f}, {b['upper']:.4f}] |")
    print(f"| creditctl model fit (integer score) | {f['value']:.4f} | [{f['lower']:.4f}, {f['upper']:.4f}] |")
    for name, auc in rows:
        print(f"| {name} (same design) | {auc:.4f} | |")
    best = max(a for _, a in rows)
    print(f"\nfitted − built-in: {f['value'] - b['value']:+.4f}; fitted − best sklearn: {f['value'] - best:+.4f}"
          f" (held out {fitted['period'][0]}–{fitted['period'][1]}: {fitted['inspections']} inspections, {fitted['findings']} findings)")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("timing", "heldout"):
        sys.exit(__doc__)
    {"timing": timing, "heldout": heldout}[sys.argv[1]](sys.argv[2])
