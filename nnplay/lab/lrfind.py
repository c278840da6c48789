"""The learning-rate range test (Smith 2017, "Cyclical Learning Rates"; fastai's lr_find).

The experiment trains from its own initial weights (its seed, its init, its data, its optimizer,
L1 and L2) while the learning rate grows geometrically from `start` to `end`, one mini-batch per
rate. The loss of each batch, smoothed, drawn against the rate on a log axis shows three parts:
flat (too small to learn), falling (learning), rising (too large). The test stops early once the
smoothed loss is EXPLODED times its lowest, or a loss is not finite.

The suggestion is a tenth of the rate where the smoothed loss is lowest (fastai's "minimum"
rule): at the lowest point the rate is already at the edge where steps start to overshoot, and a
tenth of it is an order of magnitude inside that edge, still fast. The steepest-slope rule was
tried too and rejected: on a flat start the slope is noise, and it picked 1e-6 on six presets.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line's parser reads this module's numbers: it stays light
    from nnplay.experiment import Experiment

SWEEP_START, SWEEP_END, SWEEP_STEPS = 1e-6, 10.0, 100
LEAST_STEPS = 10  # fewer cannot show the three parts of the curve
SMOOTHING = 0.9  # the smoothed loss averages about the last 1 / (1 − 0.9) = 10 batches
EXPLODED = 4.0  # stop once the smoothed loss is this many times its lowest
LEAST_DROP = 0.05  # no suggestion unless the smoothed loss fell this share below its start
SUGGESTION_SHARE = 0.1  # the suggestion: this share of the rate with the lowest smoothed loss

# How a test ended, and the rule behind its suggestion (JSON keeps these words).
REACHED_END, EXPLODED_STOP, NOT_FINITE = "end", "exploded", "not finite"
INTERRUPTED = "interrupted"  # stop_when() said so (the app's screen was closed)
TENTH_OF_LOWEST, NO_DROP = "a tenth of the lowest", "no drop"


@dataclass
class RangeTest:
    start: float
    end: float
    steps: int  # asked for; lrs holds those taken
    lrs: list[float]
    losses: list[float]  # each batch's data loss at its rate (the last one may be not finite)
    # exponentially smoothed (debiased), one per loss up to the first not finite (or the one
    # whose step made the weights not finite)
    smoothed: list[float]
    stopped: str  # REACHED_END, EXPLODED_STOP or NOT_FINITE

    @property
    def lowest(self) -> int:
        """The index of the lowest smoothed loss (0 when there is none)."""
        return min(range(len(self.smoothed)), key=self.smoothed.__getitem__, default=0)

    @property
    def drop(self) -> float:
        """How far the smoothed loss fell below its start, as a share of the start."""
        if not self.smoothed or self.smoothed[0] <= 0:
            return 0.0
        return 1 - self.smoothed[self.lowest] / self.smoothed[0]

    @property
    def rule(self) -> str:
        return TENTH_OF_LOWEST if self.drop >= LEAST_DROP else NO_DROP

    @property
    def suggested(self) -> float | None:
        """Two significant digits: the number a learner types, and the one tested."""
        if self.rule == NO_DROP:
            return None
        return float(f"{self.lrs[self.lowest] * SUGGESTION_SHARE:.2g}")

    def drawn_losses(self) -> list[float | None]:
        """The batch losses a chart draws: None above the highest smoothed loss, so that an
        explosion's last batches do not flatten the rest of the curve."""
        top = max(self.smoothed, default=math.inf)
        return [loss if loss <= top else None for loss in self.losses]

    @property
    def lowest_at_end(self) -> bool:
        """The loss was still falling when the rates ran out: the edge lies beyond `end`."""
        return self.stopped == REACHED_END and self.lowest == len(self.smoothed) - 1

    def to_dict(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "steps": self.steps,
            "lrs": self.lrs,
            "losses": self.losses,
            "smoothed": self.smoothed,
            "smoothing": SMOOTHING,
            "stopped": self.stopped,
            "lowest": None
            if not self.smoothed
            else {"lr": self.lrs[self.lowest], "smoothed_loss": self.smoothed[self.lowest]},
            "drop": self.drop,
            "rule": self.rule,
            "suggested": self.suggested,
        }


def rates(start: float, end: float, steps: int) -> list[float]:
    """`steps` rates from `start` to `end`, each the one before times the same factor."""
    factor = (end / start) ** (1 / (steps - 1))
    return [start * factor**i for i in range(steps - 1)] + [end]


def sweep_experiment(exp: Experiment, steps: int) -> Experiment:
    """A copy of `exp` that trains `steps` batches without anything else changing the rate
    or ending the run: a constant schedule, no early stopping, epochs enough. The init and the
    data depend on none of these, so the weights start as a real run's."""
    from nnplay.training import steps_per_epoch

    out = exp.copy()
    t = out.training
    t.schedule, t.patience = "constant", 0
    t.epochs = max(t.epochs, math.ceil(steps / steps_per_epoch(out)) + 1)
    return out


def range_test(
    exp: Experiment,
    start: float = SWEEP_START,
    end: float = SWEEP_END,
    steps: int = SWEEP_STEPS,
    stop_when: Callable[[], bool] = lambda: False,
) -> RangeTest:
    """Run the test on a copy of `exp` (its own Trainer: the caller's is never touched).
    `stop_when` is asked before every step: the test then ends with what it has."""
    from nnplay.status import Status
    from nnplay.training import Trainer

    trainer = Trainer(sweep_experiment(exp, steps))
    test = RangeTest(start, end, steps, [], [], [], REACHED_END)
    average, lowest = 0.0, math.inf
    for lr in rates(start, end, steps):
        if stop_when():
            test.stopped = INTERRUPTED
            break
        trainer.set_lr(lr)
        loss = trainer.step()
        if loss is None:  # a diverged epoch end (weights not finite) ends the Trainer
            test.stopped = NOT_FINITE
            break
        test.lrs.append(lr)
        test.losses.append(loss)
        if not math.isfinite(loss) or trainer.status == Status.DIVERGED:
            test.stopped = NOT_FINITE
            break
        average = SMOOTHING * average + (1 - SMOOTHING) * loss
        smoothed = average / (1 - SMOOTHING ** len(test.losses))  # no pull toward the 0 start
        test.smoothed.append(smoothed)
        if smoothed > EXPLODED * lowest:
            test.stopped = EXPLODED_STOP
            break
        lowest = min(lowest, smoothed)
    return test
