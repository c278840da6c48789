"""Registries of the building blocks: losses, activations, optimizers, schedules, inits.

Plain dicts from a name to a small object, so adding one is one entry and the forms, validation
and help all list them from the same place. Torch is imported only when something is built, so
the app can draw its first frame before paying for `import torch`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


def _sgd(params, t):
    from torch import optim

    return optim.SGD(params, lr=t.lr, momentum=t.momentum, nesterov=t.nesterov)


def _adagrad(params, t):
    from torch import optim

    return optim.Adagrad(params, lr=t.lr, eps=t.eps)


def _rmsprop(params, t):
    from torch import optim

    return optim.RMSprop(params, lr=t.lr, alpha=t.alpha, eps=t.eps, momentum=t.momentum)


def _adam_family(cls_name: str):
    def build(params, t):
        from torch import optim

        # fused: one kernel for all parameters, ~1.2x steps/s on tiny nets (docs/architecture.md).
        # weight_decay=0: the Trainer applies L2 itself (AdamW's default would be 0.01).
        return getattr(optim, cls_name)(
            params, lr=t.lr, betas=(t.beta1, t.beta2), eps=t.eps, weight_decay=0.0, fused=True
        )

    return build


@dataclass(frozen=True)
class Optimizer:
    title: str
    build: Callable
    uses: tuple[str, ...]  # TrainingSpec fields this optimizer reads (for forms)
    decoupled_decay: bool = False  # AdamW: L2 is decoupled weight decay


OPTIMIZERS: dict[str, Optimizer] = {
    "sgd": Optimizer("SGD (with optional momentum)", _sgd, ("momentum", "nesterov")),
    "adagrad": Optimizer("AdaGrad", _adagrad, ("eps",)),
    "rmsprop": Optimizer("RMSprop", _rmsprop, ("alpha", "eps", "momentum")),
    "adam": Optimizer("Adam", _adam_family("Adam"), ("beta1", "beta2", "eps")),
    "adamw": Optimizer(
        "AdamW (decoupled weight decay)",
        _adam_family("AdamW"),
        ("beta1", "beta2", "eps"),
        decoupled_decay=True,
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
