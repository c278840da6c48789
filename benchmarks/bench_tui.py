"""The playground under load: training speed in the app, key latency, launch time.

    python benchmarks/bench_tui.py

1. Steps/s of first-gt-fifth trained inside the running app (thread worker, charts redrawn),
   against the headless Trainer in the same process: wall time from start to finished.
2. Key-press latency while training at full speed: from a key event entering the app to its
   action running (a toggle of the build panel, every 0.1 s), p50/p95/max.
3. Launch to first frame: a fresh interpreter importing nnplay and drawing the first frame
   (headless driver), plus bare interpreter start-up, median of several launches; beside it a
   bare Textual app with a header and a footer (issue 19's target: at most 2x it).
"""

import asyncio
import statistics
import subprocess
import sys
import time

from textual import events

from nnplay.experiment import with_overrides
from nnplay.presets import load_preset
from nnplay.training import Trainer
from nnplay.tui.app import PlaygroundApp

EPOCHS = 150  # 37,500 steps, about 4 s: long enough to average over many frames


def headless_rate(exp) -> float:
    trainer = Trainer(exp)
    started = time.perf_counter()
    trainer.run()
    return trainer.steps / (time.perf_counter() - started)


async def in_app(exp, presses: int = 0):
    """(steps/s of a whole run in the app, key latencies in seconds while it trained)."""
    app = PlaygroundApp(exp, "first-gt-fifth")
    latencies, sent = [], []
    original = app.action_toggle_build

    def timed_toggle():
        latencies.append(time.perf_counter() - sent[-1])
        original()

    app.action_toggle_build = timed_toggle
    async with app.run_test(size=(120, 40)) as pilot:
        while app.session is None:
            await pilot.pause(0.05)
        started = time.perf_counter()
        app.action_toggle_training()  # not pilot.press: it waits for the app to go idle
        while len(sent) < presses and app.session.running:
            sent.append(time.perf_counter())
            app.post_message(events.Key("b", "b"))
            await asyncio.sleep(0.1)
        await app.workers.wait_for_complete()  # no polling: it would steal the GIL
        rate = app.session.trainer.steps / (time.perf_counter() - started)
        await pilot.press("q")
    return rate, latencies


FIRST_FRAME = """
import time; t0 = time.perf_counter()
{setup}
def first_frame():
    print(time.perf_counter() - t0); app.exit()
app.call_after_refresh(first_frame)
app.run(headless=True, size=(120, 40))
"""
NNPLAY = """
from nnplay.presets import load_preset
from nnplay.tui.app import PlaygroundApp
app = PlaygroundApp(load_preset('first-gt-fifth'), 'first-gt-fifth')
"""
BARE_TEXTUAL = """
from textual.app import App
from textual.widgets import Footer, Header
class Bare(App):
    def compose(self):
        yield Header()
        yield Footer()
app = Bare()
"""


def launch_seconds(repeats: int = 5) -> tuple[float, float, float]:
    """Medians, interleaved: nnplay's imports and first frame, a bare Textual app's (a header
    and a footer), and the interpreter's start-up."""
    frames, textual, bare = [], [], []
    for _ in range(repeats):
        for setup, times in ((NNPLAY, frames), (BARE_TEXTUAL, textual)):
            script = FIRST_FRAME.format(setup=setup)
            out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
            times.append(float(out.stdout.strip().splitlines()[-1]))
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"])
        bare.append(time.perf_counter() - started)
    return statistics.median(frames), statistics.median(textual), statistics.median(bare)


def main() -> None:
    exp = with_overrides(load_preset("first-gt-fifth"), {"training.epochs": EPOCHS})
    headless, in_the_app = [], []
    for _ in range(3):  # interleaved: the machine's noise hits both alike
        headless.append(headless_rate(exp))
        in_the_app.append(asyncio.run(in_app(exp))[0])
    base, app_rate = statistics.median(headless), statistics.median(in_the_app)
    print(
        f"training  headless {base:,.0f} steps/s   in the app {app_rate:,.0f} steps/s   "
        f"ratio {app_rate / base:.2f}x  (medians of 3)"
    )
    _, latencies = asyncio.run(in_app(exp, presses=40))
    ms = sorted(1000 * v for v in latencies)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    print(
        f"key latency while training ({len(ms)} presses)  p50 {statistics.median(ms):.1f} ms   "
        f"p95 {p95:.1f} ms   max {ms[-1]:.1f} ms"
    )
    frame, textual, bare = launch_seconds()
    print(
        f"launch to first frame  {frame + bare:.2f} s  (interpreter {bare:.2f} s + nnplay "
        f"imports and first frame {frame:.2f} s); a bare Textual app {textual + bare:.2f} s: "
        f"{(frame + bare) / (textual + bare):.1f}x"
    )


if __name__ == "__main__":
    main()
