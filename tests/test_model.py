"""describe()/parameter_count() (no torch) agree with the built torch model."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from nnplay.experiment import Experiment, with_overrides
from nnplay.model import (
    build_model,
    describe,
    linear_layers,
    output_head,
    parameter_count,
    probabilities,
)

SPECS = {
    "tutorial-linear": {},
    "bce-hidden": {"training.loss": "bce", "model.hidden": [8, 4]},
    "batch-norm-dropout": {
        "task.name": "circle",
        "model.hidden": [
            {"units": 6, "batch_norm": True, "dropout": 0.3},
            {"units": 3, "activation": "tanh"},
        ],
    },
    "linear-activation": {
        "task.name": "xor",
        "model.hidden": [{"units": 5, "activation": "linear"}],
        "training.loss": "cross_entropy",
    },
    "logits-multiclass": {
        "task.name": "blobs",
        "task.classes": 6,
        "model.hidden": [12],
        "training.loss": "cross_entropy",
    },
    "log-softmax": {
        "task.name": "spiral_multi",
        "model.hidden": [10, 10],
        "training.loss": "nll",
        "task.features": "poly2",
    },
    "identity-regression": {
        "task.name": "quadratic",
        "model.hidden": [7],
        "training.loss": "smooth_l1",
    },
    "feature-sum": {
        "task.name": "feature_sum",
        "model.hidden": [128],
        "training.loss": "cross_entropy",
    },
}
HEADS = {
    "tutorial-linear": ("sigmoid", 1),
    "bce-hidden": ("sigmoid", 1),
    "batch-norm-dropout": ("sigmoid", 1),
    "linear-activation": (None, 2),
    "logits-multiclass": (None, 6),
    "log-softmax": ("log_softmax", 3),
    "identity-regression": (None, 1),
    "feature-sum": (None, 10),
}
HEAD_MODULES = {"sigmoid": nn.Sigmoid, "log_softmax": nn.LogSoftmax}


@pytest.mark.parametrize("name", list(SPECS))
def test_description_matches_the_built_model(name):
    exp = with_overrides(Experiment(), SPECS[name])
    rows = describe(exp)
    torch.manual_seed(0)
    model = build_model(exp)
    assert [row.name for row in rows] == [n for n, _ in model.named_children()]
    real = sum(p.numel() for p in model.parameters())
    assert parameter_count(exp) == real
    for row, (module_name, module) in zip(rows, model.named_children(), strict=True):
        assert row.params == sum(p.numel() for p in module.parameters()), module_name
        expected_kind = {
            nn.Linear: "linear",
            nn.BatchNorm1d: "batch_norm",
            nn.Dropout: "dropout",
        }.get(type(module), "activation")
        assert row.kind == expected_kind
    # every row's out_features is the width after that module
    from nnplay.tasks import task_shape

    x = torch.randn(4, task_shape(exp.task).inputs)
    model.eval()
    for row, module in zip(rows, model, strict=True):
        x = module(x)
        assert x.shape == (4, row.out_features), row.name
    activation, units = HEADS[name]
    head = output_head(exp)
    assert (head.activation, head.units) == (activation, units)
    last = list(model)[-1]
    if activation:
        assert isinstance(last, HEAD_MODULES[activation])
    else:
        assert isinstance(last, nn.Linear) and last.out_features == units


def test_feature_sum_has_the_curriculum_parameter_count():
    exp = with_overrides(Experiment(), SPECS["feature-sum"])
    assert parameter_count(exp) == 784 * 128 + 128 + 128 * 10 + 10 == 101_770
    assert [r.detail for r in describe(exp) if r.kind == "linear"] == ["784 → 128", "128 → 10"]


def test_module_names_and_order():
    exp = with_overrides(Experiment(), SPECS["batch-norm-dropout"])
    model = build_model(exp)
    assert [n for n, _ in model.named_children()] == [
        "hidden1",
        "bn1",
        "act1",
        "drop1",
        "hidden2",
        "act2",
        "output",
        "head",
    ]
    assert [n for n, _ in linear_layers(model)] == ["hidden1", "hidden2", "output"]
    assert model.drop1.p == 0.3


def init_exp(init, scale=0.1):
    return with_overrides(
        Experiment(),
        {
            "task.name": "circle",
            "model.hidden": [256, 128],
            "model.init": init,
            "model.init_scale": scale,
        },
    )


def test_xavier_init_bounds():
    torch.manual_seed(0)
    model = build_model(init_exp("xavier"))
    for name, layer in linear_layers(model):
        fan_out, fan_in = layer.weight.shape
        bound = math.sqrt(6 / (fan_in + fan_out))
        assert layer.weight.abs().max() <= bound, name
        assert (layer.bias == 0).all()
    assert model.hidden2.weight.abs().max() > 0.9 * math.sqrt(6 / 384)


def test_he_init_spread():
    torch.manual_seed(0)
    model = build_model(init_exp("he"))
    w = model.hidden2.weight
    assert w.std().item() == pytest.approx(math.sqrt(2 / 256), rel=0.05)
    assert (model.hidden2.bias == 0).all()


@pytest.mark.parametrize("scale", [0.05, 1.5])
def test_uniform_init_bounds(scale):
    torch.manual_seed(0)
    model = build_model(init_exp("uniform", scale))
    for _, layer in linear_layers(model):
        for p in (layer.weight, layer.bias):
            assert p.abs().max() <= scale
    assert model.hidden2.weight.abs().max() > 0.95 * scale
    assert model.hidden2.weight.mean().abs() < 0.05 * scale


def test_default_init_is_torchs_own():
    torch.manual_seed(3)
    ours = build_model(init_exp("default"))
    torch.manual_seed(3)
    theirs = nn.Sequential(
        nn.Linear(2, 256),
        nn.ReLU(),
        nn.Linear(256, 128),
        nn.ReLU(),
        nn.Linear(128, 1),
        nn.Sigmoid(),
    )
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(a, b)


def test_probabilities_for_each_head():
    from nnplay.registry import Head

    p = probabilities(Head(1, "sigmoid", "float"), np.array([[0.2], [0.9]]))
    assert np.allclose(p, [[0.8, 0.2], [0.1, 0.9]])
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    p = probabilities(Head(3, None, "index"), logits)
    assert np.allclose(p, torch.softmax(torch.tensor(logits), dim=1).numpy())
    p = probabilities(
        Head(3, "log_softmax", "index"), torch.log_softmax(torch.tensor(logits), dim=1).numpy()
    )
    assert np.allclose(p.sum(axis=1), 1) and np.allclose(p[1], 1 / 3)
