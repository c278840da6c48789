"""One weight's next step by hand (nnplay/lab/explain.py) against the step the Trainer takes:
autograd's gradient and the torch optimizer's new value and state, for every optimizer of the
registry, with and without regularization, on hidden and output weights of presets with each
loss and activation they use."""

import numpy as np
import pytest
import torch

from nnplay.errors import ExperimentError
from nnplay.experiment import with_overrides
from nnplay.lab.explain import ARITHMETIC, explain_next_step, parse_weight
from nnplay.presets import load_experiment
from nnplay.registry import OPTIMIZERS
from nnplay.training import Trainer

TOLERANCE = 1e-6

# (preset, overrides): BCE + tanh, MSE regression + ReLU, cross-entropy + ReLU, sigmoid (deep)
NETWORKS = {
    "circle": [],
    "lr-too-high": [("training.lr", 0.01)],  # plane: MSE regression (lr 5 is the exercise)
    "feature-sum": [("model.hidden", [16])],  # cross-entropy, narrowed: the test stays quick
    "vanishing-gradients": [("model.hidden", [8, 8, 8])],
}
REGULARIZATION = {"none": [], "l1_l2": [("training.l1", 0.01), ("training.l2", 0.02)]}


def trainer_for(preset: str, overrides, steps: int = 3) -> Trainer:
    trainer = Trainer(with_overrides(load_experiment(preset), NETWORKS.get(preset, []) + overrides))
    for _ in range(steps):  # an optimizer with some state already
        trainer.step()
    return trainer


def assert_hand_equals_torch(explanation) -> None:
    e = explanation
    assert abs(e.gradient - e.gradient_autograd) <= TOLERANCE * e.gradient_scale()
    assert abs(e.new - e.new_torch) <= TOLERANCE * max(abs(e.old), abs(e.new_torch))
    for key, value in e.state_on_autograd.items():
        theirs = e.state_after_torch[key]
        assert abs(value - theirs) <= TOLERANCE * max(
            abs(theirs), abs(e.state_before.get(key) or 0)
        )
    assert e.agrees
    assert e.update != 0 and e.new == pytest.approx(e.old + e.update, rel=1e-15)


def variants():
    for preset in NETWORKS:
        for optimizer in OPTIMIZERS:
            for regularization, overrides in REGULARIZATION.items():
                yield preset, optimizer, regularization, overrides
            if optimizer in ("sgd", "rmsprop"):
                yield preset, optimizer, "momentum", [("training.momentum", 0.9)]
        yield preset, "sgd", "nesterov", [("training.momentum", 0.9), ("training.nesterov", True)]


@pytest.mark.parametrize(
    "preset,optimizer,overrides",
    [pytest.param(p, o, ov, id=f"{p}-{o}-{r}") for p, o, r, ov in variants()],
)
def test_the_hand_step_equals_autograd_and_the_torch_optimizer(preset, optimizer, overrides):
    trainer = trainer_for(preset, [("training.optimizer", optimizer), *overrides])
    # a unit ReLU keeps alive: a dead one's gradient is 0 by hand and by torch, proving nothing
    j = int((trainer.model.hidden1(trainer.X_train) > 0).sum(dim=0).argmax())
    for text in (f"hidden1.weight[{j},0]", f"output.weight[0,{j}]", f"hidden1.bias[{j}]"):
        explanation = explain_next_step(trainer, *parse_weight(text, trainer.model))
        assert_hand_equals_torch(explanation)


def test_every_optimizer_of_the_registry_has_its_arithmetic():
    assert set(ARITHMETIC) == set(OPTIMIZERS)


def test_adam_shows_its_bias_corrections_and_moments():
    trainer = trainer_for("circle", [], steps=2)
    e = explain_next_step(trainer, "output.weight", (0, 0))
    terms = {t.key: t.value for t in e.arithmetic}
    assert terms["step_count"] == 3
    assert terms["bias_correction1"] == pytest.approx(1 - 0.9**3)
    assert terms["bias_correction2"] == pytest.approx(1 - 0.999**3)
    assert terms["m_hat"] == pytest.approx(terms["exp_avg"] / (1 - 0.9**3))
    assert e.state_after["exp_avg"] == pytest.approx(e.state_after_torch["exp_avg"], rel=1e-6)
    # where nothing cancels, also relative to the gradient itself (the scale is not a free pass)
    assert e.gradient == pytest.approx(e.gradient_autograd, rel=1e-6)
    assert e.gradient_scale() < 10 * abs(e.gradient)


def test_regularization_terms_are_those_the_trainer_adds():
    trainer = trainer_for("circle", REGULARIZATION["l1_l2"] + [("training.optimizer", "sgd")])
    e = explain_next_step(trainer, "hidden1.weight", (0, 0))
    terms = {t.key: t.value for t in e.terms}
    assert terms["l1"] == pytest.approx(0.01 * np.sign(e.old))
    assert terms["l2"] == pytest.approx(0.02 * e.old)
    assert e.gradient == pytest.approx(terms["data_gradient"] + terms["l1"] + terms["l2"])
    bias = explain_next_step(trainer, "hidden1.bias", (0,))
    assert {t.key: t.value for t in bias.terms}["l2"] == 0  # biases are not regularized


def test_adamw_decay_is_decoupled_not_a_gradient_term():
    trainer = trainer_for("circle", [("training.optimizer", "adamw"), ("training.l2", 0.5)])
    e = explain_next_step(trainer, "hidden1.weight", (0, 0))
    assert {t.key: t.value for t in e.terms}["l2"] == 0
    decay = next(t for t in e.arithmetic if t.key == "decoupled_decay")
    assert decay.value == pytest.approx(e.old * (1 - e.lr * 0.5))
    assert_hand_equals_torch(e)


def test_dropout_is_explained_with_the_mask_the_step_draws():
    trainer = trainer_for("xor", [("model.dropout", 0.5)])
    e = explain_next_step(trainer, "hidden1.weight", (0, 1))
    assert e.dropout
    column = [key for key, _symbol in e.chain.factors].index("dropout")
    masks = set(e.chain.values[:, column].tolist())
    assert masks == {0.0, 2.0}  # kept units scaled by 1/(1 − p), the others dropped
    assert_hand_equals_torch(e)


def test_batch_norm_is_refused_in_one_line_naming_why():
    trainer = trainer_for("xor", [("model.batch_norm", True)], steps=0)
    with pytest.raises(ExperimentError, match="batch norm") as refused:
        explain_next_step(trainer, "hidden1.weight", (0, 0))
    assert "\n" not in str(refused.value)


def test_explaining_does_not_change_the_run():
    """The batch, the shuffle and the dropout draws are the Trainer's own: a run explained at
    every step (across an epoch's end) ends with the same weights as one that was not."""
    overrides = [("model.dropout", 0.2)]
    explained, plain = trainer_for("xor", overrides, 0), trainer_for("xor", overrides, 0)
    for _ in range(explained.steps_per_epoch + 2):
        explain_next_step(explained, "hidden2.weight", (0, 0))
        plain.step()
    for mine, theirs in zip(explained.model.parameters(), plain.model.parameters(), strict=True):
        assert torch.equal(mine, theirs)


def test_weights_are_named_as_in_the_state_dict():
    model = trainer_for("xor", [], steps=0).model
    assert parse_weight(None, model) == ("hidden1.weight", (0, 0))
    assert parse_weight("hidden2.weight[7,3]", model) == ("hidden2.weight", (7, 3))
    assert parse_weight("output.bias[0]", model) == ("output.bias", (0,))


@pytest.mark.parametrize(
    "text", ["hidden1.weight[8,0]", "hidden3.weight[0,0]", "output.bias[0,0]", "bn1.weight[0]", "x"]
)
def test_a_bad_weight_is_refused_naming_the_allowed_ones(text):
    model = trainer_for("xor", [], steps=0).model
    with pytest.raises(ExperimentError) as refused:
        parse_weight(text, model)
    message = str(refused.value)
    assert "\n" not in message and repr(text) in message
    assert "hidden1.weight[0..7, 0..1]" in message and "output.bias[0..0]" in message
