"""The playground driven as a user drives it: keys, clicks and typing through Pilot."""

import numpy as np
import pytest
from textual.widgets import Button, Input, OptionList

from nnplay.export import load_predictor
from nnplay.tui.build_panel import FieldRow, LayerRow, field_id
from nnplay.tui.train_view import LossChart, SecondChart, TrainView

from .conftest import SIZE, idle, ready, train_to_epoch, until

FAST = {"task.samples": 400, "training.epochs": 3, "goal.epochs": 3}


def field(app, path):
    return app.query_one(f"#{field_id(path)}", FieldRow)


def banner(app) -> str:
    return str(app.query_one("#banner").render())


def architecture(app) -> str:
    return str(app.query_one("#architecture").render())


async def type_into(pilot, path, text):
    widget = field(pilot.app, path).query_one(Input)
    widget.value = text
    await pilot.pause()


async def test_pick_a_preset_and_train_until_the_charts_hold_data(make_app):
    app = make_app(**FAST)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("p")
        options = app.screen.query_one(OptionList)
        index = next(
            i for i in range(options.option_count) if options.get_option_at_index(i).id == "xor"
        )
        options.highlighted = index
        await pilot.pause()
        assert "XOR" in str(app.screen.query_one("#preset-info").render())
        await pilot.press("enter")
        await until(
            pilot, lambda: app.session is not None and app.session.experiment.task.name == "xor"
        )
        assert app.sub_title == "xor"
        assert field(app, "task.name").raw() == "xor"
        await pilot.press("space")
        # The worker's last frame arrives just after it stops: wait for that frame.
        train_view = app.query_one(TrainView)
        await until(pilot, lambda: idle(app) and train_view.last_view.snapshot.epoch == 40, 60)
        view = train_view.last_view
        assert view.snapshot.status == "finished" and len(view.snapshot.history.epoch) == 40
        assert view.grid is not None  # xor is 2-D: the decision map is drawn
        for chart in (LossChart, SecondChart):
            rendered = str(app.query_one(chart).render())
            assert any(0x2800 < ord(c) <= 0x28FF for c in rendered)  # braille plot lines
        assert "Goal met" in banner(app)


async def test_pause_step_and_reset(make_app):
    app = make_app(**{**FAST, "training.epochs": 5000, "goal.epochs": 0})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        trainer = app.session.trainer
        await pilot.press("n")
        assert trainer.steps == 1
        await pilot.press("n")
        assert trainer.steps == 2 and "step 2" in str(app.query_one("#status").render())
        await pilot.press("space")
        await until(pilot, lambda: trainer.steps > 50)
        assert str(app.query_one("#toggle_training", Button).label) == "⏸ Pause"
        await pilot.press("space")
        await until(pilot, lambda: idle(app))
        paused_at = trainer.steps
        await pilot.pause(0.3)
        assert trainer.steps == paused_at  # really paused
        assert str(app.query_one("#toggle_training", Button).label) == "▶ Start"
        await pilot.press("r")
        assert "not exported" in app.screen.question  # the trained run would be lost
        await pilot.press("y")
        await until(pilot, lambda: app.session.trainer is not trainer)
        assert app.session.trainer.steps == 0
        assert "step 0" in str(app.query_one("#status").render())


async def test_adding_and_removing_layers_changes_the_parameter_count(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert "6 parameters" in architecture(app)  # Linear(5 -> 1), docs/curriculum.md §8
        await pilot.click("#add-layer")
        await until(pilot, lambda: len(app.query(LayerRow)) == 1)
        await pilot.pause()
        # 5 -> 8 relu -> 1: 48 + 9 = 57
        assert "57 parameters" in architecture(app)
        row = app.query_one(LayerRow)
        row.query_one(".units", Input).value = "16"
        await pilot.pause()
        assert "113 parameters" in architecture(app)  # 5*16+16 + 16+1
        assert "reset (r)" in banner(app)  # a structural change waits for a reset
        await pilot.click(".layer .remove")
        await until(pilot, lambda: len(app.query(LayerRow)) == 0)
        await pilot.pause()
        assert "6 parameters" in architecture(app)
        assert "reset (r)" not in banner(app)  # back to what is running


async def test_invalid_learning_rate_is_marked_and_blocks_training(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_into(pilot, "training.lr", "-0.5")
        row = field(app, "training.lr")
        assert row.has_class("invalid")
        message = str(row.query_one(".error").render())
        assert "-0.5 is not allowed" in message and "> 0" in message
        assert app.query_one("#toggle_training", Button).disabled
        await pilot.press("space")
        await pilot.pause(0.2)
        assert app.session.trainer.steps == 0
        await type_into(pilot, "training.lr", "0.01")
        assert (
            not row.has_class("invalid") and not app.query_one("#toggle_training", Button).disabled
        )


async def test_incompatible_loss_is_explained(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        field(app, "training.loss").set_raw("nll")
        await pilot.pause()
        message = str(field(app, "training.loss").query_one(".error").render())
        assert "does not fit a binary task" in message and "use bce" in message


async def test_live_learning_rate_reaches_the_running_trainer(make_app):
    app = make_app(**{**FAST, "training.epochs": 500, "goal.epochs": 500})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("space")
        await until(pilot, lambda: app.session.trainer.steps > 10)
        await type_into(pilot, "training.lr", "0.05")
        await until(pilot, lambda: app.session.trainer.lr == 0.05)
        assert "reset" not in banner(app)  # a live edit needs no reset
        await pilot.press("space")
        await until(pilot, lambda: idle(app))


@pytest.mark.parametrize("suffix", [".pt", ".safetensors", ".onnx", ".npz"])
async def test_export_each_format_and_read_it_back(make_app, tmp_path, suffix):
    app = make_app(**FAST)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await train_to_epoch(pilot, 3)
        await pilot.press("e")
        path = tmp_path / f"weights{suffix}"
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await until(pilot, lambda: path.is_file())
        x = np.random.default_rng(0).random((4, 5))
        expected = app.session.trainer.predict(x)
        np.testing.assert_allclose(load_predictor(path).outputs(x), expected, atol=1e-5)


async def test_a_diverging_run_shows_the_banner_and_keeps_good_weights(make_app, tmp_path):
    app = make_app("lr-too-high")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("space")
        await until(pilot, lambda: idle(app) and app.session.trainer.status == "diverged")
        await pilot.pause(0.2)
        assert "Diverged" in banner(app) and "Lower the learning rate" in banner(app)
        assert all(p.isfinite().all() for p in app.session.trainer.model.parameters())
        await pilot.press("e")
        app.screen.query_one(Input).value = str(tmp_path / "good.npz")
        await pilot.press("enter")
        await until(pilot, lambda: (tmp_path / "good.npz").is_file())


async def test_hints_and_solution(make_app):
    app = make_app("lr-too-high")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        exercise = lambda: str(app.query_one("#exercise").render())  # noqa: E731
        assert "hint 1" not in exercise()
        await pilot.press("h")
        assert "hint 1" in exercise() and "hint 2" not in exercise()
        await pilot.press("S")
        await pilot.pause()
        asked = str(app.screen.query_one(".dialog Static").render())
        assert "set learning rate to 0.05" in asked and "training.lr" not in asked  # form words
        await pilot.press("y")
        await until(pilot, lambda: app.session.experiment.training.lr == 0.05)
        assert field(app, "training.lr").raw() == "0.05"


async def test_quit_while_training_stops_the_worker(make_app):
    app = make_app(**{**FAST, "training.epochs": 100000, "goal.epochs": 0})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("space")
        await until(pilot, lambda: app.session.trainer.steps > 20)
        session = app.session
        await pilot.press("q")  # it pauses, then asks about the unsaved run
        assert not session.running
        await pilot.press("y")
    assert not session.running
    assert app.return_code == 0
    assert session.trainer.epoch < 100000


async def test_keys_typed_into_a_field_do_not_fire_shortcuts(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        widget = field(app, "training.epochs").query_one(Input)
        widget.focus()
        widget.value = ""
        await pilot.press("1", "n", "r")  # 'n' and 'r' are shortcuts elsewhere
        assert widget.value == "1nr"
        assert app.session.trainer.steps == 0
        assert "whole number" in str(field(app, "training.epochs").query_one(".error").render())


async def test_small_terminal(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("n")
        assert app.session.trainer.steps == 1
        assert not app.query_one("#build").display  # hidden: the charts need the room
        await pilot.press("b")
        assert app.query_one("#build").display


async def test_save_the_edited_setup_as_a_preset_and_open_it(make_app, tmp_path):
    from nnplay.presets import load_experiment

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await type_into(pilot, "training.lr", "0.02")
        await pilot.press("s")
        path = tmp_path / "mine.toml"
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await until(pilot, lambda: path.is_file())
    saved = load_experiment(str(path))
    assert saved.training.lr == 0.02
    assert saved.meta.title == app.experiment.meta.title  # the exercise travels with it


async def test_lab_screens_open_and_respond(make_app):
    from nnplay.tui.lab_screens import BackpropScreen, GradCheckScreen, OptPathsScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("B")
        assert isinstance(app.screen, BackpropScreen)
        result = str(app.screen.query_one("#bp-result").render())
        assert "0.751365" in result and "0.298371" in result
        app.screen.query_one("#bp-lr", Input).value = "1"
        await pilot.press("n")  # step again with lr 1: new weights, a lower loss
        await pilot.pause()
        assert app.screen.query_one("#bp-w2", Input).value.startswith("0.317833")
        await pilot.press("escape")
        await pilot.press("o")
        assert isinstance(app.screen, OptPathsScreen)
        app.screen.query_one("#op-optimizers", Input).value = "sgd"
        app.screen.query_one("#op-lr", Input).value = "1.1"
        app.screen.query_one("#op-lr", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: "diverged" in str(app.screen.query_one("#op-table").render()))
        await pilot.press("escape")  # the field gives the keys back to the screen
        assert isinstance(app.screen, OptPathsScreen)
        await pilot.press("escape")
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, GradCheckScreen))
        await pilot.pause()
        assert "passed" in str(app.screen.query_one("#gc-report").render())


async def test_diagnostics_flag_vanishing_gradients_live(make_app):
    app = make_app("vanishing-gradients", **{"training.epochs": 3, "goal.epochs": 3})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await train_to_epoch(pilot, 3)
        await pilot.pause()
        assert "first layer's gradient" in str(app.query_one("#diagnostics").render())


async def test_task_size_fields_follow_the_task(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert field(app, "task.dim").display and not field(app, "task.classes").display
        field(app, "task.name").set_raw("spiral_multi")
        field(app, "training.loss").set_raw("cross_entropy")
        await pilot.pause()
        assert field(app, "task.classes").display and not field(app, "task.dim").display
        await type_into(pilot, "task.classes", "5")
        assert "→ 5" in architecture(app).split("output")[1]  # five output logits
