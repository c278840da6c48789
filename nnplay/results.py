"""A run's result, saved beside its experiment as a `[result]` table, for a teacher to verify.

The result holds what `nnplay train --json` says of the weights kept (status, epochs, losses,
accuracies, the goal's verdict), nnplay's version, a SHA-256 of the data the network trained on
and, when the exercise asked one, the prediction the learner answered. A run replays exactly
from its experiment (every seed is in it, training uses one thread), so `nnplay verify` trains
the file again and compares (nnplay.verify).

A `[result]` is read as hostile input like every table: known fields only, each checked by its
rule. It is never part of the Experiment: training a file with one ignores it (a new run makes
a new result).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import tomli_w

from nnplay import __version__
from nnplay.csv_data import FLOAT32_MAX
from nnplay.errors import ExperimentError
from nnplay.experiment import RESULT, Experiment, TaskSpec, checked_value, to_dict
from nnplay.files import check_writable, write_atomic
from nnplay.i18n import _
from nnplay.rules import Choice, Digest, Flag, Number, Text, rule
from nnplay.status import Status
from nnplay.summary import RunSummary
from nnplay.tasks import make_datasets
from nnplay.untrusted import shown

ENDED = tuple(s.value for s in (Status.FINISHED, Status.EARLY_STOPPED, Status.DIVERGED))
MAX_EPOCHS = 100_000  # training.epochs' own bound


@dataclass(frozen=True)
class GoalRecord:
    """The goal's verdict, as `--json` names it (goal.met, goal.value, goal.epoch)."""

    met: bool = rule(Flag(), False, "whether the goal was met")
    value: float | None = rule(
        Number(-FLOAT32_MAX, FLOAT32_MAX), None, "the value it was judged on"
    )
    epoch: int | None = rule(Number(1, MAX_EPOCHS, integer=True), None, "the epoch judged")


@dataclass(frozen=True)
class Result:
    """What a run ended with; a metric is None (left out of the file) where there is none:
    accuracy on a regression task, a loss that was not finite."""

    version: str = rule(Text(40), "", "the nnplay that trained it")
    data_sha256: str = rule(Digest(), "", "SHA-256 of the data the network trained on")
    status: str = rule(Choice(ENDED), Status.FINISHED.value, "how the run ended")
    epochs: int = rule(Number(0, MAX_EPOCHS, integer=True), 0, "epochs run")
    weights_epoch: int = rule(
        Number(0, MAX_EPOCHS, integer=True), 0, "the epoch of the weights kept"
    )
    train_loss: float | None = rule(Number(0, FLOAT32_MAX), None, "of the weights kept")
    val_loss: float | None = rule(Number(0, FLOAT32_MAX), None, "of the weights kept")
    train_accuracy: float | None = rule(Number(0, 1), None, "of the weights kept")
    val_accuracy: float | None = rule(Number(0, 1), None, "of the weights kept")
    goal: GoalRecord | None = None  # only when the exercise has a goal
    prediction: str | None = rule(Text(200), None, "the prediction the learner answered")


# The fields a table must give (the others are left out where there is no value).
REQUIRED = {
    "Result": ("version", "data_sha256", "status", "epochs", "weights_epoch"),
    "GoalRecord": ("met",),
}
METRICS = ("train_loss", "val_loss", "train_accuracy", "val_accuracy")


def data_sha256(task: TaskSpec) -> str:
    """SHA-256 of the data a run trains on: a CSV task's file (its schema records it), else
    the generated arrays as the network sees them (float32 inputs, targets), each with its
    dtype and shape, training set then validation set."""
    if task.data:
        return task.schema.sha256
    digest = hashlib.sha256()
    for array in make_datasets(task):
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def result_of(summary: RunSummary, task: TaskSpec, prediction: str | None = None) -> Result:
    """The result of an ended run, from its summary (`nnplay train`'s, a comparison's)."""
    goal = summary.goal
    return Result(
        version=__version__,
        data_sha256=data_sha256(task),
        status=str(summary.status),
        epochs=summary.epochs,
        weights_epoch=summary.weights_epoch,
        **{name: getattr(summary, name) for name in METRICS},
        goal=None if goal is None else GoalRecord(goal.met, goal.value, goal.epoch),
        prediction=prediction,
    )


def to_table(result: Result) -> dict[str, Any]:
    """The `[result]` table: every field that has a value (TOML has no null)."""
    table: dict[str, Any] = {}
    for f in fields(result):
        value = getattr(result, f.name)
        if isinstance(value, GoalRecord):
            value = {g.name: getattr(value, g.name) for g in fields(value)}
            value = {k: v for k, v in value.items() if v is not None}
        if value is not None:
            table[f.name] = value
    return table


def save_with_result(exp: Experiment, result: Result, path: str | Path) -> Path:
    """Write `exp` as an experiment file with its `[result]` table."""
    path = Path(path).expanduser()
    check_writable(path)
    data = {**to_dict(exp), RESULT: to_table(result)}
    return write_atomic(path, tomli_w.dumps(data).encode())


def result_from_table(table: Any) -> Result:
    """A Result from a `[result]` table read from a file, checked field by field (its type,
    its range, no unknown field, the required ones present); ExperimentError names the
    field."""
    values = _checked_table(RESULT, Result, table)
    if "goal" in values:
        values["goal"] = GoalRecord(**_checked_table(f"{RESULT}.goal", GoalRecord, values["goal"]))
    return Result(**values)


def _checked_table(where: str, cls, table: Any) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ExperimentError(_("{section}: must be a table").format(section=where))
    known = [f.name for f in fields(cls)]
    unknown = next((key for key in table if key not in known), None)
    if unknown is not None:
        message = _("{field}: unknown field; allowed: {allowed}")
        raise ExperimentError(
            message.format(field=f"{where}.{shown(unknown)}", allowed=", ".join(known))
        )
    required = REQUIRED[cls.__name__]
    missing = next((name for name in required if name not in table), None)
    if missing is not None:
        message = _("{field}: missing; a result records {fields}")
        raise ExperimentError(
            message.format(field=f"{where}.{missing}", fields=", ".join(required))
        )
    values = {}
    for f in fields(cls):
        if f.name not in table:
            continue
        value = table[f.name]
        rule_of = f.metadata.get("rule")
        values[f.name] = (
            value if rule_of is None else checked_value(f"{where}.{f.name}", rule_of, value)
        )
    return values
