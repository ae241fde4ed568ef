#!/usr/bin/python3
"""Where who-speaks errors come from on the demo corpus (bench/results/2026-12-08-cpu-who-speaks-breakdown.md).

chunks PRED_DIR: reads `hptrain predict` CSVs of the demo's test scenes and labels each 3-s chunk
from the manifest by the rule `prepare` applies (README, "Background classes": a character heard
for 0.6 s or more names the chunk, the one heard longest when two are; otherwise the majority
with half the chunk covered, else the chunk is dropped), then gives the accuracy by scene type,
by the labelled character's seconds of speech and by whether another character speaks too.

turns OUT_DIR [--scenes dialog|all] [--min-s S]: writes cast.csv (turns of the train split) and
test.csv (turns of the test split) for `hptrain enroll` and `hptrain evaluate-cast`: whole turns
of one speaker whose boundaries the manifest gives, so a run's embedding is measured without
the fixed chunking.

Standard library only; the demo corpus must be built (hptrain prepare --dataset datasets/demo/dataset.toml).
"""
import argparse
import collections
import csv
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "datasets", "demo", "audio")
CHUNK_S = 3.0
MIN_FOREGROUND_S = 0.2 * CHUNK_S  # dataset.toml: min_foreground 0.2 (the default)
MIN_COVERAGE_S = 0.5 * CHUNK_S  # dataset.toml: min_coverage 0.5
EPS = 1e-9


def manifest_rows():
    with open(os.path.join(ROOT, "manifest.csv")) as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def chunk_label(cover):
    """The chunk's character by prepare's rule, or None when the chunk is dropped."""
    foreground = {c: s for c, s in cover.items() if c != "none" and s >= MIN_FOREGROUND_S - EPS}
    if foreground:
        return max(foreground, key=foreground.get)
    cls, seconds = max(cover.items(), key=lambda kv: kv[1])
    return cls if seconds >= MIN_COVERAGE_S - EPS else None


def chunks(pred_dir):
    scenes = collections.defaultdict(list)
    for r in manifest_rows():
        if r["split"] == "test":
            scenes[r["path"]].append((float(r["start"]), float(r["end"]), r["character"], r["scene"]))
    groups = collections.defaultdict(lambda: collections.defaultdict(list))
    n = right = 0
    for path, rows in sorted(scenes.items()):
        name = os.path.splitext(os.path.basename(path))[0]
        with open(os.path.join(pred_dir, name + ".csv")) as f:
            for p in csv.DictReader(f):
                start = float(p["start_s"])
                end = start + float(p["duration_s"])
                cover = collections.Counter()
                for a, b, character, _ in rows:
                    cover[character] += max(0.0, min(b, end) - max(a, start))
                label = chunk_label(cover)
                if label is None:
                    continue
                ok = p["character"] == label
                n += 1
                right += ok
                speech = cover[label] if label != "none" else 0.0
                others = sum(s for c, s in cover.items() if c not in ("none", label))
                keys = {
                    "scene": rows[0][3],
                    "speech of the labelled character (s)": "none" if label == "none"
                    else "0.6-1.2" if speech < 1.2 else "1.2-2" if speech < 2 else "2-3",
                    "another character speaks 0.3 s or more": str(others >= 0.3),
                    "scene, speech": rows[0][3] + (", none" if label == "none"
                                                   else ", under 1.5 s" if speech < 1.5 else ", 1.5 s or more"),
                }
                for k, v in keys.items():
                    groups[k][v].append(ok)
    print(f"{pred_dir}: {n} chunks, accuracy {right / n:.3f}")
    for k, g in groups.items():
        print(f"| {k} | chunks | accuracy |\n|---|---:|---:|")
        for v in sorted(g):
            print(f"| {v} | {len(g[v])} | {sum(g[v]) / len(g[v]):.3f} |")


def turns(out_dir, scenes, min_s):
    os.makedirs(out_dir, exist_ok=True)
    rows = manifest_rows()
    for split, name, header in (("train", "cast.csv", "path,start,end,character"),
                                ("test", "test.csv", "path,start,end,character,voice")):
        picked = [r for r in rows if r["split"] == split and r["character"] != "none"
                  and (scenes == "all" or r["scene"] == scenes)
                  and float(r["end"]) - float(r["start"]) >= min_s]
        with open(os.path.join(out_dir, name), "w") as f:
            f.write(header + "\n")
            for r in picked:
                line = f"{os.path.abspath(os.path.join(ROOT, r['path']))},{r['start']},{r['end']},{r['character']}"
                f.write(line + (f",{r['character']}" if split == "test" else "") + "\n")
        print(f"{name}: {len(picked)} turns", dict(sorted(collections.Counter(r["character"] for r in picked).items())))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("chunks")
    c.add_argument("pred_dir")
    t = sub.add_parser("turns")
    t.add_argument("out_dir")
    t.add_argument("--scenes", choices=["dialog", "action", "emotional", "all"], default="all")
    t.add_argument("--min-s", type=float, default=2.0)
    args = parser.parse_args()
    if args.command == "chunks":
        chunks(args.pred_dir)
    else:
        turns(args.out_dir, args.scenes, args.min_s)


if __name__ == "__main__":
    main()
