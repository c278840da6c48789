"""Scrubbing back through a run and forking it (issue 19): `,` `.` Home End, space, e."""

from __future__ import annotations

import numpy as np

from nnplay.export import load_predictor
from nnplay.training import Trainer
from nnplay.tui.train_view import TrainView

from .conftest import SIZE, idle, ready, small, until

EPOCHS = 8


def status(app) -> str:
    return str(app.query_one("#status").render())


async def trained(pilot):
    app = pilot.app
    await ready(pilot)
    await pilot.press("space")
    await until(pilot, lambda: idle(app) and not app.session.can_step, 60)


async def shown_epoch(pilot, epoch: int | None):
    app = pilot.app
    await until(
        pilot,
        lambda: (
            idle(app)
            and (view := app.query_one(TrainView).last_view) is not None
            and (view.viewing.epoch if view.viewing else None) == epoch
        ),
    )


async def test_scrub_back_shows_the_epoch_as_it_was_and_a_fork_goes_on_as_the_straight_run(
    tmp_path,
):
    exp = small("circle", **{"task.samples": 200, "training.epochs": EPOCHS})
    straight = Trainer(exp.copy())
    straight.run()
    from nnplay.tui.app import PlaygroundApp

    app = PlaygroundApp(exp, "circle")
    async with app.run_test(size=SIZE) as pilot:
        await trained(pilot)
        session = app.session
        assert sorted(session.timeline) == list(range(EPOCHS + 1))  # every epoch kept
        for _ in range(3):
            await pilot.press("comma")
        await shown_epoch(pilot, EPOCHS - 3)
        view = app.query_one(TrainView).last_view
        assert f"epoch {EPOCHS - 3}/{EPOCHS}" in status(app) and "the past" in status(app)
        # the numbers and the pictures are those of that epoch, the run's future faded beside
        assert view.summary.val_loss == straight.history.val_loss[EPOCHS - 4]
        assert len(view.snapshot.history.epoch) == EPOCHS - 3
        assert view.viewing.later.val_loss == straight.history.val_loss
        # the weights of that epoch export, and say so
        app.session.export(str(tmp_path / "past.pt")).result(10)
        past = Trainer.from_state(session.timeline[EPOCHS - 3])
        now = straight.raw_inputs(validation=True)[:50]
        exported = load_predictor(str(tmp_path / "past.pt")).outputs(now)
        assert np.array_equal(exported, past.predict(now))
        assert not np.array_equal(exported, straight.predict(now))
        # Home, then End: the start, then the run now
        await pilot.press("home")
        await shown_epoch(pilot, 0)
        await pilot.press("end")
        await shown_epoch(pilot, None)
        assert "the past" not in status(app)
        # one back, one forward: the run now again, not its last epoch marked as the past
        await pilot.press("comma")
        await shown_epoch(pilot, EPOCHS - 1)
        await pilot.press("full_stop")
        await shown_epoch(pilot, None)
        assert "the past" not in status(app)
        # back to epoch 5, then space forks: no change, so exactly the straight run
        for _ in range(3):
            await pilot.press("comma")
        await shown_epoch(pilot, EPOCHS - 3)
        await pilot.press("space")
        await until(
            pilot,
            lambda: idle(app) and not app.session.can_step and app.session.trainer.epoch == EPOCHS,
            60,
        )
        assert app.session.trainer.history.val_loss == straight.history.val_loss
        ghost = app.query_one(TrainView).ghosts[0]
        assert ghost.title == f"before the fork at epoch {EPOCHS - 3}"
        assert ghost.history.val_loss == straight.history.val_loss


async def test_a_fork_with_a_new_rate_goes_on_from_the_epoch_viewed_with_it():
    exp = small("circle", **{"task.samples": 200, "training.epochs": EPOCHS})
    from nnplay.tui.app import PlaygroundApp

    app = PlaygroundApp(exp, "circle")
    async with app.run_test(size=SIZE) as pilot:
        await trained(pilot)
        first = app.session.trainer.history.val_loss
        for _ in range(4):
            await pilot.press("comma")
        await shown_epoch(pilot, EPOCHS - 4)
        app.session.send("training.lr", 0.3)  # as the form's live edit does
        app.session.fork().result(10)
        forked = Trainer.forked(app.session.timeline[EPOCHS - 4], app.session.experiment)
        assert app.session.trainer.epoch == EPOCHS - 4 and app.session.trainer.lr == 0.3
        assert app.session.trainer.history.val_loss == first[: EPOCHS - 4]
        assert forked.lr == 0.3


def test_past_the_budget_old_epochs_are_thinned_evenly_and_the_view_says_how_many_are_kept(
    monkeypatch,
):
    """A budget of about six states: forty epochs keep evenly spaced ones from the start, and
    the latest; a past View knows how many can be gone back to."""
    from nnplay.tui import session as session_module
    from nnplay.tui.session import Session, state_bytes

    run = Session(small("circle", **{"task.samples": 200, "training.epochs": 40}))
    one = state_bytes(run.timeline[0])
    monkeypatch.setattr(session_module, "TIMELINE_BUDGET", 6 * one)
    while run.advance():
        assert len(run.timeline) * one <= 7 * one  # the budget, and the state just added
    epochs = sorted(run.timeline)
    assert epochs[0] == 0 and epochs[-1] == 40 and len(epochs) < 8
    assert len(set(np.diff(epochs[:-1]))) == 1  # evenly spaced, then the latest
    run.scrub("back")
    assert run.viewing == epochs[-2]
    assert run.view().viewing.kept == len(epochs)


def test_the_memory_check_counts_the_epochs_kept_to_go_back_to(monkeypatch):
    from nnplay import memory
    from nnplay.errors import ExperimentError
    from nnplay.tui.session import TIMELINE_BUDGET, Session

    exp = small("circle")
    room = memory.training_bytes(exp) + TIMELINE_BUDGET // 2  # the run fits, its timeline not
    monkeypatch.setattr(memory, "available_bytes", lambda: 2 * room)
    Trainer(exp)  # the command line keeps no timeline: it trains
    try:
        Session(exp)
    except ExperimentError as e:
        assert "this run with the epochs kept to go back to needs about" in str(e)
    else:
        raise AssertionError("the app's run was not refused")


async def test_the_status_says_how_many_epochs_are_kept_once_thinned(monkeypatch):
    from nnplay.tui import session as session_module
    from nnplay.tui.app import PlaygroundApp

    monkeypatch.setattr(session_module, "TIMELINE_BUDGET", 1)  # the start and the latest only
    app = PlaygroundApp(small("circle", **{"task.samples": 200, "training.epochs": 6}), "circle")
    async with app.run_test(size=SIZE) as pilot:
        await trained(pilot)
        await pilot.press("comma")
        await shown_epoch(pilot, 0)
        assert "◀ the past" in status(app) and "1 of 6 epochs kept to go back to" in status(app)
