"""Training diagnostics: read gradient norms, activation statistics and the loss history, name the
likely problem (vanishing or exploding gradients, dead ReLUs, saturated units, a plateau) and a fix.

The advice reads the run's context: a recent jump of the learning rate is named as the likely
cause of trouble; a run that meets its goal is not told to change what works; the fix for a
plateau suggests only optimizers the run does not already use."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from nnplay.i18n import _
from nnplay.tasks import Baseline, majority_baseline

# Gradients: compare the first layer's gradient norm with the last layer's (layers ordered input → output).
VANISHING_RATIO = 1e-3  # first / last below this: the early layers barely learn
EXPLODING_RATIO = 1e3  # first / last above this: gradients grow on the way back
EXPLODING_NORM = 1e3  # any layer's norm above this (or not finite)
# Activations, measured on one batch.
DEAD_FRACTION = 0.5  # ReLU units that never fire on the batch
SATURATED_FRACTION = 0.5  # sigmoid/tanh outputs stuck near their bounds
SATURATION_MARGIN = 0.02  # "near" = within this of a bound, on the 0..1 scale of the output range
# Loss history, one value per epoch.
PLATEAU_EPOCHS = 5
PLATEAU_CHANGE = 1e-3  # relative change over the last PLATEAU_EPOCHS epochs
SMALL_LOSS = 1e-3  # a flat loss this low is a finished run, not a plateau
TRAINER_SAMPLES = 256  # training samples whose activations diagnose_trainer measures
# Learning rate: a rise by this factor within the last few epochs is a jump (schedules only lower it).
LR_JUMP_FACTOR = 3.0
LR_JUMP_EPOCHS = 3
BASELINE_MARGIN = 0.005  # an accuracy this close to the majority-class baseline sits on it
# With the goal met, only these still need action: the run can still blow up.
STILL_URGENT = ("exploding",)

RELU_FAMILY = (nn.ReLU, nn.LeakyReLU, nn.GELU)
SQUASHING = {nn.Sigmoid: (0.0, 1.0), nn.Tanh: (-1.0, 1.0)}  # output bounds


@dataclass
class Finding:
    code: str
    cause: str
    fix: str
    layer: str | None = None
    value: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ActivationStats:
    layer: str  # the module's name in the model
    kind: str  # ReLU, Sigmoid, …
    units: int
    mean: float
    std: float
    never_active: float | None  # ReLU family: fraction of units whose input is never positive
    saturated: float | None  # sigmoid/tanh: fraction of outputs within the margin of a bound
    hidden: bool = True  # False for the output activation, which may rightly sit at its bounds

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RunContext:
    """What the run is doing, so the advice fits it (all optional: the lab diagnoses bare models)."""

    optimizer: str = ""  # registry name, e.g. "adam"
    momentum: float = 0.0
    lrs: list[float] = field(
        default_factory=list
    )  # the lr of each finished epoch, then the current
    goal_met: bool = False
    val_accuracy: list[float] = field(default_factory=list)  # per epoch (classification)
    baseline: Baseline | None = None  # of the validation data (classification)


def _stats(
    name: str, module: nn.Module, pre: torch.Tensor, out: torch.Tensor, hidden: bool
) -> ActivationStats:
    pre, out = pre.detach().flatten(1), out.detach().flatten(1)  # samples × units
    never_active = saturated = None
    if isinstance(module, RELU_FAMILY):
        never_active = (pre <= 0).all(dim=0).float().mean().item()
    for kind, (low, high) in SQUASHING.items():
        if isinstance(module, kind):
            scaled = (out - low) / (high - low)
            near = (scaled < SATURATION_MARGIN) | (scaled > 1 - SATURATION_MARGIN)
            saturated = near.float().mean().item()
    return ActivationStats(
        name,
        type(module).__name__,
        out.shape[1],
        out.mean().item(),
        out.std().item() if out.numel() > 1 else 0.0,
        never_active,
        saturated,
        hidden,
    )


def activation_stats(model: nn.Module, X: torch.Tensor) -> list[ActivationStats]:
    """Run X through the model once (eval mode, no gradients) and describe every activation layer."""
    watched = RELU_FAMILY + tuple(SQUASHING)
    stats, hooks = [], []
    modules = list(model.named_modules())
    last_linear = max(
        (i for i, (_name, m) in enumerate(modules) if isinstance(m, nn.Linear)), default=-1
    )
    output_activation = next(
        (m for _name, m in modules[last_linear + 1 :] if isinstance(m, watched)), None
    )
    for name, module in modules:
        if isinstance(module, watched):

            def record(module, inputs, output, name=name):
                stats.append(
                    _stats(name, module, inputs[0], output, module is not output_activation)
                )

            hooks.append(module.register_forward_hook(record))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(X)
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return stats


def gradient_flags(grad_norms: dict[str, float]) -> list[Finding]:
    flags = []
    for layer, norm in grad_norms.items():
        if not math.isfinite(norm) or norm > EXPLODING_NORM:
            flags.append(
                Finding(
                    "exploding",
                    _("{layer}'s gradient norm is {norm}: the gradients explode").format(
                        layer=layer, norm=f"{norm:.3g}"
                    ),
                    _("lower the learning rate, clip gradients, or add batch norm"),
                    layer,
                    norm,
                )
            )
            return flags
    if len(grad_norms) < 2:
        return flags
    (first_name, first), (_last_name, last) = (
        list(grad_norms.items())[0],
        list(grad_norms.items())[-1],
    )
    if last == 0:  # nothing reaches even the last layer: a flat loss, not a depth problem
        return flags
    ratio = first / last
    if ratio < VANISHING_RATIO:
        flags.append(
            Finding(
                "vanishing",
                _(
                    "the first layer's gradient is {ratio} × the last layer's: "
                    "early layers barely learn"
                ).format(ratio=f"{ratio:.1e}"),
                _("use ReLU in hidden layers, add batch norm, or use fewer layers"),
                first_name,
                ratio,
            )
        )
    elif ratio > EXPLODING_RATIO:
        flags.append(
            Finding(
                "exploding",
                _(
                    "the first layer's gradient is {ratio} × the last layer's: "
                    "gradients grow on the way back"
                ).format(ratio=f"{ratio:.1e}"),
                _("lower the learning rate, clip gradients, or use smaller initial weights"),
                first_name,
                ratio,
            )
        )
    return flags


def activation_flags(activations: list[ActivationStats]) -> list[Finding]:
    flags = []
    for a in (a for a in activations if a.hidden):
        # Only plain ReLU dies: LeakyReLU and GELU still pass a gradient for negative inputs.
        if a.kind == "ReLU" and a.never_active is not None and a.never_active > DEAD_FRACTION:
            flags.append(
                Finding(
                    "dead_relu",
                    _(
                        "{share} of the ReLU units in layer {layer} never fire: "
                        "they get no gradient"
                    ).format(share=f"{a.never_active:.0%}", layer=a.layer),
                    _("lower the learning rate, use LeakyReLU, or add batch norm"),
                    a.layer,
                    a.never_active,
                )
            )
        if a.saturated is not None and a.saturated > SATURATED_FRACTION:
            flags.append(
                Finding(
                    "saturated",
                    _(
                        "{share} of the {kind} outputs in layer {layer} sit at their bounds, "
                        "where the slope is near zero"
                    ).format(share=f"{a.saturated:.0%}", kind=a.kind, layer=a.layer),
                    _("normalize the inputs, use smaller initial weights, or switch to ReLU"),
                    a.layer,
                    a.saturated,
                )
            )
    return flags


# Learning rates so large that a flat loss means saturated units, not small steps: advising a
# higher rate there would be wrong (adaptive optimizers scale their steps, so their bar is lower).
LARGE_LR = {"adam": 0.1, "adamw": 0.1, "rmsprop": 0.1, "adagrad": 1.0, "sgd": 1.0}


def plateau_fix(context: RunContext) -> str:
    """Suggest only what the run does not do already (no Adam for a run on Adam)."""
    lr = context.lrs[-1] if context.lrs else None
    if lr is not None and lr >= LARGE_LR.get(context.optimizer, 1.0):
        return _(
            "lower the learning rate: steps this large (lr {lr}) push the units into "
            "saturation, where the gradient vanishes"
        ).format(lr=f"{lr:g}")
    if context.optimizer in ("adam", "adamw"):
        return _("raise the learning rate, or check for vanishing gradients")
    if context.optimizer == "sgd" and not context.momentum:
        return _("raise the learning rate, add momentum, or switch the optimizer to Adam")
    if context.optimizer:
        return _("raise the learning rate, or switch the optimizer to Adam")
    return _("raise the learning rate, use momentum or Adam, or check for vanishing gradients")


def plateau_flags(losses: list[float], context: RunContext | None = None) -> list[Finding]:
    if len(losses) <= PLATEAU_EPOCHS:
        return []
    before, now = losses[-PLATEAU_EPOCHS - 1], losses[-1]
    change = abs(now - before) / max(abs(before), 1e-12)
    if change < PLATEAU_CHANGE and now > SMALL_LOSS:
        return [
            Finding(
                "plateau",
                _(
                    "the loss moved {change} (relative) over the last {epochs} epochs "
                    "and is still {loss}"
                ).format(change=f"{change:.1e}", epochs=PLATEAU_EPOCHS, loss=f"{now:.3g}"),
                plateau_fix(context or RunContext()),
                None,
                change,
            )
        ]
    return []


def majority_flags(context: RunContext) -> list[Finding]:
    """Validation accuracy flat on the majority-class baseline: the network answers one class."""
    recent, baseline = context.val_accuracy[-PLATEAU_EPOCHS:], context.baseline
    if baseline is None or len(recent) < PLATEAU_EPOCHS or None in recent:
        return []
    if all(abs(a - baseline.accuracy) <= BASELINE_MARGIN for a in recent):
        return [
            Finding(
                "majority",
                _("the validation accuracy is flat: {baseline} (class {label})").format(
                    baseline=baseline.explain(), label=baseline.label
                ),
                _(
                    "it has learned nothing yet: check the learning rate, the optimizer and "
                    "the gradients"
                ),
                None,
                baseline.accuracy,
            )
        ]
    return []


def lr_jump_flag(lrs: list[float], losses: list[float], trouble: bool) -> Finding | None:
    """A learning rate raised in the last few epochs, when something went wrong since (other
    flags, or a loss above the one before the jump): the rate is the likely cause."""
    first = max(1, len(lrs) - LR_JUMP_EPOCHS - 1)
    jump = next(
        (
            i
            for i in range(len(lrs) - 1, first - 1, -1)
            if lrs[i] >= LR_JUMP_FACTOR * lrs[i - 1] > 0
        ),
        None,
    )
    if jump is None:
        return None
    # lrs[i] is the rate of epoch i + 1: the loss before the jump is that of epoch `jump`.
    rose = jump - 1 < len(losses) - 1 and losses[-1] > losses[jump - 1]
    if not (trouble or rose):
        return None
    before, after = lrs[jump - 1], lrs[jump]
    return Finding(
        "lr_jump",
        _("the learning rate went up from {before} to {after}: the likely cause").format(
            before=f"{before:g}", after=f"{after:g}"
        ),
        _("lower the learning rate again (it was {before})").format(before=f"{before:g}"),
        None,
        after / before,
    )


def diagnose(
    grad_norms: dict[str, float],
    activations: list[ActivationStats] | None = None,
    losses: list[float] | None = None,
    context: RunContext | None = None,
) -> list[Finding]:
    """All flags that apply: a learning-rate jump that explains them first, then gradients,
    activations and the loss. With the goal met, only what still needs action."""
    context = context or RunContext()
    losses = losses or []
    flags = (
        gradient_flags(grad_norms)
        + activation_flags(activations or [])
        + plateau_flags(losses, context)
        + majority_flags(context)
    )
    if context.goal_met:
        flags = [f for f in flags if f.code in STILL_URGENT]
    jump = lr_jump_flag(context.lrs, losses, bool(flags))
    return [jump, *flags] if jump else flags


def run_context(trainer) -> RunContext:
    t = trainer.exp.training
    goal = trainer.goal()
    classification = trainer.shape.kind != "regression"
    return RunContext(
        t.optimizer,
        t.momentum,
        [*trainer.history.lr, trainer.lr],
        goal is not None and goal.met,
        list(trainer.history.val_accuracy),
        majority_baseline(trainer.y_val.numpy()) if classification else None,
    )


def diagnose_trainer(trainer) -> list[Finding]:
    """Diagnose an nnplay Trainer: its last step's gradients, its activations on the first training
    samples, and its per-epoch training loss, in the context of its settings and goal."""
    activations = activation_stats(trainer.model, trainer.X_train[:TRAINER_SAMPLES])
    return diagnose(
        trainer.grad_norms(), activations, trainer.history.train_loss, run_context(trainer)
    )
