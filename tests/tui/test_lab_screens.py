from concurrent.futures import Future, ThreadPoolExecutor

import pytest
import torch
from textual.app import App
from textual.widgets import Button, Input, Select
from torch import nn

from nnplay.lab.lrfind import range_test
from nnplay.lab.optpaths import OVERLAP_MARK
from nnplay.lab.text import lrfind_reason
from nnplay.presets import load_preset
from nnplay.tui import lab_screens
from nnplay.tui.build_panel import FieldRow, field_id
from nnplay.tui.lab_screens import (
    SHADE_BACKGROUNDS,
    BackpropScreen,
    GradCheckScreen,
    OptPathsScreen,
    RateRangeScreen,
)

from .conftest import from_palette, ready, speaking, until


class LabApp(App):
    """Opens one lab screen over an empty app, as the playground would."""

    def __init__(self, screen):
        super().__init__()
        self.lab_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.lab_screen)


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def test_backprop_screen_shows_the_worked_example_and_steps_with_an_edited_lr():
    app = LabApp(BackpropScreen())
    async with app.run_test(size=(120, 50)) as pilot:
        screen = app.screen
        result = text_of(screen, "#bp-result")
        assert "0.751365" in result and "0.298371" in result
        assert "0.358916" in result  # W2[0][0] after the step, lr 0.5
        assert "max difference" in result
        screen.query_one("#bp-lr", Input).value = "1"
        await pilot.pause()
        await pilot.press("n")
        # one step with lr 1 from the worked example: W2[0][0] = 0.40 − 1 · 0.082167
        assert screen.query_one("#bp-w2", Input).value.startswith("0.317833")
        assert "after 1 step(s)" in text_of(screen, "#bp-status")
        await pilot.press("r")
        assert screen.query_one("#bp-w2", Input).value.startswith("0.400000")
        assert screen.query_one("#bp-lr", Input).value == "0.5"


async def test_backprop_screen_reports_a_bad_field_and_keeps_the_last_result():
    app = LabApp(BackpropScreen())
    async with app.run_test(size=(120, 50)) as pilot:
        screen = app.screen
        screen.query_one("#bp-x", Input).value = "0.05, oops"
        await pilot.pause()
        assert "x '0.05, oops' is not allowed" in text_of(screen, ".lab-error")
        assert "0.751365" in text_of(screen, "#bp-result")
        await pilot.press("n")
        assert screen.query_one("#bp-w2", Input).value.startswith("0.400000")  # nothing applied


async def test_optpaths_screen_updates_the_table_for_a_chosen_optimizer_and_lr():
    app = LabApp(OptPathsScreen())
    async with app.run_test(size=(120, 60)) as pilot:
        screen = app.screen
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = text_of(screen, "#op-table")
        assert all(name in table for name in ("sgd", "momentum", "adagrad", "rmsprop", "adam"))
        assert "diverged" not in table
        assert "A adam: converged: ended at" in table
        screen.query_one("#op-optimizers", Input).value = "sgd"
        screen.query_one("#op-lr", Input).value = "1.1"
        screen.query_one("#op-lr", Input).focus()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = text_of(screen, "#op-table")
        assert "diverged" in table and "adam" not in table
        assert "S sgd: diverged at step" in table
        assert "S" in text_of(screen, "#op-map")
        screen.query_one("#op-lr", Input).value = ""
        screen.query_one("#op-function", Select).value = "himmelblau"
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "himmelblau" in text_of(screen, "#op-map")
        screen.query_one("#op-optimizers", Input).value = "sgd,lbfgs"
        await pilot.press("enter")
        assert "optimizers 'lbfgs' is not known" in text_of(screen, ".lab-error")


async def test_a_new_walk_replaces_one_under_way(monkeypatch):
    """Rosenbrock's 6000 steps walk off the UI thread; choosing the bowl meanwhile stops that
    walk at its next step, and the screen shows the bowl's."""
    walked: list = []
    walk = lab_screens.compare

    def recorded(*args):
        walked.append(walk(*args))
        return walked[-1]

    monkeypatch.setattr(lab_screens, "compare", recorded)
    app = LabApp(OptPathsScreen())
    async with app.run_test(size=(120, 60)) as pilot:
        screen = app.screen
        await until(pilot, lambda: screen.paths)
        screen.query_one("#op-function", Select).value = "rosenbrock"
        await until(pilot, lambda: text_of(screen, "#op-status") == "walking…")
        screen.query_one("#op-function", Select).value = "bowl"

        def last(function):  # the threads may end in either order
            return next((w for w in reversed(walked) if w[0].function == function), None)

        await until(pilot, lambda: last("rosenbrock") and screen.paths is last("bowl"))
        await pilot.pause()
        rosenbrock, bowl = last("rosenbrock"), last("bowl")
        assert {p.function for p in rosenbrock} == {"rosenbrock"}
        assert all(len(p.points) < 6001 for p in rosenbrock)  # stopped on the way
        assert screen.paths is bowl and text_of(screen, "#op-status") == ""
        assert "bowl: f = x² + y²" in text_of(screen, "#op-map")


async def test_optpaths_map_colours_each_path_and_shades_the_bands():
    app = LabApp(OptPathsScreen())
    async with app.run_test(size=(120, 60)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        text = screen.coloured_map("bowl", 200)
        styles: dict[str, set[str]] = {}
        for span in text.spans:
            styles.setdefault(text.plain[span.start : span.end], set()).add(str(span.style))
        assert all(style.startswith("bold bright_magenta on #") for style in styles["A"])
        assert all(style.startswith("bold bright_red on #") for style in styles["S"])
        assert all(style.startswith("bold white on #") for style in styles[OVERLAP_MARK])
        shades = {style.split("on ")[1] for style in styles[" "]}
        assert shades == set(SHADE_BACKGROUNDS)  # every band of the contour is drawn
        assert text.plain.rstrip().endswith("f: low [ ░▒▓█] high (log scale)")


async def test_gradcheck_screen_reports_a_pass_and_escape_goes_back():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    X, y = torch.randn(8, 2), torch.randn(8, 1)
    app = LabApp(GradCheckScreen(model, nn.MSELoss(), X, y))
    async with app.run_test() as pilot:
        report = text_of(app.screen, "#gc-report")
        assert "gradient check passed" in report and "0.weight" in report
        await pilot.press("escape")
        assert not isinstance(app.screen, GradCheckScreen)


def run_here(work) -> Future:
    """The range test on the test's own thread (the app's session thread runs it there)."""
    done: Future = Future()
    done.set_result(work(None))
    return done


def rate_range_screen() -> RateRangeScreen:
    return RateRangeScreen(load_preset("quadratic-fit"), run_here)


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("screen", [BackpropScreen, OptPathsScreen, rate_range_screen])
async def test_every_lab_field_fits_in_80_columns(screen, language):
    with speaking(language):
        app = LabApp(screen())
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            room = app.screen.query_one(".lab").scrollable_content_region  # less its scrollbar
            for widget in app.screen.query("Input, Select, Button"):
                assert widget.region.right <= room.right, (widget.id, widget.region, room)


async def test_rate_range_screen_shows_the_test_and_refuses_too_few_steps():
    exp = load_preset("quadratic-fit")
    with ThreadPoolExecutor(1) as thread:  # the session's thread, in the app
        app = LabApp(RateRangeScreen(exp, lambda work: thread.submit(work, None)))
        async with app.run_test(size=(100, 50)) as pilot:
            screen = app.screen
            await until(pilot, lambda: screen.test is not None)
            await pilot.pause()
            assert text_of(screen, "#lr-reason") == lrfind_reason(range_test(exp))
            assert "suggested learning rate 0.23" in text_of(screen, "#lr-reason")
            assert "stopped early at rate 3.2" in text_of(screen, "#lr-status")
            assert "suggested 0.23" in text_of(screen, "#lr-box .legend")
            assert not screen.query_one("#lr-apply", Button).disabled
            screen.query_one("#lr-steps", Input).value = "5"
            screen.query_one("#lr-steps", Input).focus()
            await pilot.press("enter")
            assert "steps 5 is out of range; allowed: 10..10000" in text_of(screen, ".lab-error")


async def test_rate_range_test_from_the_palette_applies_its_rate_to_the_form(make_app):
    app = make_app("quadratic-fit")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        trainer = app.session.trainer
        await from_palette(pilot, "Lab: learning-rate range test")
        await until(pilot, lambda: isinstance(app.screen, RateRangeScreen) and app.screen.test)
        await pilot.pause()
        await pilot.press("a")
        await until(pilot, lambda: not isinstance(app.screen, RateRangeScreen))
        row = app.query_one(f"#{field_id('training.lr')}", FieldRow)
        assert row.raw() == "0.23"
        await until(pilot, lambda: app.session.trainer.lr == 0.23)  # taken live by the run
        # the test trained a Trainer of its own: the app's run is where it was
        assert app.session.trainer is trainer and trainer.steps == 0
