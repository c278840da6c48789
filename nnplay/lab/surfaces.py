"""The optimizer-paths registries: 2-D functions and the optimizers that walk them, as plain data.

PATH_OPTIMIZERS is the lab's own list (with letters, colours and default learning rates); the
optimizers a network trains with are nnplay.registry.OPTIMIZERS.

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
        ),
        # The tutorials' optimizer comparison: 20× steeper across y than along x.
        Surface(
            "elongated",
            "x²/20 + y²",
            lambda x, y: x**2 / 20 + y**2,
            (-7.0, 2.0),
            (-10.0, 10.0, -5.0, 5.0),
            ((0.0, 0.0),),
        ),
        Surface(
            "rosenbrock",
            "(1 − x)² + 100(y − x²)²",
            lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
            (-1.5, 2.0),
            (-2.0, 2.0, -1.0, 3.0),
            ((1.0, 1.0),),
        ),
        # Starts just off the ridge: the tiny y-gradient grows until the path slides off.
        Surface(
            "saddle", "x² − y²", lambda x, y: x**2 - y**2, (-4.0, 0.01), (-5.0, 5.0, -5.0, 5.0), ()
        ),
        Surface(
            "himmelblau",
            "(x² + y − 11)² + (x + y² − 7)²",
            lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
            (0.0, 0.0),
            (-5.0, 5.0, -5.0, 5.0),
            ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
        ),
    )
}


@dataclass(frozen=True)
class OptimizerKind:
    name: str
    mark: str  # the letter its path is drawn with
    colour: str
    default_lr: float
    torch_class: str  # the class in torch.optim
    options: dict = field(default_factory=dict)  # besides the lr


# Default learning rates: each converges on the bowl within DEFAULT_STEPS (sgd 39 steps, momentum 83,
# adagrad 25, rmsprop 44, adam 148); all but sgd also on the elongated bowl, where plain SGD crawls
# along the flat x axis. The rosenbrock valley needs smaller rates and thousands of steps.
PATH_OPTIMIZERS: dict[str, OptimizerKind] = {
    o.name: o
    for o in (
        OptimizerKind("sgd", "S", "red", 0.1, "SGD"),
        OptimizerKind("momentum", "M", "yellow", 0.05, "SGD", {"momentum": 0.9}),
        OptimizerKind("adagrad", "G", "green", 1.5, "Adagrad"),
        OptimizerKind("rmsprop", "R", "cyan", 0.1, "RMSprop", {"alpha": 0.99}),
        OptimizerKind("adam", "A", "magenta", 0.3, "Adam"),
    )
}

DEFAULT_STEPS = 200
