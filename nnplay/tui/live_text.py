"""A widget whose text is redrawn many times a second without relayouting the screen."""

from __future__ import annotations

from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget


class LiveText(Widget):
    """Text redrawn many times a second in a box of fixed size: a repaint, never a relayout
    (Static.update relayouts the screen, which cost ~20 ms a frame while training)."""

    def __init__(self, text="", **kwargs) -> None:
        super().__init__(**kwargs)
        self._text = text

    def render(self) -> RenderResult:
        return self._text

    def show(self, text) -> None:
        if text != self._text:
            self._text = text
            self.refresh()


class GrowingText(LiveText):
    """LiveText as tall as its text (in a scrolling pane): a relayout only when the number of
    lines changes, a repaint otherwise."""

    DEFAULT_CSS = "GrowingText { height: auto; }"

    _lines = 0

    def show(self, text) -> None:
        lines = len(text.plain.splitlines()) if isinstance(text, Text) else 1
        if lines == self._lines:
            super().show(text)
            return
        self._lines, self._text = lines, text
        self.refresh(layout=True)
