"""task.features as a list of inputs: validation, TOML round trip, shapes, and the lesson."""

import numpy as np
import pytest

from nnplay.errors import ExperimentError
from nnplay.experiment import Experiment, dumps, from_dict, loads, with_overrides
from nnplay.export import export, load_predictor
from nnplay.model import describe, parameter_count
from nnplay.presets import load_preset
from nnplay.training import Trainer

CIRCLE = {"task.name": "circle", "task.samples": 200, "training.loss": "bce", "training.epochs": 2}


def test_a_list_round_trips_through_toml_in_toggle_order():
    exp = with_overrides(Experiment(), {**CIRCLE, "task.features": ["sin(x2)", "x1", "x1*x2"]})
    assert exp.task.features == ["x1", "x1*x2", "sin(x2)"]
    text = dumps(exp)
    assert 'features = [\n    "x1",\n    "x1*x2",\n    "sin(x2)",\n]' in text
    assert loads(text) == exp
    assert loads(dumps(with_overrides(exp, {"task.features": "poly2"}))).task.features == "poly2"


@pytest.mark.parametrize("value", [[], ["x3"], ["x1", "x1"], "x1", ["x1", 2], "poly3"])
def test_bad_features_name_the_field_and_the_allowed_names(value):
    with pytest.raises(ExperimentError) as info:
        from_dict({"task": {"name": "circle", "features": value}})
    message = str(info.value)
    assert message.startswith("task.features: ") and "\n" not in message
    assert "x1, x2, x1^2, x2^2, x1*x2, sin(x1), sin(x2)" in message and "raw or poly2" in message


def test_a_list_on_a_task_that_is_not_2d_is_refused():
    with pytest.raises(ExperimentError, match="^task.features: a list of features is for 2-D"):
        from_dict({"task": {"name": "first_gt_fifth", "features": ["x1"]}})


@pytest.mark.parametrize(
    "features,inputs", [("raw", 2), ("poly2", 5), (["x2^2"], 1), (["x1^2", "x2^2", "sin(x1)"], 3)]
)
def test_input_size_and_parameter_count_follow_the_features(features, inputs):
    exp = with_overrides(Experiment(), {**CIRCLE, "task.features": features, "model.hidden": [4]})
    assert describe(exp)[0].detail == f"{inputs} → 4"
    assert parameter_count(exp) == inputs * 4 + 4 + 4 + 1
    trainer = Trainer(exp)
    assert trainer.X_train.shape == (200, inputs)
    assert sum(p.numel() for p in trainer.model.parameters()) == parameter_count(exp)


def test_prediction_and_every_weights_export_apply_the_same_features(tmp_path):
    exp = with_overrides(
        Experiment(), {**CIRCLE, "task.features": ["x1*x2", "sin(x2)"], "model.hidden": [3]}
    )
    trainer = Trainer(exp)
    trainer.run()
    raw = np.array([[0.3, -0.7], [0.9, 0.1], [-0.5, -0.5]])
    expected = trainer.predict(raw)
    # by hand: the network sees x1*x2 and sin(x2)
    import torch

    seen = torch.tensor(np.stack([raw[:, 0] * raw[:, 1], np.sin(raw[:, 1])], axis=1)).float()
    trainer.model.eval()
    assert np.allclose(expected, trainer.model(seen).detach().numpy(), atol=1e-6)
    for suffix in (".pt", ".safetensors", ".onnx", ".npz"):
        export(trainer.model, exp, tmp_path / f"w{suffix}")
        predictor = load_predictor(tmp_path / f"w{suffix}")
        assert predictor.exp.task.features == ["x1*x2", "sin(x2)"]
        assert np.allclose(predictor.outputs(raw), expected, atol=1e-5), suffix


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_circle_features_lesson_one_neuron_draws_the_circle(seed):
    exp = load_preset("circle-features")
    assert exp.model.hidden == [] and exp.task.features == ["x1^2", "x2^2"]
    seeded = {"training.seed": seed, "task.seed": seed}
    squares = Trainer(with_overrides(exp, seeded))
    squares.run()
    assert squares.goal().met and squares.history.val_accuracy[-1] >= 0.95
    w = squares.model.output.weight.detach().numpy().ravel()
    assert (w < -5).all()  # both squares push towards "inside": x1² + x2² below a threshold
    raw = Trainer(with_overrides(exp, {**seeded, "task.features": "raw"}))
    raw.run()
    assert raw.history.val_accuracy[-1] < 0.8  # a line on x1, x2: little over the majority


@pytest.mark.parametrize("features", [["x2^2"], ["x1^2", "x2^2"], ["sin(x1)", "x1*x2"]])
def test_map_points_are_the_planes_coordinates_whatever_the_features(features):
    from nnplay.lab.boundary import map_points

    trainer = Trainer(with_overrides(Experiment(), {**CIRCLE, "task.features": features}))
    raw = with_overrides(Experiment(), CIRCLE)
    x_raw = Trainer(raw).X_train.numpy()
    points = map_points(trainer, 50)
    assert points.xy.shape == (75, 2)
    np.testing.assert_allclose(points.xy[:50], x_raw[:50], rtol=1e-6)
