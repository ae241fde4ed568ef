"""hptrain from Python: the project's decoder and librosa-exact features, its HDF5 shards as a
torch Dataset, and trained runs as torch modules or scikit-learn-like classifiers.

    import hptrain
    y = hptrain.load("film.mkv")                      # mono float32 at 16 kHz
    f = hptrain.features(y)                           # dict of float32 arrays, as `hptrain features`
    f["log_mel"].shape                                # (64, 1 + len(y) // 160)

README, "Python", has the rest. Arrays in are float32 (never converted silently), finite; a
wrong one, an unknown keyword or a bad value is a ValueError naming the argument, a missing file
a FileNotFoundError.
"""
import os

import numpy as np

from . import _hptrain
from ._hptrain import gpu_available

__version__ = _hptrain.__version__

__all__ = ["load", "features", "feature_batch", "feature_config", "gpu_available",
           "ShardDataset", "load_run", "TabularRun", "RunModel", "__version__"]

FEATURES = ("stft_mag", "melspectrogram", "log_mel", "mfcc", "mfcc_delta", "mfcc_delta2",
            "chroma_stft", "spectral_contrast", "zcr", "rms", "stats")


def _existing_file(path, what="path"):
    path = os.fspath(path)
    if not isinstance(path, str):
        raise ValueError(f"{what}: expected a str or os.PathLike, got {type(path).__name__}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what}: '{path}': no such file")
    if os.path.isdir(path):
        raise ValueError(f"{what}: '{path}' is a folder, not a file")
    return path


def _int(value, name, low=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} = {value!r}: expected an int")
    if low is not None and value < low:
        raise ValueError(f"{name} = {value}: must be >= {low}")
    return int(value)


def load(path, sr=16000, stream=-1, preprocess=False):
    """The file's audio as mono float32 at `sr` Hz: any file libsndfile or FFmpeg decodes (audio
    or video), channels averaged, resampled with soxr HQ (io::load_mono). `stream`: the
    container's stream index (ffprobe's 0:N), -1 for the first audio stream.

    preprocess: False (samples as decoded), True (trim silence and normalise loudness with the
    defaults of a dataset's [preprocess] table: preprocess::process_whole) or a dict of those
    keys (trim, top_db, frame_length, hop_length, normalize, target_lufs, peak_db,
    true_peak_db)."""
    path = _existing_file(path)
    sr = _int(sr, "sr", 1)
    stream = _int(stream, "stream", -1)
    if preprocess is False or preprocess is None:
        pre = None
    elif preprocess is True:
        pre = {}
    elif isinstance(preprocess, dict):
        pre = dict(preprocess)
    else:
        raise ValueError(f"preprocess = {preprocess!r}: expected True, False or a dict")
    return _hptrain.load(path, sr, stream, pre)


def _audio(y, name, ndim):
    if not isinstance(y, np.ndarray):
        raise ValueError(f"{name}: expected a numpy.ndarray of float32, got {type(y).__name__}")
    if y.dtype != np.float32:
        raise ValueError(f"{name}: dtype {y.dtype}, expected float32 "
                         f"({name}.astype(numpy.float32) if that is what you mean)")
    if y.ndim != ndim:
        want = "[samples]" if ndim == 1 else "[batch, samples]"
        raise ValueError(f"{name}: shape {y.shape}, expected {ndim}-D {want}")
    if y.size == 0:
        raise ValueError(f"{name}: shape {y.shape} is empty")
    finite = np.isfinite(y)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        at = where[0] if ndim == 1 else where
        raise ValueError(f"{name}: not finite ({y[where]}) at index {at}")
    return np.ascontiguousarray(y)


def _what(what):
    if what is None:
        return list(FEATURES)
    if isinstance(what, str):
        what = [what]
    what = list(what)
    if not what or not all(isinstance(w, str) for w in what):
        raise ValueError(f"what = {what!r}: expected feature names ({', '.join(FEATURES)})")
    return what


def feature_config(preset="speech", sr=16000, **overrides):
    """The resolved parameters (printable) of `preset` with `overrides`: see features()."""
    if not isinstance(preset, str):
        raise ValueError(f"preset = {preset!r}: expected 'speech' or 'librosa-default'")
    overrides = dict(overrides)
    if sr is not None:
        overrides["sr"] = sr
    return _hptrain.feature_config(preset, overrides)


def features(y, sr=16000, preset="speech", what=None, threads=1, **overrides):
    """Every feature of the mono float32 signal `y`, as `hptrain features` writes them: a dict of
    float32 arrays stft_mag, melspectrogram, log_mel, mfcc, mfcc_delta, mfcc_delta2,
    chroma_stft, spectral_contrast, zcr, rms ([rows, frames]) and stats ([D]). A clip with fewer
    frames than the delta width (9: 1.44 s at the speech preset) has no deltas and no stats, as
    the command's output.

    preset: "speech" (sr 16000, n_fft 512, hop 160, 64 mels, 20 MFCC) or "librosa-default"
    (librosa 0.11's defaults); `sr` overrides the preset's rate (pass sr=None to keep it).
    overrides, named as librosa names them: n_fft, hop_length, win_length, window, center,
    pad_mode, n_mels, fmin, fmax, htk, norm (the mel filters'), power, ref, amin, top_db,
    n_mfcc, dct_type, lifter, width (delta), n_chroma, tuning, n_bands, quantile, linear,
    threshold, zero_pos; where librosa's name is ambiguous, the name of the command's HDF5
    attribute: mfcc_norm, delta_mode, chroma_norm, chroma_fb_norm, chroma_octwidth,
    contrast_fmin, zcr_frame_length, zcr_hop_length, zcr_center, rms_frame_length,
    rms_hop_length, rms_center, rms_pad_mode. n_fft and hop_length also set the ZCR and RMS
    framing unless those are given. None is librosa's None (fmax=None: sr / 2; tuning=None:
    estimated). what: a subset of the names above. threads: CPU threads (0: all cores).
    Computed on the CPU (feature_batch uses the GPU); the GIL is released meanwhile."""
    y = _audio(y, "y", 1)
    cfg = feature_config(preset, sr, threads=_int(threads, "threads", 0), **overrides)
    return _hptrain.extract(cfg, y.reshape(1, -1), None, _what(what), True, "cpu", False)


def feature_batch(Y, lengths=None, sr=16000, preset="speech", what=None, device="auto",
                  as_torch=False, threads=0, **overrides):
    """features() of every row of the float32 array Y [batch, samples] in one call: on the GPU
    when this build has the CUDA kernels and a device is usable (device="auto"; "cpu" or
    "cuda" to choose), else CPU threads over the batch. Returns a dict of [batch, rows, frames]
    arrays (stats [batch, D]) and n_frames (int64 [batch]: each item's own frames).

    lengths: each row's length in samples (the rest is padding), or None (all full). An item's
    values are those of features() on its own samples; frames at or past its n_frames are
    padding (zero on the CPU, unspecified on the GPU). Deltas and stats are left out when the
    shortest item has fewer frames than the delta width.
    as_torch: torch tensors instead of arrays; on the GPU they share the device memory the
    kernels wrote (DLPack, no copy), on the CPU the arrays' memory (torch.from_numpy)."""
    Y = _audio(Y, "Y", 2)
    if lengths is not None:
        lengths = np.asarray(lengths)
        if lengths.ndim != 1 or lengths.dtype.kind not in "iu":
            raise ValueError(f"lengths: expected a 1-D array of ints, got {lengths.dtype} "
                             f"{lengths.shape}")
        lengths = [int(v) for v in lengths]
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device = {device!r}: expected 'auto', 'cpu' or 'cuda'")
    cfg = feature_config(preset, sr, threads=_int(threads, "threads", 0), **overrides)
    out = _hptrain.extract(cfg, Y, lengths, _what(what), False, device, bool(as_torch))
    if as_torch:
        import torch
        from torch.utils.dlpack import from_dlpack
        for k, v in out.items():
            if isinstance(v, np.ndarray):
                out[k] = torch.from_numpy(v)
            else:
                out[k] = from_dlpack(v)
        if "n_frames" not in out:
            out["n_frames"] = torch.tensor(
                [_hptrain.n_frames(cfg, n) for n in (lengths or [Y.shape[1]] * Y.shape[0])])
    return out


def __getattr__(name):
    """ShardDataset, load_run and TabularRun import torch: only when first used, so that
    `import hptrain` for load() and features() stays light."""
    if name == "ShardDataset":
        from .data import ShardDataset
        return ShardDataset
    if name in ("load_run", "TabularRun", "RunModel"):
        from . import runs
        return getattr(runs, name)
    raise AttributeError(f"module 'hptrain' has no attribute '{name}'")
