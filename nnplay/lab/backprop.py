"""The backpropagation worked example: a 2-2-2 sigmoid network, every value and gradient.

Computed twice: by hand with NumPy layers that have forward and backward methods (the way the
tutorials build them), and by torch autograd, both in float64, so a learner sees they agree.
The loss is sum((out - target)^2) / 2 and the update one plain SGD step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NAMES = ("w1", "b1", "w2", "b2")


def _array(values) -> np.ndarray:
    return np.array(values, dtype=np.float64)


@dataclass
class BackpropSetup:
    """CURRICULUM §4's network; weights in PyTorch's layout (rows are output units)."""

    x: list = field(default_factory=lambda: [0.05, 0.10])
    target: list = field(default_factory=lambda: [0.01, 0.99])
    w1: list = field(default_factory=lambda: [[0.15, 0.20], [0.25, 0.30]])
    b1: list = field(default_factory=lambda: [0.35, 0.35])
    w2: list = field(default_factory=lambda: [[0.40, 0.45], [0.50, 0.55]])
    b2: list = field(default_factory=lambda: [0.60, 0.60])
    lr: float = 0.5


class Affine:
    """y = x·Wᵀ + b, remembering x for the backward pass."""

    def __init__(self, w: np.ndarray, b: np.ndarray):
        self.w, self.b = w, b

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return x @ self.w.T + self.b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.dw = dout.T @ self.x  # (out, in), like w
        self.db = dout.sum(axis=0)
        return dout @ self.w


class Sigmoid:
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = 1 / (1 + np.exp(-x))
        return self.y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self.y * (1 - self.y)


@dataclass(frozen=True)
class Pass:
    """One forward and backward pass and the SGD step after it."""

    net1: np.ndarray  # hidden units' net input
    hidden: np.ndarray  # hidden activations
    net2: np.ndarray
    out: np.ndarray
    loss: float
    grads: dict  # name -> gradient (same shape as the weight)
    before: dict  # name -> weights before the step
    after: dict  # name -> weights after the step


def numpy_pass(weights: dict, x, target, lr: float) -> Pass:
    layer1, act1 = Affine(weights["w1"], weights["b1"]), Sigmoid()
    layer2, act2 = Affine(weights["w2"], weights["b2"]), Sigmoid()
    x = _array(x).reshape(1, -1)
    target = _array(target).reshape(1, -1)
    net1 = layer1.forward(x)
    hidden = act1.forward(net1)
    net2 = layer2.forward(hidden)
    out = act2.forward(net2)
    loss = float(((out - target) ** 2).sum() / 2)
    layer1.backward(act1.backward(layer2.backward(act2.backward(out - target))))
    grads = {"w1": layer1.dw, "b1": layer1.db, "w2": layer2.dw, "b2": layer2.db}
    after = {k: weights[k] - lr * grads[k] for k in NAMES}
    return Pass(net1[0], hidden[0], net2[0], out[0], loss, grads, dict(weights), after)


def autograd_pass(weights: dict, x, target, lr: float) -> Pass:
    import torch

    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for k, v in weights.items()}
    x = torch.tensor(x, dtype=torch.float64)
    target = torch.tensor(target, dtype=torch.float64)
    net1 = x @ params["w1"].T + params["b1"]
    hidden = torch.sigmoid(net1)
    net2 = hidden @ params["w2"].T + params["b2"]
    out = torch.sigmoid(net2)
    loss = ((out - target) ** 2).sum() / 2
    loss.backward()
    grads = {k: p.grad.numpy().copy() for k, p in params.items()}
    after = {k: weights[k] - lr * grads[k] for k in NAMES}
    values = [t.detach().numpy() for t in (net1, hidden, net2, out)]
    return Pass(*values, loss.item(), grads, dict(weights), after)


@dataclass(frozen=True)
class WorkedExample:
    setup: BackpropSetup
    numpy: list[Pass]  # one per step
    autograd: list[Pass]
    max_difference: float  # largest |numpy - autograd| over every value of every step

    def chain_rule(self, step: int = 0) -> list[str]:
        """dL/dW2[0][0] and dL/dW1[0][0] written out as products of their factors."""
        p = self.numpy[step]
        o, h, w2 = p.out, p.hidden, p.before["w2"]
        t, x = _array(self.setup.target), self.setup.x[0]
        delta2 = (o - t) * o * (1 - o)
        lines = [
            "dL/dW2[0][0] = dL/dout0 · dout0/dnet0 · dnet0/dW2[0][0]",
            f"             = (out0 - t0) · out0(1 - out0) · h0",
            f"             = ({o[0]:.6f} - {t[0]:.2f}) · {o[0] * (1 - o[0]):.6f} · {h[0]:.6f}"
            f" = {p.grads['w2'][0, 0]:.9f}",
            "dL/dW1[0][0] = Σk (out_k - t_k) · out_k(1 - out_k) · W2[k][0] · h0(1 - h0) · x0",
            f"             = ({delta2[0]:.6f} · {w2[0, 0]:.2f} + {delta2[1]:.6f} · {w2[1, 0]:.2f})"
            f" · {h[0] * (1 - h[0]):.6f} · {x:.2f} = {p.grads['w1'][0, 0]:.9f}",
        ]
        return lines

    def to_dict(self) -> dict:
        def plain(p: Pass) -> dict:
            return {"net1": p.net1.tolist(), "hidden": p.hidden.tolist(), "net2": p.net2.tolist(),
                    "out": p.out.tolist(), "loss": p.loss,
                    "gradients": {k: v.tolist() for k, v in p.grads.items()},
                    "after": {k: v.tolist() for k, v in p.after.items()}}
        return {"steps": [plain(p) for p in self.numpy],
                "autograd": [plain(p) for p in self.autograd],
                "max_difference": self.max_difference, "chain_rule": self.chain_rule()}


def worked_example(setup: BackpropSetup | None = None, steps: int = 1) -> WorkedExample:
    setup = setup or BackpropSetup()
    weights = {k: _array(getattr(setup, k)) for k in NAMES}
    numpy_passes, autograd_passes = [], []
    by_hand, auto = weights, weights
    for _ in range(steps):
        numpy_passes.append(numpy_pass(by_hand, setup.x, setup.target, setup.lr))
        autograd_passes.append(autograd_pass(auto, setup.x, setup.target, setup.lr))
        by_hand, auto = numpy_passes[-1].after, autograd_passes[-1].after
    difference = max(_max_difference(a, b) for a, b in zip(numpy_passes, autograd_passes))
    return WorkedExample(setup, numpy_passes, autograd_passes, difference)


def _max_difference(a: Pass, b: Pass) -> float:
    pairs = [(a.net1, b.net1), (a.hidden, b.hidden), (a.net2, b.net2), (a.out, b.out),
             (np.array(a.loss), np.array(b.loss))]
    pairs += [(a.grads[k], b.grads[k]) for k in NAMES] + [(a.after[k], b.after[k]) for k in NAMES]
    return max(float(np.max(np.abs(x - y))) for x, y in pairs)
