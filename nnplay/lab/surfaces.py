"""The optimizer-paths registries: 2-D functions and the optimizers that walk them, as plain data.

PATH_OPTIMIZERS is the lab's own list (with letters and colours); each function carries its own
default learning rates and step count. The optimizers a network trains with are
nnplay.registry.OPTIMIZERS.

Nothing here imports torch, so the command line can list the names without the two-second import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Surface:
    name: str
    formula: str
    fn: Callable  # f(x, y) with arithmetic operators only: works on tensors, grids and floats
    start: tuple[float, float]
    box: tuple[float, float, float, float]  # x_min, x_max, y_min, y_max
    minima: tuple[tuple[float, float], ...]
    # Each optimizer's default learning rate here, measured so that its path ends within
    # `tolerance` of a minimum in `steps` steps (tests/lab/test_optpaths.py holds every one).
    rates: dict[str, float]
    steps: int = 200
    tolerance: float = 1e-3  # how near a minimum a path must end to have converged


FUNCTIONS: dict[str, Surface] = {
    s.name: s
    for s in (
        Surface(
            "bowl",
            "x² + y²",
            lambda x, y: x**2 + y**2,
            (-3.0, 4.0),
            (-5.0, 5.0, -5.0, 5.0),
            ((0.0, 0.0),),
            {"sgd": 0.1, "momentum": 0.05, "adagrad": 1.5, "rmsprop": 0.1, "adam": 0.3},
        ),
        # The tutorials' optimizer comparison: 20× steeper across y than along x.
        Surface(
            "elongated",
            "x²/20 + y²",
            lambda x, y: x**2 / 20 + y**2,
            (-7.0, 2.0),
            (-10.0, 10.0, -5.0, 5.0),
            ((0.0, 0.0),),
            # Plain SGD needs a rate that zig-zags across y to crawl along x in time.
            {"sgd": 0.9, "momentum": 0.1, "adagrad": 2.0, "rmsprop": 0.2, "adam": 0.3},
        ),
        Surface(
            "rosenbrock",
            "(1 − x)² + 100(y − x²)²",
            lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
            (-1.5, 2.0),
            (-2.0, 2.0, -1.0, 3.0),
            ((1.0, 1.0),),
            # The valley floor is nearly flat and its walls 2500 times steeper: SGD is unstable
            # above 2/1001.6 ≈ 0.002 at the minimum, so every optimizer needs thousands of steps.
            {"sgd": 0.00195, "momentum": 0.0015, "adagrad": 1.75, "rmsprop": 0.0025, "adam": 0.05},
            steps=6000,
            tolerance=0.01,
        ),
        # Starts just off the ridge: the tiny y-gradient grows until the path slides off.
        Surface(
            "saddle",
            "x² − y²",
            lambda x, y: x**2 - y**2,
            (-4.0, 0.01),
            (-5.0, 5.0, -5.0, 5.0),
            (),
            # No minimum to converge to: the bowl's rates show the slide off the ridge.
            {"sgd": 0.1, "momentum": 0.05, "adagrad": 1.5, "rmsprop": 0.1, "adam": 0.3},
        ),
        Surface(
            "himmelblau",
            "(x² + y − 11)² + (x + y² − 7)²",
            lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
            (0.0, 0.0),
            (-5.0, 5.0, -5.0, 5.0),
            ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
            {"sgd": 0.01, "momentum": 0.005, "adagrad": 1.0, "rmsprop": 0.1, "adam": 0.3},
        ),
    )
}


@dataclass(frozen=True)
class OptimizerKind:
    name: str
    mark: str  # the letter its path is drawn with
    colour: str  # its path's colour in the app: bright, to read on the dark shading
    torch_class: str  # the class in torch.optim
    options: dict = field(default_factory=dict)  # besides the lr


PATH_OPTIMIZERS: dict[str, OptimizerKind] = {
    o.name: o
    for o in (
        OptimizerKind("sgd", "S", "bright_red", "SGD"),
        OptimizerKind("momentum", "M", "bright_yellow", "SGD", {"momentum": 0.9}),
        OptimizerKind("adagrad", "G", "bright_green", "Adagrad"),
        OptimizerKind("rmsprop", "R", "bright_cyan", "RMSprop", {"alpha": 0.99}),
        OptimizerKind("adam", "A", "bright_magenta", "Adam"),
    )
}
