"""Screenshots of the app compared with accepted ones: a cut line or a wrong colour shows as a
diff. Update them after a deliberate change with `pytest tests/tui/test_snapshots.py
--snapshot-update` and look at the report before committing.

Everything shown is seeded; the one timing on screen (steps per second) is held at zero.
"""

from dataclasses import replace

import pytest

from nnplay.tui.app import PlaygroundApp
from nnplay.tui.session import Session
from nnplay.tui.train_view import TrainView

from .conftest import idle, small, until


@pytest.fixture(autouse=True)
def no_timings(monkeypatch):
    view = Session.view

    def timeless(self):
        shown = view(self)
        return replace(shown, snapshot=replace(shown.snapshot, steps_per_second=0.0))

    monkeypatch.setattr(Session, "view", timeless)


def app_for(name: str, **overrides) -> PlaygroundApp:
    app = PlaygroundApp(small(name, **overrides), name)
    app.cursor_blink = False
    return app


async def loaded(pilot) -> None:
    await until(
        pilot, lambda: pilot.app.session is not None and pilot.app.query_one("#build").filled
    )
    await pilot.pause(0.2)


async def trained(pilot) -> None:
    await loaded(pilot)
    await pilot.press("space")
    app = pilot.app
    await until(pilot, lambda: idle(app) and not app.session.can_step, 60)
    # the worker's last frame arrives just after it stops: wait until it is the one drawn
    await until(
        pilot,
        lambda: (
            (view := app.query_one(TrainView).last_view) is not None
            and view.snapshot.step == app.session.trainer.steps
            and view.status == app.session.status
        ),
    )
    await pilot.pause(0.3)


def test_main_screen_120x40(snap_compare):
    assert snap_compare(app_for("circle"), terminal_size=(120, 40), run_before=loaded)


def test_main_screen_80x24(snap_compare):
    assert snap_compare(app_for("circle"), terminal_size=(80, 24), run_before=loaded)


def test_a_diverged_run(snap_compare):
    assert snap_compare(app_for("lr-too-high"), terminal_size=(120, 40), run_before=trained)


def test_a_met_goal(snap_compare):
    app = app_for("xor", **{"task.samples": 400})
    assert snap_compare(app, terminal_size=(120, 40), run_before=trained)


@pytest.mark.parametrize("key", ["B", "o", "g", "question_mark"])
def test_lab_screens_and_help(snap_compare, key):
    async def opened(pilot):
        await loaded(pilot)
        await pilot.press(key)
        await pilot.pause(0.5)

    assert snap_compare(app_for("circle"), terminal_size=(120, 40), run_before=opened)
