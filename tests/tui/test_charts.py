"""The charts draw any history at any size, on either y scale, however often they render."""

import math
import re
from unittest.mock import PropertyMock, patch

import numpy as np
import pytest
from textual.app import App
from textual.geometry import Size

from nnplay.history import History, Snapshot, StepLosses
from nnplay.tui.chart_scale import finite_points, log_ticks, to_log, wants_log
from nnplay.tui.session import View
from nnplay.tui.train_view import LossChart, SecondChart

INF, NAN = math.inf, math.nan
SIZES = [(10, 5), (11, 6), (20, 8), (37, 13), (60, 20), (110, 30), (250, 80)]

# Step and epoch losses a learner's run can produce: a diverged run, a perfect fit, a single
# step, a long run, a loss that only grows.
LOSSES = {
    "zeros": ([0.0] * 5, [0.0, 0.0], [0.0, 0.0]),
    "diverged": ([1.0, 30.0, 4e3, 1e31, INF, NAN], [2.0, 1e31], [3.0, INF]),
    "nan epochs": ([0.5, 0.4, 0.3], [NAN, NAN], [NAN, 0.2]),
    "negative": ([-1.0, 0.5, -3.0], [-2.0, 1.0], [0.1, -0.1]),
    "huge": ([1e31, 2e31, 3e31], [1e31, 1e30], [1e29, 1e31]),
    "single": ([0.7], [0.7], [0.6]),
    "log then zero": ([100.0, 1.0, 0.001, 1e-5], [50.0, 0.0], [40.0, 0.0]),
    "long": (
        list(np.geomspace(1e3, 1e-4, 3000)),
        list(np.geomspace(100, 0.01, 2000)),
        list(np.geomspace(100, 0.02, 2000)),
    ),
    "empty": ([], [], []),
}


def view_of(steps, train, val, fit=None) -> View:
    epochs = list(range(1, len(train) + 1))
    accuracy = [min(1.0, max(0.0, 0.5 + 0.1 * i)) if i % 3 else NAN for i in epochs]
    history = History(
        epoch=epochs,
        step=[10 * e for e in epochs],
        train_loss=train,
        val_loss=val,
        train_accuracy=accuracy,
        val_accuracy=accuracy,
        step_loss=StepLosses(means=list(steps), last=steps[-1] if len(steps) else None),
    )
    snapshot = Snapshot(
        "running", "", len(train), 50, max(len(steps), 1), 10, 0.1, 0.0, history, {}
    )
    return View(snapshot, [], None, fit=fit)


class ChartApp(App):
    def compose(self):
        yield LossChart()
        yield SecondChart()


def render_at(chart, size) -> str:
    with patch.object(type(chart), "size", new_callable=PropertyMock, return_value=Size(*size)):
        first = str(chart.render())
        second = str(chart.render())  # plotext once took the log of the log here
    assert first == second
    return first


@pytest.mark.parametrize("name", LOSSES)
async def test_the_loss_chart_renders_any_history_at_any_size(name):
    app = ChartApp()
    async with app.run_test(size=(120, 40)):
        chart = app.query_one(LossChart)
        chart.draw(view_of(*LOSSES[name]))
        for size in SIZES:
            render_at(chart, size)


@pytest.mark.parametrize("name", LOSSES)
async def test_the_second_chart_renders_accuracy_and_fits_with_bad_values(name):
    app = ChartApp()
    async with app.run_test(size=(120, 40)):
        chart = app.query_one(SecondChart)
        steps, train, val = LOSSES[name]
        for fit in (None, (np.array(train + [1.0]), np.array(val + [INF]))):
            chart.draw(view_of(steps, train, val, fit))
            for size in SIZES:
                render_at(chart, size)


async def test_a_diverged_run_is_drawn_on_a_log_scale_with_real_tick_labels():
    app = ChartApp()
    async with app.run_test(size=(120, 40)):
        chart = app.query_one(LossChart)
        chart.draw(view_of(*LOSSES["diverged"]))
        text = render_at(chart, (80, 24))
        assert chart.title == "loss (log scale)"  # shown above the chart, not by plotext
        assert "1e0" in text and "1e30" in text  # the explosion shows
        assert any(0x2800 < ord(c) <= 0x28FF for c in text)
        chart.draw(view_of([0.5, 0.4], [0.45], [0.5]))  # a new run: back to linear
        assert chart.title == "loss"


@pytest.mark.parametrize("height", [9, 12, 16, 24, 40])
async def test_every_log_tick_label_is_shown_whatever_the_chart_height(height):
    """plotext draws ticks in an order that changes between processes: two ticks on one row
    once showed 1e20 in one run and 1e13 in the next."""
    app = ChartApp()
    async with app.run_test(size=(120, 40)):
        chart = app.query_one(LossChart)
        size = Size(60, height)
        with (
            patch.object(LossChart, "size", new_callable=PropertyMock, return_value=size),
            patch.object(chart.plt, "yticks", wraps=chart.plt.yticks) as yticks,
        ):
            chart.draw(view_of([1e-3, 1.0, 1e9, 1e20, 1e35], [1e-2, 1e34], [1e-2, 1e35]))
        asked = yticks.call_args.args[1]
        shown = re.findall(r"1e-?\d+(?=┤)", render_at(chart, (60, height)))
        assert len(asked) >= 2 and sorted(shown) == sorted(asked), (asked, shown)


def test_the_scale_helpers_keep_only_what_can_be_drawn():
    assert finite_points([1, 2, 3, 4], [0.5, INF, NAN, -1]) == ([1.0, 4.0], [0.5, -1.0])
    assert finite_points([1, 2], [0.0, 2.0], positive=True) == ([2.0], [2.0])
    assert wants_log([([1, 2], [1000.0, 1.0])]) and not wants_log([([1, 2], [10.0, 1.0])])
    assert not wants_log([([1, 2], [0.0, 1000.0])])  # a zero has no logarithm
    assert wants_log([([1, 2], [0.5, 1e31])])
    assert to_log([([1, 2, 3], [100.0, 0.0, 0.01])]) == [([1.0, 3.0], [2.0, -2.0])]
    positions, labels = log_ticks([([1, 2], [-2.0, 31.0])])
    assert labels[0] == "1e-2" and positions[-1] > 25 and len(positions) <= 7
