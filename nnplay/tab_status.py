"""What a browser tab's app tells `nnplay serve` about its run, for the teacher's page.

The app writes a TabStatus as one of Textual's web-driver meta packets on its stdout, beside its
screen, at most once a second and only when it changed (`StatusReporter`); the server reads it
with `read_status`, as it reads anything from a tab: bounded in size, every field checked, and
anything else dropped. Only a served app reports: a terminal app builds no reporter.

A field is added here, in TabStatus, with one of the types in CHECKS (and a column on the page).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, fields
from typing import Any

from nnplay.status import Status
from nnplay.untrusted import MAX_NESTING, nesting, shown

REPORT_EVERY = 1.0  # seconds between a served app's looks at its run (a report only on change)
KIND = "nnplay_status"  # the meta packet's "type"; textual-serve ignores types it does not know
MAX_BYTES = 4096  # one report: two texts of 200 characters (4 bytes each at most), numbers
MAX_TEXT = 200  # characters of any text in a report
MAX_EPOCH = 10**9
BEST_METRICS = ("val_accuracy", "val_loss")  # the best validation metric, as --json names it


@dataclass(frozen=True)
class TabStatus:
    exercise: str  # the title of the exercise loaded (or its file's name)
    status: str  # a Status value
    epoch: int
    metric: str | None  # val_accuracy (classification) or val_loss (regression); None: no epoch
    best: float | None  # its best value so far
    goal_met: bool | None  # None: the exercise has no goal
    prediction: str | None = None  # the learner's answer, when the exercise asks for one

    def packet(self) -> bytes:
        """The web driver's meta packet: "M", a 4-byte length, the JSON (texts cut short)."""
        values = {k: v[:MAX_TEXT] if isinstance(v, str) else v for k, v in asdict(self).items()}
        message = json.dumps({"type": KIND, **values}, ensure_ascii=False)
        payload = message.encode("utf-8", "replace")  # a lone surrogate becomes "?"
        return b"M" + len(payload).to_bytes(4, "big") + payload


def best_validation(val_accuracy: list, val_loss: list) -> tuple[str | None, float | None]:
    """The best validation accuracy of a classification run so far, else its lowest validation
    loss; (None, None) before the first epoch. Values that are not finite do not count."""
    for name, values, pick in (("val_accuracy", val_accuracy, max), ("val_loss", val_loss, min)):
        finite = [v for v in values if v is not None and math.isfinite(v)]
        if finite:
            return name, float(pick(finite))
    return None, None


class StatusReporter:
    """Writes the app's TabStatus to the server (the web driver's stdout) when it changed."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.last: TabStatus | None = None

    def report(self, status: TabStatus) -> None:
        if status != self.last:
            # Called on the UI thread, which writes the screen to the same pipe: the packets
            # follow each other, never interleaved.
            os.write(self.fd, status.packet())
            self.last = status


def text(value: object) -> str | None:
    if isinstance(value, str) and len(value) <= MAX_TEXT:
        return shown(value, MAX_TEXT)  # control characters escaped: nothing acts on a viewer
    return None


def whole(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_EPOCH:
        return value
    return None


def number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


MISSING = object()  # a value a field does not allow
CHECKS = {"str": text, "int": whole, "float": number, "bool": flag}  # None: not allowed


def checked(kind: str, value: object) -> object:
    """`value` as a field of type `kind` ("int", "str | None", ...) holds it, or MISSING."""
    if value is None:
        return None if kind.endswith(" | None") else MISSING
    result = CHECKS[kind.removesuffix(" | None")](value)
    return MISSING if result is None else result


CHOICES: dict[str, set] = {"status": {s.value for s in Status}, "metric": {*BEST_METRICS, None}}


def read_status(payload: bytes) -> TabStatus | None:
    """The TabStatus in a meta packet's payload from a tab's app; None when it is not one, or
    any field is missing, of another type, out of range or unknown."""
    if len(payload) > MAX_BYTES:
        return None
    try:
        raw = payload.decode("utf-8")
        message = json.loads(raw) if nesting(raw) <= MAX_NESTING else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or message.pop("type", None) != KIND:
        return None
    names = {f.name: f for f in fields(TabStatus)}
    if not set(message) <= set(names):
        return None
    values: dict[str, Any] = {}
    for name, field in names.items():
        value = checked(str(field.type), message.get(name))
        if value is MISSING or (name in CHOICES and value not in CHOICES[name]):
            return None
        values[name] = value
    return TabStatus(**values)
