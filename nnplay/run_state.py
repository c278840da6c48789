"""A run's whole state at one moment, as plain data: what `Trainer.state()` gives and
`Trainer.from_state()` continues from.

The data and the initial weights are not in it: the Experiment rebuilds them, seeded. Everything
a run changes as it goes is: the weights (and batch norm's running statistics), the optimizer's
and the schedule's state, the shuffle and dropout random streams, the counters, early stopping,
the best weights seen, the live settings, the status and the History so far. Continuing from it
gives exactly the steps a run that never stopped would take.

Tensors are CPU copies that later training never touches, and every other field is a number, a
string or a list or dict of them, so a run file can store it without pickle.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nnplay.experiment import Experiment
from nnplay.history import History
from nnplay.status import Status


@dataclass(frozen=True)
class Checkpoint:
    """Weights with the optimizer state that goes with them: the best seen so far, which
    early stopping restores and a diverged run keeps."""

    model: dict[str, torch.Tensor]
    optimizer: dict
    epoch: int  # the epoch these weights come from (0: the initial ones)
    val_loss: float  # NaN when the validation loss was not finite


@dataclass(frozen=True)
class RunState:
    experiment: Experiment  # the settings the run goes on with, live edits included
    model: dict[str, torch.Tensor]
    optimizer: dict
    scheduler: dict | None  # None: a constant rate
    shuffle_rng: torch.Tensor  # the shuffle generator, as it was when the current epoch began
    dropout_rng: torch.Tensor | None  # None: no dropout, no stream of its own
    l1: float
    l2: float
    status: Status
    message: str
    epoch: int  # finished epochs
    batch: int  # mini-batches done within the current epoch
    steps: int
    seconds: float  # time spent training so far (steps/s goes on from it)
    weights_epoch: int
    best: Checkpoint
    stop_reference: float  # early stopping: the validation loss to improve on
    bad_epochs: int
    history: History
