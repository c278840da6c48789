"""Optimizer paths: torch's own optimizers walking a 2-D function from the same start.

A path has converged at the first step whose point lies within CONVERGE_DISTANCE of a minimum
(the nearest one, for several). A function without a minimum (the saddle) never converges: its
path either stays in the view box ("not converged") or leaves it ("escaped"). A path stops early
as "diverged" when the point or value becomes non-finite or the point leaves DIVERGE_BOUND.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

CONVERGE_DISTANCE = 1e-3
DIVERGE_BOUND = 1e6
SHADES = " .:-=+*#%@"  # low → high log-value; no letters, so optimizer marks stand out
MINIMUM_MARK = "o"
START_MARK = "x"


@dataclass(frozen=True)
class Surface:
    name: str
    formula: str
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # works on scalars and on grids
    start: tuple[float, float]
    box: tuple[float, float, float, float]  # x_min, x_max, y_min, y_max
    minima: tuple[tuple[float, float], ...]


FUNCTIONS: dict[str, Surface] = {s.name: s for s in (
    Surface("bowl", "x² + y²", lambda x, y: x**2 + y**2,
            (-3.0, 4.0), (-5.0, 5.0, -5.0, 5.0), ((0.0, 0.0),)),
    # The tutorials' optimizer comparison: 20× steeper across y than along x.
    Surface("elongated", "x²/20 + y²", lambda x, y: x**2 / 20 + y**2,
            (-7.0, 2.0), (-10.0, 10.0, -5.0, 5.0), ((0.0, 0.0),)),
    Surface("rosenbrock", "(1 − x)² + 100(y − x²)²", lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
            (-1.5, 2.0), (-2.0, 2.0, -1.0, 3.0), ((1.0, 1.0),)),
    # Starts just off the ridge: the tiny y-gradient grows until the path slides off.
    Surface("saddle", "x² − y²", lambda x, y: x**2 - y**2,
            (-4.0, 0.01), (-5.0, 5.0, -5.0, 5.0), ()),
    Surface("himmelblau", "(x² + y − 11)² + (x + y² − 7)²",
            lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
            (0.0, 0.0), (-5.0, 5.0, -5.0, 5.0),
            ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126))),
)}


@dataclass(frozen=True)
class OptimizerKind:
    name: str
    mark: str  # the letter its path is drawn with
    colour: str
    default_lr: float
    build: Callable[[list[torch.Tensor], float], torch.optim.Optimizer]


# Default learning rates: each converges on the bowl within DEFAULT_STEPS (sgd 39 steps, momentum 83,
# adagrad 25, rmsprop 44, adam 148); all but sgd also on the elongated bowl, where plain SGD crawls
# along the flat x axis. The rosenbrock valley needs smaller rates and thousands of steps.
OPTIMIZERS: dict[str, OptimizerKind] = {o.name: o for o in (
    OptimizerKind("sgd", "S", "red", 0.1, lambda p, lr: torch.optim.SGD(p, lr=lr)),
    OptimizerKind("momentum", "M", "yellow", 0.05,
                  lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9)),
    OptimizerKind("adagrad", "G", "green", 1.5, lambda p, lr: torch.optim.Adagrad(p, lr=lr)),
    OptimizerKind("rmsprop", "R", "cyan", 0.1, lambda p, lr: torch.optim.RMSprop(p, lr=lr, alpha=0.99)),
    OptimizerKind("adam", "A", "magenta", 0.3, lambda p, lr: torch.optim.Adam(p, lr=lr)),
)}

DEFAULT_STEPS = 200


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
        return {"function": self.function, "optimizer": self.optimizer, "lr": self.lr,
                "steps_to_converge": self.steps_to_converge, "status": self.status,
                "diverged": self.diverged, "final_point": list(self.final_point),
                "final_value": self.final_value, "points": [list(p) for p in self.points]}


def distance_to_minimum(surface: Surface, point: tuple[float, float]) -> float:
    return min((math.dist(point, m) for m in surface.minima), default=math.inf)


def _inside(box: tuple[float, float, float, float], point: tuple[float, float]) -> bool:
    x_min, x_max, y_min, y_max = box
    return x_min <= point[0] <= x_max and y_min <= point[1] <= y_max


def run_path(function: str, optimizer: str, lr: float | None = None,
             steps: int = DEFAULT_STEPS, start: tuple[float, float] | None = None) -> OptPath:
    """Walk `steps` optimizer steps on the surface (fewer if the path diverges)."""
    surface, kind = FUNCTIONS[function], OPTIMIZERS[optimizer]
    lr = kind.default_lr if lr is None else lr
    point = torch.tensor(start or surface.start, dtype=torch.float64, requires_grad=True)
    opt = kind.build([point], lr)
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


def compare(function: str, optimizers: list[str], lr: float | None = None,
            steps: int = DEFAULT_STEPS) -> list[OptPath]:
    """Every optimizer from the surface's start; lr None means each optimizer's own default."""
    return [run_path(function, name, lr, steps) for name in optimizers]


def render_map(function: str, paths: list[OptPath], width: int = 60, height: int = 24) -> list[str]:
    """Contour shading by log(value − lowest + 1) over the view box, paths drawn with their letters.

    Later paths overwrite earlier ones where they share a cell; points outside the box are not drawn.
    The start is marked START_MARK and each minimum MINIMUM_MARK.
    """
    surface = FUNCTIONS[function]
    x_min, x_max, y_min, y_max = surface.box
    xs = torch.linspace(x_min, x_max, width, dtype=torch.float64)
    ys = torch.linspace(y_max, y_min, height, dtype=torch.float64)  # top row is the largest y
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    heights = torch.log1p(surface.fn(grid_x, grid_y) - surface.fn(grid_x, grid_y).min())
    levels = (heights / heights.max().clamp(min=1e-12) * (len(SHADES) - 1)).round().long()
    rows = [[SHADES[level] for level in row] for row in levels.tolist()]

    def cell(point: tuple[float, float]) -> tuple[int, int] | None:
        if not _inside(surface.box, point):
            return None
        column = round((point[0] - x_min) / (x_max - x_min) * (width - 1))
        row = round((y_max - point[1]) / (y_max - y_min) * (height - 1))
        return row, column

    # Paths first, so the start and the minima stay visible on top of them.
    marks = [(p, OPTIMIZERS[path.optimizer].mark) for path in paths for p in path.points[1:]]
    marks += [(m, MINIMUM_MARK) for m in surface.minima] + [(surface.start, START_MARK)]
    for point, mark in marks:
        where = cell(point)
        if where is not None:
            rows[where[0]][where[1]] = mark
    return ["".join(row) for row in rows]
