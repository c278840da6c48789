"""The Network tab (5): the picture of the network, selecting a connection by keys and by a
click, and explaining its next update on the live run (`u`)."""

import numpy as np
import pytest
import torch

from nnplay.lab.neurons import LayerWeights
from nnplay.training import Trainer
from nnplay.tui import colours as c
from nnplay.tui.network_picture import (
    LINE_STYLES,
    SELECTED,
    NetworkPicture,
    connections,
    render_network,
)

from .conftest import SIZE, idle, notices, ready, small, until

SMALL = (80, 24)
FAST = {"task.samples": 300, "training.epochs": 3, "goal.epochs": 3}


def shown(app, selector) -> str:
    return str(app.query_one(selector).render())


async def open_network(pilot):
    await pilot.press("5")
    app = pilot.app
    await until(pilot, lambda: idle(app) and bool(app.query_one(NetworkPicture).cells))
    await pilot.pause()


def test_every_connection_is_drawn_coloured_by_sign_and_the_selected_one_stands_out():
    w1 = np.array([[0.9, -0.9], [0.1, -0.05], [0.0, 0.5]], dtype=np.float32)
    w2 = np.array([[1.0, -2.0, 0.3]], dtype=np.float32)
    layers = [
        LayerWeights("hidden1", w1, np.zeros(3, np.float32), (3, 2)),
        LayerWeights("output", w2, np.zeros(1, np.float32), (1, 3)),
    ]
    text, picture, layout = render_network(layers, None, ["x1", "x2"], (1, 0, 1), 70)
    passing = {key for lines in picture.passing.values() for _s, key in lines}
    assert passing == set(connections(layers)) and len(passing) == 6 + 3
    styles = {}
    for (x, y), lines in picture.passing.items():
        styles.setdefault(max(lines)[1], set()).add(picture.styles[y][x])
    assert styles[(1, 0, 1)] == {SELECTED}
    assert styles[(0, 0, 0)] & set(LINE_STYLES[1]) and styles[(0, 0, 1)] & set(LINE_STYLES[-1])
    brightest = {LINE_STYLES[1][c.LEVELS]}
    assert brightest <= styles[(0, 0, 0)]  # the largest of its pair of layers: full strength
    assert not brightest & styles.get((0, 1, 0), set())  # 0.1 of 0.9: dim
    for name in ("input layer", "hidden1", "output", "x1", "x2", "h1.3", "out"):
        assert name in text.plain
    assert "more" not in text.plain


def test_a_layer_of_more_than_eight_units_says_how_many_are_not_drawn():
    w1 = np.ones((8, 2), np.float32)  # network_weights copies the first 8 of 12
    w2 = np.ones((1, 8), np.float32)
    layers = [
        LayerWeights("hidden1", w1, np.zeros(8, np.float32), (12, 2)),
        LayerWeights("output", w2, np.zeros(1, np.float32), (1, 12)),
    ]
    text, _picture, layout = render_network(layers, None, ["x1", "x2"], None, 70)
    assert "+4 more" in text.plain and text.plain.count("more") == 1  # under hidden1 only
    assert layout.drawn == [2, 8, 1]


@pytest.mark.parametrize("size", [SIZE, SMALL])
async def test_keys_and_a_click_select_a_connection_and_show_the_models_value(make_app, size):
    app = make_app("circle", **FAST)
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        await pilot.press("n", "n")
        await open_network(pilot)
        text = shown(app, NetworkPicture)
        assert all(f"h1.{k}" in text for k in range(1, 9)) and "out" in text and "x2" in text
        assert text.count("▀") >= 11 * 6  # every unit's map: 6 cells of its upper row, at least
        picture = app.query_one(NetworkPicture)
        assert picture.selected == (0, 0, 0)
        await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
        assert picture.selected == (0, 1, 1) and picture.weight() == "hidden1.weight[1,1]"
        details = shown(app, "#connection-details")
        value = float(app.session.trainer.model.hidden1.weight[1, 1].detach())
        assert f"hidden1.weight[1,1] · x2 → h1.2 · w = {value:+.4f}" in details
        await pilot.press("left_square_bracket", "left_square_bracket", "left_square_bracket")
        await pilot.press("left_square_bracket")  # wraps around to the output's last weight
        assert picture.selected == (1, 0, 7)
        value = float(app.session.trainer.model.output.weight[0, 7].detach())
        assert f"output.weight[0,7] · h1.8 → out · w = {value:+.4f}" in shown(
            app, "#connection-details"
        )
        # a click on a cell only one line crosses, in sight, selects that line's weight
        scroll = picture.parent.scroll_offset.y
        height = picture.parent.content_size.height
        lone = sorted(
            (y, x, lines[0][1])
            for (x, y), lines in picture.cells.passing.items()
            if len(lines) == 1 and scroll <= y < scroll + height and lines[0][1] != (1, 0, 7)
        )
        y, x, connection = lone[0]
        await pilot.click(NetworkPicture, offset=(x + 1, y))  # 1: the padding
        await pilot.pause()
        assert picture.selected == connection
        i, k, j = connection
        layer = ["hidden1", "output"][i]
        value = float(getattr(app.session.trainer.model, layer).weight[k, j].detach())
        assert f"{layer}.weight[{k},{j}]" in shown(app, "#connection-details")
        assert f"w = {value:+.4f}" in shown(app, "#connection-details")


async def test_the_network_tab_computes_its_pictures_only_when_shown(make_app):
    app = make_app("circle", **FAST)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("n")
        await until(pilot, lambda: idle(app))
        view = app.query_one("#train").last_view
        assert "network" not in view.pictures and view.network == [] and view.units is None
        await open_network(pilot)
        view = app.query_one("#train").last_view
        assert view.pictures == {"network", "units"} and len(view.network) == 2
        assert view.units is not None and view.grid is None and view.weights == []
        await pilot.press("4")
        await until(pilot, lambda: app.query_one("#train").last_view.pictures == {"weights"})
        assert app.query_one("#train").last_view.network == []


async def test_explaining_an_adam_update_takes_one_normal_step_and_agrees_with_torch(make_app):
    setup = {**FAST, "training.optimizer": "adam", "training.l2": 0.001, "training.epochs": 10000}
    app = make_app("circle", **setup)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("n", "n", "n")
        await open_network(pilot)
        await pilot.press("right_square_bracket")  # hidden1.weight[0,1]
        await pilot.press("space")  # the explanation pauses a running run first
        await pilot.press("u")
        from nnplay.tui.lab_screens import ExplainScreen

        await until(pilot, lambda: isinstance(app.screen, ExplainScreen))
        explanation = app.screen.explanation
        steps = app.session.trainer.steps
        assert explanation.weight == "hidden1.weight[0,1]" and explanation.step == steps
        assert not app.session.running
        report = str(app.screen.query_one("#explain-report").render())
        assert "Optimizer adam:" in report and "m̂" in report and "v̂" in report
        assert "✔ by hand = torch" in report and explanation.agrees
        model = app.session.trainer.model
        assert float(model.hidden1.weight[0, 1].detach()) == explanation.new_torch
        assert abs(explanation.new - explanation.new_torch) <= 1e-6 * abs(explanation.old)
        # the run is as if it had taken its steps normally: a twin trained as many steps
        twin = Trainer(small("circle", **setup))
        for _step in range(steps):
            twin.step()
        for name, value in twin.model.state_dict().items():
            assert torch.equal(value, model.state_dict()[name]), name
        await pilot.press("escape")
        await until(pilot, lambda: app.query_one("#train").last_view.snapshot.step == steps)
        assert f"{float(model.hidden1.weight[0, 1].detach()):+.4f}" in shown(
            app, "#connection-details"
        )


async def test_batch_norm_is_refused_as_the_command_line_says_it(make_app, monkeypatch):
    app = make_app("batch-norm", **{"task.samples": 300, "model.batch_norm": True})
    async with app.run_test(size=SIZE) as pilot:
        told = notices(app, monkeypatch)
        await ready(pilot)
        await pilot.press("n")
        await open_network(pilot)
        await pilot.press("u")
        await until(pilot, lambda: bool(told))
        assert told == [
            "model.hidden: batch norm is not explained by hand: it mixes every sample of the "
            "batch into each one's value (use a model without batch_norm)"
        ]
        assert app.session.trainer.steps == 1 and app.screen is app.screen_stack[0]


def test_an_explained_step_that_ends_an_epoch_is_kept_for_scrubbing_back():
    from nnplay.training import steps_per_epoch
    from nnplay.tui.session import Session

    session = Session(small("circle", **FAST))  # not started: this thread owns the Trainer
    views = []
    session.on_view = views.append
    for _step in range(steps_per_epoch(session.experiment) - 1):
        session.advance()
    assert sorted(session.timeline) == [0]
    explanation = session.explain("output.weight[0,3]").result()
    assert explanation.weight == "output.weight[0,3]" and explanation.agrees
    assert sorted(session.timeline) == [0, 1] and session.trainer.epoch == 1
    assert views[-1].snapshot.step == session.trainer.steps == explanation.step
    with pytest.raises(Exception, match=r"--weight 'output.weight\[0,9\]' is not allowed"):
        session.explain("output.weight[0,9]").result()


def test_a_narrow_row_of_tabs_names_the_tab_shown_and_keys_the_others():
    from nnplay.tui.pictures import tab_labels

    assert list(tab_labels(200).values()) == [
        "1 Charts",
        "2 Map",
        "3 Neurons",
        "4 Weights",
        "5 Network",
    ]
    assert list(tab_labels(40).values()) == ["Charts", "Map", "Neurons", "Weights", "Network"]
    assert list(tab_labels(32, "network").values()) == ["1", "2", "3", "4", "Network"]


def test_a_diverged_network_with_nan_weights_is_drawn_and_described():
    from nnplay.tui.network_picture import connection_details

    bad = np.array([[np.nan, np.inf], [1.0, -1.0]], dtype=np.float32)
    layers = [
        LayerWeights("hidden1", bad, np.zeros(2, np.float32), (2, 2)),
        LayerWeights("output", bad[:1], np.zeros(1, np.float32), (1, 2)),
    ]
    text, picture, _layout = render_network(layers, None, ["x1", "x2"], (0, 0, 0), 40)
    assert {key for lines in picture.passing.values() for _s, key in lines} == set(
        connections(layers)
    )
    assert "w = +nan" in connection_details(layers, ["x1", "x2"], (0, 0, 0), 60).plain
