"""Plain-text reports of the lab's results, shared by the command line and the TUI screens."""

from __future__ import annotations

import math

import numpy as np

from nnplay.i18n import N_, _, cells, ljust, rjust
from nnplay.lab.backprop import PARAMETER_NAMES, BackpropResult, StepTrace
from nnplay.lab.confusion import Confusion
from nnplay.lab.gradcheck import GradCheckReport
from nnplay.lab.lrfind import (
    EXPLODED,
    EXPLODED_STOP,
    INTERRUPTED,
    LEAST_DROP,
    NOT_FINITE,
    RangeTest,
)
from nnplay.lab.optpaths import (
    DIVERGE_BOUND,
    MINIMUM_MARK,
    OVERLAP_MARK,
    SHADES,
    START_MARK,
    OptPath,
)
from nnplay.lab.surfaces import FUNCTIONS, PATH_OPTIMIZERS
from nnplay.untrusted import shown


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
    caption = _("{function}: f = {formula}, start {start}, {steps} steps")
    return caption.format(
        function=function, formula=surface.formula, start=surface.start, steps=steps
    )


def optpaths_legend(paths: list[OptPath]) -> str:
    """What each mark and shade on the map means."""
    marks = [f"{PATH_OPTIMIZERS[p.optimizer].mark} {p.optimizer}" for p in paths]
    marks += [
        _("{mark} several paths").format(mark=OVERLAP_MARK),
        _("{mark} start").format(mark=START_MARK),
        _("{mark} minimum").format(mark=MINIMUM_MARK),
        _("f: low {shades} high (log scale)").format(shades=f"[{SHADES}]"),
    ]
    return "  ".join(marks)


def point_text(point: tuple[float, float]) -> str:
    """(x, y) to four decimals; + 0.0 turns a rounded -0.0 into 0.0."""
    x, y = (round(v, 4) + 0.0 for v in point)
    return f"({x:.4f}, {y:.4f})"


def optpath_verdict(path: OptPath) -> str:
    """One line on whether the path converged and where it ended, as its status says."""
    name = f"{PATH_OPTIMIZERS[path.optimizer].mark} {path.optimizer}: "
    tolerance = FUNCTIONS[path.function].tolerance
    if path.status == "diverged":
        message = _(
            "diverged at step {step}: the point went past {bound} or its value overflowed; "
            "last point {point}"
        )
        return name + message.format(
            step=len(path.points), bound=f"{DIVERGE_BOUND:g}", point=point_text(path.final_point)
        )
    if path.nearest_minimum is None:
        message = (
            _("no minimum to converge to; left the view, ended at {point}, f = {value}")
            if path.status == "escaped"
            else _("no minimum to converge to; ended at {point}, f = {value}")
        )
        return name + message.format(
            point=point_text(path.final_point), value=f"{path.final_value:.4g}"
        )
    fields = {
        "point": point_text(path.final_point),
        "distance": f"{path.distance:.2g}",
        "minimum": point_text(path.nearest_minimum),
        "tolerance": f"{tolerance:g}",
        "step": path.steps_to_converge,
        "steps": len(path.points) - 1,
    }
    if path.status == "converged":
        message = _(
            "converged: ended at {point}, {distance} from the minimum {minimum}, "
            "within {tolerance} from step {step}"
        )
    else:
        message = _(
            "did not converge in {steps} steps: ended at {point}, {distance} from the "
            "nearest minimum {minimum} (converged means within {tolerance})"
        )
    return name + message.format(**fields)


def optpaths_lines(
    function: str, steps: int, paths: list[OptPath], map_rows: list[str]
) -> list[str]:
    """The whole report: caption, map, legend, table and one verdict per path."""
    return [
        optpaths_caption(function, steps),
        *map_rows,
        optpaths_legend(paths),
        "",
        *optpaths_table(paths),
        "",
        *map(optpath_verdict, paths),
    ]


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


def clipped(text: str, width: int) -> str:
    """`text` safe for a terminal (a CSV file names the classes) and cut to `width` cells,
    an ellipsis marking the cut."""
    safe = shown(text, len(text))
    if cells(safe) <= width:
        return safe
    while cells(safe) > width - 1:
        safe = safe[:-1]
    return safe + "…"


def percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def confusion_lines(matrix: Confusion, width: int = 76) -> list[str]:
    """The matrix with the class names along both sides and each class's accuracy at the end
    of its row, in `width` cells (ten classes fit 80 columns)."""
    corner, accuracy = _("true \\ predicted"), _("accuracy")
    k = len(matrix.names)
    label = max(cells(corner), min(max(cells(n) for n in matrix.names), 14)) + 1
    last = max(cells(accuracy), 6) + 2
    digits = len(str(max(max(row) for row in matrix.matrix)))
    natural = max(digits, max(cells(n) for n in matrix.names)) + 2
    cell = max(digits + 1, min(natural, (width - label - last) // k))
    head = ljust(corner, label) + "".join(rjust(clipped(n, cell - 1), cell) for n in matrix.names)
    lines = [
        _("rows: the true class; columns: the class predicted; {count} validation samples").format(
            count=sum(matrix.counts)
        ),
        "",
        head + rjust(accuracy, last),
    ]
    for name, row, share in zip(matrix.names, matrix.matrix, matrix.class_accuracy(), strict=True):
        counts = "".join(f"{n:>{cell}}" for n in row)
        lines.append(ljust(clipped(name, label - 1), label) + counts + rjust(percent(share), last))
    overall = _("accuracy over all classes: {accuracy}")
    return [*lines, "", overall.format(accuracy=percent(matrix.accuracy()))]


# The learning-rate range test's text chart: both axes logarithmic, drawn with characters (the
# command line draws without plotext, which only the app imports).
SMOOTHED_MARK, BATCH_MARK, SUGGESTED_MARK = "•", "·", "▲"
Y_LABEL_WIDTH = 10


def lrfind_chart(test: RangeTest, width: int = 60, height: int = 14) -> list[str]:
    """The smoothed loss (•) over each batch's loss (·) against the rate, and ▲ under the
    suggested rate; [] when there is no loss to draw."""
    curves = [
        [(lr, v) for lr, v in zip(test.lrs, values, strict=False) if v is not None and v > 0]
        for values in (test.drawn_losses(), test.smoothed)
    ]
    if not curves[1]:
        return []
    logged = [math.log10(v) for curve in curves for _lr, v in curve]
    low, high = min(logged), max(logged)
    if high - low < 1e-9:  # a flat line: half a decade above and below it
        low, high = low - 0.5, high + 0.5
    left, right = math.log10(test.start), math.log10(test.end)

    def column(lr: float) -> int:
        return round((math.log10(lr) - left) / (right - left) * (width - 1))

    def row(value: float) -> int:
        return round((high - math.log10(value)) / (high - low) * (height - 1))

    grid = [[" "] * width for _ in range(height)]
    for curve, mark in zip(curves, (BATCH_MARK, SMOOTHED_MARK), strict=True):
        for lr, value in curve:
            grid[row(value)][column(lr)] = mark
    labelled = {0: high, (height - 1) // 2: (high + low) / 2, height - 1: low}
    lines = []
    for i, cells_of_row in enumerate(grid):
        label = f"{10 ** labelled[i]:.3g} ┤" if i in labelled else "│"
        lines.append(label.rjust(Y_LABEL_WIDTH) + "".join(cells_of_row).rstrip())
    lines.append(" " * (Y_LABEL_WIDTH - 1) + "└" + "─" * width)
    lines.append(" " * Y_LABEL_WIDTH + decade_labels(left, right, width))
    if test.suggested is not None:
        lines.append(" " * (Y_LABEL_WIDTH + column(test.suggested)) + SUGGESTED_MARK)
    return lines


def decade_labels(left: float, right: float, width: int) -> str:
    """1e-6, 1e-5, ... under their columns, every decade that has room for its label."""
    text = [" "] * (width + 6)
    free = 0  # the first column a label may start at
    for decade in range(math.ceil(left), math.floor(right) + 1):
        label = f"1e{decade}"
        at = round((decade - left) / (right - left) * (width - 1))
        if at >= free:
            text[at : at + len(label)] = label
            free = at + len(label) + 1
    return "".join(text).rstrip()


def lrfind_legend() -> str:
    return _(
        "{smoothed} smoothed loss   {batch} batch loss   {suggested} suggested rate   "
        "x: learning rate, y: loss (both log scale)"
    ).format(smoothed=SMOOTHED_MARK, batch=BATCH_MARK, suggested=SUGGESTED_MARK)


def lrfind_stop(test: RangeTest) -> str:
    """How the test ended."""
    if not test.lrs:
        return _("the test stopped before its first step")
    last = f"{test.lrs[-1]:.3g}"
    if test.stopped == EXPLODED_STOP:
        message = _("stopped early at rate {lr}: the smoothed loss passed {times}× its lowest")
        return message.format(lr=last, times=f"{EXPLODED:g}")
    if test.stopped == NOT_FINITE:
        message = _("stopped early at rate {lr}: the loss became {value}")
        return message.format(lr=last, value=f"{test.losses[-1]:.4g}")
    if test.stopped == INTERRUPTED:
        return _("stopped at rate {lr} before the end").format(lr=last)
    message = _("{steps} rates tried, from {start} to {end}, one batch each")
    return message.format(steps=len(test.lrs), start=f"{test.start:g}", end=f"{test.end:g}")


def lrfind_reason(test: RangeTest) -> str:
    """The suggestion and the rule behind it, or why there is none."""
    if test.suggested is None:
        message = _(
            "no rate suggested: the smoothed loss fell only {drop} below where it started (a "
            "rate is seen to learn from {least}); try more steps"
        )
        return message.format(least=f"{LEAST_DROP:.0%}", drop=f"{test.drop:.0%}")
    if test.lowest_at_end:
        message = _(
            "suggested learning rate {suggested}: a tenth of {lowest}, the last rate, where the "
            "smoothed loss was lowest ({loss}) and still falling: the edge where the steps "
            "overshoot lies beyond it, and a tenth keeps well clear of it. A test with a larger "
            "end may allow a larger rate."
        )
    else:
        message = _(
            "suggested learning rate {suggested}: a tenth of {lowest}, the rate where the "
            "smoothed loss was lowest ({loss}). There the steps begin to overshoot; a tenth of it "
            "is safely below that edge and still fast."
        )
    return message.format(
        suggested=f"{test.suggested:g}",
        lowest=f"{test.lrs[test.lowest]:.3g}",
        loss=f"{test.smoothed[test.lowest]:.4g}",
    )


def lrfind_lines(test: RangeTest, target: str, optimizer: str) -> list[str]:
    title = _(
        "learning-rate range test of {target} ({optimizer}): up to {steps} steps, the rate "
        "growing from {start} to {end}"
    )
    return [
        title.format(
            target=target,
            optimizer=optimizer,
            steps=test.steps,
            start=f"{test.start:g}",
            end=f"{test.end:g}",
        ),
        "",
        *lrfind_chart(test),
        lrfind_legend(),
        "",
        lrfind_stop(test),
        lrfind_reason(test),
    ]
