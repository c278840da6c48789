"""Every task generates the right data, deterministically for a seed."""

import numpy as np
import pytest

from nnplay.errors import ExperimentError
from nnplay.experiment import Experiment, TaskSpec, problems, with_overrides
from nnplay.registry import BINARY, MULTICLASS, REGRESSION
from nnplay.tasks import (
    FEATURE_SUM_EDGES,
    FEATURES,
    TASKS,
    expand_features,
    is_blank,
    make_datasets,
    task_shape,
)


def spec(name, **kw):
    kw.setdefault("samples", 200)
    kw.setdefault("val_samples", 50)
    return TaskSpec(name=name, **kw)


@pytest.mark.parametrize("name", [n for n in TASKS if not is_blank(TaskSpec(name=n))])
def test_every_task_generates_the_right_shapes_and_kinds(name):
    """Every task with data of its own (a blank one, below, starts with none)."""
    task = TASKS[name]
    assert task.title and task.description
    s = spec(name, samples=120 if name == "feature_sum" else 300)
    shape = task_shape(s)
    assert shape.kind == task.kind and shape.inputs == shape.raw_inputs == task.default_dim
    assert shape.is_2d == (task.default_dim == 2)
    x, y, xv, yv = make_datasets(s)
    assert x.shape == (s.samples, shape.inputs) and xv.shape == (50, shape.inputs)
    assert x.dtype == np.float32 and xv.dtype == np.float32
    assert y.shape == (s.samples,) and yv.shape == (50,)
    if task.kind == REGRESSION:
        assert shape.classes == 0
        assert y.dtype == np.float32 and yv.dtype == np.float32
    else:
        assert y.dtype == np.int64
        assert set(np.unique(y)) <= set(range(shape.classes))
        if name != "feature_sum":  # feature_sum's inner bins are rare by design
            assert len(np.unique(y)) == shape.classes
    if shape.is_2d:
        assert shape.inputs == 2
        if name in ("xor", "plane", "multi_gaussian", "circle", "spiral", "spiral_multi"):
            assert np.abs(x).max() <= 1.0
    assert np.isfinite(x).all() and np.isfinite(y.astype(np.float64)).all()
    # deterministic for a seed, different for another
    x2, y2, xv2, yv2 = make_datasets(s)
    assert np.array_equal(x, x2) and np.array_equal(y, y2) and np.array_equal(xv, xv2)
    s.seed = 7
    x3, _, xv3, _ = make_datasets(s)
    if name != "quadratic":  # the quadratic's training grid is fixed
        assert not np.array_equal(x, x3)
    assert not np.array_equal(xv, xv3)
    assert not np.array_equal(x[: len(xv)], xv)  # validation is not the training data


def test_feature_sum_labels_are_the_bins_of_the_sum():
    x, y, xv, yv = make_datasets(spec("feature_sum", samples=300))
    assert x.shape[1] == 784
    edges = [-10, -5, 0, 5, 10, 15, 20, 25, 30]
    assert list(FEATURE_SUM_EDGES) == edges
    for xs, ys in ((x, y), (xv, yv)):
        for row, label in zip(xs, ys, strict=True):
            total = float(row.astype(np.float64).sum())
            if min(abs(total - e) for e in edges) < 1e-3:
                continue  # float32 rounding could move a sum across an edge
            assert label == sum(total >= e for e in edges)
    assert y.min() == 0 and y.max() == 9  # std 28: both outer bins are common
    assert x.std() == pytest.approx(1.0, abs=0.02)


def test_first_gt_fifth_label_rule():
    x, y, xv, yv = make_datasets(spec("first_gt_fifth", samples=1000))
    assert np.array_equal(y, (x[:, 0] > x[:, 4]).astype(np.int64))
    assert np.array_equal(yv, (xv[:, 0] > xv[:, 4]).astype(np.int64))
    assert x.min() >= 0 and x.max() < 1
    assert 0.4 < y.mean() < 0.6
    wide = spec("first_gt_fifth", dim=8)
    assert task_shape(wide).inputs == 8
    xw, yw, _, _ = make_datasets(wide)
    assert np.array_equal(yw, (xw[:, 0] > xw[:, 4]).astype(np.int64))


def test_quadratic_grid_and_targets():
    x, y, xv, yv = make_datasets(spec("quadratic", samples=100))
    assert np.allclose(x[:, 0], np.arange(100) / 100)
    assert x[0, 0] == 0.0 and x[-1, 0] == pytest.approx(0.99)
    assert np.allclose(y, 2 * x[:, 0] ** 2 + 3 * x[:, 0] + 4, atol=1e-5)
    assert np.allclose(yv, 2 * xv[:, 0] ** 2 + 3 * xv[:, 0] + 4, atol=1e-5)
    noisy = make_datasets(spec("quadratic", samples=100, noise=0.5))
    assert np.array_equal(noisy[0], x)  # noise goes on the targets
    assert not np.allclose(noisy[1], y)


def test_noise_on_inputs_for_classification():
    clean = make_datasets(spec("xor"))
    noisy = make_datasets(spec("xor", noise=0.3))
    assert not np.allclose(clean[0], noisy[0])
    assert np.array_equal(clean[1], noisy[1])


def test_poly2_features():
    x = np.array([[1.0, 2.0], [-3.0, 0.5]])
    assert np.allclose(expand_features(x, "poly2"), [[1, 2, 1, 4, 2], [-3, 0.5, 9, 0.25, -1.5]])
    x3 = np.array([[1.0, 2.0, 3.0]])
    assert np.allclose(expand_features(x3, "poly2"), [[1, 2, 3, 1, 4, 9]])
    assert expand_features(x3, "raw") is x3
    s = spec("circle", features="poly2")
    assert task_shape(s).inputs == 5 and task_shape(s).raw_inputs == 2
    x, _, xv, _ = make_datasets(s)
    assert x.shape[1] == 5 and np.allclose(x[:, 2:4], x[:, :2] ** 2, atol=1e-6)
    assert np.allclose(x[:, 4], x[:, 0] * x[:, 1], atol=1e-6)
    assert task_shape(spec("first_gt_fifth", features="poly2")).inputs == 10


def test_feature_list_gives_one_column_per_name_in_toggle_order():
    x = np.array([[1.0, 2.0], [-3.0, 0.5]])
    every = expand_features(x, list(FEATURES))
    assert np.allclose(
        every,
        [[1, 2, 1, 4, 2, np.sin(1), np.sin(2)], [-3, 0.5, 9, 0.25, -1.5, np.sin(-3), np.sin(0.5)]],
    )
    assert np.allclose(expand_features(x, ["x2^2"]), [[4], [0.25]])
    s = spec("circle", features=["x1^2", "x2^2"])
    shape = task_shape(s)
    assert (shape.inputs, shape.raw_inputs) == (2, 2)
    x, y, xv, _ = make_datasets(s)
    raw, _, _, _ = make_datasets(spec("circle"))
    assert np.allclose(x, raw**2, atol=1e-6) and xv.shape == (s.val_samples, 2)
    assert np.array_equal(y, (raw[:, 0] ** 2 + raw[:, 1] ** 2 < 0.25).astype(np.int64))


def test_feature_list_is_for_2d_tasks_only():
    with pytest.raises(
        ExperimentError,
        match=r"^task.features: a list of features is for 2-D "
        r"tasks only; first_gt_fifth allows: raw, poly2$",
    ):
        task_shape(spec("first_gt_fifth", features=["x1"]))


def test_split_and_fresh_validation():
    fresh = make_datasets(spec("first_gt_fifth", samples=100, val_samples=30))
    assert len(fresh[0]) == 100 and len(fresh[2]) == 30
    split = make_datasets(spec("first_gt_fifth", samples=100, val_samples=30, validation="split"))
    x, y, xv, yv = split
    assert len(x) == 70 and len(xv) == 30
    pooled = np.concatenate([x, xv])
    # the split partitions the same 100 samples that fresh validation trains on
    assert sorted(map(tuple, pooled)) == sorted(map(tuple, fresh[0]))
    assert not {tuple(r) for r in x} & {tuple(r) for r in xv}
    assert np.array_equal(np.concatenate([y, yv]), (pooled[:, 0] > pooled[:, 4]).astype(np.int64))


def test_class_counts_follow_the_spec():
    for name in ("spiral_multi", "blobs"):
        s = spec(name, classes=5, samples=500)
        assert task_shape(s).classes == 5
        _, y, _, _ = make_datasets(s)
        assert set(np.unique(y)) == set(range(5))
    assert task_shape(spec("blobs")).classes == 4
    assert task_shape(spec("spiral_multi")).classes == 3


@pytest.mark.parametrize(
    "overrides,match",
    [
        (
            {"name": "circle", "dim": 3},
            r"task\.dim: 3 is not allowed for circle; allowed: 0 \(default 2\) or 2",
        ),
        (
            {"name": "first_gt_fifth", "dim": 4},
            r"task\.dim: 4 is not allowed for first_gt_fifth; allowed: 0 \(default 5\) or 5 to 4096",
        ),
        ({"name": "quadratic", "dim": 2}, r"task\.dim: 2 is not allowed for quadratic"),
        (
            {"name": "blobs", "classes": 2},
            r"task\.classes: 2 is not allowed for blobs; allowed: 3 to 10",
        ),
        (
            {"name": "circle", "classes": 3},
            r"task\.classes: 3 is not allowed for circle; it has 2 classes",
        ),
        (
            {"name": "plane", "classes": 3},
            r"task\.classes: 3 is not allowed for plane; it has no classes",
        ),
    ],
)
def test_dim_and_classes_refusals(overrides, match):
    with pytest.raises(ExperimentError, match=match):
        task_shape(spec(**overrides))
    exp = Experiment()
    exp.task = spec(**overrides)
    exp.training.loss = "mse"
    field = match.split(":")[0].replace("\\", "")
    assert any(path == field for path, _ in problems(exp))  # shown under its own field
    with pytest.raises(ExperimentError, match=match.split(":")[0]):
        with_overrides(exp, {})


def test_task_kinds():
    assert {n for n, t in TASKS.items() if t.kind == MULTICLASS} == {
        "feature_sum",
        "spiral_multi",
        "blobs",
        "draw_multi",
    }
    assert {n for n, t in TASKS.items() if t.kind == REGRESSION} == {
        "quadratic",
        "plane",
        "multi_gaussian",
    }
    assert TASKS["first_gt_fifth"].kind == BINARY


def test_majority_baseline_of_the_validation_data():
    from nnplay.tasks import Baseline, majority_baseline

    _, _, _, yv = make_datasets(spec("circle", val_samples=500))
    baseline = majority_baseline(yv)
    assert baseline == Baseline(0, float(np.mean(yv == 0))) and 0.7 < baseline.accuracy < 0.8
    assert baseline.explain() == f"it predicts the majority class: {baseline.accuracy:.1%}"
    assert majority_baseline(np.array([[1.0], [1.0], [0.0]])) == Baseline(1, 2 / 3)
    assert majority_baseline(np.array([4, 7, 7, 7])) == Baseline(7, 0.75)
    assert majority_baseline(np.array([])) is None


@pytest.mark.parametrize("name", ["draw", "draw_multi"])
def test_a_blank_task_starts_with_no_points_in_the_shapes_of_its_kind(name):
    s = spec(name)
    assert is_blank(s) and task_shape(s).is_2d
    x, y, xv, yv = make_datasets(s)
    assert x.shape == (0, 2) and xv.shape == (0, 2) and y.shape == yv.shape == (0,)
    assert x.dtype == np.float32 and y.dtype == np.int64
