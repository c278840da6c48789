"""Registries of the building blocks: losses, activations, optimizers, schedules, inits.

Plain dicts from a name to a small object, so adding one is one entry and the forms, validation
and help all list them from the same place. Torch is imported only when something is built, so
the app can draw its first frame before paying for `import torch`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nnplay.i18n import N_, _

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"
KIND_WORDS = {BINARY: N_("binary"), MULTICLASS: N_("multiclass"), REGRESSION: N_("regression")}


# ---------------------------------------------------------------------------------------------
# Losses and the output head each implies


@dataclass(frozen=True)
class Head:
    units: int  # output units
    activation: str | None  # an ACTIVATIONS name (or "log_softmax"), None for raw logits
    target: str  # "float": targets shaped like the output; "index": class indices


@dataclass(frozen=True)
class Loss:
    title: str
    torch_class: str
    kinds: tuple[str, ...]  # task kinds this loss accepts
    advice: str  # what to pick instead on another kind

    def build(self):
        from torch import nn

        return getattr(nn, self.torch_class)()

    def refuses(self, kind: str) -> str | None:
        if kind in self.kinds:
            return None
        message = _("{loss} does not fit a {kind} task; {advice}")
        return message.format(loss=_(self.title), kind=_(KIND_WORDS[kind]), advice=_(self.advice))

    def head(self, kind: str, classes: int) -> Head:
        if self.torch_class == "CrossEntropyLoss":
            return Head(max(classes, 2), None, "index")
        if self.torch_class == "NLLLoss":
            return Head(classes, "log_softmax", "index")
        if kind == BINARY:  # MSE/MAE/BCE on a probability (docs/curriculum.md §8)
            return Head(1, "sigmoid", "float")
        return Head(1, None, "float")


_FOR_CLASSES = N_("for classes use cross_entropy (softmax output)")
LOSSES: dict[str, Loss] = {
    "mse": Loss(
        N_("mean squared error (MSE, L2)"),
        "MSELoss",
        (REGRESSION, BINARY),
        _FOR_CLASSES,
    ),
    "mae": Loss(
        N_("mean absolute error (MAE, L1)"),
        "L1Loss",
        (REGRESSION, BINARY),
        _FOR_CLASSES,
    ),
    "smooth_l1": Loss(
        N_("smooth L1 (Huber-like)"),
        "SmoothL1Loss",
        (REGRESSION, BINARY),
        _FOR_CLASSES,
    ),
    "bce": Loss(
        N_("binary cross-entropy (BCE)"),
        "BCELoss",
        (BINARY,),
        N_(
            "BCE needs a yes/no task; for several classes use cross_entropy, "
            "for regression use mse, mae or smooth_l1"
        ),
    ),
    "cross_entropy": Loss(
        N_("cross-entropy"),
        "CrossEntropyLoss",
        (BINARY, MULTICLASS),
        N_("for regression use mse, mae or smooth_l1"),
    ),
    "nll": Loss(
        N_("negative log-likelihood (NLL)"),
        "NLLLoss",
        (MULTICLASS,),
        N_(
            "NLL reads log-probabilities of several classes; for a yes/no task use bce, "
            "for regression use mse, mae or smooth_l1"
        ),
    ),
}


# ---------------------------------------------------------------------------------------------
# Activations


@dataclass(frozen=True)
class Activation:
    title: str
    torch_class: str | None  # None: identity (no module)
    kwargs: tuple = ()

    def build(self):
        from torch import nn

        return getattr(nn, self.torch_class)(**dict(self.kwargs)) if self.torch_class else None


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("ReLU", "ReLU"),
    "tanh": Activation("tanh", "Tanh"),
    "sigmoid": Activation("sigmoid", "Sigmoid"),
    "gelu": Activation("GELU", "GELU"),
    "leaky_relu": Activation("leaky ReLU (slope 0.01)", "LeakyReLU", (("negative_slope", 0.01),)),
    "linear": Activation("linear (identity)", None),
}
# Output-only head: log-probabilities for NLL.
HEAD_ACTIVATIONS = {
    **ACTIVATIONS,
    "log_softmax": Activation("log-softmax", "LogSoftmax", (("dim", 1),)),
}


# ---------------------------------------------------------------------------------------------
# Optimizers (built from a TrainingSpec)


@dataclass(frozen=True)
class WeightDecay:
    """L2 regularization, defined once: on the weights only (not biases or batch norm), as
    torch's own weight_decay computes it: coupled (each weight's gradient += l2·w, before the
    step) for most optimizers, decoupled (w *= 1 - lr·l2) for AdamW. nnplay applies it itself
    (the optimizers are built with weight_decay 0) so biases stay free and l2 can change during a
    run. `apply` is what the Trainer runs after backward(); `source` writes the same update into
    the exported script, which tests/test_script_export.py checks trains identically."""

    decoupled: bool = False

    def apply(self, weights: list, l2: float, lr: float) -> None:
        import torch  # deferred: the registry is imported before torch is (docs/architecture.md)

        with torch.no_grad():
            for w in weights:  # the grads are all set: called after backward()
                if self.decoupled:
                    w.mul_(1 - lr * l2)
                else:
                    w.grad.add_(w, alpha=l2)

    def source(self, l2: float, lr: str) -> list[str]:
        """The same update as script lines over `weights`; `lr` is the expression of the
        current learning rate there."""
        # AdamW shrinks the weights directly; coupled L2 adds l2·w to each weight's gradient.
        shrink, add = f"w.mul_(1 - {lr} * {l2!r})", f"w.grad.add_(w, alpha={l2!r})"
        update = shrink if self.decoupled else add
        return [
            "with torch.no_grad():  # L2 regularization on the weights",
            "    for w in weights:",
            f"        {update}",
        ]


def _adam_options(t) -> dict[str, Any]:
    # fused: one kernel for all parameters, ~1.2x steps/s on tiny nets (docs/architecture.md).
    # weight_decay=0: L2 is WeightDecay's (AdamW's default would be 0.01).
    return {"betas": (t.beta1, t.beta2), "eps": t.eps, "weight_decay": 0.0, "fused": True}


@dataclass(frozen=True)
class Optimizer:
    title: str
    torch_class: str  # in torch.optim
    options: Callable[
        [Any], dict[str, Any]
    ]  # its keyword arguments (besides lr) from a TrainingSpec
    uses: tuple[str, ...]  # TrainingSpec fields this optimizer reads (for forms)
    decay: WeightDecay = WeightDecay()

    def build(self, params, t):
        """The torch optimizer for `params` with `t`'s settings (the exported script writes the
        same class and arguments)."""
        from torch import optim  # deferred: see the module's docstring

        return getattr(optim, self.torch_class)(params, lr=t.lr, **self.options(t))


OPTIMIZERS: dict[str, Optimizer] = {
    "sgd": Optimizer(
        "SGD (with optional momentum)",
        "SGD",
        lambda t: {"momentum": t.momentum, "nesterov": t.nesterov},
        ("momentum", "nesterov"),
    ),
    "adagrad": Optimizer("AdaGrad", "Adagrad", lambda t: {"eps": t.eps}, ("eps",)),
    "rmsprop": Optimizer(
        "RMSprop",
        "RMSprop",
        lambda t: {"alpha": t.alpha, "eps": t.eps, "momentum": t.momentum},
        ("alpha", "eps", "momentum"),
    ),
    "adam": Optimizer("Adam", "Adam", _adam_options, ("beta1", "beta2", "eps")),
    "adamw": Optimizer(
        "AdamW (decoupled weight decay)",
        "AdamW",
        _adam_options,
        ("beta1", "beta2", "eps"),
        decay=WeightDecay(decoupled=True),
    ),
}


# ---------------------------------------------------------------------------------------------
# Learning-rate schedules (stepped once per epoch)


def _constant(opt, t):
    return None


def _step(opt, t):
    from torch.optim import lr_scheduler

    return lr_scheduler.StepLR(opt, step_size=t.step_size, gamma=t.gamma)


def _exponential(opt, t):
    from torch.optim import lr_scheduler

    return lr_scheduler.ExponentialLR(opt, gamma=t.gamma)


def _cosine(opt, t):
    from torch.optim import lr_scheduler

    return lr_scheduler.CosineAnnealingLR(opt, T_max=t.epochs)


SCHEDULES: dict[str, Callable] = {
    "constant": _constant,
    "step": _step,
    "exponential": _exponential,
    "cosine": _cosine,
}


# ---------------------------------------------------------------------------------------------
# Weight initialization (applied to every Linear layer)


def _init_default(linear, scale):
    pass  # torch's own: kaiming-uniform weights, uniform bias


def _init_xavier(linear, scale):
    from torch import nn

    nn.init.xavier_uniform_(linear.weight)
    nn.init.zeros_(linear.bias)


def _init_he(linear, scale):
    from torch import nn

    nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
    nn.init.zeros_(linear.bias)


def _init_uniform(linear, scale):
    from torch import nn

    nn.init.uniform_(linear.weight, -scale, scale)
    nn.init.uniform_(linear.bias, -scale, scale)


INITS: dict[str, Callable] = {
    "default": _init_default,
    "xavier": _init_xavier,
    "he": _init_he,
    "uniform": _init_uniform,
}
