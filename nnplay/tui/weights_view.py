"""Every weight and bias of the small layers, live.

A layer with one output (or one input) is a list of bars, w1 … wn and the bias, each with its
value; a larger layer (up to 64 weights) is a table, one row per unit, cells coloured blue for
positive and orange for negative, brighter for larger. Bigger layers are named, not listed.
"""

from __future__ import annotations

import numpy as np
from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

from nnplay.i18n import _, ngettext
from nnplay.lab.neurons import MAX_WEIGHTS, LayerWeights
from nnplay.tui import colours as c
from nnplay.tui.cells import pad
from nnplay.tui.live_text import GrowingText
from nnplay.tui.session import View

BOLD, DIM = Style(bold=True), Style(dim=True)
CELL = 7  # "+0.123 ", or one decimal fewer per cell missing when a table would wrap
LABEL = 8


def source_names(layers: list[LayerWeights], index: int, names: list[str]) -> list[str]:
    """What feeds layer `index`: the input names, or the previous layer's units."""
    inputs = layers[index].shape[1]
    if index == 0:
        return names if len(names) == inputs else [f"in{j + 1}" for j in range(inputs)]
    return [f"h{index}.{j + 1}" for j in range(inputs)]


def unit_names(layers: list[LayerWeights], index: int) -> list[str]:
    outputs = layers[index].shape[0]
    if index == len(layers) - 1:
        return ["out"] if outputs == 1 else [f"out.{k + 1}" for k in range(outputs)]
    return [f"h{index + 1}.{k + 1}" for k in range(outputs)]


def render_weights(layers: list[LayerWeights], names: list[str], width: int) -> Text:
    parts = []
    for index, layer in enumerate(layers):
        outputs, inputs = layer.shape
        counts = ngettext(
            "{weights} weights + {biases} bias", "{weights} weights + {biases} biases", outputs
        ).format(weights=outputs * inputs, biases=outputs)
        head = Text.assemble(
            (layer.name, BOLD),
            f" · {inputs} → {outputs}",
            (f" · {counts}", DIM),
        )
        if layer.weight is None:
            more = _("more than {count}: not listed (mean ± std in Charts)")
            head.append(" · " + more.format(count=MAX_WEIGHTS), DIM)
            parts.append(head)
        elif outputs == 1 or inputs == 1:
            parts.append(Text("\n").join([head, *_bars(layers, index, names, width)]))
        else:
            parts.append(Text("\n").join([head, *_table(layers, index, names, width)]))
    parts.append(
        Text(_("blue = positive, orange = negative, brighter = larger; updated live"), DIM)
    )
    return Text("\n\n").join(parts)


def _bars(layers, index, names, width) -> list[Text]:
    """One line per weight: its name, what it connects, the value and a bar."""
    layer = layers[index]
    outputs, inputs = layer.shape
    if outputs == 1:
        ends = [f"{s} → {unit_names(layers, index)[0]}" for s in source_names(layers, index, names)]
    else:
        ends = [f"{source_names(layers, index, names)[0]} → {u}" for u in unit_names(layers, index)]
    weights = layer.weight.reshape(-1)
    scale = c.finite_scale(np.concatenate([weights, layer.bias]))
    bar_room = max(4, width - LABEL - 14 - max(len(e) for e in ends))
    lines = []
    rows = [(f"w{j + 1}", end, w) for j, (end, w) in enumerate(zip(ends, weights, strict=True))]
    rows += [
        (f"b{k + 1}" if len(layer.bias) > 1 else _("bias"), "", b) for k, b in enumerate(layer.bias)
    ]
    width_of_ends = max(len(e) for e in ends)
    for name, end, value in rows:
        length = int(round(min(abs(value) / scale, 1.0) * bar_room)) if np.isfinite(value) else 0
        style = c.POINT_ON_LEVEL[c.signed_level(value, scale)] if value else DIM
        lines.append(
            Text.assemble(
                f"  {pad(name, 5)} {end:<{width_of_ends}} ",
                (f"{value:+8.3f} ", BOLD),
                ("█" * length or "▏", style),
            )
        )
    return lines


def _table(layers, index, names, width) -> list[Text]:
    """Rows are units, columns their inputs and the bias; the longer side goes down. The values
    lose decimals (down to one) before a row would wrap."""
    layer = layers[index]
    rows_names, cols_names = unit_names(layers, index), source_names(layers, index, names)
    matrix = np.concatenate([layer.weight, layer.bias.reshape(-1, 1)], axis=1)
    cols_names = [*cols_names, _("bias")]
    corner = _("unit\\in")
    if len(cols_names) > len(rows_names) + 1:  # more inputs than units: transpose
        matrix, rows_names, cols_names = matrix.T, cols_names, rows_names
        corner = _("in\\unit")
    scale = c.finite_scale(matrix)
    label = max(LABEL, cell_len(corner) + 1)  # a translated corner widens the names' column
    cell = CELL
    while cell > CELL - 2 and 2 + label + cell * len(cols_names) - 1 > width:
        cell -= 1
    decimals = cell - 4  # the sign, the digit before the point, the point and a space
    lines = [
        Text.assemble(
            ("  " + pad(corner, label), DIM),
            *[(pad(name[: cell - 1], cell - 1, ">") + " ", DIM) for name in cols_names],
        )
    ]
    for name, row in zip(rows_names, matrix, strict=True):
        line = Text("  " + pad(name, label))
        for value in row:
            line.append(
                f"{value:+{cell - 1}.{decimals}f}", c.DIVERGING[c.signed_level(value, scale)]
            )
            line.append(" ")
        lines.append(line)
    return lines


class WeightsView(GrowingText):
    _view: View | None = None

    def draw(self, view: View) -> None:
        self._view = view
        if view.weights:
            self.show(render_weights(view.weights, view.input_names, self.content_size.width or 60))

    def on_resize(self) -> None:  # the bars follow the width
        if self._view is not None:
            self.draw(self._view)
