#!/usr/bin/python3
"""Writes tests/data/feature_options.h5: librosa 0.11.0's outputs for the feature options that
the presets leave at their defaults (HTK mel scale, mel norm None, MFCC lifter and norm None,
every delta mode, chroma norms, linear spectral contrast, reflect and edge padding), on a short
excerpt of a reference clip, for tests/features/options_test.cpp (CI reads the file only).

    /usr/bin/python3 scripts/gen_feature_options.py [--venv DIR]

librosa 0.11.0 is on PyPI only: the script makes a venv (default /tmp/hp-librosa-0.11-venv, with
Debian's numpy, scipy, numba, soundfile, h5py as system site packages, as
tests/data/reference/README.md lists them), installs librosa==0.11.0 into it with pip, and
runs itself again there. Every variant starts from the "speech" configuration of the reference
files; the group's attributes name the options changed and the librosa calls.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
OUT = os.path.join(ROOT, "tests", "data", "feature_options.h5")
SOURCE = os.path.join(ROOT, "tests", "data", "reference", "music_wesnoth_16k.speech.h5")
FIRST, COUNT = 8000, 4000  # samples 8000..11999 (0.25 s, 26 frames): edges are mid-music

# hptrain options changed from preset("speech"), by variant; the C++ test applies the same.
VARIANTS = {
    "htk_mel_norm_none": {"mel.htk": True, "mel.norm": None},
    "mfcc_lifter_22": {"mfcc.lifter": 22.0},
    "mfcc_norm_none": {"mfcc.norm": None},
    "delta_nearest": {"delta.mode": "nearest"},
    "delta_mirror": {"delta.mode": "mirror"},
    "delta_constant": {"delta.mode": "constant"},
    "delta_wrap": {"delta.mode": "wrap"},
    "chroma_norm_2": {"chroma.norm": 2.0, "chroma.tuning": 0.0},
    "chroma_norm_none": {"chroma.norm": None, "chroma.tuning": 0.0},
    "contrast_linear": {"contrast.linear": True},
    "pad_reflect": {"stft.pad_mode": "reflect", "rms.pad_mode": "reflect"},
    "pad_edge": {"stft.pad_mode": "edge", "rms.pad_mode": "edge"},
}


def ensure_librosa():
    try:
        import librosa  # noqa: F401
        if librosa.__version__ == "0.11.0":
            return
    except ImportError:
        pass
    venv = os.environ.get("HP_LIBROSA_VENV", "/tmp/hp-librosa-0.11-venv")
    if "--venv" in sys.argv:
        venv = sys.argv[sys.argv.index("--venv") + 1]
    py = os.path.join(venv, "bin", "python")
    if os.environ.get("HP_IN_VENV"):
        sys.exit("librosa 0.11.0 did not import inside " + venv)
    if not os.path.exists(py):
        subprocess.check_call(["/usr/bin/python3", "-m", "venv", "--system-site-packages", venv])
    subprocess.check_call([py, "-m", "pip", "install", "-q", "librosa==0.11.0"])
    env = dict(os.environ, HP_IN_VENV="1")
    os.execve(py, [py, os.path.abspath(__file__)] + sys.argv[1:], env)


def main():
    ensure_librosa()
    import h5py
    import librosa
    import numpy as np
    import scipy

    with h5py.File(SOURCE, "r") as f:
        y = f["y"][FIRST:FIRST + COUNT].astype(np.float32)
    sr = 16000
    base = dict(n_fft=512, hop_length=160, win_length=400, window="hann", center=True)

    def features(opts):
        pad = opts.get("stft.pad_mode", "constant")
        stft = dict(base, pad_mode=pad)
        mel_kw = dict(n_mels=64, fmin=0.0, fmax=8000.0, htk=opts.get("mel.htk", False),
                      norm=opts.get("mel.norm", "slaney"), power=2.0)
        out, calls = {}, {}
        out["stft_mag"] = np.abs(librosa.stft(y, **stft))
        calls["stft_mag"] = f"np.abs(librosa.stft(y, {stft}))"
        out["melspectrogram"] = librosa.feature.melspectrogram(y=y, sr=sr, **stft, **mel_kw)
        calls["melspectrogram"] = f"librosa.feature.melspectrogram(y=y, sr={sr}, {stft}, {mel_kw})"
        out["log_mel"] = librosa.power_to_db(out["melspectrogram"], ref=1.0, amin=1e-10,
                                             top_db=80.0)
        calls["log_mel"] = "librosa.power_to_db(melspectrogram, ref=1.0, amin=1e-10, top_db=80.0)"
        mfcc_kw = dict(n_mfcc=20, dct_type=2, norm=opts.get("mfcc.norm", "ortho"),
                       lifter=opts.get("mfcc.lifter", 0.0))
        out["mfcc"] = librosa.feature.mfcc(S=out["log_mel"], **mfcc_kw)
        calls["mfcc"] = f"librosa.feature.mfcc(S=log_mel, {mfcc_kw})"
        mode = opts.get("delta.mode", "interp")
        out["mfcc_delta"] = librosa.feature.delta(out["mfcc"], width=9, order=1, mode=mode)
        out["mfcc_delta2"] = librosa.feature.delta(out["mfcc"], width=9, order=2, mode=mode)
        calls["mfcc_delta"] = f"librosa.feature.delta(mfcc, width=9, order=1|2, mode={mode!r})"
        chroma_kw = dict(n_chroma=12, norm=opts.get("chroma.norm", np.inf),
                         tuning=opts.get("chroma.tuning", None))
        out["chroma_stft"] = librosa.feature.chroma_stft(y=y, sr=sr, **stft, **chroma_kw)
        calls["chroma_stft"] = f"librosa.feature.chroma_stft(y=y, sr={sr}, {stft}, {chroma_kw})"
        contrast_kw = dict(fmin=200.0, n_bands=6, quantile=0.02,
                           linear=opts.get("contrast.linear", False))
        out["spectral_contrast"] = librosa.feature.spectral_contrast(y=y, sr=sr, **stft,
                                                                     **contrast_kw)
        calls["spectral_contrast"] = (f"librosa.feature.spectral_contrast(y=y, sr={sr}, {stft}, "
                                      f"{contrast_kw})")
        rms_kw = dict(frame_length=512, hop_length=160, center=True,
                      pad_mode=opts.get("rms.pad_mode", "constant"))
        out["rms"] = librosa.feature.rms(y=y, **rms_kw)
        calls["rms"] = f"librosa.feature.rms(y=y, {rms_kw})"
        return out, calls

    # only the outputs an option can change are stored (and compared)
    affected = {
        "mel.htk": ["melspectrogram", "log_mel", "mfcc"],
        "mel.norm": ["melspectrogram", "log_mel", "mfcc"],
        "mfcc.lifter": ["mfcc", "mfcc_delta"],
        "mfcc.norm": ["mfcc"],
        "delta.mode": ["mfcc_delta", "mfcc_delta2"],
        "chroma.norm": ["chroma_stft"],
        "chroma.tuning": [],
        "contrast.linear": ["spectral_contrast"],
        "stft.pad_mode": ["stft_mag", "melspectrogram", "chroma_stft", "spectral_contrast"],
        "rms.pad_mode": ["rms"],
    }
    if os.path.exists(OUT):
        os.remove(OUT)
    with h5py.File(OUT, "w") as f:
        f.create_dataset("y", data=y)
        f.attrs["generator"] = "scripts/gen_feature_options.py"
        f.attrs["librosa_version"] = librosa.__version__
        f.attrs["numpy_version"] = np.__version__
        f.attrs["scipy_version"] = scipy.__version__
        f.attrs["python_version"] = sys.version.split()[0]
        f.attrs["source"] = f"{os.path.relpath(SOURCE, ROOT)}: y[{FIRST}:{FIRST + COUNT}]"
        f.attrs["base_config"] = "speech (tests/data/reference/README.md)"
        for name, opts in VARIANTS.items():
            out, calls = features(opts)
            g = f.create_group(name)
            g.attrs["options"] = json.dumps(opts)
            keep = sorted({d for k in opts for d in affected[k]})
            for d in keep:
                g.create_dataset(d, data=np.asarray(out[d], dtype=np.float32))
                g[d].attrs["librosa_call"] = calls.get(d, calls.get("mfcc_delta", ""))
            print(f"{name}: {', '.join(keep)}")
    print("wrote", os.path.relpath(OUT, ROOT), "with librosa", librosa.__version__,
          f"({os.path.getsize(OUT) // 1024} KiB)")


if __name__ == "__main__":
    main()
