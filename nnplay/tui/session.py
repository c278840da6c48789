"""The training session behind the app: one Trainer, owned by one thread; commands in, Views out.

UI-free (no Textual). After `start()`, the session's own thread is the only one that touches
torch, the model and the Trainer: it steps, builds Views, exports, copies the model for a
gradient check. The UI queues commands (`play`, `pause`, `step_once`, `send`, `call`,
`request_view`) and receives Views through `on_view`; it reads only plain numbers (the status,
the step count). Without `start()`, the caller's thread is the owner (benchmarks, the CLI).
Torch is imported when the first Trainer is built, after the app has drawn its first frame.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nnplay.drawn import DrawnPoints
from nnplay.errors import ExperimentError
from nnplay.experiment import Experiment, to_dict, value_at
from nnplay.export import export
from nnplay.history import GoalResult, History, Snapshot
from nnplay.i18n import _
from nnplay.lab.boundary import (
    BoundaryGrid,
    Curve,
    MapPoints,
    decision_grid,
    grid_points,
    map_points,
    prediction_curve,
)
from nnplay.lab.neurons import (
    LayerWeights,
    UnitLayer,
    input_names,
    layer_weights,
    network_weights,
    unit_maps,
)
from nnplay.memory import check_fits, timeline_bytes, training_bytes
from nnplay.model import describe, linear_layers
from nnplay.results import result_of
from nnplay.status import Status
from nnplay.summary import RunSummary, final_test_fields, summarize
from nnplay.tasks import Baseline, expand_features, feature_names, majority_baseline

if TYPE_CHECKING:  # these import torch: not before the app's first frame
    from nnplay.run_state import RunState
    from nnplay.training import Trainer

MAP_POINTS = 150
FIT_POINTS = 200
UNIT_PIXELS = 10  # each unit's map is UNIT_PIXELS² points of the plane
# The costly parts of a View, computed only when the UI shows them: the decision map (or the
# regression curve) with its points, the fitted values, every unit's map, the weight lists, the
# weights the network picture draws.
PICTURES = frozenset({"map", "fit", "units", "weights", "network"})


@dataclass(frozen=True)
class LayerStats:
    name: str
    detail: str  # "5 → 8"
    activation: str  # what follows the layer, "" for none
    mean: float
    std: float
    low: float
    high: float
    grad_norm: float


@dataclass(frozen=True)
class View:
    """Everything the train view draws, computed in the worker thread."""

    snapshot: Snapshot
    layers: list[LayerStats]
    goal: GoalResult | None
    grid: BoundaryGrid | None = None  # 2-D tasks
    points: MapPoints | None = None  # data drawn on the map or under the curve
    curve: Curve | None = None  # one-input regression: the prediction over x
    units: list[UnitLayer] | None = None  # 2-D tasks: every unit's output over the plane
    weights: list[LayerWeights] = field(default_factory=list)  # layers small enough to list
    network: list[LayerWeights] = field(default_factory=list)  # between the units drawn
    input_names: list[str] = field(default_factory=list)  # x1, x2, x1², ...
    fit: tuple[np.ndarray, np.ndarray] | None = None  # regression: (targets, predictions)
    flags: list = field(default_factory=list)  # diagnostics: vanishing gradients, dead ReLUs…
    status: Status = Status.READY  # the trainer's, PAUSED when the worker is not on
    baseline: Baseline | None = None  # classification: always answering the majority class
    summary: RunSummary | None = None  # the numbers of the weights kept, as `nnplay train` says
    viewing: Viewing | None = None  # scrubbed back: everything above is of that epoch
    pictures: frozenset[str] = PICTURES  # which of the costly parts were computed
    test: dict | None = None  # the test set's numbers (summary.final_test_fields) once it is over


@dataclass(frozen=True)
class Viewing:
    """A View of an earlier epoch of the run: where it is, and what came after it."""

    epoch: int
    now: int  # the epoch the run itself is at
    later: History  # the whole run, drawn faded past `epoch`
    kept: int  # how many epochs' ends can be gone back to (fewer than now + 1: thinned)


# The owner sends a View at most this often while training (the app may ask for less).
FASTEST_FRAME = 1 / 15
# The states kept for scrubbing back: every epoch's while they fit, then evenly thinned.
TIMELINE_BUDGET = 64 * 1024 * 1024
# What a kept state costs beyond its tensors' data: the Experiment's copy, the dicts, each
# tensor's object and allocation. Measured on circle (benchmarks/bench_longrun.py): 27 KB of
# resident memory a state, of which 5.5 KB is tensor data; counted generously.
STATE_OVERHEAD = 24 * 1024


class Session:
    def __init__(
        self, experiment: Experiment, run: RunState | None = None, drawn: DrawnPoints | None = None
    ):
        """A new run of `experiment`, or the saved `run` (of that experiment) going on; the
        learner's `drawn` points join its training set."""
        from nnplay.training import Trainer  # imports torch: not before the app's first frame

        needed = training_bytes(experiment) + timeline_bytes(experiment, TIMELINE_BUDGET)
        check_fits(needed, _("this run with the epochs kept to go back to"))
        if run is None:
            self.trainer = Trainer(experiment, drawn)
        else:
            self.trainer = Trainer.from_state(run, drawn)
        self.started_with = experiment.copy()  # live settings change the trainer's copy
        # Trained straight from its start as its experiment says: a replay gives its result.
        # A saved run going on, a live setting changed mid-run or a branch is not.
        self.replayable = run is None
        self.drew = False  # trained on points drawn on the map, which the setup does not hold
        self.map_size = (40, 20)  # (cols, rows) of the decision map, set from the screen
        self.pictures = PICTURES  # the parts of a View the screen shows, set from the screen
        self.baseline = self._baseline()
        # What the owner thread calls with each View and with an error's words (set by the UI).
        self.on_view: Callable[[View], object] = lambda view: None
        self.on_error: Callable[[str], None] = lambda message: None
        self.frame_interval: Callable[[], float] = lambda: FASTEST_FRAME
        # The UI's wish (play/pause); the owner clears it when the run cannot go on.
        self.running = False
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._pending = 0  # commands queued and not yet done, the Views they post included
        self._pending_lock = threading.Lock()
        self._owner: threading.Thread | None = None
        # the run's state at the end of each epoch kept (History aside: the run's own, cut)
        self.timeline: dict[int, RunState] = {}
        self._stride = 1  # past the budget, only every stride-th epoch (and the latest) is kept
        self.viewing: int | None = None  # the epoch scrubbed back to; None: the run now
        self._past: Trainer | None = None  # loaded with the epoch viewed
        self._record()

    @property
    def experiment(self) -> Experiment:
        return self.trainer.exp

    # -- what the UI thread calls ------------------------------------------------------------------

    def start(self) -> None:
        """Hand the Trainer to the session's own thread; from now on only it touches torch."""
        self._owner = threading.Thread(target=self._serve, name="nnplay-session", daemon=True)
        self._owner.start()

    def close(self) -> None:
        """The owner thread ends after the command or step under way (the run stops)."""
        self.running = False
        self._put(None)

    def call(self, work: Callable) -> Future:
        """`work(trainer)` on the owner thread, between two steps; its result (or its error)
        comes in the Future."""
        future: Future = Future()
        self._put((work, future))
        return future

    def play(self) -> None:
        """Train until paused or the run ends; Views come through `on_view`."""
        self.running = True
        self._tell(lambda: None)  # wakes the owner

    def pause(self) -> Future:
        """Stop training: the Future is done, and a View of where it stopped sent, once the
        step under way has ended."""
        self.running = False
        return self.call(lambda trainer: self.on_view(self.view()))

    def step_once(self) -> None:
        """One step (when paused), then a View."""
        self._tell(self._step_and_show)

    def request_view(self) -> None:
        """A View of the run as it is (when training, the next frame is one)."""
        self._tell(lambda: None if self.running else self.on_view(self.view()))

    def scrub(self, move: str) -> None:
        """View an earlier (or later) epoch kept: `move` is back, forward, first or last (the
        run now); then a View."""
        self._tell(lambda: self._scrub(move))

    def fork(self) -> Future:
        """Go on from the epoch viewed, with the live settings as they are now. The Future
        holds the future left behind: (its experiment, its History)."""
        return self.call(lambda trainer: self._fork())

    def export(self, path: str) -> Future:
        """Export the weights shown (the epoch viewed, or the run now) to `path`; the Future
        holds (the files written, the epoch viewed or None)."""
        return self.call(lambda trainer: self._export(trainer, path))

    def _export(self, trainer: Trainer, path: str) -> tuple[list, int | None]:
        if Path(path).suffix == ".py" and len(trainer.drawn):
            raise ExperimentError(
                _(
                    "a .py script trains on the data its setup makes, which does not hold the "
                    "points you drew: save the data with D, open that CSV file, then export "
                    "its script"
                )
            )
        return export(self._shown().model, trainer.exp, path), self.viewing

    def set_drawn(self, drawn: DrawnPoints) -> None:
        """Train on the task's data and the learner's `drawn` points from the next step on
        (the training tensors are rebuilt between two steps); then a View when paused."""
        self._tell(lambda: self._set_drawn(drawn))

    def explain(self, weight: str | None) -> Future:
        """The next step of `weight` (named as `nnplay explain --weight` names it; None: the
        first layer's [0,0]) worked out by hand, then taken as a normal step: the Future holds
        the Explanation (nnplay.lab.explain) or the ExperimentError that refuses it (batch
        norm, an ended run); a View of the step follows."""

        def work(trainer: Trainer):
            from nnplay.lab.explain import explain_next_step, parse_weight  # torch

            name, index = parse_weight(weight, trainer.model)
            steps = trainer.steps
            try:
                return explain_next_step(trainer, name, index)
            finally:
                if trainer.steps != steps:  # the step was taken: kept and shown as any other
                    self.viewing = None
                    self._stepped()
                    self.on_view(self.view())

        return self.call(work)

    def send(self, path: str, value) -> None:
        """A live setting (one of LIVE_SETTINGS), applied between two steps."""
        self._tell(lambda: self._set_live(path, value))

    def why_no_result(self, setup: Experiment) -> str | None:
        """Why the run has no result a replay of `setup` gives (None when it has one)."""
        if not self.trainer.done:
            return _("the run has not ended")
        if self.drew:
            return _(
                "the run trained on points drawn on the map, which a setup does not hold "
                "(save them as a CSV file with D)"
            )
        if not self.replayable:
            return _(
                "the run changed while it trained (a live setting, a branch or a saved run "
                "going on), so no replay gives its result"
            )
        if to_dict(setup) != to_dict(self.trainer.exp):
            return _("the form's setup is not the run's")
        return None

    def result(self, prediction: str | None = None) -> Future:
        """The run's Result (nnplay.results) with the learner's `prediction`, computed on the
        owner thread."""
        return self.call(
            lambda trainer: result_of(summarize(trainer, findings=[]), trainer.exp.task, prediction)
        )

    @property
    def idle(self) -> bool:
        """Not training and no command waiting: every View asked for has been sent."""
        return not self.running and self._pending == 0

    @property
    def can_step(self) -> bool:
        """A finished, early-stopped or diverged run takes no more steps."""
        return not self.trainer.done

    @property
    def status(self) -> Status:
        """What the learner sees, and true: a run that can go on is running or paused."""
        status = self.trainer.status
        if status in (Status.RUNNING, Status.STOPPED):
            return Status.RUNNING if self.running else Status.PAUSED
        return status

    # -- the owner ----------------------------------------------------------------------------------

    def _tell(self, work: Callable[[], object]) -> None:
        """`work()` on the owner, with no one waiting for it: an error is shown, not lost."""

        def told(trainer) -> None:
            try:
                work()
            except Exception as e:  # a bug must not leave a traceback on the screen
                self.on_error(str(e))

        self.call(told)

    def _put(self, command) -> None:
        if self._owner is None:  # not started: the caller's thread owns the Trainer
            if command is not None:
                self._run(command)
            return
        self._count(1)
        self._commands.put(command)

    def _count(self, change: int) -> None:
        with self._pending_lock:
            self._pending += change

    def _run(self, command) -> None:
        work, future = command
        try:
            future.set_result(work(self.trainer))
        except Exception as e:
            future.set_exception(e)

    def _serve(self) -> None:
        """The owner's loop: every waiting command first, then (while running) one step."""
        next_frame = 0.0
        while True:
            try:
                command = self._commands.get(block=not self.running)
            except queue.Empty:  # running, nothing asked: train
                next_frame = self._train_step(next_frame)
                continue
            if command is not None:
                self._run(command)
            self._count(-1)
            if command is None:
                return

    def _train_step(self, next_frame: float) -> float:
        """One step; a View when a frame is due or the run has ended. Returns the next frame's
        time."""
        try:
            going = self.advance()
        except Exception as e:  # a bug must not leave a traceback on the screen
            self.on_error(str(e))
            going = False
        if not going:
            self._count(1)  # not idle until the last View is sent
            self.running = False
            self.on_view(self.view())
            self._count(-1)
            return 0.0
        if time.monotonic() >= next_frame:
            self.on_view(self.view())
            return time.monotonic() + self.frame_interval()
        return next_frame

    def _step_and_show(self) -> None:
        if not self.running:  # a step asked for while training is not one more
            self.advance()
            self.on_view(self.view())

    def advance(self) -> bool:
        """One step (owner only); False when the run cannot go on."""
        if not self.can_step:
            return False
        self.viewing = None
        if len(self.trainer.drawn):
            self.drew, self.replayable = True, False
        self.trainer.step()
        self._stepped()
        return self.can_step

    def _stepped(self) -> None:
        """After a step: the epoch it ended, if it ended one, is kept for scrubbing back."""
        if self.trainer.epoch not in self.timeline:
            self._record()

    # -- time travel (owner only) -------------------------------------------------------------------

    def _record(self) -> None:
        """Keep the state of the epoch just ended. Past the budget, the epochs kept are every
        `stride`-th (doubled as needed) and the latest: evenly spaced, however long the run."""
        t = self.trainer
        if t.status == Status.DIVERGED:  # its weights were set back: nothing new to keep
            return
        state = t.state(with_history=False)
        self.timeline = {e: s for e, s in self.timeline.items() if e % self._stride == 0}
        self.timeline[t.epoch] = state
        while len(self.timeline) > 2 and len(self.timeline) * state_bytes(state) > TIMELINE_BUDGET:
            self._stride *= 2
            self.timeline = {
                e: s for e, s in self.timeline.items() if e % self._stride == 0 or e == t.epoch
            }

    def _scrub(self, move: str) -> None:
        epochs, now = sorted(self.timeline), self.trainer.epoch
        at = self.viewing if self.viewing is not None else now + (0.5 if self._mid_epoch() else 0)
        target: int | None
        if move == "back":
            target = max((e for e in epochs if e < at), default=epochs[0])
        elif move == "forward":
            target = min((e for e in epochs if e > at), default=None)
        else:
            target = epochs[0] if move == "first" else None
        # the end of epoch `now` is the run now, unless steps were taken after it
        self.viewing = (
            None if target is None or (target == now and not self._mid_epoch()) else target
        )
        self.on_view(self.view())

    def _mid_epoch(self) -> bool:
        """Steps taken since the last epoch ended (paused within an epoch, or diverged)."""
        h = self.trainer.history
        return self.trainer.steps > (h.step[-1] if h.step else 0)

    def _shown(self) -> Trainer:
        """The Trainer whose pictures are shown: the run now, or one loaded with the epoch
        viewed."""
        from nnplay.training import Trainer

        if self.viewing is None:
            return self.trainer
        state = replace(
            self.timeline[self.viewing], history=self.trainer.history.upto(self.viewing)
        )
        if self._past is None:
            self._past = Trainer.from_state(state, self.trainer.drawn)
        else:
            self._past.load(state)
        return self._past

    def _set_live(self, path: str, value) -> None:
        if self.trainer.steps and value != value_at(self.trainer.exp, path):
            self.replayable = False
        self.trainer.set_live(path, value)

    def _baseline(self) -> Baseline | None:
        classification = self.trainer.shape.kind != "regression"
        return majority_baseline(self.trainer.y_val.numpy()) if classification else None

    def _set_drawn(self, drawn: DrawnPoints) -> None:
        self.trainer.set_drawn(drawn)
        self._past = None  # built with the points before
        self.baseline = self._baseline()  # a blank task validates on the drawn points
        if not self.running:
            self.on_view(self.view())

    def _fork(self) -> tuple[Experiment, History]:
        from nnplay.training import Trainer

        k = self.viewing
        if k is None:
            raise ValueError("nothing to fork: the run is at its latest epoch")
        self.replayable = False
        left = (self.trainer.exp.copy(), self.trainer.history.copy())
        state = replace(self.timeline[k], history=self.trainer.history.upto(k))
        self.trainer = Trainer.forked(state, self.trainer.exp, self.trainer.drawn)
        self.timeline = {e: s for e, s in self.timeline.items() if e <= k}
        self.viewing = None
        return left

    def view(self) -> View:
        from nnplay.lab.diagnostics import diagnose_trainer  # imports torch, as above

        t, wanted = self._shown(), self.pictures
        flags = diagnose_trainer(t) if t.steps else []
        snapshot = t.snapshot(most_points=120)
        names = input_names(t.shape.raw_inputs, t.shape.inputs, feature_names(t.exp.task))
        view = View(
            snapshot,
            self._layer_stats(t, snapshot.grad_norms),
            self.trainer.goal(),  # the run's verdict, whichever epoch is shown
            flags=flags,
            weights=layer_weights(t.model) if "weights" in wanted else [],
            network=network_weights(t.model) if "network" in wanted else [],
            input_names=names,
            status=self.status,
            baseline=self.baseline,
            summary=summarize(t, flags),
            pictures=wanted,
            # measured once the run is over, never during it, and not of an epoch viewed
            test=final_test_fields(t) if t.done and self.viewing is None else None,
        )
        if self.viewing is not None:
            later = self.trainer.history.copy()
            view = replace(
                view, viewing=Viewing(self.viewing, self.trainer.epoch, later, len(self.timeline))
            )
        if "map" in wanted:
            view = self._with_map(t, view)
        if "units" in wanted and t.shape.is_2d:
            plane = expand_features(grid_points(UNIT_PIXELS, UNIT_PIXELS), t.exp.task.features)
            view = replace(view, units=unit_maps(t.model, plane, UNIT_PIXELS, UNIT_PIXELS))
        if "fit" in wanted and t.shape.kind == "regression":
            count = min(FIT_POINTS, len(t.X_val))
            predictions = t.predict(t.raw_inputs(validation=True)[:count])[:, 0]
            targets = t.y_val[:count].numpy().reshape(-1)
            view = replace(view, fit=(targets, predictions))
        return view

    def _with_map(self, t: Trainer, view: View) -> View:
        """The decision map (2-D), or the prediction curve (one input), with the data's points."""
        cols, rows = self.map_size
        one_input_regression = t.shape.raw_inputs == 1 and t.shape.kind == "regression"
        if not (t.shape.is_2d or one_input_regression):
            return view
        points = map_points(t, MAP_POINTS)
        if t.shape.is_2d:
            return replace(view, grid=decision_grid(t, cols, rows), points=points)
        xs = points.xy[:, 0]
        curve = prediction_curve(t, cols, float(xs.min()), float(xs.max()))
        return replace(view, points=points, curve=curve)

    def _layer_stats(self, t: Trainer, grads: dict[str, float]) -> list[LayerStats]:
        rows = {row.name: row for row in describe(t.exp)}
        following = _activations_after(rows)
        stats = []
        for name, module in linear_layers(t.model):
            w = module.weight.detach()
            stats.append(
                LayerStats(
                    name,
                    rows[name].detail,
                    following.get(name, ""),
                    w.mean().item(),
                    w.std().item() if w.numel() > 1 else 0.0,
                    w.min().item(),
                    w.max().item(),
                    grads.get(name, 0.0),
                )
            )
        return stats


def state_bytes(state: RunState) -> int:
    """What one kept state costs in memory: its tensors' data (weights, optimizer state,
    random streams) and STATE_OVERHEAD for the rest."""
    tensors = [*state.model.values(), state.shuffle_rng]
    tensors += [v for slot in state.optimizer["state"].values() for v in slot.values()]
    data = sum(t.numel() * t.element_size() for t in tensors if hasattr(t, "numel"))
    return data + STATE_OVERHEAD


def _activations_after(rows: dict) -> dict[str, str]:
    """For each linear layer, the batch norm / activation / dropout that follow it."""
    result: dict[str, str] = {}
    current = ""
    for name, row in rows.items():
        if row.kind == "linear":
            current = name
        else:
            result[current] = (result.get(current, "") + " " + row.detail).strip()
    return result
