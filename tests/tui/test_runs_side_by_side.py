"""Runs side by side, as a learner sees them: ghost curves after a reset, the comparison screen,
the accuracy's majority-class baseline, the feature toggles and the every-layer activation."""

import re

from textual.widgets import Checkbox, Input, Select

from nnplay.tui.build_panel import FeaturesRow, LayerRow, field_id
from nnplay.tui.train_view import TrainView

from .conftest import SIZE, idle, ready, until


def legend(app, box: str) -> str:
    return str(app.query_one(f"{box} .legend").render())


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
        await pilot.press("r")
        await ready(pilot)
        assert [g.label for g in app.query_one(TrainView).ghosts] == ["learning rate 0.03 → 0.01"]
        for box in ("#loss-box", "#second-box"):
            assert "earlier: learning rate 0.03 → 0.01" in legend(app, box)
        for _ in range(3):  # only the newest three stay
            await train_to_end(pilot)
            await pilot.press("r")
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
        await pilot.press("r")
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
        await train_to_end(pilot)
        loss, accuracy = (app.query_one(f"#{name}").plt for name in ("loss-chart", "second-chart"))
        assert loss._active.monitor.xlim == accuracy._active.monitor.xlim


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
