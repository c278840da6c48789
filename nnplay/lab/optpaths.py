"""Optimizer paths: torch's own optimizers walking 2-D functions from the same start.

Each run moves a 2-element tensor with a real torch optimizer and records the trajectory, the
step at which it converged (within TOLERANCE of a minimum), and whether it diverged. `render`
draws the function's contours in text with each path in its own letter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

TOLERANCE = 1e-3  # converged: within this distance of a minimum
DIVERGED_BEYOND = 1e6  # a coordinate this large (or not finite) has left for good


@dataclass(frozen=True)
class Function:
    title: str
    formula: Callable  # (x, y) tensors or floats -> value
    start: tuple[float, float]
    box: tuple[float, float, float, float]  # x_low, x_high, y_low, y_high for drawing
    minima: tuple[tuple[float, float], ...]  # empty: no minimum (a saddle)


FUNCTIONS: dict[str, Function] = {
    "bowl": Function("bowl x² + y²", lambda x, y: x**2 + y**2, (-3.0, 4.0), (-5, 5, -5, 5),
                     ((0.0, 0.0),)),
    "elongated": Function("elongated bowl 0.1x² + 2y²", lambda x, y: 0.1 * x**2 + 2 * y**2,
                          (-4.0, 2.0), (-5, 5, -3, 3), ((0.0, 0.0),)),
    "rosenbrock": Function("Rosenbrock (1 - x)² + 100(y - x²)²",
                           lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2, (-1.5, 2.0),
                           (-2, 2, -1, 3), ((1.0, 1.0),)),
    "saddle": Function("saddle x² - y²", lambda x, y: x**2 - y**2, (-3.0, 0.01),
                       (-4, 4, -4, 4), ()),
    "himmelblau": Function("Himmelblau (x² + y - 11)² + (x + y² - 7)²",
                           lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2, (0.0, 0.0),
                           (-5, 5, -5, 5),
                           ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                            (3.584428, -1.848126))),
}


@dataclass(frozen=True)
class Optimizer:
    title: str
    build: Callable  # (params, lr) -> torch optimizer
    default_lr: float  # converges on the bowl within 200 steps


def _sgd(params, lr):
    from torch import optim

    return optim.SGD(params, lr=lr)


def _momentum(params, lr):
    from torch import optim

    return optim.SGD(params, lr=lr, momentum=0.9)


def _adagrad(params, lr):
    from torch import optim

    return optim.Adagrad(params, lr=lr)


def _rmsprop(params, lr):
    from torch import optim

    return optim.RMSprop(params, lr=lr, alpha=0.99)


def _adam(params, lr):
    from torch import optim

    return optim.Adam(params, lr=lr)


OPTIMIZERS: dict[str, Optimizer] = {
    "sgd": Optimizer("SGD", _sgd, 0.1),
    "momentum": Optimizer("SGD + momentum 0.9", _momentum, 0.05),
    "adagrad": Optimizer("AdaGrad", _adagrad, 1.5),
    "rmsprop": Optimizer("RMSprop", _rmsprop, 0.1),
    "adam": Optimizer("Adam", _adam, 0.3),
}


@dataclass(frozen=True)
class Path:
    optimizer: str
    lr: float
    points: list[tuple[float, float]]  # start first
    converged_at: int | None  # first step within TOLERANCE of a minimum
    diverged: bool

    @property
    def final(self) -> tuple[float, float]:
        return self.points[-1]

    def to_dict(self, function: Function) -> dict:
        return {"optimizer": self.optimizer, "lr": self.lr, "converged_at": self.converged_at,
                "diverged": self.diverged, "final_point": list(self.final),
                "final_value": function.formula(*self.final), "steps": len(self.points) - 1}


def run_path(function: str, optimizer: str, lr: float | None = None, steps: int = 200) -> Path:
    import torch

    f, opt_spec = FUNCTIONS[function], OPTIMIZERS[optimizer]
    lr = opt_spec.default_lr if lr is None else lr
    point = torch.tensor(f.start, dtype=torch.float64, requires_grad=True)
    opt = opt_spec.build([point], lr)
    points, converged_at, diverged = [f.start], None, False
    for step in range(1, steps + 1):
        opt.zero_grad()
        f.formula(point[0], point[1]).backward()
        opt.step()
        x, y = point.tolist()
        if not (math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) > DIVERGED_BEYOND:
            diverged = True
            break
        points.append((x, y))
        if converged_at is None and _near_minimum(f, x, y):
            converged_at = step
    return Path(optimizer, lr, points, converged_at, diverged)


def _near_minimum(f: Function, x: float, y: float) -> bool:
    return any(math.hypot(x - mx, y - my) < TOLERANCE for mx, my in f.minima)


SHADES = " .:-=+*#%@"  # low to high values
MARKS = "SMGRA"  # one letter per optimizer, in OPTIMIZERS order


def mark_of(optimizer: str) -> str:
    return MARKS[list(OPTIMIZERS).index(optimizer)]


def render(function: str, paths: list[Path], cols: int = 60, rows: int = 24) -> list[str]:
    """The contour map as text lines (log-scaled shading), each path drawn with its letter,
    minima as 'o'. Points outside the box are not drawn."""
    f = FUNCTIONS[function]
    x_low, x_high, y_low, y_high = f.box
    xs = [x_low + (x_high - x_low) * c / (cols - 1) for c in range(cols)]
    ys = [y_high - (y_high - y_low) * r / (rows - 1) for r in range(rows)]
    values = [[f.formula(x, y) for x in xs] for y in ys]
    low = min(min(row) for row in values)
    shift = 1 - low  # log needs positive values; the saddle goes negative
    logs = [[math.log(v + shift) for v in row] for row in values]
    top = max(max(row) for row in logs)
    grid = [[SHADES[min(int(v / top * len(SHADES)), len(SHADES) - 1)] if top > 0 else " "
             for v in row] for row in logs]

    def put(x, y, char):
        c = round((x - x_low) / (x_high - x_low) * (cols - 1))
        r = round((y_high - y) / (y_high - y_low) * (rows - 1))
        if 0 <= c < cols and 0 <= r < rows:
            grid[r][c] = char

    for mx, my in f.minima:
        put(mx, my, "o")
    for path in paths:
        for x, y in path.points:
            put(x, y, mark_of(path.optimizer).lower())
        put(*path.points[0], "X")
        put(*path.final, mark_of(path.optimizer))
    return ["".join(row) for row in grid]


def table(paths: list[Path]) -> list[str]:
    """One line per path: its letter, optimizer, lr, when it converged, where it ended."""
    rows = [f"{'':3}{'optimizer':<20}{'lr':>8}  {'converged':>12}  final point"]
    for p in paths:
        state = "diverged" if p.diverged else (f"step {p.converged_at}" if p.converged_at
                                                else "not yet")
        rows.append(f"{mark_of(p.optimizer):<3}{OPTIMIZERS[p.optimizer].title:<20}{p.lr:>8g}  "
                    f"{state:>12}  ({p.final[0]:.4g}, {p.final[1]:.4g})")
    return rows
