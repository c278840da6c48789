"""What the build form holds, and how its text becomes a validated Experiment.

No Textual here: the form widgets hand in raw values (text from inputs, choices, booleans) and
get back the Experiment, or the problems keyed by field path for inline display. Every message
comes from the one schema in `nnplay.experiment`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from nnplay.errors import ExperimentError
from nnplay.experiment import (
    LIVE_SETTINGS,
    SYNTHETIC_ONLY,
    Experiment,
    LayerSpec,
    apply_override,
    belongs,
    field_rule,
    parse_value,
    problems,
    value_at,
)
from nnplay.i18n import N_, _
from nnplay.labels import label
from nnplay.rules import Choice, Flag
from nnplay.tasks import TASKS

value_of = value_at  # the form's name for the one reader of a dotted field


@dataclass(frozen=True)
class FormField:
    path: str

    @property
    def label(self) -> str:
        """The field's word in the learner's language (asked when shown: the language is set
        after import)."""
        note = DEFAULT_NOTES.get(self.path)
        return label(self.path) + (_(note) if note else "")

    @property
    def rule(self):
        return field_rule(self.path)[0]

    @property
    def help(self) -> str:
        rule, doc = field_rule(self.path)
        return f"{doc} ({rule.describe()})"

    @property
    def is_choice(self) -> bool:
        return isinstance(self.rule, Choice)

    @property
    def is_flag(self) -> bool:
        return isinstance(self.rule, Flag)


# What a synthetic task's form sets, that a CSV task does not have.
SYNTHETIC_FIELDS = (*(f"task.{name}" for name in SYNTHETIC_ONLY), "task.features")

# The form's words come from nnplay.labels, the same words hints and solutions speak.
DEFAULT_NOTES = {"task.dim": N_(" (0: auto)"), "task.classes": N_(" (0: auto)")}  # fits the column


def form_fields(*paths: str) -> list[FormField]:
    return [FormField(path) for path in paths]


# Section titles are marked here and translated where they are shown; the keys name the sections.
FORM_SECTIONS: dict[str, list[FormField]] = {
    N_("Data"): form_fields(
        "task.name",
        "task.samples",
        "task.val_samples",
        "task.validation",
        "task.val_fraction",
        "task.test_fraction",
        "task.noise",
        "task.features",
        "task.dim",
        "task.classes",
        "task.seed",
    ),
    N_("Network"): form_fields("model.init", "model.init_scale"),
    N_("Training"): form_fields(
        "training.loss",
        "training.optimizer",
        "training.lr",
        "training.momentum",
        "training.nesterov",
        "training.beta1",
        "training.beta2",
        "training.eps",
        "training.alpha",
        "training.schedule",
        "training.step_size",
        "training.gamma",
        "training.batch_size",
        "training.epochs",
        "training.seed",
    ),
    N_("Regularization"): form_fields(
        "training.l1", "training.l2", "training.patience", "training.min_delta"
    ),
}


def visible(path: str, exp: Experiment) -> bool:
    """Only the settings that matter for the current choices are shown."""
    section, _dot, name = path.partition(".")
    if exp.task.data and path in SYNTHETIC_FIELDS:
        return False  # a CSV task's data is its file's (its features: a list of its columns)
    if path == "task.val_samples":  # the ratio (validation = fraction) says it instead
        return exp.task.validation != "fraction"
    if path == "task.val_fraction":
        return bool(exp.task.data) or exp.task.validation == "fraction"
    task = TASKS[exp.task.name]
    if path == "task.dim":
        return task.min_dim != task.max_dim
    if path == "task.classes":
        return task.class_range is not None
    if path == "training.min_delta":
        return exp.training.patience > 0
    return belongs(path, exp)


def text_of(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def shown(value) -> str:
    """A value as the learner typed or chose it; nothing internal (like Select.NULL)."""
    if isinstance(value, (bool, int, float, str)):
        return text_of(value) or _("empty")
    return _("nothing chosen")


def layer_values(layer: LayerSpec) -> dict:
    """A layer's fields as a layer row shows them (`LayerSpec()`: a new layer's defaults)."""
    return asdict(layer)


def _typed(raw):
    """Text from an input becomes a number or bool where it reads as one."""
    if not isinstance(raw, str):
        return raw
    if not raw.strip():
        return raw
    return parse_value(raw.strip())


def build(
    base: Experiment, values: dict[str, object], layers: list[dict[str, object]]
) -> tuple[Experiment, dict[str, str]]:
    """Apply the form's values to a copy of `base`: (experiment, problems by field path).

    The experiment is usable only when there are no problems; a field that failed keeps the
    base's value in it.
    """
    exp = base.copy()
    errors: dict[str, str] = {}
    for path, raw in values.items():
        _apply(exp, path, raw, errors)
    exp.model.hidden = []
    for i, layer in enumerate(layers):
        spec = LayerSpec()
        for name, raw in layer.items():
            path = f"model.hidden[{i}].{name}"
            value = _typed(raw)
            problem = field_rule(f"layer.{name}")[0].check(value)
            if problem:
                message = _("{value} is not allowed; {problem}")
                errors[path] = message.format(value=shown(value), problem=problem)
            else:
                setattr(spec, name, field_rule(f"layer.{name}")[0].coerce(value))
        exp.model.hidden.append(spec)
    if not errors:
        for path, message in problems(exp):
            errors[path] = message
    return exp, errors


def _apply(exp: Experiment, path: str, raw, errors: dict[str, str]) -> None:
    try:
        apply_override(exp, path, _typed(raw))
    except ExperimentError as e:
        errors[path] = str(e).removeprefix(f"{path}: ")


def needs_reset(running: Experiment, edited: Experiment) -> bool:
    """True when `edited` differs from the running experiment in more than live fields."""
    a, b = running.copy(), edited.copy()
    for path in LIVE_SETTINGS:
        apply_override(b, path, value_of(a, path))
    a.meta = b.meta  # titles and hints never need a reset
    return a != b
