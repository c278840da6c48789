"""Screens that answer once, and stay still while the app closes.

Textual's `Screen.dismiss` pops whatever screen is on top and calls the result callback again.
Two Enters on a dialog queue two answers: the second popped the playground itself
(ScreenStackError, and the session was lost) or a dialog opened meanwhile. A screen built on
`OnTop` is dismissed once, and only while it is the one on top.

Every screen of the app is a `Steady` one. Textual relayouts a screen on each resize; while the
app closes, repaints are held back and the relayout reads the previous layout's sizes, so a
screen whose size differs from the app's resizes itself back and forth forever. A web tab that
sent its size and closed while the app started left that app at 100% CPU, deaf to SIGTERM
(whose handler waits for the same loop). A closing app has no screen to lay out.
"""

from __future__ import annotations

from textual import events
from textual.await_complete import AwaitComplete
from textual.screen import Screen, ScreenResultType


class Steady(Screen[ScreenResultType]):
    def on_resize(self, event: events.Resize) -> None:
        if not self.app.is_running:  # closing: Screen's own relayout must not run
            event.prevent_default()


class OnTop(Steady[ScreenResultType]):
    answered = False

    def dismiss(self, result: ScreenResultType | None = None) -> AwaitComplete:
        if self.answered or not self.is_on_top:
            return AwaitComplete.nothing()
        self.answered = True
        return super().dismiss(result)

    @property
    def is_on_top(self) -> bool:
        return bool(self.app.screen_stack) and self.app.screen_stack[-1] is self
