"""The words a learner sees for each field, and changes phrased in them.

Hints, solutions and diagnostics say "set L2 (weight decay) to 0.01", not `training.l2 = 0.01`:
the form's labels, one table for the form and the advice alike.
"""

from __future__ import annotations

from typing import Any

from nnplay.i18n import N_, _
from nnplay.status import Status

LABELS: dict[str, str] = {
    "task.name": N_("task"),
    "task.samples": N_("samples"),
    "task.val_samples": N_("validation samples"),
    "task.validation": N_("validation set"),
    "task.noise": N_("noise"),
    "task.features": N_("features"),
    "task.dim": N_("inputs"),
    "task.classes": N_("classes"),
    "task.seed": N_("data seed"),
    "task.data": N_("data file"),
    "task.target": N_("target column"),
    "task.kind": N_("kind"),
    "task.val_fraction": N_("validation fraction"),
    "task.test_fraction": N_("test fraction"),
    "task.schema": N_("data schema"),
    "model.hidden": N_("hidden layers"),
    "model.activation": N_("every layer's activation"),
    "model.dropout": N_("every layer's dropout"),
    "model.batch_norm": N_("batch norm in every layer"),
    "model.init": N_("init"),
    "model.init_scale": N_("init scale (a)"),
    "training.loss": N_("loss"),
    "training.optimizer": N_("optimizer"),
    "training.lr": N_("learning rate"),
    "training.momentum": N_("momentum"),
    "training.nesterov": N_("nesterov"),
    "training.beta1": N_("beta1"),
    "training.beta2": N_("beta2"),
    "training.eps": N_("eps"),
    "training.alpha": N_("alpha"),
    "training.schedule": N_("lr schedule"),
    "training.step_size": N_("step size (epochs)"),
    "training.gamma": N_("decay gamma"),
    "training.batch_size": N_("batch size"),
    "training.epochs": N_("epochs"),
    "training.seed": N_("seed"),
    "training.l1": N_("L1"),
    "training.l2": N_("L2 (weight decay)"),
    "training.patience": N_("stop patience"),
    "training.min_delta": N_("stop min delta"),
    "layer.units": N_("units"),
    "layer.activation": N_("activation"),
    "layer.dropout": N_("dropout"),
    "layer.batch_norm": N_("batch norm"),
    "goal.metric": N_("goal metric"),
    "goal.threshold": N_("goal threshold"),
    "goal.epochs": N_("goal epochs"),
}


# A run's status in the words every screen and report uses.
STATUS_WORDS = {
    Status.READY: N_("ready"),
    Status.RUNNING: N_("running"),
    Status.PAUSED: N_("paused"),
    Status.FINISHED: N_("finished"),
    Status.EARLY_STOPPED: N_("early-stopped"),
    Status.DIVERGED: N_("diverged"),
    Status.STOPPED: N_("stopped"),
    Status.ERROR: N_("error"),
}


def status_word(status: Status) -> str:
    return _(STATUS_WORDS[status])


def label(path: str) -> str:
    """The form's word for a field path (the path itself when it has none)."""
    return _(LABELS[path]) if path in LABELS else path


def show_value(value: Any) -> str:
    if isinstance(value, bool):
        return _("on") if value else _("off")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(show_value(v) for v in value)
    return str(value)


def describe_change(path: str, value: Any) -> str:
    """One change in the form's words: "set L2 (weight decay) to 0.01"."""
    if path == "model.hidden":
        if not value:
            return _("remove every hidden layer")
        widths = ", ".join(str(v if isinstance(v, int) else v.get("units", "?")) for v in value)
        if len(value) == 1:
            return _("use one hidden layer of {units} units").format(units=widths)
        message = _("use {count} hidden layers of {units} units")
        return message.format(count=len(value), units=widths)
    if path == "task.features" and isinstance(value, list):
        return _("set the features to {features}").format(features=", ".join(value))
    if isinstance(value, bool):
        return _("turn {field} {value}").format(field=label(path), value=show_value(value))
    return _("set {field} to {value}").format(field=label(path), value=show_value(value))


def describe_changes(overrides: dict[str, Any]) -> str:
    """Several changes as one phrase: "set momentum to 0.9 and set batch size to 20"."""
    parts = [describe_change(path, value) for path, value in overrides.items()]
    if len(parts) == 1:
        return parts[0]
    return _("{changes} and {last}").format(changes=", ".join(parts[:-1]), last=parts[-1])


def _hidden_text(layers) -> str:
    """Hidden layers in a few characters: "8 relu, 8 relu" (or "none")."""
    parts = [
        f"{layer.units} {layer.activation}" if hasattr(layer, "units") else str(layer)
        for layer in layers
    ]
    return ", ".join(parts) or _("none")


def describe_difference(old, new, most: int = 2) -> str:
    """What changed from experiment `old` to `new`, in the form's words:
    "learning rate 0.1 → 0.01" ("same settings" when nothing did); at most `most` changes
    named, then "+N more"."""
    changes = []
    for path in LABELS:
        section, _dot, name = path.partition(".")
        if section not in ("task", "model", "training"):
            continue
        before, after = getattr(getattr(old, section), name), getattr(getattr(new, section), name)
        if before == after:
            continue
        if path == "model.hidden":
            before, after = _hidden_text(before), _hidden_text(after)
        changes.append(f"{label(path)} {show_value(before)} → {show_value(after)}")
    if not changes:
        return _("same settings")
    extra = (
        " " + _("+{count} more").format(count=len(changes) - most) if len(changes) > most else ""
    )
    return "; ".join(changes[:most]) + extra
