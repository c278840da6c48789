"""What a run records (History), what drivers show of it (Snapshot), and goal checks.

Plain data: no torch, so the UI and exporters can hold and copy it freely.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

from nnplay.status import Status

STEP_BUCKETS = 2048  # the most step-loss means a History keeps, whatever the run's length


@dataclass
class StepLosses:
    """The mini-batch loss of every step, in bounded memory: means of `width` neighbouring
    steps, the width doubling (neighbours merged) whenever STEP_BUCKETS means are full, and the
    steps of the bucket being filled as their sum. The first STEP_BUCKETS steps are kept one by
    one; a run of a million steps keeps means of 512. The means are the same however often a
    run stops and continues (a run file keeps the sum as it is)."""

    width: int = 1
    means: list[float] = field(default_factory=list)
    tail_sum: float = 0.0
    tail_count: int = 0  # steps in the bucket being filled, fewer than `width`
    last: float | None = None  # the latest step's loss, as it was

    def __len__(self) -> int:
        """The steps recorded."""
        return len(self.means) * self.width + self.tail_count

    def append(self, loss: float) -> None:
        self.last = loss
        self.tail_sum += loss
        self.tail_count += 1
        if self.tail_count == self.width:
            self.means.append(self.tail_sum / self.width)
            self.tail_sum, self.tail_count = 0.0, 0
            if len(self.means) == STEP_BUCKETS:
                self.means, self.width = _pair_means(self.means), 2 * self.width

    def copy(self) -> StepLosses:
        return replace(self, means=list(self.means))

    def coarsened(self, most: int) -> StepLosses:
        """The same record in at most `most` means (a chart's points): neighbours merged, an odd
        one out going to the bucket being filled."""
        out = self.copy()
        while len(out.means) > most:
            if len(out.means) % 2:
                out.tail_sum += out.means.pop() * out.width
                out.tail_count += out.width
            out.means, out.width = _pair_means(out.means), 2 * out.width
        return out

    def upto(self, steps: int) -> StepLosses:
        """The record as it was after `steps` steps. A bucket that those steps end inside is
        taken at its mean: exact for the first STEP_BUCKETS steps, a chart's likeness after."""
        steps = min(steps, len(self))
        full, part = divmod(steps, self.width)
        means = self.means[:full]
        cut = self.means[full] if full < len(self.means) else self.tail_mean()
        last = cut if part else (means[-1] if means else None)
        return StepLosses(self.width, means, (cut or 0.0) * part, part, last)

    def tail_mean(self) -> float | None:
        return self.tail_sum / self.tail_count if self.tail_count else None

    def points(self) -> tuple[list[float], list[float]]:
        """(step, mean loss) of each bucket, at its middle step (steps count from 1); the bucket
        being filled too."""
        w = self.width
        steps = [i * w + (w + 1) / 2 for i in range(len(self.means))]
        values = list(self.means)
        tail = self.tail_mean()
        if tail is not None:
            steps.append(len(self.means) * w + (self.tail_count + 1) / 2)
            values.append(tail)
        return steps, values


def _pair_means(values: list[float]) -> list[float]:
    return [(a + b) / 2 for a, b in zip(values[::2], values[1::2], strict=True)]


@dataclass
class History:
    """One entry per finished epoch, plus the loss of every step (bounded: StepLosses)."""

    epoch: list[int] = field(default_factory=list)
    step: list[int] = field(default_factory=list)  # steps done at the end of the epoch
    train_loss: list[float] = field(default_factory=list)  # data loss, eval mode, whole train set
    val_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float | None] = field(default_factory=list)  # None for regression
    val_accuracy: list[float | None] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)  # learning rate used during the epoch
    l1_penalty: list[float] = field(default_factory=list)  # lambda * sum|w| at the epoch's end
    grad_norms: list[dict[str, float]] = field(default_factory=list)  # per Linear layer
    step_loss: StepLosses = field(default_factory=StepLosses)  # mini-batch data loss

    def __len__(self) -> int:
        return len(self.epoch)

    def last(self, name: str):
        values = getattr(self, name)
        return values[-1] if values else None

    def epoch_lists(self) -> list[str]:
        """The names of the lists with one entry an epoch."""
        return [f.name for f in fields(self) if f.name != "step_loss"]

    def copy(self) -> History:
        """A copy whose lists the Trainer can go on appending to without touching it."""
        lists = {name: list(getattr(self, name)) for name in self.epoch_lists()}
        return History(**lists, step_loss=self.step_loss.copy())

    def to_dict(self) -> dict:
        return asdict(self)

    def upto(self, epoch: int) -> History:
        """A copy of the record as it was at the end of `epoch`."""
        steps = self.step[epoch - 1] if epoch else 0
        cut = {name: list(getattr(self, name)[:epoch]) for name in self.epoch_lists()}
        return History(**cut, step_loss=self.step_loss.upto(steps))


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
    history: History  # a copy, its step losses merged down to a few hundred points
    grad_norms: dict[str, float]
    batch_loss: float | None = None  # the loss of the last mini-batch taken (not averaged)
