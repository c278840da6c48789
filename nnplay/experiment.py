"""The Experiment: one validated description of a run.

Preset files, the TUI forms and `--set` overrides all produce an Experiment; the Trainer runs it.
Every field carries a rule (allowed values or range, from `nnplay/rules.py`), so validation, the
forms and the error messages all read from the same place.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from nnplay import csv_data
from nnplay.errors import ExperimentError
from nnplay.files import check_writable, write_atomic
from nnplay.i18n import N_, _
from nnplay.predict import PredictSpec, predict_problems
from nnplay.registry import ACTIVATIONS, INITS, LOSSES, OPTIMIZERS, SCHEDULES
from nnplay.rules import (
    MAX_LAYERS,
    TRANSLATION_DOC,
    Choice,
    ChoiceList,
    Digest,
    Features,
    Flag,
    Layers,
    Number,
    NumberList,
    Text,
    TextList,
    VariantList,
    Vary,
    in_language,
    rule,
    subsection,
    vary_grid,
)
from nnplay.tasks import TASKS, held_out, task_shape, train_samples
from nnplay.untrusted import NotToml, parse_toml, read_text, shown

# ---------------------------------------------------------------------------------------------
# The schema

METRICS = ("val_accuracy", "train_accuracy", "val_loss", "train_loss")
METRIC_WORDS = {
    "val_accuracy": N_("val accuracy"),
    "train_accuracy": N_("train accuracy"),
    "val_loss": N_("val loss"),
    "train_loss": N_("train loss"),
}
VALIDATION_MODES = ("fresh", "split", "fraction")
MAX_SAMPLES = 200_000
# A past run's result (nnplay.results): a file may hold one, the Experiment never does.
RESULT = "result"


@dataclass
class DataSchema:
    """What nnplay read of a CSV task's file: enough to predict without it, and to tell
    whether it changed."""

    columns: list[str] = rule(
        TextList(csv_data.MAX_COLUMNS, csv_data.MAX_NAME),
        [],
        "the input columns, in the file's order (empty: not read yet)",
    )
    kind: str = rule(Choice(csv_data.KINDS[1:]), "classification", "what the target column holds")
    classes: list[str] = rule(
        TextList(csv_data.MAX_CLASSES, csv_data.MAX_NAME),
        [],
        "the class names, in the order of the network's outputs",
    )
    mean: list[float] = rule(
        NumberList(csv_data.MAX_COLUMNS, Number(-csv_data.FLOAT32_MAX, csv_data.FLOAT32_MAX)),
        [],
        "each input column's mean on the training rows",
    )
    std: list[float] = rule(
        NumberList(csv_data.MAX_COLUMNS, Number(0, csv_data.FLOAT32_MAX, low_open=True)),
        [],
        "each input column's standard deviation on the training rows (1 when constant)",
    )
    rows: int = rule(Number(0, csv_data.MAX_ROWS, integer=True), 0, "data rows in the file")
    sha256: str = rule(Digest(), "", "the file's SHA-256: a changed file is refused")


@dataclass
class TaskSpec:
    name: str = rule(Choice(tuple(TASKS)), "first_gt_fifth", "the synthetic data set")
    samples: int = rule(Number(1, MAX_SAMPLES, integer=True), 5000, "training samples")
    val_samples: int = rule(Number(1, MAX_SAMPLES, integer=True), 100, "validation samples")
    validation: str = rule(
        Choice(VALIDATION_MODES),
        "fresh",
        "fresh: a newly generated set; split: task.val_samples held out of the samples; "
        "fraction: task.val_fraction of them held out (TF Playground's ratio)",
    )
    noise: float = rule(Number(0, 10), 0.0, "std of gaussian noise on the inputs or targets")
    features: str | list[str] = rule(
        Features(),
        "raw",
        "raw inputs; poly2: also their squares (and x·y on 2-D tasks); or "
        'a list of inputs for 2-D tasks, e.g. ["x1^2", "x2^2"]',
    )
    dim: int = rule(Number(0, 4096, integer=True), 0, "input size (0: the task's default)")
    classes: int = rule(Number(0, 10, integer=True), 0, "classes (0: the task's default)")
    seed: int = rule(Number(0, 2**31 - 1, integer=True), 0, "seed of the data")
    data: str = rule(
        Text(1000),
        "",
        "a CSV file of your own data instead of the synthetic set (a path relative to the "
        "experiment's file)",
    )
    target: str = rule(Text(csv_data.MAX_NAME), "", "the CSV column to predict")
    kind: str = rule(
        Choice(csv_data.KINDS),
        "auto",
        "a CSV task's kind; auto: classes when the target is text or a few whole numbers",
    )
    val_fraction: float = rule(
        Number(0, 0.9, low_open=True),
        0.2,
        "the share of a CSV file's rows (or with validation = fraction, of the samples) held "
        "out to validate",
    )
    test_fraction: float = rule(
        Number(0, 0.5),
        0.0,
        "the share of the samples (or a CSV file's rows) held out as a test set, measured once "
        "when the run ends (0: none)",
    )
    schema: DataSchema = subsection(
        DataSchema, "what nnplay read of the CSV file (nnplay writes it)"
    )


_DEFAULT_TASK = {f.name: f.default for f in fields(TaskSpec) if "section" not in f.metadata}

# The fields that say what a CSV task reads of its file: a change re-reads it.
DATA_FIELDS = (
    "task.data",
    "task.target",
    "task.features",
    "task.kind",
    "task.val_fraction",
    "task.test_fraction",
    "task.seed",
)


@dataclass
class LayerSpec:
    units: int = rule(Number(1, 4096, integer=True), 8, "units in the layer")
    activation: str = rule(Choice(tuple(ACTIVATIONS)), "relu", "activation after the layer")
    dropout: float = rule(Number(0, 0.95), 0.0, "dropout rate after the activation")
    batch_norm: bool = rule(Flag(), False, "batch norm before the activation")


@dataclass
class ModelSpec:
    hidden: list[LayerSpec] = rule(Layers(), [], "hidden layers: their widths, input to output")
    # Defaults for layers given as a bare width, e.g. hidden = [16, 16].
    activation: str = rule(Choice(tuple(ACTIVATIONS)), "relu", "activation of bare-width layers")
    dropout: float = rule(Number(0, 0.95), 0.0, "dropout of bare-width layers")
    batch_norm: bool = rule(Flag(), False, "batch norm in bare-width layers")
    init: str = rule(Choice(tuple(INITS)), "default", "weight initialization")
    init_scale: float = rule(
        Number(0, 100), 0.1, "a in uniform(-a, a) init (0: every weight and bias zero)"
    )

    def layer_defaults(self) -> dict:
        return {
            "activation": self.activation,
            "dropout": self.dropout,
            "batch_norm": self.batch_norm,
        }


@dataclass
class TrainingSpec:
    loss: str = rule(Choice(tuple(LOSSES)), "mse", "loss function")
    optimizer: str = rule(Choice(tuple(OPTIMIZERS)), "adam", "optimizer")
    lr: float = rule(Number(0, 100, low_open=True), 0.001, "learning rate")
    momentum: float = rule(Number(0, 0.999), 0.0, "momentum (sgd, rmsprop)")
    nesterov: bool = rule(Flag(), False, "Nesterov momentum (sgd; needs momentum > 0)")
    beta1: float = rule(Number(0, 0.9999), 0.9, "Adam's first-moment decay")
    beta2: float = rule(Number(0, 0.99999), 0.999, "Adam's second-moment decay")
    eps: float = rule(Number(0, 1, low_open=True), 1e-8, "term added for numerical stability")
    alpha: float = rule(Number(0, 0.9999), 0.99, "RMSprop's smoothing constant")
    batch_size: int = rule(Number(1, MAX_SAMPLES, integer=True), 20, "samples per step")
    epochs: int = rule(Number(1, 100_000, integer=True), 20, "passes over the training set")
    schedule: str = rule(Choice(tuple(SCHEDULES)), "constant", "learning-rate schedule")
    step_size: int = rule(Number(1, 100_000, integer=True), 10, "epochs between step decays")
    gamma: float = rule(Number(0, 1, low_open=True), 0.5, "decay factor (step, exponential)")
    l1: float = rule(Number(0, 10), 0.0, "L1 penalty: lambda * sum|w| added to the loss")
    l2: float = rule(Number(0, 10), 0.0, "L2 penalty (weight decay) on the weights")
    patience: int = rule(
        Number(0, 100_000, integer=True), 0, "early stopping: epochs without improvement (0: off)"
    )
    min_delta: float = rule(Number(0, 1e6), 0.0, "early stopping: the least that counts")
    seed: int = rule(Number(0, 2**31 - 1, integer=True), 0, "seed of init, shuffling, dropout")


@dataclass
class GoalSpec:
    metric: str = rule(Choice(METRICS), "val_accuracy", "what the goal measures")
    threshold: float = rule(Number(-1e9, 1e9), 0.0, "the value to reach")
    epochs: int = rule(Number(0, 100_000, integer=True), 0, "epoch budget (0: no goal)")

    @property
    def enabled(self) -> bool:
        return self.epochs > 0

    def describe(self) -> str:
        sign = "<=" if self.metric.endswith("loss") else ">="
        return _("{metric} {sign} {threshold} within {epochs} epochs").format(
            metric=_(METRIC_WORDS[self.metric]),
            sign=sign,
            threshold=f"{self.threshold:g}",
            epochs=self.epochs,
        )

    def is_met_by(self, value: float | None) -> bool:
        if value is None or not math.isfinite(value):
            return False
        return value <= self.threshold if self.metric.endswith("loss") else value >= self.threshold


# What an exercise may lock ([lock]): every field the learner sets, and the sections of the
# form it may hide whole; nnplay.locks says what a lock refuses.
LOCKABLE_FIELDS = tuple(
    f"{section}.{f.name}"
    for section, cls in (
        ("task", TaskSpec),
        ("model", ModelSpec),
        ("training", TrainingSpec),
        ("goal", GoalSpec),
    )
    for f in fields(cls)
    if "section" not in f.metadata
)
HIDEABLE_SECTIONS = ("task", "model", "training")


@dataclass
class LockSpec:
    fields: list[str] = rule(
        ChoiceList(LOCKABLE_FIELDS), [], "fields the learner sees but cannot change"
    )
    hide: list[str] = rule(
        ChoiceList(HIDEABLE_SECTIONS), [], "sections the app does not show (and --set refuses)"
    )


@dataclass
class MetaText:
    title: str = rule(Text(200), "", "the exercise's title")
    description: str = rule(Text(), "", "what the exercise is about")
    hints: list[str] = rule(TextList(), [], "hints, revealed one at a time")


@dataclass
class MetaSpec(MetaText):
    zh: MetaText = subsection(MetaText, TRANSLATION_DOC)

    def localized(self) -> MetaText:
        """The title, description and hints in the learner's language."""
        return in_language(self, self.zh)


@dataclass
class CompareText:
    description: str = rule(Text(), "", "what the comparison shows")


@dataclass
class CompareSpec(CompareText):
    """The comparison a preset teaches: `nnplay compare NAME` runs these variants."""

    vary: dict[str, list] = rule(Vary(), {}, "fields and the values to compare (all combinations)")
    variants: list[dict] = rule(VariantList(), [], "or: each variant's own field = value table")
    zh: CompareText = subsection(CompareText, TRANSLATION_DOC)

    def localized(self) -> CompareText:
        """The description in the learner's language."""
        return in_language(self, self.zh)

    def overrides(self) -> list[dict[str, Any]]:
        """Each variant's overrides: the grid of `vary`, else `variants` ([] when neither)."""
        return vary_grid(self.vary) if self.vary else [dict(v) for v in self.variants]


# The settings a run in progress takes between two steps (the app's live edits, a continued run
# file's fork); every other change needs a new run.
LIVE_SETTINGS = ("training.lr", "training.l1", "training.l2", "training.epochs")

SECTIONS = {
    "task": TaskSpec,
    "model": ModelSpec,
    "training": TrainingSpec,
    "goal": GoalSpec,
    "meta": MetaSpec,
    "compare": CompareSpec,
    "lock": LockSpec,
    "predict": PredictSpec,
}


@dataclass
class Experiment:
    task: TaskSpec = field(default_factory=TaskSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    training: TrainingSpec = field(default_factory=TrainingSpec)
    goal: GoalSpec = field(default_factory=GoalSpec)
    meta: MetaSpec = field(default_factory=MetaSpec)
    compare: CompareSpec = field(default_factory=CompareSpec)
    lock: LockSpec = field(default_factory=LockSpec)
    predict: PredictSpec = field(default_factory=PredictSpec)  # asked before the first run
    # Overrides ("training.lr" -> 0.01) that make the exercise meet its goal.
    solution: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> Experiment:
        return copy.deepcopy(self)


# ---------------------------------------------------------------------------------------------
# Building from plain data (TOML tables), with messages that name the field


def from_dict(data: dict, folder: str | Path | None = None) -> Experiment:
    """Build and validate an Experiment from nested plain data (as read from TOML). A CSV
    task's relative task.data is relative to `folder` (the experiment file's), when given.
    A [result] table (a past run's, nnplay.results reads it) is left out: a run makes its own."""
    if not isinstance(data, dict):
        raise ExperimentError(_("experiment: expected a table of sections"))
    unknown = set(data) - set(SECTIONS) - {"solution", RESULT}
    if unknown:
        message = _("{section}: unknown section; allowed: {allowed}")
        raise ExperimentError(
            message.format(
                section=shown(sorted(unknown)[0]),
                allowed=", ".join([*SECTIONS, "solution", RESULT]),
            )
        )
    exp = Experiment()
    for section, cls in SECTIONS.items():
        setattr(exp, section, _section_from_dict(section, cls, data.get(section, {})))
    if folder is not None and exp.task.data:
        exp.task.data = os.path.join(os.path.abspath(folder), os.path.expanduser(exp.task.data))
    solution = data.get("solution", {})
    if not isinstance(solution, dict) or len(solution) > 50:
        raise ExperimentError(_("solution: must be a table of at most 50 field = value overrides"))
    exp.solution = dict(solution)
    check(exp)
    for path, value in exp.solution.items():  # a solution must itself be applicable
        apply_override(exp.copy(), path, value, where=f"solution.{shown(path)}")
    for overrides in exp.compare.overrides():  # and so must every variant compared
        variant = exp.copy()
        for path, value in overrides.items():
            apply_override(variant, path, value, where=f"compare: {shown(path)}")
        check_variant(variant, overrides)
    return exp


def check_variant(exp: Experiment, overrides: dict[str, Any]) -> None:
    """Raise ExperimentError naming the variant when `exp` (base + overrides) does not validate."""
    found = problems(exp)
    if found:
        path, message = found[0]
        shown = ", ".join(f"{k}={_show(v)}" for k, v in overrides.items())
        problem = _("compare: the variant {variant} does not work: {field}: {problem}")
        raise ExperimentError(problem.format(variant=shown, field=path, problem=message))


def _section_from_dict(section: str, cls, table):
    if not isinstance(table, dict):
        raise ExperimentError(_("{section}: must be a table").format(section=section))
    known = [f.name for f in fields(cls)]  # a list: the message lists them in a stable order
    for key in table:
        if key not in known:
            message = _("{field}: unknown field; allowed: {allowed}")
            raise ExperimentError(
                message.format(field=f"{section}.{shown(key)}", allowed=", ".join(known))
            )
    obj = cls()
    for f in fields(cls):
        if f.name not in table or f.name == "hidden":
            continue
        path, value = f"{section}.{f.name}", table[f.name]
        if "section" in f.metadata:
            setattr(obj, f.name, _section_from_dict(path, f.metadata["section"], value))
        else:
            setattr(obj, f.name, checked_value(path, f.metadata["rule"], value))
    if cls is ModelSpec:
        obj.hidden = parse_hidden(table.get("hidden", []), obj.layer_defaults())
    return obj


def checked_value(path: str, r, value):
    """`value` checked by the rule `r` and coerced; ExperimentError names the field `path`."""
    problem = r.check(value)
    if problem:
        raise ExperimentError(f"{path}: {_not_allowed(value, problem)}")
    return r.coerce(value)


def _show(value) -> str:
    """A value as an error message quotes it: escaped, and short."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return shown(repr(value), 62)
    if isinstance(value, int) and not -(10**20) < value < 10**20:
        return _("a {count}-digit number").format(count=len(str(abs(value))))
    return shown(value, 60)


def parse_hidden(value, defaults: dict) -> list[LayerSpec]:
    """Hidden layers: a list of widths and/or tables {units, activation, dropout, batch_norm}."""
    if not isinstance(value, list):
        message = _(
            "{value} is not allowed; must be a list of layer widths, e.g. [16, 16], "
            "or of layer tables"
        )
        raise ExperimentError("model.hidden: " + message.format(value=_show(value)))
    if len(value) > MAX_LAYERS:
        message = _("{count} layers is too many; at most {most}")
        raise ExperimentError("model.hidden: " + message.format(count=len(value), most=MAX_LAYERS))
    layers = []
    for i, item in enumerate(value):
        table = {"units": item, **defaults} if not isinstance(item, dict) else {**defaults, **item}
        layers.append(_section_from_dict(f"model.hidden[{i}]", LayerSpec, table))
    return layers


def check(exp: Experiment) -> None:
    """Raise ExperimentError for the first problem `problems` finds."""
    found = problems(exp)
    if found:
        path, message = found[0]
        raise ExperimentError(f"{path}: {message}")


def problems(exp: Experiment) -> list[tuple[str, str]]:
    """Every problem as (field path, message): field rules first, then how fields combine."""
    found = []
    for section in SECTIONS:
        found += _section_problems(section, getattr(exp, section))
    for i, layer in enumerate(exp.model.hidden):
        found += _section_problems(f"model.hidden[{i}]", layer)
    if found:
        return found
    return _combination_problems(exp) + predict_problems(exp.predict)


def _section_problems(section: str, obj) -> list[tuple[str, str]]:
    found = []
    for f in fields(obj):
        path, value = f"{section}.{f.name}", getattr(obj, f.name)
        if "section" in f.metadata:
            found += _section_problems(path, value)
        elif f.name != "hidden":
            problem = f.metadata["rule"].check(value)
            found += [(path, _not_allowed(value, problem))] if problem else []
    return found


def _not_allowed(value, problem: str) -> str:
    return _("{value} is not allowed; {problem}").format(value=_show(value), problem=problem)


def _data_problems(t: TaskSpec) -> list[tuple[str, str]]:
    """How the task's data fields combine: a CSV task's target and recorded schema, a
    synthetic task's feature names."""
    if not t.data:
        if t.target:
            return [("task.target", _("is only for a CSV task; task.data names its file"))]
        problem = Features().names_problem(t.features)
        return [("task.features", _not_allowed(t.features, problem))] if problem else []
    if not t.target:
        return [("task.target", _("is empty; a CSV task needs the column to predict"))]
    s = t.schema
    if not s.columns:  # not read yet
        return []
    if len(s.mean) != len(s.columns) or len(s.std) != len(s.columns):
        message = _("must hold one number per column of task.schema.columns ({count})")
        return [("task.schema.mean", message.format(count=len(s.columns)))]
    if (len(s.classes) < 2) if s.kind == "classification" else bool(s.classes):
        return [("task.schema.classes", _("must name 2 or more classes, and only for classes"))]
    if s.rows < 2 or not s.sha256:
        return [("task.schema.rows", _("must be 2 or more, with the file's SHA-256"))]
    return []


def _combination_problems(exp: Experiment) -> list[tuple[str, str]]:
    t, tr = exp.task, exp.training
    found = _data_problems(t)
    if found or (t.data and not t.schema.columns):
        return found  # a CSV file not read yet: what its shape decides waits until it is
    try:
        shape = task_shape(t)
    except ExperimentError as e:  # its message starts with the field it is about
        path, _sep, message = str(e).partition(": ")
        return [(path, message)]
    advice = LOSSES[tr.loss].refuses(shape.kind)
    if advice:
        found.append(("training.loss", advice))
    held, tested = held_out(t)
    total = t.schema.rows if t.data else t.samples
    left = csv_data.left_to_train(total, held, tested, t.test_fraction)
    if tested and left:
        found.append(("task.test_fraction", left))
    if not t.data and t.validation == "fraction" and t.samples < 2:
        message = _("{value} is not allowed with validation = fraction; it needs 2 or more")
        found.append(("task.samples", message.format(value=t.samples)))
    if not t.data and t.validation == "split" and t.val_samples >= t.samples:
        found.append(
            (
                "task.val_samples",
                _(
                    "{value} is not allowed; with validation = split it must be less than "
                    "task.samples ({samples})"
                ).format(value=t.val_samples, samples=t.samples),
            )
        )
    if train_samples(t) < 2 and any(layer.batch_norm for layer in exp.model.hidden):
        found.append(
            (
                "task.samples",
                _(
                    "{value} is not allowed with batch norm; it needs at least 2 training samples"
                ).format(value=t.samples),
            )
        )
    if tr.batch_size == 1 and any(layer.batch_norm for layer in exp.model.hidden):
        found.append(
            (
                "training.batch_size",
                _(
                    "1 is not allowed with batch norm; batch norm normalizes over a batch, so "
                    "it needs at least 2 samples per batch"
                ),
            )
        )
    if tr.nesterov and (tr.optimizer != "sgd" or tr.momentum <= 0):
        found.append(
            (
                "training.nesterov",
                _("true is not allowed; Nesterov needs optimizer = sgd and training.momentum > 0"),
            )
        )
    hints, translated = len(exp.meta.hints), len(exp.meta.zh.hints)
    if translated and translated != hints:  # hints are revealed one by one, in step
        message = _(
            "{translated} hints is not allowed; must be as many as meta.hints ({hints}), "
            "in the same order, or none"
        )
        found.append(("meta.zh.hints", message.format(translated=translated, hints=hints)))
    if exp.compare.vary and exp.compare.variants:
        found.append(
            (
                "compare.variants",
                _("is not allowed together with compare.vary; declare the variants one way"),
            )
        )
    if exp.goal.enabled and exp.goal.metric.endswith("accuracy") and shape.kind == "regression":
        found.append(
            (
                "goal.metric",
                _("{value} is not allowed on a regression task; use val_loss or train_loss").format(
                    value=repr(exp.goal.metric)
                ),
            )
        )
    return found


# ---------------------------------------------------------------------------------------------
# Back to plain data and TOML


# A task's fields that mean something only for one source of data: a file leaves those of
# the other source out while they are at their defaults (a synthetic task reads
# task.val_fraction only with validation = fraction). A task without a test set leaves
# task.test_fraction out: files written before it existed read the same.
SYNTHETIC_ONLY = ("name", "samples", "val_samples", "validation", "noise", "dim", "classes")
CSV_ONLY = ("data", "target", "kind", "val_fraction")
QUIET = ("test_fraction",)


def to_dict(exp: Experiment) -> dict:
    out: dict[str, Any] = {}
    for section, cls in SECTIONS.items():
        obj = getattr(exp, section)
        if obj == cls() and section in ("compare", "lock", "predict"):  # most have none
            continue
        table = _table_to_data(obj)
        if cls is TaskSpec:
            unused = (SYNTHETIC_ONLY if exp.task.data else CSV_ONLY) + QUIET
            table = {k: v for k, v in table.items() if k not in unused or v != _DEFAULT_TASK[k]}
        if cls is ModelSpec:
            table = {"hidden": _hidden_to_data(exp.model), **table}
        out[section] = copy.deepcopy(table)
    if exp.solution:
        out["solution"] = dict(exp.solution)
    return out


def _table_to_data(obj) -> dict:
    """A section's fields; a table inside it (a translation) only with the fields it sets."""
    table = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if "section" in f.metadata:
            default = f.metadata["section"]()
            given = {k: v for k, v in _table_to_data(value).items() if v != getattr(default, k)}
            if given:
                table[f.name] = given
        elif f.name != "hidden":
            table[f.name] = value
    return table


def _hidden_to_data(model: ModelSpec) -> list:
    """A layer that only uses the model's defaults is written as its bare width."""
    data = []
    for layer in model.hidden:
        table = {f.name: getattr(layer, f.name) for f in fields(LayerSpec)}
        extra = {k: v for k, v in table.items() if k != "units" and model.layer_defaults()[k] != v}
        data.append({"units": layer.units, **extra} if extra else layer.units)
    return data


def dumps(exp: Experiment) -> str:
    return tomli_w.dumps(to_dict(exp))


def loads(text: str, source: str = "experiment", folder: str | Path | None = None) -> Experiment:
    """An Experiment from untrusted TOML text (bounded in size and nesting before parsing);
    `folder`: the file's, which a relative task.data is relative to."""
    return from_dict(parse_toml(text, shown(source, 300)), folder)


def save(exp: Experiment, path: str | Path) -> Path:
    path = Path(path).expanduser()
    check_writable(path)
    return write_atomic(path, dumps(exp).encode())


def load_file(path: str | Path) -> Experiment:
    path = Path(path).expanduser()
    return loads(read_text(path), source=str(path), folder=path.parent)


def with_data(exp: Experiment, accept_change: bool = False) -> Experiment:
    """`exp` with its CSV file read and the schema recorded afresh (a synthetic task: `exp`
    itself), checked. A file whose SHA-256 is not the one recorded is refused unless
    `accept_change`."""
    out = _read_data(exp, accept_change)
    check(out)
    return out


def _read_data(exp: Experiment, accept_change: bool) -> Experiment:
    t = exp.task
    if not t.data:
        return exp
    check(exp)
    table = csv_data.table_of(t.data, t.target)
    if t.schema.sha256 and table.sha256 != t.schema.sha256 and not accept_change:
        raise csv_data.changed(t.data)
    out = exp.copy()
    schema = csv_data.describe(table, t.features, t.kind, t.val_fraction, t.seed, t.test_fraction)
    out.task.schema = DataSchema(**schema)
    return out


def csv_experiment(path: str | Path, target: str) -> Experiment:
    """A new experiment on the CSV file at `path` that predicts its column `target`: one
    hidden layer of 16 and the loss the target's kind needs."""
    exp = Experiment()
    exp.task.data, exp.task.target = os.path.abspath(path), target
    exp.model.hidden = [LayerSpec(16)]
    exp.training.lr, exp.training.epochs = 0.01, 100
    exp = _read_data(exp, accept_change=False)
    if exp.task.schema.kind == "classification":
        exp.training.loss = "cross_entropy"
    check(exp)
    return exp


# ---------------------------------------------------------------------------------------------
# Overrides: --set section.field=value, and solutions


def parse_value(text: str) -> Any:
    """A --set value as TOML (numbers, true/false, [lists], "strings"); bare words are text."""
    try:
        return parse_toml(f"v = {text}", "--set")["v"]
    except NotToml:
        return text  # a bare word


def parse_assignment(text: str) -> tuple[str, Any]:
    path, sep, value = text.partition("=")
    if not sep or not path.strip():
        message = _("--set {value}: expected section.field=value, e.g. training.lr=0.01")
        raise ExperimentError(message.format(value=shown(text)))
    return path.strip(), parse_value(value.strip())


def apply_override(exp: Experiment, path: str, value: Any, where: str | None = None) -> None:
    """Set one field by its dotted path, validating the value (in place)."""
    where = where or path
    section, _dot, name = path.partition(".")
    cls = SECTIONS.get(section)
    if cls is None or not name:
        message = _(
            "{field}: unknown field; fields look like section.field with section one of {allowed}"
        )
        raise ExperimentError(message.format(field=shown(where), allowed=", ".join(SECTIONS)))
    obj = getattr(exp, section)
    if cls is ModelSpec and name == "hidden":
        obj.hidden = parse_hidden(value, obj.layer_defaults())
        return
    by_name = {f.name: f for f in fields(cls)}
    if name not in by_name:
        message = _("{field}: unknown field; {section} has: {allowed}")
        raise ExperimentError(
            message.format(field=shown(where), section=section, allowed=", ".join(by_name))
        )
    if "section" in by_name[name].metadata:  # a whole table: --set 'meta.zh={title="..."}'
        setattr(obj, name, _section_from_dict(where, by_name[name].metadata["section"], value))
        return
    new = checked_value(where, by_name[name].metadata["rule"], value)
    if path == "task.data" and new != obj.data:
        obj.schema = DataSchema()  # another file: nothing read of it yet
    if cls is ModelSpec and name in obj.layer_defaults():
        # A model-wide default also changes the layers that followed the old default.
        old = getattr(obj, name)
        for layer in obj.hidden:
            if getattr(layer, name) == old:
                setattr(layer, name, new)
    setattr(obj, name, new)


# Settings that mean something only with one choice: the choice's field and whether a value of
# it uses the setting. The form shows them only then; a variant that changes the choice starts
# them from their defaults (an RMSprop variant does not inherit the SGD base's momentum).
OPTIMIZER_SETTINGS = ("momentum", "nesterov", "beta1", "beta2", "eps", "alpha")


def _used_by_optimizer(name: str) -> Callable[[str], bool]:
    return lambda optimizer: name in OPTIMIZERS[optimizer].uses


BELONGS_TO: dict[str, tuple[str, Callable[[str], bool]]] = {
    **{
        f"training.{name}": ("training.optimizer", _used_by_optimizer(name))
        for name in OPTIMIZER_SETTINGS
    },
    "training.step_size": ("training.schedule", lambda s: s == "step"),
    "training.gamma": ("training.schedule", lambda s: s in ("step", "exponential")),
    "model.init_scale": ("model.init", lambda i: i == "uniform"),
}


def value_at(exp: Experiment, path: str) -> Any:
    section, _dot, name = path.partition(".")
    return getattr(getattr(exp, section), name)


def belongs(path: str, exp: Experiment) -> bool:
    """Whether `path` means something with `exp`'s choices (True for a field of no choice)."""
    if path not in BELONGS_TO:
        return True
    choice, uses = BELONGS_TO[path]
    return uses(value_at(exp, choice))


def reset_for_changed_choices(base: Experiment, overrides: dict[str, Any]) -> dict[str, Any]:
    """The settings a variant with `overrides` starts from their defaults: those of each choice
    it changes, unless it sets them itself and unless they are at their defaults already."""
    resets = {}
    for path, (choice, _uses) in BELONGS_TO.items():
        if path in overrides or choice not in overrides:
            continue
        if overrides[choice] == value_at(base, choice):
            continue
        section, _dot, name = path.partition(".")
        default = {f.name: f.default for f in fields(SECTIONS[section])}[name]
        if value_at(base, path) != default:
            resets[path] = default
    return resets


def with_overrides(
    exp: Experiment,
    overrides: dict[str, Any] | list[tuple[str, Any]],
    accept_data_change: bool = False,
) -> Experiment:
    """A validated copy of `exp` with the overrides applied; a CSV task whose data fields
    change reads its file again (with_data)."""
    out = exp.copy()
    items = list(overrides.items() if isinstance(overrides, dict) else overrides)
    for path, value in items:
        apply_override(out, path, value)
    if any(path in DATA_FIELDS for path, _value in items):
        out = with_data(out, accept_data_change)
    check(out)
    return out


def with_solution(exp: Experiment) -> Experiment:
    return with_overrides(exp, exp.solution)


def field_rule(path: str):
    """The rule and help text of a dotted field path (for forms): (rule, doc)."""
    section, _dot, name = path.partition(".")
    cls = LayerSpec if section == "layer" else SECTIONS[section]
    f = {f.name: f for f in fields(cls)}[name]
    doc = f.metadata["doc"]  # marked for translation where the field is declared (rule())
    return f.metadata["rule"], _(doc)
