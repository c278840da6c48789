"""A run's state (issue 19, step 1): a Trainer built from `state()` goes on exactly as the run
would have, bit for bit, for every optimizer, schedule, dropout, batch norm, early stopping, live
edits and a state taken in the middle of an epoch; and a state is a snapshot later steps leave
alone, so two runs from one state are the same run."""

import pytest
import torch

from nnplay.experiment import Experiment, with_overrides
from nnplay.history import History
from nnplay.status import Status
from nnplay.training import Trainer

EPOCHS = 6

BASE = {
    "task.name": "circle",
    "task.samples": 120,
    "task.val_samples": 60,
    "model.hidden": [6, 6],
    "training.epochs": EPOCHS,
    "training.batch_size": 16,  # 120 samples: 8 batches an epoch, the last one smaller
    "training.lr": 0.05,
}

SETUPS = {
    "sgd": {"training.optimizer": "sgd"},
    "sgd-nesterov": {
        "training.optimizer": "sgd",
        "training.momentum": 0.9,
        "training.nesterov": True,
    },
    "adam-l2": {"training.optimizer": "adam", "training.l2": 0.01},
    "adamw": {"training.optimizer": "adamw", "training.lr": 0.02},
    "rmsprop-momentum": {
        "training.optimizer": "rmsprop",
        "training.lr": 0.01,
        "training.momentum": 0.5,
    },
    "adagrad-l1": {"training.optimizer": "adagrad", "training.l1": 0.001},
    "step-schedule": {"training.schedule": "step", "training.step_size": 2, "training.gamma": 0.5},
    "exponential-schedule": {"training.schedule": "exponential", "training.gamma": 0.8},
    "cosine-schedule": {"training.schedule": "cosine"},
    "dropout-batch-norm": {
        "model.hidden": [
            {"units": 8, "dropout": 0.3, "batch_norm": True},
            {"units": 6, "dropout": 0.2},
        ]
    },
    "early-stopping": {
        "task.noise": 0.3,
        "model.hidden": [32],
        "training.optimizer": "adam",
        "training.lr": 0.05,
        "training.epochs": 40,
        "training.patience": 2,
    },
}


def experiment(name: str) -> Experiment:
    return with_overrides(Experiment(), {**BASE, **SETUPS[name]})


def same_run(a: Trainer, b: Trainer) -> None:
    """The same history, step by step, and the same weights, bit for bit."""
    assert a.history.to_dict() == b.history.to_dict()
    assert (a.status, a.message, a.epoch, a.steps, a.weights_epoch) == (
        b.status,
        b.message,
        b.epoch,
        b.steps,
        b.weights_epoch,
    )
    mine, theirs = a.model.state_dict(), b.model.state_dict()
    assert mine.keys() == theirs.keys()
    assert all(torch.equal(mine[k], theirs[k]) for k in mine)


def other_torch_work() -> None:
    """What else a process does between saving and continuing: it uses torch's global RNG."""
    torch.manual_seed(12345)
    torch.nn.functional.dropout(torch.ones(100), 0.5)


@pytest.mark.parametrize("name", SETUPS)
@pytest.mark.parametrize("after_steps", [16, 21])  # at an epoch's end (2 epochs), mid-epoch
def test_going_on_from_a_state_is_the_run_that_never_stopped(name, after_steps):
    straight = Trainer(experiment(name))
    straight.run()
    first = Trainer(experiment(name))
    for _ in range(after_steps):
        first.step()
    state = first.state()
    assert state.steps == after_steps and state.batch == after_steps % first.steps_per_epoch
    other_torch_work()
    resumed = Trainer.from_state(state)
    resumed.run()
    same_run(straight, resumed)
    if name == "early-stopping":
        assert straight.status == "early_stopped" and straight.epoch < 40


def test_a_state_is_a_snapshot_so_two_forks_from_it_are_one_run():
    trainer = Trainer(experiment("adam-l2"))
    trainer.run(2)
    state = trainer.state()
    before = {k: v.clone() for k, v in state.model.items()}
    trainer.run()  # the original goes on: the state must not move with it
    assert all(torch.equal(before[k], v) for k, v in state.model.items())
    assert len(state.history) == 2
    one, two = Trainer.from_state(state), Trainer.from_state(state)
    one.run()
    two.run()
    same_run(one, two)
    same_run(one, trainer)


def test_live_edits_are_part_of_the_state():
    # the rate raised and L2 switched on mid-run, as the app's live settings do
    straight = Trainer(experiment("sgd-nesterov"))
    straight.run(2)
    straight.set_lr(0.2)
    straight.set_l2(0.05)
    straight.run()
    first = Trainer(experiment("sgd-nesterov"))
    first.run(2)
    first.set_lr(0.2)
    first.set_l2(0.05)
    first.step()
    resumed = Trainer.from_state(first.state())
    assert resumed.lr == 0.2 and resumed.l2 == 0.05
    resumed.run()
    same_run(straight, resumed)


def test_a_rate_raised_under_a_schedule_goes_on_under_it():
    # set_lr moves the schedule's base rate: the resumed schedule must start from the new one
    name = "step-schedule"
    straight = Trainer(experiment(name))
    straight.run(1)
    straight.set_lr(0.3)
    straight.run()
    first = Trainer(experiment(name))
    first.run(1)
    first.set_lr(0.3)
    first.run(2)
    resumed = Trainer.from_state(first.state())
    resumed.run()
    same_run(straight, resumed)
    assert straight.history.lr == [0.05, 0.3, 0.15, 0.15, 0.075, 0.075]


def test_a_diverged_or_early_stopped_state_stays_ended_with_its_kept_weights():
    ended = Trainer(experiment("early-stopping"))
    ended.run()
    resumed = Trainer.from_state(ended.state())
    assert resumed.status == "early_stopped" and resumed.step() is None
    assert resumed.weights_epoch == ended.weights_epoch < ended.epoch
    assert resumed.kept_metrics() == ended.kept_metrics()
    with_quadratic = with_overrides(
        Experiment(),
        {
            "task.name": "quadratic",
            "task.samples": 100,
            "goal.metric": "val_loss",
            "training.lr": 0.1,
            "training.optimizer": "sgd",
        },
    )
    diverged = Trainer(with_quadratic)
    diverged.run(3)
    diverged.set_lr(50.0)  # the quadratic's steps overshoot and blow up
    assert diverged.run() == "diverged"
    again = Trainer.from_state(diverged.state())
    assert again.status == "diverged" and again.message == diverged.message
    assert again.step() is None


def test_restoring_the_best_weights_leaves_the_best_checkpoint_unchanged():
    # torch's optimizers load state tensors without copying them: a restored optimizer that
    # trained on would change the kept checkpoint under it
    trainer = Trainer(experiment("early-stopping"))
    trainer.run()
    best = trainer.state().best
    kept = {k: v.clone() for k, v in best.optimizer["state"][0].items()}
    trainer.status = Status.STOPPED  # as a fork from the kept weights will
    trainer.run_epoch()
    assert all(torch.equal(kept[k], v) for k, v in trainer._best.optimizer["state"][0].items())


def test_the_state_holds_plain_data_only():
    """What a run file will store: tensors, numbers, strings, lists and dicts, no objects."""
    trainer = Trainer(experiment("dropout-batch-norm"))
    trainer.run(1)
    trainer.step()
    state = trainer.state()

    def plain(value) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, (str, int)) and plain(v) for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, (torch.Tensor, int, float, str, bool))

    for name in ("model", "optimizer", "scheduler", "shuffle_rng", "dropout_rng"):
        assert plain(getattr(state, name)), name
    assert isinstance(state.history, History) and plain(state.history.to_dict())
    assert plain(state.best.model) and plain(state.best.optimizer)
