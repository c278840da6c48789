"""Run files (`.nnrun`): a run's whole state (nnplay.run_state.RunState) on disk, continued
later exactly as if it had never stopped (issue 19).

One safetensors file; nothing in it is pickled, and nothing from it runs:
- tensors: `model/NAME` and `best/model/NAME` (the weights now and the best checkpoint's),
  `optimizer/...` and `best/optimizer/...` (each optimizer tensor by its key path in the
  state_dict), `rng/shuffle` and `rng/dropout` (the random streams, uint8), and `history/LIST`
  (the History's lists: int64 epochs and steps, float64 values, NaN for a missing accuracy, one
  row of grad_norms an epoch; `history/step_loss` the step losses' means, at most
  STEP_BUCKETS). The History is tensors, not JSON: a long run's lists are megabytes, more
  than a bounded JSON reader should take.
- metadata `nnplay.experiment`: the experiment as TOML, read like any experiment file.
- metadata `nnplay.run`: a JSON record: format tag and version, status, message, counters, live
  settings, early stopping, the step losses' bucket width and the bucket being filled, and
  the optimizer's and schedule's state_dicts, where each tensor stands as its name in the file
  (NaN and Infinity as Python's json writes them).

Reading is untrusted, and nothing of a declared size is allocated before it is checked: the
header is at most MAX_HEADER_BYTES; the record goes through the front door (untrusted:
size, nesting, depth) and every counter is checked against the others and the experiment; the
experiment is validated and must fit in memory; the tensors' bytes must lie between what the
experiment's two sets of weights need and that with the optimizer's state (OPTIMIZER_SLOTS
tensors a parameter) and the History; then a network, optimizer and schedule built for the
experiment say exactly which tensors there are, with which dtype and shape. After loading:
weights finite, the History's numbers in range, random states that torch accepts.
"""

from __future__ import annotations

import copy
import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO, Any

import torch

from nnplay.errors import ExperimentError
from nnplay.experiment import (
    LIVE_SETTINGS,
    SECTIONS,
    Experiment,
    dumps,
    field_rule,
    loads,
    value_at,
)
from nnplay.files import check_writable, write_atomic
from nnplay.history import STEP_BUCKETS, History, StepLosses
from nnplay.i18n import N_, _
from nnplay.labels import status_word
from nnplay.memory import check_fits, model_bytes, training_bytes
from nnplay.model import build_model, has_dropout
from nnplay.onnx_weights import METADATA_KEY
from nnplay.registry import OPTIMIZERS, SCHEDULES
from nnplay.run_state import Checkpoint, RunState
from nnplay.status import Status
from nnplay.training import Trainer, steps_per_epoch
from nnplay.untrusted import nesting, parse_json, readable_file, shown
from nnplay.weight_archives import tensor_bytes

FORMAT = "nnplay run"
VERSION = 2  # 2: step losses kept as means (StepLosses), not one a step
RUN_KEY = "nnplay.run"  # the record's metadata key; the experiment's is METADATA_KEY
SAFETENSORS_METADATA = "__metadata__"  # where a safetensors header keeps its metadata
# The statuses a run file may hold (stored as the status's value): paused and error are the app's
# and compare's words, never a Trainer's.
STATUSES = tuple(s for s in Status if s not in (Status.PAUSED, Status.ERROR))
ENDED = (Status.EARLY_STOPPED, Status.DIVERGED)  # their weights were set back: no more epochs

# The experiment (at most 256 kB of TOML) and the record (as much) stored as JSON strings,
# escapes doubling them at worst, and a line for each tensor.
MAX_HEADER_BYTES = 2 * 2**20
MAX_HEADER_NESTING = 3  # {"name": {"shape": [..]}}
OPTIMIZER_SLOTS = 3  # tensors an optimizer keeps a parameter at most (Adam with amsgrad)
RNG_BYTES = 8192  # a CPU generator's state is 5056 bytes
MAX_MESSAGE = 2000  # characters; the longest message a run ends with is a few hundred
MAX_COUNT = 2**31 - 1
MAX_EPOCHS = int(field_rule("training.epochs")[0].high)
MAX_RATE = float(field_rule("training.lr")[0].high)  # no optimizer or schedule number is larger

RECORD_KEYS = (
    "format",
    "version",
    "status",
    "message",
    "epoch",
    "batch",
    "steps",
    "seconds",
    "weights_epoch",
    "l1",
    "l2",
    "stop_reference",
    "bad_epochs",
    "optimizer",
    "scheduler",
    "best",
    "step_loss",
)
BEST_KEYS = ("epoch", "val_loss", "optimizer")
STEP_KEYS = ("width", "tail_sum", "tail_count", "last")
MAX_STEP_WIDTH = 2**40
HISTORY_COUNTS = ("epoch", "step")
HISTORY_NUMBERS = (
    "train_loss",
    "val_loss",
    "train_accuracy",
    "val_accuracy",
    "lr",
    "l1_penalty",
)
# What a History's list may hold (val_loss: anything, a loss that blew up included).
HISTORY_ALLOWED: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], str]] = {
    "train_loss": (torch.isfinite, N_("finite numbers")),
    "step_loss": (torch.isfinite, N_("finite numbers")),
    "lr": (lambda v: (v >= 0) & (v <= MAX_RATE), N_("rates from 0 to 100")),
    "l1_penalty": (lambda v: torch.isfinite(v) & (v >= 0), N_("finite numbers from 0")),
    "train_accuracy": (lambda v: v.isnan() | ((v >= 0) & (v <= 1)), N_("0 to 1, or NaN")),
    "val_accuracy": (lambda v: v.isnan() | ((v >= 0) & (v <= 1)), N_("0 to 1, or NaN")),
    "grad_norms": (lambda v: ~(v < 0), N_("numbers from 0")),
}
SAFETENSORS_DTYPES = {
    torch.float32: "F32",
    torch.float64: "F64",
    torch.int64: "I64",
    torch.uint8: "U8",
}


class NotARun(ValueError):
    """The file is not a run nnplay can continue; the message says what is wrong, in words."""


# ---------------------------------------------------------------------------------------------
# Writing


def write_run(path: str | Path, state: RunState) -> Path:
    """Write `state` to `path`, atomically: a run file is whole or as it was."""
    from safetensors.torch import save

    path = Path(path).expanduser()
    check_writable(path)
    tensors: dict[str, torch.Tensor] = {}
    record = _record(state, tensors)
    metadata = {RUN_KEY: json.dumps(record), METADATA_KEY: dumps(state.experiment)}
    return write_atomic(path, save(tensors, metadata=metadata))


def _record(state: RunState, tensors: dict[str, torch.Tensor]) -> dict:
    """The run record as JSON data; its tensors go into `tensors`."""
    tensors |= {f"model/{k}": v for k, v in state.model.items()}
    tensors |= {f"best/model/{k}": v for k, v in state.best.model.items()}
    tensors["rng/shuffle"] = state.shuffle_rng
    if state.dropout_rng is not None:
        tensors["rng/dropout"] = state.dropout_rng
    tensors |= _history_tensors(state.history, layer_names(state.model))
    best = state.best
    return {
        "format": FORMAT,
        "version": VERSION,
        "status": str(state.status),
        "message": state.message,
        "epoch": state.epoch,
        "batch": state.batch,
        "steps": state.steps,
        "seconds": state.seconds,
        "weights_epoch": state.weights_epoch,
        "l1": state.l1,
        "l2": state.l2,
        "stop_reference": state.stop_reference,
        "bad_epochs": state.bad_epochs,
        "optimizer": _tensors_named(state.optimizer, "optimizer", tensors),
        "scheduler": None
        if state.scheduler is None
        else _tensors_named(state.scheduler, "scheduler", tensors),
        "best": {
            "epoch": best.epoch,
            "val_loss": best.val_loss,
            "optimizer": _tensors_named(best.optimizer, "best/optimizer", tensors),
        },
        "step_loss": {key: getattr(state.history.step_loss, key) for key in STEP_KEYS},
    }


def _tensors_named(tree: Any, name: str, tensors: dict[str, torch.Tensor]) -> Any:
    """`tree` (a state_dict) as JSON data: each tensor moved into `tensors` under its key path,
    and that name left in its place."""
    if isinstance(tree, torch.Tensor):
        tensors[name] = tree
        return name
    if isinstance(tree, dict):
        return {str(k): _tensors_named(v, f"{name}/{k}", tensors) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_tensors_named(v, f"{name}/{i}", tensors) for i, v in enumerate(tree)]
    return tree


def layer_names(model: dict[str, torch.Tensor]) -> list[str]:
    """The Linear layers of a state_dict (their weights are its 2-D tensors), input to output:
    the keys of History.grad_norms."""
    return [k.removesuffix(".weight") for k, v in model.items() if v.dim() == 2]


def _history_tensors(history: History, layers: list[str]) -> dict[str, torch.Tensor]:
    out = {
        f"history/{name}": torch.tensor(getattr(history, name), dtype=torch.int64)
        for name in HISTORY_COUNTS
    }
    for name in HISTORY_NUMBERS:
        values = [math.nan if v is None else v for v in getattr(history, name)]
        out[f"history/{name}"] = torch.tensor(values, dtype=torch.float64)
    norms = [[row[layer] for layer in layers] for row in history.grad_norms]
    out["history/grad_norms"] = torch.tensor(norms, dtype=torch.float64).reshape(-1, len(layers))
    out["history/step_loss"] = torch.tensor(history.step_loss.means, dtype=torch.float64)
    return out


# ---------------------------------------------------------------------------------------------
# Reading: an untrusted file


def read_run(path: str | Path) -> RunState:
    """The run saved in `path`, every part checked (see the module's docstring) before it is
    loaded; whatever is wrong is one ExperimentError line that names the file."""
    path = readable_file(path)
    where = shown(path, 300)
    try:
        with open(path, "rb") as f:
            return _read(f, os.fstat(f.fileno()).st_size)
    except NotARun as e:
        message = _("{path}: not a run file nnplay can continue ({reason})")
        raise ExperimentError(message.format(path=where, reason=e)) from None
    except ExperimentError as e:  # the experiment's own words, or the record's front door
        raise ExperimentError(f"{where}: {e}") from None


@dataclass(frozen=True)
class Fresh:
    """A network, optimizer and schedule built for the experiment: what each part of a run
    file must look like."""

    model: dict[str, torch.Tensor]
    optimizer: dict  # after one step: the state every later step keeps
    unstepped: dict  # before any (a run that has not trained yet)
    scheduler: dict | None
    dropout: bool


def _read(f: IO[bytes], size: int) -> RunState:
    header_bytes, header = _header(f, size)
    record, exp = _documents(header.pop(SAFETENSORS_METADATA, None))
    counts = _counts(record, exp)
    data = size - 8 - header_bytes
    _check_data_size(data, exp, counts)
    # the run it continues, and the file twice over while it is loaded
    check_fits(training_bytes(exp) + 2 * size, _("this run"))
    fresh = _fresh(exp)
    expected = _expected_tensors(record, fresh, counts, header)
    _check_entries(header, expected)
    exact = sum(math.prod(shape) * dtype.itemsize for dtype, shape in expected.values())
    if exact != data:
        message = _("its tensors need {exact} bytes; it holds {size}")
        raise NotARun(message.format(exact=exact, size=data))
    return _state(record, exp, fresh, counts, _load(f, size))


def _header(f: IO[bytes], size: int) -> tuple[int, dict]:
    """The safetensors header (its length, and it parsed), bounded before it is read."""
    if size < 8:
        raise NotARun(_("it has {size} bytes; a run file has many more").format(size=size))
    length = int.from_bytes(f.read(8), "little")
    if length > MAX_HEADER_BYTES:
        message = _("its header would have {size} bytes; a run file's has at most {most}")
        raise NotARun(message.format(size=length, most=MAX_HEADER_BYTES))
    if 8 + length > size:
        message = _("it is cut short: its header needs {need} bytes, the file has {size}")
        raise NotARun(message.format(need=8 + length, size=size))
    header = _parsed_header(f.read(length))
    entries = [v for k, v in header.items() if k != SAFETENSORS_METADATA]
    if not all(_is_entry(entry) for entry in entries):
        raise NotARun(_("its header is not a safetensors header"))
    return length, header


def _parsed_header(data: bytes) -> dict:
    try:
        text = data.decode("utf-8")
        header = json.loads(text) if nesting(text) <= MAX_HEADER_NESTING else None
    except (ValueError, RecursionError):
        header = None
    if not isinstance(header, dict):
        raise NotARun(_("its header is not a safetensors header"))
    return header


def _is_entry(entry: Any) -> bool:
    """A tensor's line in the header: its dtype, shape and place."""
    return (
        isinstance(entry, dict)
        and set(entry) == {"dtype", "shape", "data_offsets"}
        and isinstance(entry["dtype"], str)
        and isinstance(entry["shape"], list)
        and len(entry["shape"]) <= 8
        and all(type(n) is int and n >= 0 for n in entry["shape"])
    )


def _documents(metadata: Any) -> tuple[dict, Experiment]:
    """The run record and the experiment, from the header's metadata."""
    if not isinstance(metadata, dict) or RUN_KEY not in metadata:
        raise NotARun(_("it holds no run record (an exported .safetensors holds weights only)"))
    if set(metadata) != {RUN_KEY, METADATA_KEY} or not all(
        isinstance(v, str) for v in metadata.values()
    ):
        raise NotARun(_("its metadata is not a run file's"))
    invalid = N_("{source}: not valid JSON")
    record = parse_json(metadata[RUN_KEY], _("its run record"), invalid)
    _check_record(record)
    return record, loads(metadata[METADATA_KEY], source=_("its experiment"))


def _check_record(record: Any) -> None:
    """The record's format tag and version first (a newer file says so), then its fields."""
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        message = _("its run record is not tagged {tag}")
        raise NotARun(message.format(tag=repr(FORMAT)))
    version = record.get("version")
    if type(version) is not int or version != VERSION:
        message = _("it is a run file of version {version}; this nnplay reads version {known}")
        raise NotARun(message.format(version=_value(version), known=VERSION))
    unknown = next((k for k in record if k not in RECORD_KEYS), None)
    if unknown is not None:
        message = _("its run record has an unknown field {name}")
        raise NotARun(message.format(name=repr(shown(unknown, 40))))
    missing = next((k for k in RECORD_KEYS if k not in record), None)
    if missing is not None:
        raise NotARun(_("its run record has no {name}").format(name=missing))
    best = record["best"]
    if not isinstance(best, dict) or sorted(best) != sorted(BEST_KEYS):
        raise NotARun(_("its best checkpoint is not a run file's"))
    steps = record["step_loss"]
    if not isinstance(steps, dict) or sorted(steps) != sorted(STEP_KEYS):
        raise NotARun(_("its step losses are not a run file's"))


def _value(value: Any) -> str:
    """A value from the file as a message quotes it: escaped, and short."""
    return shown(repr(value), 40)


@dataclass(frozen=True)
class Counts:
    """The counters of a run record, checked against each other and the experiment."""

    epoch: int
    batch: int
    steps: int
    step_losses: tuple[int, ...]  # how many steps its History's step losses may record
    steps_per_epoch: int


def _counts(record: dict, exp: Experiment) -> Counts:
    if record["status"] not in STATUSES:
        message = _("{name} is {value}; allowed: {allowed}")
        allowed = ", ".join(STATUSES)
        raise NotARun(
            message.format(name="status", value=_value(record["status"]), allowed=allowed)
        )
    per_epoch = steps_per_epoch(exp)
    epoch = _whole(record, "epoch", 0, MAX_EPOCHS)
    batch = _whole(record, "batch", 0, per_epoch - 1)
    diverged = record["status"] == Status.DIVERGED
    if diverged:  # it stopped inside the epoch after `epoch`, and was set back to a whole one
        first, last = epoch * per_epoch + 1, (epoch + 1) * per_epoch
        _whole(record, "batch", 0, 0)
    else:
        first = last = epoch * per_epoch + batch
    steps = _whole(record, "steps", first, last)
    for name in ("weights_epoch", "bad_epochs"):
        _whole(record, name, 0, epoch)
    # a step whose loss was not finite is counted, and its loss not kept
    step_losses = (steps - 1, steps) if diverged else (steps,)
    return Counts(epoch, batch, steps, step_losses, per_epoch)


def _step_means(record: dict, recorded: tuple[int, ...], declared: Any) -> int:
    """How many means the step losses hold: their width and the bucket being filled must
    account for one of the step counts `recorded` (the header's `declared` length tells which),
    in at most STEP_BUCKETS means."""
    width = _whole(record, "width", 1, MAX_STEP_WIDTH)
    if width & (width - 1):
        message = _("width is {value}; allowed: a power of two")
        raise NotARun(message.format(value=width))
    tail = _whole(record, "tail_count", 0, width - 1)
    _number(record, "tail_sum", math.isfinite, N_("finite numbers"))
    if record["last"] is not None:
        _number(record, "last", math.isfinite, N_("finite numbers"))
    fits = {(n - tail) // width: n for n in recorded if n >= tail and (n - tail) % width == 0}
    means = declared if declared in fits else max(fits, default=STEP_BUCKETS + 1)
    if means > STEP_BUCKETS or (record["last"] is None) != (fits[means] == 0):
        message = _("its step losses do not account for its {steps} steps")
        raise NotARun(message.format(steps=recorded[-1]))
    return means


def _whole(record: dict, name: str, low: int, high: int) -> int:
    value = record[name]
    if type(value) is not int or not low <= value <= high:
        message = _("{name} is {value}; allowed: a whole number from {low} to {high}")
        raise NotARun(message.format(name=name, value=_value(value), low=low, high=high))
    return value


def _number(record: dict, name: str, allowed: Callable[[float], bool], words: str) -> float:
    value = record[name]
    if type(value) not in (int, float) or not allowed(value):
        message = _("{name} is {value}; allowed: {allowed}")
        raise NotARun(message.format(name=name, value=_value(value), allowed=_(words)))
    return float(value)


def _check_data_size(data: int, exp: Experiment, counts: Counts) -> None:
    """The tensors' bytes, bounded by the experiment and the counters before anything is
    built: at least its two sets of weights, at most those with the optimizer's state."""
    sizes = tensor_bytes(exp)
    least = 2 * sum(sizes.values())
    layers = len(exp.model.hidden) + 1
    history = 8 * (counts.epoch * (len(HISTORY_COUNTS) + len(HISTORY_NUMBERS) + layers))
    history += 8 * min(counts.steps, STEP_BUCKETS)
    # per parameter tensor: its slots, and a step count of 4 bytes
    optimizer = 2 * OPTIMIZER_SLOTS * (model_bytes(exp) + 4 * len(sizes))
    most = least + optimizer + history + 2 * RNG_BYTES
    if data < least:
        message = _(
            "it is cut short: it holds {size} bytes of tensors; its weights alone need {least}"
        )
        raise NotARun(message.format(size=data, least=least))
    if data > most:
        message = _("it holds {size} bytes of tensors; a run of its experiment has at most {most}")
        raise NotARun(message.format(size=data, most=most))


def _fresh(exp: Experiment) -> Fresh:
    """A network, optimizer and schedule for `exp`, the optimizer stepped once (zero
    gradients) to show the state it keeps."""
    with torch.random.fork_rng(devices=[]):  # the caller's random stream stays as it was
        model = build_model(exp)
    t = exp.training
    optimizer = OPTIMIZERS[t.optimizer].build(model.parameters(), t)
    scheduler = SCHEDULES[t.schedule](optimizer, t)
    unstepped = copy.deepcopy(optimizer.state_dict())
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()
    return Fresh(
        model.state_dict(),
        optimizer.state_dict(),
        unstepped,
        None if scheduler is None else scheduler.state_dict(),
        has_dropout(model),
    )


def _optimizer_like(value: Any, fresh: Fresh) -> dict:
    """The optimizer state_dict a record's must match: one that has stepped, or not yet."""
    stepped = not (isinstance(value, dict) and value.get("state") == {})
    return fresh.optimizer if stepped else fresh.unstepped


def _expected_tensors(
    record: dict, fresh: Fresh, counts: Counts, entries: dict
) -> dict[str, tuple[torch.dtype, tuple[int, ...]]]:
    """Every tensor the file must hold: name -> (dtype, shape)."""
    parts = {
        "model": fresh.model,
        "best/model": fresh.model,
        "optimizer": _optimizer_like(record["optimizer"], fresh),
        "best/optimizer": _optimizer_like(record["best"]["optimizer"], fresh),
        "scheduler": fresh.scheduler,
    }
    expected = {
        path: (t.dtype, tuple(t.shape))
        for name, tree in parts.items()
        for path, t in _tensor_leaves(tree, name)
    }
    rng = (torch.uint8, tuple(torch.get_rng_state().shape))
    expected["rng/shuffle"] = rng
    if fresh.dropout:
        expected["rng/dropout"] = rng
    for name in HISTORY_COUNTS:
        expected[f"history/{name}"] = (torch.int64, (counts.epoch,))
    for name in HISTORY_NUMBERS:
        expected[f"history/{name}"] = (torch.float64, (counts.epoch,))
    layers = len(layer_names(fresh.model))
    expected["history/grad_norms"] = (torch.float64, (counts.epoch, layers))
    declared = entries.get("history/step_loss", {}).get("shape", [None])
    means = _step_means(record["step_loss"], counts.step_losses, declared[0] if declared else None)
    expected["history/step_loss"] = (torch.float64, (means,))
    return expected


def _tensor_leaves(tree: Any, name: str) -> Iterator[tuple[str, torch.Tensor]]:
    """(key path, tensor) of every tensor in a state_dict, as `_tensors_named` names them."""
    if isinstance(tree, torch.Tensor):
        yield name, tree
    elif isinstance(tree, dict):
        for k, v in tree.items():
            yield from _tensor_leaves(v, f"{name}/{k}")
    elif isinstance(tree, (list, tuple)):
        for i, v in enumerate(tree):
            yield from _tensor_leaves(v, f"{name}/{i}")


def _check_entries(entries: dict, expected: dict[str, tuple[torch.dtype, tuple[int, ...]]]) -> None:
    """The header's tensors are exactly those expected, each of its dtype and shape."""
    extra = next((name for name in entries if name not in expected), None)
    if extra is not None:
        message = _("it holds a tensor {name} that a run of its experiment does not have")
        raise NotARun(message.format(name=repr(shown(extra, 60))))
    for name, (dtype, shape) in expected.items():
        if name not in entries:
            raise NotARun(_("{name} is missing").format(name=name))
        entry = entries[name]
        code = SAFETENSORS_DTYPES.get(dtype, str(dtype))
        if entry["dtype"] != code:
            message = _("{name} is {dtype}; a run file holds it as {expected}")
            raise NotARun(message.format(name=name, dtype=_value(entry["dtype"]), expected=code))
        if tuple(entry["shape"]) != shape:
            message = _("{name} has shape {shape}; a run of its experiment needs {expected}")
            raise NotARun(message.format(name=name, shape=tuple(entry["shape"]), expected=shape))


def _load(f: IO[bytes], size: int) -> dict[str, torch.Tensor]:
    """The tensors, now that their names, dtypes, shapes and bytes are the expected ones."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    f.seek(0)
    data = f.read(size + 1)
    if len(data) != size:
        raise NotARun(_("it changed while it was read"))
    try:
        return load(data)
    except SafetensorError:
        raise NotARun(_("its tensors are not where its header says")) from None


# ---------------------------------------------------------------------------------------------
# The RunState, its values checked


def _state(
    record: dict, exp: Experiment, fresh: Fresh, counts: Counts, tensors: dict[str, torch.Tensor]
) -> RunState:
    best = record["best"]
    return RunState(
        experiment=exp,
        model=_weights(tensors, "model", fresh),
        optimizer=_optimizer(record["optimizer"], fresh, "optimizer", tensors),
        scheduler=_scheduler(record["scheduler"], fresh, tensors),
        shuffle_rng=_random_state(tensors, "rng/shuffle"),
        dropout_rng=_random_state(tensors, "rng/dropout") if fresh.dropout else None,
        l1=_setting(record, "l1"),
        l2=_setting(record, "l2"),
        status=Status(record["status"]),
        message=_message(record["message"]),
        epoch=counts.epoch,
        batch=counts.batch,
        steps=counts.steps,
        seconds=_number(record, "seconds", _finite_from_zero, N_("finite numbers from 0")),
        weights_epoch=record["weights_epoch"],
        best=Checkpoint(
            _weights(tensors, "best/model", fresh),
            _optimizer(best["optimizer"], fresh, "best/optimizer", tensors),
            _whole(best, "epoch", 0, counts.epoch),
            _number(best, "val_loss", lambda v: True, N_("a number")),
        ),
        stop_reference=_number(
            record, "stop_reference", lambda v: not math.isnan(v), N_("a number or infinity")
        ),
        bad_epochs=record["bad_epochs"],
        history=_history(record, tensors, fresh, counts),
    )


def _finite_from_zero(value: float) -> bool:
    return math.isfinite(value) and value >= 0


def _setting(record: dict, name: str) -> float:
    """A live setting (l1, l2), within the experiment field's own rule."""
    rule = field_rule(f"training.{name}")[0]
    return _number(record, name, lambda v: rule.check(v) is None, rule.describe())


def _message(message: Any) -> str:
    """The status line's message: one printable line (it is shown as it is)."""
    if not isinstance(message, str) or len(message) > MAX_MESSAGE or not message.isprintable():
        raise NotARun(_("its message is not one line of text"))
    return message


def _weights(tensors: dict[str, torch.Tensor], part: str, fresh: Fresh) -> dict:
    weights = {k: tensors[f"{part}/{k}"] for k in fresh.model}
    for name, tensor in weights.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            message = _("its weights hold NaN or infinity ({name}); a run never keeps such")
            raise NotARun(message.format(name=f"{part}/{name}"))
    return weights


def _random_state(tensors: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    state = tensors[name]
    try:
        torch.Generator().set_state(state)
    except RuntimeError:
        raise NotARun(_("{name} is not a random state torch made").format(name=name)) from None
    return state


def _optimizer(value: Any, fresh: Fresh, name: str, tensors: dict[str, torch.Tensor]) -> dict:
    like = _optimizer_like(value, fresh)
    optimizer = _rebuilt(value, like, name, tensors)
    if [g["params"] for g in optimizer["param_groups"]] != [
        g["params"] for g in like["param_groups"]
    ]:
        raise NotARun(_("{name} does not order its network's parameters").format(name=name))
    return optimizer


def _scheduler(value: Any, fresh: Fresh, tensors: dict[str, torch.Tensor]) -> dict | None:
    if fresh.scheduler is None:
        if value is not None:
            raise NotARun(_("it holds a schedule; its experiment has a constant rate"))
        return None
    return _rebuilt(value, fresh.scheduler, "scheduler", tensors)


def _rebuilt(value: Any, like: Any, name: str, tensors: dict[str, torch.Tensor]) -> Any:
    """The record's `value` as `like` (that part of a freshly built optimizer or schedule) has
    it: the same keys, the same choices (true/false, none, words), counts and rates in range,
    and each tensor from `tensors` where the record names it."""
    if isinstance(like, torch.Tensor):
        if value != name:
            raise NotARun(_("{name} does not name its tensor").format(name=name))
        return tensors[name]
    if isinstance(like, dict):
        if not isinstance(value, dict) or set(value) != {str(k) for k in like}:
            raise NotARun(_("{name} is not what its optimizer or schedule holds").format(name=name))
        return {k: _rebuilt(value[str(k)], v, f"{name}/{k}", tensors) for k, v in like.items()}
    if isinstance(like, (list, tuple)):
        if not isinstance(value, list) or len(value) != len(like):
            raise NotARun(_("{name} is not what its optimizer or schedule holds").format(name=name))
        items = zip(value, like, strict=True)
        return type(like)(_rebuilt(v, t, f"{name}/{i}", tensors) for i, (v, t) in enumerate(items))
    return _scalar(value, like, name)


def _scalar(value: Any, like: Any, name: str) -> Any:
    if type(like) is float:  # a rate or a factor (a whole number is one too)
        if type(value) not in (int, float) or not 0 <= value <= MAX_RATE:
            message = _("{name} is {value}; allowed: a number from 0 to {most}")
            raise NotARun(message.format(name=name, value=_value(value), most=f"{MAX_RATE:g}"))
        return float(value)
    if type(like) is int:  # a count (one that starts at 1 never goes below it)
        low = min(like, 1)
        if type(value) is not int or not low <= value <= MAX_COUNT:
            message = _("{name} is {value}; allowed: a whole number from {low} to {high}")
            raise NotARun(message.format(name=name, value=_value(value), low=low, high=MAX_COUNT))
        return value
    if type(value) is not type(like) or value != like:  # a choice the experiment made
        message = _("{name} is {value}; its experiment's optimizer and schedule have {expected}")
        raise NotARun(message.format(name=name, value=_value(value), expected=_value(like)))
    return value


def _history(
    record: dict, tensors: dict[str, torch.Tensor], fresh: Fresh, counts: Counts
) -> History:
    epochs = range(1, counts.epoch + 1)
    if tensors["history/epoch"].tolist() != list(epochs):
        raise NotARun(_("its history's epochs are not 1 to {epochs}").format(epochs=counts.epoch))
    if tensors["history/step"].tolist() != [e * counts.steps_per_epoch for e in epochs]:
        message = _("its history's steps are not {steps} an epoch")
        raise NotARun(message.format(steps=counts.steps_per_epoch))
    for name, (allowed, words) in HISTORY_ALLOWED.items():
        values = tensors[f"history/{name}"]
        wrong = values[~allowed(values)]
        if wrong.numel():
            message = _("its history's {name} holds {value}; allowed: {allowed}")
            raise NotARun(message.format(name=name, value=f"{wrong[0]:g}", allowed=_(words)))
    lists: dict[str, list] = {name: tensors[f"history/{name}"].tolist() for name in HISTORY_COUNTS}
    for name in HISTORY_NUMBERS:
        lists[name] = [None if math.isnan(v) else v for v in tensors[f"history/{name}"].tolist()]
    layers = layer_names(fresh.model)
    norms = tensors["history/grad_norms"].tolist()
    steps = StepLosses(means=tensors["history/step_loss"].tolist(), **record["step_loss"])
    grad_norms = [dict(zip(layers, row, strict=True)) for row in norms]
    return History(**lists, grad_norms=grad_norms, step_loss=steps)


# ---------------------------------------------------------------------------------------------
# Continuing a run, as it was or forked


# What describes the exercise rather than the training: a continued run may change it too.
EXERCISE_SECTIONS = ("goal", "meta", "predict")


def changed_fields(before: Experiment, after: Experiment) -> list[str]:
    """The section.field paths whose values differ."""
    paths = [f"{s}.{f.name}" for s, cls in SECTIONS.items() for f in fields(cls)]
    return [p for p in paths if value_at(before, p) != value_at(after, p)]


def continued(state: RunState, exp: Experiment, source: str | Path) -> Trainer:
    """A Trainer that goes on from `state` with `exp`: the saved experiment, or it with live
    settings (a fork: the change applies from where the run was) or the exercise's texts and
    goal changed. A run that early-stopped or diverged, or any other change, is refused."""
    if state.status in ENDED:
        message = _(
            "{path}: the run {status} after {epoch} epochs (its weights were set back to those "
            "of epoch {kept}) and cannot continue; start a new run instead"
        )
        raise ExperimentError(
            message.format(
                path=shown(source, 300),
                status=status_word(state.status),
                epoch=state.epoch,
                kept=state.weights_epoch,
            )
        )
    # a model-wide default changes the layers too: name the default, as it was set
    changed = sorted(changed_fields(state.experiment, exp), key=lambda p: p == "model.hidden")
    for path in changed:
        if path not in LIVE_SETTINGS and path.partition(".")[0] not in EXERCISE_SECTIONS:
            message = _(
                "{field}: cannot continue a run with that change; start a new run instead (a "
                "continued run may change only {allowed})"
            )
            allowed = ", ".join([*LIVE_SETTINGS, *EXERCISE_SECTIONS])
            raise ExperimentError(message.format(field=path, allowed=allowed))
    return Trainer.forked(state, exp)
