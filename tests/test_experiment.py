"""The Experiment schema: defaults, validation messages, TOML round-trips, overrides."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnplay.errors import ExperimentError
from nnplay.experiment import (
    SECTIONS, Choice, Experiment, Flag, LayerSpec, Number, apply_override, check, dumps,
    field_rule, loads, parse_assignment, problems, with_overrides, with_solution)


def test_defaults_are_valid():
    check(Experiment())
    assert problems(Experiment()) == []


def test_round_trip_keeps_layers_that_differ_from_model_defaults():
    exp = with_overrides(Experiment(), {
        "task.name": "circle", "training.loss": "bce",
        "model.hidden": [4, {"units": 3, "activation": "tanh", "dropout": 0.25,
                             "batch_norm": True}]})
    text = dumps(exp)
    assert "hidden = [" in text and 'activation = "tanh"' in text
    assert loads(text) == exp


def _value_for(rule):
    if isinstance(rule, Number):
        if rule.integer:
            return st.integers(int(rule.low) + int(rule.low_open), min(int(rule.high), 10**6))
        return st.floats(rule.low, rule.high, exclude_min=rule.low_open, allow_nan=False)
    if isinstance(rule, Choice):
        return st.sampled_from(rule.options)
    if isinstance(rule, Flag):
        return st.booleans()
    return None


_FIELDS = [(f"training.{f.name}", f.metadata["rule"])
           for f in dataclasses.fields(SECTIONS["training"])]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_valid_training_section_round_trips(data):
    exp = Experiment()
    for path, rule in _FIELDS:
        strategy = _value_for(rule)
        if strategy is not None:
            apply_override(exp, path, data.draw(strategy, label=path))
    exp.training.nesterov = exp.training.nesterov and exp.training.optimizer == "sgd" and (
        exp.training.momentum > 0)
    if problems(exp):  # only a combination rule can object; it must name a field
        assert all("." in path for path, _ in problems(exp))
        return
    assert loads(dumps(exp)) == exp


@pytest.mark.parametrize("path, value, allowed", [
    ("training.lr", -1, "> 0"),
    ("training.lr", "fast", "a number"),
    ("training.batch_size", 2.5, "whole number"),
    ("training.optimizer", "lbfgs", "sgd, adagrad, rmsprop, adam, adamw"),
    ("training.nesterov", "yes", "true or false"),
    ("task.name", "mnist", "first_gt_fifth"),
    ("task.samples", 0, ">= 1"),
    ("model.init", "zeros", "xavier"),
    ("goal.metric", "f1", "val_accuracy"),
])
def test_bad_values_name_field_value_and_what_is_allowed(path, value, allowed):
    with pytest.raises(ExperimentError) as error:
        with_overrides(Experiment(), {path: value})
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    assert allowed in message
    assert "\n" not in message


def test_set_values_are_typed_like_toml():
    assert parse_assignment("training.lr=0.01") == ("training.lr", 0.01)
    assert parse_assignment("training.nesterov=true") == ("training.nesterov", True)
    assert parse_assignment("model.hidden=[16,16]") == ("model.hidden", [16, 16])
    assert parse_assignment("training.optimizer=sgd") == ("training.optimizer", "sgd")
    exp = with_overrides(Experiment(), [parse_assignment("model.hidden=[16,16]")])
    assert [layer.units for layer in exp.model.hidden] == [16, 16]
    with pytest.raises(ExperimentError, match="section.field=value"):
        parse_assignment("training.lr")


@pytest.mark.parametrize("path", ["nosuch.lr", "training.speed", "training"])
def test_unknown_fields_are_refused(path):
    with pytest.raises(ExperimentError, match="unknown field"):
        with_overrides(Experiment(), {path: 1})


@pytest.mark.parametrize("overrides, path, advice", [
    ({"task.name": "quadratic", "training.loss": "bce", "goal.epochs": 0},
     "training.loss", "mse, mae or smooth_l1"),
    ({"training.loss": "nll"}, "training.loss", "use bce"),
    ({"task.name": "feature_sum", "training.loss": "mse"}, "training.loss", "cross_entropy"),
    ({"training.optimizer": "sgd", "training.nesterov": True}, "training.nesterov", "momentum"),
    ({"task.validation": "split", "task.val_samples": 6000}, "task.val_samples", "less than"),
    ({"task.name": "plane", "goal.epochs": 10}, "goal.metric", "val_loss"),
    ({"task.name": "circle", "task.dim": 3}, "task.dim", "allowed: 0"),
    ({"task.name": "spiral_multi", "task.classes": 2}, "task.classes", "allowed: 3 to 10"),
])
def test_combinations_that_cannot_work_are_explained(overrides, path, advice):
    exp = Experiment()
    for key, value in overrides.items():
        apply_override(exp, key, value)
    found = dict(problems(exp))
    assert path in found or any(path in message for message in found.values()), found
    assert advice in " ".join(found.values())
    with pytest.raises(ExperimentError):
        check(exp)


def test_problems_lists_every_bad_field_with_its_path():
    exp = Experiment()
    exp.training.lr = 0
    exp.model.hidden = [LayerSpec(units=0), LayerSpec(dropout=2.0)]
    paths = [path for path, _ in problems(exp)]
    assert paths == ["training.lr", "model.hidden[0].units", "model.hidden[1].dropout"]


def test_a_solution_that_does_not_apply_is_refused_at_load():
    with pytest.raises(ExperimentError, match="solution.training.lr"):
        loads('[solution]\n"training.lr" = -3\n')


def test_model_wide_activation_changes_layers_that_followed_it():
    exp = loads('[task]\nname = "circle"\n[training]\nloss = "bce"\n[model]\n'
                'activation = "sigmoid"\nhidden = [4, {units = 3, activation = "tanh"}]\n')
    exp = with_overrides(exp, {"model.activation": "relu"})
    assert [layer.activation for layer in exp.model.hidden] == ["relu", "tanh"]


def test_with_solution_applies_the_preset_overrides():
    exp = loads('[training]\nlr = 5.0\n[solution]\n"training.lr" = 0.01\n')
    assert with_solution(exp).training.lr == 0.01 and exp.training.lr == 5.0


def test_field_rules_describe_themselves_for_forms():
    rule, doc = field_rule("training.lr")
    assert rule.check(0.1) is None and rule.check(0) is not None and doc
    rule, _ = field_rule("layer.activation")
    assert "relu" in rule.options
