"""The task registry: shapes, kinds, labels by their rules, seeds."""

import numpy as np
import pytest

from nnplay.experiment import TaskSpec
from nnplay.registry import BINARY, MULTICLASS, REGRESSION
from nnplay.tasks import FEATURE_SUM_EDGES, TASKS, generate, make_datasets, task_shape


@pytest.mark.parametrize("name", TASKS)
def test_every_task_generates_its_declared_shape_deterministically(name):
    spec = TaskSpec(name=name, samples=64, val_samples=16)
    shape = task_shape(spec)
    x, y, xv, yv = make_datasets(spec)
    assert x.shape == (64, shape.inputs) and xv.shape == (16, shape.inputs)
    assert x.dtype == np.float32
    if shape.kind == REGRESSION:
        assert y.dtype == np.float32 and shape.classes == 0
    else:
        assert y.dtype == np.int64 and set(np.unique(y)) <= set(range(shape.classes))
    assert shape.is_2d == (TASKS[name].default_dim == 2)
    again = make_datasets(spec)
    assert all(np.array_equal(a, b) for a, b in zip((x, y, xv, yv), again))
    other = make_datasets(TaskSpec(name=name, samples=64, val_samples=16, seed=1))
    assert not np.array_equal(x, other[0]) or name == "quadratic"  # its grid is fixed


def test_first_gt_fifth_labels_compare_first_and_fifth():
    x, y = generate(TaskSpec(), 500, 0)
    assert np.array_equal(y, (x[:, 0] > x[:, 4]).astype(np.int64))
    assert x.min() >= 0 and x.max() < 1 and 0.4 < y.mean() < 0.6


def test_feature_sum_class_is_the_bin_of_the_sum():
    x, y = generate(TaskSpec(name="feature_sum"), 300, 0)
    assert x.shape == (300, 784)
    sums = x.astype(np.float64).sum(axis=1)
    for s, label in zip(sums, y):
        low = -np.inf if label == 0 else FEATURE_SUM_EDGES[label - 1]
        high = np.inf if label == 9 else FEATURE_SUM_EDGES[label]
        assert low - 1e-3 <= s < high + 1e-3
    assert task_shape(TaskSpec(name="feature_sum")).classes == 10


def test_quadratic_trains_on_the_seeds_grid():
    x, y = generate(TaskSpec(name="quadratic"), 100, 0)
    assert np.allclose(x[:, 0], np.arange(100) / 100)
    assert np.allclose(y, 2 * x[:, 0] ** 2 + 3 * x[:, 0] + 4)


def test_poly2_adds_squares_and_the_cross_term_on_2d_tasks():
    spec = TaskSpec(name="xor", features="poly2")
    x, _ = generate(spec, 10, 0)
    raw, _ = generate(TaskSpec(name="xor"), 10, 0)
    assert task_shape(spec).inputs == 5
    assert np.allclose(x, np.column_stack([raw, raw**2, raw[:, 0] * raw[:, 1]]), atol=1e-6)


def test_split_validation_holds_out_of_the_samples():
    x, y, xv, yv = make_datasets(TaskSpec(name="circle", samples=100, val_samples=30,
                                          validation="split"))
    assert len(x) == 70 and len(xv) == 30
    assert not {tuple(r) for r in x} & {tuple(r) for r in xv}


def test_task_kinds():
    kinds = {name: task.kind for name, task in TASKS.items()}
    assert kinds["first_gt_fifth"] == BINARY and kinds["feature_sum"] == MULTICLASS
    assert kinds["quadratic"] == kinds["plane"] == kinds["multi_gaussian"] == REGRESSION
    assert {"circle", "xor", "gaussians", "spiral", "spiral_multi", "plane",
            "multi_gaussian"} <= set(TASKS)
