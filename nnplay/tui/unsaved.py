"""Whether a trained run would be lost, and the question asked before it is.

A run is kept once an export or a save has seen its latest step; any step after that is
unsaved again. Loading a preset or a file, a reset and a solution replace the network: over
unsaved training they ask first.
"""

from __future__ import annotations

from nnplay.i18n import _, ngettext
from nnplay.tui.session import Session


class RunKeeper:
    def __init__(self) -> None:
        self._kept: tuple[Session | None, int] = (None, 0)

    def keep(self, session: Session) -> None:
        """An export or a save has just kept `session`'s training so far."""
        self._kept = (session, session.trainer.steps)

    def unsaved(self, session: Session | None) -> bool:
        """True when `session` trained since its last export or save."""
        if session is None or not session.trainer.steps:
            return False
        return self._kept != (session, session.trainer.steps)


def discard_question(doing: str, session: Session) -> str:
    """`doing` (what is about to happen), what would be lost, and how to keep it."""
    trainer = session.trainer
    steps = ngettext("{count} step", "{count} steps", trainer.steps).format(
        count=f"{trainer.steps:,}"
    )
    lost = _(
        "The network trained for {steps} (epoch {epoch}) and is not exported or saved: "
        "its weights will be lost. Answer no, then export them with e."
    ).format(steps=steps, epoch=trainer.epoch)
    return f"{doing}\n\n{lost}\n\n" + _("Go on?")
