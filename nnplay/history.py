"""What a run records (History), what drivers show of it (Snapshot), and goal checks.

Plain data: no torch, so the UI and exporters can hold and copy it freely.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from itertools import pairwise

from nnplay.status import Status


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

    def copy(self) -> History:
        """A copy whose lists the Trainer can go on appending to without touching it."""
        return History(**{f.name: list(getattr(self, f.name)) for f in fields(self)})

    def to_dict(self) -> dict:
        return asdict(self)

    def upto(self, epoch: int) -> History:
        """A copy of the record as it was at the end of `epoch`."""
        steps = self.step[epoch - 1] if epoch else 0
        cut = {f.name: list(getattr(self, f.name)[:epoch]) for f in fields(self)}
        return History(**{**cut, "step_loss": list(self.step_loss[:steps])})


@dataclass(frozen=True)
class GoalResult:
    description: str
    met: bool
    epoch: int | None  # the epoch judged: the final weights' epoch, capped at the budget
    value: float | None  # the metric at that epoch
    reached_at_epoch: int | None  # the first epoch within the budget that met the threshold

    def to_dict(self) -> dict:
        return {
            "description": self.description,
            "met": self.met,
            "epoch": self.epoch,
            "value": self.value,
            "reached_at_epoch": self.reached_at_epoch,
        }


def goal_result(goal, history: History, weights_epoch: int | None = None) -> GoalResult | None:
    """Judge the model the run ends with (or had at the budget's end), not its best moment:
    an overfitting run that was good at epoch 5 and bad at epoch 50 does not meet its goal.
    `weights_epoch` is the epoch the final weights come from (early stopping restores one)."""
    if not goal.enabled:
        return None
    values = getattr(history, goal.metric)[: goal.epochs]
    reached = next((i + 1 for i, v in enumerate(values) if goal.is_met_by(v)), None)
    epoch = min(weights_epoch if weights_epoch is not None else len(history), goal.epochs)
    value = values[epoch - 1] if epoch >= 1 else None
    return GoalResult(goal.describe(), goal.is_met_by(value), epoch or None, value, reached)


def thin(values: list, most: int) -> list:
    """At most `most` evenly spaced values, always keeping the last (charts draw a few hundred)."""
    if len(values) <= most:
        return list(values)
    stride = len(values) / most
    picked = [values[int(i * stride)] for i in range(most - 1)]
    return picked + [values[-1]]


def bucket_means(values: list[float], most: int) -> list[float]:
    """At most `most` values, each the mean of a run of neighbours: a noisy per-step curve
    becomes a readable one. Short lists come back unchanged."""
    if len(values) <= most:
        return list(values)
    edges = [round(i * len(values) / most) for i in range(most + 1)]
    return [sum(values[a:b]) / (b - a) for a, b in pairwise(edges)]


@dataclass(frozen=True)
class Snapshot:
    """A compact, immutable picture of a run for the UI (sent ~10-20 times a second)."""

    status: Status
    message: str
    epoch: int
    epochs: int  # planned
    step: int
    steps_per_epoch: int
    lr: float
    steps_per_second: float
    history: History  # a copy, with step_loss averaged down to a few hundred points
    grad_norms: dict[str, float]
    batch_loss: float | None = None  # the loss of the last mini-batch taken (not averaged)
