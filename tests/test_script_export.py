"""The exported .py script is plain PyTorch and reproduces the Trainer's run exactly."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from nnplay.experiment import csv_experiment, with_overrides
from nnplay.export import export, load_predictor
from nnplay.model import build_model
from nnplay.presets import load_preset, presets_dir
from nnplay.training import Trainer

SETUPS = {
    "tutorial-script": {"training.epochs": 3},
    "everything-on": {
        "task.name": "circle",
        "task.samples": 400,
        "training.loss": "bce",
        "model.hidden": [8, {"units": 6, "activation": "tanh", "batch_norm": True, "dropout": 0.2}],
        "model.init": "xavier",
        "training.optimizer": "sgd",
        "training.momentum": 0.9,
        "training.lr": 0.1,
        "training.l1": 0.001,
        "training.l2": 0.01,
        "training.schedule": "step",
        "training.step_size": 2,
        "training.epochs": 4,
        "goal.epochs": 0,
    },
    "nll-poly2-rmsprop": {
        "task.name": "spiral_multi",
        "task.features": "poly2",
        "task.samples": 300,
        "model.hidden": [8],
        "model.init": "uniform",
        "training.loss": "nll",
        "training.optimizer": "rmsprop",
        "training.schedule": "cosine",
        "training.epochs": 3,
        "goal.epochs": 0,
    },
    "features-list": {
        "task.name": "xor",
        "task.samples": 200,
        "task.features": ["x1", "x1*x2", "sin(x2)"],
        "training.loss": "bce",
        "training.epochs": 2,
        "goal.epochs": 0,
    },
    "adam-l2-exponential": {  # coupled L2 under a changing lr, on a fused optimizer
        "task.samples": 200,
        "model.hidden": [{"units": 6, "batch_norm": True}, 4],
        "training.optimizer": "adam",
        "training.lr": 0.01,
        "training.l2": 0.05,
        "training.schedule": "exponential",
        "training.gamma": 0.7,
        "training.epochs": 3,
        "goal.epochs": 0,
    },
    "regression-adamw": {
        "task.name": "quadratic",
        "task.samples": 100,
        "task.features": "poly2",
        "training.optimizer": "adamw",
        "training.lr": 0.1,
        "training.l2": 0.01,
        "training.schedule": "step",
        "training.step_size": 1,
        "training.epochs": 3,
        "goal.epochs": 0,
    },
}


def run_script(path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=path.parent,
    )


def assert_same_losses(result, trainer, epochs):
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.strip().splitlines()]
    assert len(lines) == epochs
    assert [float(line[3]) for line in lines] == trainer.history.train_loss
    assert [float(line[5]) for line in lines] == trainer.history.val_loss


@pytest.mark.parametrize("name", SETUPS)
def test_script_prints_the_trainers_losses(name, tmp_path):
    exp = with_overrides(load_preset("first-gt-fifth"), SETUPS[name])
    trainer = Trainer(exp)
    trainer.run()
    written = export(trainer.model, exp, tmp_path / "run.py")
    assert [p.name for p in written] == ["run.py"]  # it makes its data itself
    code = (tmp_path / "run.py").read_text().split('"""')[2]
    assert "nnplay" not in code.replace("nnplay's", "").replace("nnplay makes", "")  # no import
    assert "np.load" not in code and "def make(n, rng, training):" in code
    assert_same_losses(run_script(tmp_path / "run.py"), trainer, exp.training.epochs)


def test_a_script_whose_data_came_out_different_stops(tmp_path):
    exp = with_overrides(load_preset("first-gt-fifth"), SETUPS["tutorial-script"])
    path = export(Trainer(exp).model, exp, tmp_path / "run.py")[0]
    text = path.read_text()
    changed = text.replace("x = rng.random((n, DIM))", "x = rng.random((n, DIM)) * 1.0000001")
    assert changed != text
    path.write_text(changed)
    result = run_script(path)
    assert result.returncode == 1 and result.stdout == ""
    assert (
        result.stderr.strip() == "the generated data differ from nnplay's (another NumPy version?)"
    )


def test_a_csv_task_s_script_reads_its_arrays_beside_it(tmp_path):
    exp = csv_experiment(presets_dir() / "data" / "iris.csv", "species")
    exp = with_overrides(exp, {"training.epochs": 3})
    trainer = Trainer(exp)
    trainer.run()
    written = export(trainer.model, exp, tmp_path / "iris.py")
    assert [p.name for p in written] == ["iris.py", "iris.data.npz"]
    assert "np.load(data_file)" in (tmp_path / "iris.py").read_text()
    assert_same_losses(run_script(tmp_path / "iris.py"), trainer, 3)
    (tmp_path / "iris.data.npz").write_bytes(b"other")
    assert "is not the data this script was written with" in run_script(tmp_path / "iris.py").stderr


def test_the_readme_s_plain_sequential_loads_the_pt(tmp_path):
    """The README's lines, on the circle exercise's .pt: the keys it prints, and a plain
    Sequential that predicts what nnplay predicts."""
    exp = with_overrides(load_preset("circle"), {"training.epochs": 2})
    trainer = Trainer(exp)
    trainer.run()
    export(trainer.model, exp, tmp_path / "circle.pt")
    state = torch.load(tmp_path / "circle.pt", weights_only=True)
    assert list(state) == ["hidden1.weight", "hidden1.bias", "output.weight", "output.bias"]
    plain = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())
    plain.load_state_dict(dict(zip(plain.state_dict(), state.values(), strict=True)))
    assert list(plain.state_dict())[::2] == ["0.weight", "2.weight"]
    x = np.array([[0.1, 0.2], [0.9, 0.9], [-0.3, 0.0]], dtype=np.float32)
    with torch.no_grad():
        got = plain(torch.from_numpy(x))[:, 0].numpy()
    expected = load_predictor(tmp_path / "circle.pt").outputs(x)[:, 0]
    assert np.array_equal(got, expected) and len(set(got.tolist())) == 3


def test_the_script_s_note_loads_a_pt_with_batch_norm_and_dropout(tmp_path):
    """The note in the script: by name into its own model, by position into a plain one (batch
    norm adds running statistics and a counter; dropout has no tensors)."""
    exp = with_overrides(load_preset("first-gt-fifth"), SETUPS["everything-on"])
    trainer = Trainer(exp)
    trainer.run()
    export(trainer.model, exp, tmp_path / "w.pt")
    script = export(trainer.model, exp, tmp_path / "run.py")[0].read_text()
    assert 'model.load_state_dict(torch.load("w.pt", weights_only=True))' in script
    assert (
        "plain.load_state_dict(dict(zip(plain.state_dict(), state.values(), strict=True)))"
        in script
    )
    state = torch.load(tmp_path / "w.pt", weights_only=True)
    named = build_model(exp)
    named.load_state_dict(state)  # the script's names are the model's (tested above: same run)
    hidden = [nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 6), nn.BatchNorm1d(6), nn.Tanh()]
    plain = nn.Sequential(*hidden, nn.Dropout(0.2), nn.Linear(6, 1), nn.Sigmoid())
    plain.load_state_dict(dict(zip(plain.state_dict(), state.values(), strict=True)))
    named.eval(), plain.eval()
    x = torch.randn(16, 2)
    with torch.no_grad():
        assert torch.equal(plain(x), named(x))
