"""A screen that answers once.

Textual's `Screen.dismiss` pops whatever screen is on top and calls the result callback again.
Two Enters on a dialog queue two answers: the second popped the playground itself
(ScreenStackError, and the session was lost) or a dialog opened meanwhile. A screen built on
`OnTop` is dismissed once, and only while it is the one on top.
"""

from __future__ import annotations

from textual.await_complete import AwaitComplete
from textual.screen import Screen, ScreenResultType


class OnTop(Screen[ScreenResultType]):
    answered = False

    def dismiss(self, result: ScreenResultType | None = None) -> AwaitComplete:
        if self.answered or not self.is_on_top:
            return AwaitComplete.nothing()
        self.answered = True
        return super().dismiss(result)

    @property
    def is_on_top(self) -> bool:
        return bool(self.app.screen_stack) and self.app.screen_stack[-1] is self
