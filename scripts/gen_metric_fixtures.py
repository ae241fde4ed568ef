#!/usr/bin/python3
"""Writes tests/data/metrics_sklearn.json: classification metrics computed by scikit-learn on
seeded cases, for tests/metrics/metrics_sklearn_test.cpp (CI reads the JSON, never sklearn).

Run once with Debian's python3-sklearn (scripts/setup.sh --compare installs it):
    /usr/bin/python3 scripts/gen_metric_fixtures.py
Probabilities are float32 (what hptrain::metrics::evaluate takes), written as the exact double of
each float32, so C++ and scikit-learn see the same numbers; the prediction is np.argmax (first
on ties, as in evaluate).
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn import metrics

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                   "metrics_sklearn.json")


def probabilities(rng, y, k, skill, step, never=None):
    """Rows of float32 probabilities that lean towards the label by `skill`, rounded to `step`
    so that ties occur; class `never` gets the smallest share of every row (never predicted)."""
    n = len(y)
    raw = rng.gamma(1.0, 1.0, size=(n, k))
    raw[np.arange(n), y] += skill * rng.random(n)
    if never is not None:
        raw[:, never] = raw.min(axis=1) * 0.5
    p = raw / raw.sum(axis=1, keepdims=True)
    p = np.round(p / step) * step
    p[:, -1] = 1.0 - p[:, :-1].sum(axis=1)  # rows sum to 1 (sklearn's OvR check)
    p = np.clip(p, 0.0, 1.0)
    return p.astype(np.float32)


def case(name, y, p, note):
    k = p.shape[1]
    labels = list(range(k))
    pred = np.argmax(p, axis=1)
    p64 = p.astype(np.float64)
    prec, rec, f1, support = metrics.precision_recall_fscore_support(
        y, pred, labels=labels, average=None, zero_division=0)
    out = {
        "name": name,
        "note": note,
        "classes": k,
        "labels": [int(v) for v in y],
        "probs": [[float(v) for v in row] for row in p],
        "predicted": [int(v) for v in pred],
        "accuracy": metrics.accuracy_score(y, pred),
        "confusion": metrics.confusion_matrix(y, pred, labels=labels).tolist(),
        "per_class": [{"precision": float(prec[c]), "recall": float(rec[c]), "f1": float(f1[c]),
                       "support": int(support[c])} for c in labels],
    }
    for avg in ("macro", "weighted"):
        # default `labels`: those present in y_true or y_pred, as evaluate() averages
        out["precision_" + avg] = metrics.precision_score(y, pred, average=avg, zero_division=0)
        out["recall_" + avg] = metrics.recall_score(y, pred, average=avg, zero_division=0)
        out["f1_" + avg] = metrics.f1_score(y, pred, average=avg, zero_division=0)
    per_class_auc = []
    for c in labels:
        pos = (y == c)
        per_class_auc.append(metrics.roc_auc_score(pos, p64[:, c]) if 0 < pos.sum() < len(y)
                             else None)
    out["roc_auc_per_class"] = per_class_auc
    present = sorted(set(int(v) for v in y))
    if k == 2:
        out["roc_auc"] = metrics.roc_auc_score(y, p64[:, 1])
    elif len(present) == k:
        out["roc_auc"] = metrics.roc_auc_score(y, p64, multi_class="ovr", average="macro",
                                               labels=labels)
    else:
        # sklearn's OvR refuses a class without positives; evaluate() averages the classes that
        # have an AUC, i.e. sklearn's per-class binary AUCs over those classes.
        defined = [a for a in per_class_auc if a is not None]
        out["roc_auc"] = float(np.mean(defined))
    # ROC curve of class 0 (all points, as evaluate keeps them); sklearn 1.2 starts at max+1
    # where evaluate starts at inf, so only fpr and tpr are compared.
    fpr, tpr, _ = metrics.roc_curve(y == 0, p64[:, 0], drop_intermediate=False)
    out["roc_class0_fpr"] = fpr.tolist()
    out["roc_class0_tpr"] = tpr.tolist()
    return out


def main():
    rng = np.random.default_rng(30)
    cases = []
    # binary, 11 positives of 40, ties in the scores
    y = np.array([1] * 11 + [0] * 29)
    rng.shuffle(y)
    cases.append(case("binary_unequal", y, probabilities(rng, y, 2, 1.5, 0.05),
                      "binary, 11 positives of 40, scores on a 0.05 grid (ties)"))
    # four classes of sizes 4, 9, 15, 22
    y = np.repeat(np.arange(4), [4, 9, 15, 22])
    rng.shuffle(y)
    cases.append(case("multiclass_unequal", y, probabilities(rng, y, 4, 2.0, 0.02),
                      "4 classes of 4, 9, 15 and 22 examples; OvR macro ROC-AUC"))
    # three classes, class 2 never predicted
    y = np.repeat(np.arange(3), [7, 12, 5])
    rng.shuffle(y)
    cases.append(case("absent_from_predictions", y, probabilities(rng, y, 3, 1.0, 0.01, never=2),
                      "3 classes of 7, 12 and 5 examples; class 2 is never predicted"))
    # four classes, class 3 predicted but never a label: its AUC is undefined
    y = np.repeat(np.arange(3), [3, 10, 17])
    rng.shuffle(y)
    p = probabilities(rng, np.where(rng.random(len(y)) < 0.2, 3, y), 4, 2.0, 0.02)
    cases.append(case("absent_from_labels", y, p,
                      "4 classes, class 3 has no labels but is predicted; macro AUC over 3"))
    doc = {
        "generator": "scripts/gen_metric_fixtures.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(OUT), "with sklearn", sklearn.__version__)


if __name__ == "__main__":
    main()
