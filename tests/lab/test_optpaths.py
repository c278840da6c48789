import math
from itertools import pairwise

import pytest

from nnplay.lab.optpaths import (
    MINIMUM_MARK,
    OVERLAP_MARK,
    SHADES,
    START_MARK,
    compare,
    map_cells,
    path_map,
    run_path,
)
from nnplay.lab.surfaces import FUNCTIONS, PATH_OPTIMIZERS

WITH_MINIMA = [name for name, surface in FUNCTIONS.items() if surface.minima]


@pytest.mark.parametrize("function", WITH_MINIMA)
def test_every_default_rate_converges_within_the_tolerance_in_the_default_steps(function):
    """The measured defaults: each optimizer ends within the function's tolerance of a minimum
    (rosenbrock 0.01 in 6000 steps; the others 0.001 in 200), and stays there from the step
    it reports."""
    surface = FUNCTIONS[function]
    for path in compare(function, list(PATH_OPTIMIZERS)):
        assert path.lr == surface.rates[path.optimizer]
        assert len(path.points) == surface.steps + 1, path.optimizer
        nearest = min(surface.minima, key=lambda m: math.dist(path.final_point, m))
        assert math.dist(path.final_point, nearest) < surface.tolerance, path.optimizer
        assert path.status == "converged" and path.nearest_minimum == nearest
        first = path.steps_to_converge
        assert first is not None and first > 0
        assert all(math.dist(p, nearest) < surface.tolerance for p in path.points[first:])
        assert math.dist(path.points[first - 1], nearest) >= surface.tolerance


def test_rosenbrock_defaults_are_tuned_per_optimizer():
    # The bowl's rates diverge or stall in the valley: the reason rates are per function.
    bowl = FUNCTIONS["bowl"].rates
    paths = {p.optimizer: p for p in compare("rosenbrock", list(PATH_OPTIMIZERS), steps=6000)}
    with_bowl = {
        name: run_path("rosenbrock", name, bowl[name], 6000).status for name in ("sgd", "adam")
    }
    assert with_bowl == {"sgd": "diverged", "adam": "not converged"}
    assert {p.status for p in paths.values()} == {"converged"}


def test_a_path_that_leaves_the_tolerance_again_has_not_converged():
    # Adam on rosenbrock reaches 0.01 of the minimum by step 1200, then swings out of it
    # around step 3400 (its steps do not shrink with the gradient): stopped there, it has not
    # converged, whatever it did before.
    path = run_path("rosenbrock", "adam", steps=3400)
    distances = [math.dist(p, (1.0, 1.0)) for p in path.points]
    assert max(distances[1200:3000]) < 0.01 < distances[-1]
    assert path.status == "not converged" and path.steps_to_converge is None
    assert path.distance == pytest.approx(distances[-1])


def test_plain_sgd_diverges_on_the_bowl_when_lr_exceeds_one():
    path = run_path("bowl", "sgd", lr=1.1, steps=500)
    assert path.diverged and path.steps_to_converge is None
    assert len(path.points) < 501  # recording stopped at the blow-up
    assert len(path.values) == len(path.points)
    assert all(math.isfinite(v) for v in path.values)
    assert max(map(abs, path.final_point)) <= 1e6


def test_sgd_lr_0_9_zig_zags_but_converges():
    path = run_path("bowl", "sgd", lr=0.9, steps=200)
    xs = [x for x, _ in path.points[:6]]
    assert all(a * b < 0 for a, b in pairwise(xs))  # crosses the minimum every step
    assert path.status == "converged"
    # each step multiplies the point by (1 − 2·lr) = −0.8
    assert path.points[1] == pytest.approx((-3.0 * -0.8, 4.0 * -0.8))


def test_walking_together_gives_each_path_its_own_steps():
    together = compare("himmelblau", list(PATH_OPTIMIZERS), steps=60)
    alone = [run_path("himmelblau", name, steps=60) for name in PATH_OPTIMIZERS]
    assert [p.points for p in together] == [p.points for p in alone]
    assert [p.values for p in together] == [p.values for p in alone]
    f = FUNCTIONS["himmelblau"].fn
    assert together[2].values[-1] == pytest.approx(f(*together[2].final_point), rel=1e-12)


def test_saddle_has_no_minimum_so_paths_escape_or_diverge():
    for path in compare("saddle", list(PATH_OPTIMIZERS)):
        assert path.steps_to_converge is None and path.nearest_minimum is None
        assert path.status in ("escaped", "diverged")
        assert path.final_value < path.values[0]  # slid downhill off the ridge


def test_runs_are_deterministic():
    first = compare("rosenbrock", ["adam", "rmsprop"], lr=0.01, steps=50)
    second = compare("rosenbrock", ["adam", "rmsprop"], lr=0.01, steps=50)
    assert [p.points for p in first] == [p.points for p in second]


def test_a_given_lr_overrides_the_default_for_every_optimizer():
    assert {p.lr for p in compare("bowl", ["sgd", "adam"], lr=0.01, steps=3)} == {0.01}
    assert [p.lr for p in compare("elongated", ["sgd", "adam"], steps=3)] == [0.9, 0.3]


def test_map_shades_the_surface_and_draws_each_path_in_its_letter():
    paths = compare("bowl", ["sgd", "adam"])
    rows = path_map("bowl", paths, width=41, height=21)
    assert len(rows) == 21 and all(len(r) == 41 for r in rows)
    text = "".join(rows)
    assert "S" in text and "A" in text
    assert rows[10][20] == MINIMUM_MARK  # the bowl's minimum sits in the middle of its box
    assert rows[0][0] == SHADES[-1]  # a corner is the highest ground
    assert rows[10][19] == SHADES[0] or rows[10][19] in "SA" + OVERLAP_MARK
    start_row, start_column = round((5 - 4) / 10 * 20), round((-3 + 5) / 10 * 40)
    assert rows[start_row][start_column] == START_MARK


def test_map_bands_cover_equal_shares_of_the_box():
    cells = [c for row in map_cells("rosenbrock", [], 60, 24) for c in row]
    counts = [sum(c.level == level for c in cells) for level in range(len(SHADES))]
    assert all(abs(count - 60 * 24 / len(SHADES)) < 60 for count in counts), counts


def test_a_path_under_another_shows_as_the_overlap_mark():
    """AdaGrad's G used to hide under Adam's A: a cell both pass through shows neither."""
    adagrad, adam = compare("bowl", ["adagrad", "adam"])
    both = compare("bowl", ["adagrad", "adam"])
    grid_g = map_cells("bowl", [adagrad])
    grid_a = map_cells("bowl", [adam])
    grid = map_cells("bowl", both)
    shared = [
        (r, c)
        for r, row in enumerate(grid)
        for c, cell in enumerate(row)
        if grid_g[r][c].mark == "G" and grid_a[r][c].mark == "A"
    ]
    assert shared  # the two paths do cross cells
    assert all(grid[r][c].mark == OVERLAP_MARK and grid[r][c].optimizer is None for r, c in shared)
    only_g = [
        (r, c) for r, row in enumerate(grid_g) for c, cell in enumerate(row) if cell.mark == "G"
    ]
    assert any(grid[r][c].mark == "G" and grid[r][c].optimizer == "adagrad" for r, c in only_g)


def test_map_without_paths_is_only_shading_and_marks():
    text = "".join(path_map("himmelblau", [], width=30, height=15))
    assert set(text) <= set(SHADES) | {MINIMUM_MARK, START_MARK}
    assert text.count(MINIMUM_MARK) == 4


def test_a_walk_stops_when_asked():
    asked = iter(range(100))
    paths = compare("rosenbrock", ["sgd", "adam"], stop=lambda: next(asked) >= 9)
    assert [len(p.points) for p in paths] == [10, 10]  # the start, then a step per "no"
    assert paths[0].points == run_path("rosenbrock", "sgd", steps=9).points
