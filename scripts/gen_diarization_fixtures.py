#!/usr/bin/env python3
"""Writes tests/data/diarization_pyannote.json: DER parts computed by pyannote.metrics on seeded
random reference/hypothesis turn sets, for tests/diarization/score_test.cpp (CI reads the JSON,
never pyannote).

pyannote.metrics is not a Debian package: run it from a venv,
    python3 -m venv --system-site-packages /tmp/pm && /tmp/pm/bin/pip install pyannote.metrics
    /tmp/pm/bin/python scripts/gen_diarization_fixtures.py
pyannote's `collar` is the no-score zone's whole width, md-eval's (and hptrain's) half of it, so
a case's `collar` c is scored by pyannote with collar=2c. Reference turns of one speaker never
touch (the two tools would then put a collar at the join or not).
"""
import json
import os
import random

from pyannote.core import Annotation, Segment, Timeline
import pyannote.metrics
from pyannote.metrics.diarization import DiarizationErrorRate

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                   "diarization_pyannote.json")


def random_turns(rng, n_speakers, length, prefix):
    turns = []
    for s in range(n_speakers):
        t = rng.uniform(0, 3)
        while t < length:
            d = round(rng.uniform(0.3, 4.0), 2)
            on = round(t, 2)
            turns.append([on, round(on + d, 2), "%s%d" % (prefix, s)])
            t = on + d + rng.uniform(0.2, 6.0)
    return turns


def annotation(turns):
    a = Annotation()
    for i, (on, off, spk) in enumerate(turns):
        a[Segment(on, off), i] = spk
    return a


def main():
    rng = random.Random(25)
    cases = []
    for i in range(40):
        length = rng.uniform(10, 60)
        ref = random_turns(rng, rng.randint(1, 4), length, "r")
        if i % 10 == 9:
            hyp = []
        elif i % 3 == 0:  # a noisy copy of the reference
            hyp = [[max(0.0, round(on + rng.uniform(-0.6, 0.6), 2)),
                    round(off + rng.uniform(-0.6, 0.6), 2),
                    "h%s" % spk if rng.random() > 0.15 else "hx"] for on, off, spk in ref]
            hyp = [t for t in hyp if t[1] > t[0] + 0.05]
        else:
            hyp = random_turns(rng, rng.randint(1, 5), length, "h")
        collar = [0.0, 0.25, 0.5][i % 3]
        skip = i % 4 == 1
        end = max([t[1] for t in ref + hyp] + [1.0]) + 1
        metric = DiarizationErrorRate(collar=2 * collar, skip_overlap=skip)
        # support(): a speaker's overlapping turns as one (md-eval merges them; pyannote would
        # count the speaker twice)
        d = metric(annotation(ref), annotation(hyp).support(), uem=Timeline([Segment(0, end)]),
                   detailed=True)
        cases.append({"name": "case%d" % i, "collar": collar, "skip_overlap": skip,
                      "ref": ref, "hyp": hyp, "total": d["total"],
                      "missed": d["missed detection"], "false_alarm": d["false alarm"],
                      "confusion": d["confusion"]})
    with open(OUT, "w") as f:
        json.dump({"generator": "pyannote.metrics " + pyannote.metrics.__version__,
                   "cases": cases}, f, indent=1)
        f.write("\n")
    print("wrote %d cases to %s" % (len(cases), OUT))


if __name__ == "__main__":
    main()
