"""Each exercise's right answer is true of the run it asks about: the learner believes the
screen. Every test trains the exercise as shipped (or its comparison's variants, built as
`nnplay compare NAME` builds them) and checks the facts the right answer and its explanation
state, and that the most tempting wrong answers are false."""

import math

import pytest

from nnplay.compare import plan
from nnplay.presets import load_preset
from nnplay.status import Status
from nnplay.summary import summarize


def trained(name: str, **overrides):
    """The Trainer of the exercise, or of its comparison's variant with `overrides`, run to
    its end."""
    from nnplay.training import Trainer

    exercise = load_preset(name)
    experiment = exercise
    if overrides:
        variants = {repr(sorted(v.overrides.items())): v for v in plan(exercise)}
        experiment = variants[repr(sorted(overrides.items()))].experiment
    trainer = Trainer(experiment)
    trainer.run()
    return trainer


def majority_share(trainer) -> float:
    """The share of the validation set's most common class: what answering it always scores."""
    labels = trainer.y_val.numpy().reshape(-1).tolist()
    return max(labels.count(c) for c in set(labels)) / len(labels)


def right_choice(name: str) -> str:
    p = load_preset(name).predict
    assert len(p.answer) == 1, name
    return p.choices[p.answer[0] - 1]


def test_lr_too_high_diverges_within_a_few_dozen_steps_keeping_the_initial_weights():
    assert "diverges within a few dozen steps" in right_choice("lr-too-high")
    t = trained("lr-too-high")
    s = summarize(t)
    assert s.status == Status.DIVERGED and t.steps <= 36 and t.epoch <= 2  # within two epochs
    assert s.weights_epoch == 0 and not s.goal.met  # the initial weights are kept


def test_momentum_meets_the_goal_where_plain_sgd_stays_at_the_majority_class():
    assert "plain SGD is still at the majority class, about 74%" in right_choice("momentum-vs-sgd")
    sgd = trained("momentum-vs-sgd", **{"training.optimizer": "sgd"})
    momentum = trained("momentum-vs-sgd", **{"training.optimizer": "sgd", "training.momentum": 0.9})
    plain, fast = summarize(sgd), summarize(momentum)
    assert sgd.epoch == momentum.epoch == 30
    assert fast.goal.met and fast.val_accuracy >= 0.9 and not plain.goal.met
    assert plain.val_accuracy == pytest.approx(majority_share(sgd), abs=1e-6)  # every point
    assert round(plain.val_accuracy, 2) in (0.73, 0.74, 0.75)  # "about 74%"
    # a far lower validation loss in the same epochs, not "about the same" nor "worse"
    assert fast.val_loss < plain.val_loss / 3, (fast.val_loss, plain.val_loss)


def test_momentum_makes_steps_along_a_steady_slope_up_to_ten_times_longer():
    import torch

    weight = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([weight], lr=0.05, momentum=0.9)
    steps = []
    for _ in range(200):  # a constant slope: the gradient is 1 at every step
        before = weight.item()
        optimizer.zero_grad()
        weight.sum().backward()
        optimizer.step()
        steps.append(before - weight.item())
    assert steps[0] == pytest.approx(0.05) and steps[-1] == pytest.approx(0.5, rel=1e-4)
    assert max(steps) <= 0.5 + 1e-6  # "up to": 1 / (1 - 0.9) times plain SGD's step


def test_overfitting_validation_loss_falls_then_climbs_as_the_training_loss_nears_zero():
    assert "falls at first, then climbs" in right_choice("overfitting")
    t = trained("overfitting")
    assert sum(p.numel() for p in t.model.parameters()) > 1000  # "thousands of weights"
    val, train = t.history.val_loss, t.history.train_loss
    lowest = min(range(len(val)), key=val.__getitem__)
    assert 0 < lowest < len(val) // 4, lowest  # it fell at first, and only at first
    assert val[-1] > 3 * val[lowest], (val[lowest], val[-1])  # then climbed far above
    assert train[-1] < 0.05 and train[-1] < train[lowest] / 5  # the training loss heads to 0
    # the explanation: with L2 (the solution) the validation loss stays low
    regularized = summarize(trained("overfitting", **{"training.l2": 0.01}))
    assert regularized.goal.met and regularized.val_loss < val[-1] / 3


def test_underfitting_stays_near_half_on_training_and_fresh_points_alike():
    assert "About 50%, on the training data as well" in right_choice("underfitting")
    s = summarize(trained("underfitting"))
    assert 0.4 <= s.train_accuracy <= 0.6 and 0.4 <= s.val_accuracy <= 0.6, s
    assert abs(s.train_accuracy - s.val_accuracy) < 0.05  # not memorizing either
    assert s.val_accuracy < 0.65  # not the 75% of the best straight line
    assert s.train_loss == pytest.approx(math.log(2), abs=0.01)  # the neuron answers ~0.5


def test_the_deep_sigmoid_stack_answers_the_majority_class_its_first_layers_barely_moving():
    assert "About 74%, the share of the majority class" in right_choice("vanishing-gradients")
    t = trained("vanishing-gradients")
    s = summarize(t)
    assert "it learns nothing of the circle" in right_choice("vanishing-gradients")
    assert s.status == Status.FINISHED and not s.goal.met  # it neither diverges nor succeeds
    assert s.val_accuracy == pytest.approx(majority_share(t), abs=1e-6)  # every point
    assert abs(s.train_accuracy - s.val_accuracy) < 0.05  # not overfitting either
    # "hundreds of thousands of times smaller than the output layer's", at every epoch
    for norms in t.history.grad_norms:
        assert norms["hidden1"] < 1e-5 * norms["output"], norms
    relu = summarize(trained("vanishing-gradients", **{"model.activation": "relu"}))
    assert relu.goal.met


def test_full_batch_stays_at_the_majority_class_where_mini_batches_of_20_pass_the_goal():
    assert "Full batch is far behind, still at the majority class" in right_choice("batch-size")
    full = trained("batch-size", **{"training.batch_size": 1000})
    small = trained("batch-size", **{"training.batch_size": 20})
    assert (full.steps, small.steps) == (30, 1500)  # "30 steps against 1500"
    whole, mini = summarize(full), summarize(small)
    assert whole.val_accuracy == pytest.approx(majority_share(full), abs=1e-6)  # every point
    assert mini.status == Status.FINISHED and mini.goal.met and mini.val_accuracy > 0.92
    assert mini.val_loss < whole.val_loss / 3  # not "full batch ends ahead", nor "the same"


def test_one_neuron_on_the_squares_fences_in_the_circle_and_on_the_raw_inputs_cannot():
    assert "one neuron gets over 95% right" in right_choice("circle-features")
    squares = summarize(trained("circle-features"))
    assert squares.goal.met and squares.val_accuracy > 0.95  # within the 30 epochs
    raw_run = trained("circle-features", **{"task.features": "raw"})
    assert summarize(raw_run).val_accuracy == pytest.approx(
        majority_share(raw_run), abs=1e-6
    )  # every point


def test_each_question_describes_its_exercise_as_it_is_set_up():
    """The setup each question states (a change to the preset must change the question)."""
    lr = load_preset("lr-too-high")
    assert lr.training.lr == 5 and lr.solution == {"training.lr": 0.05}  # "a hundred times"
    assert lr.training.optimizer == "sgd" and lr.training.momentum == 0  # "plain SGD"
    momentum = load_preset("momentum-vs-sgd")
    assert (momentum.training.optimizer, momentum.training.momentum) == ("sgd", 0)
    assert momentum.training.epochs == momentum.goal.epochs == 30
    assert {"training.optimizer": "sgd", "training.momentum": 0.9} in momentum.compare.overrides()
    over = load_preset("overfitting")
    assert [layer.units for layer in over.model.hidden] == [64, 64]
    assert (over.task.samples, over.training.epochs) == (80, 200) and over.task.noise > 0
    under = load_preset("underfitting")
    assert under.model.hidden == [] and under.task.name == "xor"
    assert (under.training.optimizer, under.training.epochs) == ("adam", 40)
    deep = load_preset("vanishing-gradients")
    assert [(layer.units, layer.activation) for layer in deep.model.hidden] == [(16, "sigmoid")] * 8
    assert (deep.training.optimizer, deep.training.epochs, deep.task.name) == ("adam", 40, "circle")
    batch = load_preset("batch-size")
    assert batch.training.batch_size == batch.task.samples == 1000  # "every sample"
    assert batch.training.epochs == 30 and {"training.batch_size": 20} in batch.compare.overrides()
    squares = load_preset("circle-features")
    assert squares.model.hidden == [] and squares.task.features == ["x1^2", "x2^2"]
    assert squares.training.epochs == 30
