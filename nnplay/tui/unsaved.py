"""Whether a trained run would be lost, and the question asked before it is.

A run is kept once an export of its weights has seen its latest step; any step after that is
unsaved again. A saved setup (.toml) or a .py script keeps no weights. Loading a preset or a
file, a reset and a solution replace the network, and quitting ends it: over unsaved training
they ask first. Loading and quitting also ask over points drawn on the map and not saved
(nnplay.tui.drawing).
"""

from __future__ import annotations

import weakref
from pathlib import Path

from nnplay.export import FORMATS
from nnplay.i18n import _, ngettext
from nnplay.tui.session import Session


class RunKeeper:
    def __init__(self) -> None:
        # a weak reference: a replaced session's model and data are not held for this
        self._kept: tuple[weakref.ref[Session] | None, int] = (None, 0)

    def exported(self, session: Session, path: str) -> None:
        """`session` was exported to `path`: its training so far is kept when the format holds
        the weights (a .py script's data file holds the data set, not the weights)."""
        if Path(path).suffix in FORMATS:
            self.saved(session)

    def saved(self, session: Session) -> None:
        """`session`'s training so far is kept in a file (the run file it was opened from)."""
        self._kept = (weakref.ref(session), session.trainer.steps)

    def unsaved(self, session: Session | None) -> bool:
        """True when `session` trained since its weights were last exported."""
        if session is None or not session.trainer.steps:
            return False
        kept, steps = self._kept
        return kept is None or kept() is not session or steps != session.trainer.steps


def discard_question(doing: str, session: Session) -> str:
    """`doing` (what is about to happen), what would be lost, and how to keep it."""
    return losing_question(doing, [lost_training(session)])


def losing_question(doing: str, losses: list[str]) -> str:
    """`doing`, then each thing it would lose (and how to keep it), then the question."""
    return "\n\n".join([doing, *losses, _("Go on?")])


def lost_training(session: Session) -> str:
    """What a run's training is, when lost, and how to keep it."""
    trainer = session.trainer
    steps = ngettext("{count} step", "{count} steps", trainer.steps).format(
        count=f"{trainer.steps:,}"
    )
    return _(
        "The network trained for {steps} (epoch {epoch}) and its weights are not exported: "
        "they will be lost. Answer no, then export them with e."
    ).format(steps=steps, epoch=trainer.epoch)
