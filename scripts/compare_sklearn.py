#!/usr/bin/python3
"""Compare hptrain's SVM and random forest with scikit-learn's SVC and RandomForestClassifier.

Same features, same split, same hyper-parameters; prints accuracy, macro-F1 and training time
side by side (Markdown table). Ours runs through `hptrain fit-tabular` (its own fit_s, which
excludes process start and file reading; scikit-learn's time is its fit() call alone).

Datasets: scikit-learn's bundled digits, breast_cancer and wine (no download), a synthetic
make_classification set for timing, and the demo corpus's pooled `stats` features for each
task when shards exist (datasets/demo/shards/<split>-*.h5: `stats` [N, D], `labels/<task>` [N]).

Usage: /usr/bin/python3 scripts/compare_sklearn.py [--hptrain build/hptrain] [--threads 2]
       [--datasets digits,breast_cancer,wine,synthetic,demo] [--models svm,rf] [--synthetic-n 10000]
       [--synthetic-features 40] [--synthetic-classes 4] [--device auto|cpu|cuda]
       [--only ours|sklearn] [--export DIR] [--data DIR] [--times FILE] [--compare A B]
Needs Debian's python3-sklearn (1.2), numpy and h5py; `--only ours --data DIR` needs neither
scikit-learn nor h5py.

GPU timing against scikit-learn (targets: SVM >= 20x, forest >= 10x scikit-learn's CPU time,
accuracy within 1 point), the two sides on two machines, on the same files:

  # here (CPU, scikit-learn): export the split into build-cmp/ (git-ignored), time scikit-learn
  /usr/bin/python3 scripts/compare_sklearn.py --datasets synthetic --synthetic-n 100000 \
      --synthetic-features 150 --synthetic-classes 3 --rf-seeds 1 --svm-probability false \
      --only sklearn --export build-cmp --times sklearn.json
  # on the GPU machine: what scripts/gpu_check.sh baselines runs. build-cmp/ (60 MB) and
  # .sysroot/ (50 MB) exceed one call's 64 MiB together, so there the same command makes the
  # files with that machine's scikit-learn (make_classification and train_test_split with
  # fixed seeds), and gpu_check.sh prints their checksums to compare with the ones made here
  python3 scripts/compare_sklearn.py --datasets synthetic --synthetic-n 100000 \
      --synthetic-features 150 --synthetic-classes 3 --export build-cmp \
      --hptrain build-gpu/hptrain --rf-seeds 1 --svm-probability false --only ours \
      --device cuda --times ours.json
  # anywhere: the side-by-side table with the ratio (scikit-learn's forest side, measured on
  # this project's machine: bench/results/2026-11-26-sklearn-100k-rf.json)
  python3 scripts/compare_sklearn.py --compare sklearn.json ours.json

HP_BENCH_LD_LIBRARY_PATH, when set, becomes the hptrain subprocess's LD_LIBRARY_PATH (python
itself runs without the carried libraries).

Without --only both sides run in one process and the table is printed directly (`--device cuda`
when this machine has the GPU and scikit-learn). Times are each side's fit alone.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Hyper-parameters shared by both sides: (ours as --set key=value, sklearn constructor).
SVM_PARAMS = {"kernel": "rbf", "C": 10.0, "gamma": "scale", "tol": 1e-3, "probability": True}
RF_PARAMS = {"n_estimators": 100, "criterion": "gini", "max_features": "sqrt", "bootstrap": True}


def sklearn_sets(synthetic_n, synthetic_features, synthetic_classes):
    import numpy as np
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    out = {}
    for name, loader in (("digits", datasets.load_digits), ("breast_cancer",
                                                           datasets.load_breast_cancer),
                         ("wine", datasets.load_wine)):
        X, y = loader(return_X_y=True)
        out[name] = train_test_split(X.astype(np.float32), y, test_size=0.25, random_state=0,
                                     stratify=y)
    X, y = datasets.make_classification(n_samples=synthetic_n, n_features=synthetic_features,
                                        n_informative=20, n_redundant=10,
                                        n_classes=synthetic_classes, class_sep=1.0,
                                        random_state=0)
    out["synthetic"] = train_test_split(X.astype(np.float32), y, test_size=0.25, random_state=0,
                                        stratify=y)
    return out


def demo_sets():
    """{demo/<task>: (Xtr, Xte, ytr, yte)} from the shards, or {} with a note when absent."""
    import numpy as np
    import h5py
    shards = os.path.join(ROOT, "datasets", "demo", "shards")

    def load(split):
        files = sorted(glob.glob(os.path.join(shards, split + "-*.h5")))
        if not files:
            return None, None
        xs, labels = [], {}
        for f in files:
            with h5py.File(f, "r") as h:
                xs.append(np.asarray(h["stats"], dtype=np.float32).reshape(len(h["stats"]), -1))
                for task in h["labels"]:
                    labels.setdefault(task, []).append(np.asarray(h["labels"][task]))
        return np.concatenate(xs), {t: np.concatenate(v) for t, v in labels.items()}

    Xtr, ltr = load("train")
    Xte, lte = load("test")
    if Xtr is None or Xte is None:
        print(f"note: no demo shards under {shards}; run `hptrain prepare --dataset "
              "datasets/demo/dataset.toml` to include the demo corpus", file=sys.stderr)
        return {}
    return {f"demo/{t}": (Xtr, Xte, ltr[t], lte[t]) for t in sorted(ltr) if t in lte}


def write_xy(path, X, y):
    import numpy as np
    import h5py
    with h5py.File(path, "w") as h:
        h["X"] = np.ascontiguousarray(X, dtype=np.float32)
        h["y"] = np.asarray(y, dtype=np.int32)


def read_xy(path):
    import numpy as np
    import h5py
    with h5py.File(path, "r") as h:
        return np.asarray(h["X"], dtype=np.float32), np.asarray(h["y"])


def ours(hptrain, model, params, threads, seed, train, test, device):
    sets = ["--set", f"device={device}"] if device else []
    for k, v in params.items():
        v = str(v).lower() if isinstance(v, bool) else v
        sets += ["--set", f"{k}={v}"]
    cmd = [hptrain, "--log-level", "warn", "fit-tabular", "--train", train, "--test", test,
           "--model", model, "--set", f"n_threads={threads}", "--set", f"seed={seed}"] + sets
    env = dict(os.environ)
    if os.environ.get("HP_BENCH_LD_LIBRARY_PATH"):  # the GPU machine's carried libraries
        env["LD_LIBRARY_PATH"] = os.environ["HP_BENCH_LD_LIBRARY_PATH"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}")
    j = json.loads(r.stdout)
    return j["accuracy"], j["macro_f1"], j["fit_s"]


def theirs(model, threads, seed, Xtr, Xte, ytr, yte):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    if model == "svm":
        # ours standardises inside the model; the same happens here in the timed pipeline
        clf = make_pipeline(StandardScaler(), SVC(random_state=seed, **SVM_PARAMS))
    else:
        clf = RandomForestClassifier(n_jobs=threads, random_state=seed, **RF_PARAMS)
    t0 = time.perf_counter()
    clf.fit(Xtr, ytr)
    fit_s = time.perf_counter() - t0
    pred = clf.predict(Xte)
    return accuracy_score(yte, pred), f1_score(yte, pred, average="macro"), fit_s


def mean_rows(rows):
    """Column means of equal-length tuples (numpy stays out of `--only ours`)."""
    return [sum(col) / len(rows) for col in zip(*rows)]


def split_files(folder):
    """{name: (train.h5, test.h5)} of a folder written by --export (name/ -> '/' in names)."""
    out = {}
    for train in sorted(glob.glob(os.path.join(folder, "**", "train.h5"), recursive=True)):
        name = os.path.relpath(os.path.dirname(train), folder)
        out[name] = (train, os.path.join(os.path.dirname(train), "test.h5"))
    return out


def print_table(rows):
    """rows: {(dataset, model): {"sklearn": {...}, "ours": {...}}} with both sides present."""
    print("| dataset | model | train x d | classes | acc sklearn | acc ours | diff pp "
          "| F1 sklearn | F1 ours | fit s sklearn | fit s ours (device) | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    worst = 0.0
    for (name, model), r in rows.items():
        s, o = r["sklearn"], r["ours"]
        diff = 100 * (o["accuracy"] - s["accuracy"])
        worst = min(worst, diff)
        print(f"| {name} | {model} | {s['shape']} | {s['classes']} | {s['accuracy']:.4f} | "
              f"{o['accuracy']:.4f} | {diff:+.2f} | {s['macro_f1']:.4f} | {o['macro_f1']:.4f} | "
              f"{s['fit_s']:.3f} | {o['fit_s']:.3f} ({o['device']}) | "
              f"{s['fit_s'] / o['fit_s']:.1f}x |", flush=True)
    print(f"\nlargest accuracy deficit vs scikit-learn: {min(0.0, worst):+.2f} pp")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hptrain", default=os.path.join(ROOT, "build", "hptrain"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--datasets", default="digits,breast_cancer,wine,synthetic,demo")
    ap.add_argument("--models", default="svm,rf", help="which of svm, rf to compare")
    ap.add_argument("--synthetic-n", type=int, default=10000)
    ap.add_argument("--synthetic-features", type=int, default=40)
    ap.add_argument("--synthetic-classes", type=int, default=4)
    ap.add_argument("--rf-seeds", type=int, default=20,
                    help="forests are compared by their mean over this many seeds (a forest's "
                    "accuracy moves by about a point between seeds on these test sets)")
    ap.add_argument("--device", help="ours: the models' device key (auto, cpu, cuda, "
                    "cuda:N); not given: the models' default, auto")
    ap.add_argument("--only", choices=["ours", "sklearn"], help="time one side only")
    ap.add_argument("--export", help="keep the splits as DIR/<dataset>/{train,test}.h5")
    ap.add_argument("--data", help="read the splits from a folder written by --export")
    ap.add_argument("--times", help="write each side's results as JSON to this file")
    ap.add_argument("--compare", nargs=2, metavar=("SKLEARN_JSON", "OURS_JSON"),
                    help="print the table from two --times files and exit")
    ap.add_argument("--svm-probability", choices=["true", "false"], default="true",
                    help="false: both SVMs skip the 5-fold Platt cross-validation (one fit "
                    "instead of six; what the 100,000-row timing uses)")
    args = ap.parse_args()
    SVM_PARAMS["probability"] = args.svm_probability == "true"

    if args.compare:
        sides = [json.load(open(f)) for f in args.compare]
        rows = {}
        for key in sides[0]:
            if key in sides[1] and "sklearn" in sides[0][key] and "ours" in sides[1][key]:
                rows[tuple(key.split(" "))] = {"sklearn": sides[0][key]["sklearn"],
                                               "ours": sides[1][key]["ours"]}
        print_table(rows)
        return

    wanted = args.datasets.split(",")
    arrays = {}
    if args.data is None:
        arrays = {k: v for k, v in sklearn_sets(args.synthetic_n, args.synthetic_features,
                                                 args.synthetic_classes).items() if k in wanted}
        if "demo" in wanted:
            arrays.update(demo_sets())
    if args.only != "ours":
        import sklearn
        print(f"scikit-learn {sklearn.__version__}, {args.threads} threads (RF n_jobs; SVC is "
              f"single-threaded in LIBSVM)")
    if args.only != "sklearn":
        print(f"hptrain {args.hptrain}, device {args.device or 'auto'}")
    print(f"SVM: {SVM_PARAMS}, standardised; RF: {RF_PARAMS}, mean of seeds "
          f"0..{args.rf_seeds - 1}\n", flush=True)

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.data or args.export or tmp
        for name, (Xtr, Xte, ytr, yte) in arrays.items():
            os.makedirs(os.path.join(folder, name), exist_ok=True)
            write_xy(os.path.join(folder, name, "train.h5"), Xtr, ytr)
            write_xy(os.path.join(folder, name, "test.h5"), Xte, yte)
        for name, (train, test) in split_files(folder).items():
            if args.data is None and name not in arrays:
                continue
            for model, params in (("svm", SVM_PARAMS), ("rf", RF_PARAMS)):
                if model not in args.models.split(","):
                    continue
                seeds = range(args.rf_seeds if model == "rf" else 1)
                r = results.setdefault(f"{name} {model}", {})
                if args.only != "ours":
                    if name not in arrays:  # --data: the exported files
                        (Xtr, ytr), (Xte, yte) = read_xy(train), read_xy(test)
                        arrays[name] = (Xtr, Xte, ytr, yte)
                    Xtr, Xte, ytr, yte = arrays[name]
                    a, f, t = mean_rows([theirs(model, args.threads, s, Xtr, Xte, ytr, yte)
                                       for s in seeds])
                    r["sklearn"] = {"accuracy": a, "macro_f1": f, "fit_s": t,
                                    "shape": f"{len(ytr)} x {Xtr.shape[1]}",
                                    "classes": len(set(ytr.tolist()))}
                if args.only != "sklearn":
                    a, f, t = mean_rows([ours(args.hptrain, model, params, args.threads, s, train,
                                            test, args.device) for s in seeds])
                    r["ours"] = {"accuracy": a, "macro_f1": f, "fit_s": t,
                                 "device": args.device or "auto"}
                print(f"{name} {model}: " + ", ".join(
                    f"{side} fit {v['fit_s']:.3f} s, accuracy {v['accuracy']:.4f}"
                    for side, v in r.items()), file=sys.stderr, flush=True)
    if args.times:
        with open(args.times, "w") as fh:
            json.dump(results, fh, indent=1)
    if args.only is None:
        print_table({tuple(k.split(" ")): v for k, v in results.items()})


if __name__ == "__main__":
    main()
