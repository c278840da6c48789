"""Compare: run variants of one Experiment (same data, same seed) side by side.

UI-free. `plan` turns a base Experiment and the values to vary into validated Variants (a bad
field or value fails here, before anything runs); `run` trains them in a process pool and
returns a Comparison; `submit` does the same without blocking, for an app that must stay
responsive. Each VariantResult holds its History's per-epoch curves (loss, accuracy, lr), so a
view can overlay them, and a diverging variant is just one result with status "diverged".

Workers are separate processes (one per core, spawn or forkserver: never fork a process that
may run threads), each with one torch thread; what comes back is plain data.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from nnplay import i18n
from nnplay.errors import ExperimentError
from nnplay.experiment import (
    Experiment,
    apply_override,
    check_variant,
    parse_value,
    reset_for_changed_choices,
)
from nnplay.history import GoalResult, History, goal_result
from nnplay.i18n import _
from nnplay.memory import check_fits, training_bytes
from nnplay.rules import Vary, vary_grid
from nnplay.status import Status
from nnplay.summary import RunSummary, summarize

STEP_POINTS = 400  # a variant's per-step loss comes back averaged down to this many points


# ---------------------------------------------------------------------------------------------
# Planning: which variants, validated before anything runs


@dataclass(frozen=True)
class Variant:
    overrides: dict[str, Any]  # field path (as written) -> typed value
    experiment: Experiment

    @property
    def label(self) -> str:
        """A short name for a legend or a table row, e.g. "training.optimizer=sgd"."""
        return ", ".join(f"{k}={format_value(v)}" for k, v in self.overrides.items())


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, str) and any(c in value for c in ",[]\"' "):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{value:g}" if isinstance(value, float) else str(value)


def split_values(text: str) -> list[str]:
    """V1,V2,... split on the commas outside brackets and quotes: `raw,["x1^2", "x2^2"]`."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, None
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts]


def parse_vary(text: str) -> tuple[str, list[Any]]:
    """`--vary KEY=V1,V2` -> (KEY, [typed values]); values read like `--set` values."""
    key, sep, values = text.partition("=")
    parts = split_values(values)
    if not sep or not key.strip() or not all(parts):
        message = _(
            "--vary {value}: expected section.field=value1,value2,..., "
            "e.g. training.optimizer=sgd,adam"
        )
        raise ExperimentError(message.format(value=text))
    return key.strip(), [parse_value(p) for p in parts]


def plan(
    base: Experiment, vary: Sequence[tuple[str, list[Any]]] | dict[str, list[Any]] = ()
) -> list[Variant]:
    """The variants to run, each a validated copy of `base` with its overrides.

    `vary` is [(field path, values)] or a dict of them (as `--vary` gives): every combination
    is a variant. Empty means the experiment's own comparison (its [compare] section). Raises
    ExperimentError naming the field for a bad key or value, or for a variant that does not
    validate, before anything runs.
    """
    items = list(vary.items() if isinstance(vary, dict) else vary)
    keys = [key for key, _values in items]
    if len(set(keys)) != len(keys):
        message = _("--vary {field}: given twice; list all its values in one --vary")
        raise ExperimentError(message.format(field=next(k for k in keys if keys.count(k) > 1)))
    grid = dict(items)
    problem = Vary().check(grid)
    if problem:
        raise ExperimentError(f"--vary: {problem}")
    all_overrides = vary_grid(grid) if grid else base.compare.overrides()
    if not all_overrides:
        raise ExperimentError(
            _(
                "compare: nothing to vary; give --vary section.field=v1,v2 "
                "(this experiment declares no comparison of its own)"
            )
        )
    variants = []
    for asked in all_overrides:
        overrides = {**asked, **reset_for_changed_choices(base, asked)}
        exp = base.copy()
        for path, value in overrides.items():
            apply_override(exp, path, value)
        check_variant(exp, overrides)
        variants.append(Variant(overrides, exp))
    check_comparison_fits(variants)
    return variants


def check_comparison_fits(variants: list[Variant]) -> None:
    """The variants that train at once (one per worker) must fit in memory together, the
    largest ones counted: each alone fitting is not enough."""
    at_once = default_workers(len(variants))
    needs = sorted((training_bytes(v.experiment) for v in variants), reverse=True)
    what = _("compare ({count} variants at once)").format(count=at_once)
    check_fits(sum(needs[:at_once]), what)


# ---------------------------------------------------------------------------------------------
# Results: plain data, cheap to send between processes


@dataclass
class VariantResult:
    overrides: dict[str, Any]
    label: str
    status: Status  # finished, early-stopped, diverged, or error (the variant crashed)
    message: str
    epochs: int
    train_loss: float | None
    val_loss: float | None
    train_accuracy: float | None
    val_accuracy: float | None
    goal: GoalResult | None
    seconds: float  # training time of this variant
    history: History = field(default_factory=History)  # per-epoch curves; step loss averaged
    weights_epoch: int = 0  # the epoch the numbers above are of (the weights kept)
    findings: list[dict] = field(default_factory=list)  # what went wrong, with its fix

    @property
    def summary(self) -> RunSummary:
        """The numbers as `nnplay train` summarizes a run: the same builder for both."""
        return RunSummary(
            self.status,
            self.epochs,
            self.weights_epoch,
            self.train_loss,
            self.val_loss,
            self.train_accuracy,
            self.val_accuracy,
            self.goal,
            self.findings,
        )

    def to_dict(self) -> dict:
        """The JSON shape `nnplay compare --json` prints for one variant."""
        return {
            "overrides": self.overrides,
            **self.summary.to_dict(),
            "seconds": round(self.seconds, 4),
        }


@dataclass
class Comparison:
    preset: str
    variants: list[VariantResult]
    seconds: float  # wall time of the whole comparison
    workers: int

    def to_dict(self) -> dict:
        return {
            "preset": self.preset,
            "variants": [v.to_dict() for v in self.variants],
            "seconds": round(self.seconds, 4),
        }


def run_variant(variant: Variant) -> VariantResult:
    """Train one variant to the end in this process (what each worker does)."""
    from nnplay.training import Trainer  # torch: only where variants train, not to plan them

    trainer = Trainer(variant.experiment)
    trainer.run()
    h = trainer.history.copy()
    h.step_loss = h.step_loss.coarsened(STEP_POINTS)
    s = summarize(trainer)
    return VariantResult(
        variant.overrides,
        variant.label,
        s.status,
        trainer.message,
        s.epochs,
        s.train_loss,
        s.val_loss,
        s.train_accuracy,
        s.val_accuracy,
        s.goal,
        trainer.seconds,
        h,
        s.weights_epoch,
        s.findings,
    )


def _failed(variant: Variant, status: Status, message: str) -> VariantResult:
    """A variant that crashed, lost its worker or was cancelled: reported, and the others go on."""
    goal = goal_result(variant.experiment.goal, History())
    return VariantResult(
        variant.overrides, variant.label, status, message, 0, None, None, None, None, goal, 0.0
    )


def outcome(future: Future, variant: Variant, cancelled: bool = False) -> VariantResult:
    """The variant's result, waiting for it; a crash becomes an "error" result, and a variant
    stopped by a cancel a "stopped" one."""
    if future.cancelled():
        return _failed(variant, Status.STOPPED, _("cancelled before it started"))
    error = future.exception()
    if error is None:
        return future.result()
    if cancelled:
        return _failed(variant, Status.STOPPED, _("stopped before it finished"))
    return _failed(variant, Status.ERROR, f"{error.__class__.__name__}: {error}")


# ---------------------------------------------------------------------------------------------
# Running: a process pool, blocking or not


def _worker_init(language: str) -> None:
    import torch  # in the worker: planning in the parent never needs torch

    i18n.set_language(language)  # a worker's notes are in the language of the one who asked
    torch.set_num_threads(1)  # one process per core: more threads would only fight
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it cancels the run


def default_workers(variants: int) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(variants, cores or 1))


def _context():
    """forkserver where there is one: it imports torch once, then each worker is a cheap fork
    of it (a spawned worker would spend seconds importing torch again)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["nnplay.compare", "nnplay.preload"])
    return context


@contextlib.contextmanager
def _stderr_with_a_file():
    """The resource tracker hands `sys.stderr.fileno()` to its process. Inside a Textual app
    sys.stderr may be a capture whose fileno() is -1 (headless, in a browser tab), and starting
    the tracker then fails with "bad value(s) in fds_to_keep": lend it the process's own stderr
    meanwhile."""
    try:
        usable = sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = False
    if usable or sys.__stderr__ is None:
        yield
        return
    captured, sys.stderr = sys.stderr, sys.__stderr__
    try:
        yield
    finally:
        sys.stderr = captured


def start_early() -> None:
    """Start the forkserver now (it imports torch, ~1.5 s), so the first comparison starts as
    fast as later ones; an app can call this in a background thread at launch. Idempotent.

    Ctrl+C reaches every process of the terminal's group, the server and its workers too: they
    start with SIGINT blocked (a blocked signal survives fork and exec), so only this process
    answers it, by stopping them; otherwise the server, interrupted while it imports torch,
    printed a traceback."""
    if _context().get_start_method() != "forkserver":
        return
    # only where there is a forkserver (not on Windows)
    from multiprocessing import forkserver, resource_tracker

    with _stderr_with_a_file():
        resource_tracker.ensure_running()  # first: starting it unblocks SIGINT again
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        forkserver.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


class ComparisonRun:
    """A comparison in a process pool: made at once, `start()`ed (which `submit` does).

    `on_result(result)` (optional) is called once per finished variant, on a background thread
    of the pool (a UI must hand it to its own thread). `done()` polls, `result()` waits for the
    Comparison, `cancel()` stops it from any thread, before, during or after `start()` (the
    variants not finished come back "stopped").
    """

    def __init__(
        self,
        variants: list[Variant],
        preset: str = "",
        workers: int | None = None,
        on_result: Callable[[VariantResult], None] | None = None,
    ):
        self.preset, self.variants = preset, list(variants)
        self.workers = workers or default_workers(len(self.variants))
        self.started = time.perf_counter()
        self._on_result = on_result
        self._lock = threading.Lock()  # cancel() may come from another thread while starting
        self._cancelled = False
        self._futures: list[Future] = []
        self._processes: list[multiprocessing.process.BaseProcess] = []

    def start(self) -> ComparisonRun:
        """Start the workers; returns once they run (the first start waits for the forkserver to
        import torch). A caller that may be interrupted should hold its signals meanwhile: a
        worker whose parent is gone before it has started prints a traceback."""
        start_early()
        self.started = time.perf_counter()
        executor = ProcessPoolExecutor(
            self.workers,
            mp_context=_context(),
            initializer=_worker_init,
            initargs=(i18n.language(),),
        )
        futures = [executor.submit(run_variant, variant) for variant in self.variants]
        if self._on_result is not None:
            for future, variant in zip(futures, self.variants, strict=True):
                future.add_done_callback(self._reporter(variant, self._on_result))
        with self._lock:
            self._futures = futures
            # Python < 3.14 has no public way to stop a running worker: keep the processes for
            # cancel() (shutdown forgets them).
            self._processes = list(executor._processes.values())
            cancelled = self._cancelled
        executor.shutdown(wait=False)  # the workers exit once the queue is empty
        if cancelled:
            self.cancel()
        return self

    def _reporter(
        self, variant: Variant, on_result: Callable[[VariantResult], None]
    ) -> Callable[[Future], None]:
        """A done-callback handing `variant`'s outcome to `on_result`."""
        return lambda future: on_result(outcome(future, variant, self._cancelled))

    def done(self) -> bool:
        return bool(self._futures) and all(f.done() for f in self._futures)

    def result(self) -> Comparison:
        """Wait for every variant; results come in the order the variants were planned."""
        results = [
            outcome(f, v, self._cancelled)
            for f, v in zip(self._futures, self.variants, strict=True)
        ]
        return Comparison(self.preset, results, time.perf_counter() - self.started, self.workers)

    def cancel(self) -> None:
        """Stop the workers; every variant not finished comes back "stopped".

        The futures are left to the pool's own thread: once its workers are gone it fails every
        unfinished one. Cancelling them here as well raced with it, and it raised
        InvalidStateError on a future already cancelled (a traceback on stderr)."""
        with self._lock:
            self._cancelled = True
            processes = list(self._processes)
        for process in processes:
            process.terminate()


def submit(
    variants: list[Variant],
    preset: str = "",
    workers: int | None = None,
    on_result: Callable[[VariantResult], None] | None = None,
) -> ComparisonRun:
    """Start the variants in a process pool and return once they run (see ComparisonRun)."""
    return ComparisonRun(variants, preset, workers, on_result).start()


def run(variants: list[Variant], preset: str = "", workers: int | None = None) -> Comparison:
    """Train every variant in a process pool and wait for them all."""
    return submit(variants, preset, workers).result()


def run_in_process(variants: list[Variant], preset: str = "") -> Comparison:
    """One after another in this process (the benchmark's baseline; also tests)."""
    started = time.perf_counter()
    results = [run_variant(v) for v in variants]
    return Comparison(preset, results, time.perf_counter() - started, 1)
