"""hptrain.load_run against `hptrain predict` on the same recording: every chunk's probabilities
within 1e-5 (the CSV's 6 decimals), for each model type; and the errors."""
import csv
import json
import os
import shutil

import numpy as np
import pytest
import torch

import hptrain
from hptrain.models import BODIES, Net, model_config


def predict_csv(run_hptrain, run, film, out):
    run_hptrain("predict", "--run", run, "--out", out, film)
    with open(out / "film.csv", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


@pytest.mark.parametrize("kind", ["cnn", "lstm", "ecapa", "ge2e", "transformer", "pretrained",
                                  "svm", "rf"])
def test_probabilities_equal_predicts(trained, prepared, run_hptrain, tmp_path, kind):
    run = trained(kind)
    header, rows = predict_csv(run_hptrain, run, prepared / "film.wav", tmp_path / "p")
    model = hptrain.load_run(run)
    if kind in ("svm", "rf"):
        assert isinstance(model, hptrain.TabularRun)
    else:
        assert isinstance(model, torch.nn.Module) and not model.training
    got = model.predict_file(prepared / "film.wav")
    assert len(rows) == len(got["start_s"]) == 4
    np.testing.assert_allclose(got["start_s"], [float(r[0]) for r in rows], atol=1e-3)
    col = 2
    for task in model.tasks:  # the CSV's task order is the model's
        classes = model.classes[task]
        assert header[col] == task
        assert header[col + 1:col + 1 + len(classes)] == [f"{task}:{c}" for c in classes]
        want = np.array([[float(v) for v in r[col + 1:col + 1 + len(classes)]] for r in rows])
        assert got[task].shape == want.shape
        np.testing.assert_allclose(got[task], want, atol=1e-5, err_msg=f"{kind} {task}")
        assert [classes[i] for i in got[task].argmax(1)] == [r[col] for r in rows]
        col += 1 + len(classes)


def test_module_on_its_own_inputs(trained, prepared):
    model = hptrain.load_run(trained("cnn"))
    _, _, Y = model.chunks(prepared / "film.wav")
    x = torch.from_numpy(model.inputs(Y))
    assert x.shape == (4, 64, 101)
    logits = model(x)
    assert list(logits) == model.tasks
    p = model.predict_proba(x)
    for t in model.tasks:
        torch.testing.assert_close(p[t], torch.softmax(logits[t], 1))
        torch.testing.assert_close(p[t].sum(1), torch.ones(4))
    with pytest.raises(ValueError, match=r"model input: expected \[B, 64, T >= 1\]"):
        model(torch.zeros(1, 60, 101))


def test_pretrained_encoder_takes_the_runs_weights(trained, prepared, tmp_path):
    # the TorchScript file gives the code; the weights are the checkpoint's, trained away from
    # the file's (so test_probabilities_equal_predicts[pretrained] sees the sharing), and stay
    # shared with the encoder after .to()
    from conftest import TINY_ENCODER
    model = hptrain.load_run(trained("pretrained"))
    _, _, Y = model.chunks(prepared / "film.wav")
    x = torch.from_numpy(model.inputs(Y))
    assert x.shape == (4, 1, 16000)
    body = model.net.body
    file = dict(torch.jit.load(TINY_ENCODER).named_parameters())
    trained_away = [n for n, t in file.items()
                    if not torch.equal(getattr(body.encoder, n.replace(".", "_")), t)]
    assert trained_away, "training left the encoder as the file has it"
    p = model.predict_proba(x)
    model.double()
    p64 = model.predict_proba(x.double())
    for t in model.tasks:
        torch.testing.assert_close(p64[t].float(), p[t], atol=1e-5, rtol=0)
    model.float()
    with torch.no_grad():
        getattr(body.encoder, trained_away[0].replace(".", "_")).add_(0.5)
    assert any(not torch.allclose(model.predict_proba(x)[t], p[t]) for t in model.tasks)
    # the encoder's file gives its code: a run whose file is gone names it
    moved = tmp_path / "moved"
    shutil.copytree(trained("pretrained"), moved)
    toml = (moved / "experiment.toml").read_text()
    assert TINY_ENCODER in toml
    (moved / "experiment.toml").write_text(toml.replace(TINY_ENCODER, str(tmp_path / "gone.pt")))
    with pytest.raises(FileNotFoundError, match=r"gone\.pt' \(model\.encoder\): no such file"):
        hptrain.load_run(moved)


@pytest.mark.parametrize("kind", ["ge2e", "pretrained"])
def test_bodies_that_take_their_input_as_it_is(kind):
    # net.cpp NetImpl: ge2e (raw mel power) and pretrained (waveforms) skip the normalisation
    from conftest import MODELS
    import tomllib
    cfg = model_config(tomllib.loads(MODELS[kind]))
    rows, x = (40, torch.rand(2, 40, 30)) if kind == "ge2e" else (1, torch.rand(2, 1, 8000))
    net = Net(cfg, rows, [3]).eval()
    before = net(x)[0]
    net.input_mean.fill_(5.0)
    torch.testing.assert_close(net(x)[0], before)
    cnn = Net(model_config({"channels": [4]}), 40, [3]).eval()
    x = torch.rand(2, 40, 30)
    before = cnn(x)[0]
    cnn.input_mean.fill_(5.0)
    assert not torch.allclose(cnn(x)[0], before)


def test_tabular_classifiers_per_task(trained, prepared):
    run = hptrain.load_run(trained("rf"))
    ds = hptrain.ShardDataset(prepared / "dataset.toml", "test", input="stats")
    X = np.stack([ds[i][0].numpy() for i in range(len(ds))])
    for t in run.tasks:
        c = run[t]
        assert list(c.classes_) == ds.classes(t)
        p = c.predict_proba(X)
        assert p.shape == (len(ds), len(c.classes_))
        np.testing.assert_allclose(p.sum(1), 1, atol=1e-6)
        assert set(c.predict(X)) <= set(c.classes_)
    with pytest.raises(ValueError, match="X: 3 columns"):
        run["pitch"].predict_proba(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="X: dtype float64"):
        run["pitch"].predict_proba(X.astype(np.float64))


def test_every_type_the_cpp_knows_is_defined():
    # models/config.h kModelTypes (LibTorch ones): a type added there needs its Python body here
    src = open(os.path.join(os.path.dirname(__file__), "..", "..", "cpp", "include", "hptrain",
                            "models", "config.h")).read()
    start = src.index("kModelTypes = {")
    cpp_types = [t.strip().strip('"') for t in src[start:src.index("}", start)].split("{")[1]
                 .split(",")]
    assert sorted(cpp_types) == sorted(BODIES)


def test_parameter_names_are_the_cpp_models(tmp_path):
    # tests/data/models/parameters.txt: the C++ models' state names and shapes (net_test.cpp)
    import tomllib
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    with open(os.path.join(root, "tests", "data", "models", "parameters.txt")) as f:
        want = sorted(f.read().splitlines())
    lines = []
    for name in ("cnn", "lstm"):
        with open(os.path.join(root, "experiments", f"{name}.toml"), "rb") as f:
            cfg = tomllib.load(f)
        rows = 64 if cfg["data"]["input"] == "log_mel" else 60
        net = Net(model_config(cfg["model"]), rows, [7, 2, 3])
        for k, t in net.state_dict().items():
            lines.append(f"{name} {k} {'x'.join(map(str, t.shape)) or 'scalar'}")
    assert sorted(lines) == want


def test_errors(trained, tmp_path):
    with pytest.raises(FileNotFoundError, match="no-run"):
        hptrain.load_run(tmp_path / "no-run")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="not a run folder"):
        hptrain.load_run(tmp_path / "empty")
    # a run of a newer hptrain
    newer = tmp_path / "newer"
    shutil.copytree(trained("cnn"), newer)
    m = json.loads((newer / "metrics.json").read_text())
    m["hptrain_version"] = "99.0.0"
    (newer / "metrics.json").write_text(json.dumps(m))
    with pytest.raises(ValueError, match="newer than this package"):
        hptrain.load_run(newer)
    # a damaged checkpoint, one of another run, a model type from the future
    damaged = tmp_path / "damaged"
    shutil.copytree(trained("cnn"), damaged)
    b = bytearray((damaged / "model_best.pt").read_bytes())
    b[100] ^= 1
    (damaged / "model_best.pt").write_bytes(bytes(b))
    with pytest.raises(ValueError, match="is damaged"):
        hptrain.load_run(damaged)
    other = tmp_path / "other"
    shutil.copytree(trained("cnn"), other)
    shutil.copy(trained("ecapa") / "model_best.pt", other / "model_best.pt")
    with pytest.raises(ValueError, match="of another run"):
        hptrain.load_run(other)
    future = tmp_path / "future"
    shutil.copytree(trained("cnn"), future)
    toml = (future / "experiment.toml").read_text().replace("type = 'cnn'", "type = 'conformer'")
    (future / "experiment.toml").write_text(toml)
    with pytest.raises(ValueError, match="'conformer' is not one this package loads"):
        hptrain.load_run(future)
    (future / "model_best.pt").unlink()
    tab = tmp_path / "tab"
    shutil.copytree(trained("svm"), tab)
    (tab / "model_pitch.h5").write_bytes(b"x" + (tab / "model_pitch.h5").read_bytes()[1:])
    with pytest.raises(ValueError, match="model_pitch.h5' is damaged"):
        hptrain.load_run(tab)


def test_a_changed_dataset_is_refused(trained, prepared, tmp_path):
    # the run records its dataset's [preprocess] and [features] (run.json "data"); the module
    # computes the same fingerprint, and refuses chunks or inputs made with other settings
    run = trained("cnn")
    assert hptrain._hptrain.data_fingerprint(str(prepared / "dataset.toml")) == \
        json.loads((run / "run.json").read_text())["data"]
    edited = tmp_path / "dataset.toml"
    edited.write_text((prepared / "dataset.toml").read_text().replace(
        'preset = "speech"', 'preset = "speech"\n\n[features.mel]\nn_mels = 40'))
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    toml = (copy / "experiment.toml").read_text().replace(str(prepared / "dataset.toml"),
                                                          str(edited))
    (copy / "experiment.toml").write_text(toml)
    model = hptrain.load_run(copy)
    with pytest.raises(ValueError, match=r"its \[preprocess\] or \[features\] changed"):
        model.predict_file(prepared / "film.wav")


def test_torchscript_body_is_the_files_module():
    # the file C++'s TorchScript test reads (tests/models/ge2e_test.cpp): 14 tensors, D = 8
    path = os.path.join(os.path.dirname(__file__), "..", "data", "models", "ge2e_small_script.pt")
    body = BODIES["torchscript"](model_config({"type": "torchscript", "weights": path}), 40)
    script = torch.jit.load(path)
    names = [n for n, _ in body.named_parameters()]
    assert names == [n.replace(".", "_") for n, _ in script.named_parameters()]
    assert len(names) == 14 and body.out_features == 8 and not body.normalize_input
    body.eval()
    script.eval()
    x = torch.rand(3, 40, 20)
    with torch.no_grad():
        torch.testing.assert_close(body(x), script(x))
        getattr(body, names[0]).add_(0.5)  # the body's tensors are what its module computes with
        assert not torch.allclose(body(x), script(x))
    with pytest.raises(FileNotFoundError, match="model.weights = 'nowhere.pt'"):
        BODIES["torchscript"](model_config({"type": "torchscript", "weights": "nowhere.pt"}), 40)
