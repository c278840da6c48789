"""Series that plotext can always draw, and the loss chart's log scale done by hand.

plotext's `build()` applies a log y scale to the data stored in the figure, so a second render
without a new draw (a resize, a screen change) takes the log of the log, and a zero, a negative,
an inf or a NaN raises `math domain error`. The charts therefore keep plotext on a linear scale
and hand it only finite points, already turned into log10 values when the scale is logarithmic;
the y ticks are labelled with the real values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

LOG_RANGE = 100  # the loss chart goes logarithmic when its positive values span more than this
LINEAR_LIMIT = 1e12  # beyond this plotext's ticks lose precision: such values go to a log scale


def finite_points(x: Iterable, y: Iterable, positive: bool = False) -> tuple[list, list]:
    """The (x, y) pairs with both finite (and y > 0 when `positive`), as floats."""
    kept_x, kept_y = [], []
    for a, b in zip(x, y, strict=False):  # a chart draws what pairs up, never raises mid-frame
        if a is None or b is None:
            continue
        a, b = float(a), float(b)
        if math.isfinite(a) and math.isfinite(b) and (b > 0 or not positive):
            kept_x.append(a)
            kept_y.append(b)
    return kept_x, kept_y


def wants_log(series: list[tuple[list, list]]) -> bool:
    """True when the values span too many decades for a linear chart to show them."""
    values = [v for _, ys in series for v in ys]
    positive = [v for v in values if v > 0]
    if not positive:
        return False
    if max(abs(v) for v in values) > LINEAR_LIMIT:
        return True
    return min(values) > 0 and max(positive) / min(positive) > LOG_RANGE


def to_log(series: list[tuple[list, list]]) -> list[tuple[list, list]]:
    """Each series with only its positive points, as log10 values."""
    logged = []
    for xs, ys in series:
        kept_x, kept_y = finite_points(xs, ys, positive=True)
        logged.append((kept_x, [math.log10(v) for v in kept_y]))
    return logged


def log_ticks(series: list[tuple[list, list]], most: int = 6) -> tuple[list[float], list[str]]:
    """Tick positions (log10 values) at whole decades, labelled with the real values."""
    values = [v for _, ys in series for v in ys]
    if not values:
        return [], []
    low, high = math.floor(min(values)), math.ceil(max(values))
    stride = max(1, math.ceil((high - low + 1) / most))
    positions = list(range(low, high + 1, stride))
    return [float(p) for p in positions], [f"1e{p}" for p in positions]
