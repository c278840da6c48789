"""Runs side by side, as a learner sees them: ghost curves after a reset, the comparison screen,
the accuracy's majority-class baseline, the feature toggles and the every-layer activation."""

import asyncio
import re

from textual.widgets import Checkbox, DataTable, Input, Select

from nnplay.tui.build_panel import FeaturesRow, LayerRow, field_id
from nnplay.tui.compare_view import CompareDialog, CompareScreen
from nnplay.tui.dialogs import Confirm
from nnplay.tui.train_view import TrainView

from .conftest import SIZE, idle, ready, until


def legend(app, box: str) -> str:
    """The legend's words in order (a long item is broken across lines to fit the box)."""
    return " ".join(str(app.query_one(f"{box} .legend").render()).split())


async def train_to_end(pilot) -> None:
    await pilot.press("space")
    await until(pilot, lambda: idle(pilot.app) and not pilot.app.session.can_step, 60)
    await pilot.pause(0.2)


def parameters(app) -> int:
    text = str(app.query_one("#architecture").render())
    return int(re.search(r"([\d,]+) parameters", text).group(1).replace(",", ""))


async def test_a_reset_keeps_the_last_run_faded_and_named_by_what_changed(make_app):
    app = make_app("circle", **{"training.epochs": 3, "task.samples": 200})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert "earlier" not in legend(app, "#loss-box")
        await train_to_end(pilot)
        app.query_one(f"#{field_id('training.lr')} Input", Input).value = "0.01"
        await pilot.pause()
        await pilot.press("r", "y")  # yes: the trained run may be lost
        await ready(pilot)
        assert [g.label for g in app.query_one(TrainView).ghosts] == ["learning rate 0.03 → 0.01"]
        for box in ("#loss-box", "#second-box"):
            assert "earlier: learning rate 0.03 → 0.01" in legend(app, box)
        for _ in range(3):  # only the newest three stay
            await train_to_end(pilot)
            await pilot.press("r", "y")
            await ready(pilot)
        assert len(app.query_one(TrainView).ghosts) == 3
        await pilot.press("x")
        await pilot.pause()
        assert app.query_one(TrainView).ghosts == []
        assert "earlier" not in legend(app, "#loss-box")


async def test_a_new_preset_starts_without_ghosts(make_app):
    app = make_app("circle", **{"training.epochs": 2, "task.samples": 200})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await train_to_end(pilot)
        await pilot.press("r", "y")  # yes: the trained run may be lost
        await ready(pilot)
        assert len(app.query_one(TrainView).ghosts) == 1
        from nnplay.presets import load_preset

        await app.load(load_preset("xor"), "xor")
        await ready(pilot)
        assert app.query_one(TrainView).ghosts == []


async def test_accuracy_shows_the_majority_class_baseline(make_app):
    app = make_app("circle", **{"training.epochs": 2, "task.samples": 200})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        baseline = app.session.baseline
        assert 0.5 < baseline.accuracy < 1
        assert f"majority class {baseline.accuracy:.1%}" in legend(app, "#second-box")


async def test_the_charts_share_the_epoch_axis(make_app):
    app = make_app("circle", **{"training.epochs": 3, "task.samples": 200})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        limits: dict[str, list] = {}
        for name in ("loss-chart", "second-chart"):
            plt = app.query_one(f"#{name}").plt
            limits[name] = calls = []
            plt.xlim = lambda *args, calls=calls, xlim=plt.xlim: calls.append(args) or xlim(*args)
        await train_to_end(pilot)
        await pilot.pause(0.3)  # the last frame drawn
        assert limits["loss-chart"] and limits["loss-chart"][-1] == limits["second-chart"][-1]


async def test_feature_toggles_change_the_input_size_and_parameter_count(make_app):
    app = make_app("circle", **{"model.hidden": [4]})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        row = app.query_one(FeaturesRow)
        boxes = {str(b.name): b for b in row.query(".feature").results(Checkbox)}
        assert [n for n, b in boxes.items() if b.value] == ["x1", "x2"]
        before = parameters(app)
        boxes["x1^2"].value = True
        boxes["x2^2"].value = True
        await pilot.pause()
        assert app.edited.task.features == ["x1", "x2", "x1^2", "x2^2"]
        assert parameters(app) == before + 2 * 4  # two more inputs into 4 units
        boxes["x1"].value = False
        boxes["x2"].value = False
        await pilot.pause()
        assert app.edited.task.features == ["x1^2", "x2^2"]
        boxes["x1^2"].value = False
        boxes["x2^2"].value = False
        await pilot.pause()
        assert not app.form_valid  # no input at all is named, not trained
        boxes["x1"].value = True
        boxes["x2"].value = True
        await pilot.pause()
        assert app.edited.task.features == "raw" and parameters(app) == before


async def test_features_are_a_shorthand_choice_on_tasks_that_are_not_2d(make_app):
    app = make_app("first-gt-fifth")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        row = app.query_one(FeaturesRow)
        assert not row.query_one(".feature-toggles").display
        before = parameters(app)
        row.query_one(".field-input", Select).value = "poly2"
        await pilot.pause()
        assert app.edited.task.features == "poly2" and parameters(app) > before


async def test_one_control_sets_every_layer_s_activation(make_app):
    app = make_app("circle", **{"model.hidden": [4, 4, 4]})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.query_one("#all-activation", Select).value = "sigmoid"
        await until(
            pilot,
            lambda: [layer.activation for layer in app.edited.model.hidden] == ["sigmoid"] * 3,
        )
        rows = app.query(LayerRow)
        assert [r.query_one(".activation", Select).value for r in rows] == ["sigmoid"] * 3
        assert app.query_one("#all-activation", Select).value is Select.NULL


# ---------------------------------------------------------------------------------------------
# Compare. Every key press after a comparison has a time limit: the app once stopped answering
# after one (a hang must fail the test, not hang the suite).


async def press(pilot, *keys: str) -> None:
    """Press keys; an app that stops answering fails the test within seconds."""
    task = asyncio.ensure_future(pilot.press(*keys))
    done, _pending = await asyncio.wait({task}, timeout=15)
    if not done:
        # the app's own clean-up would wait for the hung app forever: end every task but this one
        for other in asyncio.all_tasks():
            if other is not asyncio.current_task():
                other.cancel()
        raise AssertionError(f"the app stopped answering (keys {keys})")


async def quits(pilot) -> None:
    """q ends the app, with exit code 0 (after a yes, when it asks about unsaved training)."""
    app = pilot.app
    await press(pilot, "q")
    if app.is_running and isinstance(app.screen, Confirm):
        await press(pilot, "y")
    for _ in range(100):
        if not app.is_running:
            break
        await asyncio.sleep(0.05)
    assert not app.is_running, "q did not quit"
    assert app.return_code == 0


async def open_comparison(pilot, field: str | None = None, values: str = "") -> CompareScreen:
    """c, the field and values (or the exercise's own comparison), enter: the running screen."""
    app = pilot.app
    await press(pilot, "c")
    await until(pilot, lambda: isinstance(app.screen, CompareDialog))
    if field is not None:
        app.screen.query_one("#compare-field", Select).value = field
        await pilot.pause()
        app.screen.query_one("#compare-values", Input).value = values
        await pilot.pause()
    await press(pilot, "enter")
    await until(pilot, lambda: isinstance(app.screen, CompareScreen))
    return app.screen


async def finished(pilot, screen: CompareScreen) -> None:
    await until(pilot, lambda: screen.seconds is not None, 120)
    await pilot.pause(0.1)


def rows(screen: CompareScreen) -> list[list[str]]:
    table = screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_compare_runs_the_exercise_s_own_comparison_then_the_app_quits(make_app):
    app = make_app("momentum-vs-sgd", **{"training.epochs": 3, "task.samples": 200})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        screen = await open_comparison(pilot)  # c, enter: the exercise's own lesson
        await finished(pilot, screen)

        names = [r[1] for r in rows(screen)]
        assert names == [
            "1 optimizer sgd",
            "2 optimizer sgd, momentum 0.9",
            "3 optimizer adagrad",
            "4 optimizer rmsprop",
            "5 optimizer adam",
        ]
        assert all(r[2] == "finished" and r[3] == "3" for r in rows(screen))
        assert all(r[8] in ("✔ met", "✖ not met") for r in rows(screen))
        assert all(float(r[5]) > 0 for r in rows(screen))  # val loss, every variant
        shown = str(screen.query_one("#compare-legend").render())
        assert "1 optimizer sgd" in shown and "5 optimizer adam" in shown
        assert "training." not in shown  # the form's words, not config keys
        headings = [str(h.render()) for h in screen.query(".legend")]  # each chart's heading
        assert headings[0].startswith("validation loss") and "x: epoch" in headings[0]
        assert not any("optimizer" in h for h in headings)  # one legend for both charts
        assert "all 5 variants done" in str(screen.query_one("#compare-status").render())

        await press(pilot, "escape")
        assert app.screen is app.screen_stack[0]
        await press(pilot, "space")  # the playground still trains
        await until(pilot, lambda: app.session.trainer.steps > 0)
        await quits(pilot)


async def test_a_diverging_variant_is_shown_diverged_and_the_others_go_on(make_app):
    app = make_app("lr-too-high", **{"training.epochs": 5})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await press(pilot, "c")
        await until(pilot, lambda: isinstance(app.screen, CompareDialog))
        dialog = app.screen
        dialog.query_one("#compare-field", Select).value = "training.lr"
        await pilot.pause()
        dialog.query_one("#compare-values", Input).value = "0.05, abc"
        await press(pilot, "enter")  # in the values
        assert app.screen is dialog  # a bad value is named before anything runs
        assert "training.lr" in str(dialog.query_one("#compare-error").render())
        dialog.query_one("#compare-values", Input).value = "0.05, 5"
        await press(pilot, "enter")
        await until(pilot, lambda: isinstance(app.screen, CompareScreen))
        screen = app.screen
        await finished(pilot, screen)

        assert [r.status for r in screen.results] == ["finished", "diverged"]
        assert [r[2] for r in rows(screen)] == ["finished", "diverged"]
        assert rows(screen)[0][3] == "5"  # the other variant trained all its epochs
        legend_text = str(screen.query_one("#compare-legend").render())
        assert "2 learning rate 5 (diverged)" in legend_text
        notes = str(screen.query_one("#compare-notes").render())
        assert "2 learning rate 5: the loss became" in notes
        await press(pilot, "escape")
        await quits(pilot)


async def test_closing_a_running_comparison_stops_its_processes_and_the_app_quits(make_app):
    app = make_app("momentum-vs-sgd", **{"training.epochs": 400})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        screen = await open_comparison(pilot)
        comparison = screen.comparison
        await until(pilot, lambda: comparison._processes, 60)  # the workers run
        assert not comparison.done()
        await press(pilot, "escape")
        assert app.screen is app.screen_stack[0]
        await until(pilot, lambda: not any(p.is_alive() for p in comparison._processes), 10)
        await quits(pilot)


async def test_after_several_comparisons_finished_and_stopped_the_app_quits(make_app):
    app = make_app("first-gt-fifth", **{"training.epochs": 2})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        first = await open_comparison(pilot, "training.lr", "0.1, 0.3")
        await finished(pilot, first)
        await press(pilot, "escape")
        app.query_one(f"#{field_id('training.epochs')} Input", Input).value = "400"
        await pilot.pause()
        second = await open_comparison(pilot, "training.batch_size", "8, 16, 32")
        await until(pilot, lambda: second.comparison._processes, 60)
        await press(pilot, "escape")  # mid-run
        third = await open_comparison(pilot, "training.optimizer", "sgd, adam")
        await quits(pilot)  # while the third still runs: q stops it and quits
        assert [r.status for r in first.results] == ["finished", "finished"]
        assert all(r is None or r.status == "stopped" for r in second.results + third.results)
        assert not any(p.is_alive() for p in second.comparison._processes)
