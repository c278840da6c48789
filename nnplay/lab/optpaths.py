"""Optimizer paths: torch's own optimizers walking a 2-D function from the same start.

A path has converged at the first step whose point lies within CONVERGE_DISTANCE of a minimum
(the nearest one, for several). A function without a minimum (the saddle) never converges: its
path either stays in the view box ("not converged") or leaves it ("escaped"). A path stops early
as "diverged" when the point or value becomes non-finite or the point leaves DIVERGE_BOUND.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from nnplay.lab.surfaces import DEFAULT_STEPS, FUNCTIONS, PATH_OPTIMIZERS, Surface

CONVERGE_DISTANCE = 1e-3
DIVERGE_BOUND = 1e6
SHADES = " .:-=+*#%@"  # low → high log-value; no letters, so optimizer marks stand out
MINIMUM_MARK = "o"
START_MARK = "x"


@dataclass
class OptPath:
    function: str
    optimizer: str
    lr: float
    points: list[tuple[float, float]]  # the start, then one point per step taken
    values: list[float]
    steps_to_converge: int | None
    status: str  # converged, not converged, escaped, diverged

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    @property
    def final_point(self) -> tuple[float, float]:
        return self.points[-1]

    @property
    def final_value(self) -> float:
        return self.values[-1]

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
            "points": [list(p) for p in self.points],
        }


def distance_to_minimum(surface: Surface, point: tuple[float, float]) -> float:
    return min((math.dist(point, m) for m in surface.minima), default=math.inf)


def _inside(box: tuple[float, float, float, float], point: tuple[float, float]) -> bool:
    x_min, x_max, y_min, y_max = box
    return x_min <= point[0] <= x_max and y_min <= point[1] <= y_max


def run_path(
    function: str,
    optimizer: str,
    lr: float | None = None,
    steps: int = DEFAULT_STEPS,
    start: tuple[float, float] | None = None,
) -> OptPath:
    """Walk `steps` optimizer steps on the surface (fewer if the path diverges)."""
    surface, kind = FUNCTIONS[function], PATH_OPTIMIZERS[optimizer]
    lr = kind.default_lr if lr is None else lr
    point = torch.tensor(start or surface.start, dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, kind.torch_class)([point], lr=lr, **kind.options)
    points = [tuple(point.tolist())]
    values = [surface.fn(point[0], point[1]).item()]
    converged_at = 0 if distance_to_minimum(surface, points[0]) < CONVERGE_DISTANCE else None
    status = "not converged"
    for step in range(1, steps + 1):
        opt.zero_grad()
        surface.fn(point[0], point[1]).backward()
        opt.step()
        here = tuple(point.tolist())
        with torch.no_grad():
            value = surface.fn(point[0], point[1]).item()
        if not all(map(math.isfinite, (*here, value))) or max(map(abs, here)) > DIVERGE_BOUND:
            status = "diverged"
            break
        points.append(here)
        values.append(value)
        if converged_at is None and distance_to_minimum(surface, here) < CONVERGE_DISTANCE:
            converged_at = step
    if status != "diverged":
        if converged_at is not None:
            status = "converged"
        elif not surface.minima and not _inside(surface.box, points[-1]):
            status = "escaped"
    return OptPath(function, optimizer, lr, points, values, converged_at, status)


def compare(
    function: str, optimizers: list[str], lr: float | None = None, steps: int = DEFAULT_STEPS
) -> list[OptPath]:
    """Every optimizer from the surface's start; lr None means each optimizer's own default."""
    return [run_path(function, name, lr, steps) for name in optimizers]


def path_map(function: str, paths: list[OptPath], width: int = 60, height: int = 24) -> list[str]:
    """Contour shading by log(value − lowest + 1) over the view box, paths drawn with their letters.

    Later paths overwrite earlier ones where they share a cell; points outside the box are not drawn.
    The start is marked START_MARK and each minimum MINIMUM_MARK.
    """
    surface = FUNCTIONS[function]
    x_min, x_max, y_min, y_max = surface.box
    xs = torch.linspace(x_min, x_max, width, dtype=torch.float64)
    ys = torch.linspace(y_max, y_min, height, dtype=torch.float64)  # top row is the largest y
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    values = surface.fn(grid_x, grid_y)
    heights = torch.log1p(values - values.min())
    levels = (heights / heights.max().clamp(min=1e-12) * (len(SHADES) - 1)).round().long()
    rows = [[SHADES[level] for level in row] for row in levels.tolist()]

    def cell(point: tuple[float, float]) -> tuple[int, int] | None:
        if not _inside(surface.box, point):
            return None
        column = round((point[0] - x_min) / (x_max - x_min) * (width - 1))
        row = round((y_max - point[1]) / (y_max - y_min) * (height - 1))
        return row, column

    # Paths first, so the start and the minima stay visible on top of them.
    marks = [(p, PATH_OPTIMIZERS[path.optimizer].mark) for path in paths for p in path.points[1:]]
    marks += [(m, MINIMUM_MARK) for m in surface.minima] + [(surface.start, START_MARK)]
    for point, mark in marks:
        where = cell(point)
        if where is not None:
            rows[where[0]][where[1]] = mark
    return ["".join(row) for row in rows]
