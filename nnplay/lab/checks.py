"""Checks of user input shared by the lab's command line and screens: each failure is one line
that names the field, the bad value and what is allowed."""

from __future__ import annotations

import math
from typing import overload

from nnplay.errors import ExperimentError
from nnplay.i18n import _, ngettext

MAX_STEPS = 10_000  # the most steps, samples or parameters a lab input may ask for
MAX_EXPLAIN_STEPS = 1_000_000  # steps `nnplay explain` may train before the step it explains
GRADCHECK_SAMPLES = 64  # a batch is enough to test the backward pass, and keeps wide nets fast
GRADCHECK_MAX_PARAMS = 50  # per tensor


def checked_count(value: int, field: str, most: int, least: int = 1) -> int:
    if not least <= value <= most:
        message = _("{field} {value} is out of range; allowed: {least}..{most}")
        raise ExperimentError(message.format(field=field, value=value, least=least, most=most))
    return value


@overload
def checked_lr(value: float, field: str = ...) -> float: ...
@overload
def checked_lr(value: None, field: str = ...) -> None: ...


def checked_lr(value: float | None, field: str = "--lr") -> float | None:
    """None stays None (each optimizer's default); otherwise a finite number > 0."""
    if value is not None and not (math.isfinite(value) and value > 0):
        message = _("{field} {value} is not allowed; the learning rate must be a number > 0")
        raise ExperimentError(message.format(field=field, value=f"{value:g}"))
    return value


def checked_rates(start: float, end: float, fields: tuple[str, str]) -> tuple[float, float]:
    """A range of learning rates: 0 < start < end <= the most a learning rate may be."""
    from nnplay.experiment import field_rule

    checked_lr(start, fields[0])
    checked_lr(end, fields[1])
    most = field_rule("training.lr")[0].high
    if end > most:
        message = _("{field} {value} is not allowed; a learning rate is at most {most}")
        raise ExperimentError(message.format(field=fields[1], value=f"{end:g}", most=f"{most:g}"))
    if start >= end:
        message = _("{field} {value} is not allowed; it must be less than {other} ({end})")
        raise ExperimentError(
            message.format(field=fields[0], value=f"{start:g}", other=fields[1], end=f"{end:g}")
        )
    return start, end


def checked_name(name: str, field: str, known) -> str:
    if name not in known:
        message = _("{field} {value} is not known; choose from {allowed}")
        raise ExperimentError(
            message.format(field=field, value=repr(name), allowed=", ".join(known))
        )
    return name


def checked_names(text: str, field: str, known) -> list[str]:
    """A comma-separated list of known names."""
    return [checked_name(name.strip(), field, known) for name in text.split(",")]


def parse_numbers(text: str, field: str, count: int) -> list[float]:
    """Exactly `count` comma-separated finite numbers."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        values = []
    if len(values) != count or not all(map(math.isfinite, values)):
        message = ngettext(
            "{field} {value} is not allowed; write one number",
            "{field} {value} is not allowed; write {count} numbers separated by commas",
            count,
        )
        raise ExperimentError(message.format(field=field, value=repr(text), count=count))
    return values


def parse_count(text: str, field: str, most: int, least: int = 1) -> int:
    """A whole number least..most, typed as text."""
    try:
        value = int(text)
    except ValueError:
        message = _("{field} {value} is not allowed; write a whole number {least}..{most}")
        raise ExperimentError(
            message.format(field=field, value=repr(text), least=least, most=most)
        ) from None
    return checked_count(value, field, most, least)
