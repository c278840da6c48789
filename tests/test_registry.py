"""Every registry entry builds and works: losses, activations, optimizers, schedules, inits."""

import math

import pytest
import torch
from torch import nn

from nnplay.experiment import TrainingSpec
from nnplay.registry import (
    ACTIVATIONS,
    BINARY,
    HEAD_ACTIVATIONS,
    INITS,
    LOSSES,
    MULTICLASS,
    OPTIMIZERS,
    REGRESSION,
    SCHEDULES,
)


@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_builds_and_accepts_its_head(name):
    loss = LOSSES[name]
    assert loss.title
    fn = loss.build()
    assert isinstance(fn, nn.Module)
    for kind in (BINARY, MULTICLASS, REGRESSION):
        if loss.refuses(kind) is not None:
            assert loss.title in loss.refuses(kind)
            continue
        classes = {BINARY: 2, MULTICLASS: 4, REGRESSION: 0}[kind]
        head = loss.head(kind, classes)
        logits = torch.randn(6, head.units, requires_grad=True)
        out = HEAD_ACTIVATIONS[head.activation].build()(logits) if head.activation else logits
        if head.target == "index":
            target = torch.randint(0, head.units, (6,))
        else:
            target = torch.rand(6, head.units).round() if kind == BINARY else torch.randn(6, 1)
        value = fn(out, target)
        value.backward()
        assert value.ndim == 0 and math.isfinite(value.item())
        assert logits.grad is not None and torch.isfinite(logits.grad).all()


def test_loss_kinds_and_heads():
    assert LOSSES["bce"].refuses(REGRESSION) and LOSSES["bce"].refuses(MULTICLASS)
    assert LOSSES["nll"].refuses(BINARY) and LOSSES["nll"].refuses(REGRESSION)
    assert LOSSES["cross_entropy"].refuses(REGRESSION)
    assert LOSSES["mse"].refuses(MULTICLASS)
    assert LOSSES["mse"].head(BINARY, 2).activation == "sigmoid"
    assert LOSSES["mse"].head(REGRESSION, 0).activation is None
    assert LOSSES["cross_entropy"].head(BINARY, 2).units == 2
    assert LOSSES["cross_entropy"].head(MULTICLASS, 5).units == 5
    assert LOSSES["nll"].head(MULTICLASS, 3).activation == "log_softmax"


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_every_activation_builds(name):
    module = ACTIVATIONS[name].build()
    x = torch.linspace(-3, 3, 13)
    if ACTIVATIONS[name].torch_class is None:
        assert module is None and name == "linear"
        return
    y = module(x)
    reference = {
        "relu": torch.relu(x),
        "tanh": torch.tanh(x),
        "sigmoid": torch.sigmoid(x),
        "gelu": nn.functional.gelu(x),
        "leaky_relu": torch.where(x > 0, x, 0.01 * x),
    }[name]
    assert torch.allclose(y, reference)


def test_log_softmax_head_rows_are_log_probabilities():
    out = HEAD_ACTIVATIONS["log_softmax"].build()(torch.randn(4, 3))
    assert torch.allclose(out.exp().sum(dim=1), torch.ones(4))


def fitting_problem():
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    return x, y


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_builds_and_reduces_a_loss(name):
    spec = TrainingSpec(optimizer=name, lr=0.05)
    x, y = fitting_problem()
    model = nn.Linear(3, 1)
    opt = OPTIMIZERS[name].build(model.parameters(), spec)
    assert isinstance(opt, torch.optim.Optimizer)
    assert set(OPTIMIZERS[name].uses) <= {f for f in vars(spec)}
    first = None
    for _ in range(60):
        loss = nn.functional.mse_loss(model(x), y)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


def test_optimizers_read_their_fields():
    t = TrainingSpec(optimizer="sgd", lr=0.1, momentum=0.9, nesterov=True)
    group = OPTIMIZERS["sgd"].build([nn.Parameter(torch.zeros(2))], t).param_groups[0]
    assert group["lr"] == 0.1 and group["momentum"] == 0.9 and group["nesterov"] is True
    t = TrainingSpec(optimizer="adam", lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6)
    group = OPTIMIZERS["adam"].build([nn.Parameter(torch.zeros(2))], t).param_groups[0]
    assert group["betas"] == (0.8, 0.99) and group["eps"] == 1e-6
    t = TrainingSpec(optimizer="rmsprop", alpha=0.9, momentum=0.5)
    group = OPTIMIZERS["rmsprop"].build([nn.Parameter(torch.zeros(2))], t).param_groups[0]
    assert group["alpha"] == 0.9 and group["momentum"] == 0.5
    assert OPTIMIZERS["adamw"].decay.decoupled and not OPTIMIZERS["adam"].decay.decoupled


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_every_schedule_builds_and_matches_torch(name):
    t = TrainingSpec(lr=0.1, schedule=name, step_size=2, gamma=0.5, epochs=6)
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    schedule = SCHEDULES[name](opt, t)
    lrs = []
    for _ in range(6):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if schedule is not None:
            schedule.step()
    expected = {
        "constant": [0.1] * 6,
        "step": [0.1, 0.1, 0.05, 0.05, 0.025, 0.025],
        "exponential": [0.1 * 0.5**i for i in range(6)],
        "cosine": [0.05 * (1 + math.cos(math.pi * i / 6)) for i in range(6)],
    }[name]
    assert lrs == pytest.approx(expected)


@pytest.mark.parametrize("name", list(INITS))
def test_every_init_builds_a_sensible_layer(name):
    torch.manual_seed(1)
    layer = nn.Linear(200, 100)
    INITS[name](layer, 0.1)
    w, b = layer.weight, layer.bias
    if name == "default":  # torch's kaiming-uniform: |w| <= 1/sqrt(fan_in)
        assert w.abs().max() <= 1 / math.sqrt(200) + 1e-7
    elif name == "xavier":
        bound = math.sqrt(6 / (200 + 100))
        assert w.abs().max() <= bound and w.abs().max() > 0.9 * bound
        assert (b == 0).all()
    elif name == "he":
        assert w.std().item() == pytest.approx(math.sqrt(2 / 200), rel=0.05)
        assert (b == 0).all()
    elif name == "uniform":
        assert w.abs().max() <= 0.1 and w.abs().max() > 0.09
        assert b.abs().max() <= 0.1
