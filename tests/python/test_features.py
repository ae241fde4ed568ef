"""hptrain.load / features / feature_batch against `hptrain features` (the same program's HDF5
output, read by h5py: bit for bit), against librosa's reference files (tests/data/reference,
tolerances of README "Agreement with librosa"), batched = one by one, and the bad inputs."""
import os
import threading
import time

import h5py
import numpy as np
import pytest

import hptrain
from conftest import reference

CLIPS = [("music_wesnoth_16k", "speech"), ("short_wesnoth_16k", "speech"),
         ("music_wesnoth_22k", "librosa-default")]


@pytest.mark.parametrize("clip,preset", CLIPS)
def test_features_equal_the_commands_hdf5(tmp_path, run_hptrain, clip, preset):
    # the command streams windows of frames; its values are the whole-file ones, bit for bit
    wav = reference(clip + ".wav")
    out = tmp_path / "f.h5"
    run_hptrain("features", "--input", wav, "--out", out, "--preset", preset, "--threads", "1")
    sr = 16000 if preset == "speech" else 22050
    f = hptrain.features(hptrain.load(wav, sr=sr), sr=sr, preset=preset)
    with h5py.File(out, "r") as h5:
        names = [k for k in h5.keys()]
        assert sorted(names) == sorted(f.keys())
        for k in names:
            want = h5[k][()]
            assert f[k].dtype == np.float32 and f[k].shape == want.shape, k
            # bit for bit but for FFTW's plan, measured once per process and not always the
            # same one (README, "Speed"): a few values in 100,000 (more on a loaded machine)
            # may differ in their last bits
            differ = np.count_nonzero(f[k] != want)
            assert differ <= max(1, want.size // 1000), f"{clip} {k}: {differ} values differ"
            np.testing.assert_allclose(f[k], want, rtol=1e-6, atol=1e-6 * np.abs(want).max(),
                                       err_msg=f"{clip} {k}")


def test_a_clip_shorter_than_the_delta_width_has_no_deltas_like_the_command(tmp_path,
                                                                             run_hptrain):
    wav = reference("short_wesnoth_16k.wav")  # 320 samples: 3 frames < width 9
    out = tmp_path / "f.h5"
    run_hptrain("features", "--input", wav, "--out", out)
    f = hptrain.features(hptrain.load(wav))
    assert "mfcc_delta" not in f and "stats" not in f and f["mfcc"].shape == (20, 3)
    with h5py.File(out, "r") as h5:
        assert sorted(h5.keys()) == sorted(f.keys())


@pytest.mark.parametrize("clip,preset", CLIPS)
def test_features_match_librosa_reference(clip, preset):
    # the samples librosa saw, and its outputs (tests/data/reference/README.md)
    with h5py.File(reference(f"{clip}.{preset}.h5"), "r") as h5:
        y = h5["y"][()].astype(np.float32)
        sr = int(h5.attrs["sr"])
        f = hptrain.features(y, sr=sr, preset=preset)
        mag = h5["stft_mag"][()]
        assert np.abs(f["stft_mag"] - mag).max() <= 2e-6 * mag.max()
        assert np.abs(f["log_mel"] - h5["log_mel"][()]).max() <= 1e-4
        np.testing.assert_array_equal(f["zcr"], h5["zcr"][()])


def test_overrides_use_librosa_names():
    y = hptrain.load(reference("music_wesnoth_16k.wav"))
    f = hptrain.features(y, n_fft=1024, hop_length=256, n_mels=40, n_mfcc=13, fmax=None,
                         what=["log_mel", "mfcc", "zcr"])
    assert set(f) == {"log_mel", "mfcc", "zcr"}
    T = 1 + len(y) // 256
    assert f["log_mel"].shape == (40, T) and f["mfcc"].shape == (13, T)
    assert f["zcr"].shape == (1, T)  # hop_length sets the ZCR framing too
    cfg = repr(hptrain.feature_config(n_fft=1024, hop_length=256, top_db=None, norm=None))
    for line in ("n_fft = 1024", "zcr_frame_length = 1024", "rms_hop_length = 256",
                 "db_top_db = None", "mel_norm = None"):
        assert line in cfg, line
    # the librosa-default preset at its own rate
    assert "sr = 22050" in repr(hptrain.feature_config("librosa-default", sr=None))


def test_feature_batch_equals_one_by_one_with_ragged_lengths():
    y = np.tile(hptrain.load(reference("music_wesnoth_16k.wav")), 4)
    n = 24000
    Y = np.stack([y[:n], y[n:2 * n], y[2 * n:3 * n]]).astype(np.float32)
    lengths = [n, 17001, n]
    b = hptrain.feature_batch(Y, lengths=lengths, device="cpu")
    np.testing.assert_array_equal(b["n_frames"], [151, 107, 151])
    for i, length in enumerate(lengths):
        one = hptrain.features(Y[i, :length].copy())
        for k, v in one.items():
            if k == "stats":
                np.testing.assert_array_equal(b[k][i], v, err_msg=f"{i} {k}")
            else:
                np.testing.assert_array_equal(b[k][i][:, :v.shape[1]], v, err_msg=f"{i} {k}")
                assert not b[k][i][:, v.shape[1]:].any(), f"{i} {k}: padding is not zero"


def test_feature_batch_as_torch_on_the_cpu_shares_memory():
    torch = pytest.importorskip("torch")
    Y = np.random.default_rng(1).standard_normal((2, 16000)).astype(np.float32) * 0.1
    b = hptrain.feature_batch(Y, as_torch=True, device="cpu", what=["log_mel"])
    assert isinstance(b["log_mel"], torch.Tensor) and b["log_mel"].shape == (2, 64, 101)
    np.testing.assert_array_equal(b["log_mel"].numpy(),
                                  hptrain.feature_batch(Y, device="cpu", what=["log_mel"])["log_mel"])


def test_feature_batch_on_cuda_hands_device_tensors_over():
    torch = pytest.importorskip("torch")
    if not (hptrain.gpu_available() and torch.cuda.is_available()):
        pytest.skip("no CUDA device (or hptrain or torch built without CUDA)")
    Y = np.random.default_rng(2).standard_normal((3, 24000)).astype(np.float32) * 0.1
    g = hptrain.feature_batch(Y, lengths=[24000, 20000, 9000], device="cuda", as_torch=True)
    c = hptrain.feature_batch(Y, lengths=[24000, 20000, 9000], device="cpu")
    assert g["log_mel"].is_cuda
    for i, t in enumerate(c["n_frames"]):
        d = np.abs(g["log_mel"][i, :, :t].cpu().numpy() - c["log_mel"][i, :, :t]).max()
        assert d <= 1e-3, d


def test_load_resamples_and_preprocesses():
    wav = reference("music_wesnoth_22k.wav")
    y22 = hptrain.load(wav, sr=22050)
    y16 = hptrain.load(wav)
    assert y22.dtype == np.float32 and abs(len(y16) - len(y22) * 16000 / 22050) <= 1
    loud = hptrain.load(wav, preprocess={"normalize": "peak", "peak_db": -6.0, "trim": False})
    assert len(loud) == len(y16)
    assert abs(20 * np.log10(np.abs(loud).max()) + 6.0) < 0.05


def test_bad_input_is_a_value_error_naming_the_argument():
    y = np.zeros(16000, np.float32)
    cases = [
        (dict(y=y.astype(np.float64)), "y: dtype float64"),
        (dict(y=[0.0] * 100), "y: expected a numpy.ndarray"),
        (dict(y=y.reshape(2, -1)), "y: shape (2, 8000)"),
        (dict(y=np.array([0, np.nan], np.float32)), "y: not finite (nan) at index 1"),
        (dict(y=np.array([0, np.inf], np.float32)), "y: not finite (inf)"),
        (dict(y=np.zeros(0, np.float32)), "y: shape (0,) is empty"),
        (dict(y=y, hop=3), "unknown keyword argument 'hop'"),
        (dict(y=y, n_mels="64"), "n_mels = '64': expected an int"),
        (dict(y=y, n_mels=0), "mel.n_mels = 0"),
        (dict(y=y, window="kaiser"), "stft.window = 'kaiser'"),
        (dict(y=y, preset="fast"), "preset = 'fast'"),
        (dict(y=y, what=["mfcc", "pitch"]), "'pitch' is not a feature"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError) as e:
            hptrain.features(**kwargs)
        assert message in str(e.value), (kwargs.keys(), str(e.value))
    Y = np.zeros((2, 8000), np.float32)
    for kwargs, message in [(dict(lengths=[8000]), "lengths: 1 values for 2 rows"),
                            (dict(lengths=[8000, 9000]), "lengths[1] = 9000"),
                            (dict(lengths=[0.5, 1]), "lengths: expected a 1-D array of ints"),
                            (dict(device="tpu"), "device = 'tpu'")]:
        with pytest.raises(ValueError, match=None) as e:
            hptrain.feature_batch(Y, **kwargs)
        assert message in str(e.value), str(e.value)
    with pytest.raises(FileNotFoundError, match="no-such.wav"):
        hptrain.load("no-such.wav")
    with pytest.raises(ValueError, match="sr = 0"):
        hptrain.load(reference("short_wesnoth_16k.wav"), sr=0)
    with pytest.raises(ValueError, match="preprocess: unknown key 'gain'"):
        hptrain.load(reference("short_wesnoth_16k.wav"), preprocess={"gain": 3})


def test_a_file_that_is_not_audio_is_a_value_error(tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_bytes(b"this is not audio at all" * 100)
    with pytest.raises(ValueError, match="notes.wav"):
        hptrain.load(bad)


def test_the_gil_is_released_while_computing():
    # another Python thread keeps running while features() computes a long clip
    y = np.random.default_rng(3).standard_normal(16000 * 600).astype(np.float32) * 0.1
    ticks = []
    done = threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=tick)
    t.start()
    time.sleep(0.01)
    start = time.perf_counter()
    hptrain.features(y, what=["log_mel", "chroma_stft"])
    end = time.perf_counter()
    done.set()
    t.join()
    during = [x for x in ticks if start < x < end]
    assert end - start > 0.05 and len(during) >= 5, (end - start, len(during))


def test_values_out_of_a_c_int_are_value_errors_not_crashes():
    y = np.zeros(16000, np.float32)
    for kwargs, message in [(dict(n_fft=10 ** 20), "n_fft = 100000000000000000000"),
                            (dict(center=1), "center = 1: expected True or False"),
                            (dict(fmax="high"), "fmax = 'high': expected a number")]:
        with pytest.raises(ValueError) as e:
            hptrain.features(y, **kwargs)
        assert message in str(e.value), str(e.value)
