"""Verify saved results: train each experiment file again and compare with its `[result]`.

UI-free. `read_recorded` reads one file as hostile input (its experiment and its result both
checked, its data found and unchanged, its training fitting in memory); `replays` trains the
files in compare's process pool, one per core, and `compared` says which fields differ.

Training is deterministic (every seed is in the experiment, one torch thread), so a replay on
the same machine gives the same numbers bit for bit. The metrics are computed in float32, and
another CPU may sum them in another order: they match within a relative TOLERANCE of a few
float32 roundings. Every other field must be equal, nnplay's version included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from nnplay.errors import ExperimentError
from nnplay.experiment import RESULT, Experiment, from_dict, with_data
from nnplay.i18n import _
from nnplay.memory import check_training_fits
from nnplay.results import GoalRecord, Result, result_from_table, result_of
from nnplay.untrusted import parse_toml, read_text, readable_file, shown

# float32 has a relative precision of 2**-23 (1.2e-7): 1e-6 is about 8 roundings, the last
# digits another CPU's summation order changes, while any number a person edits by hand (the
# app shows 4 decimals) or one sample more or less right (at least 1 / 200,000) is larger.
TOLERANCE = 1e-6
ABSOLUTE = 1e-12  # a metric of 0 (a perfect fit) against 1e-13


@dataclass(frozen=True)
class Recorded:
    """An experiment file read for verifying: its experiment and the result it records."""

    path: str
    exercise: str
    experiment: Experiment
    result: Result


@dataclass(frozen=True)
class Difference:
    field: str  # as --json names it: val_accuracy, goal.met
    recorded: Any
    replayed: Any


def read_recorded(name: str) -> Recorded:
    """The file `name` with its [result]; ExperimentError (naming the file) when it cannot be
    read, has no result, or what it holds is not allowed."""
    path = readable_file(name)
    where = shown(path, 300)
    data = parse_toml(read_text(path), where)
    try:
        exp = from_dict(data, path.parent)
        if RESULT not in data:
            raise ExperimentError(
                _(
                    "it has no [result] table; save one with s in the app, or with nnplay "
                    "train … --save FILE.toml"
                )
            )
        result = result_from_table(data[RESULT])
        exp = with_data(exp)
        check_training_fits(exp)
    except ExperimentError as e:
        raise ExperimentError(f"{where}: {e}") from None
    title = exp.meta.localized().title
    return Recorded(str(path), title or path.stem, exp, result)


def replays(recorded: list[Recorded]):
    """The files' replays: a ComparisonRun of compare's process pool (one worker per core),
    not started yet; every file fitting in memory with the others that train at once."""
    from nnplay.compare import ComparisonRun, Variant, check_comparison_fits

    variants = [Variant({}, r.experiment) for r in recorded]
    check_comparison_fits(variants)
    return ComparisonRun(variants)


def replayed(recorded: list[Recorded], comparison) -> list[Result]:
    """The result each file's experiment gave when trained again (a Comparison of replays)."""
    return [
        result_of(v.summary, r.experiment.task)
        for v, r in zip(comparison.variants, recorded, strict=True)
    ]


def flat(result: Result) -> dict[str, Any]:
    """The fields a replay must give again, as --json names them (goal.met …): all but the
    prediction, which is the learner's answer, not the run's."""
    out = {f.name: getattr(result, f.name) for f in fields(result)}
    del out["prediction"]
    goal = out.pop("goal")
    for g in fields(GoalRecord):
        out[f"goal.{g.name}"] = None if goal is None else getattr(goal, g.name)
    return out


def same(recorded: Any, replayed: Any) -> bool:
    """Equal; two floats within TOLERANCE."""
    if isinstance(recorded, float) and isinstance(replayed, float):
        return math.isclose(recorded, replayed, rel_tol=TOLERANCE, abs_tol=ABSOLUTE)
    return type(recorded) is type(replayed) and recorded == replayed


def compared(recorded: Result, replayed: Result) -> list[Difference]:
    """Every field whose recorded value a replay does not give, version first."""
    a, b = flat(recorded), flat(replayed)
    return [Difference(name, a[name], b[name]) for name in a if not same(a[name], b[name])]


def read_all(names: list[str]) -> tuple[list[Recorded], dict[str, str]]:
    """The files that can be read, and why each other one cannot (by its name as given)."""
    readable, unreadable = [], {}
    for name in names:
        try:
            readable.append(read_recorded(name))
        except ExperimentError as e:
            unreadable[name] = str(e)
    return readable, unreadable
