"""The one summary of a run, for `train`, `compare`, `--json`, the app's status line and the
comparison table alike.

Its numbers are those of the weights the run keeps: after early stopping or divergence, an
earlier epoch's (`weights_epoch`), since those are what exports hold and what the goal judges.
The goal's own value and epoch travel with its verdict, so a verdict is never printed beside a
number it was not judged on. Findings (lab/diagnostics) say what went wrong and how to fix it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from nnplay.history import GoalResult
from nnplay.i18n import _
from nnplay.status import Status

METRICS = ("train_loss", "val_loss", "train_accuracy", "val_accuracy")


def finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class RunSummary:
    status: Status  # the trainer's
    epochs: int  # epochs run
    weights_epoch: int  # the epoch the kept weights come from (0: the initial ones)
    train_loss: float | None  # of the kept weights; None where not finite
    val_loss: float | None
    train_accuracy: float | None  # None for regression
    val_accuracy: float | None
    goal: GoalResult | None
    findings: list[dict] = field(default_factory=list)  # [{"kind": ..., "message": ...}]

    def kept_note(self) -> str:
        """Which weights the numbers are of, when not the last epoch's ("" when they are)."""
        if self.weights_epoch == self.epochs:
            return ""
        if self.weights_epoch == 0:
            return _("(the initial weights)")
        return _("(the weights of epoch {epoch})").format(epoch=self.weights_epoch)

    def goal_words(self) -> str:
        """The verdict with the value it was judged on: "met (value 0.3865, epoch 8)"."""
        if self.goal is None:
            return "-"
        verdict = _("met") if self.goal.met else _("not met")
        if self.goal.value is None:
            return verdict
        return _("{verdict} (value {value}, epoch {epoch})").format(
            verdict=verdict, value=f"{self.goal.value:.4g}", epoch=self.goal.epoch
        )

    def to_dict(self) -> dict:
        """The JSON shape shared by `nnplay train --json` and each variant of `compare --json`."""
        goal = self.goal
        return {
            "status": self.status,
            "epochs": self.epochs,
            "weights_epoch": self.weights_epoch,
            **{name: getattr(self, name) for name in METRICS},
            "goal": None
            if goal is None
            else {
                "description": goal.description,
                "met": goal.met,
                "value": finite(goal.value),
                "epoch": goal.epoch,
            },
            "findings": list(self.findings),
        }


def final_test_fields(trainer) -> dict:
    """What `nnplay train --json` says of the held-out test set, measured once when the run is
    over: its loss and accuracy (null without a test set; the accuracy null for a regression)."""
    measured = trainer.test_metrics()
    if measured is None:
        return {"test_loss": None, "test_accuracy": None}
    return {"test_loss": finite(measured["test_loss"]), "test_accuracy": measured["test_accuracy"]}


def final_test_words(fields: dict) -> str:
    """The test set's result in one line ("" without one): clearly measured once, at the end."""
    if fields["test_loss"] is None and fields["test_accuracy"] is None:
        return ""
    loss = "-" if fields["test_loss"] is None else f"{fields['test_loss']:.4f}"
    if fields["test_accuracy"] is None:
        return _("test set, measured once at the end: loss {loss}").format(loss=loss)
    return _("test set, measured once at the end: loss {loss}, accuracy {accuracy}").format(
        loss=loss, accuracy=f"{fields['test_accuracy']:.4f}"
    )


def summarize(trainer, findings: list | None = None) -> RunSummary:
    """The summary of a Trainer as it stands (ended or not); `findings` when the caller has
    diagnosed it already (the app shows them too), else they are diagnosed here."""
    from nnplay.lab.diagnostics import diagnose_trainer  # torch: where a run exists anyway

    kept = trainer.kept_metrics()
    if findings is None:
        findings = diagnose_trainer(trainer) if trainer.steps else []
    found = [f.to_summary() for f in findings]
    return RunSummary(
        trainer.status,
        trainer.epoch,
        trainer.weights_epoch,
        finite(kept["train_loss"]),
        finite(kept["val_loss"]),
        kept["train_accuracy"],
        kept["val_accuracy"],
        trainer.goal(),
        found,
    )
