"""The words a learner sees for each field, and changes phrased in them.

Hints, solutions and diagnostics say "set L2 (weight decay) to 0.01", not `training.l2 = 0.01`:
the form's labels, one table for the form and the advice alike.
"""

from __future__ import annotations

from typing import Any

LABELS: dict[str, str] = {
    "task.name": "task",
    "task.samples": "samples",
    "task.val_samples": "validation samples",
    "task.validation": "validation set",
    "task.noise": "noise",
    "task.features": "features",
    "task.dim": "inputs",
    "task.classes": "classes",
    "task.seed": "data seed",
    "model.hidden": "hidden layers",
    "model.activation": "every layer's activation",
    "model.dropout": "every layer's dropout",
    "model.batch_norm": "batch norm in every layer",
    "model.init": "init",
    "model.init_scale": "init scale (a)",
    "training.loss": "loss",
    "training.optimizer": "optimizer",
    "training.lr": "learning rate",
    "training.momentum": "momentum",
    "training.nesterov": "nesterov",
    "training.beta1": "beta1",
    "training.beta2": "beta2",
    "training.eps": "eps",
    "training.alpha": "alpha",
    "training.schedule": "lr schedule",
    "training.step_size": "step size (epochs)",
    "training.gamma": "decay gamma",
    "training.batch_size": "batch size",
    "training.epochs": "epochs",
    "training.seed": "seed",
    "training.l1": "L1",
    "training.l2": "L2 (weight decay)",
    "training.patience": "stop patience",
    "training.min_delta": "stop min delta",
    "layer.units": "units",
    "layer.activation": "activation",
    "layer.dropout": "dropout",
    "layer.batch_norm": "batch norm",
    "goal.metric": "goal metric",
    "goal.threshold": "goal threshold",
    "goal.epochs": "goal epochs",
}


def label(path: str) -> str:
    """The form's word for a field path (the path itself when it has none)."""
    return LABELS.get(path, path)


def show_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(show_value(v) for v in value)
    return str(value)


def describe_change(path: str, value: Any) -> str:
    """One change in the form's words: "set L2 (weight decay) to 0.01"."""
    if path == "model.hidden":
        if not value:
            return "remove every hidden layer"
        widths = [v if isinstance(v, int) else v.get("units", "?") for v in value]
        layers = "one hidden layer" if len(widths) == 1 else f"{len(widths)} hidden layers"
        return f"use {layers} of {', '.join(map(str, widths))} units"
    if path == "task.features" and isinstance(value, list):
        return f"set the features to {', '.join(value)}"
    if isinstance(value, bool):
        return f"turn {label(path)} {show_value(value)}"
    return f"set {label(path)} to {show_value(value)}"


def describe_changes(overrides: dict[str, Any]) -> str:
    """Several changes as one phrase: "set momentum to 0.9 and set batch size to 20"."""
    parts = [describe_change(path, value) for path, value in overrides.items()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _hidden_text(layers) -> str:
    """Hidden layers in a few characters: "8 relu, 8 relu" (or "none")."""
    parts = [
        f"{layer.units} {layer.activation}" if hasattr(layer, "units") else str(layer)
        for layer in layers
    ]
    return ", ".join(parts) or "none"


def describe_difference(old, new, most: int = 2) -> str:
    """What changed from experiment `old` to `new`, in the form's words:
    "learning rate 0.1 → 0.01" ("same settings" when nothing did); at most `most` changes
    named, then "+N more"."""
    changes = []
    for path in LABELS:
        section, _, name = path.partition(".")
        if section not in ("task", "model", "training"):
            continue
        before, after = getattr(getattr(old, section), name), getattr(getattr(new, section), name)
        if before == after:
            continue
        if path == "model.hidden":
            before, after = _hidden_text(before), _hidden_text(after)
        changes.append(f"{label(path)} {show_value(before)} → {show_value(after)}")
    if not changes:
        return "same settings"
    extra = f" +{len(changes) - most} more" if len(changes) > most else ""
    return "; ".join(changes[:most]) + extra
