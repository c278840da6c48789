"""Compare in the app: a dialog to choose what to vary, and a screen with the runs side by side.

The variants train in worker processes (`nnplay.compare.ComparisonRun`); each finished one
arrives as a message, so the app stays responsive. Closing the screen, or quitting, stops the
processes.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Select, Static
from textual_plotext import PlotextPlot

from nnplay import compare
from nnplay.compare import ComparisonRun, Variant, VariantResult
from nnplay.errors import ExperimentError
from nnplay.experiment import Experiment, field_rule
from nnplay.history import thin
from nnplay.i18n import N_, _
from nnplay.labels import label, show_value, status_word
from nnplay.locks import is_locked
from nnplay.rules import Choice
from nnplay.status import Status
from nnplay.tui.curves import VARIANTS, Chart, Series, legend, plot, rgb, y_range
from nnplay.tui.map_view import fit
from nnplay.tui.screens import OnTop
from nnplay.untrusted import shown

OWN = "own"  # the Select's value for the exercise's own comparison, from its settings
MINE = "mine"  # the exercise's comparison, from the learner's setup in the form
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
RUNNING = N_("running…")
COLUMNS = (
    "",
    N_("variant"),
    N_("status"),
    N_("epochs"),
    N_("train loss"),
    N_("val loss"),
    N_("train acc"),
    N_("val acc"),
    N_("goal"),
    N_("seconds"),
)


def variant_name(overrides: dict[str, Any]) -> str:
    """A variant in the form's words: "optimizer sgd, momentum 0.9"."""
    return ", ".join(f"{_(label(path))} {show_value(value)}" for path, value in overrides.items())


def suggested_values(path: str, base: Experiment) -> str:
    """The values the dialog offers first for `path` (every option of a choice)."""
    if FIELDS.get(path):
        return FIELDS[path]
    rule = field_rule(path)[0]
    if isinstance(rule, Choice):
        return ", ".join(rule.options[:6])
    section, _dot, name = path.partition(".")
    return str(getattr(getattr(base, section), name))


def comparable(exercise: Experiment) -> list[str]:
    """The fields a learner may compare: those the exercise does not lock (its own comparison
    may still vary them)."""
    return [path for path in FIELDS if not is_locked(exercise, path)]


class CompareDialog(OnTop[list[Variant] | None], ModalScreen[list[Variant] | None]):
    """Choose the field and its values (or the exercise's own comparison, the default when it
    has one: `c` then enter); checked here, before anything runs."""

    BINDINGS = [Binding("escape", "dismiss(None)", N_("Cancel"))]

    def __init__(self, exercise: Experiment, base: Experiment, name: str) -> None:
        super().__init__()
        self.exercise, self.base, self.source = exercise, base, name
        self.own = exercise.compare.overrides()

    def compose(self) -> ComposeResult:
        options = [(f"{_(label(path))} ({path})", path) for path in comparable(self.exercise)]
        if self.own and self.base != self.exercise:
            options.insert(0, (_("this exercise's comparison, from your setup"), MINE))
        if self.own:
            options.insert(0, (_("this exercise's own comparison, from its settings"), OWN))
        with Vertical(classes="dialog", id="compare-dialog"):
            yield Label(_("[b]Compare runs[/b]: the same data and seed, one field changed"))
            yield Select(options, value=options[0][1], allow_blank=False, id="compare-field")
            yield Input("", id="compare-values", placeholder=_("values, separated by commas"))
            yield Static("", id="compare-about")
            yield Static("", id="compare-error", classes="error")
            with Grid(classes="buttons"):
                yield Button(_("Run (enter)"), id="run", variant="primary")
                yield Button(_("Cancel (esc)"), id="cancel")

    def on_mount(self) -> None:
        self._field_chosen()
        # enter runs at once: on the Run button, or in the values (tab reaches the field)
        self.query_one("#run" if self.own else "#compare-values").focus()

    @on(Select.Changed, "#compare-field")
    def _field_chosen(self) -> None:
        path = str(self.query_one("#compare-field", Select).value)
        values = self.query_one("#compare-values", Input)
        values.display = path not in (OWN, MINE)
        if path in (OWN, MINE):
            about = " ".join(self.exercise.compare.localized().description.split())
            try:
                names = "; ".join(variant_name(v.overrides) for v in self.variants())
                variants = _("variants: {names}").format(names=names)
            except ExperimentError as e:  # the learner's setup may not take every variant
                variants = str(e)
            start = (
                _("from the exercise's settings, as nnplay compare runs it")
                if path == OWN
                else _("from your setup in the form, not the exercise's settings")
            )
            text = Content.from_markup(
                "$about\n[dim]$start\n$variants[/dim]", about=about, start=start, variants=variants
            )
        else:
            values.value = suggested_values(path, self.base)
            rule, doc = field_rule(path)
            start = _("varied from your setup in the form")
            text = Content.from_markup(
                "[dim]$doc: $rule\n$start[/dim]", doc=doc, rule=rule.describe(), start=start
            )
        self.query_one("#compare-about", Static).update(text)
        self.query_one("#compare-error", Static).update("")

    def variants(self) -> list[Variant]:
        """The planned variants; ExperimentError naming the field when they do not validate."""
        path = str(self.query_one("#compare-field", Select).value)
        if path == OWN:
            return compare.plan(self.exercise)
        if path == MINE:
            return compare.plan(self.base)  # the form keeps the exercise's [compare]
        text = self.query_one("#compare-values", Input).value
        key, values = compare.parse_vary(f"{path}={text}")
        return compare.plan(self.base, [(key, values)])

    @on(Input.Submitted)
    @on(Button.Pressed, "#run")
    def _run(self) -> None:
        try:
            variants = self.variants()
        except ExperimentError as e:
            self.query_one("#compare-error", Static).update(Content(str(e)))
            return
        self.dismiss(variants)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class VariantDone(Message):
    """A variant's result, posted from the pool's thread."""

    def __init__(self, result: VariantResult) -> None:
        super().__init__()
        self.result = result


class StartFailed(Message):
    """The worker processes could not start (a sandbox without processes, say)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def colour(index: int) -> tuple[int, int, int]:
    return VARIANTS[index % len(VARIANTS)]


def entry(index: int, variant: Variant, result: VariantResult | None = None) -> str:
    """The variant's line in the legend and the table: "2 optimizer adam", and whether it
    diverged."""
    name = f"{index + 1} {variant_name(variant.overrides)}"
    if result is not None and result.status == Status.DIVERGED:
        name = _("{name} (diverged)").format(name=name)
    return name


class CompareCurves(PlotextPlot):
    """One metric of every finished variant, one colour each; the legend is the screen's, the
    heading its Chart's."""

    def __init__(self, title: str, metric: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.heading, self.metric = title, metric

    def draw(self, results: list[VariantResult | None], epochs: int) -> None:
        done = [(i, r) for i, r in enumerate(results) if r is not None]
        series = [
            Series.of(
                thin(r.history.epoch, CHART_POINTS),
                thin(getattr(r.history, self.metric), CHART_POINTS),
                "",
                colour(i),
            )
            for i, r in done
        ]
        plt = self.plt
        plt.clear_figure()
        plot(plt, series)
        if self.metric.endswith("accuracy"):
            plt.ylim(0, 1)
        else:  # a diverged variant's blow-up would flatten the others: range the rest
            calm = [
                s for s, (_i, r) in zip(series, done, strict=True) if r.status != Status.DIVERGED
            ]
            y = y_range([v for s in calm or series for v in s.ys], floor=0.0)
            if y is not None:
                plt.ylim(*y)
        plt.xlim(0, max(epochs, 1))  # every variant on the same epoch axis from the start
        self.refresh()


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def epochs_cell(result: VariantResult) -> str:
    """The epochs run, and the epoch whose weights the numbers are of when it is another."""
    if result.weights_epoch == result.epochs or result.status == "error":
        return str(result.epochs)
    return _("{epochs}, kept {kept}").format(epochs=result.epochs, kept=result.weights_epoch)


def table_row(index: int, variant: Variant, result: VariantResult | None) -> list:
    mark = Text("━━", style=rgb(colour(index)))
    name = entry(index, variant, result)
    if result is None:
        return [mark, name, _(RUNNING), *["" for _c in COLUMNS[3:]]]
    failed = result.status in (Status.DIVERGED, Status.ERROR)
    status = Text(status_word(result.status), style="bold red" if failed else "")
    if result.goal is None:
        goal = Text("-")
    elif result.goal.met:
        goal = Text(_("✔ met"), style="green")
    else:
        goal = Text(_("✖ not met"), style="red")
    judged = result.goal
    if judged is not None and judged.value is not None and judged.epoch != result.weights_epoch:
        # judged on another epoch than the numbers beside it are of: say which, and its value
        goal.append(
            " "
            + _("(epoch {epoch}, value {value})").format(
                epoch=judged.epoch, value=f"{judged.value:.4g}"
            )
        )
    return [
        mark,
        name,
        status,
        epochs_cell(result),
        _number(result.train_loss),
        _number(result.val_loss),
        _number(result.train_accuracy),
        _number(result.val_accuracy),
        goal,
        f"{result.seconds:.1f}",
    ]


class CompareScreen(OnTop[None]):
    """The variants' curves overlaid under one legend, and a table of their final metrics and
    goal results, filled in as each variant finishes."""

    BINDINGS = [Binding("escape", "close", N_("Close (stops the comparison)"))]

    def __init__(self, variants: list[Variant], source: str, workers: int | None = None) -> None:
        super().__init__()
        self.variants, self.source = variants, source
        self.results: list[VariantResult | None] = [None] * len(variants)
        # Made here, started in a thread: closing the screen may come before, while or after
        # it starts, and cancel() stops it in every case.
        self.comparison = ComparisonRun(variants, source, workers, on_result=self._arrived)
        self.started = perf_counter()
        self.seconds: float | None = None  # wall time, once every variant is in
        self.failure = ""

    def compose(self) -> ComposeResult:
        fields = ", ".join(sorted({_(label(k)) for v in self.variants for k in v.overrides}))
        title = _("[b]Compare[/b] {source}: {count} variants of {fields}, same data and seed")
        goal = self.variants[0].experiment.goal
        with Vertical(id="compare"):
            yield Static(
                Content.from_markup(
                    title.format(source="$source", count=len(self.variants), fields="$fields"),
                    source=shown(self.source, 200),
                    fields=fields,
                )
                + ("  " + _("goal: {goal}").format(goal=goal.describe()) if goal else ""),
                id="compare-title",
            )
            yield Static("", id="compare-status")
            yield Static("", id="compare-legend")
            with Horizontal(id="compare-charts"):
                yield Chart(CompareCurves(_("validation loss"), "val_loss"), id="compare-loss")
                yield Chart(
                    CompareCurves(_("validation accuracy"), "val_accuracy"), id="compare-accuracy"
                )
            yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="compare-notes")
            yield Static(
                Content.styled(
                    _("escape: back to the playground (a comparison still running stops)"), "dim"
                ),
                id="compare-keys",
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        self.columns = table.add_columns(*[_(c) if c else c for c in COLUMNS])
        for i, variant in enumerate(self.variants):
            table.add_row(*table_row(i, variant, None), key=str(i))
        self.query_one("#compare-accuracy").display = self._classification()
        for curves in self.query(CompareCurves):  # plotext gets no text: wide characters
            # would break its rows
            assert isinstance(curves.parent, Chart)
            curves.parent.show_legend([], curves.heading, _("epoch"))
        self._draw()
        self._show_status()
        self.set_interval(0.5, self._show_status)
        self._start()

    def _classification(self) -> bool:
        from nnplay.tasks import task_shape

        return task_shape(self.variants[0].experiment.task).kind != "regression"

    @work(thread=True, group="compare")
    def _start(self) -> None:
        """Start the worker processes off the UI thread (the first start waits for torch).

        A thread worker: quitting while it starts waits for it, so no worker is left half
        started (it would print a traceback once the app is gone)."""
        try:
            self.comparison.start()
        except Exception as e:  # no processes (a sandbox): say so, the app goes on
            self.post_message(StartFailed(str(e)))

    def _arrived(self, result: VariantResult) -> None:
        """On the pool's thread: hand the result to the UI (nothing once the screen is gone)."""
        self.post_message(VariantDone(result))

    def on_start_failed(self, message: StartFailed) -> None:
        self.failure = _("could not start the comparison: {reason}").format(reason=message.reason)
        self.app.notify(self.failure, severity="error")
        self._show_status()

    def on_variant_done(self, message: VariantDone) -> None:
        result = message.result
        index = next(
            (
                i
                for i, v in enumerate(self.variants)
                if v.overrides == result.overrides and self.results[i] is None
            ),
            None,
        )
        if index is None:
            return
        self.results[index] = result
        table = self.query_one(DataTable)
        row = table_row(index, self.variants[index], result)
        for column, value in zip(self.columns, row, strict=True):
            table.update_cell(str(index), column, value, update_width=True)
        self._draw()
        if all(r is not None for r in self.results) and self.seconds is None:
            self.seconds = perf_counter() - self.started
        self._show_notes()
        self._show_status()

    def _draw(self) -> None:
        """Both charts, and the one legend above them (every variant, finished or not)."""
        epochs = max(v.experiment.training.epochs for v in self.variants)
        for chart in self.query(CompareCurves):
            chart.draw(self.results, epochs)
        entries = [
            Series([], [], entry(i, v, r), colour(i))
            for i, (v, r) in enumerate(zip(self.variants, self.results, strict=True))
        ]
        width = max(self.size.width - 2, 20)  # the screen's padding; items wrap whole
        self.query_one("#compare-legend", Static).update(fit(legend(entries), width))

    def _show_notes(self) -> None:
        """Why a variant diverged or failed, in its own words."""
        notes = [
            f"{entry(i, v)}: {r.message}"
            for i, (v, r) in enumerate(zip(self.variants, self.results, strict=True))
            if r is not None and r.status in (Status.DIVERGED, Status.ERROR) and r.message
        ]
        self.query_one("#compare-notes", Static).update(Content("\n".join(notes)))

    def _show_status(self) -> None:
        done = sum(r is not None for r in self.results)
        if self.failure:
            text = self.failure
        elif self.seconds is not None:
            text = _("all {count} variants done in {seconds} s ({workers} processes)").format(
                count=done, seconds=f"{self.seconds:.1f}", workers=self.comparison.workers
            )
        else:
            text = _("training… {done} of {count} done, {seconds} s").format(
                done=done,
                count=len(self.results),
                seconds=f"{perf_counter() - self.started:.0f}",
            )
        self.query_one("#compare-status", Static).update(Content(text))

    def stop(self) -> None:
        """Stop the processes of a comparison still running (idempotent, any time)."""
        self.comparison.cancel()

    def action_close(self) -> None:
        self.stop()
        self.dismiss(None)

    def on_unmount(self) -> None:
        self.stop()
