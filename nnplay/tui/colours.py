"""The colour tables every picture shares, built once: a style per level, never per cell."""

from __future__ import annotations

import numpy as np
from rich.style import Style
from rich.text import Span, Text

# TF Playground's palette: orange for class 0 / low / negative, blue for class 1 / high / positive.
LOW, HIGH = (245, 147, 34), (8, 119, 189)
CLASS_COLOURS = [
    (245, 147, 34),
    (8, 119, 189),
    (80, 170, 90),
    (200, 70, 90),
    (150, 110, 200),
    (230, 200, 60),
    (90, 200, 200),
    (200, 120, 170),
    (140, 140, 140),
    (110, 80, 40),
]
LEVELS = 16


def blend(colour, strength: float) -> str:
    """The colour faded toward dark grey; strength 0..1."""
    r, g, b = (int(40 + (c - 40) * strength) for c in colour)
    return f"rgb({r},{g},{b})"


# Precomputed styles: building a colour string per cell is 10x slower.
DIVERGING = [
    Style(bgcolor=blend(LOW if i < LEVELS else HIGH, abs(i - LEVELS) / LEVELS))
    for i in range(2 * LEVELS + 1)
]  # index LEVELS is the middle (0, or p = 0.5)
DIVERGING_FG = [
    Style(color=blend(LOW if i < LEVELS else HIGH, abs(i - LEVELS) / LEVELS))
    for i in range(2 * LEVELS + 1)
]
CLASS_STYLES = [
    Style(bgcolor=blend(c, (k + 1) / LEVELS)) for c in CLASS_COLOURS for k in range(LEVELS)
]  # [class * LEVELS + strength]
CLASS_FG = [Style(color=f"rgb{c}", bold=True) for c in CLASS_COLOURS]
POINT_ON_LEVEL = [
    Style(color=blend(LOW if i < LEVELS else HIGH, 1.0), bold=True) for i in range(2 * LEVELS + 1)
]


def tint(colour) -> str:
    """The colour mixed halfway with white: a data point stays visible on its own class."""
    r, g, b = (int(c + (255 - c) * 0.55) for c in colour)
    return f"rgb({r},{g},{b})"


POINT_STYLES = [Style(color=tint(c), bold=True) for c in CLASS_COLOURS]
TINTED_ON_LEVEL = [
    Style(color=tint(LOW if i < LEVELS else HIGH), bold=True) for i in range(2 * LEVELS + 1)
]


def levels(shares) -> np.ndarray:
    """The diverging table's indices for shares in [0, 1] (0.5, and NaN, is the middle)."""
    shares = np.clip(np.nan_to_num(np.asarray(shares, dtype=np.float64), nan=0.5), 0.0, 1.0)
    return np.rint(shares * 2 * LEVELS).astype(int)


def level(share: float) -> int:
    return int(levels(share))


def signed_levels(values, scale: float) -> np.ndarray:
    """The diverging indices of signed values on a symmetric scale ±scale."""
    with np.errstate(all="ignore"):
        return levels(0.5 + 0.5 * np.asarray(values, dtype=np.float64) / scale)


def signed_level(value: float, scale: float) -> int:
    return int(signed_levels(value, scale))


class Canvas:
    """Text built from styled pieces, each piece kept as one span: Text.append costs ~10x more
    per piece. `append(piece, style)` as on a Text; `text()` the result."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[Span] = []
        self.length = 0

    def append(self, piece: str, style=None) -> None:
        if style is not None:
            self.spans.append(Span(self.length, self.length + len(piece), style))
        self.parts.append(piece)
        self.length += len(piece)

    def text(self) -> Text:
        return Text("".join(self.parts), spans=self.spans, no_wrap=True, overflow="crop")


def append_runs(
    text, keys: list[int], table: list, glyph: str = " ", marks: dict | None = None
) -> None:
    """One cell per key in the style table[key]; equal neighbours become one span (a map has
    large even areas, and spans are what painting costs). marks: {column: (glyph, style)}
    drawn over their cell."""
    marks = marks or {}
    j, count = 0, len(keys)
    while j < count:
        if j in marks:
            mark, style = marks[j]
            text.append(mark, table[keys[j]] + style)
            j += 1
            continue
        end = j + 1
        while end < count and keys[end] == keys[j] and end not in marks:
            end += 1
        text.append(glyph * (end - j), table[keys[j]])
        j = end


# Two pixels per cell: "▀" draws the upper pixel in the foreground colour over the lower one.
HALF_BLOCK = "▀"
HALVES = [
    Style(
        color=blend(LOW if t < LEVELS else HIGH, abs(t - LEVELS) / LEVELS),
        bgcolor=blend(LOW if b < LEVELS else HIGH, abs(b - LEVELS) / LEVELS),
    )
    for t in range(2 * LEVELS + 1)
    for b in range(2 * LEVELS + 1)
]  # [t * 33 + b]


def finite_scale(values) -> float:
    """The largest finite |value| (1 when there is none): the scale a picture is coloured on."""
    values = np.abs(np.asarray(values, dtype=np.float64))
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size and values.max() > 0 else 1.0
