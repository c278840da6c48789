"""Exports read back by their real clients give nnplay's own predictions; bad files are refused."""

import json
import os
import zipfile

import numpy as np
import pytest
import torch

from nnplay import files
from nnplay.errors import ExperimentError
from nnplay.experiment import Experiment, from_dict, load_file, loads, with_overrides
from nnplay.export import FORMATS, METADATA_KEY, NPZ_KEY, check_export_path, export, load_predictor
from nnplay.model import build_model, describe
from nnplay.tasks import expand_features
from nnplay.training import Trainer

MODELS = {
    "tutorial": {"task.samples": 200, "training.epochs": 2},
    "bn-dropout-poly2": {
        "task.name": "circle",
        "task.samples": 200,
        "task.features": "poly2",
        "training.epochs": 3,
        "training.lr": 0.01,
        "model.hidden": [
            {"units": 8, "batch_norm": True, "dropout": 0.3},
            {"units": 5, "activation": "tanh", "dropout": 0.2},
        ],
    },
    "nll-multiclass": {
        "task.name": "blobs",
        "task.samples": 200,
        "training.loss": "nll",
        "training.epochs": 2,
        "model.hidden": [{"units": 6, "activation": "gelu"}],
    },
    "features-list": {
        "task.name": "circle",
        "task.samples": 200,
        "training.epochs": 2,
        "task.features": ["x1*x2", "sin(x1)", "x2^2"],
        "model.hidden": [4],
    },
    "regression": {
        "task.name": "plane",
        "task.samples": 200,
        "training.epochs": 2,
        "model.hidden": [{"units": 4, "activation": "leaky_relu"}],
        "goal.metric": "val_loss",
    },
}


@pytest.fixture(scope="module", params=list(MODELS))
def trained(request):
    exp = with_overrides(Experiment(), MODELS[request.param])
    trainer = Trainer(exp)
    trainer.run()
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, (7, trainer.shape.raw_inputs))
    return trainer, x


def numpy_forward(state, exp, x_raw):
    """The network by hand in NumPy, from the exported arrays and the layer description."""
    h = expand_features(np.asarray(x_raw, dtype=np.float64), exp.task.features)
    for row in describe(exp):
        if row.kind == "linear":
            h = h @ state[f"{row.name}.weight"].T + state[f"{row.name}.bias"]
        elif row.kind == "batch_norm":
            mean, var = state[f"{row.name}.running_mean"], state[f"{row.name}.running_var"]
            h = (h - mean) / np.sqrt(var + 1e-5) * state[f"{row.name}.weight"] + state[
                f"{row.name}.bias"
            ]
        elif row.kind == "activation":
            h = {
                "relu": lambda v: np.maximum(v, 0),
                "tanh": np.tanh,
                "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
                "leaky_relu": lambda v: np.where(v > 0, v, 0.01 * v),
                "gelu": lambda v: torch.nn.functional.gelu(torch.from_numpy(v)).numpy(),
                "log_softmax": lambda v: (
                    v
                    - v.max(1, keepdims=True)
                    - np.log(np.exp(v - v.max(1, keepdims=True)).sum(1, keepdims=True))
                ),
            }[row.detail](h)
        # dropout: identity at inference
    return h


def test_pt_read_by_torch(trained, tmp_path):
    trainer, x = trained
    written = export(trainer.model, trainer.exp, tmp_path / "w.pt")
    assert written == [tmp_path / "w.pt", tmp_path / "w.toml"]
    state = torch.load(tmp_path / "w.pt", weights_only=True)
    assert load_file(tmp_path / "w.toml") == trainer.exp
    model = build_model(trainer.exp)
    model.load_state_dict(state)
    model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(expand_features(x, trainer.exp.task.features)).float())
    assert np.allclose(out.numpy(), trainer.predict(x), atol=1e-5)
    assert np.allclose(load_predictor(tmp_path / "w.pt").outputs(x), trainer.predict(x), atol=1e-5)


def test_the_trainer_and_its_export_run_the_network_the_same_way(trained, tmp_path):
    # One route for raw inputs (features, eval mode, no gradients): the same weights give the
    # very same numbers during the run and read back from a file, and dropout is off (the same
    # outputs twice). The Trainer's model is still in training mode afterwards.
    trainer, x = trained
    export(trainer.model, trainer.exp, tmp_path / "w.pt")
    ours = trainer.predict(x)
    assert trainer.model.training
    assert np.array_equal(load_predictor(tmp_path / "w.pt").outputs(x), ours)
    assert np.array_equal(trainer.predict(x), ours)


def test_safetensors_read_by_safetensors(trained, tmp_path):
    from safetensors import safe_open
    from safetensors.torch import load_file

    trainer, x = trained
    export(trainer.model, trainer.exp, tmp_path / "w.safetensors")
    assert sorted(tmp_path.iterdir()) == [tmp_path / "w.safetensors"]
    state = load_file(tmp_path / "w.safetensors")
    with safe_open(str(tmp_path / "w.safetensors"), framework="pt") as f:
        exp = loads(f.metadata()[METADATA_KEY])
    assert exp == trainer.exp
    model = build_model(exp)
    model.load_state_dict(state)
    model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(expand_features(x, exp.task.features)).float())
    assert np.allclose(out.numpy(), trainer.predict(x), atol=1e-5)
    assert np.allclose(
        load_predictor(tmp_path / "w.safetensors").outputs(x), trainer.predict(x), atol=1e-5
    )


def test_onnx_read_by_onnxruntime(trained, tmp_path):
    import onnx
    import onnxruntime

    trainer, x = trained
    export(trainer.model, trainer.exp, tmp_path / "w.onnx")
    proto = onnx.load(str(tmp_path / "w.onnx"))
    onnx.checker.check_model(proto)
    meta = {p.key: p.value for p in proto.metadata_props}
    assert loads(meta[METADATA_KEY]) == trainer.exp
    session = onnxruntime.InferenceSession(str(tmp_path / "w.onnx"))
    features = expand_features(x, trainer.exp.task.features).astype(np.float32)
    out = session.run(None, {"input": features})[0]
    assert np.allclose(out, trainer.predict(x), atol=1e-5)
    one = session.run(None, {"input": features[:1]})[0]  # dynamic batch size
    assert one.shape[0] == 1
    assert trainer.model.training  # export put the model back in training mode
    assert np.allclose(
        load_predictor(tmp_path / "w.onnx").outputs(x), trainer.predict(x), atol=1e-5
    )


def test_npz_read_by_numpy_with_a_numpy_forward_pass(trained, tmp_path):
    trainer, x = trained
    export(trainer.model, trainer.exp, tmp_path / "w.npz")
    with np.load(tmp_path / "w.npz", allow_pickle=False) as data:
        state = {k: data[k] for k in data.files if k != NPZ_KEY}
        exp = from_dict(json.loads(str(data[NPZ_KEY])))
    assert exp == trainer.exp
    assert set(state) == set(trainer.model.state_dict())
    out = numpy_forward(state, exp, x)
    assert np.allclose(out, trainer.predict(x), atol=1e-5)
    predictor = load_predictor(tmp_path / "w.npz")
    assert np.allclose(predictor.outputs(x), trainer.predict(x), atol=1e-5)
    probs = predictor.probabilities(x) if predictor.shape.kind != "regression" else None
    if probs is not None:
        assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)


def test_predictor_refuses_wrong_input_length(tmp_path):
    exp = with_overrides(Experiment(), MODELS["tutorial"])
    export(build_model(exp), exp, tmp_path / "w.npz")
    predictor = load_predictor(tmp_path / "w.npz")
    with pytest.raises(ExperimentError, match="input: 3 values is not allowed; this model takes 5"):
        predictor.outputs([[1, 2, 3]])


# ---------------------------------------------------------------------------------------------
# Bad paths and foreign or damaged files


def test_unknown_suffix_is_refused():
    with pytest.raises(
        ExperimentError,
        match=r"unknown export format '\.h5'; allowed suffixes: "
        r"\.pt, \.safetensors, \.onnx, \.npz",
    ):
        check_export_path("w.h5")
    with pytest.raises(ExperimentError, match=r"unknown export format '\(none\)'"):
        export(None, Experiment(), "weights")
    assert check_export_path("a/b.onnx").suffix in FORMATS


def foreign_files(tmp_path):
    """(path, why) pairs: files nnplay did not write, or damaged ones."""
    from safetensors.torch import save_file

    exp = with_overrides(Experiment(), MODELS["tutorial"])
    model = build_model(exp)
    cases = []
    garbage = b"\x00\x01 this is not a weights file \xff" * 10
    for suffix in FORMATS:
        path = tmp_path / f"garbage{suffix}"
        path.write_bytes(garbage)
        if suffix == ".pt":
            path.with_suffix(".toml").write_text("")  # an empty experiment beside it is valid
        cases.append(path)
    lonely = tmp_path / "lonely.pt"
    torch.save(model.state_dict(), lonely)  # no experiment beside it
    cases.append(lonely)
    plain = tmp_path / "plain.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, plain)
    cases.append(plain)
    bare = tmp_path / "bare.npz"
    np.savez(bare, weight=np.zeros(3))
    cases.append(bare)
    # the right format, but weights that do not fit the experiment beside them
    misfit = tmp_path / "misfit.pt"
    torch.save({"output.weight": torch.zeros(1, 3), "output.bias": torch.zeros(1)}, misfit)
    misfit.with_suffix(".toml").write_text("")
    cases.append(misfit)
    # a damaged (truncated) real export
    real = tmp_path / "real.safetensors"
    export(model, exp, real)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(real.read_bytes()[:-40])
    cases.append(truncated)
    real_npz = tmp_path / "real.npz"
    export(model, exp, real_npz)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(real_npz.read_bytes()[: len(real_npz.read_bytes()) // 2])
    cases.append(cut)
    real_onnx = tmp_path / "real.onnx"
    export(model, exp, real_onnx)
    cut_onnx = tmp_path / "cut.onnx"
    cut_onnx.write_bytes(real_onnx.read_bytes()[:100])
    cases.append(cut_onnx)
    return cases


def test_foreign_or_damaged_files_are_refused_clearly(tmp_path):
    for path in foreign_files(tmp_path):
        with pytest.raises(ExperimentError) as info:
            load_predictor(path)
        message = str(info.value)
        assert message.startswith(f"{path}: "), message
        assert "not an nnplay export" in message, message
        assert "\n" not in message


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ExperimentError, match="no such file"):
        load_predictor(tmp_path / "nothing.pt")


def test_npz_with_a_pickled_object_is_refused(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, **{NPZ_KEY: np.array([{"a": 1}], dtype=object)})
    with pytest.raises(ExperimentError, match="not an nnplay export"):
        load_predictor(path)


# ---------------------------------------------------------------------------------------------
# Atomic writes


def test_atomic_write_replaces_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "w.npz"
    exp = with_overrides(Experiment(), MODELS["tutorial"])
    export(build_model(exp), exp, target)
    export(build_model(exp), exp, target)
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]
    assert zipfile.is_zipfile(target)


@pytest.mark.parametrize("fail_in", ["fsync", "replace"])
def test_failed_write_keeps_the_old_file_intact(tmp_path, monkeypatch, fail_in):
    target = tmp_path / "w.safetensors"
    exp = with_overrides(Experiment(), MODELS["tutorial"])
    torch.manual_seed(0)
    export(build_model(exp), exp, target)
    old = target.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, fail_in, boom)
    torch.manual_seed(1)
    with pytest.raises(OSError, match="disk full"):
        export(build_model(exp), exp, target)
    monkeypatch.undo()
    assert target.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]
    assert load_predictor(target).exp == exp


def test_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "exp.toml"
    target.write_text("old")
    real_fdopen = os.fdopen

    class Interrupted:
        def __init__(self, fd, mode):
            self.f = real_fdopen(fd, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "fdopen", Interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.write_atomic(target, b"new contents that are never fully written")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["exp.toml"]


def test_written_files_are_readable_by_others(tmp_path):
    import stat

    path = files.write_atomic(tmp_path / "w.bin", b"data")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
