"""Synthetic tasks: a registry of seeded data generators.

Each task says its kind, its input size and classes, whether it is 2-D (so a decision map can be
drawn), and generates `(X, y)` as NumPy arrays: X float32 of shape (n, inputs); y int64 class
labels (classification) or float32 targets (regression), shape (n,).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnplay import csv_data
from nnplay.errors import ExperimentError
from nnplay.i18n import _
from nnplay.registry import BINARY, MULTICLASS, REGRESSION
from nnplay.untrusted import shown

# docs/curriculum.md §8: the class of a feature-sum sample is the bin of sum(x) between these edges.
FEATURE_SUM_EDGES = np.array([-10, -5, 0, 5, 10, 15, 20, 25, 30], dtype=np.float64)
# task.features: a shorthand, or (2-D tasks) any non-empty list of these names, as TF Playground's
# input toggles. Each maps the raw inputs (n, 2) to one column.
FEATURE_MODES = ("raw", "poly2")
FEATURES = {
    "x1": lambda x: x[:, 0],
    "x2": lambda x: x[:, 1],
    "x1^2": lambda x: x[:, 0] ** 2,
    "x2^2": lambda x: x[:, 1] ** 2,
    "x1*x2": lambda x: x[:, 0] * x[:, 1],
    "sin(x1)": lambda x: np.sin(x[:, 0]),
    "sin(x2)": lambda x: np.sin(x[:, 1]),
}


@dataclass(frozen=True)
class Task:
    title: str
    kind: str
    default_dim: int
    make: Callable  # (n, rng, dim, classes, training) -> (X, y) before noise
    description: str
    default_classes: int = 0  # classification: classes; 0 for regression
    min_dim: int = 1
    max_dim: int = 4096
    class_range: tuple[int, int] | None = None  # the classes a learner may choose
    noise_on: str = "inputs"  # "inputs" or "targets"

    @property
    def is_2d(self) -> bool:
        return self.default_dim == 2 and self.max_dim == 2


@dataclass(frozen=True)
class TaskShape:
    kind: str
    raw_inputs: int  # the task's own inputs
    inputs: int  # after feature expansion: what the network sees
    classes: int  # classification: number of classes; regression: 0
    is_2d: bool


# ---------------------------------------------------------------------------------------------
# Generators


def _first_gt_fifth(n, rng, dim, classes, training):
    x = rng.random((n, dim))
    return x, (x[:, 0] > x[:, 4]).astype(np.int64)


def _feature_sum(n, rng, dim, classes, training):
    x = rng.standard_normal((n, dim))
    return x, np.digitize(x.sum(axis=1), FEATURE_SUM_EDGES).astype(np.int64)


def _quadratic(n, rng, dim, classes, training):
    # The course fits on the grid 0.00, 0.01, ..., 0.99 (docs/curriculum.md §3); fresh
    # validation points are random.
    x = (np.arange(n) / n if training else rng.random(n)).reshape(n, 1)
    return x, 2 * x[:, 0] ** 2 + 3 * x[:, 0] + 4


def _square(n, rng):
    return rng.uniform(-1, 1, (n, 2))


def _circle(n, rng, dim, classes, training):
    radius = np.sqrt(rng.random(n))  # uniform over the unit disk
    angle = rng.uniform(0, 2 * np.pi, n)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return x, (radius < 0.5).astype(np.int64)


def _xor(n, rng, dim, classes, training):
    x = _square(n, rng)
    return x, (x[:, 0] * x[:, 1] > 0).astype(np.int64)


def _blob_centres(k):
    angle = 2 * np.pi * np.arange(k) / k + np.pi / 4
    return 0.55 * np.stack([np.cos(angle), np.sin(angle)], axis=1)


# Two clouds overlap as the gaussians exercise says: the best straight boundary gets about 97%
# (each centre lies 2 standard deviations from it). Several blobs stay well apart.
TWO_CLOUD_SPREAD = 0.32
BLOB_SPREAD = 0.22


def _gaussians(n, rng, dim, classes, training):
    k = classes or 2
    y = rng.integers(0, k, n)
    if k > 2:
        centres, spread = _blob_centres(k), BLOB_SPREAD
    else:
        centres, spread = np.array([[-0.45, -0.45], [0.45, 0.45]]), TWO_CLOUD_SPREAD
    return centres[y] + spread * rng.standard_normal((n, 2)), y.astype(np.int64)


def _spiral(n, rng, dim, classes, training):
    k = classes or 2
    y = rng.integers(0, k, n)
    t = np.sqrt(rng.random(n))  # radius 0..1, denser at the rim like the drawn arms
    angle = 1.75 * 2 * np.pi * t + 2 * np.pi * y / k
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
    return x, y.astype(np.int64)


def _plane(n, rng, dim, classes, training):
    x = _square(n, rng)
    return x, 0.6 * x[:, 0] - 0.4 * x[:, 1]


def _multi_gaussian(n, rng, dim, classes, training):
    x = _square(n, rng)
    bump = lambda cx, cy: np.exp(-((x[:, 0] - cx) ** 2 + (x[:, 1] - cy) ** 2) / 0.08)  # noqa: E731
    return x, bump(-0.4, 0.4) + bump(0.4, -0.4) - bump(0.4, 0.4) - bump(-0.4, -0.4)


def _no_points(n, rng, dim, classes, training):
    """A blank task: the learner draws every point on the map (nnplay.drawn)."""
    return np.zeros((0, 2)), np.zeros(0, np.int64)


def _two_d(title, kind, make, description, classes=0, class_range=None, noise_on="inputs"):
    return Task(
        title,
        kind,
        2,
        make,
        description,
        default_classes=classes,
        min_dim=2,
        max_dim=2,
        class_range=class_range,
        noise_on=noise_on,
    )


TASKS: dict[str, Task] = {
    "first_gt_fifth": Task(
        "first element > fifth",
        BINARY,
        5,
        _first_gt_fifth,
        "uniform random vectors; label 1 when x[0] > x[4]",
        default_classes=2,
        min_dim=5,
    ),
    "feature_sum": Task(
        "feature-sum classes",
        MULTICLASS,
        784,
        _feature_sum,
        "standard-normal vectors; class = bin of their sum (edges -10, -5, ..., 30)",
        default_classes=10,
    ),
    "quadratic": Task(
        "quadratic y = 2x² + 3x + 4",
        REGRESSION,
        1,
        _quadratic,
        "fit y = 2x² + 3x + 4 on x in [0, 1)",
        max_dim=1,
        noise_on="targets",
    ),
    "circle": _two_d("circle", BINARY, _circle, "inside or outside a circle of radius 0.5", 2),
    "xor": _two_d("xor", BINARY, _xor, "class 1 in the quadrants where x·y > 0", 2),
    "gaussians": _two_d("two gaussians", BINARY, _gaussians, "two overlapping gaussian blobs", 2),
    "spiral": _two_d("spiral", BINARY, _spiral, "two interleaved spiral arms", 2),
    "spiral_multi": _two_d(
        "spiral (multi-class)",
        MULTICLASS,
        _spiral,
        "several interleaved spiral arms, one class each",
        3,
        (3, 10),
    ),
    "blobs": _two_d(
        "gaussian blobs",
        MULTICLASS,
        _gaussians,
        "several gaussian blobs, one class each",
        4,
        (3, 10),
    ),
    "plane": _two_d(
        "plane", REGRESSION, _plane, "regression on the plane 0.6·x - 0.4·y", noise_on="targets"
    ),
    "multi_gaussian": _two_d(
        "multi gaussian",
        REGRESSION,
        _multi_gaussian,
        "regression on four gaussian bumps, two up, two down",
        noise_on="targets",
    ),
    "draw": _two_d(
        "draw your own",
        BINARY,
        _no_points,
        "no points: the learner draws both classes on the map",
        2,
    ),
    "draw_multi": _two_d(
        "draw your own (multi-class)",
        MULTICLASS,
        _no_points,
        "no points: the learner draws several classes on the map",
        3,
        (3, 10),
    ),
}


def is_blank(spec) -> bool:
    """A task with no data of its own: what it trains on is drawn on the map."""
    return not spec.data and TASKS[spec.name].make is _no_points


# ---------------------------------------------------------------------------------------------
# Shapes and data for a TaskSpec


def task_shape(spec) -> TaskShape:
    """The shape of `spec`'s data; ExperimentError if its dim or classes do not fit the task."""
    if spec.data:
        return _csv_shape(spec)
    task = TASKS[spec.name]
    dim = spec.dim or task.default_dim
    if not task.min_dim <= dim <= task.max_dim:
        allowed = (
            f"{task.min_dim}"
            if task.min_dim == task.max_dim
            else _("{low} to {high}").format(low=task.min_dim, high=task.max_dim)
        )
        message = _(
            "{value} is not allowed for {task}; allowed: 0 (default {default}) or {allowed}"
        )
        raise ExperimentError(
            "task.dim: "
            + message.format(value=dim, task=spec.name, default=task.default_dim, allowed=allowed)
        )
    classes = spec.classes or task.default_classes
    if spec.classes and classes != task.default_classes and task.class_range is None:
        message = _("{value} is not allowed for {task}; it has {count} classes (use 0)")
        count = task.default_classes or _("no")
        raise ExperimentError(
            "task.classes: " + message.format(value=spec.classes, task=spec.name, count=count)
        )
    if task.class_range and not task.class_range[0] <= classes <= task.class_range[1]:
        low, high = task.class_range
        message = _("{value} is not allowed for {task}; allowed: {low} to {high}")
        raise ExperimentError(
            "task.classes: " + message.format(value=classes, task=spec.name, low=low, high=high)
        )
    if isinstance(spec.features, list):
        if not task.is_2d:
            message = _("a list of features is for 2-D tasks only; {task} allows: {allowed}")
            raise ExperimentError(
                "task.features: " + message.format(task=spec.name, allowed=", ".join(FEATURE_MODES))
            )
        inputs = len(spec.features)
    else:
        inputs = dim + (_poly2_extra(dim) if spec.features == "poly2" else 0)
    return TaskShape(task.kind, dim, inputs, classes, task.is_2d)


def _csv_shape(spec) -> TaskShape:
    """A CSV task's shape, from the schema its experiment records (the file is not read)."""
    schema = spec.schema
    if not schema.columns:
        message = _("{path} has not been read; open the experiment from its file")
        raise ExperimentError("task.data: " + message.format(path=repr(shown(spec.data, 300))))
    dim = len(schema.columns)
    inputs = dim + (_poly2_extra(dim) if spec.features == "poly2" else 0)
    classes = len(schema.classes)
    kind = REGRESSION if schema.kind == REGRESSION else BINARY if classes == 2 else MULTICLASS
    return TaskShape(kind, dim, inputs, classes, False)


def _poly2_extra(dim: int) -> int:
    return dim + (1 if dim == 2 else 0)


def expand_features(x: np.ndarray, mode: str | list[str]) -> np.ndarray:
    """What the network sees of raw inputs `x` (n, raw inputs). A list of FEATURES names (2-D
    tasks) gives one column per name, in the list's order; poly2 appends each input squared
    (and x·y on 2-D tasks); raw passes `x` through. Training, prediction, every export and the
    exported script all call this one function."""
    if isinstance(mode, list):
        return np.stack([FEATURES[name](x) for name in mode], axis=1)
    if mode == "raw":
        return x
    extra = [x**2] + ([x[:, :1] * x[:, 1:2]] if x.shape[1] == 2 else [])
    return np.concatenate([x, *extra], axis=1)


def source_name(spec) -> str:
    """Where a task's data comes from, in a word: its CSV file's name, or the task's."""
    return Path(spec.data).name if spec.data else spec.name


def feature_names(spec) -> str | list[str]:
    """task.features as the inputs' names read it: a CSV task's columns in the order the
    network reads them (poly2 names them x1, x2, ... and their squares)."""
    if spec.data and spec.features != "poly2":
        return spec.schema.columns
    return spec.features


def network_inputs(x, spec) -> np.ndarray:
    """What the network sees (float32) of raw task inputs `x` (n, raw inputs): a CSV task's
    columns standardized as its schema records, then the features expanded. Training,
    prediction and every export call this one function."""
    x = np.asarray(x, dtype=np.float64)
    features = spec.features
    if spec.data:
        x = (x - np.asarray(spec.schema.mean)) / np.asarray(spec.schema.std)
        features = "poly2" if features == "poly2" else "raw"  # a list names the columns
    return expand_features(x, features).astype(np.float32)


def generate(spec, n: int, seed_stream: int, training: bool = True):
    """n raw samples (float64 inputs, before features) of `spec`'s task from the seeded
    stream, noise applied."""
    task = TASKS[spec.name]
    shape = task_shape(spec)
    rng = np.random.default_rng([spec.seed, seed_stream])
    x, y = task.make(n, rng, shape.raw_inputs, shape.classes, training)
    if spec.noise:
        noise = spec.noise * rng.standard_normal(y.shape if task.noise_on == "targets" else x.shape)
        if task.noise_on == "targets":
            y = y + noise
        else:
            x = x + noise
    y = y.astype(np.float32) if task.kind == REGRESSION else y.astype(np.int64)
    return np.asarray(x, dtype=np.float64), y


@dataclass(frozen=True)
class Baseline:
    """The accuracy of always answering the most common class: what learning nothing scores."""

    label: int
    accuracy: float

    def explain(self) -> str:
        return _("it predicts the majority class: {accuracy}").format(
            accuracy=f"{self.accuracy:.1%}"
        )


def majority_baseline(y) -> Baseline | None:
    """The majority-class baseline of class labels `y` (any shape, e.g. the validation targets);
    None when there are none. A chart draws it as a line; an accuracy flat on it is explained."""
    labels = np.asarray(y).reshape(-1).astype(np.int64)
    if labels.size == 0:
        return None
    counts = np.bincount(labels - labels.min())
    return Baseline(int(counts.argmax() + labels.min()), float(counts.max() / labels.size))


def held_out(spec) -> tuple[int, int]:
    """(validation, test) samples held out of the task's data (task.samples, or a CSV file's
    rows); a fresh validation set is generated apart and holds none of them."""
    if spec.data:
        rows = spec.schema.rows
        return csv_data.val_rows(rows, spec.val_fraction), csv_data.test_rows(
            rows, spec.test_fraction
        )
    tested = csv_data.test_rows(spec.samples, spec.test_fraction)
    if spec.validation == "fraction":
        return csv_data.val_rows(spec.samples, spec.val_fraction), tested
    return (spec.val_samples if spec.validation == "split" else 0), tested


def train_samples(spec) -> int:
    """How many samples the training set has (split validation and test sets are held out)."""
    total = spec.schema.rows if spec.data else spec.samples
    return total - sum(held_out(spec))


def make_datasets(spec):
    """(X_train, y_train, X_val, y_val) as the network sees them (network_inputs)."""
    return network_splits(spec)[:4]


def network_splits(spec):
    """(X_train, y_train, X_val, y_val, X_test, y_test) as the network sees them; the test
    arrays are empty without task.test_fraction."""
    x, y, xv, yv, xt, yt = raw_splits(spec)
    return (
        network_inputs(x, spec),
        y,
        network_inputs(xv, spec),
        yv,
        network_inputs(xt, spec),
        yt,
    )


def test_set(spec):
    """(X_test, y_test) as the network sees them, or None without task.test_fraction."""
    return network_splits(spec)[4:] if spec.test_fraction else None


def raw_datasets(spec):
    """(X_train, y_train, X_val, y_val) as the TaskSpec asks, the inputs raw (float64)."""
    return raw_splits(spec)[:4]


def raw_splits(spec):
    """(X_train, y_train, X_val, y_val, X_test, y_test), the inputs raw (float64): fresh or
    held-out validation, or a CSV file's rows (the file the schema was read from). The test
    set is held out of the samples, apart from validation; without it (the default) the
    training and validation sets are exactly those of a task without one."""
    if spec.data:
        return _csv_datasets(spec)
    x, y = generate(spec, spec.samples, 0)
    held, tested = held_out(spec)
    if spec.validation == "fresh":
        xv, yv = generate(spec, spec.val_samples, 1, training=False)
        # the training set keeps its order unless a test set is drawn out of it
        order = np.random.default_rng([spec.seed, 3]).permutation(spec.samples) if tested else None
        train, test = (slice(None), slice(0)) if order is None else (order[tested:], order[:tested])
        return x[train], y[train], xv, yv, x[test], y[test]
    order = np.random.default_rng([spec.seed, 2]).permutation(spec.samples)
    train, val, test = csv_data.parts(order, held, tested)
    return x[train], y[train], x[val], y[val], x[test], y[test]


def _csv_datasets(spec):
    table = csv_data.table_of(spec.data, spec.target)
    if table.sha256 != spec.schema.sha256:
        raise csv_data.changed(spec.data)
    return csv_data.arrays(table, spec.schema, spec.val_fraction, spec.seed, spec.test_fraction)
