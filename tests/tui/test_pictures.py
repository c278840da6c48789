"""The pictures as a learner sees them: the map, the neurons, the weights, the description."""

import re

import pytest

from nnplay.tui.map_view import MIN_ROWS, map_grid_size
from nnplay.tui.neuron_view import NeuronView

from .conftest import SIZE, ready, train_to_epoch, until

SMALL = (80, 24)
FAST = {"task.samples": 300, "training.epochs": 3, "goal.epochs": 3}


def shown(app, selector) -> str:
    return str(app.query_one(selector).render())


def fits(app, selector) -> bool:
    """Every line of the widget's text fits its box: nothing is cut."""
    widget = app.query_one(selector)
    lines = shown(app, selector).splitlines()
    width, height = widget.content_size
    return len(lines) <= height and all(len(line) <= width for line in lines)


async def open_tab(pilot, key, selector):
    await pilot.press(key)
    app = pilot.app
    await until(
        pilot,
        lambda: (
            app.query_one(selector).content_size.width > 0 and shown(app, selector).strip() != ""
        ),
    )
    await pilot.pause()


def map_matches_its_box(app) -> bool:
    """The worker's grid has the size the map asked for (MIN_ROWS when the box is too small)."""
    view = app.query_one("#train").last_view
    big = app.query_one("#big-map")
    rows = max(MIN_ROWS, map_grid_size(*big.content_size, big.drawing)[1])
    return view.grid.values.shape == (rows, 2 * rows)


def map_fits_or_asks_for_room(app) -> bool:
    """The map fits its box, or the box is too small and says so (that line wraps, a map's
    rows must not)."""
    return fits(app, "#big-map") or "needs more room" in shown(app, "#big-map")


async def open_map(pilot):
    """The session is ready, the Map tab open and its grid sized to its box."""
    await ready(pilot)
    await open_tab(pilot, "2", "#big-map")
    await until(pilot, lambda: map_matches_its_box(pilot.app))


@pytest.mark.parametrize("size", [SIZE, SMALL])
async def test_the_map_has_title_axes_legend_and_points_at_two_sizes(make_app, size):
    app = make_app("circle", **FAST)
    async with app.run_test(size=size) as pilot:
        await open_map(pilot)
        text = shown(app, "#big-map")
        for part in (
            "decision map",
            "+1.2",
            "-1.2",
            "x1",
            "x2",
            "■ class 0",
            "■ class 1",
            "● train",
            "○ validation",
            "✕ wrong",
        ):
            assert part in text, part
        assert "●" in text.replace("● train", "") and "○" in text.replace("○ validation", "")
        points = app.query_one("#train").last_view.points
        wrong = int(points.wrong.sum())
        assert len(points.wrong) == 225 and points.validation.sum() == 75  # 150 + 75 drawn
        # untrained: some are wrong; the count is of the points drawn, and the legend says so
        assert f"✕ wrong {wrong}/225 (a sample)" in text and wrong > 0
        assert fits(app, "#big-map")
        cols, rows = app.session.map_size
        assert rows >= (18 if size == SIZE else 8) and cols == 2 * rows
        await pilot.press("b")  # the build panel toggles: the map follows the room it has
        await until(pilot, lambda: app.session.map_size != (cols, rows))
        await until(pilot, lambda: map_matches_its_box(app))
        assert map_fits_or_asks_for_room(app)  # at 80x24 the panel leaves too little room


async def test_the_map_grows_when_the_build_panel_is_hidden_and_survives_resizes(make_app):
    app = make_app("xor", **FAST)
    async with app.run_test(size=SIZE) as pilot:
        await open_map(pilot)
        await pilot.press("n", "n")
        session = app.session
        with_panel = session.map_size
        await pilot.press("b")
        await until(pilot, lambda: app.session.map_size != with_panel)
        assert app.session.map_size[0] > with_panel[0]
        for size in (SMALL, (60, 20), (160, 50), SIZE):
            await pilot.resize_terminal(*size)
            await until(pilot, lambda: map_matches_its_box(app))
            assert map_fits_or_asks_for_room(app)
        await pilot.pause(0.3)
        assert app.session is session and session.trainer.steps == 2  # nothing was lost


async def test_the_small_map_of_the_charts_tab_has_axes_and_legend(make_app):
    app = make_app("circle", **FAST)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await until(pilot, lambda: "x1" in shown(app, "#map"))
        text = shown(app, "#map")
        assert "+1.2" in text and "x2" in text and "class 1" in text
        assert fits(app, "#map")


async def test_regression_on_the_plane_is_a_heat_map_with_its_scale(make_app):
    app = make_app("plane", **FAST)
    async with app.run_test(size=SIZE) as pilot:
        await open_map(pilot)
        text = shown(app, "#big-map")
        low, high = app.query_one("#train").last_view.grid.value_range
        assert "prediction map" in text and f"{low:.3g} " in text and f" {high:.3g}" in text
        assert "wrong" not in text  # no classes, nothing misclassified


async def test_one_input_regression_draws_the_prediction_curve_over_the_data(make_app):
    app = make_app("quadratic-fit", **{"training.epochs": 300, "goal.epochs": 300})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await train_to_epoch(pilot, 300, 60)
        await open_tab(pilot, "2", "#big-map")
        await until(pilot, lambda: "prediction curve" in shown(app, "#big-map"))
        await until(
            pilot,
            lambda: len(app.query_one("#train").last_view.curve.xs) == app.session.map_size[0],
        )
        text = shown(app, "#big-map")
        cols = app.session.map_size[0]
        assert text.count("•") >= cols - 1 and "● train" in text and "○ validation" in text
        assert re.search(r"\b0\.99\b", text) and "y" in text  # the x range, the y axis
        assert fits(app, "#big-map")


async def test_a_task_without_a_plane_says_why_it_has_no_map(make_app):
    app = make_app("first-gt-fifth")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await open_tab(pilot, "2", "#big-map")
        assert "this task has 5 inputs" in shown(app, "#big-map")
        await open_tab(pilot, "3", "#neurons")
        assert "two inputs" in shown(app, "#neurons")


@pytest.mark.parametrize("size", [SIZE, SMALL])
async def test_neuron_maps_and_selecting_a_unit(make_app, size):
    app = make_app("circle", **FAST)
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        await open_tab(pilot, "3", "#neurons")
        text = shown(app, "#neurons")
        assert "input layer · x1, x2" in text and "hidden1 · 8 units · tanh" in text
        assert all(f"h1.{k}" in text for k in range(1, 9)) and "out" in text
        assert text.count("▀") >= 11 * 50  # 2 inputs, 8 hidden, 1 output: 10×5 cells each
        model = app.session.trainer.model
        details = shown(app, "#unit-details")
        assert "▶ h1.1" in details and f"bias {model.hidden1.bias[0].item():+.3f}" in details
        await pilot.press("right_square_bracket")
        assert "▶ h1.2" in shown(app, "#unit-details")
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert "▶ out" in shown(app, "#unit-details")  # wraps around to the last unit
        view = app.query_one(NeuronView)
        x0, y0, *_ = next(t for t in view._tiles if t[4:] == (1, 2))
        await pilot.press("right_square_bracket", "right_square_bracket")  # h1.2, in sight
        assert "▶ h1.2" in shown(app, "#unit-details")
        await pilot.pause()
        await pilot.click(NeuronView, offset=(x0 + 2, y0 + 2))  # offsets move with the scroll
        text = shown(app, "#unit-details")
        w = model.hidden1.weight[2].tolist()
        assert "▶ h1.3" in text and f"x1 {w[0]:+.3f}" in text and f"x2 {w[1]:+.3f}" in text


async def test_weights_table_shows_w1_positive_and_w5_negative_after_training(make_app):
    app = make_app(
        "first-gt-fifth",
        **{"task.samples": 2000, "training.lr": 0.01, "training.epochs": 5, "goal.epochs": 5},
    )
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await train_to_epoch(pilot, 5, 60)
        await open_tab(pilot, "4", "#weights")
        await until(pilot, lambda: "w5" in shown(app, "#weights"))
        text = shown(app, "#weights")
        rows = re.finditer(r"^ *(w\d|bias) .*?([+-]\d+\.\d+)", text, re.MULTILINE)
        values = {m[1]: float(m[2]) for m in rows}
        weights = app.session.trainer.model.output.weight[0].tolist()
        assert values["w1"] == pytest.approx(weights[0], abs=1e-3) and values["w1"] > 1
        assert values["w5"] == pytest.approx(weights[4], abs=1e-3) and values["w5"] < -1
        assert all(abs(values[f"w{i}"]) < values["w1"] / 3 for i in (2, 3, 4))
        assert "x1 → out" in text and "x5 → out" in text


async def test_weights_table_of_a_hidden_layer(make_app):
    app = make_app("circle", **FAST)
    async with app.run_test(size=SMALL) as pilot:
        await ready(pilot)
        await open_tab(pilot, "4", "#weights")
        text = shown(app, "#weights")
        w = app.session.trainer.model.hidden1.weight.tolist()
        assert "hidden1 · 2 → 8" in text and "output · 8 → 1" in text
        row = next(line for line in text.splitlines() if line.strip().startswith("h1.8 "))
        assert f"{w[7][0]:+.3f}" in row and f"{w[7][1]:+.3f}" in row


async def test_the_description_is_on_the_main_screen_and_folds(make_app):
    app = make_app("first-gt-fifth")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert "Each sample is five random numbers" in shown(app, "#exercise")
        await pilot.press("d")
        assert "Each sample" not in shown(app, "#exercise")
        assert "d: the description" in shown(app, "#exercise")
        await pilot.press("d")
        assert "Each sample is five random numbers" in shown(app, "#exercise")
    app = make_app("first-gt-fifth")
    async with app.run_test(size=SMALL) as pilot:  # short screens start folded
        await ready(pilot)
        assert "d: the description" in shown(app, "#exercise")
        await pilot.press("d")
        assert "Each sample is five random numbers" in shown(app, "#exercise")


def test_pictures_of_a_broken_model_draw_without_crashing():
    """Weights gone to NaN or infinity (mid-divergence) draw as neutral cells, not a crash."""
    import numpy as np

    from nnplay.lab.boundary import BoundaryGrid, Curve, MapPoints
    from nnplay.lab.neurons import LayerWeights, UnitLayer
    from nnplay.tui.map_view import render_curve, render_map
    from nnplay.tui.neuron_view import render_units, unit_details
    from nnplay.tui.weights_view import render_weights

    bad = np.array([[np.nan, np.inf], [-np.inf, 0.5]])
    points = MapPoints(
        np.array([[0.1, 0.2], [0.5, -0.5]]),
        np.array([0, 1]),
        np.array([False, True]),
        np.array([True, False]),
    )
    for kind in ("binary", "multiclass", "regression"):
        values = np.array([[0, 1], [2, 1]]) if kind == "multiclass" else bad
        grid = BoundaryGrid(kind, values, bad, (float("nan"), float("nan")))
        assert "x1" in render_map(grid, points, 40).plain
    curve = Curve(np.linspace(0, 1, 8), np.array([np.nan, np.inf, -np.inf, 1, 2, 3, 4, 5.0]))
    assert render_curve(curve, None, 6, 40).plain.count("•") == 8 + 1  # and the legend
    layers = [
        UnitLayer("inputs", "", np.zeros((2, 4, 4)), None, None, 2),
        UnitLayer("output", "", np.full((1, 4, 4), np.nan), bad[:1], bad[0, :1], 1),
    ]
    text, tiles = render_units(layers, ["x1", "x2"], (1, 0), 40)
    assert len(tiles) == 3 and "out" in text.plain
    assert "nan" in unit_details(layers, ["x1", "x2"], (1, 0), 40).plain
    weights = [LayerWeights("output", bad[:1], bad[0, :1], (1, 2))]
    assert "w2" in render_weights(weights, ["x1", "x2"], 40).plain


async def test_the_session_computes_only_the_pictures_of_the_tab_shown(make_app):
    """Training on the Weights tab makes no maps; the Map tab, opened after the run, gets one
    at once, and the charts tab's Views have the small map but no unit maps or weight lists."""
    app = make_app("circle", **FAST)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await open_tab(pilot, "4", "#weights")
        await train_to_epoch(pilot, 3)
        view = app.query_one("#train").last_view
        assert view.pictures == {"weights"} and view.weights
        assert view.grid is None and view.units is None and view.points is None
        await open_tab(pilot, "2", "#big-map")
        await until(pilot, lambda: app.query_one("#train").last_view.grid is not None)
        await pilot.pause()
        assert "decision map" in shown(app, "#big-map") and "✕ wrong" in shown(app, "#big-map")
        await open_tab(pilot, "1", "#map")
        await until(pilot, lambda: app.query_one("#train").last_view.pictures == {"map", "fit"})
        view = app.query_one("#train").last_view
        assert view.grid is not None and view.units is None and view.weights == []
