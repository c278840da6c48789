from contextlib import contextmanager

import pytest
from textual.geometry import Region

from nnplay import i18n
from nnplay.experiment import with_overrides
from nnplay.predict import PredictSpec
from nnplay.presets import load_preset
from nnplay.tui.app import PlaygroundApp

SIZE = (120, 40)


def small(name: str, asks: bool = False, **overrides):
    """A preset made quick to train in tests. Its question before the first run (predict, then
    run) is kept only when `asks`: the other tests press space to train at once."""
    exp = with_overrides(load_preset(name), overrides)
    if not asks:
        exp.predict = PredictSpec()
    return exp


async def until(pilot, condition, seconds: float = 20.0):
    """Let the app run until `condition()` holds (the worker runs in its own thread)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out waiting for the app")


async def from_palette(pilot, title: str):
    """Run an action as a learner finds it: ctrl+p, its title typed, enter."""
    from textual.command import CommandPalette

    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
    await pilot.press(*title)
    await pilot.pause(0.3)
    await pilot.press("enter")


async def ready(pilot):
    """The session is built and the form is filled in."""
    await until(
        pilot, lambda: pilot.app.session is not None and pilot.app.query_one("#build").filled
    )
    await pilot.pause()


async def train_to_epoch(pilot, epochs: int, seconds: float = 20.0):
    """Start training and wait until the run has stopped at `epochs`."""
    app = pilot.app
    await pilot.press("space")
    await until(pilot, lambda: idle(app) and app.session.trainer.epoch == epochs, seconds)


@contextmanager
def speaking(language: str):
    """The app's texts in `language` inside the block, English again after it."""
    i18n.set_language(language)
    try:
        yield
    finally:
        i18n.set_language("en")


@pytest.fixture
def chinese():
    with speaking("zh"):
        yield


def shown_lines(widget) -> str:
    """The text a widget draws on the screen, row by row."""
    region = Region(0, 0, widget.size.width, widget.size.height)
    return "\n".join(strip.text for strip in widget.render_lines(region))


def notices(app, monkeypatch) -> list[str]:
    """Every notification the app shows from now on, kept (a toast expires, and Textual keeps
    its own list privately)."""
    shown: list[str] = []
    notify = app.notify

    def recording(message, *args, **kwargs):
        shown.append(str(message))
        return notify(message, *args, **kwargs)

    monkeypatch.setattr(app, "notify", recording)
    return shown


def idle(app) -> bool:
    return app.session is not None and app.session.idle


@pytest.fixture(scope="session", autouse=True)
def process_tracker():
    """Comparisons start worker processes: their tracker cannot start inside a running app
    (as `nnplay` itself does before the app runs)."""
    import multiprocessing.resource_tracker

    multiprocessing.resource_tracker.ensure_running()


@pytest.fixture
def make_app():
    def make(name="first-gt-fifth", asks=False, **overrides):
        exp = small(name, asks, **overrides)
        return PlaygroundApp(exp, name)

    return make


@pytest.fixture
def monkey_steps(request) -> int | None:
    """Actions per seed for the monkey test: --monkey-steps N or NNPLAY_MONKEY_STEPS=N."""
    import os

    steps = request.config.getoption("--monkey-steps") or os.environ.get("NNPLAY_MONKEY_STEPS")
    return int(steps) if steps else None
