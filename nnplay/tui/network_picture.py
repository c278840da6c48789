"""The picture of the network, as TF Playground draws it: the inputs, each unit and the output
in columns, every connection between them a line.

A line's colour is its weight's sign (blue positive, orange negative), its brightness the
weight's size against the largest of its pair of layers, and the larger half of them are drawn
twice as thick. Lines are braille dots; where lines cross, a cell shows the strongest of them.
On 2-D tasks each unit carries its small map (the Neurons tab's, smaller). The first MAX_UNITS
of a layer are drawn, and a note under it says how many are not.

A click on a line, or [ and ], selects a connection: its name, ends and value are shown above
the picture, and `u` explains its next update (the app's ExplainScreen).
"""

from __future__ import annotations

import numpy as np
from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.widget import Widget

from nnplay.i18n import N_, _
from nnplay.lab.neurons import MAX_UNITS, LayerWeights, UnitLayer
from nnplay.tui import colours as c
from nnplay.tui.live_text import GrowingText
from nnplay.tui.map_view import flow
from nnplay.tui.neuron_view import centred, half_block_keys
from nnplay.tui.session import View
from nnplay.tui.weights_view import source_names, unit_names

TILE_W, TILE_ROWS = 6, 2  # a unit's map: 6 cells by 2 (6 × 4 half-block pixels)
SLOT = TILE_ROWS + 1  # its label above it
MIN_GAP, MAX_GAP = 6, 28  # the room for the lines between two columns
BOLD, DIM = Style(bold=True), Style(dim=True)
SELECTED = Style(color="rgb(255,220,0)", bold=True)
# a line's colour by sign and strength: never as dark as the background, however small
LINE_STYLES = {
    sign: [Style(color=c.blend(colour, 0.3 + 0.7 * k / c.LEVELS)) for k in range(c.LEVELS + 1)]
    for sign, colour in ((1, c.HIGH), (-1, c.LOW))
}
BRAILLE = 0x2800
DOT_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]])  # [row][column]
KEYS = (
    N_("lines: blue positive, orange negative, brighter and thicker = larger"),
    N_("each pair of layers on its own scale"),
    N_("a click or [ and ] select a connection; u explains its next update"),
)

Connection = tuple[int, int, int]  # (layer, unit k, input j): layers[layer].weight[k, j]


def connections(layers: list[LayerWeights]) -> list[Connection]:
    """Every connection drawn, layer by layer, unit by unit, input by input."""
    return [
        (i, k, j)
        for i, layer in enumerate(layers)
        if layer.weight is not None
        for k in range(layer.weight.shape[0])
        for j in range(layer.weight.shape[1])
    ]


def weight_name(layers: list[LayerWeights], connection: Connection) -> str:
    """As `nnplay explain --weight` and the exported state_dict name it: hidden1.weight[2,0]."""
    i, k, j = connection
    return f"{layers[i].name}.weight[{k},{j}]"


class Layout:
    """Where every column and unit is: column i holds the inputs (0) or layer i − 1's units."""

    def __init__(self, layers: list[LayerWeights], width: int) -> None:
        self.counts = [layers[0].shape[1], *(layer.shape[0] for layer in layers)]
        self.drawn = [min(n, MAX_UNITS) for n in self.counts]  # as network_weights copies them
        columns = len(self.counts)
        room = (width - columns * TILE_W) // max(1, columns - 1)
        self.gap = min(MAX_GAP, max(MIN_GAP, room))
        self.x = [i * (TILE_W + self.gap) for i in range(columns)]
        self.width = self.x[-1] + TILE_W
        tallest = max(self.drawn)
        self.rows = tallest * SLOT
        self.tops = [
            [1 + (tallest - n) * SLOT // 2 + k * SLOT for k in range(n)] for n in self.drawn
        ]  # row 0 holds the columns' titles

    def anchor(self, column: int, unit: int) -> int:
        """The dot row a line meets unit `unit` of `column` at: the middle of its map."""
        return 4 * (self.tops[column][unit] + 1) + 3


class Picture:
    """A grid of cells: a character and a style each; lines drawn into it keep, per cell, which
    connections pass there (the strongest drawn on top)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.chars = [[" "] * width for _row in range(height)]
        self.styles: list[list[Style | None]] = [[None] * width for _row in range(height)]
        self.dots = np.zeros((height, width), dtype=np.int32)
        self.passing: dict[tuple[int, int], list[tuple[float, Connection]]] = {}

    def put(self, x: int, y: int, text: str, style: Style | None = None) -> None:
        """`text` from cell x of row y; a wide character (Chinese) takes two cells."""
        for char in text:
            wide = cell_len(char)
            if x >= 0 and x + wide <= self.width and 0 <= y < self.height:
                self.chars[y][x], self.styles[y][x] = char, style
                if wide == 2:
                    self.chars[y][x + 1], self.styles[y][x + 1] = "", style
            x += wide

    def lines(self, x0: int, x1: int, y0, y1, keys: list, strengths, thick) -> None:
        """Lines of braille dots from (x0, y0[n]) to (x1, y1[n]), one per key (dot coordinates:
        2 per cell across, 4 down), all at once: a deep network has hundreds."""
        y0, y1 = np.asarray(y0)[:, None], np.asarray(y1)[:, None]
        steps = int(max(abs(x1 - x0), np.abs(y1 - y0).max(), 1))
        share = np.arange(steps + 1) / steps
        xs = np.broadcast_to(x0 + np.rint(share * (x1 - x0)).astype(int), (len(keys), steps + 1))
        ys = y0 + np.rint(share * (y1 - y0)).astype(int)
        line = np.broadcast_to(np.arange(len(keys))[:, None], xs.shape)
        thick = np.asarray(thick)  # the thick lines again, one dot lower
        xs = np.concatenate([xs.ravel(), xs[thick].ravel()])
        ys = np.concatenate([ys.ravel(), ys[thick].ravel() + 1])
        line = np.concatenate([line.ravel(), line[thick].ravel()])
        cols, rows = xs // 2, ys // 4
        inside = (cols >= 0) & (cols < self.width) & (rows >= 0) & (rows < self.height)
        cols, rows, xs, ys, line = (a[inside] for a in (cols, rows, xs, ys, line))
        np.bitwise_or.at(self.dots, (rows, cols), DOT_BITS[ys % 4, xs % 2])
        cells, n = np.divmod(np.unique((rows * self.width + cols) * len(keys) + line), len(keys))
        strength = np.asarray(strengths, dtype=float)[n].tolist()
        for x, y, s, k in zip(
            (cells % self.width).tolist(),
            (cells // self.width).tolist(),
            strength,
            n.tolist(),
            strict=True,
        ):
            self.passing.setdefault((x, y), []).append((s, keys[k]))

    def text(self) -> Text:
        for (x, y), _lines in self.passing.items():
            self.chars[y][x] = chr(BRAILLE + int(self.dots[y, x]))
        canvas = c.Canvas()
        for row, (chars, styles) in enumerate(zip(self.chars, self.styles, strict=True)):
            if row:
                canvas.append("\n")
            start = 0
            for n in range(1, len(chars) + 1):  # one span per run of equal styles
                if n == len(chars) or styles[n] is not styles[start]:
                    canvas.append("".join(chars[start:n]), styles[start])
                    start = n
        return canvas.text()


def crop(text: str, cells: int) -> str:
    """`text` cut to at most `cells` cells (a wide character counts two)."""
    return set_cell_size(text, min(cells, cell_len(text)))


def render_network(
    layers: list[LayerWeights],
    units: list[UnitLayer] | None,
    names: list[str],
    selected: Connection | None,
    width: int,
) -> tuple[Text, Picture, Layout]:
    """The picture, and the grid of cells behind it (which connections pass where)."""
    layout = Layout(layers, width)
    picture = Picture(layout.width, layout.rows + 2)
    titles = [_("input layer"), *(layer.name for layer in layers)]
    for column, title in enumerate(titles):
        picture.put(layout.x[column], 0, crop(title, TILE_W + layout.gap - 1), BOLD)
        hidden = layout.counts[column] - layout.drawn[column]
        if hidden > 0:
            note = _("+{count} more").format(count=hidden)
            picture.put(layout.x[column], layout.rows + 1, crop(note, TILE_W + layout.gap - 1), DIM)
    _draw_units(picture, layout, layers, units, names)
    for i, layer in enumerate(layers):
        if layer.weight is not None:
            _draw_lines(picture, layout, i, layer.weight, selected)
    _colour_lines(picture, layers, selected)
    return picture.text(), picture, layout


def _draw_units(picture, layout: Layout, layers, units, names) -> None:
    labels = [source_names(layers, 0, names)] + [unit_names(layers, i) for i in range(len(layers))]
    for column, tops in enumerate(layout.tops):
        tiles = _tiles(units[column]) if units else None
        for unit, top in enumerate(tops):
            picture.put(layout.x[column], top, set_cell_size(labels[column][unit], TILE_W), BOLD)
            for r in range(TILE_ROWS):
                if tiles is None:  # no plane to draw over: a box
                    box = "╭────╮" if r == 0 else "╰────╯"
                    picture.put(layout.x[column], top + 1 + r, box, DIM)
                    continue
                for n, key in enumerate(tiles[unit][r]):
                    picture.put(layout.x[column] + n, top + 1 + r, c.HALF_BLOCK, c.HALVES[key])


def _tiles(layer: UnitLayer) -> list:
    """The layer's maps resampled to TILE_W × 2·TILE_ROWS pixels, as half-block keys."""
    maps, scale, _span = centred(layer)
    rows = np.linspace(0, maps.shape[1] - 1, 2 * TILE_ROWS).round().astype(int)
    cols = np.linspace(0, maps.shape[2] - 1, TILE_W).round().astype(int)
    return half_block_keys(maps[:, rows][:, :, cols], scale)


def _draw_lines(picture, layout: Layout, i: int, weight: np.ndarray, selected) -> None:
    """Every connection of layer i: brighter and, from half the largest on, thicker."""
    scale = c.finite_scale(weight)
    outputs, inputs = weight.shape
    with np.errstate(invalid="ignore"):
        strengths = np.where(np.isfinite(weight), np.minimum(np.abs(weight) / scale, 1.0), 1.0)
    keys = [(i, k, j) for k in range(outputs) for j in range(inputs)]
    strengths = strengths.ravel()
    thick = (strengths >= 0.5) | np.array([key == selected for key in keys])
    starts = [layout.anchor(i, j) for _k in range(outputs) for j in range(inputs)]
    ends = [layout.anchor(i + 1, k) for k in range(outputs) for _j in range(inputs)]
    x0, x1 = 2 * (layout.x[i] + TILE_W), 2 * layout.x[i + 1] - 1
    picture.lines(x0, x1, starts, ends, keys, strengths, thick)


def _colour_lines(picture: Picture, layers: list[LayerWeights], selected) -> None:
    for (x, y), passing in picture.passing.items():
        strength, (i, k, j) = max(passing)
        if any(key == selected for _s, key in passing):
            picture.styles[y][x] = SELECTED
            continue
        weight = layers[i].weight
        assert weight is not None
        sign = 1 if weight[k, j] >= 0 else -1
        picture.styles[y][x] = LINE_STYLES[sign][round(strength * c.LEVELS)]


def connection_details(
    layers: list[LayerWeights], names: list[str], selected: Connection, width: int
) -> Text:
    """The selected connection: its name, what it joins, its value."""
    i, k, j = selected
    weight = layers[i].weight
    assert weight is not None
    source = source_names(layers, i, names)[j]
    target = unit_names(layers, i)[k]
    value = float(weight[k, j])
    style = c.POINT_ON_LEVEL[c.signed_level(value, c.finite_scale(weight))]
    head = Text.assemble(
        ("▶ " + weight_name(layers, selected), BOLD),
        f" · {source} → {target} · w = ",
        (f"{value:+.4f}", style if value else DIM),
    )
    return flow([head], width)


class NetworkPicture(GrowingText):
    """The network drawn in columns; the selected connection described in `details` (a widget
    outside the scrolling picture, so that it stays in sight)."""

    def __init__(self, details: GrowingText, **kwargs) -> None:
        super().__init__(**kwargs)
        self.details = details
        self.selected: Connection = (0, 0, 0)
        self._view: View | None = None
        self.cells: Picture | None = None  # the picture shown: which lines pass where

    def draw(self, view: View) -> None:
        self._view = view
        self._render_now()

    def weight(self) -> str | None:
        """The selected weight as `nnplay explain --weight` names it (None: nothing drawn yet)."""
        if self._view is None or not self._view.network:
            return None
        return weight_name(self._view.network, self.selected)

    def _render_now(self) -> None:
        view = self._view
        if view is None or not view.network:
            return
        layers = view.network
        choices = connections(layers)
        if self.selected not in choices:
            self.selected = choices[0]
        width = self._room()
        picture, self.cells, layout = render_network(
            layers, view.units, view.input_names, self.selected, width
        )
        keys = flow([Text(_(part), DIM) for part in KEYS], width)
        # as wide as the box, or wider, across which a deep network scrolls
        wide = layout.width + self.styles.gutter.width if layout.width > width else None
        if (self.styles.width and self.styles.width.value) != wide:
            self.styles.width = wide
        self.show(Text("\n").join([picture, keys]))
        self.details.show(connection_details(layers, view.input_names, self.selected, width))

    def _room(self) -> int:
        """The width the picture is laid out for: its scrolling box's, less the padding (the
        widget itself is as wide as its picture, wider than the box for a deep network)."""
        box = self.parent.scrollable_content_region.width if isinstance(self.parent, Widget) else 0
        return max(1, box - self.styles.gutter.width) if box else 70

    def on_resize(self) -> None:
        self._render_now()

    def select(self, step: int) -> None:
        if self._view is None or not self._view.network:
            return
        choices = connections(self._view.network)
        index = choices.index(self.selected) if self.selected in choices else 0
        self.selected = choices[(index + step) % len(choices)]
        self._render_now()
        if self.cells is None or not isinstance(self.parent, Widget):
            return
        on_line = [
            cell
            for cell, passing in self.cells.passing.items()
            if any(key == self.selected for _s, key in passing)
        ]
        if on_line:  # the whole line in sight, across a deep network and down a short box
            xs, ys = zip(*on_line, strict=True)
            left = self.styles.padding.left
            region = Region(min(xs) + left, min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1)
            self.parent.scroll_to_region(region, animate=False)

    def on_click(self, event) -> None:
        """The connection under the click: the strongest line there, or the next one on a
        second click of the same cell."""
        offset = event.get_content_offset(self)
        if offset is None or self.cells is None:
            return
        passing = self.cells.passing.get((offset.x, offset.y))
        if not passing:
            return
        keys = [key for _s, key in sorted(passing, reverse=True)]
        at = keys.index(self.selected) + 1 if self.selected in keys else 0
        self.selected = keys[at % len(keys)]
        self._render_now()
