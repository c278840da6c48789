"""Points the learner draws on a 2-D task's map: where a click lands, the points themselves,
whether there are enough to train on, and the data set written as a CSV file.

UI-free and torch-free: the app holds the learner's DrawnPoints (they outlive a reset), the
training session adds them to its training set, and `dataset_csv` writes what a CSV task reads
back (x1,x2,label).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from nnplay.i18n import _
from nnplay.lab.boundary import EXTENT

MOST_POINTS = 2000  # drawn by hand: a bound on what a click-happy afternoon can add
MIN_PER_CLASS = 2  # a blank task trains once two classes have this many points each
# Regression: the values the pen cycles through (the 2-D regression tasks' targets lie in [-1, 1]).
PEN_VALUES = (-1.0, -0.5, 0.0, 0.5, 1.0)
CSV_HEADER = ("x1", "x2", "label")


def plane_of_cell(row: int, col: int, cols: int, rows: int) -> tuple[float, float]:
    """The plane's (x1, x2) at a map cell: the cell's centre as boundary.grid_points lays the
    grid out (row 0 is the top, x2 = +EXTENT), the exact inverse of boundary.cell_of."""
    x1 = -EXTENT + 2 * EXTENT * col / (cols - 1)
    x2 = EXTENT - 2 * EXTENT * row / (rows - 1)
    return float(x1), float(x2)


@dataclass(frozen=True)
class DrawnPoints:
    """The learner's points, in the order drawn: a value, never changed in place (the session
    thread trains on the copy it was sent while the app makes the next one)."""

    xy: tuple[tuple[float, float], ...] = ()
    labels: tuple[float, ...] = ()  # a class index (as a float) or a regression target

    def __len__(self) -> int:
        return len(self.xy)

    def added(self, x1: float, x2: float, label: float) -> DrawnPoints:
        if len(self) >= MOST_POINTS:
            return self
        return DrawnPoints((*self.xy, (x1, x2)), (*self.labels, label))

    def without_nearest(self, x1: float, x2: float) -> DrawnPoints:
        """These points but the one nearest (x1, x2) (the last drawn of equally near ones)."""
        if not self.xy:
            return self
        distance = np.hypot(*(np.asarray(self.xy) - (x1, x2)).T)
        k = len(distance) - 1 - int(np.argmin(distance[::-1]))
        return DrawnPoints(self.xy[:k] + self.xy[k + 1 :], self.labels[:k] + self.labels[k + 1 :])

    def arrays(self, regression: bool) -> tuple[np.ndarray, np.ndarray]:
        """(x float64 (n, 2), y int64 class indices or float32 targets), as a task's data."""
        x = np.asarray(self.xy, dtype=np.float64).reshape(len(self), 2)
        y = np.asarray(self.labels, dtype=np.float32 if regression else np.int64)
        return x, y


def missing_points(points: DrawnPoints, classes: int) -> str | None:
    """Why a blank task cannot train on `points` yet (None once it can): a boundary needs
    points of two classes at least, a few of each."""
    counts = np.bincount(np.asarray(points.labels, dtype=np.int64), minlength=classes)
    if int((counts >= MIN_PER_CLASS).sum()) >= 2:
        return None
    return _(
        "Draw some points first: click on the map, at least {count} points of each of two "
        "classes (k chooses the class)."
    ).format(count=MIN_PER_CLASS)


def pen_label(pen: float, regression: bool) -> str:
    """What a click adds, as the map's legend says it."""
    if regression:
        return _("click adds value {value} (k changes it)").format(value=f"{pen:+g}")
    return _("click adds class {number} (k changes it)").format(number=int(pen))


def next_pen(pen: float, regression: bool, classes: int) -> float:
    """The class (or value) the pen draws after `pen`, round the cycle."""
    if regression:
        at = PEN_VALUES.index(pen) if pen in PEN_VALUES else -1
        return PEN_VALUES[(at + 1) % len(PEN_VALUES)]
    return float((int(pen) + 1) % max(classes, 1))


def dataset_csv(x: np.ndarray, y: np.ndarray, regression: bool) -> bytes:
    """A data set as the CSV file nnplay reads back: x1,x2,label; classes as whole numbers,
    every number written so that it reads back exactly (repr of a float64)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for (x1, x2), label in zip(x.tolist(), y.tolist(), strict=True):
        writer.writerow((repr(x1), repr(x2), repr(float(label)) if regression else int(label)))
    return out.getvalue().encode("utf-8")
