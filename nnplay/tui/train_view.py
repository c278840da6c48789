"""The train view: status line, live charts, the network and the decision map.

It only draws `View`s that the training worker sends; it never touches torch.
"""

from __future__ import annotations

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Static, TabbedContent, TabPane
from textual_plotext import PlotextPlot

from nnplay.history import thin
from nnplay.tui.live_text import LiveText
from nnplay.tui.map_view import DecisionMap
from nnplay.tui.pictures import draw_pictures, picture_panes
from nnplay.tui.session import View

CHART_POINTS = 200


class LossChart(PlotextPlot):
    def draw(self, view: View) -> None:
        h, plt = view.snapshot.history, self.plt
        plt.clear_data()
        plt.title("loss")
        if h.step_loss:
            s = view.snapshot  # averaged step losses spread evenly over the steps done
            x = np.linspace(1, s.step, len(h.step_loss)) / s.steps_per_epoch
            plt.plot(list(x), h.step_loss, label="batch (avg)", color="gray", marker="braille")
        if h.epoch:
            plt.plot(thin(h.epoch, CHART_POINTS), thin(h.train_loss, CHART_POINTS), label="train",
                     color="orange", marker="braille")
            plt.plot(thin(h.epoch, CHART_POINTS), thin(h.val_loss, CHART_POINTS),
                     label="validation", color="blue", marker="braille")
        plt.xlabel("epoch")
        if h.step_loss and min(h.step_loss) > 0 and max(h.step_loss) / min(h.step_loss) > 100:
            plt.yscale("log")
        else:
            plt.yscale("linear")
        self.refresh()


class SecondChart(PlotextPlot):
    """Accuracy for classification; predictions against targets for regression."""

    def draw(self, view: View) -> None:
        h, plt = view.snapshot.history, self.plt
        plt.clear_data()
        if view.fit is not None:
            targets, predictions = view.fit
            plt.title("validation: prediction vs target")
            plt.scatter(list(targets), list(predictions), color="blue", marker="dot")
            low, high = float(min(targets)), float(max(targets))
            plt.plot([low, high], [low, high], color="gray")
            plt.xlabel("target")
        else:
            plt.title("accuracy")
            if h.epoch:
                plt.plot(thin(h.epoch, CHART_POINTS), thin(h.train_accuracy, CHART_POINTS),
                         label="train", color="orange", marker="braille")
                plt.plot(thin(h.epoch, CHART_POINTS), thin(h.val_accuracy, CHART_POINTS),
                         label="validation", color="blue", marker="braille")
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

    def draw(self, view: View) -> None:
        self.last_view = view
        s = view.snapshot
        rate = f"{s.steps_per_second:,.0f} steps/s" if s.steps_per_second else "-"
        self.query_one("#status", LiveText).show(Text.from_markup(
            f"[b]{s.status}[/b]  epoch {s.epoch}/{s.epochs}  step {s.step:,}  {rate}  "
            f"lr {s.lr:.3g}  " + _metrics(s.history)))
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
