#!/usr/bin/python3
"""Writes tests/data/verification_sklearn.json: EER, its threshold and the normalised minDCF of
seeded verification trials, from scikit-learn's roc_curve points, for
tests/metrics/verification_test.cpp (CI reads the JSON, never sklearn).

Run once with Debian's python3-sklearn:
    /usr/bin/python3 scripts/gen_verification_fixtures.py
The operating points are sklearn.metrics.roc_curve's (drop_intermediate=False: one per distinct
score, ties grouped); the EER is WeSpeaker's interpolation between the last point with
P_miss > P_fa and the first with P_miss <= P_fa (wespeaker/bin/compute_metrics.py, compute_eer),
the minDCF its compute_c_norm (min of C_det over the points, divided by
min(c_miss * p_target, c_fa * (1 - p_target))). Scores are float32 values written as doubles.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import roc_curve

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                   "verification_sklearn.json")


def reference(y, s, p_target=0.01, c_miss=1.0, c_fa=1.0):
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    fnr = 1.0 - tpr
    # roc_curve's first point is "reject all" (threshold max + 1 in sklearn < 1.3, inf after)
    d = fnr - fpr
    k = int(np.flatnonzero(d <= 0)[0])
    a = d[k - 1] / (d[k - 1] - d[k])
    eer = fpr[k - 1] + a * (fpr[k] - fpr[k - 1])
    t0 = thr[k] if k - 1 == 0 else thr[k - 1]
    threshold = t0 + a * (thr[k] - t0)
    c_det = c_miss * fnr * p_target + c_fa * fpr * (1 - p_target)
    i = int(np.argmin(c_det))
    c_default = min(c_miss * p_target, c_fa * (1 - p_target))
    return {"eer": float(eer), "threshold": float(threshold),
            "min_dcf": float(c_det[i] / c_default),
            "min_dcf_threshold": None if i == 0 else float(thr[i])}


def case(name, y, s, note, p_target=0.01):
    s = np.asarray(s, dtype=np.float32).astype(np.float64)
    out = {"name": name, "note": note, "p_target": p_target,
           "target": [bool(v) for v in y], "scores": [float(v) for v in s]}
    out.update(reference(np.asarray(y, dtype=int), s, p_target))
    return out


def main():
    rng = np.random.default_rng(24)
    cases = []
    # cosine-like scores: targets around 0.6, non-targets around 0.1
    y = rng.random(400) < 0.3
    s = np.where(y, rng.normal(0.6, 0.2, 400), rng.normal(0.1, 0.2, 400))
    cases.append(case("gaussian", y, s, "400 trials, 30 % targets, overlapping"))
    # rounded to 0.05: many ties between targets and non-targets
    y = rng.random(300) < 0.5
    s = np.round(np.where(y, rng.normal(0.5, 0.25, 300), rng.normal(0.2, 0.25, 300)) / 0.05) * 0.05
    cases.append(case("ties", y, s, "300 trials rounded to 0.05"))
    # few targets among many non-targets (as same/different pairs of many speakers)
    y = rng.random(2000) < 0.05
    s = np.where(y, rng.normal(0.7, 0.15, 2000), rng.normal(0.2, 0.2, 2000))
    cases.append(case("unbalanced", y, s, "2000 trials, 5 % targets", p_target=0.05))
    # perfectly separated: EER 0
    y = np.array([1, 1, 1, 0, 0, 0, 0], dtype=bool)
    s = np.array([0.9, 0.8, 0.75, 0.3, 0.2, 0.1, -0.4])
    cases.append(case("separated", y, s, "every target above every non-target"))
    # a non-target has the highest score
    y = np.array([0, 1, 1, 0, 1, 0], dtype=bool)
    s = np.array([0.95, 0.9, 0.5, 0.4, 0.3, 0.1])
    cases.append(case("nontarget_first", y, s, "the best score is a non-target"))
    # every score tied: the crossing lies in the first segment (from "reject all")
    y = np.array([1, 0, 1, 0, 0], dtype=bool)
    s = np.full(5, 0.5)
    cases.append(case("all_tied", y, s, "one operating point besides reject all"))
    with open(OUT, "w") as f:
        json.dump({"sklearn": sklearn.__version__, "cases": cases}, f, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
