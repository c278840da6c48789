"""The exported .py script is plain PyTorch and reproduces the Trainer's run exactly."""

import subprocess
import sys

import pytest

from nnplay.experiment import with_overrides
from nnplay.export import export
from nnplay.presets import load_preset
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


@pytest.mark.parametrize("name", SETUPS)
def test_script_prints_the_trainers_losses(name, tmp_path):
    exp = with_overrides(load_preset("first-gt-fifth"), SETUPS[name])
    trainer = Trainer(exp)
    trainer.run()
    written = export(trainer.model, exp, tmp_path / "run.py")
    assert [p.name for p in written] == ["run.py", "run.data.npz"]
    assert "nnplay" not in (tmp_path / "run.py").read_text().split('"""')[2]  # no import of nnplay

    result = subprocess.run(
        [sys.executable, str(tmp_path / "run.py")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.strip().splitlines()]
    assert len(lines) == exp.training.epochs
    assert [float(line[3]) for line in lines] == trainer.history.train_loss
    assert [float(line[5]) for line in lines] == trainer.history.val_loss
