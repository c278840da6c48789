"""Curves on a plotext chart with their title and legend above the chart, never over the data.

The train view's charts and the comparison's charts both draw `Series` through `plot`: plotext
gets only finite points and no text at all. Its own legend sits inside the plot, on the data;
and it draws its title and axis labels one character per cell, so a wide (Chinese) character
shifts the rest of its row. The title, the legend and the x axis's name are therefore a line of
Rich text above the chart (in the same colours), in every language.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from nnplay.i18n import _
from nnplay.tui.chart_scale import finite_points
from nnplay.tui.colours import CLASS_COLOURS
from nnplay.tui.map_view import fit

Colour = tuple[int, int, int]
TRAIN, VALIDATION, BATCH = (245, 147, 34), (8, 119, 189), (128, 128, 128)
BASELINE = (200, 70, 90)
GHOSTS: list[Colour] = [(150, 120, 80), (90, 120, 150), (130, 100, 140)]  # faded, newest first
# One colour each for the variants of a comparison: the class colours, told apart best.
VARIANTS: list[Colour] = CLASS_COLOURS
MIN_SPAN = 0.1  # a linear y range covers at least this share of its level: noise stays small


@dataclass
class Series:
    xs: list[float]
    ys: list[float]
    label: str
    colour: Colour
    mark: str = "━"  # the legend's sample of the line

    @classmethod
    def of(cls, xs, ys, label: str, colour: Colour, mark: str = "━") -> Series:
        return cls(*finite_points(xs, ys), label, colour, mark)


def rgb(colour: Colour) -> str:
    """A bold Rich style of the colour."""
    return "bold rgb({},{},{})".format(*colour)


def plot(plt, series: list[Series]) -> None:
    for s in series:
        if s.xs:
            plt.plot(s.xs, s.ys, color=s.colour, marker="braille")


def legend(series: list[Series], title: str = "", x_label: str = "") -> list[tuple[Text, bool]]:
    """The chart's heading, item by item: its title in bold, a sample of each curve's line with
    its label, and what the x axis shows."""
    items = [(Text(title, style="bold"), True)] if title else []
    items += [(Text.assemble((s.mark + " ", rgb(s.colour)), s.label), True) for s in series]
    if x_label:  # the one item a narrow chart leaves out: the axis's numbers say much the same
        items.append((Text(_("x: {name}").format(name=x_label), style="dim"), False))
    return items


def y_range(values: list[float], floor: float | None = None) -> tuple[float, float] | None:
    """A y range for `values` at least MIN_SPAN of their level wide (a plateau's noise is not
    blown up into a zig-zag), kept above `floor`; None when there is nothing to range."""
    if not values:
        return None
    low, high = min(values), max(values)
    span = max(high - low, MIN_SPAN * max(abs(low), abs(high)), 1e-9)
    middle = (low + high) / 2
    low, high = middle - span / 2 * 1.05, middle + span / 2 * 1.05
    if floor is not None and low < floor <= min(values):
        low, high = floor, floor + (high - low)
    return low, high


class Chart(Vertical):
    """A heading (title, legend, x axis) above a plotext chart; its items wrap whole, never
    a curve's sample apart from its label."""

    def __init__(self, plot: PlotextPlot, **kwargs) -> None:
        super().__init__(classes="chart", **kwargs)
        self.chart = plot
        self._items: list[tuple[Text, bool]] = []
        self._legend: Text | None = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="legend")
        yield self.chart

    def show_legend(self, series: list[Series], title: str = "", x_label: str = "") -> None:
        self._items = legend([s for s in series if s.label], title, x_label)
        self._flow()

    def on_resize(self) -> None:
        self._flow()

    def _flow(self) -> None:
        width = self.size.width - 2  # the heading's padding
        if width < 1 or not self._items:  # no room to wrap in (a pane being laid out)
            return
        text = fit(self._items, width)
        if self._legend is None or text.plain != self._legend.plain:  # relayout only on change
            self._legend = text
            self.query_one(".legend", Static).update(text)
