"""Training diagnostics: flags with a one-line cause and fix, from what a run shows.

Inputs are plain: per-layer gradient norms (input layer first), activation statistics on a
batch, and the loss per epoch. Thresholds are named so the lessons can quote them.
"""

from __future__ import annotations

from dataclasses import dataclass

VANISHING_RATIO = 1e-3  # first layer's gradient norm / last layer's
VANISHING_ABSOLUTE = 1e-7
EXPLODING_NORM = 1e3
DEAD_SHARE = 0.5  # share of ReLU units that never fire on the batch
SATURATED_SHARE = 0.5  # share of sigmoid/tanh outputs pinned near their bounds
SATURATION_MARGIN = 0.02
PLATEAU_EPOCHS = 5
PLATEAU_CHANGE = 1e-3  # relative loss change over PLATEAU_EPOCHS
PLATEAU_LOSS_FLOOR = 1e-3  # a loss this small is done, not stuck


@dataclass(frozen=True)
class Flag:
    code: str
    cause: str
    fix: str


@dataclass(frozen=True)
class ActivationStats:
    name: str
    kind: str  # relu, leaky_relu, gelu, sigmoid, tanh
    dead: float  # share of units never active (relu family); 0 otherwise
    saturated: float  # share of outputs near the bounds (sigmoid, tanh); 0 otherwise


def activation_stats(model, x) -> list[ActivationStats]:
    """Statistics of every activation layer of an nn.Sequential on the batch x (eval mode)."""
    import torch
    from torch import nn

    kinds = {nn.ReLU: "relu", nn.LeakyReLU: "leaky_relu", nn.GELU: "gelu",
             nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}
    outputs, hooks = {}, []
    for name, module in model.named_children():
        kind = kinds.get(type(module))
        if kind and name != "head":
            hooks.append(module.register_forward_hook(
                lambda m, i, out, name=name, kind=kind: outputs.__setitem__(name, (kind, out))))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return [_stats(name, kind, out) for name, (kind, out) in outputs.items()]


def _stats(name, kind, out) -> ActivationStats:
    if kind in ("relu", "leaky_relu", "gelu"):
        dead = ((out <= 0).all(dim=0)).double().mean().item()
        return ActivationStats(name, kind, dead, 0.0)
    low, high = (0.0, 1.0) if kind == "sigmoid" else (-1.0, 1.0)
    near = (out < low + SATURATION_MARGIN * (high - low)) | (out > high - SATURATION_MARGIN * (high - low))
    return ActivationStats(name, kind, 0.0, near.double().mean().item())


def diagnose(grad_norms: dict[str, float], activations: list[ActivationStats],
             losses: list[float]) -> list[Flag]:
    flags = []
    norms = list(grad_norms.values())
    if len(norms) >= 3 and norms[-1] > 0:
        first, last = norms[0], norms[-1]
        if first < VANISHING_ABSOLUTE or first / last < VANISHING_RATIO:
            flags.append(Flag("vanishing_gradients",
                              f"the first layer's gradient is {first:.1e}, {first / last:.0e} "
                              "of the last's: early layers barely learn",
                              "use relu (or batch norm) in the hidden layers, or fewer layers"))
    if any(n > EXPLODING_NORM for n in norms):
        flags.append(Flag("exploding_gradients",
                          f"a gradient norm reached {max(norms):.1e}",
                          "lower the learning rate, add batch norm, or use smaller inits"))
    for a in activations:
        if a.dead > DEAD_SHARE:
            flags.append(Flag("dead_relus", f"{a.dead:.0%} of {a.name}'s units never fire",
                              "lower the learning rate, use leaky_relu, or he init"))
        if a.saturated > SATURATED_SHARE:
            flags.append(Flag("saturated_units",
                              f"{a.saturated:.0%} of {a.name}'s outputs sit at the bounds, "
                              "where the slope is ~0",
                              "normalize inputs, use batch norm, or relu"))
    recent = losses[-PLATEAU_EPOCHS - 1:]
    if len(recent) > PLATEAU_EPOCHS and recent[-1] > PLATEAU_LOSS_FLOOR:
        change = abs(recent[0] - recent[-1]) / max(abs(recent[0]), 1e-12)
        if change < PLATEAU_CHANGE:
            flags.append(Flag("plateau",
                              f"the loss moved {change:.1e} over {PLATEAU_EPOCHS} epochs",
                              "raise the learning rate, try momentum or adam, or a bigger net"))
    return flags


def diagnose_trainer(trainer, batch: int = 256) -> list[Flag]:
    return diagnose(trainer.grad_norms(), activation_stats(trainer.model, trainer.X_train[:batch]),
                    trainer.history.train_loss)
