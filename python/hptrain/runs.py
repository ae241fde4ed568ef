"""A trained run folder (`hptrain --experiment`, `hptrain train`) in Python: load_run() gives a
torch.nn.Module for the LibTorch types (models.BODIES) and a TabularRun for svm and rf, each with
the run's tasks and classes, and the run dataset's chunking and features, so that
predict_file() answers what `hptrain predict` writes."""
import io
import json
import os
import tomllib

import numpy as np
import torch
from torch import nn

from . import _hptrain
from .models import BODIES, Net, model_config

CHECKSUM_TAG = b"\nhptrain-fnv1a64 "  # ref: cpp/src/train/trainer.cpp kChecksumTag
TABULAR = ("svm", "rf")


def _version(text):
    try:
        return tuple(int(p) for p in str(text).split(".")[:3])
    except ValueError:
        return None


def _read_json(path):
    if not os.path.exists(path):
        raise FileNotFoundError(f"'{path}': no such file (an incomplete run folder, or one made "
                                "by an older hptrain: train it again)")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"'{path}' is damaged (not JSON): {e}") from None


def _fnv_hex(data):
    return _hptrain.fnv1a64_hex(data)


class _Run:
    """What every run folder holds: experiment.toml, run.json, classes.json."""

    def __init__(self, run_dir):
        run_dir = os.fspath(run_dir)
        if not os.path.isdir(run_dir):
            raise FileNotFoundError(f"run_dir: '{run_dir}': no such folder")
        self.dir = run_dir
        toml_path = os.path.join(run_dir, "experiment.toml")
        if not os.path.exists(toml_path):
            raise FileNotFoundError(f"run_dir: '{run_dir}' is not a run folder: no "
                                    "experiment.toml")
        try:
            with open(toml_path, "rb") as f:
                self.experiment = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"'{toml_path}' is damaged: {e}") from None
        self.run = _read_json(os.path.join(run_dir, "run.json"))
        mine = _version(_hptrain.__version__)
        for name in ("run.json", "metrics.json"):
            path = os.path.join(run_dir, name)
            j = self.run if name == "run.json" else (
                _read_json(path) if os.path.exists(path) else {})
            v = j.get("hptrain_version") if isinstance(j, dict) else None
            if v is not None and (_version(v) is None or _version(v) > mine):
                raise ValueError(f"'{path}': written by hptrain {v}, newer than this package "
                                 f"({_hptrain.__version__}): update the package")
        if not isinstance(self.run, dict) or not isinstance(self.run.get("fingerprint"), str):
            raise ValueError(f"'{os.path.join(run_dir, 'run.json')}' is damaged: no fingerprint")
        classes = _read_json(os.path.join(run_dir, "classes.json"))
        self.tasks = list(self.run.get("tasks", []))
        try:
            self.classes = {t: list(classes[t]) for t in self.tasks}
        except (KeyError, TypeError):
            raise ValueError(f"'{os.path.join(run_dir, 'classes.json')}' does not name the "
                             f"classes of the tasks {self.tasks}") from None
        data = self.experiment.get("data", {})
        self.input = data.get("input", "log_mel")
        self.dataset_toml = data.get("dataset")
        self.model_type = self.experiment.get("model", {}).get("type", "cnn")

    def check_file(self, name):
        """The bytes of <run>/<name>, checked against the checksum run.json records."""
        path = os.path.join(self.dir, name)
        if not os.path.exists(path):
            raise FileNotFoundError(f"'{path}': no such file")
        with open(path, "rb") as f:
            data = f.read()
        want = self.run.get("files", {}).get(name)
        if want is None:
            raise ValueError(f"'{path}': run.json records no checksum for it")
        if _fnv_hex(data) != want:
            raise ValueError(f"'{path}' is damaged: its checksum is not the one run.json "
                             "recorded")
        return data

    def _dataset(self):
        if not self.dataset_toml:
            raise ValueError(f"run '{self.dir}' was trained on a folder of shards (data.shards): "
                             "its preprocessing and features are unknown")
        if not os.path.exists(self.dataset_toml):
            raise FileNotFoundError(f"'{self.dataset_toml}' (the run's data.dataset, relative to "
                                    "the working folder as for `hptrain predict`): no such file")
        recorded = self.run.get("data")
        if recorded is not None:  # as predict: the features the model learnt from, or an error
            now = _hptrain.data_fingerprint(self.dataset_toml)
            if now != recorded:
                raise ValueError(f"'{self.dataset_toml}': its [preprocess] or [features] changed "
                                 f"since run '{self.dir}' was trained (fingerprint {now}, run.json "
                                 f"records {recorded}): restore them, or train again")
        return self.dataset_toml

    def chunks(self, path, stream=None):
        """The chunks of a recording as `hptrain predict` cuts them (the run dataset's
        [preprocess]): (start_s [n], duration_s [n], audio float32 [n, samples])."""
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"path: '{path}': no such file")
        return _hptrain.chunks(path, self._dataset(), -2 if stream is None else int(stream))

    def inputs(self, Y):
        """The model's input for chunks Y (float32 [n, samples]) by the run dataset's
        [features]: [n, rows, T] (log_mel, mfcc), [n, D] (stats), or the chunks themselves
        [n, 1, samples] (waveform, as predict.cpp passes them), as a NumPy array."""
        from . import _audio
        Y = _audio(Y, "Y", 2)
        if self.input == "waveform":
            return np.ascontiguousarray(Y[:, None, :])
        return _hptrain.input_examples(self._dataset(), Y, self.input)


class TaskClassifier:
    """One task's SVM or forest: predict_proba(X) [n, len(classes_)] for X float32 [n, D]
    (the pooled statistics, `input = "stats"`)."""

    def __init__(self, path, classes):
        self._c = _hptrain.TabularClassifier(path)
        self.classes_ = np.array(classes)
        if self._c.n_classes != len(classes):
            raise ValueError(f"'{path}' answers {self._c.n_classes} classes, classes.json names "
                             f"{len(classes)}")
        self.kind = self._c.name
        self.n_features_in_ = self._c.n_features

    def predict_proba(self, X):
        from . import _audio
        return self._c.predict_proba(_audio(np.asarray(X), "X", 2))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(1)]

    def __repr__(self):
        return f"TaskClassifier({self.kind}, classes_={list(self.classes_)})"


class TabularRun(_Run):
    """An svm or rf run: one TaskClassifier per task (run[task], run.classifiers)."""

    def __init__(self, run_dir):
        super().__init__(run_dir)
        self.classifiers = {}
        for t in self.tasks:
            name = f"model_{t}.h5"
            self.check_file(name)
            self.classifiers[t] = TaskClassifier(os.path.join(self.dir, name), self.classes[t])

    def __getitem__(self, task):
        return self.classifiers[task]

    def predict_proba(self, X):
        """{task: probabilities [n, classes]}"""
        return {t: c.predict_proba(X) for t, c in self.classifiers.items()}

    def predict_file(self, path, stream=None):
        """What `hptrain predict` writes for a recording: start_s, duration_s and each task's
        probabilities per chunk."""
        start, duration, Y = self.chunks(path, stream)
        out = {"start_s": start, "duration_s": duration}
        out.update(self.predict_proba(self.inputs(Y)))
        return out


class RunModel(nn.Module, _Run):
    """A LibTorch run's best model (model_best.pt) as a torch module in eval mode.

    forward(x) gives {task: logits [B, classes]} for x [B, rows, T] ([B, 1, samples] of 16 kHz
    audio for a pretrained encoder, whose TorchScript file model.encoder names, relative to the
    working folder as for `hptrain predict`); predict_proba(x) the
    softmax of each, as `hptrain predict` computes it. tasks, classes (task -> names), input,
    config (the [model] table with defaults), chunks(), inputs() and predict_file() as
    TabularRun's."""

    def __init__(self, run_dir, map_location="cpu"):
        nn.Module.__init__(self)
        _Run.__init__(self, run_dir)
        self.config = model_config(self.experiment.get("model", {}))
        data = self.check_file("model_best.pt") if "model_best.pt" in self.run.get(
            "files", {}) else self._trailer_checked("model_best.pt")
        archive = self._archive(data, map_location)
        fingerprint = getattr(archive, "fingerprint", None)
        if fingerprint != self.run["fingerprint"]:
            raise ValueError(f"'{os.path.join(self.dir, 'model_best.pt')}' is of another run "
                             f"(fingerprint {fingerprint}, run.json records "
                             f"{self.run['fingerprint']})")
        state = {k[len("model."):]: v for k, v in archive.state_dict().items()
                 if k.startswith("model.")}
        if "input_mean" not in state:
            raise ValueError(f"'{os.path.join(self.dir, 'model_best.pt')}' holds no model")
        rows = state["input_mean"].shape[1]
        self.net = Net(self.config, rows, [len(self.classes[t]) for t in self.tasks], self.tasks)
        try:
            self.net.load_state_dict(state, strict=True)
        except RuntimeError as e:
            raise ValueError(f"'{os.path.join(self.dir, 'model_best.pt')}' does not fit the "
                             f"run's [model]: {e}") from None
        self.eval()

    def _trailer_checked(self, name):
        """The archive's bytes, checked against the checksum trailer the C++ appends."""
        path = os.path.join(self.dir, name)
        if not os.path.exists(path):
            raise FileNotFoundError(f"'{path}': no such file (the run has no best model yet)")
        with open(path, "rb") as f:
            data = f.read()
        return data

    def _archive(self, data, map_location):
        path = os.path.join(self.dir, "model_best.pt")
        n = len(data) - len(CHECKSUM_TAG) - 16
        if n <= 0 or data[n:n + len(CHECKSUM_TAG)] != CHECKSUM_TAG:
            raise ValueError(f"'{path}' has no checksum at its end: truncated, damaged, or "
                             "written by another version of hptrain")
        if _fnv_hex(data[:n]) != data[n + len(CHECKSUM_TAG):].decode("ascii", "replace"):
            raise ValueError(f"'{path}' is damaged: its checksum does not match its contents")
        try:
            return torch.jit.load(io.BytesIO(data[:n]), map_location=map_location)
        except RuntimeError as e:
            raise ValueError(f"'{path}' cannot be read: {e}") from None

    def forward(self, x):
        return dict(zip(self.tasks, self.net(x)))

    @torch.no_grad()
    def predict_proba(self, x):
        """{task: softmax probabilities [B, classes]} (float32 tensors)"""
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(x)
        x = x.to(self.net.input_mean.device)
        return {t: torch.softmax(lg.float(), 1) for t, lg in self.forward(x).items()}

    def predict_file(self, path, stream=None, batch_size=64):
        """What `hptrain predict` writes for a recording: start_s, duration_s and each task's
        probabilities per chunk (NumPy)."""
        start, duration, Y = self.chunks(path, stream)
        probs = {t: [] for t in self.tasks}
        for i in range(0, len(Y), batch_size):
            for t, p in self.predict_proba(self.inputs(Y[i:i + batch_size])).items():
                probs[t].append(p.cpu().numpy())
        out = {"start_s": start, "duration_s": duration}
        for t in self.tasks:
            out[t] = np.concatenate(probs[t]) if probs[t] else np.zeros((0, len(self.classes[t])),
                                                                         np.float32)
        return out


def load_run(run_dir, map_location="cpu"):
    """The run in `run_dir`: a RunModel (torch.nn.Module) for the LibTorch types
    (models.BODIES: cnn, lstm, ecapa, ge2e, transformer, pretrained), a TabularRun for svm and
    rf.

    FileNotFoundError: no such folder, or a file the run needs is missing. ValueError: a file is
    damaged, of another run, or written by a newer hptrain; a model type this package does not
    know."""
    run = _Run(run_dir)
    if run.model_type in TABULAR:
        return TabularRun(run_dir)
    if run.model_type not in BODIES:
        raise ValueError(f"'{os.path.join(run.dir, 'experiment.toml')}': model.type = "
                         f"'{run.model_type}' is not one this package loads "
                         f"({', '.join(sorted(BODIES) + list(TABULAR))}): update the package")
    return RunModel(run_dir, map_location)
