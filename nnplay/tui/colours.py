"""The colour tables every picture shares, built once: a style per level, never per cell."""

from __future__ import annotations

import numpy as np
from rich.style import Style

# TF Playground's palette: orange for class 0 / low / negative, blue for class 1 / high / positive.
LOW, HIGH = (245, 147, 34), (8, 119, 189)
CLASS_COLOURS = [(245, 147, 34), (8, 119, 189), (80, 170, 90), (200, 70, 90), (150, 110, 200),
                 (230, 200, 60), (90, 200, 200), (200, 120, 170), (140, 140, 140), (110, 80, 40)]
LEVELS = 16


def blend(colour, strength: float) -> str:
    """The colour faded toward dark grey; strength 0..1."""
    r, g, b = (int(40 + (c - 40) * strength) for c in colour)
    return f"rgb({r},{g},{b})"


# Precomputed styles: building a colour string per cell is 10x slower.
DIVERGING = [Style(bgcolor=blend(LOW if i < LEVELS else HIGH, abs(i - LEVELS) / LEVELS))
             for i in range(2 * LEVELS + 1)]  # index LEVELS is the middle (0, or p = 0.5)
DIVERGING_FG = [Style(color=blend(LOW if i < LEVELS else HIGH, abs(i - LEVELS) / LEVELS))
                for i in range(2 * LEVELS + 1)]
CLASS_STYLES = [[Style(bgcolor=blend(c, (k + 1) / LEVELS)) for k in range(LEVELS)]
                for c in CLASS_COLOURS]
CLASS_FG = [Style(color=f"rgb{c}", bold=True) for c in CLASS_COLOURS]
POINT_ON_LEVEL = [Style(color=blend(LOW if i < LEVELS else HIGH, 1.0), bold=True)
                  for i in range(2 * LEVELS + 1)]


def tint(colour) -> str:
    """The colour mixed halfway with white: a data point stays visible on its own class."""
    r, g, b = (int(c + (255 - c) * 0.55) for c in colour)
    return f"rgb({r},{g},{b})"


POINT_STYLES = [Style(color=tint(c), bold=True) for c in CLASS_COLOURS]
TINTED_ON_LEVEL = [Style(color=tint(LOW if i < LEVELS else HIGH), bold=True)
                   for i in range(2 * LEVELS + 1)]


def level(share: float) -> int:
    """The diverging table's index for a share in [0, 1] (0.5 is the middle)."""
    share = 0.5 if share != share else min(max(share, 0.0), 1.0)  # NaN → the middle
    return int(round(share * 2 * LEVELS))


def signed_level(value: float, scale: float) -> int:
    """The diverging index of a signed value on a symmetric scale ±scale."""
    return level(0.5 + 0.5 * value / scale) if scale > 0 else LEVELS

# Two pixels per cell: "▀" draws the upper pixel in the foreground colour over the lower one.
HALF_BLOCK = "▀"
HALVES = [[Style(color=blend(LOW if t < LEVELS else HIGH, abs(t - LEVELS) / LEVELS),
                 bgcolor=blend(LOW if b < LEVELS else HIGH, abs(b - LEVELS) / LEVELS))
           for b in range(2 * LEVELS + 1)] for t in range(2 * LEVELS + 1)]


def finite_scale(values) -> float:
    """The largest finite |value| (1 when there is none): the scale a picture is coloured on."""
    values = np.abs(np.asarray(values, dtype=np.float64))
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size and values.max() > 0 else 1.0
