"""The neurons of a small network on a 2-D task, as TF Playground draws them.

Each layer is a row of small maps: what every unit outputs over the input plane, coloured from
orange (low) through dark (the middle) to blue (high) on one scale per layer that fits its range
(0 to 1 for probabilities, around 0 otherwise; a unit that does little looks dark). Each layer's
heading says its scale.
Under each map, a strip of its incoming weights (one cell per input, same colours). The selected
unit (click it, or [ and ]) is described below: its incoming weights, bias and activation.
"""

from __future__ import annotations

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.widget import Widget

from nnplay.i18n import N_, _, ngettext
from nnplay.lab.neurons import UnitLayer
from nnplay.tui import colours as c
from nnplay.tui.live_text import GrowingText
from nnplay.tui.map_view import flow
from nnplay.tui.session import View

GAP = 1
BOLD, DIM, SELECTED = Style(bold=True), Style(dim=True), Style(reverse=True, bold=True)
KEYS = (
    N_("[ and ] or a click select a unit"),
    N_("maps: orange low, blue high, each layer on its own scale (in its heading)"),
    N_("the strip under a map: the unit's incoming weights"),
)


def unit_label(layers: list[UnitLayer], names: list[str], layer: int, unit: int) -> str:
    """x1 for an input, h1.3 for hidden1's third unit, out (or out.2) for the output."""
    if layer == 0:
        return names[unit] if unit < len(names) else f"in{unit + 1}"
    if layers[layer].name == "output":
        return "out" if layers[layer].units == 1 else f"out.{unit + 1}"
    return f"h{layer}.{unit + 1}"


def centred(layer: UnitLayer) -> tuple[np.ndarray, float, str]:
    """The maps around their natural middle (0, or 0.5 for probabilities), a scale, and the
    range the colours span in the layer's own values, in words."""
    maps = layer.maps
    if "logsoftmax" in layer.what:
        maps = np.exp(maps)
    span = _("orange {low} … blue {high}")
    if "sigmoid" in layer.what or "softmax" in layer.what:
        return maps - 0.5, 0.5, span.format(low="0", high="1")
    scale = c.finite_scale(maps)
    return maps, scale, span.format(low=f"{-scale:+.2g}", high=f"{scale:+.2g}")


def selectable(layers: list[UnitLayer]) -> list[tuple[int, int]]:
    return [(i, k) for i, layer in enumerate(layers) if i for k in range(len(layer.maps))]


def render_units(
    layers: list[UnitLayer], names: list[str], selected: tuple[int, int], width: int
) -> tuple[Text, list[tuple[int, int, int, int, int, int]]]:
    """The picture and where each unit's tile is: (x0, y0, x1, y1, layer, unit)."""
    tile_w = layers[0].maps.shape[2]
    tile_h = (layers[0].maps.shape[1] + 1) // 2
    per_line = max(1, (width + GAP) // (tile_w + GAP))
    lines: list[Text] = []
    tiles = []
    for i, layer in enumerate(layers):
        maps, scale, span = centred(layer)
        lines.append(_header(layer, i, names) + Text(f" · {span}", DIM))
        pixels = half_block_keys(maps, scale)
        strip = layer.weights is not None  # the inputs have no incoming weights
        for start in range(0, len(maps), per_line):
            chunk = range(start, min(start + per_line, len(maps)))
            top = len(lines)
            block = [Text() for _row in range(tile_h + 1 + strip)]
            for n, k in enumerate(chunk):
                if n:
                    for line in block:
                        line.append(" " * GAP)
                label = unit_label(layers, names, i, k)[:tile_w].ljust(tile_w)
                block[0].append(label, SELECTED if (i, k) == selected else BOLD)
                for r in range(tile_h):
                    c.append_runs(block[1 + r], pixels[k][r], c.HALVES, c.HALF_BLOCK)
                if strip:
                    block[-1].append_text(_strip(layer, k, tile_w))
                x0 = n * (tile_w + GAP)
                tiles.append((x0, top, x0 + tile_w, top + len(block), i, k))
            lines.extend(block)
    lines.append(flow([Text(_(part), DIM) for part in KEYS], width))
    return Text("\n").join(lines), tiles


def _header(layer: UnitLayer, index: int, names: list[str]) -> Text:
    if index == 0:
        return Text.assemble((_("input layer"), BOLD), (f" · {', '.join(names)}", DIM))
    shown = len(layer.maps)
    more = _(" (the first {count} drawn)").format(count=shown) if layer.units > shown else ""
    what = f" · {layer.what}" if layer.what else ""
    units = ngettext("{count} unit", "{count} units", layer.units).format(count=layer.units)
    return Text.assemble((layer.name, BOLD), (f" · {units}{more}{what}", DIM))


def half_block_keys(maps: np.ndarray, scale: float) -> list:
    """[unit][cell row][col] → index into HALVES: map rows 2r (the upper half of each cell)
    and 2r + 1 (the lower half; an odd last row repeats)."""
    levels = c.signed_levels(maps, scale)
    if levels.shape[1] % 2:
        levels = np.concatenate([levels, levels[:, -1:]], axis=1)
    return (levels[:, 0::2] * (2 * c.LEVELS + 1) + levels[:, 1::2]).tolist()


def _strip(layer: UnitLayer, unit: int, width: int) -> Text:
    """The unit's incoming weights, one cell each, coloured by sign and strength."""
    text = Text()
    if layer.weights is None:
        return Text(" " * width)
    weights = layer.weights[unit]
    scale = c.finite_scale(layer.weights)
    shown = weights if len(weights) <= width else weights[: width - 1]
    c.append_runs(text, c.signed_levels(shown, scale).tolist(), c.DIVERGING_FG, "█")
    if len(shown) < len(weights):
        text.append("…", DIM)
    text.append(" " * (width - text.cell_len))
    return text


def unit_details(
    layers: list[UnitLayer], names: list[str], selected: tuple[int, int], width: int
) -> Text:
    """The selected unit: what it computes, its bias, its incoming weights."""
    i, k = selected
    if not 0 < i < len(layers) or k >= len(layers[i].maps):
        return Text()
    layer = layers[i]
    if layer.weights is None or layer.bias is None:  # only the inputs have none
        return Text()
    label = unit_label(layers, names, i, k)
    values = layer.maps[k]
    head = Text.assemble(
        ("▶ " + label, BOLD),
        " " + _("(unit {number} of {layer})").format(number=k + 1, layer=layer.name) + " · ",
        (layer.what or _("no activation")) + " · ",
        _("bias {value}").format(value=f"{layer.bias[k]:+.3f}") + " · ",
        _("output over the plane {low} … {high}").format(
            low=f"{values.min():+.3f}", high=f"{values.max():+.3f}"
        ),
    )
    if "relu" in layer.what:
        head.append(" · " + _("zero on {share} of it").format(share=f"{np.mean(values <= 0):.0%}"))
    scale = c.finite_scale(layer.weights)
    items = [Text(_("incoming weights:"), DIM)]
    for j, w in enumerate(layer.weights[k]):
        source = unit_label(layers, names, i - 1, j)
        items.append(
            Text.assemble(
                f"{source} ",
                (f"{w:+.3f}", c.POINT_ON_LEVEL[c.signed_level(w, scale)] if abs(w) > 0 else DIM),
            )
        )
    return Text("\n").join([flow([head], width), flow(items, width)])


class NeuronView(GrowingText):
    """The unit maps; click a tile or press [ / ] to describe a unit in `details` (a widget
    outside the scrolling maps, so that it stays in sight)."""

    def __init__(self, details: GrowingText, **kwargs) -> None:
        super().__init__(**kwargs)
        self.details = details
        self.selected = (1, 0)
        self._layers: list[UnitLayer] | None = None
        self._names: list[str] = []
        self._tiles: list = []

    def keep(self, view: View) -> None:
        """The units to draw next, without drawing them."""
        self._layers, self._names = view.units, view.input_names

    def draw(self, view: View) -> None:
        self.keep(view)
        self._render_now()

    def _render_now(self) -> None:
        if not self._layers:
            self.details.show(Text())
            self.show(
                Text(
                    _(
                        "Neuron maps need a task with two inputs (x1, x2): try circle, xor or "
                        "spiral.\nThe Weights tab (4) shows this network's weights."
                    ),
                    DIM,
                )
            )
            return
        choices = selectable(self._layers)
        if self.selected not in choices:
            self.selected = choices[0]
        width = self.content_size.width or 60
        text, self._tiles = render_units(self._layers, self._names, self.selected, width)
        self.show(text)
        self.details.show(unit_details(self._layers, self._names, self.selected, width))

    def on_resize(self) -> None:
        if self._layers:
            self._render_now()

    def select(self, step: int) -> None:
        if not self._layers:
            return
        choices = selectable(self._layers)
        index = choices.index(self.selected) if self.selected in choices else 0
        self.selected = choices[(index + step) % len(choices)]
        self._render_now()
        tile = next((t for t in self._tiles if t[4:] == self.selected), None)
        if tile is None:
            return
        x0, y0, x1, y1 = tile[:4]
        if isinstance(self.parent, Widget):
            self.parent.scroll_to_region(Region(x0, y0, x1 - x0, y1 - y0), animate=False)

    def on_click(self, event) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        for x0, y0, x1, y1, layer, unit in self._tiles:
            if x0 <= offset.x < x1 and y0 <= offset.y < y1 and layer:
                self.selected = (layer, unit)
                self._render_now()
                return
