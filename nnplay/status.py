"""A run's status: one enum for the Trainer, the app, compare and every report.

Its values are what JSON output says ("early_stopped"); people read it only through
`labels.status_word`, in their language.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    READY = "ready"  # built, no step taken
    RUNNING = "running"  # the Trainer within train(); the app while its worker steps
    PAUSED = "paused"  # the app: a run that can go on, with no worker stepping it
    STOPPED = "stopped"  # train() returned before the run's end; compare: cancelled
    FINISHED = "finished"
    EARLY_STOPPED = "early_stopped"
    DIVERGED = "diverged"
    ERROR = "error"  # compare: the variant's process failed

    @property
    def ended(self) -> bool:
        """The run takes no more steps (until more epochs are asked for, when finished)."""
        return self in (Status.FINISHED, Status.EARLY_STOPPED, Status.DIVERGED)
