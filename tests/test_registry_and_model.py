"""Losses equal PyTorch's on the curriculum's examples; models are what describe() says."""

import pytest
import torch

from nnplay.experiment import Experiment, with_overrides
from nnplay.model import build_model, describe, parameter_count
from nnplay.registry import ACTIVATIONS, INITS, LOSSES, OPTIMIZERS, SCHEDULES


@pytest.mark.parametrize("loss, pred, target, expected", [
    ("mae", [2.5, 5.0, 3.0], [3.0, 5.0, 2.5], 0.333333),
    ("mse", [2.5, 5.0, 3.0], [3.0, 5.0, 2.5], 0.166667),
    ("smooth_l1", [1.0, 2.0, 3.0, 4.0], [3.0, 2.5, 3.5, 4.5], 0.46875),
    ("bce", [0.7, 0.2, 0.9, 0.7], [1.0, 0.0, 1.0, 0.0], 0.472288),
])
def test_regression_and_bce_losses_match_the_curriculum(loss, pred, target, expected):
    value = LOSSES[loss].build()(torch.tensor(pred), torch.tensor(target)).item()
    assert value == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("logits, labels, expected", [
    ([[1.5, 2.0, 0.5], [0.5, 1.0, 1.5]], [1, 2], 0.642200),
    ([[1.3, 0.1, 0.3], [0.9, 1.2, 0.9], [0.5, 1.4, 0.2]], [1, 2, 0], 1.452124),
])
def test_cross_entropy_and_nll_match_the_curriculum(logits, labels, expected):
    logits, labels = torch.tensor(logits), torch.tensor(labels)
    assert LOSSES["cross_entropy"].build()(logits, labels).item() == pytest.approx(expected, abs=1e-6)
    log_probs = torch.log_softmax(logits, dim=1)
    assert LOSSES["nll"].build()(log_probs, labels).item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_activation_builds(name):
    module = ACTIVATIONS[name].build()
    assert module is None if name == "linear" else isinstance(module, torch.nn.Module)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_every_optimizer_and_schedule_steps(optimizer, schedule):
    exp = with_overrides(Experiment(), {"training.optimizer": optimizer,
                                        "training.schedule": schedule})
    weight = torch.nn.Parameter(torch.ones(3))
    opt = OPTIMIZERS[optimizer].build([{"params": [weight]}], exp.training)
    sched = SCHEDULES[schedule](opt, exp.training)
    (weight**2).sum().backward()
    opt.step()
    assert (weight < 1).all()
    if sched is not None:
        sched.step()


SPECS = {
    "seeds-linear": {},
    "deep-bn-dropout": {"task.name": "circle", "training.loss": "bce", "model.hidden": [
        8, {"units": 6, "batch_norm": True, "dropout": 0.5, "activation": "tanh"}]},
    "logits": {"task.name": "feature_sum", "training.loss": "cross_entropy",
               "model.hidden": [128]},
    "log-softmax": {"task.name": "blobs", "training.loss": "nll", "model.hidden": [5]},
    "binary-ce": {"task.name": "xor", "training.loss": "cross_entropy", "model.hidden": [4]},
    "regression-poly2": {"task.name": "plane", "task.features": "poly2", "model.hidden": [3]},
}


@pytest.mark.parametrize("name", SPECS)
def test_describe_matches_the_built_model(name):
    exp = with_overrides(Experiment(), SPECS[name])
    model = build_model(exp)
    rows = describe(exp)
    assert [row.name for row in rows] == [n for n, _ in model.named_children()]
    assert parameter_count(exp) == sum(p.numel() for p in model.parameters())
    inputs = int(rows[0].detail.split(" → ")[0])
    out = model.eval()(torch.zeros(3, inputs))
    assert out.shape == (3, rows[-1].out_features)


def test_heads_follow_task_and_loss():
    def head(overrides):
        return [n for n, _ in build_model(with_overrides(Experiment(), overrides)).named_children()][-1]
    assert head({}) == "head"  # sigmoid for MSE on a binary task, as the seeds do
    assert head({"task.name": "feature_sum", "training.loss": "cross_entropy"}) == "output"
    assert head({"task.name": "plane", "goal.epochs": 0}) == "output"
    assert isinstance(build_model(with_overrides(Experiment(), {
        "task.name": "blobs", "training.loss": "nll"})).head, torch.nn.LogSoftmax)


@pytest.mark.parametrize("init", INITS)
def test_inits(init):
    torch.manual_seed(0)
    exp = with_overrides(Experiment(), {"model.init": init, "model.init_scale": 0.05,
                                        "model.hidden": [64]})
    weight = build_model(exp).hidden1.weight
    if init == "uniform":
        assert weight.abs().max() <= 0.05
    if init == "he":
        assert weight.std().item() == pytest.approx((2 / 5) ** 0.5, rel=0.3)
    if init == "xavier":
        assert weight.abs().max() <= (6 / (5 + 64)) ** 0.5
