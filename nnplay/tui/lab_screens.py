"""The lab's screens: the backprop worked example, optimizer paths, a gradient check, the
learning-rate range test, the confusion matrix, and one weight's update explained.

Each is a Screen the app pushes; `escape` pops it. The numbers come from nnplay.lab, the text
from nnplay.lab.text, so the screens and the command line always agree.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static
from textual_plotext import PlotextPlot

from nnplay.errors import ExperimentError
from nnplay.experiment import Experiment
from nnplay.i18n import N_, _
from nnplay.lab.backprop import PARAMETER_NAMES, BackpropConfig, worked_example
from nnplay.lab.checks import (
    GRADCHECK_MAX_PARAMS,
    GRADCHECK_SAMPLES,
    MAX_STEPS,
    checked_lr,
    checked_names,
    checked_rates,
    parse_count,
    parse_numbers,
)
from nnplay.lab.confusion import Confusion
from nnplay.lab.explain import Explanation
from nnplay.lab.explain_text import explain_lines
from nnplay.lab.gradcheck import gradient_check
from nnplay.lab.lrfind import (
    LEAST_STEPS,
    SWEEP_END,
    SWEEP_START,
    SWEEP_STEPS,
    RangeTest,
    range_test,
)
from nnplay.lab.optpaths import SHADES, OptPath, compare, map_cells
from nnplay.lab.surfaces import FUNCTIONS, PATH_OPTIMIZERS
from nnplay.lab.text import (
    backprop_lines,
    confusion_lines,
    gradcheck_lines,
    lrfind_reason,
    lrfind_stop,
    numbers,
    optpath_verdict,
    optpaths_caption,
    optpaths_legend,
    optpaths_table,
)
from nnplay.locks import is_locked
from nnplay.tui.actions import translate_bindings
from nnplay.tui.build_panel import FieldRow, field_id
from nnplay.tui.chart_scale import log_ticks, to_log, wants_log
from nnplay.tui.curves import BASELINE, BATCH, TRAIN, Chart, Series, plot, y_range
from nnplay.tui.footer import KeyBar
from nnplay.tui.prose import Prose
from nnplay.tui.screens import OnTop

MAP_SIZE = (60, 22)  # columns, rows of the contour map


def field(
    label: str, input_id: str, size: str, value: str = "", placeholder: str = ""
) -> HorizontalGroup:
    """A labelled Input; size (number, vector, matrix, names) is its CSS class, for its width."""
    return HorizontalGroup(
        Label(label),
        Input(value, placeholder=placeholder, id=input_id, classes=size),
        classes="lab-field",
    )


def flat(values) -> str:
    """The text an Input shows for a vector or matrix: its numbers, row after row, comma-separated."""
    return numbers(np.ravel(values))[1:-1]


class LabScreen(OnTop[None]):
    CSS_PATH = "lab.tcss"
    # The scrolling column has the keys at first: arrows, page up/down, home and end scroll,
    # the screen's letters act; click a field (or tab) to type into it.
    AUTO_FOCUS = ".lab"
    BINDINGS = [Binding("escape", "back", N_("Back"))]

    def __init__(self) -> None:
        super().__init__()
        translate_bindings(self)

    def action_back(self) -> None:
        """escape leaves a field first, then the screen."""
        if isinstance(self.focused, (Input, Select)):
            self.query_one(".lab").focus()
        else:
            self.dismiss()

    def show_error(self, message: str) -> None:
        self.query_one(".lab-error", Static).update(Prose(message))


class BackpropScreen(LabScreen):
    """The 2-2-2 network: the form holds the network now; the panel shows what one SGD step does
    to it, computed by autograd and by NumPy layers; Step applies that step to the form."""

    BINDINGS = [Binding("n", "step", N_("Step")), Binding("r", "reset", N_("Reset"))]
    SHAPES = {"x": 2, "target": 2, "W1": 4, "b1": 2, "W2": 4, "b2": 2}
    SIZES = {2: "vector", 4: "matrix"}

    def __init__(self) -> None:
        super().__init__()
        self.steps_taken = 0
        self.exact: dict[str, list[float]] = {}  # full-precision values behind the shown text

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="lab"):
            yield Static(
                _(
                    "Backpropagation, step by step: 2 inputs → 2 sigmoid → 2 sigmoid, "
                    "loss Σ(out − target)²/2"
                ),
                classes="lab-title",
            )
            with HorizontalGroup(classes="lab-row"):
                yield field("lr", "bp-lr", "number")
                yield Button(_("Step (n)"), id="bp-step", variant="primary")
                yield Button(_("Reset (r)"), id="bp-reset")
            for row in (("x", "target"), ("W1", "b1"), ("W2", "b2")):
                with HorizontalGroup(classes="lab-row"):
                    for name in row:
                        yield field(name, f"bp-{name.lower()}", self.SIZES[self.SHAPES[name]])
            yield Static("", classes="lab-error", markup=False)
            yield Static("", id="bp-status")
            yield Static("", id="bp-result", classes="lab-report")
        yield KeyBar()

    def on_mount(self) -> None:
        self.action_reset()

    def fill(self, config: BackpropConfig) -> None:
        self.query_one("#bp-lr", Input).value = f"{config.lr:g}"
        for name in self.SHAPES:
            self.exact[name] = np.ravel(getattr(config, name)).tolist()
            self.query_one(f"#bp-{name.lower()}", Input).value = flat(self.exact[name])

    def read(self) -> BackpropConfig:
        values: dict[str, Any] = {}
        for name, count in self.SHAPES.items():
            text = self.query_one(f"#bp-{name.lower()}", Input).value
            # Unedited fields keep their full precision; the Input shows six decimals.
            unedited = text == flat(self.exact[name])
            values[name] = self.exact[name] if unedited else parse_numbers(text, name, count)
        for name in ("W1", "W2"):
            values[name] = np.reshape(values[name], (2, 2)).tolist()
        lr = parse_numbers(self.query_one("#bp-lr", Input).value, "lr", 1)[0]
        return BackpropConfig(lr=checked_lr(lr, "lr"), steps=1, **values)

    def show(self) -> BackpropConfig | None:
        """Recompute from the form; None (and the reason on screen) when the form is not valid."""
        try:
            config = self.read()
        except ExperimentError as e:
            self.show_error(str(e))
            return None
        self.show_error("")
        self.result = worked_example(config)
        # The shared report's first line counts steps of its own run (always one here).
        report = backprop_lines(self.result)[1:]
        self.query_one("#bp-result", Static).update("\n".join(report))
        status = _(
            "The form holds the weights after {taken} step(s). Below: step {next}, SGD with "
            "lr {lr} from those weights; Step (n) applies it."
        )
        self.query_one("#bp-status", Static).update(
            status.format(taken=self.steps_taken, next=self.steps_taken + 1, lr=f"{config.lr:g}")
        )
        return config

    def on_input_changed(self, event: Input.Changed) -> None:
        self.show()

    def action_step(self) -> None:
        config = self.show()
        if config is None:
            return
        after = self.result.autograd[-1].after
        self.steps_taken += 1
        self.fill(
            BackpropConfig(
                x=config.x,
                target=config.target,
                lr=config.lr,
                **{n: after[n].tolist() for n in PARAMETER_NAMES},
            )
        )
        self.show()

    def action_reset(self) -> None:
        self.steps_taken = 0
        self.fill(BackpropConfig())
        self.show()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"bp-step": self.action_step, "bp-reset": self.action_reset}[str(event.button.id)]()


# The map's shading in the app: one background per band of the log-value, dark to grey, so the
# bright path colours read on every band.
SHADE_BACKGROUNDS = ("#0c0c0c", "#1f232b", "#323845", "#464e5e", "#5b6577")


class OptPathsScreen(LabScreen):
    """Several optimizers from the same start on a 2-D function: the map, the table and whether
    each converged. The paths are walked off the UI thread (rosenbrock takes thousands of steps)."""

    BINDINGS = [Binding("ctrl+r", "run", N_("Run"))]

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[OptPath] = []
        self.walks = 0  # the walks started: an older one stops at its next step

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="lab"):
            yield Static(_("Optimizer paths on 2-D functions"), classes="lab-title")
            with HorizontalGroup(classes="lab-row"):
                with HorizontalGroup(classes="lab-field"):
                    yield Label(_("function"))
                    yield Select(
                        [(f"{n}: {s.formula}", n) for n, s in FUNCTIONS.items()],
                        value="bowl",
                        allow_blank=False,
                        id="op-function",
                    )
                yield Button(_("Run (enter)"), id="op-run", variant="primary")
            with HorizontalGroup(classes="lab-row"):
                yield field(
                    _("optimizers"),
                    "op-optimizers",
                    "names",
                    ",".join(PATH_OPTIMIZERS),
                    ", ".join(PATH_OPTIMIZERS),
                )
            with HorizontalGroup(classes="lab-row"):  # a row of its own: all of it fits 80 columns
                yield field("lr", "op-lr", "number", placeholder=_("default"))
                yield field(_("steps"), "op-steps", "number", placeholder=_("default"))
            yield Static("", classes="lab-error", markup=False)
            yield Static("", id="op-status", markup=False)
            yield Static("", id="op-map")
            yield Static("", id="op-table", classes="lab-report", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.action_run()

    def on_unmount(self) -> None:
        self.walks += 1  # a walk under way stops

    def action_run(self) -> None:
        try:
            function = str(self.query_one("#op-function", Select).value)
            chosen = self.query_one("#op-optimizers", Input).value
            optimizers = checked_names(chosen, "optimizers", PATH_OPTIMIZERS)
            lr_text = self.query_one("#op-lr", Input).value.strip()
            lr = checked_lr(parse_numbers(lr_text, "lr", 1)[0], "lr") if lr_text else None
            steps_text = self.query_one("#op-steps", Input).value.strip()
            steps = (
                parse_count(steps_text, "steps", MAX_STEPS)
                if steps_text
                else FUNCTIONS[function].steps
            )
        except ExperimentError as e:
            self.show_error(str(e))
            return
        self.show_error("")
        self.query_one("#op-status", Static).update(_("walking…"))
        self.run_worker(
            self._run(function, optimizers, lr, steps), group="optpaths", exclusive=True
        )

    async def _run(
        self, function: str, optimizers: list[str], lr: float | None, steps: int
    ) -> None:
        self.walks += 1
        walk = self.walks

        def replaced() -> bool:
            return self.walks != walk

        # No random numbers: the walk may share torch with the session's thread.
        paths = await asyncio.to_thread(compare, function, optimizers, lr, steps, None, replaced)
        if replaced():
            return
        self.paths = paths
        self.query_one("#op-status", Static).update("")
        self.query_one("#op-map", Static).update(self.coloured_map(function, steps))
        lines = [*optpaths_table(self.paths), "", *map(optpath_verdict, self.paths)]
        self.query_one("#op-table", Static).update("\n".join(lines))

    def coloured_map(self, function: str, steps: int) -> Text:
        """The map's bands as backgrounds, each path's letter in its colour, bold."""
        text = Text(optpaths_caption(function, steps) + "\n")
        for row in map_cells(function, self.paths, *MAP_SIZE):
            for cell in row:
                background = SHADE_BACKGROUNDS[cell.level]
                if cell.optimizer is not None:
                    colour = PATH_OPTIMIZERS[cell.optimizer].colour
                    text.append(cell.mark, style=f"bold {colour} on {background}")
                elif cell.mark in SHADES:
                    text.append(" ", style=f"on {background}")
                else:  # the start, a minimum, several paths
                    text.append(cell.mark, style=f"bold white on {background}")
            text.append("\n")
        text.append(optpaths_legend(self.paths))
        return text

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_run()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.action_run()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_run()


class GradCheckScreen(LabScreen):
    """Numerical against analytic gradients for a model on a batch; computed when it opens."""

    def __init__(self, model, loss_fn, X, y, max_params: int | None = GRADCHECK_MAX_PARAMS) -> None:
        super().__init__()
        self.check_args = (model, loss_fn, X, y)
        self.max_params = max_params

    @staticmethod
    def inputs(trainer, samples: int = GRADCHECK_SAMPLES) -> tuple:
        """A copy of the trainer's model, its loss, and its first training samples: the check
        runs on them in the UI thread while the session's thread keeps the model itself."""
        model = copy.deepcopy(trainer.model)
        return model, trainer.loss_fn, trainer.X_train[:samples], trainer.y_train[:samples]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="lab"):
            yield Static(
                _("Gradient check: central differences (float64) against backprop"),
                classes="lab-title",
            )
            yield Static("", id="gc-report", classes="lab-report")
        yield KeyBar()

    def on_mount(self) -> None:
        self.report = gradient_check(*self.check_args, max_params=self.max_params)
        verdict = "lab-pass" if self.report.passed else "lab-fail"
        report = self.query_one("#gc-report", Static)
        report.update("\n".join(gradcheck_lines(self.report)))
        report.add_class(verdict)


class ConfusionScreen(LabScreen):
    """The confusion matrix of the network as it stands, on the validation set, with each
    class's accuracy; the app computes it on the session's thread before opening this."""

    def __init__(self, matrix: Confusion) -> None:
        super().__init__()
        self.matrix = matrix

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="lab"):
            yield Static(
                _("Confusion matrix: the validation set, with the weights the network holds now"),
                classes="lab-title",
            )
            yield Static("\n".join(confusion_lines(self.matrix)), id="cm-report", markup=False)
        yield KeyBar()


class ExplainScreen(LabScreen):
    """One weight's step on the live network: worked out by hand, then taken by the Trainer,
    and torch's numbers beside the hand's (`nnplay explain`'s report). The app makes the
    Explanation on the session's thread before opening this; the run has taken that step."""

    def __init__(self, title: str, explanation: Explanation) -> None:
        super().__init__()
        self.title_shown = title
        self.explanation = explanation

    def compose(self) -> ComposeResult:
        e = self.explanation
        with VerticalScroll(classes="lab"):
            yield Static(
                _("Explain this update: {weight}, by hand, then by torch").format(weight=e.weight),
                classes="lab-title",
                markup=False,
            )
            report = Static(
                "\n".join(explain_lines(self.title_shown, e)),
                id="explain-report",
                classes="lab-report " + ("lab-pass" if e.agrees else "lab-fail"),
                markup=False,
            )
            yield report
        yield KeyBar()


class RateChart(PlotextPlot):
    """The range test's losses against the rate, both on log10 axes labelled with the real
    values; the suggested rate a vertical line."""

    title = ""

    def draw(self, test: RangeTest) -> list[Series]:
        plt = self.plt
        plt.clear_figure()
        exponents = [float(np.log10(lr)) for lr in test.lrs]
        series = [
            Series.of(exponents, test.drawn_losses(), _("batch loss"), BATCH),
            Series.of(exponents, test.smoothed, _("smoothed loss"), TRAIN),
        ]
        points = [(s.xs, s.ys) for s in series]
        log = wants_log(points)
        if log:
            for one, (xs, ys) in zip(series, to_log(points), strict=True):
                one.xs, one.ys = xs, ys
            plt.yticks(*log_ticks([(s.xs, s.ys) for s in series]))
        ys = [y for s in series for y in s.ys]
        low_high = y_range(ys, floor=None if log else 0.0)
        if test.suggested is not None and low_high is not None:
            at = float(np.log10(test.suggested))
            label = _("suggested {lr}").format(lr=f"{test.suggested:g}")
            series.append(Series([at, at], list(low_high), label, BASELINE, "┃"))
        if low_high is not None:
            plt.ylim(*low_high)
        plot(plt, series)
        left, right = float(np.log10(test.start)), float(np.log10(test.end))
        plt.xticks(*log_ticks([([], [left, right])], most=8))
        plt.xlim(left, right)
        self.title = _("loss (log scale)") if log else _("loss")
        self.refresh()
        return series


class RateRangeScreen(LabScreen):
    """The learning-rate range test of the form's experiment: the loss against the rate and a
    suggested rate, which Apply (a) puts into the form.

    The test trains its own Trainer on a copy of the experiment, on the thread `run_on` gives it
    (the app's session thread, between two steps of the paused run: torch's global random state
    is never shared by two threads at once); closing the screen stops it at its next step."""

    BINDINGS = [Binding("ctrl+r", "run", N_("Run")), Binding("a", "apply", N_("Apply rate"))]

    def __init__(self, experiment: Experiment, run_on: Callable[[Callable], Future]) -> None:
        super().__init__()
        self.experiment = experiment.copy()
        self.run_on = run_on
        self.test: RangeTest | None = None
        self.closed = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="lab"):
            yield Static(
                _("Learning-rate range test: one batch per rate, the rate growing geometrically"),
                classes="lab-title",
            )
            with HorizontalGroup(classes="lab-row"):
                yield field(_("start"), "lr-start", "number", f"{SWEEP_START:g}")
                yield field(_("end"), "lr-end", "number", f"{SWEEP_END:g}")
                yield field(_("steps"), "lr-steps", "number", str(SWEEP_STEPS))
            with HorizontalGroup(classes="lab-row"):
                yield Button(_("Run (enter)"), id="lr-run", variant="primary")
                yield Button(_("Apply rate (a)"), id="lr-apply", disabled=True)
            yield Static("", classes="lab-error", markup=False)
            yield Static("", id="lr-status", markup=False)
            yield Chart(RateChart(id="lr-chart"), id="lr-box")
            yield Static("", id="lr-reason", classes="lab-report", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.action_run()

    def on_unmount(self) -> None:
        self.closed = True  # a test under way stops at its next step

    def action_run(self) -> None:
        try:
            start, end = checked_rates(
                parse_numbers(self.query_one("#lr-start", Input).value, "start", 1)[0],
                parse_numbers(self.query_one("#lr-end", Input).value, "end", 1)[0],
                ("start", "end"),
            )
            text = self.query_one("#lr-steps", Input).value
            steps = parse_count(text, "steps", MAX_STEPS, least=LEAST_STEPS)
        except ExperimentError as e:
            self.show_error(str(e))
            return
        self.show_error("")
        self.query_one("#lr-status", Static).update(_("testing…"))
        self.query_one("#lr-apply", Button).disabled = True
        self.run_worker(self._run(start, end, steps), group="lrfind", exclusive=True)

    async def _run(self, start: float, end: float, steps: int) -> None:
        def work(_trainer) -> RangeTest:
            return range_test(self.experiment, start, end, steps, lambda: self.closed)

        try:
            test = await asyncio.wrap_future(self.run_on(work))
        except ExperimentError as e:  # the experiment does not fit in memory, say
            self.query_one("#lr-status", Static).update("")
            self.show_error(str(e))
            return
        if self.closed:
            return
        self.test = test
        self.query_one("#lr-status", Static).update(lrfind_stop(test))
        chart = self.query_one(RateChart)
        series = chart.draw(test)
        self.query_one("#lr-box", Chart).show_legend(
            series, chart.title, _("learning rate (log scale)")
        )
        self.query_one("#lr-reason", Static).update(lrfind_reason(test))
        self.query_one("#lr-apply", Button).disabled = test.suggested is None

    def action_apply(self) -> None:
        """The suggested rate into the form's learning rate (the run takes it live, as a typed
        one); back to the playground to see it there."""
        if self.test is None or self.test.suggested is None:
            return
        if is_locked(self.experiment, "training.lr"):
            self.notify(_("The exercise locks the learning rate: it stays as it is."))
            return
        rows = self.app.screen_stack[0].query(f"#{field_id('training.lr')}").results(FieldRow)
        row = next(iter(rows), None)
        if row is None:
            self.notify(_("There is no form to apply the rate to."), severity="error")
            return
        row.set_raw(self.test.suggested)
        message = _("Learning rate {lr} set in the form.")
        self.notify(message.format(lr=f"{self.test.suggested:g}"))
        self.dismiss()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_run()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"lr-run": self.action_run, "lr-apply": self.action_apply}[str(event.button.id)]()
