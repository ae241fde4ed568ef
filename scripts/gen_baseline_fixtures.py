#!/usr/bin/python3
"""Writes tests/data/baselines_sklearn.json: a small tabular problem and what scikit-learn's SVC
and RandomForestClassifier make of it, for tests/baselines/baselines_sklearn_test.cpp (CI reads
the JSON, never sklearn).

Run once with Debian's python3-sklearn (scripts/setup.sh --compare installs it):
    /usr/bin/python3 scripts/gen_baseline_fixtures.py

The parts that depend on a random stream (LIBSVM's probability folds, the forest's bootstrap and
feature draws) cannot match hptrain's own streams value for value, so the file also holds their
spread over random_state 0..19: the tests accept hptrain inside that spread (plus a stated margin).
The deterministic parts (the SVM's support vectors, dual coefficients, intercepts, decision
values; a single tree grown on every feature without bootstrap) are compared tightly.
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                   "baselines_sklearn.json")
SEEDS = range(20)


def problem(rng, sizes, centres, scales, offsets):
    """Gaussian blobs of the given class sizes, with columns on very different scales (so
    standardisation matters), rounded to 3 significant decimals as float32."""
    X, y = [], []
    for c, n in enumerate(sizes):
        X.append(centres[c] + rng.standard_normal((n, centres.shape[1])))
        y += [c] * n
    X = np.vstack(X) * scales + offsets
    y = np.array(y)
    order = rng.permutation(len(y))
    return np.round(X[order], 3).astype(np.float32), y[order]


def rows(a):
    return [[float(v) for v in r] for r in np.atleast_2d(a)]


def main():
    rng = np.random.default_rng(30)
    d, k = 4, 3
    centres = rng.standard_normal((k, d)) * 1.2
    scales = np.array([1.0, 10.0, 0.1, 3.0])
    offsets = np.array([0.0, 50.0, -2.0, 5.0])
    Xtr, ytr = problem(rng, [20, 50, 80], centres, scales, offsets)
    Xte, yte = problem(rng, [30, 30, 30], centres, scales, offsets)
    doc = {
        "generator": "scripts/gen_baseline_fixtures.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "classes": k,
        "train_X": rows(Xtr), "train_y": [int(v) for v in ytr],
        "test_X": rows(Xte), "test_y": [int(v) for v in yte],
    }

    # SVM: hptrain standardises inside the classifier; sklearn gets StandardScaler first.
    scaler = StandardScaler().fit(Xtr.astype(np.float64))
    Ztr = scaler.transform(Xtr.astype(np.float64))
    Zte = scaler.transform(Xte.astype(np.float64))

    def svc(seed):
        return SVC(kernel="rbf", C=1.0, gamma="scale", class_weight="balanced", probability=True,
                   tol=1e-6, random_state=seed).fit(Ztr, ytr)

    fits = [svc(s) for s in SEEDS]
    m = fits[0]
    probs = np.array([f.predict_proba(Zte) for f in fits])
    prob_a = np.array([f.probA_ for f in fits])
    prob_b = np.array([f.probB_ for f in fits])
    doc["svm"] = {
        "params": "SVC(kernel='rbf', C=1, gamma='scale', class_weight='balanced', "
                  "probability=True, tol=1e-6) after StandardScaler",
        "gamma": 1.0 / (d * Ztr.var()),
        "support": [int(v) for v in m.support_],
        "n_support": [int(v) for v in m.n_support_],
        "dual_coef": rows(m.dual_coef_),
        "intercept": [float(v) for v in m.intercept_],
        "decision_ovo": rows(SVC(kernel="rbf", C=1.0, gamma="scale", class_weight="balanced",
                                 tol=1e-6, decision_function_shape="ovo")
                             .fit(Ztr, ytr).decision_function(Zte)),
        "predict": [int(v) for v in m.predict(Zte)],
        "accuracy": float(np.mean(m.predict(Zte) == yte)),
        "probA": [float(v) for v in prob_a[0]],
        "probB": [float(v) for v in prob_b[0]],
        "probA_min": [float(v) for v in prob_a.min(0)],
        "probA_max": [float(v) for v in prob_a.max(0)],
        "probB_min": [float(v) for v in prob_b.min(0)],
        "probB_max": [float(v) for v in prob_b.max(0)],
        "predict_proba": rows(probs[0]),
        # largest |p(seed s) - p(seed 0)| over seeds and entries: the spread the folds cause
        "predict_proba_seed_spread": float(np.abs(probs - probs[0]).max()),
        "proba_accuracy_min": float(min(np.mean(p.argmax(1) == yte) for p in probs)),
    }

    # Forest, sklearn's defaults but 50 trees: accuracy and probabilities over seeds.
    forests = [RandomForestClassifier(n_estimators=50, random_state=s).fit(Xtr, ytr) for s in SEEDS]
    accs = [float(np.mean(f.predict(Xte) == yte)) for f in forests]
    fprobs = np.array([f.predict_proba(Xte) for f in forests])
    doc["forest"] = {
        "params": "RandomForestClassifier(n_estimators=50), random_state 0..19",
        "accuracy_min": min(accs), "accuracy_max": max(accs),
        "predict_proba_mean": rows(fprobs.mean(0)),
        # largest |p(seed s) - mean over seeds|: how far one forest strays from the average
        "predict_proba_seed_spread": float(np.abs(fprobs - fprobs.mean(0)).max()),
    }
    # One tree on every feature without bootstrap: no randomness left but ties between
    # features, which min_samples_leaf = 5 and max_depth = 4 keep away on this data.
    tree = RandomForestClassifier(n_estimators=1, bootstrap=False, max_features=None,
                                  max_depth=4, min_samples_leaf=5, random_state=0).fit(Xtr, ytr)
    t = tree.estimators_[0].tree_
    doc["tree"] = {
        "params": "RandomForestClassifier(n_estimators=1, bootstrap=False, max_features=None, "
                  "max_depth=4, min_samples_leaf=5)",
        "n_nodes": int(t.node_count),
        "depth": int(t.max_depth),
        "feature_importances": [float(v) for v in tree.feature_importances_],
        "predict_proba": rows(tree.predict_proba(Xte)),
        "train_predict_proba": rows(tree.predict_proba(Xtr)),
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.normpath(OUT), "with sklearn", sklearn.__version__)
    print("svm acc", doc["svm"]["accuracy"], "probA", prob_a.min(0), prob_a.max(0),
          "probB", prob_b.min(0), prob_b.max(0), "proba spread",
          doc["svm"]["predict_proba_seed_spread"])
    print("forest acc", min(accs), max(accs), "spread", doc["forest"]["predict_proba_seed_spread"])
    print("tree nodes", t.node_count, "depth", t.max_depth, tree.feature_importances_)


if __name__ == "__main__":
    main()
