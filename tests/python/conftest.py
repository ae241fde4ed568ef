"""pytest setup for the Python package: ctest (tests/CMakeLists.txt, test `python`) runs
`/usr/bin/python3 -m pytest tests/python` with PYTHONPATH=<build>/python and HP_HPTRAIN_BINARY
set to the hptrain program of the same build; by hand:

    PYTHONPATH=build-test/python HP_HPTRAIN_BINARY=build-test/hptrain python3 -m pytest tests/python
"""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data")


@pytest.fixture(scope="session")
def hptrain_binary():
    path = os.environ.get("HP_HPTRAIN_BINARY", os.path.join(ROOT, "build-test", "hptrain"))
    assert os.access(path, os.X_OK), f"{path}: not built (set HP_HPTRAIN_BINARY)"
    return path


@pytest.fixture(scope="session")
def run_hptrain(hptrain_binary):
    """Runs the program (check=True); its output on failure."""
    def run(*args, cwd=None):
        env = dict(os.environ, OMP_NUM_THREADS="1")
        p = subprocess.run([hptrain_binary, "--log-level", "warn", *map(str, args)], cwd=cwd,
                           env=env, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, f"hptrain {' '.join(map(str, args))}:\n{p.stdout}\n{p.stderr}"
        return p
    return run


def reference(name):
    return os.path.join(DATA, "reference", name)


# ---- a corpus small enough for a test (the Python twin of tests/train/tone_corpus.h) ---------

TONE_DATASET = """
audio_root = "audio"
manifest = "audio/manifest.csv"
output = "shards"

[tasks]
pitch = ["low", "high"]
loud = ["soft", "strong"]

[split]
train = 0.5
validation = 0.25
test = 0.25
seed = 3

[preprocess]
sr = 16000
trim = false
chunk_s = 1
chunk_hop_s = 1

[features]
store_audio = true
preset = "speech"
"""

# scripts/export_encoder.py's tiny wav2vec 2.0 (random weights), as tests/models/pretrained_test
TINY_ENCODER = os.path.join(DATA, "encoders", "tiny_wav2vec2.pt")

# [model] tables of tiny runs, one per type load_run knows
MODELS = {
    "cnn": 'type = "cnn"\nchannels = [4, 8]\ntime_pooling = "mean_std"\n',
    "lstm": 'type = "lstm"\nhidden_size = 8\nnum_layers = 2\npooling = "attention_stats"\n'
            'frame_stride = 2\n',
    "ecapa": 'type = "ecapa"\nchannels = [16, 16, 16, 16, 48]\nres2net_scale = 4\n'
             'embedding_dim = 12\nse_channels = 8\nattention_channels = 8\nloss = "aam"\n'
             'loss_task = "pitch"\n',
    "ge2e": 'type = "ge2e"\nhidden_size = 8\nnum_layers = 2\nembedding_dim = 6\n',
    "transformer": 'type = "transformer"\nlayers = 2\nd_model = 8\nheads = 2\nff_dim = 16\n'
                   'subsampling_channels = 4\npooling = "cls"\ndropout = 0.1\n',
    # the tiny wav2vec 2.0 export of tests/data/encoders (2 layers of 32), every layer weighted
    "pretrained": f'type = "pretrained"\nencoder = "{TINY_ENCODER}"\nlayers = "weighted"\n'
                  'pooling = "attentive_stats"\nattention_channels = 8\n',
    "svm": 'type = "svm"\nkernel = "rbf"\nprobability = true\n',
    "rf": 'type = "rf"\nn_estimators = 10\n',
}
INPUTS = {"cnn": "log_mel", "lstm": "mfcc", "ecapa": "log_mel", "ge2e": "log_mel",
          "transformer": "log_mel", "pretrained": "waveform", "svm": "stats", "rf": "stats"}


def write_wav(path, x, sr=16000):
    import wave

    import numpy as np
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


def tone(hz, seconds, gain=0.2, sr=16000):
    import numpy as np
    n = np.arange(int(seconds * sr))
    return gain * np.sin(2 * np.pi * hz * n / sr)


@pytest.fixture(scope="session")
def tone_corpus(tmp_path_factory):
    """Twelve 3-s tones (low/high pitch, soft/strong), prepared into shards; film.wav a new
    recording of 2 s low then 2 s high. Returns the folder (dataset.toml inside)."""
    import numpy as np
    d = tmp_path_factory.mktemp("tones")
    (d / "audio").mkdir()
    rows = ["path,pitch,loud"]
    for i in range(12):
        low = i % 2 == 0
        strong = (i // 2) % 2 == 0
        x = tone((220.0 if low else 1760.0) * (1 + 0.1 * (i // 2)), 3.0,
                 0.4 if strong else 0.05)
        write_wav(d / "audio" / f"f{i}.wav", x)
        rows.append(f"f{i}.wav,{'low' if low else 'high'},{'strong' if strong else 'soft'}")
    (d / "audio" / "manifest.csv").write_text("\n".join(rows) + "\n")
    (d / "dataset.toml").write_text(TONE_DATASET)
    write_wav(d / "film.wav", np.concatenate([tone(240.0, 2.0), tone(1900.0, 2.0)]))
    return d


@pytest.fixture(scope="session")
def prepared(tone_corpus, run_hptrain):
    run_hptrain("prepare", "--dataset", tone_corpus / "dataset.toml")
    return tone_corpus


@pytest.fixture(scope="session")
def trained(prepared, run_hptrain):
    """Trains each model type of MODELS for a few epochs; returns a function of the type that
    gives its run folder."""
    done = {}

    def run(kind):
        if kind not in done:
            d = prepared
            exp = d / f"{kind}.toml"
            train = "\n[train]\nepochs = 2\nbatch_size = 8\ndevice = \"cpu\"\nthreads = 1\n" \
                "[train.augment]\nenabled = false\n" \
                if kind not in ("svm", "rf") else ""
            exp.write_text(f'[experiment]\nname = "{kind}"\nseed = 1\n\n[data]\n'
                           f'dataset = "{d / "dataset.toml"}"\ninput = "{INPUTS[kind]}"\n\n'
                           f'[model]\n{MODELS[kind]}{train}\n[output]\ndir = "{d / "runs" / kind}"\n')
            run_hptrain("train", "--experiment", exp)
            done[kind] = d / "runs" / kind
        return done[kind]
    return run
