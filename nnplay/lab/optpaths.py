"""Optimizer paths: torch's own optimizers walking a 2-D function from the same start.

A path has converged when its last point lies within the function's tolerance of a minimum (the
nearest one, for several); steps_to_converge is the step from which it stayed that near. A
function without a minimum (the saddle) never converges: its path either stays in the view box
("not converged") or leaves it ("escaped"). A path stops early as "diverged" when the point or
value becomes non-finite or the point leaves DIVERGE_BOUND.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from nnplay.lab.surfaces import FUNCTIONS, PATH_OPTIMIZERS, Surface

DIVERGE_BOUND = 1e6
# The map's shading, low → high log-value: blank valleys where the paths run, denser blocks up
# the walls (bright on a dark terminal); no letters, so the optimizers' marks stand out.
SHADES = " ░▒▓█"
MINIMUM_MARK = "o"
START_MARK = "x"
OVERLAP_MARK = "&"  # a cell two or more paths pass through


@dataclass
class OptPath:
    function: str
    optimizer: str
    lr: float
    points: list[tuple[float, float]]  # the start, then one point per step taken
    values: list[float]
    steps_to_converge: int | None
    status: str  # converged, not converged, escaped, diverged
    nearest_minimum: tuple[float, float] | None  # to the last point; None without a minimum

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    @property
    def final_point(self) -> tuple[float, float]:
        return self.points[-1]

    @property
    def final_value(self) -> float:
        return self.values[-1]

    @property
    def distance(self) -> float | None:
        """How far the last point lies from the nearest minimum."""
        if self.nearest_minimum is None:
            return None
        return math.dist(self.final_point, self.nearest_minimum)

    def to_dict(self) -> dict:
        return {
            "function": self.function,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "steps_to_converge": self.steps_to_converge,
            "status": self.status,
            "diverged": self.diverged,
            "final_point": list(self.final_point),
            "final_value": self.final_value,
            "nearest_minimum": None if self.nearest_minimum is None else list(self.nearest_minimum),
            "distance_to_minimum": self.distance,
            "tolerance": FUNCTIONS[self.function].tolerance,
            "points": [list(p) for p in self.points],
        }


def nearest_minimum(surface: Surface, point: tuple[float, float]) -> tuple[float, float] | None:
    return min(surface.minima, key=lambda m: math.dist(point, m), default=None)


def _inside(box: tuple[float, float, float, float], point: tuple[float, float]) -> bool:
    x_min, x_max, y_min, y_max = box
    return x_min <= point[0] <= x_max and y_min <= point[1] <= y_max


def run_path(
    function: str,
    optimizer: str,
    lr: float | None = None,
    steps: int | None = None,
    start: tuple[float, float] | None = None,
) -> OptPath:
    """One optimizer's path; lr, steps and start None mean the function's own."""
    return compare(function, [optimizer], lr, steps, start)[0]


def compare(
    function: str,
    optimizers: list[str],
    lr: float | None = None,
    steps: int | None = None,
    start: tuple[float, float] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> list[OptPath]:
    """Every optimizer from the same start for `steps` steps (fewer for a path that diverges,
    or for all when `stop()` turns true: a screen's walk that another replaced);
    lr, steps and start None mean the function's own (each optimizer's rate for it).

    The paths walk side by side: one forward and backward pass over all their points per
    step (the function is elementwise, so each point gets exactly its own gradient), then each
    torch optimizer steps its own point. A point's value is the next pass's forward."""
    surface = FUNCTIONS[function]
    steps = surface.steps if steps is None else steps
    rates = [surface.rates[name] if lr is None else lr for name in optimizers]
    leaves = [
        torch.tensor(start or surface.start, dtype=torch.float64, requires_grad=True)
        for _name in optimizers
    ]
    stepping = [
        getattr(torch.optim, kind.torch_class)([leaf], lr=rate, **kind.options)
        for leaf, rate, kind in zip(
            leaves, rates, [PATH_OPTIMIZERS[n] for n in optimizers], strict=True
        )
    ]
    points = [[tuple(leaf.tolist())] for leaf in leaves]
    values: list[list[float]] = [[] for _name in optimizers]
    walking = list(range(len(optimizers)))
    for step in range(steps + 1):
        stacked = torch.stack([leaves[i] for i in walking])
        heights = surface.fn(stacked[:, 0], stacked[:, 1])
        for i, value in zip(list(walking), heights.tolist(), strict=True):
            if math.isfinite(value):
                values[i].append(value)
            else:  # the last point's value overflowed: that point is not part of the path
                points[i].pop()
                walking.remove(i)
        if step == steps or not walking or stop():
            break
        for i in walking:
            stepping[i].zero_grad()
        heights.sum().backward()  # after a removal too: the removed point's gradient is unused
        for i in list(walking):
            stepping[i].step()
            here = tuple(leaves[i].tolist())
            if all(map(math.isfinite, here)) and max(map(abs, here)) <= DIVERGE_BOUND:
                points[i].append(here)
            else:
                walking.remove(i)
        if not walking:
            break
    return [
        verdict(surface, name, rate, points[i], values[i], diverged=i not in walking)
        for i, (name, rate) in enumerate(zip(optimizers, rates, strict=True))
    ]


def verdict(
    surface: Surface,
    optimizer: str,
    lr: float,
    points: list[tuple[float, float]],
    values: list[float],
    diverged: bool,
) -> OptPath:
    """The path's status: where its last point lies against the minima and the view box."""
    nearest = nearest_minimum(surface, points[-1])
    converged_at, status = None, "diverged" if diverged else "not converged"
    if not diverged and nearest is not None:
        near = [math.dist(p, nearest) < surface.tolerance for p in points]
        if near[-1]:
            status = "converged"
            converged_at = len(near) - near[::-1].index(False) if False in near else 0
    if status == "not converged" and not surface.minima and not _inside(surface.box, points[-1]):
        status = "escaped"
    return OptPath(surface.name, optimizer, lr, points, values, converged_at, status, nearest)


@dataclass(frozen=True)
class MapCell:
    mark: str  # a shade, an optimizer's letter, OVERLAP_MARK, START_MARK or MINIMUM_MARK
    level: int  # the shade under it, 0 (lowest) .. len(SHADES) - 1
    optimizer: str | None = None  # the one path drawn here


def map_cells(
    function: str, paths: list[OptPath], width: int = 60, height: int = 24
) -> list[list[MapCell]]:
    """The view box as a grid: each cell shaded by its band of log(value − lowest + 1), a
    filled contour (SHADES, low to high); over it each path's points in its letter,
    OVERLAP_MARK where several paths pass through one cell (so no path hides under another),
    then the minima and the start. Points outside the box are not drawn."""
    surface = FUNCTIONS[function]
    x_min, x_max, y_min, y_max = surface.box
    xs = torch.linspace(x_min, x_max, width, dtype=torch.float64)
    ys = torch.linspace(y_max, y_min, height, dtype=torch.float64)  # top row is the largest y
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    values = surface.fn(grid_x, grid_y)
    heights = torch.log1p(values - values.min())
    # The contour levels at the quantiles of the log-value: each band covers an equal share of
    # the box, so a steep function is not one solid block with a thin blank valley.
    shares = torch.linspace(0, 1, len(SHADES) + 1, dtype=torch.float64)[1:-1]
    levels = torch.bucketize(heights, torch.quantile(heights.flatten(), shares))
    grid = [[MapCell(SHADES[level], level) for level in row] for row in levels.tolist()]

    def cell(point: tuple[float, float]) -> tuple[int, int] | None:
        if not _inside(surface.box, point):
            return None
        column = round((point[0] - x_min) / (x_max - x_min) * (width - 1))
        row = round((y_max - point[1]) / (y_max - y_min) * (height - 1))
        return row, column

    visitors: dict[tuple[int, int], list[str]] = {}
    for path in paths:
        for where in filter(None, map(cell, path.points[1:])):
            names = visitors.setdefault(where, [])
            if path.optimizer not in names:
                names.append(path.optimizer)
    for (row, column), names in visitors.items():
        level = grid[row][column].level
        if len(names) == 1:
            grid[row][column] = MapCell(PATH_OPTIMIZERS[names[0]].mark, level, names[0])
        else:
            grid[row][column] = MapCell(OVERLAP_MARK, level)
    # The minima and the start last, so they stay visible on top of the paths.
    for point, mark in [(m, MINIMUM_MARK) for m in surface.minima] + [(surface.start, START_MARK)]:
        spot = cell(point)
        if spot is not None:
            grid[spot[0]][spot[1]] = MapCell(mark, grid[spot[0]][spot[1]].level)
    return grid


def path_map(function: str, paths: list[OptPath], width: int = 60, height: int = 24) -> list[str]:
    """The map as plain text, one string per row."""
    return ["".join(c.mark for c in row) for row in map_cells(function, paths, width, height)]
