"""How much memory a run or a weights file needs, checked before anything is allocated.

The estimate is deliberately generous (float64 generation buffers, gradients, optimizer state,
checkpoints, a whole-set evaluation): refusing a run that would have fitted is a clear message;
running out of memory after a minute is a frozen machine.
"""

from __future__ import annotations

import os

from nnplay.errors import ExperimentError
from nnplay.i18n import _
from nnplay.model import parameter_count
from nnplay.tasks import task_shape

USABLE_FRACTION = 0.5  # of the memory available now: the UI, the OS and other programs need some


def available_bytes() -> int:
    """MemAvailable from /proc/meminfo; elsewhere, free physical pages."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return 8 * 2**30


def limit_bytes() -> int:
    return int(available_bytes() * USABLE_FRACTION)


def size_text(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


def model_bytes(exp) -> int:
    """Parameters as float32."""
    return 4 * parameter_count(exp)


def training_bytes(exp) -> int:
    """Data, parameters with gradients, optimizer state and two checkpoints, and activations
    of a batch and of a whole-set evaluation."""
    t, shape = exp.task, task_shape(exp.task)
    fresh = t.val_samples if t.validation == "fresh" else 0
    # a CSV file's rows count twice: the table they were read into, and the data sets
    samples = 2 * t.schema.rows if t.data else t.samples + fresh
    # generation in float64 (raw and expanded) plus the float32 copy the model reads
    data = samples * (8 * shape.raw_inputs + 12 * shape.inputs + 16)
    widths = [shape.inputs, *(layer.units for layer in exp.model.hidden), 10]
    train_rows = t.schema.rows if t.data else t.samples
    evaluation = 4 * train_rows * max(a + b for a, b in zip(widths, widths[1:], strict=False))
    batch = 4 * min(exp.training.batch_size, train_rows) * sum(widths) * 4
    return data + 8 * model_bytes(exp) + evaluation + batch


def timeline_bytes(exp, budget: int) -> int:
    """The states the app keeps to go back to: up to `budget`, and when one state is larger
    than that, the first, the last and the one being added (weights, optimizer state for
    Adam's two moments, random streams)."""
    state = 3 * model_bytes(exp) + 8 * 1024
    return budget + 3 * state


def check_fits(needed: int, what: str) -> None:
    limit = limit_bytes()
    if needed > limit:
        message = _(
            "{what} needs about {needed} of memory; at most {most} can be used here (half of "
            "the memory available now). Use fewer samples, a smaller input size or smaller layers"
        )
        raise ExperimentError(
            message.format(what=what, needed=size_text(needed), most=size_text(limit))
        )


def check_training_fits(exp) -> None:
    check_fits(training_bytes(exp), _("this run"))
