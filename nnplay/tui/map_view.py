"""The decision map: the model's answer over the plane with a title, axes, a legend and the data.

Two-input tasks get a coloured grid (class, P(class 1) or the predicted value) under the
training (●) and validation (○) points, misclassified ones as ✕; a one-input regression gets
its prediction curve over the data. The grid is computed by the worker at the size
`map_grid_size` asks for; this widget only paints it.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message

from nnplay.drawn import PEN_VALUES, pen_label, plane_of_cell
from nnplay.i18n import _
from nnplay.lab.boundary import EXTENT, BoundaryGrid, Curve, MapPoints, cell_of
from nnplay.tui import colours as c
from nnplay.tui.drawing import DRAWN, DRAWN_WRONG, drawn_items
from nnplay.tui.live_text import LiveText
from nnplay.tui.session import View
from nnplay.untrusted import shown
from nnplay.wrapping import line_starts

GUTTER = 7  # the y axis labels and their tick: "  +1.2┤"
MIN_ROWS = 4
DIM = Style(dim=True)
BOLD = Style(bold=True)
CURVE = Style(color="rgb(8,119,189)", bold=True)
TRAIN_DOT, VAL_DOT = Style(color="rgb(245,147,34)"), Style(color="rgb(160,160,160)")


def legend_rows(width: int, drawing: bool = False) -> int:
    """Lines the longest legend (ten classes and the points, and the drawing's words on a map
    one draws on) takes at this width (the words of hidden validation points are no longer
    than those of shown ones)."""
    widest = [Text(f"■{k}") for k in range(10)] + _point_items(WORST_POINTS)
    if drawing:
        widest += drawn_items(WORST_POINTS, Text(pen_label(PEN_VALUES[1], regression=True)))
    return len(flow(widest, width).plain.splitlines())


def map_grid_size(width: int, height: int, drawing: bool = False) -> tuple[int, int]:
    """(cols, rows) of the grid that fits a widget of this size with its title, x axis and
    legend; square on screen (a cell is about twice as tall as wide). Rows below MIN_ROWS
    mean the box is too small for a map."""
    rows = min(height - 2 - legend_rows(width, drawing), (width - GUTTER) // 2)
    return 2 * rows, rows


class DecisionMap(LiveText):
    """Sizes the worker's grid to the room it has; shows the map, or why there is none. A
    click on the grid says where on the plane it landed (a right click asks to remove)."""

    _view: View | None = None
    validation_shown = True  # v hides the validation points, to see the training data alone

    def show_validation(self, shown: bool) -> None:
        self.validation_shown = shown
        if self._view is not None:
            self.draw(self._view)

    _grid: BoundaryGrid | None = None  # the grid shown, when one is
    pen: Text | None = None  # what a click draws (nnplay.tui.drawing), said in the legend

    @property
    def drawing(self) -> bool:
        """The learner draws on this map (the big map of a 2-D task): its legend says how."""
        return self.pen is not None

    class Clicked(Message):
        def __init__(self, map: DecisionMap, x1: float, x2: float, remove: bool) -> None:
            super().__init__()
            self.map, self.x1, self.x2, self.remove = map, x1, x2, remove

    def set_pen(self, pen: Text | None) -> None:
        """Say what a click draws (None: this map is not drawn on); the legend may need a
        line more or less."""
        if pen == self.pen:
            return
        self.pen = pen
        self._ask_size()
        if self._view is not None:
            self.draw(self._view)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or self._grid is None:
            return
        rows, cols = self._grid.values.shape
        row, col = offset.y - 1, offset.x - GUTTER  # below the title, right of the y axis
        if 0 <= row < rows and 0 <= col < cols:
            x1, x2 = plane_of_cell(row, col, cols, rows)
            self.post_message(self.Clicked(self, x1, x2, remove=event.button == 3))

    def on_resize(self) -> None:
        self._ask_size()
        if self._view is not None:  # the legend and the titles follow the width at once
            self.draw(self._view)

    def on_show(self) -> None:
        self._ask_size()

    def _ask_size(self) -> None:
        width, height = self.content_size
        if width and height and self.display:
            rows = max(MIN_ROWS, map_grid_size(width, height, self.drawing)[1])
            self.app.resize_map(2 * rows, rows)  # type: ignore[attr-defined]

    def draw(self, view: View) -> None:
        self._view, self._grid = view, None
        width = self.content_size.width or 60
        if (
            self.content_size.height
            and map_grid_size(*self.content_size, self.drawing)[1] < MIN_ROWS
        ):
            self.show(
                Text(
                    _("The map needs more room: hide the build panel (b) or enlarge the terminal."),
                    DIM,
                )
            )
        elif view.grid is not None:
            self._grid = view.grid
            points, hidden = self._points(view), self._hidden(view)
            self.show(render_map(view.grid, points, width, hidden, self.pen))
        elif view.curve is not None:
            rows = map_grid_size(width, self.content_size.height or 14, self.drawing)[1]
            points, hidden = self._points(view), self._hidden(view)
            self.show(render_curve(view.curve, points, rows, width, hidden))
        else:
            message = _(
                "No map: this task has {count} inputs ({names}); a map needs a synthetic task "
                "of 2 inputs, or 1 input for a regression curve.\nThe Weights tab (4) shows "
                "what each input does."
            )
            names = shown(", ".join(view.input_names), 200)
            self.show(Text(message.format(count=len(view.input_names), names=names), style=DIM))

    def _hidden(self, view: View) -> bool:
        return not self.validation_shown and view.points is not None

    def _points(self, view: View) -> MapPoints | None:
        """The points drawn: without the validation ones while they are hidden."""
        if not self._hidden(view) or view.points is None:
            return view.points
        keep = ~view.points.validation
        arrays = {
            f.name: value[keep] if isinstance(value, np.ndarray) else value
            for f in fields(view.points)
            for value in [getattr(view.points, f.name)]
        }
        return MapPoints(**arrays)


def render_map(
    grid: BoundaryGrid,
    points: MapPoints | None,
    width: int,
    validation_hidden: bool = False,
    pen: Text | None = None,
) -> Text:
    rows, cols = grid.values.shape
    overlay = _overlay(grid, points, cols, rows)
    canvas = c.Canvas()
    canvas.append(_title(grid, width) + "\n", BOLD)
    table, keys = _cell_styles(grid)
    for i in range(rows):
        label = {0: f"{EXTENT:+.1f}", rows // 2: "x2", rows - 1: f"{-EXTENT:+.1f}"}.get(i, "")
        canvas.append(f"{label:>{GUTTER - 1}}" + ("┤" if label and label != "x2" else "│"), DIM)
        c.append_runs(canvas, keys[i].tolist(), table, marks=overlay.get(i))
        canvas.append("\n")
    text = canvas.text()
    text.append(_x_axis(f"{-EXTENT:+.1f}", "x1", f"{EXTENT:+.1f}", cols) + "\n", DIM)
    items = _scale_items(grid) + _point_items(points, validation_hidden)
    if pen is not None:
        items += drawn_items(points, pen)
    text.append_text(flow(items, width))
    return text


def _title(grid: BoundaryGrid, width: int) -> str:
    title, detail = {
        "binary": (_("decision map"), _(": colour = P(class 1), paler = less sure")),
        "multiclass": (_("decision map"), _(": colour = class, paler = less sure")),
    }.get(grid.kind, (_("prediction map"), _(": colour = predicted value")))
    return title + detail if cell_len(title + detail) <= width else title


def _cell_styles(grid: BoundaryGrid) -> tuple[list, np.ndarray]:
    """The style table and each cell's index into it."""
    if grid.kind == "multiclass":
        confidence = np.nan_to_num(grid.confidence, nan=0.0, posinf=1.0, neginf=0.0)
        strength = np.clip((confidence * c.LEVELS).astype(int), 0, c.LEVELS - 1)
        classes = grid.values.astype(int) % len(c.CLASS_COLOURS)
        return c.CLASS_STYLES, classes * c.LEVELS + strength
    low, high = grid.value_range
    with np.errstate(all="ignore"):
        shares = (
            (grid.values - low) / (high - low) if high > low else np.full(grid.values.shape, 0.5)
        )
    return c.DIVERGING, c.levels(shares)


def _overlay(grid: BoundaryGrid, points: MapPoints | None, cols: int, rows: int) -> dict:
    """{row: {col: (glyph, style)}}: validation first, then training, then the misclassified
    on top, so that a mistake is never hidden by a neighbour."""
    if points is None or not len(points.xy):
        return {}
    r, col = cell_of(points.xy, cols, rows)
    order = np.lexsort((points.wrong, ~points.validation))  # val, train; wrong last in each
    order = np.concatenate([order[~points.wrong[order]], order[points.wrong[order]]])
    yours = np.zeros(len(order), bool) if points.yours is None else points.yours
    order = np.concatenate([order[~yours[order]], order[yours[order]]])  # the learner's on top
    low, high = grid.value_range
    overlay: dict[int, dict[int, tuple[str, Style]]] = {}
    for k in order:
        if grid.kind == "regression":
            share = 0.5 if high <= low else (points.value[k] - low) / (high - low)
            style = c.TINTED_ON_LEVEL[c.level(share)]
        else:
            style = c.POINT_STYLES[int(points.value[k]) % len(c.POINT_STYLES)]
        if yours[k]:
            glyph = DRAWN_WRONG if points.wrong[k] else DRAWN
        else:
            glyph = "✕" if points.wrong[k] else ("○" if points.validation[k] else "●")
        overlay.setdefault(int(r[k]), {})[int(col[k])] = (glyph, style)
    return overlay


def _scale_items(grid: BoundaryGrid) -> list[Text]:
    if grid.kind == "multiclass":
        classes = int(grid.values.max()) + 1 if grid.values.size else 2
        return [
            Text.assemble(("■", c.CLASS_FG[k % len(c.CLASS_FG)]), f"{k}")
            for k in range(max(classes, 2))
        ]
    if grid.kind == "binary":
        return [
            Text.assemble(("■", c.CLASS_FG[0]), " " + _("class {number}").format(number=0)),
            Text.assemble(("■", c.CLASS_FG[1]), " " + _("class {number}").format(number=1)),
        ]
    low, high = grid.value_range
    bar = Text()
    for i in range(0, 2 * c.LEVELS + 1, 4):
        bar.append(" ", c.DIVERGING[i])
    return [Text.assemble(f"{low:.3g} ", bar, f" {high:.3g}")]


def _point_items(points: MapPoints | None, validation_hidden: bool = False) -> list[Text]:
    if points is None:
        return []
    items = [Text("● " + _("train")), Text("○ " + _validation_words(validation_hidden))]
    if points.value.dtype.kind == "i":  # classification
        # Only the plotted points are counted (a sample of the data): the words say so.
        wrong = _("wrong {count}/{total} (a sample)").format(
            count=int(points.wrong.sum()), total=len(points.wrong)
        )
        items.append(Text("✕ " + wrong))
    return items


def _validation_words(hidden: bool) -> str:
    """The legend's word for the validation points, which says when v has hidden them (in as
    few cells: the legend's height is reserved for the longer words)."""
    return _("val hidden") if hidden else _("validation")


def flow(items: list[Text], width: int) -> Text:
    """The items on as many lines as the width needs (two spaces apart); an item wider than a
    line is broken by nnplay's rule, not cut."""
    legend, line = Text(), 0
    for item in items:
        if line and line + 2 + item.cell_len > width:
            legend.append("\n")
            line = 0
        elif line:
            legend.append("  ")
            line += 2
        pieces = item.divide(line_starts(item.plain, max(width, 1)))
        for piece in pieces[:-1]:
            piece.rstrip()  # the space a line broke at
        legend.append_text(Text("\n").join(pieces))
        line += pieces[-1].cell_len
    return legend


def fit(items: list[tuple[Text, bool]], width: int) -> Text:
    """The items flowed into `width` cells; the optional ones (False) are left out, last first,
    while they make the text take more lines than the needed ones alone."""
    needed = len(flow([t for t, must in items if must], width).plain.splitlines())
    while len(flow([t for t, _must in items], width).plain.splitlines()) > needed:
        optional = [i for i, (_text, must) in enumerate(items) if not must]
        if not optional:
            break
        items = items[: optional[-1]] + items[optional[-1] + 1 :]
    return flow([t for t, _must in items], width)


def _x_axis(low: str, name: str, high: str, cols: int) -> str:
    inner = max(0, cols - len(low) - len(high))
    return " " * GUTTER + low + name.center(inner) + high


def _number(value: float) -> str:
    text = f"{value:.3g}"
    return text if len(text) < GUTTER else f"{value:.0e}"


WORST_POINTS = MapPoints(
    np.zeros((999, 2)),
    np.zeros(999, int),
    np.zeros(999, bool),
    np.ones(999, bool),
    np.ones(999, bool),
)


def render_curve(
    curve: Curve,
    points: MapPoints | None,
    rows: int,
    width: int,
    validation_hidden: bool = False,
) -> Text:
    """The prediction (a line) over the data points, both on the same y scale."""
    cols = len(curve.xs)
    values = np.concatenate([curve.predictions] + ([points.value] if points is not None else []))
    values = values[np.isfinite(values)]
    low, high = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
    pad = 0.05 * (high - low) or 1.0
    low, high = low - pad, high + pad

    def row_of(y):  # a value that is not finite goes to the middle row
        share = np.nan_to_num(
            (high - np.asarray(y, dtype=np.float64)) / (high - low), nan=0.5, posinf=1.0, neginf=0.0
        )
        return np.clip(np.rint(share * (rows - 1)), 0, rows - 1).astype(int)

    cells: dict[tuple[int, int], tuple[str, Style]] = {}
    if points is not None:
        x_low, x_high = float(curve.xs[0]), float(curve.xs[-1])
        span = (x_high - x_low) or 1.0
        pc = np.clip(np.rint((points.xy[:, 0] - x_low) / span * (cols - 1)), 0, cols - 1)
        for k in np.argsort(~points.validation):  # validation first, training on top
            cells[(int(row_of(points.value[k])), int(pc[k]))] = (
                ("○", VAL_DOT) if points.validation[k] else ("●", TRAIN_DOT)
            )
    curve_rows = row_of(curve.predictions)
    for j, r in enumerate(curve_rows):
        previous = curve_rows[j - 1] if j else r
        for between in range(min(previous, r) + 1, max(previous, r)):
            cells[(between, j)] = ("│", CURVE)
        cells[(int(r), j)] = ("•", CURVE)

    canvas = c.Canvas()
    title = _("prediction curve: the line is the model, the dots the data")
    canvas.append((title if cell_len(title) <= width else _("prediction curve")) + "\n", BOLD)
    for i in range(rows):
        label = {0: _number(high), rows // 2: "y", rows - 1: _number(low)}.get(i, "")
        canvas.append(f"{label:>{GUTTER - 1}}" + ("┤" if label and label != "y" else "│"), DIM)
        for j in range(cols):
            canvas.append(*cells.get((i, j), (" ", None)))
        canvas.append("\n")
    text = canvas.text()
    text.append(_x_axis(_number(curve.xs[0]), "x", _number(curve.xs[-1]), cols) + "\n", DIM)
    items = [
        Text.assemble(("•", CURVE), " " + _("prediction")),
        Text.assemble(("●", TRAIN_DOT), " " + _("train")),
        Text.assemble(("○", VAL_DOT), " " + _validation_words(validation_hidden)),
    ]
    text.append_text(flow(items, width))
    return text
