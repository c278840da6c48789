"""What a served app reports to `nnplay serve`'s teacher's page (tab_status): the run now, even
scrubbed back; and a terminal app reports nothing. A served app also sends fewer frames."""

from __future__ import annotations

import pytest

from nnplay.tab_status import StatusReporter, TabStatus
from nnplay.tui.app import FASTEST_WEB_FRAME, PlaygroundApp
from nnplay.tui.session import FASTEST_FRAME
from nnplay.tui.train_view import TrainView

from .conftest import SIZE, idle, ready, until


@pytest.fixture
def reports(monkeypatch) -> list[TabStatus]:
    """Every report the app makes (the server's pipe is not there in a test)."""
    sent: list[TabStatus] = []
    monkeypatch.setattr(StatusReporter, "report", lambda self, status: sent.append(status))
    return sent


@pytest.mark.parametrize("served", [True, False])
async def test_a_served_app_reports_its_run_now(make_app, monkeypatch, reports, served):
    monkeypatch.setattr(PlaygroundApp, "is_web", property(lambda self: served))
    app = make_app("circle", **{"training.epochs": 4, "goal.epochs": 4})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("space")
        await until(pilot, lambda: idle(app) and not app.session.can_step, 60)
        await pilot.press("comma")  # scrubbed back: the page still shows the run now
        await until(pilot, lambda: (v := app.query_one(TrainView).last_view) and v.viewing)
        if served:  # a look a second: wait for one after the run ended (a busy machine delays it)
            await until(pilot, lambda: bool(reports) and reports[-1].status == "finished")
        await pilot.pause(1.5)
        history, goal = app.session.trainer.history, app.session.trainer.goal()
        expected = TabStatus(
            "Circle: a boundary no line can draw",
            "finished",
            4,
            "val_accuracy",
            max(history.val_accuracy),
            goal.met,
        )
        assert app._tab_status() == expected
    if served:
        # a look every second, the last the run now; the first is whatever the run was at the
        # first look (ready, or already running on a busy machine)
        assert reports[-1] == expected and reports[0].status in ("ready", "running")
    else:
        assert reports == []  # a terminal app sets up no reporting at all


@pytest.mark.parametrize("served, fastest", [(True, FASTEST_WEB_FRAME), (False, FASTEST_FRAME)])
async def test_a_served_app_sends_fewer_frames(make_app, monkeypatch, served, fastest):
    """The browser draws every frame again, at a cost the app cannot time: a served app sends
    at most 8 a second, a terminal app 15; a frame that costs more slows both alike."""
    monkeypatch.setattr(PlaygroundApp, "is_web", property(lambda self: served))
    app = make_app("circle")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.frame_cost = 0.0
        assert app.session.frame_interval() == fastest
        app.frame_cost = 0.02  # 20 ms a frame: 5% of the time is one frame every 0.4 s
        assert app.session.frame_interval() == pytest.approx(0.4)
