"""Training diagnostics: read gradient norms, activation statistics and the loss history, name the
likely problem and its fix: too_simple, lr_too_high, lr_too_low, plateau, at_baseline, overfitting,
vanishing_gradients, exploding_gradients, dead_relu, saturated. The one place advice is made: the
app, `nnplay train` and `compare` (through nnplay.summary) all show these.

The advice reads the run's context: a recent jump of the learning rate is named as the likely
cause of trouble; a run that meets its goal is not told to change what works; the fix for a
plateau suggests only optimizers the run does not already use."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from itertools import pairwise

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
STILL_URGENT = ("exploding_gradients",)
# Capacity: accuracy below this on the training data, with validation as close as this to it.
LOW_ACCURACY = 0.9
HIGH_BIAS_GAP = 0.05
FLAT_CHANGE = 1e-2  # a loss that moved less than this (relative) over PLATEAU_EPOCHS has stopped
# Too small a rate: the loss falls every epoch, by less than SLOW_CHANGE (relative) per epoch,
# and has come down less than SLOW_PROGRESS of the way from its start.
SLOW_CHANGE = 5e-3
SLOW_PROGRESS = 0.5
# Too large a rate: the loss ends above its start by this factor, or rises by OSCILLATION_RISE
# at least OSCILLATION_RISES times within the last OSCILLATION_EPOCHS epochs.
ABOVE_START = 1.05
OSCILLATION_EPOCHS = 10
OSCILLATION_RISE = 1.2
OSCILLATION_RISES = 3
# Overfitting: the validation loss this far above its lowest, at least OVERFIT_EPOCHS after it.
OVERFIT_EPOCHS = 5
OVERFIT_RISE = 1.1
# Regression losses: on a classification task they are the suspect, not the capacity.
REGRESSION_LOSSES = ("mse", "mae", "smooth_l1")

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

    def message(self) -> str:
        return f"{self.cause} → {self.fix}"

    def to_summary(self) -> dict:
        """How a run's summary (and --json) carries it."""
        return {"kind": self.code, "message": self.message()}


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
    train_accuracy: list[float] = field(default_factory=list)  # per epoch (classification)
    val_losses: list[float] = field(default_factory=list)  # per epoch
    initial_loss: float | None = None  # the training loss before the first step
    hidden_layers: int = -1  # -1: unknown (a bare model)
    loss: str = ""  # the loss's registry name, on a classification task


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
                    "exploding_gradients",
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
                "vanishing_gradients",
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
                "exploding_gradients",
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


# Learning rates so large that a flat loss means saturated units, not small steps (adaptive
# optimizers scale their steps, so their bar is lower).
LARGE_LR = {"adam": 0.1, "adamw": 0.1, "rmsprop": 0.1, "adagrad": 1.0, "sgd": 1.0}


def capacity_flags(losses: list[float], context: RunContext) -> list[Finding]:
    """Training and validation accuracy both low and close while the loss has stopped falling:
    the network is too simple for the pattern (high bias), not badly trained."""
    train, val = context.train_accuracy[-1:], context.val_accuracy[-1:]
    if not train or train[0] is None or val[0] is None or not _flat(losses):
        return []
    if context.loss in REGRESSION_LOSSES:  # the loss, not the capacity, is the suspect
        return []
    if train[0] >= LOW_ACCURACY or abs(train[0] - val[0]) > HIGH_BIAS_GAP:
        return []
    shares = {"train": f"{train[0]:.3f}", "val": f"{val[0]:.3f}"}
    if context.hidden_layers == 0:
        cause = _(
            "without a hidden layer the network draws one straight boundary, and this data "
            "needs a curve: accuracy stays at {train} (train) / {val} (val)"
        ).format(**shares)
        fix = _("add a hidden layer (8 units is a good start)")
    else:
        cause = _(
            "training and validation accuracy are both low ({train} / {val}) and the loss no "
            "longer falls: the network is too small for this pattern (underfitting)"
        ).format(**shares)
        fix = _("add units or another hidden layer")
    return [Finding("too_simple", cause, fix, None, train[0])]


def _flat(losses: list[float]) -> bool:
    if len(losses) <= PLATEAU_EPOCHS:
        return False
    before, now = losses[-PLATEAU_EPOCHS - 1], losses[-1]
    return abs(now - before) / max(abs(before), 1e-12) < FLAT_CHANGE


def plateau_flags(losses: list[float], context: RunContext | None = None) -> list[Finding]:
    """The loss barely moves: a different optimizer or rate may get it going (the causes with
    a clearer reason are found by the other checks first)."""
    if len(losses) <= PLATEAU_EPOCHS:
        return []
    context = context or RunContext()
    before, now = losses[-PLATEAU_EPOCHS - 1], losses[-1]
    change = abs(now - before) / max(abs(before), 1e-12)
    if change >= PLATEAU_CHANGE or now <= SMALL_LOSS:
        return []
    if context.optimizer in ("adam", "adamw"):
        fix = _("raise the learning rate a little, or try a learning-rate schedule")
    elif context.optimizer == "sgd" and not context.momentum:
        fix = _("raise the learning rate, add momentum, or switch the optimizer to Adam")
    else:
        fix = _("raise the learning rate, or switch the optimizer to Adam")
    cause = _(
        "the loss moved {change} (relative) over the last {epochs} epochs and is still {loss}"
    ).format(change=f"{change:.1e}", epochs=PLATEAU_EPOCHS, loss=f"{now:.3g}")
    return [Finding("plateau", cause, fix, None, change)]


def slow_flags(losses: list[float], context: RunContext) -> list[Finding]:
    """The loss falls every epoch, but by so little that the budget ends long before it
    arrives: the steps are too small."""
    if len(losses) <= PLATEAU_EPOCHS or context.initial_loss is None:
        return []
    recent = losses[-PLATEAU_EPOCHS - 1 :]
    falling = all(b < a for a, b in pairwise(recent))
    per_epoch = (recent[0] - recent[-1]) / PLATEAU_EPOCHS / max(abs(recent[0]), 1e-12)
    learned = 1 - losses[-1] / max(context.initial_loss, 1e-12)
    if not (falling and per_epoch < SLOW_CHANGE and learned < SLOW_PROGRESS):
        return []
    lr = context.lrs[-1] if context.lrs else None
    cause = _(
        "the loss falls every epoch but only {share} per epoch: the steps are too small "
        "(learning rate {lr})"
    ).format(share=f"{per_epoch:.2%}", lr="-" if lr is None else f"{lr:g}")
    return [Finding("lr_too_low", cause, _("raise the learning rate, e.g. ×10"), None, per_epoch)]


def baseline_flags(context: RunContext) -> list[Finding]:
    """Validation accuracy flat on the majority-class baseline: the network answers one class."""
    recent, baseline = context.val_accuracy[-PLATEAU_EPOCHS:], context.baseline
    if baseline is None or len(recent) < PLATEAU_EPOCHS or None in recent:
        return []
    if not all(abs(a - baseline.accuracy) <= BASELINE_MARGIN for a in recent):
        return []
    if context.loss in REGRESSION_LOSSES:
        fix = _(
            "{loss} is a regression loss: on yes/no targets its best constant answer is the "
            "majority class, and it gives little gradient away from it; use bce (or "
            "cross_entropy for several classes)"
        ).format(loss=context.loss)
    else:
        fix = _("check the learning rate and the gradients: the network has learned nothing yet")
    cause = _("the validation accuracy is flat: {baseline} (class {label})").format(
        baseline=baseline.explain(), label=baseline.label
    )
    return [Finding("at_baseline", cause, fix, None, baseline.accuracy)]


def overfitting_flags(context: RunContext, losses: list[float]) -> list[Finding]:
    """Validation loss rising for a while since its lowest point while the training loss
    still falls, and now above it: the network learns the training set's noise. A validation
    loss still below the training loss has no gap to blame on memorizing (a small data set's
    validation rows can simply be easier; iris shows it)."""
    val = context.val_losses
    if len(val) < OVERFIT_EPOCHS * 2 or len(losses) != len(val):
        return []
    best = min(range(len(val)), key=val.__getitem__)
    rising = len(val) - 1 - best >= OVERFIT_EPOCHS and val[-1] > val[best] * OVERFIT_RISE
    if not (rising and losses[-1] < losses[best] and val[-1] > losses[-1]):
        return []
    cause = _(
        "the validation loss rose from {best} (epoch {epoch}) to {now} while the training "
        "loss kept falling: the network memorizes the training data"
    ).format(best=f"{val[best]:.3g}", epoch=best + 1, now=f"{val[-1]:.3g}")
    fix = _("add L2 (weight decay) or dropout, stop early (patience), or use more data")
    return [Finding("overfitting", cause, fix, None, val[-1] / val[best])]


def lr_high_flags(lrs: list[float], losses: list[float], context: RunContext) -> list[Finding]:
    """The steps overshoot: the loss ended above where it started, or jumps up and down."""
    start = context.initial_loss
    lr = lrs[-1] if lrs else None
    lower = (
        _("lower the learning rate")
        if lr is None
        else _("lower the learning rate, e.g. to {lr}").format(lr=f"{lr / 10:g}")
    )
    if start is not None and len(losses) >= 2 and losses[-1] > start * ABOVE_START:
        cause = _(
            "the loss ended at {now}, above where it started ({start}): the steps overshoot"
        ).format(now=f"{losses[-1]:.3g}", start=f"{start:.3g}")
        return [Finding("lr_too_high", cause, lower, None, losses[-1] / start)]
    if lr is not None and lr >= LARGE_LR.get(context.optimizer, 1.0) and _flat(losses):
        cause = _(
            "the loss is stuck at {loss}: steps this large (lr {lr}) push the units into "
            "saturation, where the gradient vanishes"
        ).format(loss=f"{losses[-1]:.3g}", lr=f"{lr:g}")
        return [Finding("lr_too_high", cause, lower, None, lr)]
    recent = losses[-OSCILLATION_EPOCHS:]
    rises = sum(b > a * OSCILLATION_RISE for a, b in pairwise(recent))
    if len(recent) == OSCILLATION_EPOCHS and rises >= OSCILLATION_RISES:
        cause = _(
            "the loss jumped up {count} times in the last {epochs} epochs: the steps overshoot "
            "the valley instead of settling in it"
        ).format(count=rises, epochs=OSCILLATION_EPOCHS)
        return [Finding("lr_too_high", cause, lower, None, float(rises))]
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
        "lr_too_high",
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
    """The causes that apply, each once, the most fundamental first. A rate that is too high
    explains flat, saturated or majority-class runs, so it stands alone (with exploding
    gradients); so does a network too simple for its data. With the goal met, only what still
    needs action."""
    context = context or RunContext()
    losses = losses or []
    gradients = gradient_flags(grad_norms)
    exploding = [f for f in gradients if f.code == "exploding_gradients"]
    symptoms = gradients + activation_flags(activations or []) + baseline_flags(context)
    jump = lr_jump_flag(context.lrs, losses, bool(symptoms) or _flat(losses))
    high = [jump] if jump else lr_high_flags(context.lrs, losses, context)
    if high:
        flags = high + exploding
    else:
        slow = slow_flags(losses, context)
        # Gradients or units that cannot learn explain low accuracy before capacity does.
        stuck = any(f.code != "at_baseline" for f in symptoms)
        simple = [] if slow or stuck else capacity_flags(losses, context)
        rest = symptoms + overfitting_flags(context, losses)
        if simple:
            rest = [f for f in rest if f.code != "at_baseline"]
        explained = simple or slow or any(f.code == "at_baseline" for f in rest)
        flat = [] if explained else plateau_flags(losses, context)
        flags = simple + slow + rest + flat
    if context.goal_met:
        flags = [f for f in flags if f.code in STILL_URGENT]
    return flags


def still_met(trainer) -> bool:
    """The goal was met and the weights the run has now still meet it: a run can go on past
    its goal's epochs (a raised rate, a longer budget) and lose what it had."""
    goal = trainer.goal()
    if goal is None or not goal.met or trainer.weights_epoch == 0:
        return False
    values = getattr(trainer.history, trainer.exp.goal.metric)
    return trainer.exp.goal.is_met_by(values[trainer.weights_epoch - 1])


def run_context(trainer) -> RunContext:
    t = trainer.exp.training
    classification = trainer.shape.kind != "regression"
    h = trainer.history
    return RunContext(
        t.optimizer,
        t.momentum,
        [*h.lr, trainer.lr],
        still_met(trainer),
        list(h.val_accuracy),
        majority_baseline(trainer.y_val.numpy()) if classification else None,
        list(h.train_accuracy),
        list(h.val_loss),
        trainer.initial_metrics()["train_loss"],
        len(trainer.exp.model.hidden),
        t.loss if classification else "",
    )


def diagnose_trainer(trainer) -> list[Finding]:
    """Diagnose an nnplay Trainer: its last step's gradients, its activations on the first training
    samples, and its per-epoch training loss, in the context of its settings and goal."""
    activations = activation_stats(trainer.model, trainer.X_train[:TRAINER_SAMPLES])
    return diagnose(
        trainer.grad_norms(), activations, trainer.history.train_loss, run_context(trainer)
    )
