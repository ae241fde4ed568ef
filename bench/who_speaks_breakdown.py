#!/usr/bin/python3
"""Where who-speaks errors come from on the demo corpus (bench/results/2026-12-08-cpu-who-speaks-breakdown.md).

chunks PREDICTIONS: reads a demo run's predictions.csv (the run folder's, or `hptrain evaluate`'s)
and gives the accuracy of who speaks by scene type, by the labelled character's seconds of
speech in the chunk and by whether another character speaks too, the seconds taken from the
manifest. As a check, each chunk's label is derived again from the manifest by the rule
`prepare` applies (README, "Background classes": a character heard for 0.6 s or more names the
chunk, the one heard longest when two are; otherwise the majority with half the chunk covered)
and the chunks where it differs from the shards' are counted.

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
CHUNK_S = 3.0  # dataset.toml: chunk_s; a scene's last chunk is shorter (last_chunk = "pad")
MIN_FOREGROUND = 0.2  # dataset.toml: min_foreground (the default)
MIN_COVERAGE = 0.5  # dataset.toml: min_coverage
EPS = 1e-9


def manifest_rows():
    with open(os.path.join(ROOT, "manifest.csv")) as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def chunk_label(cover, seconds):
    """The character of a chunk of `seconds` by prepare's rule, or None when it is dropped."""
    foreground = {c: s for c, s in cover.items() if c != "none" and s >= MIN_FOREGROUND * seconds - EPS}
    if foreground:
        return max(foreground, key=foreground.get)
    cls, most = max(cover.items(), key=lambda kv: kv[1])
    return cls if most >= MIN_COVERAGE * seconds - EPS else None


def chunks(predictions):
    scenes = collections.defaultdict(list)
    for r in manifest_rows():
        scenes[r["path"]].append((float(r["start"]), float(r["end"]), r["character"], r["scene"]))
    groups = collections.defaultdict(lambda: collections.defaultdict(list))
    n = right = disagree = 0
    with open(predictions) as f:
        for p in csv.DictReader(f):
            rows = scenes[p["source"]]
            start = float(p["offset_s"])
            end = min(start + CHUNK_S, max(b for _, b, _, _ in rows))
            cover = collections.Counter()
            for a, b, character, _ in rows:
                cover[character] += max(0.0, min(b, end) - max(a, start))
            label = p["character_true"]
            disagree += chunk_label(cover, end - start) != label
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
    print(f"{predictions}: {n} chunks, accuracy {right / n:.3f}; "
          f"labels the manifest's rule gives otherwise: {disagree}")
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
    c.add_argument("predictions")
    t = sub.add_parser("turns")
    t.add_argument("out_dir")
    t.add_argument("--scenes", choices=["dialog", "action", "emotional", "all"], default="all")
    t.add_argument("--min-s", type=float, default=2.0)
    args = parser.parse_args()
    if args.command == "chunks":
        chunks(args.predictions)
    else:
        turns(args.out_dir, args.scenes, args.min_s)


if __name__ == "__main__":
    main()
