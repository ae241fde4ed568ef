"""hptrain.ShardDataset against the shards read independently with h5py, and in DataLoader
workers (fork and spawn)."""
import glob
import os

import h5py
import numpy as np
import pytest
import torch

import hptrain


def h5py_examples(shards, split, name):
    """Every example of `split` and its labels, straight from the files (shards in index
    order)."""
    files = sorted(glob.glob(os.path.join(shards, f"{split}-*.h5")),
                   key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0]))
    xs, labels = [], {}
    for f in files:
        with h5py.File(f, "r") as h5:
            xs.append(h5[name][()])
            for t in ("pitch", "loud"):
                labels.setdefault(t, []).append(h5["labels"][t][()] if "labels" in h5 else
                                                h5[f"label_{t}"][()])
    return np.concatenate(xs), {t: np.concatenate(v) for t, v in labels.items()}


def test_examples_and_labels_are_the_shards(prepared):
    ds = hptrain.ShardDataset(prepared / "dataset.toml", "train", input="log_mel")
    x_ref, y_ref = h5py_examples(str(prepared / "shards"), "train", "log_mel")
    assert len(ds) == len(x_ref) > 0
    assert ds.example_shape == x_ref.shape[1:] == (64, 101)
    assert sorted(ds.tasks) == ["loud", "pitch"] and ds.classes("pitch") == ["low", "high"]
    for i in range(len(ds)):
        x, labels = ds[i]
        assert x.dtype == torch.float32
        np.testing.assert_array_equal(x.numpy(), x_ref[i])
        assert labels == {"pitch": int(y_ref["pitch"][i]), "loud": int(y_ref["loud"][i])}
        assert all(type(v) is int for v in labels.values())
    x, _ = ds[-1]
    np.testing.assert_array_equal(x.numpy(), x_ref[-1])


def test_waveforms_are_the_shards_audio(prepared):
    # input "waveform" (pretrained encoders): the chunks' audio the shards store (store_audio)
    ds = hptrain.ShardDataset(prepared / "dataset.toml", "test", input="waveform")
    x_ref, _ = h5py_examples(str(prepared / "shards"), "test", "audio")
    assert len(ds) == len(x_ref) > 0
    assert ds.example_shape == (1, 16000) and x_ref.shape[1:] == (16000,)
    for i in range(len(ds)):
        np.testing.assert_array_equal(ds[i][0].numpy(), x_ref[i][None])

def test_inputs_and_task_selection(prepared):
    mfcc = hptrain.ShardDataset(prepared / "dataset.toml", "validation", input="mfcc",
                                tasks=["loud"])
    assert mfcc.example_shape == (60, 101) and mfcc.tasks == ["loud"]
    assert set(mfcc[0][1]) == {"loud"}
    stats = hptrain.ShardDataset(prepared / "shards", "test", input="stats", tasks="pitch")
    assert stats[0][0].shape == (162,)


def test_in_dataloader_workers(prepared):
    ds = hptrain.ShardDataset(prepared / "dataset.toml", "train", input="log_mel")
    want = torch.stack([ds[i][0] for i in range(len(ds))])  # the parent has read: open handles
    for context in ("fork", "spawn"):
        loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2, shuffle=False,
                                             multiprocessing_context=context)
        xs, pitch = [], []
        for x, labels in loader:
            xs.append(x)
            pitch.append(labels["pitch"])
        assert torch.equal(torch.cat(xs), want), context
        assert torch.cat(pitch).tolist() == ds.labels("pitch").tolist(), context


def test_errors_name_the_argument(prepared, tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.toml"):
        hptrain.ShardDataset(tmp_path / "nothing.toml", "train")
    with pytest.raises(ValueError, match="input = 'wave'"):
        hptrain.ShardDataset(prepared / "dataset.toml", "train", input="wave")
    with pytest.raises(ValueError, match="tasks: 'genre'"):
        hptrain.ShardDataset(prepared / "dataset.toml", "train", tasks=["genre"])
    with pytest.raises(ValueError, match="dev"):
        hptrain.ShardDataset(prepared / "dataset.toml", "dev")
    ds = hptrain.ShardDataset(prepared / "dataset.toml", "train")
    with pytest.raises(IndexError):
        ds[len(ds)]
