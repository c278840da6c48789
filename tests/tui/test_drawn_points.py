"""Points drawn on the map (issue 21 §2): a click adds a point where it lands, a right click or
X removes the nearest, the run trains on them, the data is saved as a CSV file that opens
again as a task, a blank task waits for points, and nothing drawn is lost unasked."""

from dataclasses import replace

import numpy as np
import pytest
from textual.widgets import Input

from nnplay.drawn import MOST_POINTS, DrawnPoints, plane_of_cell
from nnplay.presets import load_experiment
from nnplay.tui.app import PlaygroundApp
from nnplay.tui.dialogs import Confirm, PathPrompt, PresetPicker
from nnplay.tui.map_view import GUTTER

from .conftest import SIZE, idle, notices, ready, small, until
from .test_pictures import SMALL, fits, map_matches_its_box, open_tab, shown
from .test_snapshots import no_timings  # noqa: F401 (a fixture: no steps per second shown)

BLANK = {"training.epochs": 60, "goal.epochs": 60}


def cell_offset(row: int, col: int) -> tuple[int, int]:
    """Where a grid cell is inside #big-map: its padding (1), the y axis, below the title."""
    return (1 + GUTTER + col, 1 + row)


def grid_shape(app) -> tuple[int, int]:
    return app.query_one("#big-map")._grid.values.shape


async def open_drawing(pilot):
    await ready(pilot)
    await open_tab(pilot, "2", "#big-map")
    await until(pilot, lambda: map_matches_its_box(pilot.app))
    await until(pilot, lambda: pilot.app.query_one("#big-map")._grid is not None)


async def click_cell(pilot, row, col, button=1):
    await pilot.click("#big-map", offset=cell_offset(row, col), button=button)
    await pilot.pause()


def trainer_points(app):
    """The drawn points the session's trainer holds, as (x, y) arrays."""
    return app.session.trainer.drawn.arrays(regression=False)


async def settled(pilot, count):
    app = pilot.app
    await until(pilot, lambda: idle(app) and len(app.session.trainer.drawn) == count)


@pytest.mark.parametrize("size", [SIZE, SMALL])
async def test_a_click_adds_a_point_of_the_pen_class_at_the_cell_it_lands_on(size):
    app = PlaygroundApp(small("draw-your-own", **BLANK), "draw-your-own")
    async with app.run_test(size=size) as pilot:
        await open_drawing(pilot)
        rows, cols = grid_shape(app)
        text = shown(app, "#big-map")
        assert "click adds class 0 (k changes it)" in text
        await click_cell(pilot, 1, 2)
        await settled(pilot, 1)
        await pilot.press("k")
        assert "click adds class 1 (k changes it)" in shown(app, "#big-map")
        await click_cell(pilot, rows - 2, cols - 1)
        await settled(pilot, 2)
        x, y = trainer_points(app)
        e = 1.2
        assert np.allclose(x[0], (-e + 2 * e * 2 / (cols - 1), e - 2 * e / (rows - 1)))
        assert np.allclose(x[1], (e, -e + 2 * e / (rows - 1)))
        assert y.tolist() == [0, 1]
        await until(pilot, lambda: "yours 2" in shown(app, "#big-map"))
        lines = shown(app, "#big-map").splitlines()
        # each drawn point sits on the cell clicked: a ◆ (or ◇ when the model gets it wrong)
        for row, col in ((1, 2), (rows - 2, cols - 1)):
            assert lines[1 + row][GUTTER + col] in "◆◇"
        assert fits(app, "#big-map")
        await pilot.press("k")  # a binary task: back to class 0
        assert "click adds class 0" in shown(app, "#big-map")


def test_a_cell_maps_to_the_plane_exactly_as_the_grid_is_laid_out():
    from nnplay.lab.boundary import cell_of, grid_points

    for cols, rows in ((40, 20), (9, 4), (2, 2)):
        centres = grid_points(cols, rows).reshape(rows, cols, 2)
        for row in range(rows):
            for col in range(cols):
                x1, x2 = plane_of_cell(row, col, cols, rows)
                assert (x1, x2) == pytest.approx(tuple(centres[row, col]), abs=1e-12)
                r, c = cell_of(np.array([[x1, x2]]), cols, rows)
                assert (int(r[0]), int(c[0])) == (row, col)


async def test_a_right_click_and_x_remove_the_nearest_drawn_point():
    app = PlaygroundApp(small("draw-your-own", **BLANK), "draw-your-own")
    async with app.run_test(size=SIZE) as pilot:
        await open_drawing(pilot)
        for col in (3, 10, 20):
            await click_cell(pilot, 4, col)
        await settled(pilot, 3)
        await click_cell(pilot, 5, 11, button=3)  # nearest: the one at column 10
        await settled(pilot, 2)
        rows, cols = grid_shape(app)
        kept = trainer_points(app)[0][:, 0].tolist()
        assert kept == pytest.approx([plane_of_cell(4, c, cols, rows)[0] for c in (3, 20)])
        await click_cell(pilot, 8, 19)
        await settled(pilot, 3)
        await pilot.press("X")  # nearest the last click: the point just drawn
        await settled(pilot, 2)
        await pilot.press("X")  # then the one beside it, at column 20
        await settled(pilot, 1)
        assert trainer_points(app)[0][:, 0].tolist() == pytest.approx(
            [plane_of_cell(4, 3, cols, rows)[0]]
        )


async def test_a_blank_task_waits_for_points_then_learns_the_drawn_classes(monkeypatch):
    app = PlaygroundApp(small("draw-your-own", **BLANK), "draw-your-own")
    async with app.run_test(size=SIZE) as pilot:
        said = notices(app, monkeypatch)
        await open_drawing(pilot)
        await pilot.press("space")
        await pilot.pause(0.2)
        assert said[-1].startswith("Draw some points first")
        assert app.session.trainer.steps == 0 and not app.session.running
        rows, cols = grid_shape(app)
        top_left = [(1, 2), (2, 3), (1, 4), (3, 2)]
        bottom_right = [(rows - 2, cols - 3), (rows - 3, cols - 4), (rows - 2, cols - 5)]
        for cell in top_left:
            await click_cell(pilot, *cell)
        await click_cell(pilot, *bottom_right[0])  # class 0 there: one class has points
        await settled(pilot, 5)
        await pilot.press("X")
        await pilot.press("space")
        await pilot.pause(0.2)
        assert app.session.trainer.steps == 0  # still one class only
        await pilot.press("k")
        for cell in bottom_right:
            await click_cell(pilot, *cell)
        await settled(pilot, 7)
        await pilot.press("space")
        await until(pilot, lambda: idle(app) and app.session.trainer.epoch == 60, 60)
        x = np.array([plane_of_cell(r, c, cols, rows) for r, c in top_left + bottom_right])
        view = app.query_one("#train").last_view
        assert view.points.yours.sum() == 7 and not view.points.validation.any()
        assert view.snapshot.history.val_accuracy[-1] == 1.0  # it validates on your points
        outputs = await until_result(pilot, app.session.call(lambda t: t.predict(x)))
        assert (outputs[:4, 0] < 0.5).all() and (outputs[4:, 0] > 0.5).all()  # P(class 1)


async def until_result(pilot, future):
    await until(pilot, future.done)
    return future.result()


async def test_the_prediction_at_a_drawn_cluster_flips_to_its_class_after_training():
    # the gaussians: class 0 in the lower left; a cluster of class 1 drawn there
    exp = small("gaussians", **{"training.epochs": 20, "goal.epochs": 20, "model.hidden": [16]})
    app = PlaygroundApp(exp, "gaussians")
    async with app.run_test(size=SIZE) as pilot:
        await open_drawing(pilot)
        await pilot.press("space")
        await until(pilot, lambda: idle(app) and app.session.trainer.epoch == 20, 60)
        await until(pilot, lambda: map_matches_its_box(app))  # the goal's banner took a line
        rows, cols = grid_shape(app)
        centre = (int(0.92 * rows), int(0.08 * cols))  # about (-1, -1): class 0's side
        plane = np.array([plane_of_cell(*centre, cols, rows)])
        before = await until_result(pilot, app.session.call(lambda t: t.predict(plane)))
        assert before[0, 0] < 0.1  # P(class 1): the trained network says class 0 there
        await pilot.press("k")
        cells = [(centre[0] + dr, centre[1] + dc) for dr in (-1, 0, 1) for dc in (-2, 0, 2)]
        for _ in range(3):  # a dense cluster: 27 points against the blob's few hundred
            for cell in cells:
                await click_cell(pilot, *cell)
        await settled(pilot, 27)
        trained = app.session
        await pilot.press("r")  # the reset asks for the trained run, and keeps the points
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert "points you drew" not in app.screen.question
        await pilot.press("y")
        await until(pilot, lambda: app.session not in (None, trained))
        assert len(app.session.trainer.drawn) == 27
        await pilot.press("space")
        await until(pilot, lambda: idle(app) and app.session.trainer.epoch == 20, 60)
        after = await until_result(pilot, app.session.call(lambda t: t.predict(plane)))
        assert after[0, 0] > 0.5  # class 1 where class 0 was
        reason = app.session.why_no_result(app.edited)
        assert "the run trained on points drawn on the map" in reason


async def test_the_same_run_without_drawing_is_not_changed_by_it():
    exp = small("circle", **{"training.epochs": 2, "goal.epochs": 2})
    from nnplay.training import Trainer

    alone = Trainer(exp.copy())
    alone.run()
    app = PlaygroundApp(exp, "circle")
    async with app.run_test(size=SIZE) as pilot:
        await open_drawing(pilot)
        await click_cell(pilot, 2, 2)
        await settled(pilot, 1)
        await click_cell(pilot, 2, 2, button=3)
        await settled(pilot, 0)
        await pilot.press("space")
        await until(pilot, lambda: idle(app) and app.session.trainer.epoch == 2, 60)
        assert app.session.trainer.history.train_loss == alone.history.train_loss


async def test_the_data_is_saved_as_a_csv_and_opens_again_as_a_task(tmp_path):
    app = PlaygroundApp(small("draw-your-own", **BLANK), "draw-your-own")
    async with app.run_test(size=SIZE) as pilot:
        await open_drawing(pilot)
        rows, cols = grid_shape(app)
        drawn = [((2, 3), 0), ((3, 5), 0), ((rows - 3, cols - 4), 1), ((rows - 2, cols - 6), 1)]
        for (row, col), label in drawn:
            if label and app.drawing.pen == 0:
                await pilot.press("k")
            await click_cell(pilot, row, col)
        await settled(pilot, 4)
        path = tmp_path / "mine.csv"
        await pilot.press("D")
        assert isinstance(app.screen, PathPrompt)
        assert app.screen.query_one(Input).value == "draw-your-own-data.csv"
        app.screen.query_one(Input).value = str(tmp_path / "w.pt")  # a slip of the name
        await pilot.press("enter")
        await until(pilot, lambda: "end its name with .csv" in app.screen.error)
        assert not (tmp_path / "w.pt").exists() and app.drawing.unsaved
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is app.screen_stack[0])
        assert not app.drawing.unsaved
    lines = path.read_text().splitlines()
    assert lines[0] == "x1,x2,label" and len(lines) == 5
    for line, ((row, col), label) in zip(lines[1:], drawn, strict=True):
        x1, x2, written = line.split(",")
        assert (float(x1), float(x2)) == plane_of_cell(row, col, cols, rows)  # exactly
        assert written == str(label)
    exp = load_experiment(str(path), "label")  # as `nnplay mine.csv --target label` opens it
    assert exp.task.schema.columns == ["x1", "x2"] and exp.task.schema.classes == ["0", "1"]
    assert exp.task.schema.rows == 4
    reopened = PlaygroundApp(exp, str(path))
    async with reopened.run_test(size=SIZE) as pilot:
        await ready(pilot)
        trainer = reopened.session.trainer
        assert len(trainer.X_train) + len(trainer.X_val) == 4


async def test_loading_an_exercise_over_drawn_points_asks_first(tmp_path):
    app = PlaygroundApp(small("draw-your-own", **BLANK), "draw-your-own")
    async with app.run_test(size=SIZE) as pilot:
        await open_drawing(pilot)
        await click_cell(pilot, 2, 2)
        await click_cell(pilot, 3, 3)
        await settled(pilot, 2)
        await pilot.press("r")  # a reset keeps the points: nothing to ask
        await until(pilot, lambda: idle(app) and len(app.session.trainer.drawn) == 2)
        assert app.screen is app.screen_stack[0]
        seed = app.session.experiment.task.seed
        await pilot.press("R")  # new data keeps the points too: nothing to ask
        await until(pilot, lambda: idle(app) and app.session.experiment.task.seed == seed + 1)
        assert app.screen is app.screen_stack[0] and len(app.session.trainer.drawn) == 2
        await pilot.press("p")
        assert isinstance(app.screen, PresetPicker)
        app.screen.dismiss("circle")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        question = app.screen.question
        assert question.startswith("Load the exercise circle.")
        assert "The 2 points you drew on the map are not saved" in question
        assert "save the data as a CSV file with D" in question
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.source == "draw-your-own" and len(app.drawing.points) == 2
        await pilot.press("D")  # saved: loading asks no more
        app.screen.query_one(Input).value = str(tmp_path / "kept.csv")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is app.screen_stack[0])
        await pilot.press("p")
        app.screen.dismiss("circle")
        await until(pilot, lambda: app.source == "circle" and app.session is not None)
        assert len(app.drawing.points) == 0
        assert len(app.session.trainer.drawn) == 0


@pytest.mark.parametrize("size", [SIZE, SMALL])
async def test_in_chinese_the_pen_and_your_points_are_named(chinese, size):
    app = PlaygroundApp(small("draw-your-own", **BLANK), "draw-your-own")
    async with app.run_test(size=size) as pilot:
        await open_drawing(pilot)
        await click_cell(pilot, 2, 2)
        await settled(pilot, 1)
        await until(pilot, lambda: "◆" in shown(app, "#big-map"))
        text = shown(app, "#big-map")
        assert "单击添加类别 0（k 切换）" in text and "◆ 你画的点 1（◇ 分错）" in text
        assert fits(app, "#big-map")  # the legend's lines were kept room for


async def test_on_a_regression_the_pen_draws_values_and_a_script_export_is_refused(tmp_path):
    app = PlaygroundApp(small("plane", **{"task.samples": 200}), "plane")
    async with app.run_test(size=SIZE) as pilot:
        await open_drawing(pilot)
        assert "click adds value +0 (k changes it)" in shown(app, "#big-map")
        await pilot.press("k", "k", "k")  # +0.5, +1, then round the cycle to -1
        await pilot.press("k")
        assert "click adds value -0.5 (k changes it)" in shown(app, "#big-map")
        await click_cell(pilot, 0, 0)
        await settled(pilot, 1)
        trainer = app.session.trainer
        assert trainer.y_train[-1].item() == -0.5 and trainer.raw_inputs()[-1].tolist() == [
            -1.2,
            1.2,
        ]
        await until(pilot, lambda: "yours 1" in shown(app, "#big-map"))
        await pilot.press("n")  # a step on the set with the point
        await until(pilot, lambda: idle(app) and app.session.trainer.steps == 1)
        await pilot.press("e")
        app.screen.query_one(Input).value = str(tmp_path / "run.py")
        await pilot.press("enter")
        await until(pilot, lambda: "does not hold the points you drew" in app.screen.error)
        assert not (tmp_path / "run.py").exists()


async def test_no_more_than_the_most_points_are_drawn(monkeypatch):
    app = PlaygroundApp(small("draw-your-own", **BLANK), "draw-your-own")
    async with app.run_test(size=SIZE) as pilot:
        said = notices(app, monkeypatch)
        await open_drawing(pilot)
        full = DrawnPoints(((0.0, 0.0),) * MOST_POINTS, (0.0,) * MOST_POINTS)
        app.drawing = replace(app.drawing, points=full)
        await click_cell(pilot, 2, 2)
        assert app.drawing.points is full
        assert said[-1] == "At most 2000 points can be drawn; remove some to draw more."


async def test_quitting_over_drawn_points_asks_first():
    app = PlaygroundApp(small("draw-your-own", **BLANK), "draw-your-own")
    async with app.run_test(size=SIZE) as pilot:
        await open_drawing(pilot)
        await click_cell(pilot, 2, 2)
        await settled(pilot, 1)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert app.screen.question.startswith("Quit nnplay.")
        assert "The 1 point you drew on the map is not saved: it will be lost." in (
            app.screen.question
        )
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.is_running and len(app.drawing.points) == 1


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_snapshot_of_a_map_with_drawn_points(snap_compare, size):
    async def drawn_and_trained(pilot):
        app = pilot.app
        await open_drawing(pilot)
        rows, cols = grid_shape(app)
        for row, col in ((1, 2), (2, 3), (1, 4), (3, 2)):
            await click_cell(pilot, row, col)
        await pilot.press("k")
        for row, col in ((rows - 2, cols - 3), (rows - 3, cols - 4), (rows - 2, cols - 5)):
            await click_cell(pilot, row, col)
        await settled(pilot, 7)
        await pilot.press("space")
        await until(pilot, lambda: idle(app) and app.session.trainer.epoch == 60, 60)
        app.clear_notifications()
        await pilot.pause(0.5)

    app = PlaygroundApp(small("draw-your-own", **BLANK), "draw-your-own")
    app.cursor_blink = False
    assert snap_compare(app, terminal_size=size, run_before=drawn_and_trained)
