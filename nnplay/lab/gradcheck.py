"""Gradient check: central-difference numerical gradients against backprop, per parameter.

The model is copied to float64 and put in eval mode (dropout off, batch norm on its running
statistics), so the loss is a smooth deterministic function of every weight. Each checked
weight w gets (L(w + h) - L(w - h)) / 2h with h = 1e-4; big tensors are sampled.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

PASS_BELOW = 1e-6  # relative error: float64 central differences land near 1e-9 on these nets
# Below this size a gradient counts as zero: the error is measured against it instead, so
# vanishing gradients (1e-9 and less) are not failed for rounding noise. ReLU nets can still
# fail honestly where w ± h moves a unit across its kink at 0 (the loss is not smooth there).
TINY = 1e-6


@dataclass(frozen=True)
class Entry:
    name: str
    index: tuple
    numeric: float
    analytic: float
    error: float


@dataclass(frozen=True)
class GradCheckReport:
    per_tensor: dict  # parameter name -> largest relative error among its checked entries
    worst: list[Entry]
    checked: int
    total: int

    @property
    def max_error(self) -> float:
        return max(self.per_tensor.values(), default=0.0)

    @property
    def passed(self) -> bool:
        return self.max_error < PASS_BELOW

    def to_dict(self) -> dict:
        return {"passed": self.passed, "max_relative_error": self.max_error,
                "per_tensor": self.per_tensor, "checked": self.checked, "total": self.total,
                "worst": [e.__dict__ | {"index": list(e.index)} for e in self.worst]}


def report_lines(report: GradCheckReport) -> list[str]:
    verdict = "passed" if report.passed else "FAILED"
    lines = [f"gradient check {verdict}: largest relative error {report.max_error:.2e} "
             f"(threshold {PASS_BELOW:g}); {report.checked} of {report.total} parameters checked"]
    lines += [f"  {name:<16} {error:.2e}" for name, error in report.per_tensor.items()]
    lines += ["worst entries:"]
    lines += [f"  {e.name}{list(e.index)}: numeric {e.numeric:.8g}  backprop {e.analytic:.8g}  "
              f"error {e.error:.1e}" for e in report.worst]
    return lines


def relative_error(analytic: float, numeric: float) -> float:
    return abs(analytic - numeric) / max(abs(analytic) + abs(numeric), TINY)


def gradient_check(model, loss_fn, x, y, h: float = 1e-4, per_tensor: int = 64,
                   seed: int = 0) -> GradCheckReport:
    """Compare autograd with central differences for (up to `per_tensor` entries of) every
    parameter tensor of `model` on the batch (x, y)."""
    import torch

    model = copy.deepcopy(model).double().eval()
    x = x.double()
    y = y.double() if y.is_floating_point() else y

    def loss() -> float:
        with torch.no_grad():
            return loss_fn(model(x), y).item()

    model.zero_grad()
    loss_fn(model(x), y).backward()
    rng = np.random.default_rng(seed)
    per_name, entries, total = {}, [], 0
    for name, param in model.named_parameters():
        total += param.numel()
        flat = param.data.view(-1)
        picked = (range(flat.numel()) if flat.numel() <= per_tensor
                  else rng.choice(flat.numel(), per_tensor, replace=False))
        errors = []
        for i in picked:
            original = flat[i].item()
            flat[i] = original + h
            up = loss()
            flat[i] = original - h
            down = loss()
            flat[i] = original
            numeric = (up - down) / (2 * h)
            analytic = param.grad.view(-1)[i].item()
            index = tuple(int(v) for v in np.unravel_index(int(i), tuple(param.shape)))
            errors.append(Entry(name, index, numeric, analytic, relative_error(analytic, numeric)))
        per_name[name] = max(e.error for e in errors)
        entries += errors
    worst = sorted(entries, key=lambda e: e.error, reverse=True)[:5]
    return GradCheckReport(per_name, worst, len(entries), total)


def check_trainer(trainer, batch: int = 64) -> GradCheckReport:
    """The check on a Trainer's current model and the first `batch` training samples."""
    return gradient_check(trainer.model, trainer.loss_fn, trainer.X_train[:batch],
                          trainer.y_train[:batch])
