"""The train view: status line, live charts, the network and the decision map.

It only draws `View`s that the training worker sends; it never touches torch.
"""

from __future__ import annotations

import numpy as np
from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static, TabbedContent, TabPane
from textual_plotext import PlotextPlot

from nnplay.history import thin
from nnplay.tui.chart_scale import finite_points, log_ticks, to_log, wants_log
from nnplay.tui.live_text import LiveText
from nnplay.tui.map_view import DecisionMap
from nnplay.tui.pictures import draw_pictures, picture_panes
from nnplay.tui.session import View

CHART_POINTS = 200
LOWER_FROM = 24  # rows the train view needs before it shows the network and the map
FIT_ROOM = 5  # predictions further than this many target ranges away are drawn at the edge


class LossChart(PlotextPlot):
    """Step losses (averaged), train and validation loss; logarithmic when they span decades."""

    def draw(self, view: View) -> None:
        h, s, plt = view.snapshot.history, view.snapshot, self.plt
        series = []  # (x, y, label, colour), finite points only
        if h.step_loss:  # averaged step losses spread evenly over the steps done
            x = np.linspace(1, max(s.step, 1), len(h.step_loss)) / max(s.steps_per_epoch, 1)
            series.append((*finite_points(x, h.step_loss), "batch (avg)", "gray"))
        if h.epoch:
            epochs = thin(h.epoch, CHART_POINTS)
            series.append((*finite_points(epochs, thin(h.train_loss, CHART_POINTS)), "train",
                           "orange"))
            series.append((*finite_points(epochs, thin(h.val_loss, CHART_POINTS)), "validation",
                           "blue"))
        points = [(xs, ys) for xs, ys, _, _ in series]
        log = wants_log(points)
        if log:
            points = to_log(points)
        plt.clear_figure()  # also forgets the last draw's ticks; the theme is set per render
        plt.title("loss (log scale)" if log else "loss")
        for (xs, ys), (_, _, label, colour) in zip(points, series, strict=True):
            if xs:
                plt.plot(xs, ys, label=label, color=colour, marker="braille")
        if log:
            plt.yticks(*log_ticks(points))
        plt.xlabel("epoch")
        self.refresh()


class SecondChart(PlotextPlot):
    """Accuracy for classification; predictions against targets for regression."""

    def draw(self, view: View) -> None:
        h, plt = view.snapshot.history, self.plt
        plt.clear_figure()
        if view.fit is not None:
            targets, predictions = finite_points(*view.fit)
            title = "validation: prediction vs target"
            if targets:
                low, high = min(targets), max(targets)
                room = FIT_ROOM * max(high - low, 1e-6)
                clipped = [min(max(p, low - room), high + room) for p in predictions]
                if clipped != predictions:  # a diverged model: keep the chart readable
                    title += " (clipped)"
                    predictions = clipped
            plt.title(title)
            if targets:
                plt.scatter(targets, predictions, color="blue", marker="dot")
                plt.plot([low, high], [low, high], color="gray")
            plt.xlabel("target")
        else:
            plt.title("accuracy")
            if h.epoch:
                epochs = thin(h.epoch, CHART_POINTS)
                for values, label, colour in ((h.train_accuracy, "train", "orange"),
                                              (h.val_accuracy, "validation", "blue")):
                    xs, ys = finite_points(epochs, thin(values, CHART_POINTS))
                    if xs:
                        plt.plot(xs, ys, label=label, color=colour, marker="braille")
            plt.ylim(0, 1)
            plt.xlabel("epoch")
        self.refresh()


class NetworkView(LiveText):
    """Each layer with its shape, weight statistics and last gradient norm."""

    def draw(self, view: View) -> None:
        lines = ["[b]layer   shape   w mean±std |grad|[/b]"]
        for s in view.layers:
            lines.append(f"{s.name:<7} {s.detail:<7} {s.mean:+.2f}±{s.std:<4.2f} {s.grad_norm:.0e}")
            extra = f"{s.activation}  " if s.activation else ""
            lines.append(f"[dim]  └ {extra}w in [{s.low:+.2f}, {s.high:+.2f}][/dim]")
        self.show(Text.from_markup("\n".join(lines)))


class TrainView(Vertical):
    def compose(self) -> ComposeResult:
        yield Static("", id="banner")
        yield LiveText("loading PyTorch…", id="status")
        yield Static("", id="diagnostics")
        with TabbedContent(id="pictures"):
            with TabPane("1 Charts", id="charts-tab"):
                with Horizontal(id="charts"):
                    yield LossChart(id="loss-chart")
                    yield SecondChart(id="second-chart")
                with Horizontal(id="lower"):
                    yield NetworkView(id="network")
                    yield DecisionMap(id="map")
            yield from picture_panes()

    last_view: View | None = None

    def on_resize(self) -> None:
        # In a short terminal the charts and the status are what the learner watches.
        lower = self.query_one("#lower")
        if lower.display != (self.size.height >= LOWER_FROM):
            lower.display = self.size.height >= LOWER_FROM

    def draw(self, view: View) -> None:
        self.last_view = view
        s = view.snapshot
        rate = f"{s.steps_per_second:,.0f} steps/s" if s.steps_per_second else "-"
        # Two lines, so the numbers fit beside the build panel at 120 columns.
        self.query_one("#status", LiveText).show(Text.from_markup(
            f"[b]{view.status}[/b]  epoch {s.epoch}/{s.epochs}  step {s.step:,}  {rate}  "
            f"lr {s.lr:.3g}\n" + _metrics(s.history)))
        self._diagnose(view)
        self.query_one(LossChart).draw(view)
        self.query_one(SecondChart).draw(view)
        self.query_one(NetworkView).draw(view)
        draw_pictures(self, view)

    def on_tabbed_content_tab_activated(self) -> None:
        if self.last_view is not None:  # the new tab shows the last View at once
            draw_pictures(self, self.last_view)

    _banner = None
    _flags = None
    _note = "loading PyTorch…"

    def waiting(self, note: str | None, queued: list[str]) -> None:
        """No network yet: the status says why (None: the same as before) and which of the
        actions pressed meanwhile will run once it is built."""
        if note is not None:
            self._note = note
        waits = f"  [b]queued:[/b] {', '.join(queued)}" if queued else ""
        self.query_one("#status", LiveText).show(Text.from_markup(escape(self._note) + waits))

    def _diagnose(self, view: View) -> None:
        text = "\n".join(f"⚠ {f.cause} → {f.fix}" for f in view.flags)
        if text != self._flags:  # an update relayouts the screen: only on change
            self._flags = text
            self.query_one("#diagnostics", Static).update(text)

    def banner(self, text: str, kind: str = "") -> None:
        if self._banner == (text, kind):  # an update relayouts the screen: only on change
            return
        self._banner = (text, kind)
        banner = self.query_one("#banner", Static)
        banner.update(text)
        banner.set_classes(kind)
        banner.display = bool(text)


def _metrics(h) -> str:
    if not h.epoch:
        return ""
    parts = [f"loss {h.train_loss[-1]:.4g} / val {h.val_loss[-1]:.4g}"]
    if h.val_accuracy[-1] is not None:
        parts.append(f"acc {h.train_accuracy[-1]:.3f} / val {h.val_accuracy[-1]:.3f}")
    return "  ".join(parts)
