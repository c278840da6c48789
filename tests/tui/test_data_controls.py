"""The data controls TF Playground has, in the app (issue 21 §3): the ratio of training to
validation data, Regenerate, the validation points shown or hidden, and the test set's one
line when the run is over."""

import torch
from textual.widgets import Button, Input

from nnplay.tui.dialogs import Confirm

from .conftest import SIZE, idle, ready, train_to_epoch, until
from .test_app import field
from .test_pictures import FAST, open_map, shown


def status(app) -> str:
    return str(app.query_one("#status").render())


async def rebuilt(pilot, old):
    """Wait for the session that replaces `old`, then for its form."""
    await until(pilot, lambda: pilot.app.session is not None and pilot.app.session is not old)
    await ready(pilot)


async def test_a_ratio_and_a_test_set_from_the_form_change_the_sizes_after_a_reset(make_app):
    app = make_app("circle", **FAST)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert len(app.session.trainer.X_train) == 300
        assert not field(app, "task.val_fraction").display  # fresh validation: no ratio
        field(app, "task.validation").set_raw("fraction")
        await pilot.pause()
        assert field(app, "task.val_fraction").display
        assert not field(app, "task.val_samples").display  # the ratio says it instead
        field(app, "task.val_fraction").query_one(Input).value = "0.5"
        field(app, "task.test_fraction").query_one(Input).value = "0.25"
        await pilot.pause()
        assert app.form_valid
        old = app.session
        await pilot.press("r")  # nothing trained: no question
        await rebuilt(pilot, old)
        trainer = app.session.trainer
        assert (len(trainer.X_train), len(trainer.X_val)) == (75, 150)
        field(app, "task.test_fraction").query_one(Input).value = "0.5"  # nothing left to train
        await pilot.pause()
        assert not app.form_valid
        error = str(field(app, "task.test_fraction").query_one(".error").render())
        assert "leaves nothing to train on (300 samples: 150 validate, 150 test)" in error


async def test_regenerate_asks_over_a_trained_run_then_draws_new_data(make_app):
    app = make_app("circle", **FAST)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await train_to_epoch(pilot, 3)
        run, points = app.session, app.session.trainer.X_train.clone()
        await pilot.click("#regenerate")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert app.screen.question.startswith("Regenerate: new data (data seed 1) and new weights.")
        assert "they will be lost" in app.screen.question
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert app.session is run and run.trainer.exp.task.seed == 0
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await rebuilt(pilot, run)
        trainer = app.session.trainer
        assert trainer.exp.task.seed == 1 and trainer.steps == 0
        assert trainer.X_train.shape == points.shape and not torch.equal(trainer.X_train, points)
        assert field(app, "task.seed").query_one(Input).value == "1"
        await until(pilot, lambda: app.edited.task.seed == 1)
        # nothing trained on the new data yet: the next Regenerate does not ask
        now = app.session
        await pilot.press("R")
        await rebuilt(pilot, now)
        assert app.session.trainer.exp.task.seed == 2


async def test_v_hides_and_shows_the_validation_points_on_the_map(make_app):
    app = make_app("circle", **FAST)
    async with app.run_test(size=SIZE) as pilot:
        await open_map(pilot)
        # the grid's validation points and the legend's
        await until(pilot, lambda: "○ validation" in shown(app, "#big-map"))
        assert shown(app, "#big-map").count("○") > 10
        await pilot.press("v")
        await pilot.pause()
        hidden = shown(app, "#big-map")
        assert "○ val hidden" in hidden
        assert hidden.count("○") == 1  # the legend's alone
        assert hidden.count("●") > 10  # the training points stay
        assert "○ val hidden" in shown(app, "#map")  # the Charts tab's small map too
        await pilot.press("v")
        await pilot.pause()
        assert shown(app, "#big-map").count("○") > 10


async def test_the_test_set_is_one_line_once_the_run_is_over_and_never_before(make_app):
    app = make_app("circle", **{**FAST, "task.test_fraction": 0.2})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("n")
        await until(pilot, lambda: idle(app) and app.session.trainer.steps == 1)
        await pilot.pause(0.2)
        assert "test set" not in status(app)
        await pilot.press("space")
        await until(pilot, lambda: idle(app) and app.session.trainer.done)
        measured = app.session.trainer.test_metrics()
        line = "test set, measured once at the end: loss {:.4f}, accuracy {:.4f}".format(
            measured["test_loss"], measured["test_accuracy"]
        )
        await until(pilot, lambda: line in status(app))
        assert len(app.session.trainer.X_train) == 240


async def test_regenerate_is_a_button_and_a_key_the_help_lists(make_app):
    app = make_app("circle", **FAST)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert str(app.query_one("#regenerate", Button).label) == "⟳ Data"
        await pilot.press("question_mark")
        await pilot.pause()
        text = "\n".join(str(w.render()) for w in app.screen.query("*") if w.display)
        assert "Regenerate the data" in text and "Show or hide the validation points" in text


async def test_a_csv_task_takes_a_test_set_and_regenerates_its_split(make_app):
    app = make_app("iris", **{"training.epochs": 2, "goal.epochs": 2})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert field(app, "task.val_fraction").display and field(app, "task.test_fraction").display
        assert not field(app, "task.validation").display  # a file's rows: no fresh set to draw
        field(app, "task.test_fraction").query_one(Input).value = "0.2"
        await pilot.pause()
        old = app.session
        await pilot.press("r")
        await rebuilt(pilot, old)
        trainer = app.session.trainer
        assert (len(trainer.X_train), len(trainer.X_val)) == (90, 30)
        validation, now = trainer.X_val.clone(), app.session
        await pilot.press("R")  # nothing trained: no question
        await rebuilt(pilot, now)
        assert app.session.trainer.exp.task.seed == 1
        again = app.session.trainer
        assert (len(again.X_train), len(again.X_val)) == (90, 30)
        assert not torch.equal(again.X_val, validation)  # another split of the same rows
        await pilot.press("space")
        await until(pilot, lambda: idle(app) and app.session.trainer.done)
        await until(pilot, lambda: "test set, measured once at the end" in status(app))
