"""The HDF5 shards of a prepared dataset (`hptrain prepare`) as a torch.utils.data.Dataset."""
import os

import numpy as np
import torch

from . import _hptrain

INPUTS = ("log_mel", "mfcc", "stats", "waveform")


class ShardDataset(torch.utils.data.Dataset):
    """Every example of `split` ("train", "validation", "test") of the dataset `dataset_toml`
    describes (its shards, <output>/<split>-<i>.h5), read through hptrain's own reader.

    ds[i] is (x, labels): x a float32 tensor [rows, frames] (input "log_mel": [n_mels, T];
    "mfcc": MFCC and both deltas stacked, [3 * n_mfcc, T]; "waveform": the chunk's stored audio,
    [1, samples], when the dataset sets store_audio) or [D] ("stats"), labels a dict
    {task: class index (int)} for `tasks` (all of the dataset's when None). classes(task) names
    the indices. `dataset_toml` may also be the folder of the shards.

    Safe in DataLoader workers: the shards are opened on first use in each process (a worker
    never shares the parent's HDF5 handles), and read example by example unless `cache` (then
    a process reads its whole split once, as training does)."""

    def __init__(self, dataset_toml, split, input="log_mel", tasks=None, cache=False):
        path = os.fspath(dataset_toml)
        if not os.path.exists(path):
            raise FileNotFoundError(f"dataset_toml: '{path}': no such file or folder")
        if input not in INPUTS:
            raise ValueError(f"input = {input!r}: expected one of {', '.join(INPUTS)}")
        if not isinstance(split, str):
            raise ValueError(f"split = {split!r}: expected a str (train, validation, test)")
        self.shards_dir = path if os.path.isdir(path) else os.fspath(_hptrain.shards_dir(path))
        if not os.path.isdir(self.shards_dir):
            raise FileNotFoundError(
                f"dataset_toml: '{path}': its shards folder '{self.shards_dir}' does not exist "
                "(run `hptrain prepare --dataset` first)")
        self.split = split
        self.input = input
        self._cache = bool(cache)
        self._pid = None
        self._shards = None
        shards = self._open()  # the metadata; ValueError for a split with no shards
        self._all_tasks = shards.tasks()
        if tasks is None:
            tasks = list(self._all_tasks)
        elif isinstance(tasks, str):
            tasks = [tasks]
        for t in tasks:
            if t not in self._all_tasks:
                raise ValueError(f"tasks: '{t}' is not a task of the dataset "
                                 f"({', '.join(self._all_tasks)})")
        self.tasks = list(tasks)
        self._classes = {t: shards.classes(t) for t in self.tasks}
        self._labels = {t: shards.labels(t) for t in self.tasks}
        self._len = len(shards)
        self.example_shape = tuple(shards.example_shape(input))
        # the parent keeps no HDF5 handle open: a forked worker opens its own
        self._shards = None

    def _open(self):
        if self._shards is None or self._pid != os.getpid():
            shards = _hptrain.Shards(self.shards_dir, self.split)
            shards.set_cache_budget((1 << 30) if self._cache else 0)
            self._shards, self._pid = shards, os.getpid()
        return self._shards

    def __getstate__(self):  # spawn / forkserver workers get no handle either
        state = self.__dict__.copy()
        state["_shards"] = None
        state["_pid"] = None
        return state

    def __len__(self):
        return self._len

    def classes(self, task):
        """The class names of `task`, in the order of its indices."""
        return list(self._classes[task])

    def labels(self, task):
        """Every example's class index for `task` (int64 [len(self)])."""
        return self._labels[task].copy()

    def __getitem__(self, index):
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index {index!r}: expected an int")
        i = int(index)
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(f"index {index} out of range for {self._len} examples")
        x, _ = self._open().get([i], self.input)
        labels = {t: int(self._labels[t][i]) for t in self.tasks}
        return torch.from_numpy(x[0]), labels

    def __repr__(self):
        return (f"ShardDataset({self.shards_dir!r}, split={self.split!r}, input={self.input!r}, "
                f"{self._len} examples of {list(self.example_shape)}, tasks={self.tasks})")
