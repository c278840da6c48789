"""The teaching lab: worked backprop, gradient check, optimizer paths, diagnostics, CLI."""

import json

import numpy as np
import pytest
import torch

from nnplay.experiment import with_solution
from nnplay.lab.backprop import BackpropSetup, worked_example
from nnplay.lab.diagnostics import diagnose_trainer
from nnplay.lab.gradcheck import gradient_check, check_trainer
from nnplay.lab.optpaths import FUNCTIONS, OPTIMIZERS, render, run_path
from nnplay.presets import load_preset
from nnplay.training import Trainer


def test_worked_example_matches_the_curriculum_and_autograd():
    result = worked_example()
    step = result.numpy[0]
    np.testing.assert_allclose(step.out, [0.751365, 0.772928], atol=1e-6)
    assert step.loss == pytest.approx(0.298371, abs=1e-6)
    assert result.max_difference < 1e-12
    # the classic numbers after one step with lr 0.5
    np.testing.assert_allclose(step.after["w2"], [[0.358916, 0.408666], [0.511301, 0.561370]],
                               atol=1e-6)
    np.testing.assert_allclose(step.after["w1"][0], [0.149781, 0.199561], atol=1e-6)
    assert "0.082167041" in "\n".join(result.chain_rule())


def test_worked_example_is_editable_and_steps_again():
    setup = BackpropSetup(x=[1.0, -1.0], target=[1.0, 0.0], lr=0.1)
    result = worked_example(setup, steps=3)
    losses = [p.loss for p in result.numpy]
    assert losses[0] > losses[1] > losses[2]
    assert result.max_difference < 1e-12
    np.testing.assert_array_equal(result.numpy[1].before["w1"], result.numpy[0].after["w1"])


@pytest.mark.parametrize("name", ["first-gt-fifth", "circle", "xor", "spiral", "plane",
                                  "overfitting"])
def test_gradient_check_passes_on_preset_models(name):
    trainer = Trainer(load_preset(name))
    trainer.run_epoch()
    report = check_trainer(trainer)
    assert report.passed, report.worst[:2]
    assert report.max_error < 1e-6


class LeakyBackward(torch.autograd.Function):
    """ReLU whose backward wrongly lets gradient through where the input was negative."""

    @staticmethod
    def forward(ctx, x):
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        return grad


class BrokenReLU(torch.nn.Module):
    def forward(self, x):
        return LeakyBackward.apply(x)


def test_gradient_check_catches_a_broken_backward():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), BrokenReLU(), torch.nn.Linear(8, 1))
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    report = gradient_check(model, torch.nn.MSELoss(), x, y)
    assert not report.passed and report.max_error > 1e-2
    healthy = torch.nn.Sequential(model[0], torch.nn.ReLU(), model[2])
    assert gradient_check(healthy, torch.nn.MSELoss(), x, y).passed


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_converges_on_the_bowl(optimizer):
    path = run_path("bowl", optimizer, steps=300)
    assert path.converged_at is not None and not path.diverged
    assert path.points[0] == (-3.0, 4.0)


def test_learning_rate_too_large_diverges_and_0_9_zigzags_but_converges():
    assert run_path("bowl", "sgd", lr=1.1, steps=500).diverged
    zigzag = run_path("bowl", "sgd", lr=0.9, steps=200)
    assert zigzag.converged_at is not None
    xs = [x for x, _ in zigzag.points[:5]]
    assert all(a * b < 0 for a, b in zip(xs, xs[1:]))  # crosses the valley every step


def test_paths_are_deterministic_and_drawn():
    a = run_path("rosenbrock", "adam", steps=100)
    assert a.points == run_path("rosenbrock", "adam", steps=100).points
    lines = render("bowl", [run_path("bowl", "sgd"), run_path("bowl", "adam")], 40, 16)
    assert len(lines) == 16 and all(len(line) == 40 for line in lines)
    text = "\n".join(lines)
    assert "X" in text and "s" in text and "a" in text
    assert set(FUNCTIONS) == {"bowl", "elongated", "rosenbrock", "saddle", "himmelblau"}


def test_vanishing_gradients_are_flagged_on_the_deep_sigmoid_preset_not_on_its_fix():
    deep = Trainer(load_preset("vanishing-gradients"))
    deep.run(epochs=5)
    assert "vanishing_gradients" in [f.code for f in diagnose_trainer(deep)]
    fixed = Trainer(with_solution(load_preset("vanishing-gradients")))
    fixed.run(epochs=5)
    assert "vanishing_gradients" not in [f.code for f in diagnose_trainer(fixed)]


def test_lab_commands(nnplay_cli):
    result = nnplay_cli("backprop", "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["steps"][0]["loss"] == pytest.approx(0.298371, abs=1e-6)
    paths = json.loads(nnplay_cli("optpaths", "--function", "bowl", "--optimizers", "sgd,adam",
                                  "--json").stdout.strip().splitlines()[-1])
    assert [p["optimizer"] for p in paths["paths"]] == ["sgd", "adam"]
    assert all(p["converged_at"] for p in paths["paths"])
    check = json.loads(nnplay_cli("gradcheck", "circle", "--json").stdout.strip().splitlines()[-1])
    assert check["passed"] is True


@pytest.mark.parametrize("args, says", [
    (["optpaths", "--function", "nope"], "--function: 'nope' is not allowed"),
    (["optpaths", "--optimizers", "sgd,lbfgs"], "--optimizers: lbfgs"),
    (["optpaths", "--lr", "-1"], "--lr: -1.0 is not allowed"),
    (["optpaths", "--steps", "0"], "--steps: 0 is not allowed"),
    (["backprop", "--steps", "x"], "invalid int value"),
    (["gradcheck", "nope"], "unknown preset 'nope'"),
])
def test_lab_commands_refuse_bad_arguments_in_one_line(nnplay_cli, args, says):
    result = nnplay_cli(*args)
    assert result.returncode == 2
    assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1
