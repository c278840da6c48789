"""Gradient check: central-difference numerical gradients against autograd, parameter by parameter.

Everything runs in float64 on a deep copy of the model in eval mode, so dropout is off, batch norm
uses its running statistics, and the caller's model is never touched.

Relative error of one parameter: |a − n| / max(|a| + |n|, ERROR_FLOOR), a = autograd, n = numerical.
The sum in the denominator keeps it symmetric and bounded by 1; the floor stops two near-zero gradients
from turning rounding noise (about 1e-12 with h = 1e-4 in float64) into a large "relative" error:
below the floor it acts as an absolute error scaled by 1/ERROR_FLOOR.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import torch

STEP = 1e-4
PASS_BELOW = 1e-6
ERROR_FLOOR = 1e-5
WORST_SHOWN = 5


def relative_error(analytic: float, numeric: float) -> float:
    return abs(analytic - numeric) / max(abs(analytic) + abs(numeric), ERROR_FLOOR)


@dataclass
class ParameterCheck:
    tensor: str
    index: tuple[int, ...]
    numeric: float
    analytic: float
    rel_error: float


@dataclass
class TensorCheck:
    name: str
    shape: tuple[int, ...]
    checked: int
    total: int
    max_rel_error: float


@dataclass
class GradCheckReport:
    tensors: list[TensorCheck]
    worst: list[ParameterCheck]  # the largest individual errors, worst first
    h: float
    threshold: float

    @property
    def max_rel_error(self) -> float:
        return max((t.max_rel_error for t in self.tensors), default=0.0)

    @property
    def passed(self) -> bool:
        return self.max_rel_error < self.threshold

    @property
    def checked(self) -> int:
        return sum(t.checked for t in self.tensors)

    @property
    def total(self) -> int:
        return sum(t.total for t in self.tensors)

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "max_rel_error": self.max_rel_error,
            "threshold": self.threshold,
            "h": self.h,
            "checked": self.checked,
            "total": self.total,
            "tensors": [asdict(t) for t in self.tensors],
            "worst": [asdict(p) for p in self.worst],
        }


def _as_float64(tensor: torch.Tensor) -> torch.Tensor:
    """Floating data goes to float64; class labels (integers) stay as they are."""
    return tensor.double() if tensor.is_floating_point() else tensor


def _positions(total: int, max_params: int | None, generator: torch.Generator) -> list[int]:
    """All flat positions, or a seeded sample of max_params of them in increasing order."""
    if max_params is None or total <= max_params:
        return list(range(total))
    return sorted(torch.randperm(total, generator=generator)[:max_params].tolist())


def gradient_check(
    model: torch.nn.Module,
    loss_fn,
    X: torch.Tensor,
    y: torch.Tensor,
    h: float = STEP,
    max_params: int | None = None,
    seed: int = 0,
    threshold: float = PASS_BELOW,
) -> GradCheckReport:
    """Compare autograd with (L(w + h) − L(w − h)) / 2h for every parameter (or max_params per tensor)."""
    model = copy.deepcopy(model).double().eval()
    X, y = _as_float64(X), _as_float64(y)

    def loss() -> torch.Tensor:
        return loss_fn(model(X), y)

    model.zero_grad()
    loss().backward()
    generator = torch.Generator().manual_seed(seed)
    tensors, checks = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        # A parameter the loss does not use has no .grad: its gradient is zero.
        grad = param.grad if param.grad is not None else torch.zeros_like(param)
        flat, analytic = param.data.view(-1), grad.reshape(-1)
        positions = _positions(flat.numel(), max_params, generator)
        tensor_checks = []
        with torch.no_grad():
            for i in positions:
                original = flat[i].item()
                flat[i] = original + h
                above = loss().item()
                flat[i] = original - h
                below = loss().item()
                flat[i] = original
                numeric = (above - below) / (2 * h)
                a = analytic[i].item()
                index = tuple(int(k) for k in torch.unravel_index(torch.tensor(i), param.shape))
                tensor_checks.append(
                    ParameterCheck(name, index, numeric, a, relative_error(a, numeric))
                )
        worst_here = max((c.rel_error for c in tensor_checks), default=0.0)
        tensors.append(
            TensorCheck(name, tuple(param.shape), len(positions), flat.numel(), worst_here)
        )
        checks += tensor_checks
    worst = sorted(checks, key=lambda c: c.rel_error, reverse=True)[:WORST_SHOWN]
    return GradCheckReport(tensors, worst, h, threshold)
