"""The pictures' computations: unit maps, weights, map points and the prediction curve."""

import numpy as np
import pytest
import torch
from torch import nn

from nnplay.experiment import with_overrides
from nnplay.lab.boundary import grid_points, map_points, prediction_curve
from nnplay.lab.neurons import MAX_UNITS, input_names, layer_weights, unit_maps
from nnplay.model import probabilities
from nnplay.presets import load_preset
from nnplay.training import Trainer


def hand_set() -> nn.Sequential:
    """2 → 2 tanh → 1 sigmoid with chosen weights."""
    model = nn.Sequential()
    model.add_module("hidden1", nn.Linear(2, 2))
    model.add_module("act1", nn.Tanh())
    model.add_module("output", nn.Linear(2, 1))
    model.add_module("head", nn.Sigmoid())
    with torch.no_grad():
        model.hidden1.weight.copy_(torch.tensor([[2.0, -1.0], [0.5, 3.0]]))
        model.hidden1.bias.copy_(torch.tensor([0.25, -0.5]))
        model.output.weight.copy_(torch.tensor([[1.5, -2.0]]))
        model.output.bias.copy_(torch.tensor([0.1]))
    return model


def test_a_hand_set_units_map_equals_its_formula():
    points = grid_points(6, 4)  # 4 rows of 6, top row first
    layers = unit_maps(hand_set(), points, 4, 6)
    assert [layer.name for layer in layers] == ["inputs", "hidden1", "output"]
    x1, x2 = points[:, 0].reshape(4, 6), points[:, 1].reshape(4, 6)
    np.testing.assert_allclose(layers[0].maps[0], x1, rtol=1e-6)
    np.testing.assert_allclose(layers[0].maps[1], x2, rtol=1e-6)
    h1, h2 = np.tanh(2 * x1 - x2 + 0.25), np.tanh(0.5 * x1 + 3 * x2 - 0.5)
    np.testing.assert_allclose(layers[1].maps[0], h1, atol=1e-6)
    np.testing.assert_allclose(layers[1].maps[1], h2, atol=1e-6)
    out = 1 / (1 + np.exp(-(1.5 * h1 - 2 * h2 + 0.1)))
    np.testing.assert_allclose(layers[2].maps[0], out, atol=1e-6)
    assert layers[1].what == "tanh" and layers[2].what == "sigmoid"
    np.testing.assert_array_equal(layers[1].weights, [[2.0, -1.0], [0.5, 3.0]])
    np.testing.assert_array_equal(layers[2].bias, [np.float32(0.1)])
    assert x1[0, 0] < x1[0, -1] and x2[0, 0] > x2[-1, 0]  # x grows rightward, y upward


def test_unit_maps_use_eval_mode_and_restore_training_mode():
    model = nn.Sequential()
    model.add_module("hidden1", nn.Linear(2, 3))
    model.add_module("drop1", nn.Dropout(0.9))
    model.add_module("output", nn.Linear(3, 1))
    model.train()
    points = grid_points(4, 4)
    first = unit_maps(model, points, 4, 4)
    second = unit_maps(model, points, 4, 4)
    np.testing.assert_array_equal(first[1].maps, second[1].maps)  # no dropout noise
    assert first[1].what == "" and model.training


def test_only_the_first_units_are_drawn_but_all_are_counted():
    model = nn.Sequential()
    model.add_module("hidden1", nn.Linear(2, 20))
    model.add_module("output", nn.Linear(20, 1))
    layers = unit_maps(model, grid_points(3, 3), 3, 3)
    assert layers[1].maps.shape == (MAX_UNITS, 3, 3) and layers[1].units == 20
    assert layers[1].weights.shape == (20, 2)


def test_layer_weights_copy_small_layers_and_summarize_large_ones():
    model = nn.Sequential()
    model.add_module("hidden1", nn.Linear(2, 40))  # 80 weights: too many to list
    model.add_module("act1", nn.ReLU())
    model.add_module("output", nn.Linear(40, 1))
    big, small = layer_weights(model)
    assert big.weight is None and big.shape == (40, 2)
    assert small.shape == (1, 40)
    np.testing.assert_array_equal(small.weight, model.output.weight.detach().numpy())
    small.weight[0, 0] = 123.0  # a copy: the model is untouched
    assert model.output.weight[0, 0].item() != 123.0


def test_input_names():
    assert input_names(5, 5) == ["x1", "x2", "x3", "x4", "x5"]
    assert input_names(2, 5, "poly2") == ["x1", "x2", "x1²", "x2²", "x1·x2"]
    assert input_names(1, 2, "poly2") == ["x1", "x1²"]
    assert input_names(2, 2, ["x1^2", "x1*x2"]) == ["x1²", "x1·x2"]
    assert input_names(3, 4) == ["in1", "in2", "in3", "in4"]  # names that do not fit


def test_map_points_mark_exactly_the_misclassified():
    trainer = Trainer(with_overrides(load_preset("circle"), {"task.samples": 200}))
    points = map_points(trainer, 100)
    assert len(points.xy) == 150 and points.validation.sum() == 50
    # the plane's raw points (float64), which the network sees rounded to float32
    xy = points.xy[:100].astype(np.float32)
    np.testing.assert_array_equal(xy, trainer.X_train[:100, :2].numpy())
    guess = probabilities(trainer.head, trainer.predict(points.xy)).argmax(axis=1)
    np.testing.assert_array_equal(points.wrong, guess != points.value)
    assert 0 < points.wrong.sum() < len(points.wrong)  # an untrained net errs on some


def test_regression_points_carry_targets_and_the_curve_is_the_prediction():
    trainer = Trainer(load_preset("quadratic-fit"))
    points = map_points(trainer, 50)
    assert not points.wrong.any()
    np.testing.assert_allclose(
        points.value[:50], 2 * points.xy[:50, 0] ** 2 + 3 * points.xy[:50, 0] + 4, rtol=1e-5
    )
    curve = prediction_curve(trainer, 30, 0.0, 0.99)
    assert curve.xs[0] == 0.0 and curve.xs[-1] == pytest.approx(0.99) and len(curve.xs) == 30
    np.testing.assert_allclose(
        curve.predictions, trainer.predict(curve.xs.reshape(-1, 1))[:, 0], rtol=1e-6
    )
