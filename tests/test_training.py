"""The Trainer: learning, determinism, end states, live edits, regularization."""

import math

import pytest
import torch

from nnplay.experiment import Experiment, with_overrides
from nnplay.presets import load_preset
from nnplay.training import Trainer

CIRCLE = {"task.name": "circle", "task.samples": 400, "task.val_samples": 200,
          "training.loss": "bce", "model.hidden": [8], "training.lr": 0.03,
          "training.epochs": 5, "goal.epochs": 0}


def trainer(overrides=None, base=None):
    return Trainer(with_overrides(base or Experiment(), {**CIRCLE, **(overrides or {})}))


def test_same_seed_same_history_other_seed_other_history():
    a, b, c = trainer(), trainer(), trainer({"training.seed": 1})
    for t in (a, b, c):
        t.run()
    assert a.history.to_dict() == b.history.to_dict()
    assert a.history.train_loss != c.history.train_loss


def test_epoch_batch_iteration_arithmetic():
    # CURRICULUM §3: 2000 samples, batch 64 -> 32 iterations per epoch (last batch 16).
    t = trainer({"task.samples": 2000, "training.batch_size": 64, "training.epochs": 10})
    assert t.steps_per_epoch == 32
    for _ in range(31):
        t.step()
    assert t.epoch == 0 and len(t.history.step_loss) == 31
    t.step()
    assert t.epoch == 1 and t.history.step == [32]
    t.run()
    assert t.steps == 320 and t.status == "finished" and len(t.history) == 10


def test_learning_lowers_the_loss_and_records_everything():
    t = trainer({"training.epochs": 15})
    t.run()
    h = t.history
    assert h.train_loss[-1] < h.train_loss[0] * 0.7
    assert h.val_accuracy[-1] > 0.85
    assert h.lr == [0.03] * 15
    assert set(h.grad_norms[-1]) == {"hidden1", "output"}
    assert all(v > 0 for v in h.grad_norms[-1].values())


def test_divergence_stops_with_advice_and_keeps_the_last_good_weights(tmp_path):
    exp = with_overrides(load_preset("lr-too-high"), {})
    t = Trainer(exp)
    t.run()
    assert t.status == "diverged"
    assert "Lower the learning rate" in t.message
    good = t.history.epoch[-1] if len(t.history) else 0
    assert f"epoch ({good})" in t.message or f"({good})" in t.message
    assert all(torch.isfinite(p).all() for p in t.model.parameters())
    assert all(math.isfinite(v) for v in t.history.train_loss)
    assert len(t.history.step_loss) == t.steps


def test_early_stopping_restores_the_best_weights():
    t = Trainer(with_overrides(load_preset("overfitting"), {"training.patience": 5}))
    t.run()
    assert t.status == "early_stopped"
    best = min(range(len(t.history)), key=lambda i: t.history.val_loss[i])
    assert t.weights_epoch == best + 1
    assert t.evaluate(t.X_val, t.y_val)[0] == pytest.approx(t.history.val_loss[best], rel=1e-6)
    assert len(t.history) == best + 1 + 5


def test_live_learning_rate_applies_from_the_next_step():
    t = trainer()
    t.run_epoch()
    t.set_lr(0.001)
    t.run_epoch()
    assert t.history.lr == [0.03, 0.001]


def test_l1_is_reported_apart_and_drives_weights_to_zero():
    plain, sparse = trainer({"training.epochs": 20}), trainer({"training.l1": 0.01,
                                                               "training.epochs": 20})
    plain.run()
    sparse.run()
    assert plain.history.l1_penalty[-1] == 0
    w = sparse.model.hidden1.weight
    assert sparse.history.l1_penalty[-1] == pytest.approx(
        0.01 * (w.abs().sum() + sparse.model.output.weight.abs().sum()).item(), rel=1e-5)
    assert sparse.model.hidden1.weight.abs().sum() < plain.model.hidden1.weight.abs().sum()


def test_l2_shrinks_the_weights_and_can_change_live():
    plain, decayed = trainer({"training.epochs": 10}), trainer({"training.l2": 0.1,
                                                               "training.epochs": 10})
    plain.run()
    decayed.run()
    assert decayed.model.hidden1.weight.norm() < plain.model.hidden1.weight.norm()
    decayed.set_l2(0.0)
    assert decayed.l2 == 0.0


def test_l2_adds_l2_times_w_to_weight_gradients_only():
    t = trainer({"training.l2": 0.5, "training.optimizer": "sgd", "training.lr": 0.1})
    xb, yb = t.X_train[:32], t.y_train[:32]
    before = {k: v.clone() for k, v in t.model.state_dict().items()}
    t._train_batch(xb, yb)
    t.model.load_state_dict(before)
    t.optimizer.zero_grad()
    t.loss_fn(t.model(xb), yb).backward()
    grads = {n: p.grad.clone() for n, p in t.model.named_parameters()}
    after = {n: before[n] - 0.1 * (grads[n] + (0.5 * before[n] if n.endswith("weight") else 0))
             for n in grads}
    t.model.load_state_dict(before)
    t._train_batch(xb, yb)
    for name, param in t.model.named_parameters():
        assert torch.allclose(param, after[name], atol=1e-6), name


def test_schedules_decay_the_learning_rate_per_epoch():
    t = trainer({"training.schedule": "step", "training.step_size": 2, "training.gamma": 0.5})
    t.run()
    assert t.history.lr == pytest.approx([0.03, 0.03, 0.015, 0.015, 0.0075])
    t = trainer({"training.schedule": "exponential", "training.gamma": 0.9})
    t.run()
    assert t.history.lr == pytest.approx([0.03 * 0.9**i for i in range(5)])


def test_regression_has_no_accuracy_and_snapshots_are_thinned():
    t = Trainer(with_overrides(load_preset("plane"), {"training.batch_size": 4,
                                                      "training.epochs": 8}))
    t.run()
    assert t.history.val_accuracy == [None] * 8
    snap = t.snapshot(most_points=50)
    assert len(t.history.step_loss) == 1000 and len(snap.history.step_loss) == 50
    assert snap.history.step_loss[-1] == pytest.approx(sum(t.history.step_loss[-20:]) / 20)
    assert snap.status == "finished" and snap.epoch == 8


def test_stop_and_continue():
    t = trainer()
    t.step()
    t.stop()
    assert t.status == "stopped"
    t.run()
    assert t.status == "finished" and t.epoch == 5


def test_goal_judges_the_final_model():
    t = Trainer(load_preset("overfitting"))
    t.run()
    goal = t.goal()
    assert goal.epoch == 200 and goal.value == t.history.val_loss[-1]
    assert not goal.met
