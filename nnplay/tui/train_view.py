"""The train view: status line, live charts, the network and the decision map.

It only draws `View`s that the training worker sends; it never touches torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static, TabbedContent, TabPane
from textual_plotext import PlotextPlot

from nnplay.experiment import Experiment
from nnplay.history import History, thin
from nnplay.i18n import N_, _
from nnplay.labels import describe_difference, status_word
from nnplay.status import Status
from nnplay.summary import final_test_words
from nnplay.tui.cells import pad
from nnplay.tui.chart_scale import finite_points, log_ticks, to_log, wants_log
from nnplay.tui.curves import (
    BASELINE,
    BATCH,
    GHOSTS,
    TRAIN,
    VALIDATION,
    Chart,
    Series,
    plot,
    y_range,
)
from nnplay.tui.live_text import LiveText
from nnplay.tui.map_view import DecisionMap, fit
from nnplay.tui.pictures import (
    TAB_PICTURES,
    active_tab,
    draw_pictures,
    fit_tabs,
    picture_panes,
    tab_labels,
)
from nnplay.tui.prose import Prose
from nnplay.tui.session import View, Viewing

CHART_POINTS = 200
LOWER_FROM = 24  # rows the train view needs before it shows the network and the map
MOST_GHOSTS = 3  # earlier runs kept on the charts
FIT_ROOM = 5  # predictions further than this many target ranges away are drawn at the edge


@dataclass
class Ghost:
    """An earlier run's curves, kept faded after a reset; `label` says how it differs from now."""

    experiment: Experiment | None  # None: the run's own future, while scrubbed back
    history: History
    label: str = ""
    title: str = ""  # the legend's words when not "earlier: {label}" (a fork's future)


GHOST_HEADROOM = 10.0  # an earlier run's loss is drawn up to this many times the run now's


def x_extent(view: View, ghosts=()) -> float:
    """The last epoch any curve reaches: both charts share this x range."""
    s, h = view.snapshot, view.snapshot.history
    ends = [s.step / max(s.steps_per_epoch, 1), 1.0, *(h.epoch[-1:])]
    ends += [g.history.epoch[-1] for g in ghosts if g.history.epoch]
    return float(max(ends))


def _ghost_series(ghosts, name: str) -> list[Series]:
    series = []
    for ghost, colour in zip(ghosts, GHOSTS, strict=False):
        h = ghost.history
        series.append(
            Series.of(
                thin(h.epoch, CHART_POINTS),
                thin(getattr(h, name), CHART_POINTS),
                ghost.title or _("earlier: {difference}").format(difference=ghost.label),
                colour,
                "┈",
            )
        )
    return series


def cut_ghosts(faded: list[Series], own: list[Series]) -> None:
    """An earlier run that blew up (a loss of 1e31) would set the scale and flatten the run
    now: its values above GHOST_HEADROOM × the run's highest are drawn at that height, leaving
    through the top, and its label says so. With nothing of its own yet, the ghost shows whole."""
    highest = max((y for x in own for y in x.ys), default=0.0)
    if highest <= 0:
        return
    top = highest * GHOST_HEADROOM
    for ghost in faded:
        if any(y > top for y in ghost.ys):
            ghost.ys = [min(y, top) for y in ghost.ys]
            ghost.label = _("{label} (cut at the top)").format(label=ghost.label)


class LossChart(PlotextPlot):
    """Step losses (averaged), train and validation loss, earlier runs faded; logarithmic when
    they span decades. The title and the x axis's name are shown above the chart (curves.py)."""

    title = ""
    x_label = ""

    def draw(
        self, view: View, ghosts: Sequence[Ghost] = (), x_high: float | None = None
    ) -> list[Series]:
        h, s, plt = view.snapshot.history, view.snapshot, self.plt
        x_high = x_high or x_extent(view, ghosts)
        series = _ghost_series(ghosts, "val_loss")
        if len(h.step_loss):  # means of neighbouring steps, each at its middle step
            steps, losses = h.step_loss.points()
            x = np.array(steps) / max(s.steps_per_epoch, 1)
            series.append(Series.of(x, losses, _("batch (avg)"), BATCH))
        if h.epoch:
            epochs = thin(h.epoch, CHART_POINTS)
            series.append(Series.of(epochs, thin(h.train_loss, CHART_POINTS), _("train"), TRAIN))
            series.append(
                Series.of(epochs, thin(h.val_loss, CHART_POINTS), _("validation"), VALIDATION)
            )
        cut_ghosts(series[: len(ghosts)], series[len(ghosts) :])
        points = [(x.xs, x.ys) for x in series]
        log = wants_log(points)
        plt.clear_figure()  # also forgets the last draw's ticks; the theme is set per render
        self.title = _("loss (log scale)") if log else _("loss")
        if log:
            for one, (xs, ys) in zip(series, to_log(points), strict=True):
                one.xs, one.ys = xs, ys
            # one tick every two rows at most: plotext draws ticks in a hash-seeded order, so
            # two on one row would show either label depending on the process
            rows = max(self.size.height - 5, 2)
            plt.yticks(*log_ticks([(x.xs, x.ys) for x in series], most=max(rows // 2, 2)))
        else:
            y = y_range([v for x in series for v in x.ys], floor=0.0)
            if y is not None:
                plt.ylim(*y)
        plot(plt, series)
        plt.xlim(0, x_high)
        self.x_label = _("epoch")
        self.refresh()
        return series


class SecondChart(PlotextPlot):
    """Accuracy with the majority-class baseline for classification (earlier runs faded);
    predictions against targets for regression."""

    title = ""
    x_label = ""

    def draw(
        self, view: View, ghosts: Sequence[Ghost] = (), x_high: float | None = None
    ) -> list[Series]:
        h, plt = view.snapshot.history, self.plt
        x_high = x_high or x_extent(view, ghosts)
        plt.clear_figure()
        if view.fit is not None:
            return self._fit(view)
        series = _ghost_series(ghosts, "val_accuracy")
        self.title = _("accuracy")
        if view.baseline is not None:
            level = f"{view.baseline.accuracy:.1%}"
            majority = _("majority class {share}").format(share=level)
            y = view.baseline.accuracy
            series.append(Series([0.0, x_high], [y, y], majority, BASELINE, "┄"))
            if any(f.code == "at_baseline" for f in view.flags):
                self.title = _("accuracy: flat at the majority class ({share})").format(share=level)
        if h.epoch:
            epochs = thin(h.epoch, CHART_POINTS)
            train = thin(h.train_accuracy, CHART_POINTS)
            series.append(Series.of(epochs, train, _("train"), TRAIN))
            series.append(
                Series.of(epochs, thin(h.val_accuracy, CHART_POINTS), _("validation"), VALIDATION)
            )
        plot(plt, series)
        plt.ylim(0, 1)
        plt.xlim(0, x_high)
        self.x_label = _("epoch")
        self.refresh()
        return series

    def _fit(self, view: View) -> list[Series]:
        plt = self.plt
        assert view.fit is not None  # _fit draws regression Views only
        targets, predictions = finite_points(*view.fit)
        self.title = _("validation: prediction vs target")
        if targets:
            low, high = min(targets), max(targets)
            room = FIT_ROOM * max(high - low, 1e-6)
            clipped = [min(max(p, low - room), high + room) for p in predictions]
            if clipped != predictions:  # a diverged model: keep the chart readable
                self.title = _("validation: prediction vs target (clipped)")
                predictions = clipped
        series = []
        if targets:
            plt.scatter(targets, predictions, color=VALIDATION, marker="dot")
            series = [
                Series(targets, predictions, _("prediction"), VALIDATION, "•"),
                Series([low, high], [low, high], _("perfect"), BATCH),
            ]
            plot(plt, series[1:])
        self.x_label = _("target")
        self.refresh()
        return series


class NetworkView(LiveText):
    """Each layer with its shape, weight statistics and last gradient norm."""

    def draw(self, view: View) -> None:
        columns = (_("layer"), 7), (_("shape"), 7), (_("w mean±std"), 10), (_("grad"), 0)
        lines = ["[b]" + " ".join(pad(name, width) for name, width in columns).rstrip() + "[/b]"]
        for s in view.layers:
            lines.append(f"{s.name:<7} {s.detail:<7} {s.mean:+.2f}±{s.std:<4.2f} {s.grad_norm:.0e}")
            extra = f"{s.activation}  " if s.activation else ""
            span = _("w in [{low}, {high}]").format(low=f"{s.low:+.2f}", high=f"{s.high:+.2f}")
            lines.append(f"[dim]  └ {extra}{escape(span)}[/dim]")
        self.show(Text.from_markup("\n".join(lines)))


class TrainView(Vertical):
    def compose(self) -> ComposeResult:
        yield Static("", id="banner", markup=False)
        yield LiveText(_("loading PyTorch…"), id="status")
        yield Static("", id="diagnostics")
        with TabbedContent(id="pictures"):
            with TabPane(tab_labels(1000)["charts"], id="charts-tab"):
                with Horizontal(id="charts"):
                    yield Chart(LossChart(id="loss-chart"), id="loss-box")
                    yield Chart(SecondChart(id="second-chart"), id="second-box")
                with Horizontal(id="lower"):
                    yield NetworkView(id="network")
                    yield DecisionMap(id="map")
            yield from picture_panes()

    last_view: View | None = None
    ghosts: list[Ghost]  # earlier runs, newest first

    def on_mount(self) -> None:
        self.ghosts = []

    def keep_ghost(self, experiment: Experiment, history: History, title: str = "") -> None:
        """Keep a finished or abandoned run's curves (the newest MOST_GHOSTS)."""
        self.ghosts = [Ghost(experiment, history, title=title), *self.ghosts][:MOST_GHOSTS]

    def label_ghosts(self, now: Experiment) -> None:
        """Name each earlier run by what differs from the run now."""
        for ghost in self.ghosts:
            if ghost.experiment is not None:
                ghost.label = describe_difference(ghost.experiment, now)

    def clear_ghosts(self) -> bool:
        had, self.ghosts = bool(self.ghosts), []
        if had and self.last_view is not None:
            self.draw(self.last_view)
        return had

    def on_resize(self) -> None:
        # In a short terminal the charts and the status are what the learner watches.
        lower = self.query_one("#lower")
        if lower.display != (self.size.height >= LOWER_FROM):
            lower.display = self.size.height >= LOWER_FROM
        fit_tabs(self.query_one("#pictures", TabbedContent))
        if self.last_view is not None:  # the status line's items follow the width
            self._status(self.last_view)

    def draw(self, view: View) -> None:
        self.last_view = view
        self._status(view)
        self._diagnose(view)
        tab = active_tab(self)
        if not TAB_PICTURES[tab] <= view.pictures:  # made before the tab changed: the next is
            return
        if tab == "charts-tab":  # hidden charts are not drawn
            self._draw_charts(view)
        draw_pictures(self, view)

    def _draw_charts(self, view: View) -> None:
        ghosts = self.ghosts
        if view.viewing is not None:  # the run after the epoch viewed, faded
            later = Ghost(None, view.viewing.later, title=_("later in this run"))
            ghosts = [later, *self.ghosts][:MOST_GHOSTS]
        x_high = x_extent(view, ghosts)
        for box, chart in (
            ("#loss-box", self.query_one(LossChart)),
            ("#second-box", self.query_one(SecondChart)),
        ):
            series = chart.draw(view, ghosts, x_high)
            self.query_one(box, Chart).show_legend(series, chart.title, chart.x_label)
        self.query_one(NetworkView).draw(view)

    def on_tabbed_content_tab_activated(self) -> None:
        fit_tabs(self.query_one("#pictures", TabbedContent))  # a narrow row names the active tab
        self.app.show_pictures(TAB_PICTURES[active_tab(self)])  # type: ignore[attr-defined]
        if self.last_view is not None:  # the new tab shows the last View at once
            self.draw(self.last_view)

    def _status(self, view: View) -> None:
        """The run's state, epoch, lr, loss and accuracy always; the step and the speed only
        where they need no extra line."""
        s = view.snapshot
        items = [
            (Text(status_word(view.status), "bold"), True),
            *_past_items(view.viewing),
            (Text(_("epoch {epoch}/{epochs}").format(epoch=s.epoch, epochs=s.epochs)), True),
            (Text(_("step {step}").format(step=f"{s.step:,}")), False),
            (Text(_speed(view)), False),
            (Text(_("lr {lr}").format(lr=f"{s.lr:.3g}")), True),
        ]
        status = self.query_one("#status", LiveText)
        width = status.content_size.width or 1000  # not laid out yet: one line each
        first = fit(items, width)
        second = fit([(Text(m), True) for m in metric_words(view)], width)
        parts = [first, second]
        tested = final_test_words(view.test) if view.test is not None else ""
        if tested:  # the run is over: its test set, on a line of its own
            parts.append(fit([(Text(tested, "bold"), True)], width))
        lines = sum(max(1, len(part.plain.splitlines())) for part in parts)
        if status.styles.height is None or status.styles.height.value != lines:
            status.styles.height = lines  # a relayout only when the width needs another line
        status.show(Text("\n").join(parts))

    _banner = None
    _flags = None
    _note = N_("loading PyTorch…")  # translated when the app first sets it

    def waiting(self, note: str | None, queued: list[str]) -> None:
        """No network yet: the status says why (None: the same as before) and which of the
        actions pressed meanwhile will run once it is built."""
        if note is not None:
            self._note = note
        waits = ("  ", (_("queued:"), "bold"), " " + ", ".join(queued)) if queued else ()
        self.query_one("#status", LiveText).show(Text.assemble(_(self._note), *waits))

    def _diagnose(self, view: View) -> None:
        text = "\n".join(f"⚠ {f.message()}" for f in view.flags)
        if text != self._flags:  # an update relayouts the screen: only on change
            self._flags = text
            diagnostics = self.query_one("#diagnostics", Static)
            diagnostics.update(Prose(text))
            diagnostics.display = bool(text)  # an empty one would still take a line

    def banner(self, text: str, kind: str = "") -> None:
        if self._banner == (text, kind):  # an update relayouts the screen: only on change
            return
        self._banner = (text, kind)
        banner = self.query_one("#banner", Static)
        banner.update(Prose(text))
        banner.set_classes(kind)
        banner.display = bool(text)


def _past_items(viewing: Viewing | None) -> list[tuple[Text, bool]]:
    """The marker of a past epoch viewed; once the timeline was thinned, how many epochs can
    still be gone back to (`,` then skips the ones let go)."""
    if viewing is None:
        return []
    items = [(Text(_("◀ the past (End: now)"), "bold reverse"), True)]
    if viewing.kept < viewing.now + 1:
        kept = _("{kept} of {epochs} epochs kept to go back to")
        # the start (epoch 0) is always kept; the count is of the epochs trained
        items.append((Text(kept.format(kept=viewing.kept - 1, epochs=viewing.now)), True))
    return items


def _speed(view: View) -> str:
    """While running, the steps per second; after single steps (paused mid-run), the loss of
    the batch just taken, which is what a step shows (the rate of one step says nothing)."""
    s = view.snapshot
    if view.status == Status.PAUSED and s.batch_loss is not None:
        return _("batch loss {loss}").format(loss=f"{s.batch_loss:.4g}")
    if s.steps_per_second:
        return _("{rate} steps/s").format(rate=f"{s.steps_per_second:,.0f}")
    return "-"


def metric_words(view: View) -> list[str]:
    """The numbers of the weights kept (after early stopping or divergence, an earlier epoch's,
    and the line says which), as `nnplay train` prints them."""
    s = view.summary
    if s is None or not s.epochs:
        return []

    def number(value: float | None, digits: str) -> str:
        return "-" if value is None else format(value, digits)

    loss = _("loss {train} / val {validation}")
    parts = [loss.format(train=number(s.train_loss, ".4g"), validation=number(s.val_loss, ".4g"))]
    if s.val_accuracy is not None:
        acc = _("acc {train} / val {validation}")
        train, validation = number(s.train_accuracy, ".3f"), number(s.val_accuracy, ".3f")
        parts.append(acc.format(train=train, validation=validation))
    if s.kept_note():
        parts.append(s.kept_note())
    return parts
