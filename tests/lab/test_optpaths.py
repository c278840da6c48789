import math
from itertools import pairwise

import pytest

from nnplay.lab.optpaths import (
    CONVERGE_DISTANCE,
    MINIMUM_MARK,
    SHADES,
    START_MARK,
    compare,
    path_map,
    run_path,
)
from nnplay.lab.surfaces import FUNCTIONS, PATH_OPTIMIZERS


@pytest.mark.parametrize("optimizer", list(PATH_OPTIMIZERS))
def test_every_optimizer_converges_on_the_bowl_with_its_default_lr(optimizer):
    path = run_path("bowl", optimizer)
    assert path.status == "converged" and not path.diverged
    assert path.points[0] == (-3.0, 4.0)
    assert math.dist(path.points[path.steps_to_converge], (0, 0)) < CONVERGE_DISTANCE
    assert math.dist(path.points[path.steps_to_converge - 1], (0, 0)) >= CONVERGE_DISTANCE
    assert path.final_value < 1e-5


def test_plain_sgd_diverges_on_the_bowl_when_lr_exceeds_one():
    path = run_path("bowl", "sgd", lr=1.1, steps=500)
    assert path.diverged and path.steps_to_converge is None
    assert len(path.points) < 501  # recording stopped at the blow-up
    assert all(math.isfinite(v) for v in path.values)


def test_sgd_lr_0_9_zig_zags_but_converges():
    path = run_path("bowl", "sgd", lr=0.9, steps=200)
    xs = [x for x, _ in path.points[:6]]
    assert all(a * b < 0 for a, b in pairwise(xs))  # crosses the minimum every step
    assert path.status == "converged"
    # each step multiplies the point by (1 − 2·lr) = −0.8
    assert path.points[1] == pytest.approx((-3.0 * -0.8, 4.0 * -0.8))


def test_saddle_has_no_minimum_so_paths_escape_or_diverge():
    for path in compare("saddle", list(PATH_OPTIMIZERS)):
        assert path.steps_to_converge is None
        assert path.status in ("escaped", "diverged")
        assert path.final_value < path.values[0]  # slid downhill off the ridge


def test_himmelblau_converges_to_one_of_its_four_minima():
    path = run_path("himmelblau", "adagrad")
    assert path.status == "converged"
    assert (
        min(math.dist(path.final_point, m) for m in FUNCTIONS["himmelblau"].minima)
        < CONVERGE_DISTANCE
    )


def test_runs_are_deterministic():
    first = compare("rosenbrock", ["adam", "rmsprop"], lr=0.01, steps=50)
    second = compare("rosenbrock", ["adam", "rmsprop"], lr=0.01, steps=50)
    assert [p.points for p in first] == [p.points for p in second]


def test_a_given_lr_overrides_the_default_for_every_optimizer():
    assert {p.lr for p in compare("bowl", ["sgd", "adam"], lr=0.01, steps=3)} == {0.01}
    assert [p.lr for p in compare("bowl", ["sgd", "adam"], steps=3)] == [
        PATH_OPTIMIZERS["sgd"].default_lr,
        PATH_OPTIMIZERS["adam"].default_lr,
    ]


def test_map_shades_the_surface_and_draws_each_path_in_its_letter():
    paths = compare("bowl", ["sgd", "adam"])
    rows = path_map("bowl", paths, width=41, height=21)
    assert len(rows) == 21 and all(len(r) == 41 for r in rows)
    text = "".join(rows)
    assert "S" in text and "A" in text
    assert rows[10][20] == MINIMUM_MARK  # the bowl's minimum sits in the middle of its box
    assert rows[0][0] == SHADES[-1]  # a corner is the highest ground
    start_row, start_column = round((5 - 4) / 10 * 20), round((-3 + 5) / 10 * 40)
    assert rows[start_row][start_column] == START_MARK


def test_map_without_paths_is_only_shading_and_marks():
    text = "".join(path_map("himmelblau", [], width=30, height=15))
    assert set(text) <= set(SHADES) | {MINIMUM_MARK, START_MARK}
    assert text.count(MINIMUM_MARK) == 4
