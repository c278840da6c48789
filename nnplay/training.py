"""The Trainer: runs an Experiment on torch, one mini-batch at a time.

It owns data, model, optimizer, schedule, regularization and early stopping; records History;
and always ends in a clear state: finished, early_stopped, diverged (the weights with the lowest
validation loss seen restored, which may be the initial ones) or stopped. Drivers (CLI, TUI
worker, tests) call `step()` / `run_epoch()` / `run()` and read `history` or `snapshot()`; live
edits (`set_lr`, `set_l1`, `set_l2`) apply between steps.

Speed (docs/architecture.md): tensors preloaded, one `index_select` shuffle per epoch, slices as
views, no DataLoader, fused Adam, one torch thread, gradients cleared by hand (optimizer.zero_grad
wraps a profiler record_function: ~9% of a tiny net's step).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np
import torch

from nnplay.drawn import DrawnPoints
from nnplay.errors import ExperimentError
from nnplay.experiment import LIVE_SETTINGS, Experiment, check, value_at
from nnplay.history import History, Snapshot, goal_result
from nnplay.i18n import N_, _
from nnplay.memory import check_training_fits
from nnplay.model import (
    Predictor,
    build_model,
    has_dropout,
    linear_layers,
    output_head,
    predicted_classes,
    torch_run,
    weight_grad_norms,
)
from nnplay.registry import LOSSES, OPTIMIZERS, REGRESSION, SCHEDULES
from nnplay.run_state import Checkpoint, RunState
from nnplay.status import Status
from nnplay.tasks import (
    is_blank,
    make_datasets,
    network_inputs,
    raw_datasets,
    task_shape,
    test_set,
    train_samples,
)

# No suggested value: finding the rate that converges is the lr-too-high exercise.
DIVERGED_ADVICE = N_(
    "the loss became {value}: the weights blew up. {cause}, or add batch norm; {kept}."
)

# A batch norm's running statistics overflowed while the loss stayed finite.
OVERFLOW_ADVICE = N_(
    "{name} overflowed to inf: the activations before it grew past what float32 holds. Lower "
    "the init scale or the learning rate; {kept}."
)


def kept_weights_note(epoch: int, val_loss: float) -> str:
    """Which weights a diverged run keeps: the epoch with the lowest validation loss."""
    if epoch == 0:
        message = _(
            "the initial weights were kept (validation loss {loss}): no epoch improved on them"
        )
    else:
        message = _("the weights of epoch {epoch} were kept (the lowest validation loss, {loss})")
    return message.format(epoch=epoch, loss=f"{val_loss:.4g}")


def good_lr(checkpoint: Checkpoint) -> float:
    """The learning rate saved with a checkpoint's optimizer state."""
    return checkpoint.optimizer["param_groups"][0]["lr"]


class NextBatch(NamedTuple):
    x: torch.Tensor
    y: torch.Tensor
    dropout_rng: torch.Tensor | None
    number: int  # its place in the epoch, 1-based


def batch_starts(samples: int, exp: Experiment) -> list[int]:
    """Where each mini-batch of an epoch starts; the last may be smaller (as in a plain PyTorch
    loop)."""
    starts = list(range(0, samples, exp.training.batch_size))
    if (
        len(starts) > 1
        and samples - starts[-1] == 1
        and any(layer.batch_norm for layer in exp.model.hidden)
    ):
        starts.pop()  # batch norm cannot train on one sample: fold it into the batch before
    return starts


def steps_per_epoch(exp: Experiment) -> int:
    """Mini-batches an epoch has, from the experiment alone (no data made)."""
    return len(batch_starts(train_samples(exp.task), exp))


class Trainer:
    def __init__(self, exp: Experiment, drawn: DrawnPoints | None = None):
        """A run of `exp`; the learner's `drawn` points (a 2-D task's) join its training set."""
        check(exp)
        check_training_fits(exp)  # before any data or weights are allocated
        torch.set_num_threads(1)  # small nets lose nothing, and the UI keeps a core
        self.exp = exp
        t = exp.training
        self.shape = task_shape(exp.task)
        self.head = output_head(exp)
        self._own = make_datasets(exp.task)  # the task's own data, as the network sees it
        self._use_data(drawn or DrawnPoints())

        torch.manual_seed(t.seed)
        self.model = build_model(exp)
        self._predictor = Predictor(exp, torch_run(self.model))
        self.loss_fn = LOSSES[t.loss].build()
        self._weights = [m.weight for _name, m in linear_layers(self.model)]
        # One parameter group: the fused optimizer step costs per group (~9 us on tiny nets).
        self.optimizer = OPTIMIZERS[t.optimizer].build(self.model.parameters(), t)
        self._decay = OPTIMIZERS[t.optimizer].decay  # L2, applied after backward() in step()
        self._params = list(self.model.parameters())
        # Dropout draws from torch's global RNG: keep this run's own stream, so another Trainer
        # or model built meanwhile cannot change it (None: no dropout, nothing to keep).
        self._rng_state = torch.get_rng_state() if has_dropout(self.model) else None
        self.scheduler = SCHEDULES[t.schedule](self.optimizer, t)
        self.l1, self.l2 = t.l1, t.l2
        self._shuffle = torch.Generator().manual_seed(t.seed)
        self._shuffle_at_epoch_start = self._shuffle.get_state()  # a mid-epoch state needs it
        # The held-out test set (task.test_fraction): never seen by training, early stopping or
        # the choice of the kept weights; measured once the run is over (test_metrics).
        tested = test_set(exp.task)
        self._test = (
            None if tested is None else (torch.from_numpy(tested[0]), self._targets(tested[1]))
        )
        self._tested: tuple[int, dict[str, Any]] | None = None  # (steps, metrics) measured

        self.history = History()
        self.status = Status.READY
        self.message = ""
        self.epoch = 0  # finished epochs
        self.steps = 0
        self.seconds = 0.0  # time spent training and evaluating (not setup)
        self._batch = 0  # next batch within the current epoch
        self._batches: list[tuple[torch.Tensor, torch.Tensor]] = []  # filled per epoch
        # Bounded losses (BCE) raise on a non-finite input: such outputs count as divergence.
        self._check_outputs = t.loss == "bce"
        self.weights_epoch = 0  # the epoch the current weights come from
        # The weights with the lowest validation loss so far (the initial ones to begin with):
        # what a diverged run keeps, and early stopping restores.
        self._initial_metrics = self._metrics()
        self._grads_at_load: dict[str, float] | None = None  # see load
        self._best = self._checkpoint(self._initial_metrics["val_loss"])
        self._stop_reference = math.inf  # early stopping: the val loss to improve on
        self._bad_epochs = 0

    def _use_data(self, drawn: DrawnPoints) -> None:
        """The task's own data and the `drawn` points: the points join the training set (a
        blank task, which has no data of its own, validates on them too). Without drawn points
        the tensors are the task's own, untouched: a run is the same as before drawing existed."""
        x, y, xv, yv = self._own
        if len(drawn):
            dx, dy = drawn.arrays(self.shape.kind == REGRESSION)
            dx = network_inputs(dx, self.exp.task)
            x, y = np.concatenate([x, dx]), np.concatenate([y, dy])
            if is_blank(self.exp.task):
                xv, yv = dx, dy
        self.drawn = drawn
        self.X_train, self.y_train = torch.from_numpy(x), self._targets(y)
        self.X_val, self.y_val = torch.from_numpy(xv), self._targets(yv)
        self._raw: tuple[np.ndarray, np.ndarray] | None = None  # raw_inputs(), made when asked
        self._batch_starts = batch_starts(len(self.X_train), self.exp)
        self.steps_per_epoch = len(self._batch_starts)

    def set_drawn(self, drawn: DrawnPoints) -> None:
        """Train on the task's data and `drawn` from the next step on: an epoch under way
        starts again, dealt from the new training set."""
        self._use_data(drawn)
        self._batch = 0

    def _targets(self, y: np.ndarray):
        t = torch.from_numpy(y)
        return t if self.head.target == "index" else t.float().reshape(-1, 1)

    # -- live edits -----------------------------------------------------------------------------

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def set_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        if self.scheduler is not None:  # the schedule continues from the new rate
            self.scheduler.base_lrs = [lr] * len(self.scheduler.base_lrs)

    def set_l2(self, l2: float) -> None:
        self.l2 = l2

    def set_l1(self, l1: float) -> None:
        self.l1 = l1

    def set_epochs(self, epochs: int) -> None:
        """More (or fewer) epochs in all: a finished run given more goes on (it is stopped
        again), a stopped one that has done them all is finished."""
        self.exp.training.epochs = epochs
        if self.status == Status.FINISHED and self.epoch < epochs:
            self.status = Status.STOPPED
        elif self.epoch >= epochs and not self.status.ended and self.epoch:
            self.status = Status.FINISHED

    def set_live(self, path: str, value) -> None:
        """A live setting (one of LIVE_SETTINGS) from the next step on; the experiment records
        it, so an export says what was used."""
        name = path.removeprefix("training.")
        setattr(self.exp.training, name, value)
        setters = {
            "lr": self.set_lr,
            "l1": self.set_l1,
            "l2": self.set_l2,
            "epochs": self.set_epochs,
        }
        setters[name](value)

    # -- training -------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """No more steps: finished, early-stopped or diverged (a stopped run may go on)."""
        return self.status.ended

    def step(self) -> float | None:
        """Train on one mini-batch; returns its data loss (None when there is nothing to do)."""
        if self.done:
            return None
        if not self._batch_starts:  # a blank task before any point is drawn
            raise ExperimentError(
                _(
                    "task.name: {task} has no data of its own: draw points on its map in the app"
                ).format(task=self.exp.task.name)
            )
        self.status = Status.RUNNING
        self._grads_at_load = None
        started = time.perf_counter()
        if self._batch == 0:
            self._start_epoch()
        if self._rng_state is None:
            loss = self._train_batch(*self._batches[self._batch])
        else:
            outer = torch.get_rng_state()
            torch.set_rng_state(self._rng_state)
            loss = self._train_batch(*self._batches[self._batch])
            self._rng_state = torch.get_rng_state()
            torch.set_rng_state(outer)
        self._batch += 1
        self.steps += 1
        if not math.isfinite(loss):
            self._diverge(loss)
        else:
            self.history.step_loss.append(loss)
            if self._batch == self.steps_per_epoch:
                self._end_epoch()
        self.seconds += time.perf_counter() - started
        return loss

    def run_epoch(self, stop_when: Callable[[], bool] = lambda: False) -> None:
        """Steps to the end of the current epoch (or until the run ends, or `stop_when()`)."""
        while (
            self.step() is not None
            and self._batch
            and self.status == Status.RUNNING
            and not stop_when()
        ):
            pass

    def run(
        self,
        epochs: int | None = None,
        on_epoch=None,
        stop_when: Callable[[], bool] = lambda: False,
    ) -> Status:
        """Train until `epochs` more epochs are done or the run ends; returns the status.
        `stop_when` is asked after every step: a run told to stop stops between two steps,
        never inside one (its state then continues exactly)."""
        target = self.exp.training.epochs if epochs is None else self.epoch + epochs
        while self.epoch < target and not self.done:
            self.run_epoch(stop_when)
            if self.status == Status.DIVERGED or stop_when():
                break
            if on_epoch is not None:
                on_epoch(self)
        if self.status == Status.RUNNING:
            self.status = Status.STOPPED
        return self.status

    def stop(self) -> None:
        if not self.done:
            self.status = Status.STOPPED
            self.message = _("stopped by the user")

    def _start_epoch(self) -> None:
        self._shuffle_at_epoch_start = self._shuffle.get_state()
        self._batches = self._deal(self._shuffle)

    def _deal(self, shuffle: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """An epoch's mini-batches, shuffled by `shuffle` (which this advances)."""
        order = torch.randperm(len(self.X_train), generator=shuffle)
        x, y = self.X_train.index_select(0, order), self.y_train.index_select(0, order)
        ends = self._batch_starts[1:] + [len(x)]
        return [(x[a:b], y[a:b]) for a, b in zip(self._batch_starts, ends, strict=True)]

    def next_batch(self) -> NextBatch:
        """What the next step() trains on, without changing the run: its inputs and targets,
        and the random state its dropout draws from (None without dropout)."""
        if self._batch == 0:  # the epoch is dealt by the step itself: deal it from a copy
            shuffle = torch.Generator()
            shuffle.set_state(self._shuffle.get_state())
            x, y = self._deal(shuffle)[0]
        else:
            x, y = self._batches[self._batch]
        dropout_rng = None if self._rng_state is None else self._rng_state.clone()
        return NextBatch(x, y, dropout_rng, self._batch + 1)

    # The torch-specific part of a step: a second engine would replace these two methods.
    def _train_batch(self, xb, yb) -> float:
        out = self.model(xb)
        if self._check_outputs and not torch.isfinite(out).all():
            return math.nan
        loss = self.loss_fn(out, yb)
        total = loss + self.l1 * self._weights_abs_sum() if self.l1 else loss
        for p in self._params:  # = zero_grad(set_to_none=True) without its profiler hooks
            p.grad = None
        total.backward()
        if self.l2:
            self._decay.apply(self._weights, self.l2, self.lr)
        self.optimizer.step()
        return loss.item()

    def evaluate(self, x, y) -> tuple[float, float | None]:
        """(data loss, accuracy or None) in eval mode (dropout off, batch norm running stats)."""
        self.model.eval()
        with torch.no_grad():
            out = self.model(x)
            if self._check_outputs and not torch.isfinite(out).all():
                self.model.train()
                return math.nan, None
            loss = self.loss_fn(out, y).item()
            accuracy = None if self.shape.kind == "regression" else self._accuracy(out, y)
        self.model.train()
        return loss, accuracy

    def _accuracy(self, out, y) -> float:
        predicted = predicted_classes(self.head, out)
        return (predicted == y.reshape(-1).long()).double().mean().item()

    def _end_epoch(self) -> None:
        lr = self.lr
        train_loss, train_acc = self.evaluate(self.X_train, self.y_train)
        val_loss, val_acc = self.evaluate(self.X_val, self.y_val)
        if not (math.isfinite(train_loss) and self._weights_finite()):
            self._diverge(train_loss)
            return
        overflowed = self._overflowed_buffer()
        if overflowed is not None:
            self._diverge(train_loss, overflowed)
            return
        self._batch = 0
        self.epoch += 1
        h = self.history
        h.epoch.append(self.epoch)
        h.step.append(self.steps)
        h.train_loss.append(train_loss)
        h.val_loss.append(val_loss)
        h.train_accuracy.append(train_acc)
        h.val_accuracy.append(val_acc)
        h.lr.append(lr)
        h.l1_penalty.append(self.l1_penalty())
        h.grad_norms.append(self.grad_norms())
        if self.scheduler is not None:
            self.scheduler.step()
        self.weights_epoch = self.epoch
        if math.isfinite(val_loss) and not val_loss >= self._best.val_loss:  # NaN: replace
            self._best = self._checkpoint(val_loss)
        if self._early_stop(val_loss):
            return
        if self.epoch >= self.exp.training.epochs:
            self.status = Status.FINISHED
            self.message = _("finished {epochs} epochs").format(epochs=self.epoch)

    def _early_stop(self, val_loss: float) -> bool:
        t = self.exp.training
        if not t.patience:
            return False
        if val_loss < self._stop_reference - t.min_delta:
            self._stop_reference = val_loss
            self._bad_epochs = 0
            return False
        self._bad_epochs += 1
        if self._bad_epochs < t.patience:
            return False
        best = self._best
        self._restore(best)
        self.status = Status.EARLY_STOPPED
        self.message = _(
            "early stopping: validation loss did not improve for {patience} epochs; restored "
            "the best weights (epoch {epoch}, val loss {loss})"
        ).format(patience=t.patience, epoch=best.epoch, loss=f"{best.val_loss:.4g}")
        return True

    def _diverge(self, value: float, overflowed: str | None = None) -> None:
        """Stop for good and bring back the best weights seen; History keeps what happened
        (the exploding step losses included), so the chart shows the blow-up. `overflowed`: the
        buffer (a batch norm's running statistics) that blew up while the loss stayed finite."""
        best = self._best
        blew_up = self.lr
        # A rate raised during the run (schedules only lower it) is the likely cause.
        before = next(
            (lr for lr in reversed([*self.history.lr, good_lr(best)]) if lr < blew_up), None
        )
        self._restore(best)
        cause = (
            _(
                "Raising the learning rate from {before} to {after} is the likely cause: "
                "lower it again"
            ).format(before=f"{before:g}", after=f"{blew_up:g}")
            if before is not None
            else _("Lower the learning rate (the usual cause)")
        )
        self.status = Status.DIVERGED
        kept = kept_weights_note(best.epoch, best.val_loss)
        if overflowed is not None:
            self.message = _(OVERFLOW_ADVICE).format(name=overflowed, kept=kept)
        else:
            value_seen = self._values_seen(value)
            self.message = _(DIVERGED_ADVICE).format(value=value_seen, cause=cause, kept=kept)

    def _values_seen(self, value: float) -> str:
        """The loss as the learner saw it: the last epoch's on the status line, then what it
        became ("7.315e+31, then inf"), not only the overflow."""
        last = self.history.last("train_loss")
        if last is None or not math.isfinite(last) or last == value:
            return f"{value:.4g}"
        return _("{last}, then {value}").format(last=f"{last:.4g}", value=f"{value:.4g}")

    def _weights_finite(self) -> bool:
        return all(torch.isfinite(p).all() for p in self._params)

    def _overflowed_buffer(self) -> str | None:
        """The first buffer that is no longer finite: a batch norm's running_var at inf keeps
        the loss finite (x / inf is 0), but the exported network answers nothing."""
        for name, buffer in self.model.named_buffers():
            if not torch.isfinite(buffer).all():
                return name
        return None

    def _checkpoint(self, val_loss: float) -> Checkpoint:
        return Checkpoint(
            copy.deepcopy(self.model.state_dict()),
            copy.deepcopy(self.optimizer.state_dict()),
            self.epoch,
            val_loss,
        )

    def _restore(self, checkpoint: Checkpoint) -> None:
        """Back to a checkpoint's weights (and optimizer state); History keeps every epoch."""
        self.model.load_state_dict(checkpoint.model)
        # an optimizer loads state tensors without copying them: a copy keeps the checkpoint
        self.optimizer.load_state_dict(copy.deepcopy(checkpoint.optimizer))
        self.weights_epoch = checkpoint.epoch
        self._batch = 0

    # -- the whole run state --------------------------------------------------------------------

    def state(self, with_history: bool = True) -> RunState:
        """The run as it is now, as plain data that later steps do not change; without its
        History (an empty one) when the caller keeps the History itself (the app's timeline)."""
        mid_epoch = self._batch > 0
        return RunState(
            experiment=self.exp.copy(),
            model=copy.deepcopy(self.model.state_dict()),
            optimizer=copy.deepcopy(self.optimizer.state_dict()),
            scheduler=None
            if self.scheduler is None
            else copy.deepcopy(self.scheduler.state_dict()),
            # mid-epoch, the batches are dealt again from the shuffle the epoch began with
            shuffle_rng=(self._shuffle_at_epoch_start if mid_epoch else self._shuffle.get_state()),
            dropout_rng=None if self._rng_state is None else self._rng_state.clone(),
            l1=self.l1,
            l2=self.l2,
            status=self.status,
            message=self.message,
            epoch=self.epoch,
            batch=self._batch,
            steps=self.steps,
            seconds=self.seconds,
            weights_epoch=self.weights_epoch,
            best=self._best,  # never changed: a better epoch makes a new one
            stop_reference=self._stop_reference,
            bad_epochs=self._bad_epochs,
            history=self.history.copy() if with_history else History(),
        )

    @classmethod
    def from_state(cls, state: RunState, drawn: DrawnPoints | None = None) -> Trainer:
        """A Trainer that goes on exactly where `state` was: the data and the model are built
        from its Experiment (and the points drawn), then everything the run changed is put
        back."""
        trainer = cls(state.experiment.copy(), drawn)
        trainer.load(state)
        return trainer

    @classmethod
    def forked(cls, state: RunState, exp: Experiment, drawn: DrawnPoints | None = None) -> Trainer:
        """A Trainer that goes on from `state` with `exp`'s live settings (LIVE_SETTINGS; the
        caller refuses any other change): each one that changed applies from here on."""
        trainer = cls.from_state(replace(state, experiment=exp.copy()), drawn)
        for path in LIVE_SETTINGS:
            # set again only what changed: a rate set anew would undo the schedule's decay so far
            if path == "training.epochs" or value_at(exp, path) != value_at(state.experiment, path):
                trainer.set_live(path, value_at(exp, path))
        return trainer

    def load(self, state: RunState) -> None:
        """Everything `state` holds put back into this Trainer, built for its experiment's
        model and data (from_state builds one; the app reloads one to show past epochs)."""
        self.model.load_state_dict(state.model)
        self.optimizer.load_state_dict(copy.deepcopy(state.optimizer))
        if self.scheduler is not None and state.scheduler is not None:
            self.scheduler.load_state_dict(copy.deepcopy(state.scheduler))
        self._shuffle.set_state(state.shuffle_rng)
        if state.dropout_rng is not None:
            self._rng_state = state.dropout_rng.clone()
        self.l1, self.l2 = state.l1, state.l2
        self.status, self.message = state.status, state.message
        self.epoch, self.steps, self.seconds = state.epoch, state.steps, state.seconds
        self.weights_epoch = state.weights_epoch
        self._best = copy.deepcopy(state.best)
        self._stop_reference, self._bad_epochs = state.stop_reference, state.bad_epochs
        self.history = state.history.copy()
        # the gradients are not saved: until the next step, those recorded at its last epoch
        self._grads_at_load = state.history.last("grad_norms")
        self._batch = 0
        if state.batch:  # deal the current epoch's batches again, then skip those done
            self._start_epoch()
            self._batch = state.batch

    def _metrics(self) -> dict[str, Any]:
        train_loss, train_acc = self.evaluate(self.X_train, self.y_train)
        val_loss, val_acc = self.evaluate(self.X_val, self.y_val)
        return {
            "train_loss": train_loss,
            "val_loss": val_loss,
            "train_accuracy": train_acc,
            "val_accuracy": val_acc,
        }

    def initial_metrics(self) -> dict[str, Any]:
        """Loss and accuracy of the initial weights, before the first step."""
        return dict(self._initial_metrics)

    def kept_metrics(self) -> dict[str, Any]:
        """Loss and accuracy of the weights the model holds now (after early stopping or
        divergence, those of `weights_epoch`, not of the last epoch run)."""
        if self.weights_epoch == 0:
            return dict(self._initial_metrics)
        i = self.weights_epoch - 1
        h = self.history
        return {
            "train_loss": h.train_loss[i],
            "val_loss": h.val_loss[i],
            "train_accuracy": h.train_accuracy[i],
            "val_accuracy": h.val_accuracy[i],
        }

    def test_metrics(self) -> dict[str, Any] | None:
        """Loss and accuracy of the weights the model holds (the kept ones) on the held-out
        test set: None without one. Drivers ask once the run is over; the set is measured once
        for the weights of these steps, never while training."""
        if self._test is None:
            return None
        if self._tested is None or self._tested[0] != self.steps:
            loss, accuracy = self.evaluate(*self._test)
            self._tested = (self.steps, {"test_loss": loss, "test_accuracy": accuracy})
        return dict(self._tested[1])

    # -- what drivers read ----------------------------------------------------------------------

    def grad_norms(self) -> dict[str, float]:
        """L2 norm of each Linear layer's weight gradient from the last step (0 before any)."""
        if self._grads_at_load is not None:
            return dict(self._grads_at_load)
        return weight_grad_norms(self.model)

    def _weights_abs_sum(self):
        """Σ|w| over the Linear weights (not biases): what L1 penalizes."""
        return sum(w.abs().sum() for w in self._weights)

    def l1_penalty(self) -> float:
        if not self.l1:
            return 0.0
        with torch.no_grad():
            return self.l1 * self._weights_abs_sum().item()

    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else 0.0

    def goal(self):
        return goal_result(self.exp.goal, self.history, self.weights_epoch)

    def snapshot(self, most_points: int = 400) -> Snapshot:
        h = self.history.copy()
        h.step_loss = h.step_loss.coarsened(most_points)
        return Snapshot(
            self.status,
            self.message,
            self.epoch,
            self.exp.training.epochs,
            self.steps,
            self.steps_per_epoch,
            self.lr,
            self.steps_per_second(),
            h,
            self.grad_norms(),
            self.history.step_loss.last,
        )

    def raw_inputs(self, validation: bool = False) -> np.ndarray:
        """The task's own inputs of the training (or validation) set, before features: the
        points a decision map draws. X_train/X_val hold what the network sees, which with
        task.features = ["x1^2", "x2^2"] is not the plane's coordinates."""
        if self._raw is None:
            x, _y, xv, _yv = raw_datasets(self.exp.task)
            if len(self.drawn):
                drawn = self.drawn.arrays(self.shape.kind == REGRESSION)[0]
                x = np.concatenate([x, drawn])
                xv = drawn if is_blank(self.exp.task) else xv
            self._raw = (x, xv)
        return self._raw[1 if validation else 0]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The model's outputs for raw task inputs (n, inputs), as an export of it would give."""
        return self._predictor.outputs(x)
