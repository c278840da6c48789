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

from nnplay.i18n import cells
from nnplay.wrapping import line_starts


def broken(content: Content, width: int, hanging: int = 0) -> Content:
    """`content` with a newline wherever a line must break to fit `width` cells; with `hanging`,
    each paragraph's first `hanging` cells (a key, a label) stand alone on the left and its lines
    after the first start below the text beside them."""
    lines = []
    for paragraph in content.split("\n", allow_blank=True):
        cut = index_at_cells(paragraph.plain, hanging)
        head, body = paragraph[:cut], paragraph[cut:]
        pieces = body.divide(line_starts(body.plain, max(width - hanging, 1)))
        lines.append(head + pieces[0].rstrip(" "))
        lines += [Content(" " * hanging) + piece.rstrip(" ") for piece in pieces[1:]]
    return Content("\n").join(lines)


def index_at_cells(text: str, cells_wanted: int) -> int:
    """The index in `text` where its first `cells_wanted` cells end."""
    used = 0
    for i, char in enumerate(text):
        if used >= cells_wanted:
            return i
        used += cells(char)
    return len(text)


def with_code(text: str) -> Content:
    """Plain text with its `code` spans (keys, commands) in bold."""
    parts = text.split("`")
    return Content.assemble(*[(part, "bold") if i % 2 else part for i, part in enumerate(parts)])


class Prose(Visual):
    """A text (markup, Content or plain) broken into lines by nnplay's rule at the width shown."""

    def __init__(self, text: Content | str, markup: bool = False, hanging: int = 0) -> None:
        if isinstance(text, str):
            text = Content.from_markup(text) if markup else Content(text)
        self.content = text
        self.hanging = hanging

    def __str__(self) -> str:
        return self.content.plain

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        text = broken(self.content, width, self.hanging)
        return text.render_strips(width, height, style, options)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self.content.get_optimal_width(rules, container_width)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return broken(self.content, width, self.hanging).get_height(rules, width)
