"""Backpropagation worked example: the 2-2-2 sigmoid network of docs/curriculum.md §4.

The same SGD steps are computed twice, by PyTorch autograd and by hand-written NumPy layers with
forward/backward methods, so a learner can compare every intermediate value of the two.
Weights use PyTorch's `Linear` layout: row i of W holds the weights *into* unit i.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from nnplay.i18n import _

PARAMETER_NAMES = ("W1", "b1", "W2", "b2")


@dataclass
class BackpropConfig:
    """Everything a learner may edit; the defaults are the worked example."""

    x: list[float] = field(default_factory=lambda: [0.05, 0.10])
    target: list[float] = field(default_factory=lambda: [0.01, 0.99])
    W1: list[list[float]] = field(default_factory=lambda: [[0.15, 0.20], [0.25, 0.30]])
    b1: list[float] = field(default_factory=lambda: [0.35, 0.35])
    W2: list[list[float]] = field(default_factory=lambda: [[0.40, 0.45], [0.50, 0.55]])
    b2: list[float] = field(default_factory=lambda: [0.60, 0.60])
    lr: float = 0.5
    steps: int = 1

    def parameters(self) -> dict[str, np.ndarray]:
        return {name: np.array(getattr(self, name), dtype=np.float64) for name in PARAMETER_NAMES}


@dataclass
class StepTrace:
    """One forward pass, backward pass and SGD update, with every number along the way."""

    x: np.ndarray
    target: np.ndarray
    hidden_net: np.ndarray  # net input of each hidden unit: W1·x + b1
    hidden_out: np.ndarray  # sigmoid(hidden_net)
    output_net: np.ndarray
    output_out: np.ndarray
    loss: float
    grads: dict[str, np.ndarray]
    before: dict[str, np.ndarray]
    after: dict[str, np.ndarray]

    def numbers(self) -> np.ndarray:
        """Every computed value in one flat array, to compare two engines."""
        parts: list = [
            self.hidden_net,
            self.hidden_out,
            self.output_net,
            self.output_out,
            [self.loss],
        ]
        parts += [self.grads[n] for n in PARAMETER_NAMES] + [self.after[n] for n in PARAMETER_NAMES]
        return np.concatenate([np.ravel(p) for p in parts])

    def to_dict(self) -> dict:
        def lists(arrays: dict[str, np.ndarray]) -> dict:
            return {name: arrays[name].tolist() for name in PARAMETER_NAMES}

        return {
            "hidden_net": self.hidden_net.tolist(),
            "hidden_out": self.hidden_out.tolist(),
            "output_net": self.output_net.tolist(),
            "output_out": self.output_out.tolist(),
            "loss": self.loss,
            "grads": lists(self.grads),
            "before": lists(self.before),
            "after": lists(self.after),
        }


def autograd_step(params: dict[str, np.ndarray], x, target, lr: float) -> StepTrace:
    """One step by PyTorch: autograd for the gradients, torch.optim.SGD for the update."""
    weights = {
        n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in params.items()
    }
    inputs = torch.tensor(x, dtype=torch.float64)
    targets = torch.tensor(target, dtype=torch.float64)
    hidden_net = weights["W1"] @ inputs + weights["b1"]
    hidden_out = torch.sigmoid(hidden_net)
    output_net = weights["W2"] @ hidden_out + weights["b2"]
    output_out = torch.sigmoid(output_net)
    loss = ((output_out - targets) ** 2).sum() / 2
    loss.backward()
    torch.optim.SGD(weights.values(), lr=lr).step()
    return StepTrace(
        x=np.array(x, dtype=np.float64),
        target=np.array(target, dtype=np.float64),
        hidden_net=hidden_net.detach().numpy(),
        hidden_out=hidden_out.detach().numpy(),
        output_net=output_net.detach().numpy(),
        output_out=output_out.detach().numpy(),
        loss=loss.item(),
        grads={n: w.grad.numpy() for n, w in weights.items()},  # type: ignore[union-attr]  # set by backward()
        before={n: v.copy() for n, v in params.items()},
        after={n: w.detach().numpy() for n, w in weights.items()},
    )


class Affine:
    """y = x·Wᵀ + b on a batch of rows, W in PyTorch layout (out × in)."""

    def __init__(self, W: np.ndarray, b: np.ndarray):
        self.W, self.b = W, b

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return x @ self.W.T + self.b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # The tutorials' dW = xᵀ·dout is for an (in × out) W; transposed here for the (out × in) layout.
        self.dW = dout.T @ self.x
        self.db = dout.sum(axis=0)
        return dout @ self.W


class Sigmoid:
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = 1 / (1 + np.exp(-x))
        return self.y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self.y * (1 - self.y)


class HalfSquaredError:
    """L = Σ(y − t)² / 2, whose gradient is simply y − t."""

    def forward(self, y: np.ndarray, t: np.ndarray) -> float:
        self.diff = y - t
        return float(0.5 * np.sum(self.diff**2))

    def backward(self) -> np.ndarray:
        return self.diff


def numpy_step(params: dict[str, np.ndarray], x, target, lr: float) -> StepTrace:
    """One step with the from-scratch layers: forward, loss, backward in reverse order, update."""
    hidden, hidden_act = Affine(params["W1"], params["b1"]), Sigmoid()
    output, output_act = Affine(params["W2"], params["b2"]), Sigmoid()
    loss_layer = HalfSquaredError()
    inputs = np.array(x, dtype=np.float64)[None, :]  # a batch of one row
    hidden_net = hidden.forward(inputs)
    hidden_out = hidden_act.forward(hidden_net)
    output_net = output.forward(hidden_out)
    output_out = output_act.forward(output_net)
    loss = loss_layer.forward(output_out, np.array(target, dtype=np.float64)[None, :])
    hidden.backward(
        hidden_act.backward(output.backward(output_act.backward(loss_layer.backward())))
    )
    grads = {"W1": hidden.dW, "b1": hidden.db, "W2": output.dW, "b2": output.db}
    return StepTrace(
        x=inputs[0],
        target=np.array(target, dtype=np.float64),
        hidden_net=hidden_net[0],
        hidden_out=hidden_out[0],
        output_net=output_net[0],
        output_out=output_out[0],
        loss=loss,
        grads=grads,
        before={n: v.copy() for n, v in params.items()},
        after={n: params[n] - lr * grads[n] for n in PARAMETER_NAMES},
    )


def run_steps(step, config: BackpropConfig) -> list[StepTrace]:
    """Repeat `step` config.steps times, each starting from the weights the previous one left."""
    params, traces = config.parameters(), []
    for _step in range(config.steps):
        traces.append(step(params, config.x, config.target, config.lr))
        params = traces[-1].after
    return traces


@dataclass
class ChainRule:
    """dL/dw written as a product of factors; `paths` lists the terms of a sum over output units."""

    weight: str
    factors: list[tuple[str, float]]
    gradient: float
    paths: list[tuple[str, float]] = field(default_factory=list)

    def text(self) -> str:
        labels = " · ".join(label for label, _value in self.factors)
        values = " × ".join(f"{value:.6f}" for _label, value in self.factors)
        return f"dL/d{self.weight} = {labels} = {values} = {self.gradient:.6f}"

    def to_dict(self) -> dict:
        def plain(pairs):
            return [[label, float(value)] for label, value in pairs]

        return {
            "weight": self.weight,
            "factors": plain(self.factors),
            "paths": plain(self.paths),
            "gradient": self.gradient,
            "text": self.text(),
        }


def output_weight_rule(trace: StepTrace, unit: int = 0, source: int = 0) -> ChainRule:
    """dL/dW2[unit][source]: error at the output × sigmoid slope × the hidden activation it carries."""
    out = trace.output_out[unit]
    factors = [
        (f"dL/dout{unit}", out - trace.target[unit]),
        (f"dout{unit}/dnet{unit}", out * (1 - out)),
        (f"dnet{unit}/dW2[{unit}][{source}]", trace.hidden_out[source]),
    ]
    return ChainRule(f"W2[{unit}][{source}]", factors, float(np.prod([v for _label, v in factors])))


def hidden_weight_rule(trace: StepTrace, unit: int = 0, source: int = 0) -> ChainRule:
    """dL/dW1[unit][source]: the hidden unit feeds both outputs, so its error sums the two paths."""
    out = trace.output_out
    deltas = (out - trace.target) * out * (1 - out)  # dL/dnet of each output unit
    paths = [
        (f"δout{k} · W2[{k}][{unit}]", float(deltas[k] * trace.before["W2"][k][unit]))
        for k in range(len(out))
    ]
    h = trace.hidden_out[unit]
    factors = [
        (
            f"dL/dh{unit} " + _("(Σ of {count} paths)").format(count=len(paths)),
            sum(v for _label, v in paths),
        ),
        (f"dh{unit}/dnet_h{unit}", h * (1 - h)),
        (f"dnet_h{unit}/dW1[{unit}][{source}]", trace.x[source]),
    ]
    return ChainRule(
        f"W1[{unit}][{source}]", factors, float(np.prod([v for _label, v in factors])), paths
    )


@dataclass
class BackpropResult:
    config: BackpropConfig
    autograd: list[StepTrace]
    numpy: list[StepTrace]

    @property
    def max_difference(self) -> float:
        """Largest absolute gap between the two engines over every value of every step."""
        return max(
            float(np.max(np.abs(a.numbers() - n.numbers())))
            for a, n in zip(self.autograd, self.numpy, strict=True)
        )

    @property
    def chain_rules(self) -> list[ChainRule]:
        """The chain rule spelled out, for the last step, for one weight in each layer."""
        last = self.autograd[-1]
        return [output_weight_rule(last), hidden_weight_rule(last)]

    def to_dict(self) -> dict:
        return {
            "config": self.config.__dict__,
            "losses": [t.loss for t in self.autograd],
            "last_step": self.autograd[-1].to_dict(),
            "numpy_last_step": self.numpy[-1].to_dict(),
            "max_difference": self.max_difference,
            "chain_rules": [rule.to_dict() for rule in self.chain_rules],
        }


def worked_example(config: BackpropConfig | None = None) -> BackpropResult:
    config = config or BackpropConfig()
    return BackpropResult(config, run_steps(autograd_step, config), run_steps(numpy_step, config))
