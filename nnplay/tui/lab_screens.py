"""The lab's screens: backprop worked example, optimizer paths, gradient check."""

from __future__ import annotations

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from nnplay.lab.backprop import NAMES, BackpropSetup, worked_example
from nnplay.lab.optpaths import FUNCTIONS, OPTIMIZERS, render, run_path, table


def _numbers(text: str) -> list:
    """'0.1, 0.2' -> [0.1, 0.2]; '0.1,0.2; 0.3,0.4' -> [[0.1, 0.2], [0.3, 0.4]]."""
    rows = [[float(v) for v in row.split(",")] for row in text.split(";")]
    return rows if ";" in text else rows[0]


def _text(values) -> str:
    if isinstance(values[0], list):
        return "; ".join(_text(row) for row in values)
    return ", ".join(f"{v:.6g}" for v in values)


class LabScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back to the playground")]


class BackpropScreen(LabScreen):
    """Every value and gradient of the 2-2-2 sigmoid network; edit anything and step again."""

    BINDINGS = [*LabScreen.BINDINGS, Binding("n", "step", "Step again"),
                Binding("r", "reset", "Reset")]
    FIELDS = ("lr", "x", "target", *NAMES)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="lab"):
            yield Label("[b]Backpropagation, worked by hand (NumPy layers) and by autograd[/b]  "
                        "loss = Σ(out - target)² / 2, one SGD step")
            for name in self.FIELDS:
                with HorizontalGroup(classes="lab-field"):
                    yield Label(name, classes="field-label")
                    yield Input(id=f"bp-{name}", compact=True)
            yield Static("", id="bp-error", classes="error")
            with HorizontalGroup(classes="lab-buttons"):
                yield Button("Step again (n)", id="bp-step", compact=True)
                yield Button("Reset (r)", id="bp-reset", compact=True)
            yield Static("", id="bp-result")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reset()

    def setup(self) -> BackpropSetup:
        values = {name: self.query_one(f"#bp-{name}", Input).value for name in self.FIELDS}
        return BackpropSetup(lr=float(values.pop("lr")),
                             **{k: _numbers(v) for k, v in values.items()})

    def show(self, setup: BackpropSetup) -> None:
        for name in self.FIELDS:
            value = getattr(setup, name)
            self.query_one(f"#bp-{name}", Input).value = (f"{value:g}" if name == "lr"
                                                          else _text(value))
        self.recompute()

    @on(Input.Changed)
    def recompute(self) -> bool:
        """Live: every edit recomputes the whole example; False if a field cannot be read."""
        error = self.query_one("#bp-error", Static)
        try:
            self.result = worked_example(self.setup())
        except (ValueError, IndexError, TypeError, RuntimeError) as e:
            error.update(f"cannot read the numbers ({e}): lr > 0; x, target and biases are 2 "
                         "numbers; weights are 2 rows of 2 separated by ';'")
            return False
        error.update("")
        self.query_one("#bp-result", Static).update(describe(self.result))
        return True

    def action_step(self) -> None:
        if not self.recompute():
            return
        setup = self.setup()
        after = self.result.numpy[0].after
        for name in NAMES:
            setattr(setup, name, after[name].tolist())
        self.show(setup)

    def action_reset(self) -> None:
        self.show(BackpropSetup())

    @on(Button.Pressed, "#bp-step")
    def _step(self) -> None:
        self.action_step()

    @on(Button.Pressed, "#bp-reset")
    def _reset(self) -> None:
        self.action_reset()


def describe(result) -> str:
    by_hand, auto = result.numpy[0], result.autograd[0]

    def row(label, a, b):
        return f"{label:<10} {_text(a.tolist()):<50} {_text(b.tolist())}"

    lines = [f"[b]{'':<10} {'NumPy layers (by hand)':<50} autograd[/b]",
             row("hidden net", by_hand.net1, auto.net1), row("hidden out", by_hand.hidden,
                                                                 auto.hidden),
             row("output net", by_hand.net2, auto.net2), row("output", by_hand.out, auto.out),
             f"{'loss':<10} {by_hand.loss:<50.6f} {auto.loss:.6f}", ""]
    lines += [row(f"dL/d{k}", by_hand.grads[k], auto.grads[k]) for k in NAMES]
    lines += [""] + [row(f"new {k}", by_hand.after[k], auto.after[k]) for k in NAMES]
    lines += ["", *map(escape, result.chain_rule()),
              f"\nlargest difference NumPy vs autograd: {result.max_difference:.1e}"]
    return "\n".join(lines)


class OptPathsScreen(LabScreen):
    """Optimizers from the same start on a 2-D function, drawn over its contours."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="lab"):
            with HorizontalGroup(classes="lab-field"):
                yield Label("function", classes="field-label")
                yield Select([(f.title, name) for name, f in FUNCTIONS.items()], value="bowl",
                             allow_blank=False, compact=True, id="op-function")
            for name, default, help_text in (
                    ("optimizers", ",".join(OPTIMIZERS), "comma-separated"),
                    ("lr", "", "empty: each optimizer's own"), ("steps", "200", "1 to 10000")):
                with HorizontalGroup(classes="lab-field"):
                    yield Label(name, classes="field-label")
                    yield Input(default, placeholder=help_text, id=f"op-{name}", compact=True)
            yield Static("", id="op-error", classes="error")
            yield Static("", id="op-map")
            yield Static("", id="op-table")
        yield Footer()

    def on_mount(self) -> None:
        self.recompute()

    @on(Select.Changed)
    @on(Input.Submitted)
    def recompute(self) -> None:
        error = self.query_one("#op-error", Static)
        function = self.query_one("#op-function", Select).value
        try:
            names = [n.strip() for n in self.query_one("#op-optimizers", Input).value.split(",")]
            unknown = [n for n in names if n not in OPTIMIZERS]
            if unknown:
                raise ValueError(f"optimizers: {', '.join(unknown)} unknown; allowed: "
                                 f"{', '.join(OPTIMIZERS)}")
            lr_text = self.query_one("#op-lr", Input).value.strip()
            lr = float(lr_text) if lr_text else None
            if lr is not None and not 0 < lr <= 100:
                raise ValueError("lr: must be > 0 and <= 100")
            steps = int(self.query_one("#op-steps", Input).value)
            if not 1 <= steps <= 10_000:
                raise ValueError("steps: allowed 1 to 10000")
        except ValueError as e:
            error.update(str(e))
            return
        error.update("")
        self.paths = [run_path(function, name, lr, steps) for name in names]
        self.query_one("#op-map", Static).update("\n".join(render(function, self.paths, 60, 20)))
        self.query_one("#op-table", Static).update("\n".join(table(self.paths)))


class GradCheckScreen(LabScreen):
    """Numerical gradients against backprop for the playground's current model."""

    def __init__(self, trainer) -> None:
        super().__init__()
        self.trainer = trainer

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="lab"):
            yield Label("[b]Gradient check[/b]: (L(w + h) - L(w - h)) / 2h with h = 1e-4, in "
                        "float64, against backprop, on 64 training samples")
            yield Static("", id="gc-report")
        yield Footer()

    def on_mount(self) -> None:
        from nnplay.lab.gradcheck import check_trainer, report_lines

        self.query_one("#gc-report", Static).update("\n".join(report_lines(
            check_trainer(self.trainer))))
