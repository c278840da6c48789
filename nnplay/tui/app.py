"""The nnplay playground app: build on the left, train live on the right.

Training runs in a thread worker that posts a compact View at most ~15 times a second; keys
and form edits travel to it as Session commands applied between steps. Torch is first imported
in a worker after the first frame, so the app appears at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.command import CommandPalette
from textual.containers import Horizontal, HorizontalGroup, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Header, Static, TabbedContent

from nnplay.drawn import DrawnPoints
from nnplay.errors import ExperimentError
from nnplay.experiment import (
    LIVE_SETTINGS,
    Experiment,
    field_rule,
    save,
    with_overrides,
    with_solution,
)
from nnplay.i18n import N_, _, ngettext
from nnplay.labels import describe_changes
from nnplay.locks import is_locked
from nnplay.packs import Pack
from nnplay.predict import Predictions
from nnplay.presets import RUN_SUFFIX, all_presets, load_preset
from nnplay.results import save_with_result
from nnplay.status import Status
from nnplay.tab_status import REPORT_EVERY, StatusReporter, TabStatus, best_validation
from nnplay.tui.actions import BY_ID, ActionCommands, bindings, buttons, translate_bindings
from nnplay.tui.build_panel import BuildPanel
from nnplay.tui.dialogs import Confirm, HelpScreen, PathPrompt, PresetPicker
from nnplay.tui.drawing import Drawing
from nnplay.tui.drawing_actions import DrawingActions
from nnplay.tui.footer import KeyBar
from nnplay.tui.form_model import needs_reset, value_of
from nnplay.tui.map_view import DecisionMap
from nnplay.tui.network_picture import NetworkPicture
from nnplay.tui.neuron_view import NeuronView
from nnplay.tui.open_dialog import OpenPrompt
from nnplay.tui.pack_menu import PackMenu, PackProgress
from nnplay.tui.pictures import TAB_PICTURES
from nnplay.tui.predict_dialog import PredictDialog, RevealDialog, prediction_line
from nnplay.tui.prose import Prose
from nnplay.tui.screens import Steady
from nnplay.tui.session import FASTEST_FRAME, Session, View
from nnplay.tui.train_view import TrainView
from nnplay.tui.unsaved import RunKeeper, discard_question, losing_question, lost_training
from nnplay.untrusted import printable, shown

if TYPE_CHECKING:  # run_state imports torch: not before the app's first frame
    from nnplay.run_state import RunState

# The session sends a View at most 15 times a second, and less often when drawing one costs
# more: drawing holds the GIL, so it is kept to a small share of the time to leave the rest to
# training (charts at ~25 ms a frame come out at ~3 frames a second).
NARROW = 100  # columns below which the build panel starts hidden
SHORT = 32  # rows below which the exercise's description starts folded
UI_SHARE = 0.05
# A served app's every frame is drawn again by the browser's terminal (xterm.js), in a process the
# app cannot time; on the machine that trains (a teacher trying it), that cost came from the
# training: 8 frames a second at most keep a tab within 0.8x a terminal's steps/s.
FASTEST_WEB_FRAME = 1 / 8
MOST_QUEUED = 10  # keys kept while the network is built


class Progress(Message):
    """A new View from the session's thread; a backlog collapses to the newest."""

    def __init__(self, session: Session, view: View) -> None:
        super().__init__()
        self.session, self.view = session, view

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Progress)


class SessionReady(Message):
    def __init__(
        self, session: Session | None, generation: int, error: str = "", view: View | None = None
    ) -> None:
        super().__init__()
        self.session, self.generation, self.error, self.view = session, generation, error, view


# Actions that need the network; pressed while it is being built, they wait for it.
NEEDS_SESSION = ("toggle_training", "step", "export", "gradient_check")


class ButtonBar(HorizontalGroup):
    """The action buttons in as few rows as the width allows, each button as wide as its label
    (a grid of equal cells took four rows for eight Chinese labels at 80 columns)."""

    def on_resize(self) -> None:
        self.arrange_buttons()

    def arrange_buttons(self) -> None:
        width = max(self.size.width, 1)
        x = y = 0
        for button in self.query(Button):
            size = cell_len(str(button.label)) + 2
            if x and x + size > width:
                x, y = 0, y + 1
            button.styles.width = min(size, width)
            button.styles.offset = (x, y)
            x += size  # a compact button's padding keeps the labels apart
        self.styles.height = y + 1


class PlaygroundApp(DrawingActions, App):
    TITLE = "nnplay"
    CSS_PATH = "app.tcss"
    AUTO_FOCUS = None  # keys go to the app until a field is clicked; escape gives them back
    BINDINGS = bindings()
    COMMANDS = App.COMMANDS | {ActionCommands}

    def __init__(
        self,
        experiment: Experiment,
        source: str,
        run: RunState | None = None,
        pack: Pack | None = None,
    ) -> None:
        """The app on `experiment`; with `run` (a run file's state, of that experiment), the
        saved run goes on where it stopped; with `pack` (whose exercise `source` it is), the
        pack's menu opens first and p opens it again."""
        super().__init__()
        self.pack = PackProgress(pack, source, experiment) if pack is not None else None
        self._run_to_open = run
        translate_bindings(self)
        self.experiment = experiment  # what was loaded: the form's starting point
        self.exercise = experiment  # the exercise as loaded, before a solution: its comparison's
        self.source = source
        self.file_stem = file_stem(source)  # what exported files are named after
        self.edited = experiment  # the form's current candidate
        self.form_valid = True
        self.session: Session | None = None
        self.generation = 0  # which _prepare the session must come from: older ones are stale
        self.queued: list[str] = []  # actions pressed while the network was being built
        self.hints_shown = 0
        self.map_size = (40, 20)
        self.pictures = TAB_PICTURES["charts-tab"]  # what the tab shown draws
        self._exercise_shows: tuple | None = None  # what the exercise box was built from
        self.description_shown = True  # the exercise's description; d folds it
        self.frame_cost = 0.0  # seconds to draw and paint one View
        self.keeper = RunKeeper()  # which training an export has kept
        self._told_scrub = False  # how scrubbing works is said once
        self.predictions = Predictions()  # the exercises' questions answered while it is open

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield BuildPanel(self.experiment, id="build")
            with Vertical(id="right"):
                yield Static("", id="exercise")
                with ButtonBar(id="controls"):
                    for action in buttons():
                        yield Button(_(action.label), id=action.id, compact=True)
                yield TrainView(id="train")
        yield KeyBar(compact=True)

    def get_default_screen(self) -> Steady:
        return Steady(id="_default")  # as Textual's own, but still while the app closes

    def get_system_commands(self, screen) -> Iterable[SystemCommand]:
        """Textual's own palette entries (theme, keys, screenshot...) in the learner's language."""
        for command in super().get_system_commands(screen):
            yield command._replace(title=_(command.title), help=_(command.help))

    def action_command_palette(self) -> None:
        """Textual's palette, with its prompt in the learner's language."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            prompt = _("Search for commands…")
            self.push_screen(CommandPalette(placeholder=prompt, id="--command-palette"))

    def notify(self, message: str, *, markup: bool = False, **options) -> None:
        """Notices carry paths, values and errors as they were typed or read: shown as text,
        never as markup (a path holding `[/x]` would otherwise end the app)."""
        super().notify(message, markup=markup, **options)

    def on_mount(self) -> None:
        if self.size.width < NARROW:  # the charts need the room; b brings the forms back
            self.query_one(BuildPanel).display = False
            self.notify(_("Narrow terminal: the build panel is hidden; press b to show it."))
        self.description_shown = self.size.height >= SHORT
        self._narrow, self._short = self.size.width < NARROW, self.size.height < SHORT
        self.sub_title = shown(self.source, 200)  # a file's name may hold terminal escapes
        self.query_one(TrainView).banner("")
        self._show_exercise()
        self.query_one("#toggle_training", Button).variant = "success"
        self._update_start_button()
        self.call_after_refresh(self._rebuild, self.experiment, _("loading PyTorch…"))
        if self.is_web and sys.__stdout__ is not None:  # served: the teacher's page lists it
            reporter = StatusReporter(sys.__stdout__.fileno())
            self.set_interval(REPORT_EVERY, lambda: reporter.report(self._tab_status()))
        if self.pack is not None:
            self.call_after_refresh(self.action_pick_preset)

    def on_resize(self, event: events.Resize) -> None:
        """Crossing into a narrow (short) terminal hides the build panel (folds the
        description); crossing back shows it again."""
        narrow, short = event.size.width < NARROW, event.size.height < SHORT
        if narrow != getattr(self, "_narrow", narrow):
            self.query_one(BuildPanel).display = not narrow
        if short != getattr(self, "_short", short):
            self.description_shown = not short
            self._show_exercise(self.query_one(TrainView).last_view)
        self._narrow, self._short = narrow, short

    # -- the session and its worker ---------------------------------------------------------------

    def _rebuild(self, experiment: Experiment, note: str) -> None:
        """Drop the current session and build one for `experiment`; keys wait for it."""
        if self.session is not None:
            self.session.close()
        self.session = None
        self.generation += 1
        self.query_one(TrainView).waiting(note, self._queued_labels())
        run, self._run_to_open = self._run_to_open, None  # only the first network is the file's
        self._prepare(experiment, self.generation, run, self.drawn_for(experiment))

    @work(thread=True, group="prepare")
    def _prepare(
        self,
        experiment: Experiment,
        generation: int,
        run: RunState | None = None,
        drawn: DrawnPoints | None = None,
    ) -> None:
        """Build a Trainer off the UI thread (the first one imports torch)."""
        try:
            session = Session(experiment, run, drawn)
            session.map_size, session.pictures = self.map_size, self.pictures
            view = session.view()  # before the session's thread starts: this one owns it
        except ExperimentError as e:
            self.post_message(SessionReady(None, generation, str(e)))
        except Exception as e:  # never a traceback on screen; the form stays as it is
            message = _("could not build the network: {error}").format(error=e)
            self.post_message(SessionReady(None, generation, message))
        else:
            session.on_view = lambda view: self.post_message(Progress(session, view))
            session.on_error = partial(self.call_from_thread, self._training_error)
            fastest = FASTEST_WEB_FRAME if self.is_web else FASTEST_FRAME
            session.frame_interval = lambda: max(fastest, self.frame_cost / UI_SHARE)
            session.start()
            self.post_message(SessionReady(session, generation, view=view))

    def _training_error(self, error: str) -> None:
        self.notify(_("training stopped: {error}").format(error=error), severity="error")

    async def on_session_ready(self, message: SessionReady) -> None:
        if message.generation != self.generation or not self.is_running:
            return  # a newer preset, reset or solution is being built; or the app is closing
        if message.session is None or message.view is None:
            self.queued.clear()
            self.query_one(TrainView).waiting(_("the network could not be built"), [])
            self.notify(message.error, severity="error", timeout=8)
            return
        self.session = message.session
        if self.session.trainer.steps and Path(self.source).suffix == RUN_SUFFIX:
            self.keeper.saved(self.session)  # the run file holds it
        self.query_one(TrainView).label_ghosts(self.session.experiment)
        self.show_pen()
        self._draw(message.view)
        shown = (self.map_size, self.pictures)
        if (self.session.map_size, self.session.pictures) != shown:  # changed while built
            self.session.map_size, self.session.pictures = shown
            self.session.request_view()
        self._update_start_button()
        queued, self.queued = self.queued, []
        for action in queued:
            await self.run_action(action)

    def _queued_labels(self) -> list[str]:
        return [_(BY_ID[action].label) for action in self.queued]

    def _session_or_wait(self, action: str) -> Session | None:
        """The session; None when there is no network yet: `action` then runs as soon as there
        is one."""
        if self.session is not None:
            return self.session
        if len(self.queued) < MOST_QUEUED:  # in order, as pressed: space twice starts and pauses
            self.queued.append(action)
        self.query_one(TrainView).waiting(None, self._queued_labels())
        return None

    def on_progress(self, message: Progress) -> None:
        if message.session is not self.session:
            return  # the last frame of a run already replaced (a preset, a reset)
        if not self.is_running:
            return  # the app is closing: its widgets are being removed
        started = time.perf_counter()
        self._update_start_button()
        self._draw(message.view)
        self.call_after_refresh(self._measure_frame, started)

    def _measure_frame(self, started: float) -> None:
        """How long a frame takes to draw and paint (a moving average)."""
        self.frame_cost = 0.7 * self.frame_cost + 0.3 * (time.perf_counter() - started)

    def _prediction(self) -> str | None:
        """The learner's answer to the exercise's question, for a teacher; None: none given."""
        given = self.predictions.given_to(self.exercise.predict)
        return None if given is None else given.summary()

    def _tab_status(self) -> TabStatus:
        """What `nnplay serve`'s teacher's page shows of this tab: the run now, even when an
        earlier epoch is viewed."""
        view = self.query_one(TrainView).last_view
        title = self.experiment.meta.localized().title or self.file_stem
        if view is None:  # the network is being built
            return TabStatus(title, Status.READY.value, 0, None, None, None)
        history = view.viewing.later if view.viewing else view.snapshot.history
        metric, best = best_validation(history.val_accuracy, history.val_loss)
        return TabStatus(
            exercise=title,
            status=view.status.value,
            epoch=view.viewing.now if view.viewing else view.snapshot.epoch,
            metric=metric,
            best=best,
            goal_met=None if view.goal is None else view.goal.met,
            prediction=self._prediction(),
        )

    def _draw(self, view: View) -> None:
        if self.pack is not None and view.goal is not None and view.goal.met:
            self.pack.goal_met(self.exercise, with_solution=self.experiment is not self.exercise)
        self.query_one(TrainView).draw(view)
        self._show_exercise(view)
        self._show_outcome(view)
        if view.status.ended and self.session is not None:
            self._reveal(view, self.session)

    def _reveal(self, view: View, session: Session) -> None:
        """The run has ended: the answer to the question asked before it, once."""
        prediction = self.predictions.reveal(self.exercise.predict)
        if prediction is not None:
            self.push_screen(RevealDialog(prediction, view, self.exercise, session.experiment))
            self._show_exercise(view)

    # -- the exercise box and banners -------------------------------------------------------------

    def _show_exercise(self, view: View | None = None) -> None:
        result = view.goal if view is not None and self.experiment.goal.enabled else None
        goal_state = None
        if result is not None and result.value is not None:
            # The value as shown: a change past its 4th digit needs no new box (it relayouts).
            value = f"{result.value:.4g}"
            if view is not None and self._past_budget(view):  # judged at the budget's end
                value = _("(epoch {epoch}: {value})").format(value=value, epoch=result.epoch)
            else:
                value = _("(now {value})").format(value=value)
            goal_state = (result.met, value)
        predicted = prediction_line(self.predictions, self.exercise.predict)
        shows = (
            self.experiment,
            self.source,
            self.description_shown,
            self.hints_shown,
            goal_state,
            predicted,
        )
        if shows == self._exercise_shows:  # called every frame: the box is built only on change
            return
        self._exercise_shows = shows
        text = self._exercise_text(goal_state)
        if predicted is not None:  # the learner's answer stays in sight
            text += Content("\n") + predicted
        self.query_one("#exercise", Static).update(Prose(text))

    def _exercise_text(self, goal_state: tuple[bool, str] | None) -> Content:
        meta, goal = self.experiment.meta.localized(), self.experiment.goal
        # The exercise's texts come from a file: they enter as template variables, never markup.
        title = Content.from_markup("[b]$title[/b]", title=meta.title or shown(self.source, 200))
        lines = [title]
        description = " ".join(meta.description.split())
        if description and self.description_shown:
            folds = _("(d folds this)")
            lines.append(
                Content.from_markup("$text [dim]$folds[/dim]", text=description, folds=folds)
            )
        elif description:
            lines[0] += Content.styled("  " + _("(d: the description)"), "dim")
        if goal.enabled:
            state: Content | str = ""
            if goal_state is not None:
                met, value = goal_state
                state = Content.styled("  " + _("✔ met"), "green") if met else "  " + value
            lines.append(Content(_("goal: {goal}").format(goal=goal.describe())) + state)
        hint = _("hint {number}:")
        for i, h in enumerate(meta.hints[: self.hints_shown]):
            number = hint.format(number=i + 1)
            lines.append(
                Content.from_markup("[yellow]$number[/yellow] $hint", number=number, hint=h)
            )
        if self.hints_shown < len(meta.hints):
            left = len(meta.hints) - self.hints_shown
            more = ngettext("{count} more hint (h)", "{count} more hints (h)", left)
            lines.append(Content.styled(more.format(count=left), "dim"))
        return Content("\n").join(lines)

    def _past_budget(self, view: View) -> bool:
        """The run went on after the goal's last epoch: the goal judged that epoch's model,
        not the one the status line shows."""
        goal = view.goal
        return (
            goal is not None
            and goal.epoch == self.experiment.goal.epochs
            and view.snapshot.epoch > goal.epoch
        )

    def _show_outcome(self, view: View) -> None:
        s, train, goal = view.snapshot, self.query_one(TrainView), view.goal
        if view.status == Status.DIVERGED:
            train.banner(_("✖ Diverged: {message}").format(message=s.message), "error")
        elif (
            goal is not None
            and goal.value is not None
            and view.status in (Status.FINISHED, Status.EARLY_STOPPED)
        ):
            # the verdict names the value and epoch it was judged on, as the CLI's summary does
            words = {"goal": goal.description, "value": f"{goal.value:.4g}", "epoch": goal.epoch}
            if goal.met:
                text, kind = _("✔ Goal met: {goal} (value {value}, epoch {epoch})."), "success"
            else:
                text = _("Goal not met yet: {goal} (value {value}, epoch {epoch}). Try a hint (h).")
                kind = "warning"
            text = text.format(**words)
            if self._past_budget(view):
                went_on = _(
                    "The run went on after epoch {epoch}: the status below shows the network now."
                )
                text += " " + went_on.format(epoch=goal.epoch)
            train.banner(text, kind)
        elif view.status == Status.EARLY_STOPPED:
            train.banner(s.message, "warning")
        else:
            self._show_pending()

    def _show_pending(self) -> None:
        train = self.query_one(TrainView)
        if (
            self.session is not None
            and self.form_valid
            and needs_reset(self.session.experiment, self.edited)
        ):
            train.banner(
                _("Changes to the network, data or training take effect on reset (r)."), "warning"
            )
        elif not self.form_valid:
            train.banner(_("Fix the fields marked in red to train."), "error")
        else:
            train.banner("")

    def _update_start_button(self) -> None:
        running = self.session is not None and self.session.running
        button = self.query_one("#toggle_training", Button)
        label = _("⏸ Pause") if running else _("▶ Start")
        if str(button.label) != label:
            button.label = label
            self.query_one(ButtonBar).arrange_buttons()
        button.disabled = not running and not self.form_valid

    # -- form edits -------------------------------------------------------------------------------

    @on(BuildPanel.Edited)
    def _edited(self, message: BuildPanel.Edited) -> None:
        self.edited, self.form_valid = message.experiment, not message.errors
        if not self.is_running:
            return  # a form's last edit may arrive while the app closes
        self._update_start_button()
        if self.session is not None and self.form_valid:
            for path in LIVE_SETTINGS:
                value = value_of(self.edited, path)
                if value_of(self.session.experiment, path) != value:
                    self.session.send(path, value)
        self._show_pending()

    # -- actions ----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """The playground's keys act only when the playground is in front (each screen owns its
        keys); `escape` gives the keys back only when a field has them."""
        spec = BY_ID.get(action)
        if spec is None or not spec.main_only:
            return True
        in_front = [s for s in self.screen_stack if not isinstance(s, CommandPalette)][-1]
        if in_front is not self.screen_stack[0]:
            return False
        if action == "unfocus":
            return self.focused is not None
        return True

    def _over(self, session: Session) -> str:
        if session.status == Status.DIVERGED:
            return _("This run diverged: lower the learning rate and reset (r).")
        return _("This run is over: reset (r) to train again, or raise the epochs.")

    def action_toggle_training(self) -> None:
        session = self._session_or_wait("toggle_training")
        if session is None:
            return
        if session.running:
            session.pause()
        elif session.viewing is not None and self.form_valid:
            self._fork(session)
        elif not self.form_valid:
            self.notify(_("Fix the fields marked in red first."), severity="error")
        elif session.trainer.steps == 0 and needs_reset(session.experiment, self.edited):
            self._rebuild(self.edited, _("building the network…"))  # nothing trained: use the form
            self._session_or_wait("toggle_training")
        elif not session.can_step:
            self.notify(self._over(session))
        elif not self._too_few_points(session):
            self._play(session)
        self._update_start_button()

    def _play(self, session: Session) -> None:
        """Train; before an exercise's first run, its question comes first (not asked yet
        while the app is open), and the run starts as soon as it is answered or skipped. A run
        already under way (stepped with n, or continued from a run file) asks nothing."""
        question = self.predictions.to_ask(self.exercise.predict)
        if question is None or session.trainer.steps:
            session.play()
            return

        def answered(choice: int | None) -> None:
            self.predictions.answer(question, choice)
            self._show_exercise(self.query_one(TrainView).last_view)
            if session is self.session and session.can_step and not session.running:
                session.play()
            self._update_start_button()

        self.push_screen(PredictDialog(question), answered)

    @work(group="fork")
    async def _fork(self, session: Session) -> None:
        """Space over an earlier epoch: the run goes on from there, with the live settings as
        they are now; the future it leaves stays on the charts, faded."""
        epoch = session.viewing
        experiment, history = await asyncio.wrap_future(session.fork())
        if session is not self.session:
            return
        title = _("before the fork at epoch {epoch}").format(epoch=epoch)
        self.query_one(TrainView).keep_ghost(experiment, history, title)
        if needs_reset(session.experiment, self.edited):
            self.notify(
                _(
                    "Forked from epoch {epoch} with the live settings. The other changes in the "
                    "form (network, data, training) cannot fork: they take effect on reset (r)."
                ).format(epoch=epoch),
                timeout=8,
            )
        if session.can_step:
            session.play()
        else:
            self.notify(self._over(session))
        self._update_start_button()

    def _scrub(self, move: str) -> None:
        session = self._session_or_wait(f"scrub_{move}")
        if session is None:
            return
        if session.running:
            session.pause()
        session.scrub(move)
        if not self._told_scrub:
            self._told_scrub = True
            self.notify(
                _(
                    "Viewing an earlier epoch: , and . step through the epochs, Home goes to the "
                    "start, End back to now. Space goes on from the epoch shown (a fork); e "
                    "exports its weights."
                ),
                timeout=10,
            )

    def action_scrub_back(self) -> None:
        self._scrub("back")

    def action_scrub_forward(self) -> None:
        self._scrub("forward")

    def action_scrub_first(self) -> None:
        self._scrub("first")

    def action_scrub_last(self) -> None:
        self._scrub("last")

    def _too_few_points(self, session: Session) -> bool:
        """A blank task without enough drawn points says what to draw instead of training."""
        missing = self.drawing.missing(session.experiment)
        if missing is not None:
            self.notify(missing, severity="warning")
        return missing is not None

    def action_step(self) -> None:
        session = self._session_or_wait("step")
        if session is None or session.running:
            return
        if not session.can_step:
            self.notify(self._over(session))
            return
        if not self._too_few_points(session):
            session.step_once()

    async def _pause(self) -> None:
        """Training paused, and every command sent before done: the run holds still."""
        if self.session is not None:
            session = self.session
            await asyncio.wrap_future(
                session.pause() if session.running else session.call(_nothing)
            )
        self._update_start_button()

    async def action_reset(self) -> None:
        await self._pause()
        if not self.form_valid:
            self.notify(_("Fix the fields marked in red first."), severity="error")
            return
        await self._ask_first(
            _("Reset: new weights from the form."), self._reset, keeps_points=True
        )

    async def _reset(self) -> None:
        self._keep_ghost()
        self._rebuild(self.edited, _("building the network…"))

    async def action_regenerate(self) -> None:
        """A new data seed (TF Playground's Regenerate): new points and new weights, after
        asking over training that is not exported, as a reset does (drawn points stay)."""
        await self._pause()
        if not self.form_valid:
            self.notify(_("Fix the fields marked in red first."), severity="error")
            return
        if is_locked(self.edited, "task.seed"):  # a teacher's exercise keeps its data
            self.notify(_("The exercise locks its data: ⟳ Data cannot draw new points."))
            return
        seed = (self.edited.task.seed + 1) % (int(field_rule("task.seed")[0].high) + 1)
        try:
            regenerated = with_overrides(self.edited, {"task.seed": seed})
        except ExperimentError as e:  # a CSV file changed or went away since it was read
            self.notify(str(e), severity="error", timeout=8)
            return

        async def regenerate() -> None:
            self.query_one(BuildPanel).set_value("task.seed", seed)
            self.edited = regenerated
            self._keep_ghost()
            self._rebuild(regenerated, _("new data (data seed {seed})…").format(seed=seed))

        doing = _("Regenerate: new data (data seed {seed}) and new weights.").format(seed=seed)
        await self._ask_first(doing, regenerate, keeps_points=True)  # the app holds them

    def action_toggle_validation(self) -> None:
        maps = list(self.query(DecisionMap))
        shown = not maps[0].validation_shown
        for decision_map in maps:
            decision_map.show_validation(shown)
        words = _("Validation points shown.") if shown else _("Validation points hidden (v).")
        self.notify(words)

    async def _ask_first(
        self, doing: str, then: Callable[[], Awaitable[None]], keeps_points: bool = False
    ) -> None:
        """Run `then`, after asking when it would lose training that is not exported or saved,
        or points drawn on the map and not saved (unless it `keeps_points`); the run pauses
        while the question is open; no keeps it."""
        await self._pause()
        losses = []
        if self.session is not None and self.keeper.unsaved(self.session):
            losses.append(lost_training(self.session))
        if not keeps_points and self.drawing.unsaved:
            losses.append(self.drawing.lost())
        if not losses:
            await then()
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                await then()

        self.push_screen(Confirm(losing_question(doing, losses)), answered)

    def _keep_ghost(self) -> None:
        """The run a reset replaces stays on the charts, faded (when it trained an epoch)."""
        if self.session is not None and self.session.trainer.history.epoch:
            self.query_one(TrainView).keep_ghost(
                self.session.started_with, self.session.trainer.history.copy()
            )

    def action_clear_ghosts(self) -> None:
        if not self.query_one(TrainView).clear_ghosts():
            self.notify(_("No earlier runs on the charts: a reset (r) keeps the last ones."))

    def action_pick_preset(self) -> None:
        """The presets, or in a lesson pack the pack's menu."""
        if self.pack is not None:
            self.push_screen(PackMenu(self.pack), partial(self._load_named, self.pack.open))
        else:
            self.push_screen(PresetPicker(all_presets()), partial(self._load_named, load_preset))

    async def _load_named(self, open_named: Callable[[str], Experiment], name: str | None) -> None:
        """Load the exercise `open_named(name)` (a preset, a pack's entry), asking first when
        that would lose training."""
        if name is None:
            return

        async def load() -> None:
            try:
                experiment = open_named(name)
            except ExperimentError as e:  # a pack's exercise whose data file went bad
                self.notify(str(e), severity="error", timeout=8)
                return
            await self.load(experiment, name)

        await self._ask_first(_("Load the exercise {name}.").format(name=name), load)

    def action_open(self) -> None:
        prompt = OpenPrompt()

        async def opened(path: str | None) -> None:
            if path is None or prompt.opened is None:
                return
            experiment = prompt.opened

            async def load() -> None:
                await self.load(experiment, path)

            await self._ask_first(_("Open {path}.").format(path=shown(path, 200)), load)

        self.push_screen(prompt, opened)

    async def load(
        self, experiment: Experiment, source: str, keep_ghost: bool = False, stem: str = ""
    ) -> None:
        """Stop the current run, show a new experiment in the form and build its session;
        the charts keep the current run faded only when `keep_ghost` (a solution). `stem`
        names the files it exports (the source's file name without its suffix by default)."""
        await self._pause()
        if keep_ghost:
            self._keep_ghost()
        else:  # another exercise: the charts and the map start afresh (the learner was asked)
            self.query_one(TrainView).clear_ghosts()
            self.drawing = Drawing()
        self.experiment, self.edited, self.form_valid = experiment, experiment, True
        self.exercise = experiment
        self.source, self.sub_title = source, shown(source, 200)
        self.file_stem = stem or file_stem(source)
        self.hints_shown = 0
        self._show_exercise()
        self._rebuild(experiment, _("building the network…"))
        await self.query_one(BuildPanel).load(experiment)

    def action_hint(self) -> None:
        hints = self.experiment.meta.hints
        if self.hints_shown >= len(hints):
            self.notify(_("No more hints.") if hints else _("This setup has no hints."))
            return
        self.hints_shown += 1
        self._show_exercise(self.query_one(TrainView).last_view)  # keeps the goal's state
        self.call_after_refresh(self._fit_hint)

    def _fit_hint(self) -> None:
        """A long description can push the hint just revealed below the box's fold (it holds
        at most 45% of the height): fold the description, which d brings back."""
        box = self.query_one("#exercise", Static)
        inner = box.content_size
        needed = box.get_content_height(inner, self.size, inner.width)
        if self.description_shown and needed > inner.height:
            self.description_shown = False
            self._show_exercise(self.query_one(TrainView).last_view)
            self.notify(_("The description is folded so the hint fits: d shows it again."))

    def action_solution(self) -> None:
        if not self.experiment.solution:
            self.notify(_("This exercise meets its goal as shipped: there is no fix to show."))
            return
        changes = describe_changes(self.experiment.solution)
        question = _(
            "Apply the solution?\n\n{changes}\n\nThe form changes and the network is reset."
        ).format(changes=changes)
        if self.session is not None and self.keeper.unsaved(self.session):
            question = discard_question(question, self.session)
        self.push_screen(Confirm(question), self._apply_solution)

    async def _apply_solution(self, yes: bool | None) -> None:
        if yes:
            exercise = self.exercise  # a solution is a step inside the same exercise
            await self.load(
                with_solution(self.experiment),
                _("{source} (solution)").format(source=self.source),
                keep_ghost=True,
                stem=f"{self.file_stem}-solution",
            )
            self.exercise = exercise

    def _default_name(self, suffix: str) -> str:
        return self.file_stem + suffix

    def action_export(self) -> None:
        session = self._session_or_wait("export")
        if session is None:
            return
        if session.trainer.steps:
            prompt = _(
                "Export the trained weights to a file: .pt, .safetensors, "
                ".onnx, .npz, or .py for a PyTorch script."
            )
        else:
            prompt = _(
                "Nothing is trained yet: export the initial (random) weights to a file: .pt, "
                ".safetensors, .onnx, .npz, or .py for a PyTorch script."
            )
        self.push_screen(PathPrompt(prompt, self._default_name(".pt"), act=self._export))

    async def _export(self, path: str) -> str | None:
        """Export to `path`: None when written, else why not (the prompt stays open)."""
        if self.session is None:
            return None
        await self._pause()
        try:
            written, epoch = await asyncio.wrap_future(self.session.export(path))
        except Exception as e:  # the trained model must outlive any failed write
            return file_error(EXPORT, path, e)
        files = ", ".join(shown(p, 300) for p in written)
        if epoch is None:
            self.keeper.exported(self.session, path)
            self.notify(_("Exported {files}").format(files=files))
        else:  # the run now is not kept by it
            self.notify(
                _("Exported the weights of epoch {epoch}: {files}").format(epoch=epoch, files=files)
            )
        return None

    def action_save_preset(self) -> None:
        if not self.form_valid:
            self.notify(_("Fix the fields marked in red before saving."), severity="error")
            return
        self.push_screen(
            PathPrompt(
                _("Save this setup as a preset TOML file."),
                self._default_name("-mine.toml"),
                act=self._save,
            )
        )

    async def _save(self, path: str) -> str | None:
        """Save the form's setup to `path`, with the run's [result] when a replay of the
        setup gives it (nnplay verify): None when written, else why not."""
        session = self.session
        trained = session is not None and session.trainer.steps > 0
        why_not = session.why_no_result(self.edited) if session is not None and trained else None
        try:
            if session is not None and trained and why_not is None:
                result = await asyncio.wrap_future(session.result(self._prediction()))
                save_with_result(self.edited, result, path)
            else:
                save(self.edited, path)
        except Exception as e:  # the setup stays in the form: the learner can try elsewhere
            return file_error(SAVE, path, e)
        if not trained:
            message = _("Saved {path}; open it with: nnplay {path}")
        elif why_not is None:
            message = _("Saved {path} with the run's result; check it with: nnplay verify {path}")
        else:
            message = _("Saved the setup to {path}, without a result: {reason}")
        self.notify(message.format(path=shown(path, 300), reason=why_not))
        return None

    def resize_map(self, cols: int, rows: int) -> None:
        """The grid size the shown map has room for; redrawn at once when not training."""
        if (cols, rows) == self.map_size:
            return
        self.map_size = (cols, rows)
        if self.session is not None:
            self.session.map_size = self.map_size
            self.session.request_view()

    def show_pictures(self, pictures: frozenset[str]) -> None:
        """The tab shown draws these pictures: the session computes only them."""
        if pictures == self.pictures:
            return
        self.pictures = pictures
        if self.session is not None:
            self.session.pictures = pictures
            self.session.request_view()

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

    def action_show_network(self) -> None:
        self._show_tab("network")

    def action_previous_unit(self) -> None:
        self._select(-1)

    def action_next_unit(self) -> None:
        self._select(1)

    def _select(self, step: int) -> None:
        """[ and ]: a connection in the Network tab, a unit elsewhere."""
        if self.query_one("#pictures", TabbedContent).active == "network-tab":
            self.query_one(NetworkPicture).select(step)
        else:
            self.query_one(NeuronView).select(step)

    async def action_explain_update(self) -> None:
        """The next step of the selected connection explained, on the session's thread: the
        run pauses, and the explanation takes its step."""
        session = self._session_or_wait("explain_update")
        if session is None:
            return
        from nnplay.tui.lab_screens import ExplainScreen  # torch, as above

        await self._pause()
        weight = self.query_one(NetworkPicture).weight()
        try:
            explanation = await asyncio.wrap_future(session.explain(weight))
        except ExperimentError as e:  # batch norm, an ended run: as `nnplay explain` says it
            self.notify(str(e), severity="error", timeout=8)
            return
        finally:
            self._update_start_button()
        title = self.experiment.meta.localized().title or self.file_stem
        self.push_screen(ExplainScreen(title, explanation))

    def action_compare(self) -> None:
        from nnplay.tui.compare_view import CompareDialog, comparable

        if not self.form_valid:
            text = _("Fix the fields marked in red first: a comparison varies the form's setup.")
            self.notify(text, severity="error")
            return
        if not comparable(self.exercise) and not self.exercise.compare.overrides():
            self.notify(_("The exercise locks every field a comparison could vary."))
            return
        self.run_worker(_warm_pool, thread=True, group="warm")  # while the learner chooses
        self.push_screen(CompareDialog(self.exercise, self.edited, self.source), self._compare)

    def _compare(self, variants: list | None) -> None:
        from nnplay.tui.compare_view import CompareScreen

        if variants:
            self.push_screen(CompareScreen(variants, self.source))

    def action_toggle_description(self) -> None:
        self.description_shown = not self.description_shown
        self._show_exercise(self.query_one(TrainView).last_view)  # keeps the goal's state

    def action_toggle_build(self) -> None:
        panel = self.query_one(BuildPanel)
        panel.display = not panel.display

    def action_backprop(self) -> None:
        from nnplay.tui.lab_screens import BackpropScreen  # torch: never before the first frame

        self.push_screen(BackpropScreen())

    def action_optimizer_paths(self) -> None:
        from nnplay.tui.lab_screens import OptPathsScreen  # torch, as above

        self.push_screen(OptPathsScreen())

    async def action_gradient_check(self) -> None:
        session = self._session_or_wait("gradient_check")
        if session is None:
            return
        from nnplay.tui.lab_screens import GradCheckScreen  # torch, as above

        await self._pause()
        checked = await asyncio.wrap_future(session.call(GradCheckScreen.inputs))
        self.push_screen(GradCheckScreen(*checked))

    async def action_confusion_matrix(self) -> None:
        session = self._session_or_wait("confusion_matrix")
        if session is None:
            return
        from nnplay.lab.confusion import confusion  # torch, as above
        from nnplay.tui.lab_screens import ConfusionScreen

        await self._pause()  # the matrix is of the weights as they stand
        matrix = await asyncio.wrap_future(session.call(confusion))
        if matrix is None:
            text = _("The confusion matrix is for classification; this task is a regression.")
            self.notify(text, severity="error")
            return
        self.push_screen(ConfusionScreen(matrix))

    async def action_lr_range_test(self) -> None:
        session = self._session_or_wait("lr_range_test")
        if session is None:
            return
        if not self.form_valid:
            text = _("Fix the fields marked in red first: the test trains the form's setup.")
            self.notify(text, severity="error")
            return
        from nnplay.tui.lab_screens import RateRangeScreen  # torch, as above

        await self._pause()  # the test runs on the session's thread, between two steps
        self.push_screen(RateRangeScreen(self.edited, session.call))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_unfocus(self) -> None:
        self.set_focus(None)

    def on_unmount(self) -> None:
        """However the app ends (q, ctrl+q, a crash), the training thread ends with it."""
        if self.session is not None:
            self.session.close()

    async def action_quit(self) -> None:
        """q (and ctrl+q) over unsaved training asks first, like a preset load or a reset. A
        question already open is answered no first, so questions never stack."""
        if isinstance(self.screen, Confirm):
            self.screen.dismiss(False)
            await self._pause()
        await self._ask_first(_("Quit nnplay."), self._quit)

    async def _quit(self) -> None:
        from nnplay.tui.compare_view import CompareScreen

        for screen in self.screen_stack:
            if isinstance(screen, CompareScreen):
                screen.stop()
        self.exit()

    @on(Button.Pressed, "#controls Button")
    async def _button(self, event: Button.Pressed) -> None:
        await self.run_action(str(event.button.id))


def _nothing(trainer) -> None:
    """A command that does nothing: done once every command before it is."""


def _warm_pool() -> None:
    """Start the comparison's process server early; a failure shows when the run starts."""
    from nnplay.compare import start_early

    with contextlib.suppress(Exception):
        start_early()


# What could not be done to a file, each sentence whole so that a translation can reorder it.
EXPORT = (
    N_("Could not export to {path}: {reason}. Nothing was lost; try another path."),
    N_("Could not export: {error}"),
)
SAVE = (
    N_("Could not save to {path}: {reason}. Nothing was lost; try another path."),
    N_("Could not save: {error}"),
)


def file_error(messages: tuple[str, str], path: str, error: Exception) -> str:
    """One line on why a file could not be written, for a learner: `messages` are EXPORT or
    SAVE."""
    to_path, other = messages
    if isinstance(error, OSError):
        reason = error.strerror or str(error)
        return _(to_path).format(path=shown(path, 300), reason=reason)
    return _(other).format(error=error)  # the core's messages name the path


def file_stem(source: str) -> str:
    """The source's file name without its suffix, as the export and save prompts offer it: a
    text field draws what it holds, so a terminal escape in the name becomes "_"."""
    return printable(Path(source).stem)


def run_app(
    experiment: Experiment, source: str, run: RunState | None = None, pack: Pack | None = None
) -> int:
    """Run the app; non-zero when it stopped on an unexpected error (its traceback is shown)."""
    app = PlaygroundApp(experiment, source, run, pack)
    app.run()
    if app.return_code:
        print(
            _("nnplay stopped on an unexpected error (above). Please report it."), file=sys.stderr
        )
    return app.return_code or 0
