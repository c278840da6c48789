"""Compare in the app: a dialog to choose what to vary, and a screen with the runs side by side.

The variants train in worker processes (`nnplay.compare.submit`); each finished one arrives as a
message, so the app stays responsive. Closing the screen, or quitting, stops the processes.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Input, Label, Select, Static
from textual_plotext import PlotextPlot

from nnplay import compare
from nnplay.compare import ComparisonRun, Variant, VariantResult
from nnplay.errors import ExperimentError
from nnplay.experiment import Choice, Experiment, field_rule
from nnplay.history import thin
from nnplay.labels import label
from nnplay.tui.curves import VARIANTS, Chart, Series, plot, rgb, y_range

OWN = "own"  # the Select's value for the exercise's own comparison
# The fields a learner compares most, with values worth trying first.
FIELDS: dict[str, str] = {
    "training.optimizer": "sgd, adagrad, rmsprop, adam",
    "training.lr": "0.003, 0.03, 0.3",
    "training.momentum": "0, 0.5, 0.9",
    "training.batch_size": "8, 32, 128",
    "training.l2": "0, 0.001, 0.01",
    "training.l1": "0, 0.0001, 0.001",
    "model.activation": "sigmoid, tanh, relu",
    "model.dropout": "0, 0.2, 0.5",
    "model.init": "",
    "model.hidden": "[4], [8, 8], [16, 16, 16]",
    "task.features": 'raw, poly2, ["x1^2", "x2^2"]',
    "task.noise": "0, 0.1, 0.3",
    "task.samples": "100, 300, 1000",
    "training.epochs": "10, 30, 100",
    "training.seed": "0, 1, 2",
}
CHART_POINTS = 200


def suggested_values(path: str, base: Experiment) -> str:
    """The values the dialog offers first for `path` (every option of a choice)."""
    if FIELDS.get(path):
        return FIELDS[path]
    rule = field_rule(path)[0]
    if isinstance(rule, Choice):
        return ", ".join(rule.options[:6])
    section, _, name = path.partition(".")
    return str(getattr(getattr(base, section), name))


class CompareDialog(ModalScreen[list[Variant] | None]):
    """Choose the field and its values (or the exercise's own comparison); checked here,
    before anything runs."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, base: Experiment, name: str) -> None:
        super().__init__()
        self.base, self.source = base, name
        self.own = base.compare.overrides()

    def compose(self) -> ComposeResult:
        options = [(f"{label(path)} ({path})", path) for path in FIELDS]
        if self.own:
            options.insert(0, ("this exercise's own comparison", OWN))
        with Vertical(classes="dialog", id="compare-dialog"):
            yield Label("[b]Compare runs[/b]: the same data and seed, one field changed")
            yield Select(options, value=options[0][1], allow_blank=False, id="compare-field")
            yield Input("", id="compare-values", placeholder="values, separated by commas")
            yield Static("", id="compare-about")
            yield Static("", id="compare-error", classes="error")
            with Grid(classes="buttons"):
                yield Button("Run (enter)", id="run", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self._field_chosen()
        # enter runs at once: on the Run button, or in the values (tab reaches the field)
        self.query_one("#run" if self.own else "#compare-values").focus()

    @on(Select.Changed, "#compare-field")
    def _field_chosen(self) -> None:
        path = str(self.query_one("#compare-field", Select).value)
        values = self.query_one("#compare-values", Input)
        values.display = path != OWN
        if path == OWN:
            about = " ".join(self.base.compare.description.split())
            names = "; ".join(Variant(o, self.base).label for o in self.own)
            text = f"{escape(about)}\n[dim]variants: {escape(names)}[/dim]"
        else:
            values.value = suggested_values(path, self.base)
            rule, doc = field_rule(path)
            text = f"[dim]{escape(doc)}: {escape(rule.describe())}[/dim]"
        self.query_one("#compare-about", Static).update(text)
        self.query_one("#compare-error", Static).update("")

    def variants(self) -> list[Variant]:
        """The planned variants; ExperimentError naming the field when they do not validate."""
        path = str(self.query_one("#compare-field", Select).value)
        if path == OWN:
            return compare.plan(self.base)
        text = self.query_one("#compare-values", Input).value
        key, values = compare.parse_vary(f"{path}={text}")
        return compare.plan(self.base, [(key, values)])

    @on(Input.Submitted)
    @on(Button.Pressed, "#run")
    def _run(self) -> None:
        try:
            variants = self.variants()
        except ExperimentError as e:
            self.query_one("#compare-error", Static).update(escape(str(e)))
            return
        self.dismiss(variants)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class VariantDone(Message):
    def __init__(self, result: VariantResult) -> None:
        super().__init__()
        self.result = result


class CompareCurves(PlotextPlot):
    """One metric of every finished variant, one colour each."""

    def __init__(self, title: str, name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title, self.metric = title, name

    def draw(self, results: list[VariantResult | None]) -> list[Series]:
        series = []
        for i, result in enumerate(results):
            if result is None:
                continue
            h = result.history
            series.append(Series.of(thin(h.epoch, CHART_POINTS),
                                    thin(getattr(h, self.metric), CHART_POINTS),
                                    f"{i + 1} {result.label}", VARIANTS[i % len(VARIANTS)]))
        plt = self.plt
        plt.clear_figure()
        plt.title(self.title)
        plot(plt, series)
        if self.metric.endswith("accuracy"):
            plt.ylim(0, 1)
        else:
            y = y_range([v for s in series for v in s.ys], floor=0.0)
            if y is not None:
                plt.ylim(*y)
        ends = [s.xs[-1] for s in series if s.xs]
        plt.xlim(0, max(ends + [1]))
        plt.xlabel("epoch")
        self.refresh()
        return series


COLUMNS = ("", "variant", "status", "epochs", "train loss", "val loss", "train acc", "val acc",
           "goal", "seconds")


def seconds_text(seconds: float) -> str:
    return f"{seconds:.1f}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def table_row(index: int, variant: Variant, result: VariantResult | None) -> list:
    colour = VARIANTS[index % len(VARIANTS)]
    mark = Text("━━", style=rgb(colour))
    if result is None:
        return [mark, variant.label, "running…", *["" for _ in COLUMNS[3:]]]
    status = Text(result.status, style="bold red" if result.status in ("diverged", "error")
                  else "")
    goal = "-" if result.goal is None else ("✔ met" if result.goal.met else "✖ not met")
    return [mark, result.label, status, str(result.epochs), _number(result.train_loss),
            _number(result.val_loss), _number(result.train_accuracy),
            _number(result.val_accuracy), goal, seconds_text(result.seconds)]


class CompareScreen(Screen[None]):
    """The variants' curves overlaid and a table of their final metrics and goal results."""

    BINDINGS = [Binding("escape", "close", "Close (stops the comparison)")]

    def __init__(self, variants: list[Variant], source: str, workers: int | None = None) -> None:
        super().__init__()
        self.variants, self.source, self.processes = variants, source, workers
        self.results: list[VariantResult | None] = [None] * len(variants)
        self.comparison: ComparisonRun | None = None
        self.started = time.perf_counter()
        self.seconds: float | None = None  # wall time, once every variant is in
        self._lock = threading.Lock()  # the run starts in a thread; closing may come first
        self._closed = False

    def compose(self) -> ComposeResult:
        names = ", ".join(sorted({k for v in self.variants for k in v.overrides}))
        with Vertical(id="compare"):
            yield Static(f"[b]Compare[/b] {escape(self.source)}: {len(self.variants)} variants "
                         f"of {escape(names)}, same data and seed", id="compare-title")
            yield Static("", id="compare-status")
            with Horizontal(id="compare-charts"):
                yield Chart(CompareCurves("validation loss", "val_loss"), id="compare-loss")
                yield Chart(CompareCurves("validation accuracy", "val_accuracy"),
                            id="compare-accuracy")
            yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
            yield Static("[dim]escape: back to the playground (a comparison still running "
                         "stops)[/dim]", id="compare-keys")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        self.columns = table.add_columns(*COLUMNS)
        for i, variant in enumerate(self.variants):
            table.add_row(*table_row(i, variant, None), key=str(i))
        self.query_one("#compare-accuracy").display = self._classification()
        self._show_status()
        self.set_interval(0.5, self._show_status)
        self._start()

    def _classification(self) -> bool:
        from nnplay.tasks import task_shape

        return task_shape(self.variants[0].experiment.task).kind != "regression"

    @work(thread=True, group="compare")
    def _start(self) -> None:
        """Start the worker processes off the UI thread (the first start imports torch)."""
        with self._lock:
            if self._closed:
                return
            try:
                self.comparison = compare.submit(self.variants, self.source, self.processes,
                                          on_result=lambda r: self.post_message(VariantDone(r)))
            except Exception as e:  # no processes (a sandbox): say so, the app goes on
                self.app.call_from_thread(self.app.notify, f"could not start the comparison: "
                                          f"{e}", severity="error")

    def on_variant_done(self, message: VariantDone) -> None:
        result = message.result
        index = next((i for i, v in enumerate(self.variants)
                      if v.overrides == result.overrides and self.results[i] is None), None)
        if index is None:
            return
        self.results[index] = result
        table = self.query_one(DataTable)
        for column, value in zip(self.columns, table_row(index, self.variants[index], result),
                                 strict=True):
            table.update_cell(str(index), column, value)
        for box in ("#compare-loss", "#compare-accuracy"):
            chart = self.query_one(box, Chart)
            chart.show_legend(chart.query_one(CompareCurves).draw(self.results))
        if all(r is not None for r in self.results) and self.seconds is None:
            self.seconds = time.perf_counter() - self.started
        self._show_status()

    def _show_status(self) -> None:
        done = sum(r is not None for r in self.results)
        if self.seconds is not None:
            text = (f"all {done} variants done in {seconds_text(self.seconds)} s "
                    f"({self.comparison.workers if self.comparison else 1} processes)")
        else:
            text = (f"training… {done} of {len(self.results)} done, "
                    f"{time.perf_counter() - self.started:.0f} s")
        self.query_one("#compare-status", Static).update(text)

    def stop(self) -> None:
        """Stop the processes of a comparison still running (idempotent)."""
        with self._lock:
            self._closed = True
            if self.comparison is not None and not self.comparison.done():
                self.comparison.cancel()

    def action_close(self) -> None:
        self.stop()
        self.app.pop_screen()

    def on_unmount(self) -> None:
        self.stop()
