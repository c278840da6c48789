"""One owner: every step and every View of a session runs on the session's own thread.

Space, n, r, live edits and resizes hammered in quick succession used to let `n` step the model
on the UI thread while the worker was still finishing its step or building a View (which puts
the model in eval mode and installs hooks): a step in eval mode, or a View that saw half a batch.
"""

from __future__ import annotations

import random
import threading

from nnplay.training import Trainer
from nnplay.tui.build_panel import FieldRow, field_id
from nnplay.tui.dialogs import Confirm
from nnplay.tui.session import Session

from .conftest import SIZE, idle, ready, until


class Witness:
    """Records, for each training batch and each View, the thread and what it saw."""

    def __init__(self, monkeypatch) -> None:
        self.batches: list[tuple[threading.Thread, Session | None, bool]] = []
        self.views: list[tuple[threading.Thread, bool, bool]] = []  # (thread, owned, mid-batch)
        self.stepping: set[int] = set()  # ids of the Trainers inside a batch right now
        self.trainers: dict[int, Session] = {}
        train_batch, view = Trainer._train_batch, Session.view

        def watched_batch(trainer, *args):
            self.stepping.add(id(trainer))
            try:
                owner = self.trainers.get(id(trainer))
                self.batches.append((threading.current_thread(), owner, trainer.model.training))
                return train_batch(trainer, *args)
            finally:
                self.stepping.discard(id(trainer))

        def watched_view(session):
            self.trainers[id(session.trainer)] = session
            mid_batch = id(session.trainer) in self.stepping
            thread = threading.current_thread()
            # before the session's thread starts, the thread that built it owns it
            owned = session._owner is None or thread is session._owner
            self.views.append((thread, owned, mid_batch))
            return view(session)

        monkeypatch.setattr(Trainer, "_train_batch", watched_batch)
        monkeypatch.setattr(Session, "view", watched_view)


async def test_hammered_keys_never_step_in_eval_mode_nor_view_half_a_batch(make_app, monkeypatch):
    witness = Witness(monkeypatch)
    rng = random.Random(7)
    app = make_app("circle", **{"task.samples": 200, "training.epochs": 400})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        for i in range(160):
            choice = rng.random()
            if isinstance(app.screen, Confirm):
                await pilot.press(rng.choice("yn"))
            elif choice < 0.4:
                await pilot.press("space")
            elif choice < 0.75:
                await pilot.press("n")
            elif choice < 0.82:
                await pilot.press("r")
            elif choice < 0.92 and app.session is not None:
                app.set_focus(None)
                rate = app.query_one(f"#{field_id('training.lr')}", FieldRow).query_one("Input")
                rate.value = rng.choice(["0.1", "0.03", "0.3"])
            else:
                await pilot.resize_terminal(rng.choice([100, 120, 140]), rng.choice([30, 40]))
            if i % 10 == 0:
                await pilot.pause()
        if isinstance(app.screen, Confirm):
            await pilot.press("n")
        await until(
            pilot, lambda: idle(app) or (app.session is not None and not app.session.running)
        )
        if app.session is not None:
            await pilot.press("n")  # a last step, so there is always one to check
            await until(pilot, lambda: idle(app))
    assert len(witness.batches) > 50 and len(witness.views) > 20
    for thread, session, training in witness.batches:
        assert training, "a step ran with the model in eval mode"
        assert session is not None and thread is session._owner, f"a step ran on {thread.name}"
    for thread, owned, mid_batch in witness.views:
        assert not mid_batch, "a View was built while a batch was being trained"
        assert owned, f"a View was built on {thread.name}"


def test_a_session_without_its_thread_is_driven_by_the_caller():
    """Benchmarks and the CLI drive a Session from one thread: every command runs at once."""
    from nnplay.presets import load_preset

    session = Session(load_preset("xor"))
    views = []
    session.on_view = views.append
    session.step_once()
    session.send("training.lr", 0.5)
    assert session.trainer.steps == 1 and session.trainer.lr == 0.5
    assert len(views) == 1 and views[0].snapshot.step == 1
    assert session.call(lambda trainer: trainer.steps).result() == 1
    assert session.idle


async def test_the_app_opens_a_run_file_and_goes_on_as_the_run_would_have(tmp_path):
    """`nnplay FILE.nnrun`: the saved run, at its epoch, continues with the losses of a run that
    never stopped; quitting asks nothing, since the file holds the training so far."""
    from nnplay.run_files import read_run, write_run
    from nnplay.tui.app import PlaygroundApp

    from .conftest import small

    exp = small("xor", **{"task.samples": 200, "training.epochs": 6})
    saved = Trainer(exp.copy())
    saved.run(3)
    path = tmp_path / "xor.nnrun"
    write_run(path, saved.state())
    straight = Trainer(exp.copy())
    straight.run()
    run = read_run(path)
    app = PlaygroundApp(run.experiment, str(path), run)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert app.session.trainer.epoch == 3
        assert not app.keeper.unsaved(app.session)  # the file holds it: quitting asks nothing
        assert "epoch 3/6" in str(app.query_one("#status").render())
        await pilot.press("space")
        await until(pilot, lambda: idle(app) and not app.session.can_step)
        assert app.session.trainer.history.val_loss == straight.history.val_loss
        assert app.keeper.unsaved(app.session)  # trained past what the file holds
