"""Text that Textual shows broken into lines by nnplay's rule (nnplay/wrapping.py).

Textual breaks lines only at spaces, so a Chinese sentence (which has none) moved whole to the
next line and was then cut anywhere, a full stop starting a line. `Prose` is a Visual that breaks
its text where `wrapping.line_starts` says, keeping the text's styles, before Textual sees it.
"""

from __future__ import annotations

from textual.content import Content
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

from nnplay.wrapping import line_starts


def broken(content: Content, width: int) -> Content:
    """`content` with a newline wherever a line must break to fit `width` cells."""
    lines = []
    for paragraph in content.split("\n", allow_blank=True):
        pieces = paragraph.divide(line_starts(paragraph.plain, max(width, 1)))
        lines += [piece.rstrip(" ") for piece in pieces]
    return Content("\n").join(lines)


class Prose(Visual):
    """A text (markup, Content or plain) broken into lines by nnplay's rule at the width shown."""

    def __init__(self, text: Content | str, markup: bool = False) -> None:
        if isinstance(text, str):
            text = Content.from_markup(text) if markup else Content(text)
        self.content = text

    def __str__(self) -> str:
        return self.content.plain

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        return broken(self.content, width).render_strips(width, height, style, options)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self.content.get_optimal_width(rules, container_width)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return broken(self.content, width).get_height(rules, width)
