"""The nnplay playground app: build on the left, train live on the right.

Training runs in a thread worker that posts a compact View at most ~15 times a second; keys
and form edits travel to it as Session commands applied between steps. Torch is first imported
in a worker after the first frame, so the app appears at once.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.markup import escape
from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, HorizontalGroup, Vertical
from textual.message import Message
from textual.widgets import Button, Footer, Header, Static, TabbedContent

from nnplay.errors import ExperimentError
from nnplay.experiment import Experiment, save, with_solution
from nnplay.tui.build_panel import BuildPanel
from nnplay.tui.dialogs import Confirm, HelpScreen, PathPrompt, PresetPicker
from nnplay.tui.form_model import needs_reset
from nnplay.tui.neuron_view import NeuronView
from nnplay.tui.session import Session, View
from nnplay.tui.train_view import TrainView

# The worker sends a View at most 15 times a second, and less often when drawing one costs
# more: drawing holds the GIL, so it is kept to about 8% of the time to leave the rest to
# training (charts at ~25 ms a frame come out at ~3 frames a second).
FASTEST_FRAME = 1 / 15
NARROW = 100  # columns below which the build panel starts hidden
SHORT = 32  # rows below which the exercise's description starts folded
UI_SHARE = 0.05


class Progress(Message):
    """A new View from the worker; a backlog collapses to the newest."""

    def __init__(self, view: View) -> None:
        super().__init__()
        self.view = view

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Progress)


class SessionReady(Message):
    def __init__(self, session: Session | None, error: str = "", start: bool = False) -> None:
        super().__init__()
        self.session, self.error, self.start = session, error, start


# The command palette (ctrl+p) offers every action, with a line on what it does.
PALETTE = [
    ("Start / pause training", "train continuously, or pause (space)", "toggle_training"),
    ("Step", "train on one mini-batch (n)", "step"),
    ("Reset", "new weights from the form; structural changes apply here (r)", "reset"),
    ("Presets", "load an exercise (p)", "pick_preset"),
    ("Export", "weights as .pt, .safetensors, .onnx, .npz, or a PyTorch script .py (e)",
     "export"),
    ("Save as preset", "the current setup as a TOML file (s)", "save_preset"),
    ("Next hint", "reveal the exercise's next hint (h)", "hint"),
    ("Show solution", "apply the exercise's solution, after asking (S)", "solution"),
    ("Toggle build panel", "more room for the charts (b)", "toggle_build"),
    ("Lab: backpropagation", "every value and gradient of a 2-2-2 network, step by step (B)",
     "backprop"),
    ("Lab: optimizer paths", "SGD, momentum, AdaGrad, RMSprop, Adam on 2-D functions (o)",
     "optimizer_paths"),
    ("Lab: gradient check", "numerical gradients vs backprop for this model (g)",
     "gradient_check"),
    ("Charts", "loss and accuracy, layer statistics and a small map (1)", "show_charts"),
    ("Map", "the decision map (or prediction curve) as large as it fits (2)", "show_map"),
    ("Neurons", "every unit's output over the plane, its weights and bias (3)",
     "show_neurons"),
    ("Weights", "each weight and bias of the small layers, live (4)", "show_weights"),
    ("Previous unit", "select the previous unit in the Neurons tab ([)", "previous_unit"),
    ("Next unit", "select the next unit in the Neurons tab (])", "next_unit"),
    ("Fold the description", "show or hide the exercise's description (d)",
     "toggle_description"),
    ("Help", "keys and what they do (?)", "help"),
]


class PlaygroundApp(App):
    TITLE = "nnplay"
    CSS_PATH = "app.tcss"
    AUTO_FOCUS = None  # keys go to the app until a field is clicked; escape gives them back
    BINDINGS = [
        Binding("space", "toggle_training", "Start/Pause"),
        Binding("n", "step", "Step"),
        Binding("r", "reset", "Reset"),
        Binding("p", "pick_preset", "Presets"),
        Binding("e", "export", "Export"),
        Binding("s", "save_preset", "Save"),
        Binding("h", "hint", "Hint"),
        Binding("S", "solution", "Solution", show=False),
        Binding("b", "toggle_build", "Build panel", show=False),
        Binding("B", "backprop", "Backprop lab", show=False),
        Binding("o", "optimizer_paths", "Optimizer paths", show=False),
        Binding("g", "gradient_check", "Gradient check", show=False),
        Binding("1", "show_charts", "Charts", show=False),
        Binding("2", "show_map", "Map", show=False),
        Binding("3", "show_neurons", "Neurons", show=False),
        Binding("4", "show_weights", "Weights", show=False),
        Binding("left_square_bracket", "previous_unit", "Previous unit", show=False),
        Binding("right_square_bracket", "next_unit", "Next unit", show=False),
        Binding("d", "toggle_description", "Description", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("escape", "unfocus", "Leave field", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, experiment: Experiment, source: str) -> None:
        super().__init__()
        self.experiment = experiment  # what was loaded: the form's starting point
        self.source = source
        self.edited = experiment  # the form's current candidate
        self.form_valid = True
        self.session: Session | None = None
        self.hints_shown = 0
        self._train_worker = None
        self.map_size = (40, 20)
        self._exercise_text = ""
        self.description_shown = True  # the exercise's description; d folds it
        self.frame_cost = 0.0  # seconds to draw and paint one View

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield BuildPanel(self.experiment, id="build")
            with Vertical(id="right"):
                yield Static("", id="exercise")
                with HorizontalGroup(id="controls"):
                    yield Button("▶ Start", id="start", compact=True, variant="success")
                    yield Button("Step", id="step", compact=True)
                    yield Button("Reset", id="reset", compact=True)
                    yield Button("Presets", id="presets", compact=True)
                    yield Button("Export", id="export", compact=True)
                    yield Button("Save", id="save", compact=True)
                    yield Button("Hint", id="hint", compact=True)
                    yield Button("Solution", id="solution", compact=True)
                yield TrainView(id="train")
        yield Footer()

    def on_mount(self) -> None:
        if self.size.width < NARROW:  # the charts need the room; b brings the forms back
            self.query_one(BuildPanel).display = False
            self.notify("Narrow terminal: the build panel is hidden; press b to show it.")
        self.description_shown = self.size.height >= SHORT
        self._narrow, self._short = self.size.width < NARROW, self.size.height < SHORT
        self.sub_title = self.source
        self.query_one(TrainView).banner("")
        self._show_exercise()
        self.call_after_refresh(self._prepare, self.experiment)

    def on_resize(self, event: events.Resize) -> None:
        """Crossing into a narrow (short) terminal hides the build panel (folds the
        description); crossing back shows it again."""
        narrow, short = event.size.width < NARROW, event.size.height < SHORT
        if narrow != getattr(self, "_narrow", narrow):
            self.query_one(BuildPanel).display = not narrow
        if short != getattr(self, "_short", short):
            self.description_shown = not short
            self._show_exercise()
        self._narrow, self._short = narrow, short

    # -- the session and its worker ---------------------------------------------------------------

    @work(thread=True, exclusive=True, group="prepare")
    def _prepare(self, experiment: Experiment, start: bool = False) -> None:
        """Build a Trainer off the UI thread (the first one imports torch)."""
        try:
            session = Session(experiment)
        except ExperimentError as e:
            self.post_message(SessionReady(None, str(e)))
            return
        except Exception as e:  # never a traceback on screen; the form stays as it is
            self.post_message(SessionReady(None, f"could not build the network: {e}"))
            return
        self.post_message(SessionReady(session, start=start))

    def on_session_ready(self, message: SessionReady) -> None:
        if message.session is None:
            self.notify(message.error, severity="error", timeout=8)
            return
        self.session = message.session
        self.session.map_size = self.map_size
        self._draw(self.session.view())
        self._show_pending()
        if message.start:
            self.action_toggle_training()

    @work(thread=True, exclusive=True, group="train")
    def _train(self, session: Session) -> None:
        """Step until paused or the run ends; a View goes to the UI every frame and at the end."""
        next_frame = 0.0
        try:
            while session.running and session.advance():
                if time.monotonic() >= next_frame:
                    self.post_message(Progress(session.view()))
                    next_frame = time.monotonic() + max(FASTEST_FRAME, self.frame_cost / UI_SHARE)
            session.running = False
            self.post_message(Progress(session.view()))
        except Exception as e:  # a bug must not leave a traceback on the screen
            session.running = False
            self.call_from_thread(self.notify, f"training stopped: {e}", severity="error")

    def on_progress(self, message: Progress) -> None:
        started = time.perf_counter()
        self._update_start_button()
        self._draw(message.view)
        self.call_after_refresh(self._measure_frame, started)

    def _measure_frame(self, started: float) -> None:
        """How long a frame takes to draw and paint (a moving average)."""
        self.frame_cost = 0.7 * self.frame_cost + 0.3 * (time.perf_counter() - started)

    def _draw(self, view: View) -> None:
        self.query_one(TrainView).draw(view)
        self._show_exercise(view)
        self._show_outcome(view)

    # -- the exercise box and banners -------------------------------------------------------------

    def _show_exercise(self, view: View | None = None) -> None:
        meta, goal = self.experiment.meta, self.experiment.goal
        lines = [f"[b]{escape(meta.title or self.source)}[/b]"]
        description = " ".join(meta.description.split())
        if description and self.description_shown:
            lines.append(f"{escape(description)} [dim](d folds this)[/dim]")
        elif description:
            lines[0] += "  [dim](d: the description)[/dim]"
        if goal.enabled:
            result = view.goal if view is not None else None
            state = ""
            if result is not None and result.value is not None:
                state = "  [green]✔ met[/green]" if result.met else f"  (now {result.value:.4g})"
            lines.append(f"goal: {goal.describe()}{state}")
        hints = meta.hints[: self.hints_shown]
        lines += [f"[yellow]hint {i + 1}:[/yellow] {escape(h)}" for i, h in enumerate(hints)]
        if self.hints_shown < len(meta.hints):
            lines.append(f"[dim]{len(meta.hints) - self.hints_shown} more hints (h)[/dim]")
        text = "\n".join(lines)
        if text != self._exercise_text:  # an update relayouts the screen: only on change
            self._exercise_text = text
            self.query_one("#exercise", Static).update(text)

    def _show_outcome(self, view: View) -> None:
        s, train = view.snapshot, self.query_one(TrainView)
        if s.status == "diverged":
            train.banner(f"✖ Diverged: {s.message}", "error")
        elif view.goal is not None and view.goal.met and s.status in ("finished", "early_stopped"):
            train.banner(f"✔ Goal met: {view.goal.description} (value {view.goal.value:.4g}).",
                         "success")
        elif s.status in ("finished", "early_stopped") and view.goal is not None:
            train.banner(f"Goal not met yet: {view.goal.description}; now {view.goal.value:.4g}. "
                         "Try a hint (h).", "warning")
        elif s.status == "early_stopped":
            train.banner(s.message, "warning")
        else:
            self._show_pending()

    def _show_pending(self) -> None:
        train = self.query_one(TrainView)
        if self.session is not None and self.form_valid and needs_reset(
                self.session.experiment, self.edited):
            train.banner("Changes to the network, data or training take effect on reset (r).",
                         "warning")
        elif not self.form_valid:
            train.banner("Fix the fields marked in red to train.", "error")
        else:
            train.banner("")

    def _update_start_button(self) -> None:
        running = self.session is not None and self.session.running
        button = self.query_one("#start", Button)
        button.label = "⏸ Pause" if running else "▶ Start"
        button.disabled = not running and not self.form_valid

    # -- form edits -------------------------------------------------------------------------------

    @on(BuildPanel.Edited)
    def _edited(self, message: BuildPanel.Edited) -> None:
        self.edited, self.form_valid = message.experiment, not message.errors
        self._update_start_button()
        if self.session is not None and self.form_valid:
            live, t = self.session.experiment.training, self.edited.training
            for name, value in (("lr", t.lr), ("l1", t.l1), ("l2", t.l2), ("epochs", t.epochs)):
                if getattr(live, name) != value:
                    self.session.send(f"set_{name}", value)
        self._show_pending()

    # -- actions ----------------------------------------------------------------------------------

    def action_toggle_training(self) -> None:
        session = self.session
        if session is None:
            self.notify("Still loading PyTorch…")
        elif session.running:
            session.running = False
        elif not self.form_valid:
            self.notify("Fix the fields marked in red first.", severity="error")
        elif session.trainer.steps == 0 and needs_reset(session.experiment, self.edited):
            self._prepare(self.edited, start=True)  # nothing trained yet: use the form as it is
        elif not session.can_step:
            self.notify("This run is over: reset (r) to train again, or raise the epochs.")
        else:
            session.running = True
            self._train_worker = self._train(session)
        self._update_start_button()

    def action_step(self) -> None:
        session = self.session
        if session is None or session.running:
            return
        if not session.can_step:
            self.notify("This run is over: reset (r) to train again.")
            return
        session.advance()
        self._draw(session.view())

    async def _pause(self) -> None:
        if self.session is not None and self.session.running:
            self.session.running = False
            if self._train_worker is not None:
                await self._train_worker.wait()
        self._update_start_button()

    async def action_reset(self) -> None:
        await self._pause()
        if not self.form_valid:
            self.notify("Fix the fields marked in red first.", severity="error")
            return
        self._prepare(self.edited)

    def action_pick_preset(self) -> None:
        from nnplay.presets import all_presets

        self.push_screen(PresetPicker(all_presets()), self._load_preset)

    async def _load_preset(self, name: str | None) -> None:
        if name is None:
            return
        from nnplay.presets import load_preset

        await self._pause()
        self.load(load_preset(name), name)

    def load(self, experiment: Experiment, source: str) -> None:
        """Show a new experiment in the form and build its session."""
        self.experiment, self.edited, self.source = experiment, experiment, source
        self.sub_title = source
        self.hints_shown = 0
        self.query_one(BuildPanel).load(experiment)
        self._show_exercise()
        self._prepare(experiment)

    def action_hint(self) -> None:
        hints = self.experiment.meta.hints
        if self.hints_shown >= len(hints):
            self.notify("No more hints." if hints else "This setup has no hints.")
            return
        self.hints_shown += 1
        self._show_exercise()

    def action_solution(self) -> None:
        if not self.experiment.solution:
            self.notify("This exercise meets its goal as shipped: there is no fix to show.")
            return
        changes = ", ".join(f"{k} = {v}" for k, v in self.experiment.solution.items())
        self.push_screen(Confirm(f"Apply the solution?\n\n{changes}\n\nThe form changes and the "
                                 "network is reset."), self._apply_solution)

    async def _apply_solution(self, yes: bool) -> None:
        if yes:
            await self._pause()
            self.load(with_solution(self.experiment), f"{self.source} (solution)")

    def action_export(self) -> None:
        if self.session is None:
            self.notify("Nothing to export yet.")
            return
        stem = Path(self.source.split(" ")[0]).stem
        self.push_screen(PathPrompt("Export the trained weights to (.pt, .safetensors, .onnx, "
                                    ".npz, or .py for a PyTorch script):", f"{stem}.pt"),
                         self._export)

    async def _export(self, path: str | None) -> None:
        if path is None or self.session is None:
            return
        from nnplay.export import export

        await self._pause()
        try:
            written = export(self.session.trainer.model, self.session.experiment, path)
        except ExperimentError as e:
            self.notify(str(e), severity="error", timeout=8)
        except OSError as e:
            self.notify(f"{path}: could not write ({e.strerror or e})", severity="error")
        else:
            self.notify("Exported " + ", ".join(str(p) for p in written))

    def action_save_preset(self) -> None:
        if not self.form_valid:
            self.notify("Fix the fields marked in red before saving.", severity="error")
            return
        stem = Path(self.source.split(" ")[0]).stem
        self.push_screen(PathPrompt("Save this setup as a preset TOML:", f"{stem}-mine.toml"),
                         self._save)

    def _save(self, path: str | None) -> None:
        if path is None:
            return
        try:
            save(self.edited, path)
        except OSError as e:
            self.notify(f"{path}: could not write ({e.strerror or e})", severity="error")
        else:
            self.notify(f"Saved {path}; open it with: nnplay {path}")

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        for title, help_text, action in PALETTE:
            yield SystemCommand(title, help_text, getattr(self, f"action_{action}"))

    def resize_map(self, cols: int, rows: int) -> None:
        """The grid size the shown map has room for; redrawn at once when not training."""
        if (cols, rows) == self.map_size:
            return
        self.map_size = (cols, rows)
        if self.session is not None:
            self.session.map_size = self.map_size
            if self._idle():
                self._draw(self.session.view())

    def _idle(self) -> bool:
        """No worker is stepping the session: the UI thread may read the model."""
        return (self.session is not None and not self.session.running
                and (self._train_worker is None or self._train_worker.is_finished))

    def _show_tab(self, name: str) -> None:
        self.query_one("#pictures", TabbedContent).active = f"{name}-tab"

    def action_show_charts(self) -> None:
        self._show_tab("charts")

    def action_show_map(self) -> None:
        self._show_tab("map")

    def action_show_neurons(self) -> None:
        self._show_tab("neurons")

    def action_show_weights(self) -> None:
        self._show_tab("weights")

    def action_previous_unit(self) -> None:
        self.query_one(NeuronView).select(-1)

    def action_next_unit(self) -> None:
        self.query_one(NeuronView).select(1)

    def action_toggle_description(self) -> None:
        self.description_shown = not self.description_shown
        self._show_exercise()

    def action_toggle_build(self) -> None:
        panel = self.query_one(BuildPanel)
        panel.display = not panel.display

    def action_backprop(self) -> None:
        from nnplay.tui.lab_screens import BackpropScreen

        self.push_screen(BackpropScreen())

    def action_optimizer_paths(self) -> None:
        from nnplay.tui.lab_screens import OptPathsScreen

        self.push_screen(OptPathsScreen())

    async def action_gradient_check(self) -> None:
        if self.session is None:
            self.notify("Still loading PyTorch…")
            return
        from nnplay.tui.lab_screens import GradCheckScreen

        await self._pause()
        self.push_screen(GradCheckScreen.for_trainer(self.session.trainer))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_unfocus(self) -> None:
        self.set_focus(None)

    async def action_quit(self) -> None:
        await self._pause()
        self.exit()

    @on(Button.Pressed, "#controls Button")
    async def _button(self, event: Button.Pressed) -> None:
        actions = {"start": "toggle_training", "step": "step", "reset": "reset",
                   "presets": "pick_preset", "export": "export", "save": "save_preset",
                   "hint": "hint", "solution": "solution"}
        await self.run_action(actions[event.button.id])


def run_app(experiment: Experiment, source: str) -> int:
    PlaygroundApp(experiment, source).run()
    return 0
