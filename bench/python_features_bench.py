"""hptrain.features from Python against librosa 0.11 on one 3-second 16 kHz clip, the speech
preset's full feature set, one core (issue 29's target: at least 20x).

    scripts/bench_python.sh        # makes build-venv/librosa, pins CPU 0, runs this

librosa's side is scripts/features_librosa_h5py.py's features(): every feature from y as users
call them, with the pooled stats. hptrain's is hptrain.features(y, threads=1), which returns the
same set (compared here before timing). Each side: warm-up, then `--rounds` rounds of as many
calls as fit in `--seconds`; the best round's time per call (CPU time of this process, which a
shared machine disturbs least; wall time beside it) is reported.
"""
import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))


def per_call(fn, seconds, rounds):
    fn()
    best_cpu = best_wall = float("inf")
    for _ in range(rounds):
        n, c0, w0 = 0, time.process_time(), time.perf_counter()
        while time.perf_counter() - w0 < seconds:
            fn()
            n += 1
        best_cpu = min(best_cpu, (time.process_time() - c0) / n)
        best_wall = min(best_wall, (time.perf_counter() - w0) / n)
    return best_cpu, best_wall


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", default=os.path.join(ROOT, "tests", "data", "reference",
                                                   "music_wesnoth_16k.wav"))
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()

    import hptrain
    import librosa
    from features_librosa_h5py import features as librosa_features

    y = hptrain.load(a.clip)[:48000]
    assert len(y) == 48000, len(y)
    ours = hptrain.features(y, threads=1)
    theirs = librosa_features(y)
    assert sorted(ours) == sorted(theirs), (sorted(ours), sorted(theirs))
    for k in ("log_mel", "mfcc", "chroma_stft", "spectral_contrast"):
        d = np.abs(ours[k] - theirs[k]).max()
        print(f"  agreement {k:18s} max |hptrain - librosa| = {d:.2e}")
    h_cpu, h_wall = per_call(lambda: hptrain.features(y, threads=1), a.seconds, a.rounds)
    l_cpu, l_wall = per_call(lambda: librosa_features(y), a.seconds, a.rounds)
    print(f"librosa {librosa.__version__}, numpy {np.__version__}, hptrain {hptrain.__version__}; "
          f"3 s clip at 16 kHz, speech preset, full set with stats, best of {a.rounds}")
    print(f"{'':10s} {'CPU ms/call':>12s} {'wall ms/call':>13s} {'audio s/s (CPU)':>16s}")
    for name, c, w in (("hptrain", h_cpu, h_wall), ("librosa", l_cpu, l_wall)):
        print(f"{name:10s} {c * 1e3:12.3f} {w * 1e3:13.3f} {3.0 / c:16.0f}")
    print(f"ratio (librosa / hptrain): CPU {l_cpu / h_cpu:.1f}x, wall {l_wall / h_wall:.1f}x")


if __name__ == "__main__":
    main()
