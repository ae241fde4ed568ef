#!/usr/bin/env python3
"""The Python package on a GPU (issue 29, item 2; `scripts/gpu_check.sh python` runs it with
PYTHONPATH=<build-gpu>/python): hptrain.feature_batch on CUDA against the CPU path item by
item, the DLPack hand-over (device tensors, no copy, memory freed with the last tensor), the
GIL released while the kernels run, and the speed of a batch on each device.

Needs only the GPU machine's python3 with numpy and a CUDA torch (no pytest, h5py or librosa).
Prints one line per check and a JSON line of figures; exits 1 when a check fails."""
import json
import sys
import threading
import time

import numpy as np

import hptrain

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def main():
    import torch
    print(f"hptrain {hptrain.__version__}, torch {torch.__version__}, "
          f"cuda {torch.version.cuda}, gpu_available {hptrain.gpu_available()}")
    if not (hptrain.gpu_available() and torch.cuda.is_available()):
        print("FAIL no CUDA device for hptrain or torch: nothing checked")
        return 1
    rng = np.random.default_rng(7)
    lengths = [48000, 31000, 48000, 17000]
    Y = (rng.standard_normal((len(lengths), 48000)) * 0.1).astype(np.float32)

    # 1. every feature of every item equals the CPU path on its own frames, within the whole-set
    # tolerances of the C++ twin test (tests/cuda/extract_cuda_test.cpp: |gpu - cpu| <= atol +
    # rtol |cpu|); this checks the binding's layout, lengths and hand-over, not the kernels again
    g = hptrain.feature_batch(Y, lengths=lengths, device="cuda", as_torch=True)
    c = hptrain.feature_batch(Y, lengths=lengths, device="cpu")
    check(list(g) == list(c), f"same outputs on both devices: {sorted(c)}")
    spec, db, frame = (1e-6, 5e-5), (2e-3, 1e-5), (1e-7, 1e-6)
    tolerance = {"stft_mag": spec, "melspectrogram": spec, "chroma_stft": spec, "log_mel": db,
                 "mfcc": db, "mfcc_delta": db, "mfcc_delta2": db, "spectral_contrast": db,
                 "zcr": frame, "rms": frame, "stats": (2e-4, 1e-4)}
    worst = {}
    for k, v in c.items():
        if k == "n_frames":
            check(np.array_equal(g[k].cpu().numpy(), v), "n_frames equal")
            continue
        t = g[k]
        check(isinstance(t, torch.Tensor) and t.is_cuda, f"{k}: a CUDA tensor")
        for i, n in enumerate(c["n_frames"]):
            a = t[i].cpu().numpy()
            b = v[i]
            if b.ndim == 2:  # [rows, frames]: the item's own frames
                a, b = a[:, :n], b[:, :n]
            atol, rtol = tolerance[k]
            d = float(np.max(np.abs(a - b) / (atol + rtol * np.abs(b))))
            worst[k] = max(worst.get(k, 0.0), d)
    for k, d in worst.items():
        check(d <= 1.0, f"{k}: max |gpu - cpu| / (atol + rtol |cpu|) = {d:.3f} (<= 1)")

    # 2. no copy: the tensors live in memory hptrain's extractor allocated (torch's caching
    # allocator does not grow), and dropping them gives that memory back
    torch.cuda.synchronize()
    free0, _ = torch.cuda.mem_get_info()
    alloc0 = torch.cuda.memory_allocated()
    big = (rng.standard_normal((256, 48000)) * 0.1).astype(np.float32)
    out = hptrain.feature_batch(big, device="cuda", as_torch=True)
    nbytes = sum(t.numel() * t.element_size() for t in out.values() if t.is_cuda)
    free1, _ = torch.cuda.mem_get_info()
    check(torch.cuda.memory_allocated() == alloc0,
          f"torch allocated nothing for {nbytes / 2**20:.1f} MiB of outputs (DLPack, no copy)")
    ptrs = {k: t.data_ptr() for k, t in out.items() if t.is_cuda}
    again = {k: torch.utils.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(t)).data_ptr()
             for k, t in out.items() if t.is_cuda}
    check(ptrs == again, "a DLPack round trip keeps the same device pointers")
    del out
    torch.cuda.synchronize()
    free2, _ = torch.cuda.mem_get_info()
    check(free2 >= free1 + nbytes * 0.9,
          f"memory freed with the last tensor ({(free2 - free1) / 2**20:.1f} MiB back, "
          f"{(free0 - free1) / 2**20:.1f} MiB taken)")

    # 3. the GIL is released: a Python thread counts while a large batch computes
    count = [0]
    done = threading.Event()

    def spin():
        while not done.is_set():
            count[0] += 1

    th = threading.Thread(target=spin)
    th.start()
    hptrain.feature_batch(big, device="cuda", what=["log_mel", "mfcc"])
    done.set()
    th.join()
    check(count[0] > 1000, f"another Python thread ran {count[0]} steps during the call")

    # 4. speed of the full set, 256 chunks of 3 s, side by side (the CPU on every core)
    figures = {"batch": 256, "chunk_s": 3.0}
    for device in ("cuda", "cpu"):
        hptrain.feature_batch(big[:8], device=device)  # warm-up (plans, pools)
        reps = 5 if device == "cuda" else 1
        t0 = time.perf_counter()
        for _ in range(reps):
            hptrain.feature_batch(big, device=device, as_torch=device == "cuda")
        torch.cuda.synchronize()
        s = (time.perf_counter() - t0) / reps
        figures[f"{device}_s"] = round(s, 4)
        figures[f"{device}_x_realtime"] = round(256 * 3.0 / s)
    figures["cuda_over_cpu"] = round(figures["cpu_s"] / figures["cuda_s"], 1)
    print(json.dumps(figures))
    print(f"{len(failures)} checks failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
