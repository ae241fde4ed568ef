"""scripts/librispeech_dataset.py's speaker-disjoint mode (--hold-out): the held-out voices are
nowhere in the dataset, enrolment and test lines of one utterance meet at its middle and never
overlap, and the draw is the seed's. On silent files of known lengths (no corpus needed)."""
import csv
import importlib.util
import os
import random
import subprocess
import sys

import numpy as np
import soundfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "librispeech_dataset.py")

spec = importlib.util.spec_from_file_location("librispeech_dataset", SCRIPT)
lib = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lib)


def durations(n=30, seed=0):
    rng = random.Random(seed)
    return {f"{100 + i}-7-0000.flac": round(rng.uniform(2.0, 17.0), 4) for i in range(n)}


def test_held_out_voices_are_split_at_the_middle_and_left_out_of_training():
    d = durations()
    eligible = {f for f, s in d.items() if s >= 8.0}
    train, cast, test = lib.hold_out_speakers(d, 8, 3, seed=5, min_s=8.0)
    held = {r[0] for r in test}
    assert len(held) == 8 and held <= eligible
    assert set(train) == set(d) - held
    strangers = {r[0] for r in test if r[3] == "unknown"}
    assert len(strangers) == 3 and {r[0] for r in cast} == held - strangers
    by_file = {}
    for r in test:
        assert r[4] == r[0].split("-")[0]  # voice
        assert r[3] in ("unknown", r[4])
        by_file.setdefault(r[0], []).append((float(r[1]), float(r[2])))
    for f, lines in by_file.items():
        (a0, a1), (b0, b1) = sorted(lines)
        mid = round(int(d[f] * 1000) / 2000, 3)
        # two test lines: the second half cut in two, ending inside the file
        assert a0 == mid and a1 == b0 and b1 <= d[f] and b1 > d[f] - 0.001
        assert abs((a1 - a0) - (b1 - b0)) <= 0.002
    for f, start, end, spk in cast:
        assert spk == f.split("-")[0] and float(start) == 0
        assert float(end) == min(s for s, _ in by_file[f])  # enrolment ends where tests start
    # the seed decides the draw, and another seed draws another set
    assert lib.hold_out_speakers(d, 8, 3, seed=5, min_s=8.0) == (train, cast, test)
    assert {r[0] for r in lib.hold_out_speakers(d, 8, 3, seed=6, min_s=8.0)[2]} != held


def test_manifest_has_no_held_out_speaker(tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    d = {"11-1-0000.flac": 9.0, "12-1-0000.flac": 10.0, "13-1-0000.flac": 3.0,
         "14-1-0000.flac": 12.5, "15-1-0000.flac": 8.5}
    for f, s in d.items():
        soundfile.write(audio / f, np.zeros(int(s * 16000), np.float32), 16000)
    out = tmp_path / "ds"
    subprocess.run([sys.executable, SCRIPT, str(audio), str(out), "--hold-out", "3",
                    "--unknown", "1", "--seed", "2"], check=True, capture_output=True)
    read = lambda name: list(csv.DictReader(open(out / name)))
    manifest, cast, test = read("manifest.csv"), read("cast.csv"), read("test.csv")
    held = {os.path.basename(r["path"]) for r in test}
    assert len(held) == 3 and "13-1-0000.flac" not in held  # 3 s: too short to hold out
    assert {r["path"] for r in manifest} == set(d) - held
    assert len(cast) == 2 and len(test) == 6
    assert all(os.path.isabs(r["path"]) for r in cast + test)
    assert sum(r["character"] == "unknown" for r in test) == 2
    assert "Left out" in (out / "dataset.toml").read_text()
