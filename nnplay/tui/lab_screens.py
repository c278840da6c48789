"""The lab's screens: the backprop worked example, optimizer paths, and a gradient check.

Each is a Screen the app pushes; `escape` pops it. The numbers come from nnplay.lab, the text
from nnplay.lab.text, so the screens and the command line always agree.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static

from nnplay.errors import ExperimentError
from nnplay.i18n import N_, _
from nnplay.lab.backprop import PARAMETER_NAMES, BackpropConfig, worked_example
from nnplay.lab.checks import (
    GRADCHECK_MAX_PARAMS,
    GRADCHECK_SAMPLES,
    MAX_STEPS,
    checked_lr,
    checked_names,
    parse_count,
    parse_numbers,
)
from nnplay.lab.gradcheck import gradient_check
from nnplay.lab.optpaths import compare, path_map
from nnplay.lab.surfaces import DEFAULT_STEPS, FUNCTIONS, PATH_OPTIMIZERS
from nnplay.lab.text import (
    backprop_lines,
    gradcheck_lines,
    numbers,
    optpaths_caption,
    optpaths_table,
)
from nnplay.tui.actions import translate_bindings
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


class OptPathsScreen(LabScreen):
    """Several optimizers from the same start on a 2-D function: the map and a table."""

    BINDINGS = [Binding("ctrl+r", "run", N_("Run"))]

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
                yield field(_("steps"), "op-steps", "number", str(DEFAULT_STEPS))
            yield Static("", classes="lab-error", markup=False)
            yield Static("", id="op-map")
            yield Static("", id="op-table", classes="lab-report")
        yield KeyBar()

    def on_mount(self) -> None:
        self.action_run()

    def action_run(self) -> None:
        try:
            function = str(self.query_one("#op-function", Select).value)
            chosen = self.query_one("#op-optimizers", Input).value
            optimizers = checked_names(chosen, "optimizers", PATH_OPTIMIZERS)
            lr_text = self.query_one("#op-lr", Input).value.strip()
            lr = checked_lr(parse_numbers(lr_text, "lr", 1)[0], "lr") if lr_text else None
            steps = parse_count(self.query_one("#op-steps", Input).value, "steps", MAX_STEPS)
        except ExperimentError as e:
            self.show_error(str(e))
            return
        self.show_error("")
        self.paths = compare(function, optimizers, lr, steps)
        self.query_one("#op-map", Static).update(self.coloured_map(function, steps))
        self.query_one("#op-table", Static).update("\n".join(optpaths_table(self.paths)))

    def coloured_map(self, function: str, steps: int) -> Text:
        colours = {kind.mark: kind.colour for kind in PATH_OPTIMIZERS.values()}
        text = Text(optpaths_caption(function, steps) + "\n")
        for row in path_map(function, self.paths, *MAP_SIZE):
            for char in row:
                text.append(char, style=f"bold {colours[char]}" if char in colours else "dim")
            text.append("\n")
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
