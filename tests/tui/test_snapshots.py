"""Screenshots of the app compared with accepted ones: a cut line or a wrong colour shows as a
diff. Update them after a deliberate change with `pytest tests/tui/test_snapshots.py
--snapshot-update` and look at the report before committing.

Everything shown is seeded; the one timing on screen (steps per second) is held at zero.
"""

from dataclasses import replace

import pytest
from textual.widgets import Input

from nnplay import compare
from nnplay.tui import compare_view
from nnplay.tui.app import PlaygroundApp
from nnplay.tui.build_panel import field_id
from nnplay.tui.compare_view import CompareScreen
from nnplay.tui.predict_dialog import PredictDialog, RevealDialog
from nnplay.tui.session import Session
from nnplay.tui.train_view import TrainView

from .conftest import idle, small, speaking, until


@pytest.fixture(autouse=True)
def no_timings(monkeypatch):
    view = Session.view

    def timeless(self):
        shown = view(self)
        return replace(shown, snapshot=replace(shown.snapshot, steps_per_second=0.0))

    monkeypatch.setattr(Session, "view", timeless)


def app_for(name: str, asks: bool = False, **overrides) -> PlaygroundApp:
    app = PlaygroundApp(small(name, asks, **overrides), name)
    app.cursor_blink = False
    return app


async def loaded(pilot) -> None:
    await until(
        pilot, lambda: pilot.app.session is not None and pilot.app.query_one("#build").filled
    )
    # A toast lasts five seconds: whether it is still up depends on how fast the machine loads
    pilot.app.clear_notifications()
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


@pytest.mark.parametrize("language", ["en", "zh"])
def test_80x24_with_the_build_panel_after_training(snap_compare, language):
    """The tightest common screen: buttons, tabs, the status line and the layer rows whole."""

    async def panel_shown(pilot):
        await trained(pilot)
        await pilot.press("b")  # hidden at the start below 100 columns
        await pilot.pause(0.3)

    with speaking(language):
        app = app_for("circle", **{"training.epochs": 2})
        assert snap_compare(app, terminal_size=(80, 24), run_before=panel_shown)


async def asked(pilot) -> None:
    """Space on an exercise that asks: its question, before anything trains."""
    await loaded(pilot)
    await pilot.press("space")
    await until(pilot, lambda: isinstance(pilot.app.screen, PredictDialog))
    await pilot.pause(0.3)


@pytest.mark.parametrize(("language", "size"), [("en", (120, 40)), ("zh", (80, 24))])
def test_the_question_before_the_first_run(snap_compare, language, size):
    with speaking(language):
        app = app_for("batch-size", asks=True)
        assert snap_compare(app, terminal_size=size, run_before=asked)


def test_the_answer_after_the_run(snap_compare):
    async def revealed(pilot):
        await asked(pilot)
        await pilot.press("1")  # tempted: bigger steps are faster
        await until(pilot, lambda: isinstance(pilot.app.screen, RevealDialog))
        await until(pilot, lambda: idle(pilot.app))
        await pilot.pause(0.3)

    app = app_for("lr-too-high", asks=True)
    assert snap_compare(app, terminal_size=(120, 40), run_before=revealed)


def test_a_diverged_run(snap_compare):
    assert snap_compare(app_for("lr-too-high"), terminal_size=(120, 40), run_before=trained)


@pytest.mark.parametrize(
    ("name", "tab"),
    [("xor", "2"), ("xor", "3"), ("first-gt-fifth", "4")],
    ids=["map", "neurons", "weights"],
)
def test_the_pictures_after_training(snap_compare, name, tab):
    async def shown(pilot):
        await trained(pilot)
        await pilot.press(tab)
        await until(pilot, lambda: idle(pilot.app))
        await pilot.pause(0.3)

    app = app_for(name, **{"task.samples": 400})
    assert snap_compare(app, terminal_size=(120, 40), run_before=shown)


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_the_network_tab(snap_compare, size, language):
    """Every unit with its map, every connection coloured by its weight, one selected."""

    async def shown(pilot):
        await loaded(pilot)
        await pilot.press("n", "n", "n", "n", "5")
        await until(pilot, lambda: idle(pilot.app))
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.pause(0.3)

    with speaking(language):
        assert snap_compare(app_for("circle"), terminal_size=size, run_before=shown)


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


def test_earlier_runs_faded_after_a_reset(snap_compare):
    async def reset_after_a_run(pilot):
        await trained(pilot)
        app = pilot.app
        app.query_one(f"#{field_id('training.lr')} Input", Input).value = "0.01"
        await pilot.pause()
        await pilot.press("r", "y")  # yes: the trained run may be lost
        await loaded(pilot)
        await until(pilot, lambda: app.query_one(TrainView).ghosts)
        await pilot.pause(0.3)

    app = app_for("circle", **{"training.epochs": 3, "task.samples": 200})
    assert snap_compare(app, terminal_size=(120, 40), run_before=reset_after_a_run)


def test_a_finished_comparison(snap_compare, monkeypatch):
    """momentum-vs-sgd's own comparison; the timings on screen are held at zero and the
    processes at two, whatever the machine."""
    monkeypatch.setattr(compare_view, "perf_counter", lambda: 0.0)
    monkeypatch.setattr(compare, "default_workers", lambda variants: 2)
    arrived = CompareScreen._arrived
    monkeypatch.setattr(
        CompareScreen, "_arrived", lambda self, result: arrived(self, replace(result, seconds=0.0))
    )

    async def compared(pilot):
        await loaded(pilot)
        await pilot.press("c")
        await pilot.pause(0.3)
        await pilot.press("enter")  # the exercise's own comparison
        app = pilot.app
        await until(pilot, lambda: isinstance(app.screen, CompareScreen))
        await until(pilot, lambda: app.screen.seconds is not None, 120)
        await pilot.pause(0.5)

    app = app_for("momentum-vs-sgd", **{"training.epochs": 5, "task.samples": 200})
    assert snap_compare(app, terminal_size=(120, 40), run_before=compared)
