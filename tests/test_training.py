"""The Trainer: learning, determinism, divergence, early stopping, regularization, live edits."""

import math
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
import torch

from nnplay.experiment import Experiment, with_overrides
from nnplay.export import export, load_predictor
from nnplay.history import thin
from nnplay.presets import load_preset
from nnplay.training import Trainer


def make(**overrides):
    return with_overrides(Experiment(), overrides)


def quadratic(**overrides):
    base = {
        "task.name": "quadratic",
        "task.samples": 100,
        "goal.metric": "val_loss",
        "training.optimizer": "sgd",
        "training.batch_size": 20,
    }
    return with_overrides(Experiment(), {**base, **overrides})


def weights(trainer):
    return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


# ---------------------------------------------------------------------------------------------
# Learning and determinism


def test_first_gt_fifth_learns_with_the_curriculum_setup():
    exp = load_preset("first-gt-fifth")
    assert (exp.task.samples, exp.training.batch_size, exp.training.epochs) == (5000, 20, 20)
    trainer = Trainer(exp)
    assert trainer.run() == "finished"
    h = trainer.history
    assert trainer.epoch == 20 and trainer.steps == 5000 and h.step[-1] == 5000
    assert h.val_accuracy[-1] >= 0.95
    assert h.train_loss[-1] < h.train_loss[0]
    goal = trainer.goal()
    assert goal.met and goal.reached_at_epoch <= 20 and goal.value >= 0.95
    # the weights learned what the task is: x[0] large positive, x[4] large negative
    w = trainer.model.output.weight.detach().numpy()[0]
    assert w[0] > 1 and w[4] < -1 and np.abs(w[1:4]).max() < 0.5 * min(w[0], -w[4])
    x = np.array([[0.97889086, 0.15229675, 0.31082123, 0.03504317, 0.88920843]])
    assert trainer.predict(x)[0, 0] >= 0.5


def small(**overrides):
    base = {
        "task.samples": 400,
        "training.epochs": 3,
        "model.hidden": [{"units": 6, "dropout": 0.3, "batch_norm": True}],
        "training.lr": 0.01,
    }
    return with_overrides(Experiment(), {**base, **overrides})


def test_same_seed_same_history_other_seed_differs():
    first = Trainer(small())
    first.run()
    again = Trainer(small())
    again.run()
    assert first.history.to_dict() == again.history.to_dict()
    assert all(
        torch.equal(a, b)
        for a, b in zip(first.model.parameters(), again.model.parameters(), strict=True)
    )
    other = Trainer(small(**{"training.seed": 1}))
    other.run()
    assert other.history.step_loss != first.history.step_loss
    other_data = Trainer(small(**{"task.seed": 1}))
    other_data.run()
    assert other_data.history.step_loss != first.history.step_loss
    assert not torch.equal(other_data.X_train, first.X_train)


def test_interleaved_trainers_with_dropout_stay_deterministic():
    alone = Trainer(small())
    alone.run()
    first, second = Trainer(small()), Trainer(small())
    torch.rand(100)  # someone else uses torch's global RNG meanwhile
    for _ in range(30):  # step both in turn, as a UI comparing two runs would
        first.step()
        second.step()
    first.run()
    second.run()
    assert first.history.to_dict() == alone.history.to_dict()
    assert second.history.to_dict() == alone.history.to_dict()


def test_regression_has_no_accuracy():
    trainer = Trainer(quadratic(**{"training.epochs": 3, "training.lr": 0.1}))
    trainer.run()
    h = trainer.history
    assert h.train_accuracy == [None] * 3 and h.val_accuracy == [None] * 3
    assert all(math.isfinite(v) for v in h.train_loss + h.val_loss)


def test_quadratic_fit_approaches_the_true_coefficients():
    # docs/curriculum.md §3 with poly2 features: w1·x² + w2·x + w3 by gradient descent.
    exp = quadratic(**{"task.features": "poly2", "training.lr": 0.1, "training.epochs": 300})
    trainer = Trainer(exp)
    trainer.run()
    w = trainer.model.output.weight.detach().numpy()[0]  # inputs are [x, x²]
    b = trainer.model.output.bias.item()
    assert trainer.history.train_loss[-1] < trainer.history.train_loss[0] / 100
    assert w[1] + w[0] + b == pytest.approx(9, abs=0.05)  # at x = 1
    assert b == pytest.approx(4, abs=0.3)


# ---------------------------------------------------------------------------------------------
# Steps and epochs


def test_step_advances_one_batch_and_epochs_have_ceil_n_over_b_steps():
    exp = make(**{"task.samples": 2000, "training.batch_size": 64, "training.epochs": 10})
    trainer = Trainer(exp)
    assert trainer.steps_per_epoch == 32 and trainer.status == "ready"
    loss = trainer.step()
    assert isinstance(loss, float) and trainer.steps == 1 and trainer.epoch == 0
    assert trainer.status == "running" and len(trainer.history) == 0
    assert trainer.history.step_loss.means == [loss] and trainer.history.step_loss.last == loss
    sizes = [len(xb) for xb, _ in trainer._batches]
    assert sizes == [64] * 31 + [16]  # the last batch has 16 samples
    for _ in range(30):
        trainer.step()
    assert trainer.steps == 31 and trainer.epoch == 0
    trainer.step()
    assert trainer.steps == 32 and trainer.epoch == 1 and trainer.history.step == [32]
    trainer.run_epoch()
    assert trainer.steps == 64 and trainer.epoch == 2
    assert trainer.run() == "finished"
    assert trainer.steps == 320 and trainer.history.step == list(range(32, 321, 32))
    assert len(trainer.history.step_loss) == 320
    assert trainer.step() is None and trainer.done


def test_run_with_epochs_and_callback_then_stop():
    trainer = Trainer(make(**{"task.samples": 100, "training.epochs": 10}))
    seen = []
    assert trainer.run(epochs=3, on_epoch=lambda t: seen.append(t.epoch)) == "stopped"
    assert seen == [1, 2, 3] and trainer.epoch == 3
    trainer.stop()
    assert trainer.status == "stopped" and trainer.message
    assert trainer.run() == "finished" and trainer.epoch == 10


def test_snapshot_is_thinned_and_independent():
    trainer = Trainer(
        make(**{"task.samples": 1000, "training.batch_size": 2, "training.epochs": 1})
    )
    trainer.run()
    assert len(trainer.history.step_loss) == 500
    losses = trainer.history.step_loss.means  # one a step, up to STEP_BUCKETS steps
    snap = trainer.snapshot(most_points=50)
    # averaged in runs of 16 (31 of them) and the 4 steps left: readable on a chart
    steps, means = snap.history.step_loss.points()
    assert len(means) == 32 and steps[0] == 8.5 and steps[-1] == 498.5
    expected = [sum(losses[i : i + 16]) / 16 for i in range(0, 496, 16)]
    assert means == pytest.approx([*expected, sum(losses[496:]) / 4])
    assert len(trainer.history.step_loss) == 500 and trainer.history.step_loss.means == losses
    assert (snap.status, snap.epoch, snap.epochs, snap.step, snap.steps_per_epoch) == (
        "finished",
        1,
        1,
        500,
        500,
    )
    assert snap.lr == trainer.lr and snap.steps_per_second > 0
    assert set(snap.grad_norms) == {"output"}
    with pytest.raises(FrozenInstanceError):
        snap.status = "running"
    trainer.history.train_loss.append(123.0)
    assert 123.0 not in snap.history.train_loss
    assert thin(list(range(10)), 20) == list(range(10))


# ---------------------------------------------------------------------------------------------
# Divergence


def test_divergence_keeps_the_weights_with_the_lowest_validation_loss(tmp_path):
    exp = quadratic(**{"training.lr": 0.1, "training.epochs": 100})
    trainer = Trainer(exp)
    trainer.run(epochs=3)
    at_epoch = {}
    trainer.set_lr(50.0)
    status = trainer.run(on_epoch=lambda t: at_epoch.update({t.epoch: weights(t)}))
    assert status == "diverged" and 3 <= trainer.epoch < 100
    h = trainer.history
    best = int(np.argmin(h.val_loss)) + 1
    assert trainer.weights_epoch == best
    after = weights(trainer)
    assert all(torch.isfinite(v).all() for v in after.values())
    if best > 3:
        assert all(torch.equal(at_epoch[best][k], after[k]) for k in after)
    val_loss, _ = trainer.evaluate(trainer.X_val, trainer.y_val)
    assert val_loss == pytest.approx(h.val_loss[best - 1], rel=1e-5)
    assert trainer.kept_metrics()["val_loss"] == h.val_loss[best - 1]
    # History keeps what happened, so the chart can show the blow-up
    # (a non-finite step loss itself is not recorded: a chart cannot draw it)
    assert len(h.step_loss) in (trainer.steps, trainer.steps - 1) and len(h.step_loss) > 15
    assert "Raising the learning rate from 0.1 to 50 is the likely cause" in trainer.message
    assert f"weights of epoch {best} were kept" in trainer.message
    # the kept weights export and predict
    for suffix in (".pt", ".npz"):
        path = tmp_path / f"diverged{suffix}"
        export(trainer.model, exp, path)
        predicted = load_predictor(path).outputs(np.array([[0.5]]))
        assert np.allclose(predicted, trainer.predict(np.array([[0.5]])), atol=1e-6)
    # a diverged run is over: no further step moves the weights
    assert trainer.done and trainer.step() is None and trainer.run(epochs=1) == "diverged"
    assert all(torch.equal(after[k], v) for k, v in weights(trainer).items())


def diverging(**overrides):
    return quadratic(
        **{
            "training.lr": 100.0,
            "training.batch_size": 10,
            "training.epochs": 5,
            "model.hidden": [32, 32],
            **overrides,
        }
    )


def test_divergence_in_the_first_epoch_keeps_the_initial_weights_and_the_explosion():
    trainer = Trainer(diverging())
    initial = weights(trainer)
    losses = []
    while trainer.status != "diverged" and trainer.epoch == 0:
        losses.append(trainer.step())
    assert trainer.status == "diverged", losses
    assert not math.isfinite(losses[-1])
    assert trainer.epoch == 0 and trainer.weights_epoch == 0
    assert trainer.history.step_loss.means == losses[:-1] and len(losses) > 1
    assert all(torch.equal(initial[k], v) for k, v in trainer.model.state_dict().items())
    assert "the initial weights were kept" in trainer.message
    assert "Lower the learning rate (the usual cause), or add batch norm" in trainer.message
    initial_val, _ = trainer.evaluate(trainer.X_val, trainer.y_val)
    assert trainer.kept_metrics()["val_loss"] == pytest.approx(initial_val)


def test_lr_too_high_keeps_weights_that_really_are_good(tmp_path):
    trainer = Trainer(load_preset("lr-too-high"))
    assert trainer.run() == "diverged"
    kept = trainer.kept_metrics()
    h = trainer.history
    assert kept["val_loss"] <= min([trainer._initial_metrics["val_loss"], *h.val_loss])
    assert all(p.abs().max() < 100 for p in trainer.model.parameters())
    path = tmp_path / "w.npz"
    export(trainer.model, trainer.exp, path)
    assert np.abs(load_predictor(path).outputs(np.zeros((1, trainer.shape.raw_inputs)))).max() < 100


def test_diverging_bce_run_ends_as_diverged_not_a_torch_error():
    exp = make(
        **{
            "task.name": "circle",
            "training.loss": "bce",
            "training.optimizer": "sgd",
            "training.lr": 100,
            "training.l2": 10,
            "model.hidden": [8],
            "training.epochs": 20,
            "task.samples": 200,
        }
    )
    trainer = Trainer(exp)
    assert trainer.run() == "diverged"
    assert all(p.isfinite().all() for p in trainer.model.parameters())


def test_divergence_right_after_a_live_lr_change_advises_from_the_rate_that_blew_up():
    trainer = Trainer(diverging(**{"training.lr": 0.01, "training.epochs": 50}))
    trainer.run(epochs=2)
    trainer.set_lr(100.0)
    assert trainer.run() == "diverged"
    assert "Raising the learning rate from 0.01 to 100 is the likely cause" in trainer.message
    assert trainer.lr == 0.01  # the optimizer state of the kept epoch came back with its weights


# ---------------------------------------------------------------------------------------------
# Early stopping


def test_early_stopping_restores_the_best_weights():
    exp = make(
        **{
            "task.name": "feature_sum",
            "task.samples": 300,
            "model.hidden": [64],
            "training.loss": "cross_entropy",
            "training.lr": 0.01,
            "training.epochs": 30,
            "training.patience": 3,
            "training.batch_size": 32,
        }
    )
    trainer = Trainer(exp)
    assert trainer.run() == "early_stopped"
    h = trainer.history
    best = int(np.argmin(h.val_loss))
    assert trainer.epoch == best + 1 + 3 < 30
    val_loss, _ = trainer.evaluate(trainer.X_val, trainer.y_val)
    assert val_loss == pytest.approx(h.val_loss[best], abs=1e-6)
    assert val_loss < h.val_loss[-1]
    assert f"epoch {best + 1}" in trainer.message
    assert trainer.step() is None


def test_early_stopping_off_by_default():
    trainer = Trainer(
        make(
            **{
                "task.name": "feature_sum",
                "task.samples": 300,
                "model.hidden": [64],
                "training.loss": "cross_entropy",
                "training.lr": 0.01,
                "training.epochs": 8,
            }
        )
    )
    assert trainer.run() == "finished" and trainer.epoch == 8


# ---------------------------------------------------------------------------------------------
# Regularization


def abs_sum(trainer):
    return sum(w.abs().sum().item() for w in trainer._weights)


def gt5(**overrides):
    base = {"task.samples": 500, "training.epochs": 10, "training.lr": 0.01}
    return make(**{**base, **overrides})


def test_l1_penalty_is_reported_apart_and_drives_weights_to_zero():
    plain = Trainer(gt5())
    plain.run()
    lasso = Trainer(gt5(**{"training.l1": 0.01}))
    lasso.run()
    assert plain.history.l1_penalty == [0.0] * 10
    h = lasso.history
    assert h.l1_penalty[-1] == pytest.approx(0.01 * abs_sum(lasso), rel=1e-5)
    # train_loss is the data loss only
    data_loss, _ = lasso.evaluate(lasso.X_train, lasso.y_train)
    assert h.train_loss[-1] == pytest.approx(data_loss, abs=1e-7)
    w_plain = plain.model.output.weight.detach().abs()[0]
    w_lasso = lasso.model.output.weight.detach().abs()[0]
    # the three irrelevant inputs shrink towards zero
    assert w_lasso[1:4].sum() < 0.5 * w_plain[1:4].sum()
    assert abs_sum(lasso) < abs_sum(plain)
    lasso.set_l1(0.0)
    assert lasso.l1_penalty() == 0.0


def test_l2_shrinks_the_weight_norm():
    plain = Trainer(gt5(**{"training.optimizer": "sgd", "training.lr": 0.5}))
    plain.run()
    decayed = Trainer(gt5(**{"training.optimizer": "sgd", "training.lr": 0.5, "training.l2": 0.05}))
    decayed.run()
    norm = lambda t: t.model.output.weight.detach().norm().item()  # noqa: E731
    assert norm(decayed) < 0.8 * norm(plain)
    decayed.set_l2(0.2)
    assert decayed.l2 == 0.2  # the next steps decay with it (see the torch twin below)


# ---------------------------------------------------------------------------------------------
# Live learning rate and schedules


def test_set_lr_takes_effect_at_the_next_step():
    trainer = Trainer(gt5(**{"training.optimizer": "sgd", "training.lr": 0.1}))
    for _ in range(5):
        trainer.step()
    trainer.set_lr(0.7)
    assert trainer.lr == 0.7
    before = weights(trainer)
    trainer.step()
    w = trainer.model.output.weight
    assert torch.allclose(w.detach(), before["output.weight"] - 0.7 * w.grad, atol=1e-7)
    trainer.run_epoch()
    trainer.set_lr(0.2)
    trainer.run_epoch()
    assert trainer.history.lr == [0.7, 0.2]


@pytest.mark.parametrize("schedule", ["constant", "step", "exponential", "cosine"])
def test_schedules_change_lr_per_epoch_as_torch_does(schedule):
    exp = gt5(
        **{
            "task.samples": 40,
            "training.epochs": 7,
            "training.lr": 0.1,
            "training.schedule": schedule,
            "training.step_size": 2,
            "training.gamma": 0.5,
        }
    )
    trainer = Trainer(exp)
    trainer.run()
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = {
        "constant": None,
        "step": lambda: torch.optim.lr_scheduler.StepLR(opt, 2, 0.5),
        "exponential": lambda: torch.optim.lr_scheduler.ExponentialLR(opt, 0.5),
        "cosine": lambda: torch.optim.lr_scheduler.CosineAnnealingLR(opt, 7),
    }[schedule]
    scheduler = scheduler() if scheduler else None
    expected = []
    for _ in range(7):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        if scheduler:
            scheduler.step()
    assert trainer.history.lr == pytest.approx(expected, rel=1e-12)
    if schedule != "constant":
        assert len(set(trainer.history.lr)) > 1


def test_set_lr_with_a_schedule_continues_from_the_new_rate():
    trainer = Trainer(
        gt5(
            **{
                "task.samples": 40,
                "training.epochs": 4,
                "training.schedule": "exponential",
                "training.gamma": 0.5,
                "training.lr": 0.1,
            }
        )
    )
    trainer.run(epochs=1)
    trainer.set_lr(0.8)
    trainer.run()
    assert trainer.history.lr == pytest.approx([0.1, 0.8, 0.4, 0.2])


def test_grad_norms_per_linear_layer():
    trainer = Trainer(make(**{"task.samples": 100, "model.hidden": [4, 3]}))
    assert trainer.grad_norms() == {"hidden1": 0.0, "hidden2": 0.0, "output": 0.0}
    trainer.step()
    norms = trainer.grad_norms()
    assert norms["output"] == pytest.approx(trainer.model.output.weight.grad.norm().item())
    assert all(v > 0 for v in norms.values())
    trainer.run_epoch()
    assert trainer.history.grad_norms[0] == trainer.grad_norms()


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_l2_is_torchs_weight_decay_on_the_weights_only(optimizer):
    """Twin of the Trainer's first steps in plain torch: decay on weights, none on biases/bn."""
    from nnplay.model import build_model
    from nnplay.registry import OPTIMIZERS

    exp = make(
        **{
            "task.samples": 100,
            "training.optimizer": optimizer,
            "training.lr": 0.05,
            "training.momentum": 0.5 if optimizer in ("sgd", "rmsprop") else 0.0,
            "model.hidden": [{"units": 4, "batch_norm": True}],
        }
    )
    trainer = Trainer(exp)
    torch.manual_seed(exp.training.seed)
    model = build_model(exp)
    weights_ = [model.hidden1.weight, model.output.weight]
    others = [p for p in model.parameters() if all(p is not w for w in weights_)]
    opt = OPTIMIZERS[optimizer].build(
        [{"params": weights_, "weight_decay": 0.0}, {"params": others, "weight_decay": 0.0}],
        exp.training,
    )
    loss_fn = trainer.loss_fn
    for i in range(4):
        if i == 2:  # live change between steps, in both
            trainer.set_l2(0.3)
            opt.param_groups[0]["weight_decay"] = 0.3
        trainer.step()
        xb, yb = trainer._batches[i]
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for (name, ours), theirs in zip(
        trainer.model.state_dict().items(), model.state_dict().values(), strict=True
    ):
        assert torch.allclose(ours, theirs, atol=1e-6), name
