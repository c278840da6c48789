"""Plain-text reports of the lab's results, shared by the command line and the TUI screens."""

from __future__ import annotations

import numpy as np

from nnplay.i18n import N_, _, cells, ljust, rjust
from nnplay.lab.backprop import PARAMETER_NAMES, BackpropResult, StepTrace
from nnplay.lab.gradcheck import GradCheckReport
from nnplay.lab.optpaths import MINIMUM_MARK, START_MARK, OptPath
from nnplay.lab.surfaces import FUNCTIONS, PATH_OPTIMIZERS


def pad(text: str, spec: str) -> str:
    """`text` aligned like a format spec ("<16" left, ">12" right), counting wide characters
    (a translated column title) as two cells."""
    width = int(spec[1:])
    return ljust(text, width) if spec[0] == "<" else rjust(text, width)


def numbers(values) -> str:
    """[0.593270, 0.596884] or [[…], […]] with six decimals."""
    array = np.asarray(values, dtype=float)
    if array.ndim == 0:
        return f"{array:.6f}"
    return "[" + ", ".join(numbers(v) for v in array) + "]"


def forward_lines(step: StepTrace) -> list[str]:
    target = _("target")
    rows = [
        (_("input"), f"x {numbers(step.x)}   {target} {numbers(step.target)}"),
        (_("hidden"), f"net {numbers(step.hidden_net)}   out {numbers(step.hidden_out)}"),
        (_("output"), f"net {numbers(step.output_net)}   out {numbers(step.output_out)}"),
        (_("loss"), f"Σ(out − {target})²/2 = {step.loss:.6f}"),
    ]
    return [ljust(label, 8) + text for label, text in rows]


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
        (_("loss"), autograd.loss, by_hand.loss)
    ]
    rows += [(f"dL/d{n}", autograd.grads[n], by_hand.grads[n]) for n in PARAMETER_NAMES]
    width = max(len(numbers(a)) for _n, a, _h in rows)
    lines = [" " * 8 + ljust("autograd (torch)", width) + "   " + _("NumPy layers")]
    lines += [ljust(name, 8) + f"{numbers(a):<{width}}   {numbers(n)}" for name, a, n in rows]
    message = _("max difference over all values and steps: {difference}")
    lines.append(message.format(difference=f"{result.max_difference:.1e}"))
    return lines


def backprop_lines(result: BackpropResult) -> list[str]:
    config, last = result.config, result.autograd[-1]
    title = _("2-2-2 sigmoid network, SGD lr {lr}, {steps} step(s); showing step {step} of {steps}")
    return [
        title.format(lr=f"{config.lr:g}", steps=config.steps, step=len(result.autograd)),
        "",
        _("Forward"),
        *forward_lines(last),
        "",
        _("Gradients"),
        *gradient_lines(last),
        "",
        _("Chain rule"),
        *chain_rule_lines(result),
        "",
        _("Weights before → after the step"),
        *weight_lines(last),
        "",
        _("Autograd vs NumPy"),
        *engines_lines(result),
    ]


# A path's status in the table (JSON keeps the status itself).
PATH_STATUS_WORDS = {
    "converged": N_("converged"),
    "not converged": N_("not converged"),
    "escaped": N_("escaped"),
    "diverged": N_("diverged"),
}


def optpaths_table(paths: list[OptPath]) -> list[str]:
    to_converge = _("STEPS TO CONVERGE")
    steps_width = max(17, cells(to_converge))
    optimizer, point, value = _("OPTIMIZER"), _("FINAL POINT"), _("FINAL VALUE")
    lines = [
        f"{pad(optimizer, '<11')}{'LR':>8}  {pad(to_converge, f'>{steps_width}')}  "
        f"{pad(point, '<24')}{pad(value, '>12')}  " + _("STATUS")
    ]
    for p in paths:
        steps = "-" if p.steps_to_converge is None else str(p.steps_to_converge)
        point = f"({p.final_point[0]:.4f}, {p.final_point[1]:.4f})"
        name = f"{PATH_OPTIMIZERS[p.optimizer].mark} {p.optimizer}"
        status = _(PATH_STATUS_WORDS.get(p.status, p.status))
        lines.append(
            f"{name:<11}{p.lr:>8g}  {steps:>{steps_width}}  {point:<24}"
            f"{p.final_value:>12.4g}  {status}"
        )
    return lines


def optpaths_caption(function: str, steps: int) -> str:
    surface = FUNCTIONS[function]
    caption = _(
        "{function}: f = {formula}, start {start}, {steps} steps   "
        "{start_mark} start  {minimum_mark} minimum"
    )
    return caption.format(
        function=function,
        formula=surface.formula,
        start=surface.start,
        steps=steps,
        start_mark=START_MARK,
        minimum_mark=MINIMUM_MARK,
    )


def shown_error(error: float, threshold: float) -> str:
    """A relative error as a learner reads it: under the threshold only that it is ("< 1e-06 ✔"),
    since the digits of such a tiny error are rounding noise that differs from one CPU to
    another; over it, the error itself. --json keeps every digit."""
    return f"< {threshold:g} ✔" if error < threshold else f"{error:.2e} ✖"


def gradcheck_lines(report: GradCheckReport) -> list[str]:
    verdict = _("passed") if report.passed else _("FAILED")
    tensor, shape, checked = _("TENSOR"), _("SHAPE"), _("CHECKED")
    worst, numeric, analytic = _("WORST PARAMETER"), _("NUMERIC"), _("ANALYTIC")
    summary = _(
        "gradient check {verdict}: max relative error {error} (threshold {threshold}, h {h}); "
        "{checked} of {total} parameters checked"
    )
    lines = [
        summary.format(
            verdict=verdict,
            error=shown_error(report.max_rel_error, report.threshold),
            threshold=f"{report.threshold:g}",
            h=f"{report.h:g}",
            checked=report.checked,
            total=report.total,
        ),
        "",
        f"{pad(tensor, '<16')}{pad(shape, '<14')}{pad(checked, '>12')}  " + _("MAX REL ERROR"),
    ]
    for t in report.tensors:
        lines.append(
            f"{t.name:<16}{str(t.shape):<14}{f'{t.checked}/{t.total}':>12}  "
            + shown_error(t.max_rel_error, report.threshold)
        )
    lines += [
        "",
        f"{pad(worst, '<24')}{pad(numeric, '>14')}{pad(analytic, '>14')}  " + _("REL ERROR"),
    ]
    for p in report.worst:
        where = p.tensor + str(list(p.index))
        error = shown_error(p.rel_error, report.threshold)
        lines.append(f"{where:<24}{p.numeric:>14.6e}{p.analytic:>14.6e}  {error}")
    return lines
