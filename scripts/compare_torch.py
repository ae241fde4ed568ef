#!/usr/bin/python3
"""Training throughput of hptrain's CNN and LSTM (bench_train, LibTorch C++) against the same
architectures in Python PyTorch (the package's python/hptrain/models.py), on the same shapes with
the same thread count.

Run with Debian's python3-torch (same LibTorch 1.13 as the C++ build):
    /usr/bin/python3 scripts/compare_torch.py --bench build/bench/bench_train --threads 2

Each side runs `--repeat` times, alternating, and the best run of each is reported (the machine
may be shared). The models are read from experiments/{cnn,lstm}.toml, as bench_train does; the
step is forward, the mean of the three task losses, backward, AdamW.

    /usr/bin/python3 scripts/compare_torch.py --check

compares the Python models' parameter and buffer names and shapes with the C++ models' (the list
tests/data/models/parameters.txt, which tests/models holds the C++ side to): ctest runs it as
compare_torch_parameters when python3-torch is installed.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import time
import tomllib

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMES = 301          # as bench/train_bench.cpp: 3 s at hop 160, 16 kHz
CLASSES = [7, 2, 3]   # character, music, scene of the demo


def load_models():
    """python/hptrain/models.py, the package's PyTorch twin of the C++ models, loaded on its own:
    it needs only torch, where `import hptrain` would need the built _hptrain module."""
    path = os.path.join(ROOT, "python", "hptrain", "models.py")
    spec = importlib.util.spec_from_file_location("hptrain_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hp_models = load_models()


def make_net(cfg, rows):
    """The experiment's model with the demo's three heads (CLASSES), as bench_train builds it."""
    return hp_models.Net(hp_models.model_config(cfg["model"]), rows, CLASSES)


def load_experiment(experiment):
    with open(os.path.join(ROOT, experiment), "rb") as f:
        cfg = tomllib.load(f)
    rows = 64 if cfg["data"]["input"] == "log_mel" else 60
    return cfg, rows


def check_parameters(models):
    """The state_dict names and shapes of both models against the list the C++ test
    (tests/models/net_test.cpp, Net.ParameterNamesMatchTheListThePythonTwinChecks) holds the
    C++ models to; returns the number of differences (printed)."""
    lines = []
    for name, exp in models.items():
        cfg, rows = load_experiment(exp)
        net = make_net(cfg, rows)
        for key, t in net.state_dict().items():
            shape = "x".join(str(d) for d in t.shape) or "scalar"
            lines.append(f"{name} {key} {shape}")
    lines.sort()
    path = os.path.join(ROOT, "tests", "data", "models", "parameters.txt")
    with open(path) as f:
        want = f.read().splitlines()
    missing = sorted(set(want) - set(lines))
    extra = sorted(set(lines) - set(want))
    for line in missing:
        print(f"only in C++ ({path}): {line}")
    for line in extra:
        print(f"only in Python: {line}")
    return len(missing) + len(extra)


def python_throughput(experiment, min_time):
    cfg, rows = load_experiment(experiment)
    batch = cfg.get("train", {}).get("batch_size", 32)
    torch.manual_seed(0)
    net = make_net(cfg, rows).train()
    opt = torch.optim.AdamW(net.parameters(), lr=cfg["train"].get("lr", 2e-3),
                            weight_decay=cfg["train"].get("weight_decay", 1e-4))
    x = torch.randn(batch, rows, FRAMES)
    ys = [torch.randint(k, (batch,)) for k in CLASSES]

    def step():
        logits = net(x)
        loss = sum(F.cross_entropy(l, y) for l, y in zip(logits, ys)) / len(ys)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    step()  # warm-up, as Google Benchmark's first iterations
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_time:
        step()
        n += 1
    return n * batch / (time.perf_counter() - start)


def cpp_throughput(bench, threads, min_time):
    env = dict(os.environ, HP_THREADS=str(threads))
    # the train_step cases only: the experiment cases run whole trainings (minutes each), and
    # their names (experiment/cnn_bf16, ...) are not models of this comparison
    out = subprocess.run([bench, "--benchmark_format=json", "--benchmark_filter=^train_step/",
                          f"--benchmark_min_time={min_time}"],
                         env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    result = {}
    for b in json.loads(out)["benchmarks"]:
        result[b["name"].split("/")[1]] = b["items_per_second"]
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", default=os.path.join(ROOT, "build", "bench", "bench_train"))
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--min-time", type=float, default=3.0)
    p.add_argument("--check", action="store_true",
                   help="only compare the models' parameter names and shapes with the C++ "
                        "models' (tests/data/models/parameters.txt); exit 1 when they differ")
    args = p.parse_args()
    models = {"cnn": "experiments/cnn.toml", "lstm": "experiments/lstm.toml"}
    if args.check:
        differences = check_parameters(models)
        print(f"compare_torch.py --check: {differences} difference(s)")
        raise SystemExit(1 if differences else 0)
    torch.set_num_threads(args.threads)
    best_py = {m: 0.0 for m in models}
    best_cpp = {m: 0.0 for m in models}
    for _ in range(args.repeat):
        for m, exp in models.items():
            best_py[m] = max(best_py[m], python_throughput(exp, args.min_time))
        for m, v in cpp_throughput(args.bench, args.threads, args.min_time).items():
            best_cpp[m] = max(best_cpp[m], v)
    print(f"torch {torch.__version__}, {args.threads} thread(s), best of {args.repeat}, "
          f"batch of [B, rows, {FRAMES}]")
    print(f"{'model':6} {'hptrain (C++) ex/s':>20} {'PyTorch ex/s':>14} {'ratio':>7}")
    for m in models:
        print(f"{m:6} {best_cpp[m]:20.1f} {best_py[m]:14.1f} {best_cpp[m] / best_py[m]:7.2f}")


if __name__ == "__main__":
    main()
