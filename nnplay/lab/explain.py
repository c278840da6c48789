"""One weight's next update worked out by hand on the live network, then checked against the
step the Trainer really takes.

`explain_next_step(trainer, "hidden1.weight", (0, 1))` reads the live weights and the batch the
next step trains on (`Trainer.next_batch`: the same shuffle, the same dropout draws), and works
out in float64 NumPy the forward pass, the chain rule from the loss back to the weight, the L1
and L2 terms as the Trainer applies them, and the optimizer's arithmetic. Then the Trainer takes
that step, and the gradient autograd gave and the value the torch optimizer wrote are recorded
beside the hand's (`Explanation.agrees`). Nothing here prints: nnplay/lab/explain_text.py writes
the report, `Explanation.to_dict` the JSON.

Batch norm is refused: it mixes every sample of the batch into each one's value, so a weight's
gradient is no longer a sum of per-sample chains this report can show.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import torch

from nnplay.errors import ExperimentError
from nnplay.i18n import _
from nnplay.model import linear_layers, output_head
from nnplay.registry import OPTIMIZERS

TOLERANCE = 1e-6  # the largest relative difference between the hand's numbers and torch's
SHOWN_SAMPLES = 6  # the chain's rows in reports (every sample counts in the sums)
SHOWN_PATHS = 8  # the paths through the next layer shown for one sample
LEAKY_SLOPE = 0.01  # the registry's leaky ReLU
BCE_FLOOR = 1e-12  # torch's BCE backward divides by max(ŷ(1 − ŷ), this)


@dataclass(frozen=True)
class Term:
    """One named number: `symbol` = `formula` = `worked` (the formula with the numbers in)."""

    key: str
    symbol: str
    value: float | None
    formula: str = ""
    worked: str = ""

    def to_dict(self) -> dict:
        return {
            "name": self.key,
            "symbol": self.symbol,
            "value": self.value,
            "formula": self.formula,
            "worked": self.worked,
        }


@dataclass(frozen=True)
class Chain:
    """The chain rule for every sample of the batch: `values[n]` holds sample n's factors (named
    by `factors`: (key, symbol)), `products[n]` their product ∂ℓ_n/∂w; the data gradient is
    their mean."""

    factors: tuple[tuple[str, str], ...]
    values: np.ndarray  # (samples, factors)
    products: np.ndarray  # (samples,)
    size: float  # mean over the samples of the products' size (Layer.size)

    def to_dict(self, shown: int = SHOWN_SAMPLES) -> dict:
        return {
            "factors": [{"name": key, "symbol": symbol} for key, symbol in self.factors],
            "samples": [
                {"sample": n, "factors": self.values[n].tolist(), "product": float(p)}
                for n, p in enumerate(self.products[:shown])
            ],
            "count": len(self.products),
            "sum": float(self.products.sum()),
            "mean": float(self.products.mean()),
        }


@dataclass(frozen=True)
class Paths:
    """How the backpropagated factor ∂ℓ/∂a of a hidden unit is made for the batch's first
    sample: Σ_k δ_k · w_k over the units k of the next layer (`layer`)."""

    layer: str
    deltas: np.ndarray  # δ_k of the next layer's units
    weights: np.ndarray  # w_k: the weight from this unit into unit k
    total: float

    def to_dict(self, shown: int = SHOWN_PATHS) -> dict:
        products = self.deltas * self.weights
        order = np.argsort(-np.abs(products))[:shown]
        return {
            "layer": self.layer,
            "paths": [
                {"unit": int(k), "delta": float(self.deltas[k]), "weight": float(self.weights[k])}
                for k in order
            ],
            "count": len(self.deltas),
            "sum": self.total,
        }


@dataclass
class Explanation:
    """The next step of one weight, by hand and by torch. `gradient` is what the optimizer is
    given (data gradient + L1 + coupled L2), `new` = `old` + `update`."""

    weight: str  # e.g. "hidden1.weight[0,1]"
    step: int  # the step explained: 1 is the run's first
    epoch: int  # its epoch, 1-based
    batch: int  # its mini-batch within the epoch, 1-based
    batch_size: int
    loss: str
    optimizer: str
    lr: float
    old: float
    chain: Chain
    paths: Paths | None  # a hidden weight's backpropagation through the next layer
    terms: list[Term]  # data gradient, L1, L2, gradient
    gradient: float
    arithmetic: list[Term]  # the optimizer's, in order
    state_before: dict[str, float | None]
    state_after: dict[str, float | None]
    update: float
    new: float
    dropout: bool  # the factors include the dropout mask this step draws
    gradient_autograd: float = math.nan
    new_torch: float = math.nan
    state_after_torch: dict[str, float | None] = field(default_factory=dict)
    # the hand's arithmetic again on autograd's gradient: the optimizer is checked on its own,
    # not on the float32 rounding of the gradient a second time
    state_on_autograd: dict[str, float | None] = field(default_factory=dict)
    # why the Trainer set the weights back after the step (early stopping, divergence), or ""
    restored: str = ""

    def differences(self) -> dict[str, float]:
        """Relative difference of each number the hand and torch both have."""
        found = {
            # float32 sums of many terms round relative to their size, not to their sum's
            "gradient": relative_difference(
                self.gradient, self.gradient_autograd, self.gradient_scale()
            ),
            "new": relative_difference(self.new, self.new_torch, abs(self.old)),
        }
        for key, value in self.state_on_autograd.items():
            theirs = self.state_after_torch.get(key)
            if value is not None and theirs is not None:
                found[key] = relative_difference(
                    value, theirs, abs(self.state_before.get(key) or 0)
                )
        return found

    def gradient_scale(self) -> float:
        """The size of the numbers the gradient sums: the chain's (every path's |factors|) +
        |L1 term| + |L2 term|."""
        regularization = sum(abs(t.value or 0) for t in self.terms if t.key in ("l1", "l2"))
        return self.chain.size + regularization

    @property
    def largest_difference(self) -> float:
        return max(self.differences().values())

    @property
    def agrees(self) -> bool:
        return self.largest_difference <= TOLERANCE

    def to_dict(self) -> dict:
        return {
            "weight": self.weight,
            "step": self.step,
            "epoch": self.epoch,
            "batch": self.batch,
            "batch_size": self.batch_size,
            "loss": self.loss,
            "lr": self.lr,
            "old": self.old,
            "chain": self.chain.to_dict(),
            "paths": None if self.paths is None else self.paths.to_dict(),
            "terms": [t.to_dict() for t in self.terms],
            "gradient": self.gradient,
            "gradient_autograd": self.gradient_autograd,
            "optimizer": {
                "name": self.optimizer,
                "arithmetic": [t.to_dict() for t in self.arithmetic],
                "state_before": self.state_before,
                "state_after": self.state_after,
                "state_after_torch": self.state_after_torch,
            },
            "update": self.update,
            "new": self.new,
            "new_torch": self.new_torch,
            "dropout": self.dropout,
            "restored": self.restored or None,
            "differences": self.differences(),
            "agrees": self.agrees,
            "tolerance": TOLERANCE,
        }


def relative_difference(mine: float, theirs: float, scale: float = 0.0) -> float:
    """|mine − theirs| relative to the larger of them (and of `scale`, the size of what they were
    made from, e.g. the old weight a small new one was computed from). Equal zeros: 0."""
    size = max(abs(mine), abs(theirs), scale)
    return 0.0 if size == 0 else abs(mine - theirs) / size


# ---------------------------------------------------------------------------------------------
# Which weight


WEIGHT_PATTERN = re.compile(r"([A-Za-z0-9_]+\.(?:weight|bias))(?:\[(\d{1,9})(?:,\s*(\d{1,9}))?\])?")


def weight_shapes(model) -> dict[str, tuple[int, ...]]:
    """The weights and biases this report explains (the Linear layers'), with their shapes."""
    shapes = {}
    for name, linear in linear_layers(model):
        shapes[f"{name}.weight"] = tuple(linear.weight.shape)
        shapes[f"{name}.bias"] = tuple(linear.bias.shape)
    return shapes


def parse_weight(text: str | None, model) -> tuple[str, tuple[int, ...]]:
    """`hidden1.weight[0,1]` as ("hidden1.weight", (0, 1)); None: the first layer's [0,0]. A
    name without an index means its first element."""
    shapes = weight_shapes(model)
    if text is None:
        first = next(iter(shapes))
        return first, (0,) * len(shapes[first])
    match = WEIGHT_PATTERN.fullmatch(text.strip())
    name = match.group(1) if match else None
    if match and name in shapes:
        given = tuple(int(i) for i in match.groups()[1:] if i is not None)
        index = given or (0,) * len(shapes[name])
        if len(index) == len(shapes[name]) and all(
            i < size for i, size in zip(index, shapes[name], strict=True)
        ):
            return name, index
    allowed = ", ".join(
        f"{name}[{', '.join(f'0..{size - 1}' for size in shape)}]" for name, shape in shapes.items()
    )
    message = _("--weight {value} is not allowed; choose one of {allowed}")
    raise ExperimentError(message.format(value=repr(text[:80]), allowed=allowed))


def shown_weight(name: str, index: tuple[int, ...]) -> str:
    return f"{name}[{','.join(map(str, index))}]"


# ---------------------------------------------------------------------------------------------
# The forward pass and the chain rule, in float64


def _erf(z: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[float])(z)


def activation(name: str, z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, LEAKY_SLOPE * z)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "gelu":  # torch's exact GELU: z·Φ(z)
        return 0.5 * z * (1.0 + _erf(z / math.sqrt(2.0)))
    return z  # linear


def activation_slope(name: str, z: np.ndarray) -> np.ndarray:
    """f′(z), as torch's backward computes it (ReLU's slope at 0 is 0)."""
    if name == "relu":
        return (z > 0).astype(float)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, LEAKY_SLOPE)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "sigmoid":
        s = activation("sigmoid", z)
        return s * (1.0 - s)
    if name == "gelu":  # Φ(z) + z·φ(z)
        return 0.5 * (1.0 + _erf(z / math.sqrt(2.0))) + z * np.exp(-0.5 * z * z) / math.sqrt(
            2.0 * math.pi
        )
    return np.ones_like(z)  # linear


SLOPE_SYMBOLS = {
    "relu": "ReLU′(z)",
    "leaky_relu": "LeakyReLU′(z)",
    "tanh": "tanh′(z) = 1 − tanh²(z)",
    "sigmoid": "σ′(z) = σ(z)(1 − σ(z))",
    "gelu": "GELU′(z) = Φ(z) + z·φ(z)",
    "linear": "1",
}


def loss_slope(loss: str, predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """∂ℓ/∂ŷ of one sample's loss (the batch's loss is the mean of these losses)."""
    d = predicted - target
    if loss == "mse":
        return 2.0 * d
    if loss == "mae":
        return np.sign(d)
    if loss == "smooth_l1":  # beta 1
        return np.where(np.abs(d) < 1.0, d, np.sign(d))
    # bce
    return d / np.maximum(predicted * (1.0 - predicted), BCE_FLOOR)


LOSS_SLOPE_SYMBOLS = {
    "mse": "∂ℓ/∂ŷ = 2(ŷ − y)",
    "mae": "∂ℓ/∂ŷ = sign(ŷ − y)",
    "smooth_l1": "∂ℓ/∂ŷ = ŷ − y (|ŷ − y| < 1), else sign(ŷ − y)",
    "bce": "∂ℓ/∂ŷ = (ŷ − y) / (ŷ(1 − ŷ))",
}


@dataclass
class Layer:
    """One Linear layer of the hand's forward pass on the batch."""

    name: str
    inputs: np.ndarray  # what the layer reads (after the previous layer's activation, dropout)
    weight: np.ndarray
    pre: np.ndarray  # z = inputs · Wᵀ + b
    activation: str
    dropout_scale: np.ndarray | None  # mask / (1 − p) of the dropout after it
    # ∂ℓ_n/∂z per sample, and `size`: the same backpropagation through |w|, |f′| (no sum can
    # cancel), the scale float32's rounding in autograd is relative to (both filled by backward)
    delta: np.ndarray = field(default_factory=lambda: np.zeros(0))
    size: np.ndarray = field(default_factory=lambda: np.zeros(0))


def dropout_scales(exp, samples: int, rng: torch.Tensor | None) -> list[np.ndarray | None]:
    """The masks the step's dropout will draw, each as mask / (1 − p): torch's CPU dropout fills
    a tensor like its input with bernoulli(1 − p) from the global RNG, layer by layer."""
    scales: list[np.ndarray | None] = []
    with torch.random.fork_rng(devices=[]):
        if rng is not None:
            torch.set_rng_state(rng)
        for layer in exp.model.hidden:
            if not layer.dropout:
                scales.append(None)
                continue
            keep = torch.empty(samples, layer.units).bernoulli_(1 - layer.dropout)
            scales.append(keep.double().numpy() / (1 - layer.dropout))
    return scales


def forward(trainer, x: np.ndarray, rng: torch.Tensor | None) -> tuple[list[Layer], np.ndarray]:
    """Every Linear layer's inputs and z on the batch, and the network's output ŷ."""
    exp = trainer.exp
    modules = dict(linear_layers(trainer.model))
    scales = dropout_scales(exp, len(x), rng)
    layers, a = [], x
    specs = [(f"hidden{i}", s.activation) for i, s in enumerate(exp.model.hidden, start=1)]
    for (name, act), scale in zip([*specs, ("output", "linear")], [*scales, None], strict=True):
        w = modules[name].weight.detach().double().numpy()
        b = modules[name].bias.detach().double().numpy()
        z = a @ w.T + b
        layers.append(Layer(name, a, w, z, act, scale))
        a = activation(act, z) if scale is None else activation(act, z) * scale
    head = output_head(exp).activation
    if head == "sigmoid":
        return layers, activation("sigmoid", a)
    if head == "log_softmax":
        return layers, a - a.max(axis=1, keepdims=True) - log_sum_exp(a)
    return layers, a


def log_sum_exp(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def output_factors(loss: str, head: str | None, layer: Layer, predicted, y):
    """The factors from the loss to the output layer's z, per sample: (key, symbol, values
    (samples, units)); their product is the output layer's δ = ∂ℓ_n/∂z. And δ's size: ŷ − y
    cancels (a fitted ŷ is near y), so float32 rounds it relative to |ŷ| + |y|."""
    if loss in ("cross_entropy", "nll"):
        z = layer.pre
        p = np.exp(z - z.max(axis=1, keepdims=True) - log_sum_exp(z))
        onehot = np.zeros_like(p)
        onehot[np.arange(len(y)), y] = 1.0
        return [("softmax_minus_target", "∂ℓ/∂z = softmax(z) − y", p - onehot)], p + onehot
    slope = loss_slope(loss, predicted, y)
    residual = predicted - y
    magnitude = np.abs(predicted) + np.abs(y)
    cancelled = np.divide(
        magnitude, np.abs(residual), out=np.ones_like(magnitude), where=residual != 0
    )
    size = np.abs(slope) * cancelled
    factors = [("loss_slope", LOSS_SLOPE_SYMBOLS[loss], slope)]
    if head == "sigmoid":
        factors.append(("head_slope", "σ′(z) = ŷ(1 − ŷ)", predicted * (1.0 - predicted)))
        size = size * predicted * (1.0 - predicted)
    return factors, size


def backward(layers: list[Layer], output_delta: np.ndarray, output_size: np.ndarray) -> None:
    """δ = ∂ℓ_n/∂z of every layer (and its size), per sample, from the output's back."""
    layers[-1].delta, layers[-1].size = output_delta, output_size
    for layer, later in zip(reversed(layers[:-1]), reversed(layers[1:]), strict=True):
        factor = activation_slope(layer.activation, layer.pre)
        if layer.dropout_scale is not None:
            factor = factor * layer.dropout_scale
        layer.delta = (later.delta @ later.weight) * factor
        layer.size = (later.size @ np.abs(later.weight)) * np.abs(factor)


def chain_for(trainer, name: str, index: tuple[int, ...], batch) -> tuple[Chain, Paths | None]:
    x = batch.x.double().numpy()
    y = batch.y.numpy() if batch.y.dtype == torch.int64 else batch.y.double().numpy()
    layers, predicted = forward(trainer, x, batch.dropout_rng)
    loss = trainer.exp.training.loss
    head = output_head(trainer.exp).activation
    outputs, output_size = output_factors(loss, head, layers[-1], predicted, y)
    backward(layers, np.prod([values for _k, _s, values in outputs], axis=0), output_size)
    module, kind = name.split(".")
    position = [layer.name for layer in layers].index(module)
    layer, unit = layers[position], index[0]
    if module == "output":
        factors = [(key, symbol, values[:, unit]) for key, symbol, values in outputs]
        paths, size = None, layer.size[:, unit]
    else:
        later = layers[position + 1]
        back = later.delta @ later.weight[:, unit]
        size = later.size @ np.abs(later.weight[:, unit])
        factors = [("backpropagated", "∂ℓ/∂a = Σ_k δ_k·w_k", back)]
        if layer.dropout_scale is not None:
            factors.append(("dropout", "m/(1 − p)", layer.dropout_scale[:, unit]))
        slope = activation_slope(layer.activation, layer.pre[:, unit])
        factors.append(("activation_slope", SLOPE_SYMBOLS[layer.activation], slope))
        size = size * np.abs(np.prod([v for _k, _s, v in factors[1:]], axis=0))
        paths = Paths(later.name, later.delta[0], later.weight[:, unit], float(back[0]))
    if kind == "weight":
        source = "x" if position == 0 else "a"
        factors.append(("input", f"{source}_{index[1]}", layer.inputs[:, index[1]]))
        size = size * np.abs(layer.inputs[:, index[1]])
    values = np.stack([v for _k, _s, v in factors], axis=1)
    chain = Chain(
        tuple((k, s) for k, s, _v in factors), values, values.prod(axis=1), float(size.mean())
    )
    return chain, paths


# ---------------------------------------------------------------------------------------------
# Regularization and the optimizers' arithmetic


def n(value: float | None) -> str:
    """A number inside a worked formula: a negative one in parentheses, -0 as 0."""
    text = "0" if value is None else f"{value + 0.0:.6g}"
    return f"({text})" if text.startswith("-") else text


def gradient_terms(trainer, kind: str, old: float, data: float) -> list[Term]:
    """The gradient the optimizer is given, as the Trainer makes it: L1 (λ₁·Σ|w| in the loss)
    and coupled L2 (g += λ₂·w after backward) on weights only; AdamW's decoupled decay is not a
    gradient term (see optimizer_arithmetic)."""
    is_weight = kind == "weight"
    l1 = trainer.l1 * float(np.sign(old)) if is_weight else 0.0
    coupled = not OPTIMIZERS[trainer.exp.training.optimizer].decay.decoupled
    l2 = trainer.l2 * old if is_weight and coupled else 0.0
    return [
        Term("data_gradient", "∂L/∂w = (1/n)·Σ_n ∂ℓ_n/∂w", data),
        Term(
            "l1", "λ₁·sign(w)", l1, "", f"{trainer.l1:g}·sign({old + 0.0:.6g})" if is_weight else ""
        ),
        Term("l2", "λ₂·w", l2, "", f"{trainer.l2:g}·{n(old)}" if is_weight and coupled else ""),
        Term("gradient", "g", data + l1 + l2, "", f"{n(data)} + {n(l1)} + {n(l2)}"),
    ]


State = dict[str, float | None]


def state_at(optimizer, param, index: tuple[int, ...]) -> State:
    """The optimizer's state of one element of `param`, by torch's names (step, exp_avg...)."""
    values: State = {}
    for key, value in optimizer.state.get(param, {}).items():
        if value is None or not isinstance(value, torch.Tensor):
            values[key] = value
        else:
            values[key] = float(value if value.ndim == 0 else value[index])
    return values


def sgd(group, state: State, g: float) -> tuple[list[Term], State, float]:
    lr, mu = group["lr"], group["momentum"]
    if not mu:
        return [Term("update", "−η·g", -lr * g, "", f"−{lr:g}·{n(g)}")], {}, -lr * g
    before = state.get("momentum_buffer")
    buffer = g if before is None else mu * before + g
    terms = [
        Term("momentum_buffer", "b", buffer, "g (the first step)", n(g))
        if before is None
        else Term("momentum_buffer", "b", buffer, "μ·b + g", f"{mu:g}·{n(before)} + {n(g)}")
    ]
    direction = buffer
    if group["nesterov"]:
        direction = g + mu * buffer
        terms.append(Term("nesterov", "g + μ·b", direction, "", f"{n(g)} + {mu:g}·{n(buffer)}"))
    terms.append(Term("update", "−η·b", -lr * direction, "", f"−{lr:g}·{n(direction)}"))
    return terms, {"momentum_buffer": buffer}, -lr * direction


def adagrad(group, state: State, g: float) -> tuple[list[Term], State, float]:
    lr, eps = group["lr"], group["eps"]
    t = int(state.get("step") or 0) + 1
    rate = lr / (1 + (t - 1) * group["lr_decay"])
    before = state.get("sum") or 0.0
    total = before + g * g
    step = -rate * g / (math.sqrt(total) + eps)
    terms = [
        Term("step_count", "t", t),
        Term("sum", "G", total, "G + g²", f"{n(before)} + {n(g)}²"),
        Term("update", "−η·g/(√G + ε)", step, "", f"−{rate:g}·{n(g)}/(√{n(total)} + {eps:g})"),
    ]
    return terms, {"step": t, "sum": total}, step


def rmsprop(group, state: State, g: float) -> tuple[list[Term], State, float]:
    lr, eps, alpha, mu = group["lr"], group["eps"], group["alpha"], group["momentum"]
    t = int(state.get("step") or 0) + 1
    before = state.get("square_avg") or 0.0
    average = alpha * before + (1 - alpha) * g * g
    scaled = g / (math.sqrt(average) + eps)
    terms = [
        Term("step_count", "t", t),
        Term(
            "square_avg",
            "s",
            average,
            "α·s + (1 − α)·g²",
            f"{alpha:g}·{n(before)} + {1 - alpha:g}·{n(g)}²",
        ),
        Term("scaled", "g/(√s + ε)", scaled, "", f"{n(g)}/(√{n(average)} + {eps:g})"),
    ]
    after: State = {"step": t, "square_avg": average}
    direction = scaled
    if mu:
        buffer_before = state.get("momentum_buffer") or 0.0
        direction = mu * buffer_before + scaled
        formula, worked = "μ·b + g/(√s + ε)", f"{mu:g}·{n(buffer_before)} + {n(scaled)}"
        terms.append(Term("momentum_buffer", "b", direction, formula, worked))
        after["momentum_buffer"] = direction
    terms.append(Term("update", "−η·…", -lr * direction, "", f"−{lr:g}·{n(direction)}"))
    return terms, after, -lr * direction


def adam(group, state: State, g: float) -> tuple[list[Term], State, float]:
    lr, eps = group["lr"], group["eps"]
    beta1, beta2 = group["betas"]
    t = int(state.get("step") or 0) + 1
    m0, v0 = state.get("exp_avg") or 0.0, state.get("exp_avg_sq") or 0.0
    m = beta1 * m0 + (1 - beta1) * g
    v = beta2 * v0 + (1 - beta2) * g * g
    correction1, correction2 = 1 - beta1**t, 1 - beta2**t
    m_hat, v_hat = m / correction1, v / correction2
    step = -lr * m_hat / (math.sqrt(v_hat) + eps)
    terms = [
        Term("step_count", "t", t),
        Term("exp_avg", "m", m, "β₁·m + (1 − β₁)·g", f"{beta1:g}·{n(m0)} + {1 - beta1:g}·{n(g)}"),
        Term(
            "exp_avg_sq",
            "v",
            v,
            "β₂·v + (1 − β₂)·g²",
            f"{beta2:g}·{n(v0)} + {1 - beta2:.6g}·{n(g)}²",
        ),
        Term("bias_correction1", "1 − β₁ᵗ", correction1, "", f"1 − {beta1:g}^{t}"),
        Term("bias_correction2", "1 − β₂ᵗ", correction2, "", f"1 − {beta2:g}^{t}"),
        Term("m_hat", "m̂", m_hat, "m/(1 − β₁ᵗ)", f"{n(m)}/{n(correction1)}"),
        Term("v_hat", "v̂", v_hat, "v/(1 − β₂ᵗ)", f"{n(v)}/{n(correction2)}"),
        Term(
            "update",
            "−η·m̂/(√v̂ + ε)",
            step,
            "",
            f"−{lr:g}·{n(m_hat)}/(√{n(v_hat)} + {eps:g})",
        ),
    ]
    return terms, {"step": t, "exp_avg": m, "exp_avg_sq": v}, step


# Every optimizer of the registry (tests/lab/test_explain.py checks none is missing).
ARITHMETIC = {"sgd": sgd, "adagrad": adagrad, "rmsprop": rmsprop, "adam": adam, "adamw": adam}


# ---------------------------------------------------------------------------------------------
# The whole step


def refuse_batch_norm(exp) -> None:
    if any(layer.batch_norm for layer in exp.model.hidden):
        raise ExperimentError(
            _(
                "model.hidden: batch norm is not explained by hand: it mixes every sample of "
                "the batch into each one's value (use a model without batch_norm)"
            )
        )


def explain_next_step(trainer, name: str, index: tuple[int, ...]) -> Explanation:
    """Work out the next step of `name[index]` by hand, then take that step with the Trainer
    and record what autograd and the torch optimizer produced beside it. `name` and `index`
    come from parse_weight. Refused (ExperimentError): batch norm, a run that has ended."""
    refuse_batch_norm(trainer.exp)
    if trainer.done:
        message = _("the run has ended ({message}); there is no next step to explain")
        raise ExperimentError(message.format(message=trainer.message))
    param = dict(trainer.model.named_parameters())[name]
    kind = name.split(".")[1]
    batch = trainer.next_batch()
    chain, paths = chain_for(trainer, name, index, batch)
    old = float(param.detach()[index])
    terms = gradient_terms(trainer, kind, old, float(chain.products.mean()))
    g = terms[-1].value
    assert g is not None
    spec = trainer.exp.training
    arithmetic: list[Term] = []
    entering = old
    if OPTIMIZERS[spec.optimizer].decay.decoupled and kind == "weight" and trainer.l2:
        shrink = 1 - trainer.lr * trainer.l2
        entering = old * shrink
        worked = f"{n(old)}·(1 − {trainer.lr:g}·{trainer.l2:g})"
        arithmetic.append(Term("decoupled_decay", "w·(1 − η·λ₂)", entering, "", worked))
    state_before = state_at(trainer.optimizer, param, index)
    group = dict(trainer.optimizer.param_groups[0])  # a schedule may change it after the step
    steps, state_after, step = ARITHMETIC[spec.optimizer](group, state_before, g)
    new = entering + step
    arithmetic += steps
    arithmetic.append(Term("new", "w′", new, "", f"{n(entering)} + {n(step)}"))
    explanation = Explanation(
        weight=shown_weight(name, index),
        step=trainer.steps + 1,
        epoch=trainer.epoch + 1,
        batch=batch.number,
        batch_size=len(batch.x),
        loss=spec.loss,
        optimizer=spec.optimizer,
        lr=trainer.lr,
        old=old,
        chain=chain,
        paths=paths,
        terms=terms,
        gradient=g,
        arithmetic=arithmetic,
        state_before=state_before,
        state_after=state_after,
        update=new - old,
        new=new,
        dropout=batch.dropout_rng is not None,
    )
    take_the_step(trainer, param, index, group, explanation)
    return explanation


def take_the_step(trainer, param, index: tuple[int, ...], group, explanation: Explanation) -> None:
    """The Trainer's own step; what torch made is read right after the optimizer's step, before
    the Trainer may set the weights back (early stopping, divergence) at an epoch's end."""
    seen: dict = {}

    def record(optimizer, args, kwargs) -> None:
        seen["gradient"] = float(param.grad[index])
        seen["new"] = float(param.detach()[index])
        seen["state"] = state_at(optimizer, param, index)

    hook = trainer.optimizer.register_step_post_hook(record)
    try:
        trainer.step()
    finally:
        hook.remove()
    if not seen:  # the outputs were not finite: the Trainer stopped before the optimizer
        message = _("the step was not taken: {message}")
        raise ExperimentError(message.format(message=trainer.message))
    explanation.gradient_autograd = seen["gradient"]
    explanation.new_torch = seen["new"]
    explanation.state_after_torch = seen["state"]
    arithmetic = ARITHMETIC[explanation.optimizer]
    explanation.state_on_autograd = arithmetic(group, explanation.state_before, seen["gradient"])[1]
    if float(param.detach()[index]) != seen["new"]:
        explanation.restored = trainer.message
