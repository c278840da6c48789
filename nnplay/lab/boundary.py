"""The decision-boundary grid of a 2-D task: the model's answer at every point of a view box."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnplay.model import probabilities
from nnplay.tasks import is_blank

EXTENT = 1.2  # the view box is [-EXTENT, EXTENT]²; the 2-D tasks' data lies within [-1, 1]²


@dataclass(frozen=True)
class BoundaryGrid:
    kind: str  # binary, multiclass or regression
    values: np.ndarray  # (rows, cols), top row = largest y: P(class 1), a class index, or a value
    confidence: np.ndarray  # (rows, cols) in [0, 1]: how sure the model is (1 for regression)
    value_range: tuple[float, float]  # for regression colouring


def grid_points(cols: int, rows: int) -> np.ndarray:
    """Cell centres, row by row from the top (largest y) down, as (rows*cols, 2)."""
    xs = np.linspace(-EXTENT, EXTENT, cols)
    ys = np.linspace(EXTENT, -EXTENT, rows)
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def decision_grid(trainer, cols: int, rows: int) -> BoundaryGrid:
    """Evaluate `trainer`'s model on a cols × rows grid (no_grad, eval mode)."""
    outputs = trainer.predict(grid_points(cols, rows))
    kind = trainer.shape.kind
    if kind == "regression":
        values = outputs[:, 0].reshape(rows, cols)
        low, high = float(values.min()), float(values.max())
        return BoundaryGrid(kind, values, np.ones_like(values), (low, high))
    probs = probabilities(trainer.head, outputs)
    if kind == "binary":
        p1 = probs[:, 1].reshape(rows, cols)
        return BoundaryGrid(kind, p1, np.abs(2 * p1 - 1), (0.0, 1.0))
    classes = probs.argmax(axis=1).reshape(rows, cols)
    return BoundaryGrid(kind, classes, probs.max(axis=1).reshape(rows, cols), (0.0, 1.0))


def cell_of(points: np.ndarray, cols: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) of each 2-D point in the grid (points outside are clipped to the edge)."""
    col = np.rint((points[:, 0] + EXTENT) / (2 * EXTENT) * (cols - 1)).astype(int)
    row = np.rint((EXTENT - points[:, 1]) / (2 * EXTENT) * (rows - 1)).astype(int)
    return np.clip(row, 0, rows - 1), np.clip(col, 0, cols - 1)


@dataclass(frozen=True)
class MapPoints:
    """Data points drawn over a map: training and validation, the misclassified marked."""

    xy: np.ndarray  # (n, 2) raw inputs, or (n, 1) for a one-input task
    value: np.ndarray  # (n,) class labels, or targets for regression
    validation: np.ndarray  # (n,) bool: a validation point
    wrong: np.ndarray  # (n,) bool: the model's class differs from the label (never for regression)
    yours: np.ndarray | None = None  # (n,) bool: a point the learner drew (nnplay.drawn)


def map_points(trainer, most: int) -> MapPoints:
    """Up to `most` training and `most // 2` validation points with the model's verdict, and
    every point the learner drew (the training set's last rows), marked as theirs."""
    # The plane's coordinates, not the network's inputs (features may be x1², sin(x2), ...).
    drawn = len(trainer.drawn)
    own = len(trainer.X_train) - drawn
    x, y = trainer.raw_inputs(), trainer.y_train.numpy()
    xv, yv = trainer.raw_inputs(validation=True), trainer.y_val.numpy()
    if is_blank(trainer.exp.task):  # it validates on the drawn points: shown once, as theirs
        xv, yv = xv[:0], yv[:0]
    parts = [(x[: min(most, own)], y[: min(most, own)]), (xv[: most // 2], yv[: most // 2])]
    parts.append((x[own:], y[own:]))
    xy = np.concatenate([x for x, _ in parts]).astype(np.float64)
    value = np.concatenate([y.reshape(-1) for _, y in parts])  # (n, 1) targets too
    sizes = np.cumsum([len(p[0]) for p in parts])
    index = np.arange(len(xy))
    validation = (index >= sizes[0]) & (index < sizes[1])
    yours = index >= sizes[1]
    if trainer.shape.kind == "regression":
        return MapPoints(xy, value.astype(np.float64), validation, np.zeros(len(xy), bool), yours)
    guess = probabilities(trainer.head, trainer.predict(xy)).argmax(axis=1)
    return MapPoints(xy, value.astype(int), validation, guess != value, yours)


@dataclass(frozen=True)
class Curve:
    """A one-input regression: the prediction over the inputs' range."""

    xs: np.ndarray  # (cols,) evenly spaced over the data's x range
    predictions: np.ndarray  # (cols,)


def prediction_curve(trainer, cols: int, low: float, high: float) -> Curve:
    xs = np.linspace(low, high, max(2, cols))
    return Curve(xs, trainer.predict(xs.reshape(-1, 1))[:, 0].astype(np.float64))
