"""Exports are read back by their real clients and give nnplay's own predictions."""

import json

import numpy as np
import onnxruntime
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from nnplay.errors import ExperimentError
from nnplay.experiment import Experiment, loads, with_overrides
from nnplay.export import export, load_predictor
from nnplay.files import write_atomic
from nnplay.model import build_model
from nnplay.training import Trainer

RICH = {"task.name": "xor", "task.samples": 200, "task.features": "poly2",
        "training.loss": "bce", "training.epochs": 2, "goal.epochs": 0,
        "model.hidden": [{"units": 6, "batch_norm": True, "dropout": 0.3}, 4]}


@pytest.fixture(scope="module", params=["seeds", "rich"])
def trained(request):
    overrides = {"training.epochs": 2} if request.param == "seeds" else RICH
    trainer = Trainer(with_overrides(Experiment(), overrides))
    trainer.run()
    x = np.random.default_rng(1).uniform(-1, 1, (7, trainer.shape.raw_inputs))
    return trainer, x, trainer.predict(x)


def test_pt_reads_with_plain_torch(trained, tmp_path):
    trainer, x, expected = trained
    written = export(trainer.model, trainer.exp, tmp_path / "w.pt")
    assert [p.name for p in written] == ["w.pt", "w.toml"]
    state = torch.load(tmp_path / "w.pt", weights_only=True)
    model = build_model(loads((tmp_path / "w.toml").read_text()))
    model.load_state_dict(state)
    np.testing.assert_allclose(_torch_predict(model, trainer, x), expected, atol=1e-6)
    np.testing.assert_allclose(load_predictor(tmp_path / "w.pt").outputs(x), expected, atol=1e-6)


def _torch_predict(model, trainer, x):
    from nnplay.tasks import expand_features

    features = expand_features(x, trainer.exp.task.features).astype(np.float32)
    with torch.no_grad():
        return model.eval()(torch.from_numpy(features)).numpy()


def test_safetensors_carries_its_experiment(trained, tmp_path):
    trainer, x, expected = trained
    export(trainer.model, trainer.exp, tmp_path / "w.safetensors")
    state = load_file(tmp_path / "w.safetensors")
    with safe_open(str(tmp_path / "w.safetensors"), framework="pt") as f:
        exp = loads(f.metadata()["nnplay.experiment"])
    assert exp == trainer.exp
    model = build_model(exp)
    model.load_state_dict(state)
    np.testing.assert_allclose(_torch_predict(model, trainer, x), expected, atol=1e-6)


def test_onnx_runs_in_onnxruntime(trained, tmp_path):
    from nnplay.tasks import expand_features

    trainer, x, expected = trained
    export(trainer.model, trainer.exp, tmp_path / "w.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "w.onnx"))
    features = expand_features(x, trainer.exp.task.features).astype(np.float32)
    np.testing.assert_allclose(session.run(None, {"input": features})[0], expected, atol=1e-5)
    np.testing.assert_allclose(load_predictor(tmp_path / "w.onnx").outputs(x), expected, atol=1e-5)
    assert trainer.model.training  # exporting left the model in training mode


def test_npz_is_plain_numpy(trained, tmp_path):
    trainer, x, expected = trained
    export(trainer.model, trainer.exp, tmp_path / "w.npz")
    with np.load(tmp_path / "w.npz", allow_pickle=False) as data:
        config = json.loads(str(data["__nnplay_experiment__"]))
        arrays = {k: data[k] for k in data.files}
    assert config["task"]["name"] == trainer.exp.task.name
    np.testing.assert_allclose(load_predictor(tmp_path / "w.npz").outputs(x), expected, atol=1e-6)
    if not trainer.exp.model.hidden:  # the seeds' single layer, by hand: sigmoid(x·Wᵀ + b)
        w, b = arrays["output.weight"], arrays["output.bias"]
        np.testing.assert_allclose(1 / (1 + np.exp(-(x @ w.T + b))), expected, atol=1e-6)


@pytest.mark.parametrize("suffix, content", [
    (".pt", b"not a pickle"), (".safetensors", b"\x00\x01garbage"), (".onnx", b"junk"),
    (".npz", b"PK junk")])
def test_foreign_files_are_refused_clearly(tmp_path, suffix, content):
    path = tmp_path / f"w{suffix}"
    path.write_bytes(content)
    if suffix == ".pt":
        (tmp_path / "w.toml").write_text("")
    with pytest.raises(ExperimentError, match="not an nnplay export"):
        load_predictor(path)


def test_unknown_suffix_and_missing_file():
    with pytest.raises(ExperimentError, match="allowed suffixes: .pt"):
        export(None, Experiment(), "w.h5")
    with pytest.raises(ExperimentError, match="no such file"):
        load_predictor("/nonexistent/w.pt")


def test_atomic_write_never_leaves_a_half_written_file(tmp_path, monkeypatch):
    target = tmp_path / "w.bin"
    write_atomic(target, b"old")

    def fail(*args):
        raise OSError("disk full")
    monkeypatch.setattr("os.fsync", fail)
    with pytest.raises(OSError):
        write_atomic(target, b"new content")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["w.bin"]
