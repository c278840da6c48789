"""Plain-text reports of the lab's results, shared by the command line and the TUI screens."""

from __future__ import annotations

import numpy as np

from nnplay.lab.backprop import PARAMETER_NAMES, BackpropResult, StepTrace
from nnplay.lab.gradcheck import GradCheckReport
from nnplay.lab.optpaths import MINIMUM_MARK, START_MARK, OptPath
from nnplay.lab.surfaces import FUNCTIONS, PATH_OPTIMIZERS


def numbers(values) -> str:
    """[0.593270, 0.596884] or [[…], […]] with six decimals."""
    array = np.asarray(values, dtype=float)
    if array.ndim == 0:
        return f"{array:.6f}"
    return "[" + ", ".join(numbers(v) for v in array) + "]"


def forward_lines(step: StepTrace) -> list[str]:
    return [
        f"input   x {numbers(step.x)}   target {numbers(step.target)}",
        f"hidden  net {numbers(step.hidden_net)}   out {numbers(step.hidden_out)}",
        f"output  net {numbers(step.output_net)}   out {numbers(step.output_out)}",
        f"loss    Σ(out − target)²/2 = {step.loss:.6f}",
    ]


def gradient_lines(step: StepTrace) -> list[str]:
    return [f"dL/d{name:<3}{numbers(step.grads[name])}" for name in PARAMETER_NAMES]


def weight_lines(step: StepTrace) -> list[str]:
    return [
        f"{name:<3} {numbers(step.before[name])}  →  {numbers(step.after[name])}"
        for name in PARAMETER_NAMES
    ]


def chain_rule_lines(result: BackpropResult) -> list[str]:
    lines = []
    for rule in result.chain_rules:
        lines.append(rule.text())
        lines += [f"    {label} = {value:.6f}" for label, value in rule.paths]
    return lines


def engines_lines(result: BackpropResult) -> list[str]:
    """Autograd and the NumPy layers side by side, for the loss and every gradient of the last step."""
    autograd, by_hand = result.autograd[-1], result.numpy[-1]
    rows: list[tuple[str, float | np.ndarray, float | np.ndarray]] = [
        ("loss", autograd.loss, by_hand.loss)
    ]
    rows += [(f"dL/d{n}", autograd.grads[n], by_hand.grads[n]) for n in PARAMETER_NAMES]
    width = max(len(numbers(a)) for _, a, _ in rows)
    lines = [f"{'':8}{'autograd (torch)':<{width}}   NumPy layers"]
    lines += [f"{name:<8}{numbers(a):<{width}}   {numbers(n)}" for name, a, n in rows]
    lines.append(f"max difference over all values and steps: {result.max_difference:.1e}")
    return lines


def backprop_lines(result: BackpropResult) -> list[str]:
    config, last = result.config, result.autograd[-1]
    where = f"step {len(result.autograd)} of {config.steps}"
    return [
        f"2-2-2 sigmoid network, SGD lr {config.lr:g}, {config.steps} step(s); showing {where}",
        "",
        "Forward",
        *forward_lines(last),
        "",
        "Gradients",
        *gradient_lines(last),
        "",
        "Chain rule",
        *chain_rule_lines(result),
        "",
        "Weights before → after the step",
        *weight_lines(last),
        "",
        "Autograd vs NumPy",
        *engines_lines(result),
    ]


def optpaths_table(paths: list[OptPath]) -> list[str]:
    lines = [
        f"{'OPTIMIZER':<11}{'LR':>8}  {'STEPS TO CONVERGE':>17}  "
        f"{'FINAL POINT':<24}{'FINAL VALUE':>12}  STATUS"
    ]
    for p in paths:
        steps = "-" if p.steps_to_converge is None else str(p.steps_to_converge)
        point = f"({p.final_point[0]:.4f}, {p.final_point[1]:.4f})"
        name = f"{PATH_OPTIMIZERS[p.optimizer].mark} {p.optimizer}"
        lines.append(
            f"{name:<11}{p.lr:>8g}  {steps:>17}  {point:<24}{p.final_value:>12.4g}  {p.status}"
        )
    return lines


def optpaths_caption(function: str, steps: int) -> str:
    surface = FUNCTIONS[function]
    return (
        f"{function}: f = {surface.formula}, start {surface.start}, {steps} steps   "
        f"{START_MARK} start  {MINIMUM_MARK} minimum"
    )


def gradcheck_lines(report: GradCheckReport) -> list[str]:
    verdict = "passed" if report.passed else "FAILED"
    lines = [
        f"gradient check {verdict}: max relative error {report.max_rel_error:.2e} "
        f"(threshold {report.threshold:g}, h {report.h:g}); "
        f"{report.checked} of {report.total} parameters checked",
        "",
        f"{'TENSOR':<16}{'SHAPE':<14}{'CHECKED':>12}  MAX REL ERROR",
    ]
    for t in report.tensors:
        lines.append(
            f"{t.name:<16}{str(t.shape):<14}{f'{t.checked}/{t.total}':>12}  {t.max_rel_error:.2e}"
        )
    lines += ["", f"{'WORST PARAMETER':<24}{'NUMERIC':>14}{'ANALYTIC':>14}  REL ERROR"]
    for p in report.worst:
        where = p.tensor + str(list(p.index))
        lines.append(f"{where:<24}{p.numeric:>14.6e}{p.analytic:>14.6e}  {p.rel_error:.2e}")
    return lines
