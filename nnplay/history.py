"""What a run records (History), what drivers show of it (Snapshot), and goal checks.

Plain data: no torch, so the UI and exporters can hold and copy it freely.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

TERMINAL_STATES = ("finished", "early_stopped", "diverged", "stopped")


@dataclass
class History:
    """One entry per finished epoch, plus the loss of every step."""

    epoch: list[int] = field(default_factory=list)
    step: list[int] = field(default_factory=list)  # steps done at the end of the epoch
    train_loss: list[float] = field(default_factory=list)  # data loss, eval mode, whole train set
    val_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float | None] = field(default_factory=list)  # None for regression
    val_accuracy: list[float | None] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)  # learning rate used during the epoch
    l1_penalty: list[float] = field(default_factory=list)  # lambda * sum|w| at the epoch's end
    grad_norms: list[dict[str, float]] = field(default_factory=list)  # per Linear layer
    step_loss: list[float] = field(default_factory=list)  # mini-batch data loss, every step

    def __len__(self) -> int:
        return len(self.epoch)

    def last(self, name: str):
        values = getattr(self, name)
        return values[-1] if values else None

    def truncate(self, epochs: int, steps: int) -> None:
        """Forget everything after `epochs` epochs and `steps` steps (a rollback)."""
        for f in fields(self):
            del getattr(self, f.name)[steps if f.name == "step_loss" else epochs:]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GoalResult:
    description: str
    met: bool
    reached_at_epoch: int | None
    best: float | None  # the best value of the metric within the budget

    def to_dict(self) -> dict:
        return {"description": self.description, "met": self.met,
                "reached_at_epoch": self.reached_at_epoch, "best": self.best}


def goal_result(goal, history: History) -> GoalResult | None:
    """Met when the metric reaches the threshold at any epoch within the budget."""
    if not goal.enabled:
        return None
    values = getattr(history, goal.metric)[: goal.epochs]
    finite = [v for v in values if v is not None]
    lower_is_better = goal.metric.endswith("loss")
    best = (min(finite) if lower_is_better else max(finite)) if finite else None
    reached = next((i + 1 for i, v in enumerate(values) if goal.is_met_by(v)), None)
    return GoalResult(goal.describe(), reached is not None, reached, best)


def thin(values: list, most: int) -> list:
    """At most `most` evenly spaced values, always keeping the last (charts draw a few hundred)."""
    if len(values) <= most:
        return list(values)
    stride = len(values) / most
    picked = [values[int(i * stride)] for i in range(most - 1)]
    return picked + [values[-1]]


@dataclass(frozen=True)
class Snapshot:
    """A compact, immutable picture of a run for the UI (sent ~10-20 times a second)."""

    status: str
    message: str
    epoch: int
    epochs: int  # planned
    step: int
    steps_per_epoch: int
    lr: float
    steps_per_second: float
    history: History  # a copy, with step_loss thinned
    grad_norms: dict[str, float]
