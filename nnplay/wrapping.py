"""Where a line of text may break, in English and Chinese alike: one rule for the app and the CLI.

English breaks at spaces. Chinese has none: a line may break between any two Chinese characters,
except before closing punctuation (a full stop or a comma never starts a line) and after opening
punctuation (an opening bracket never ends one). Widths are terminal cells: a Chinese character
takes two.
"""

from __future__ import annotations

from nnplay.i18n import cells

NEVER_STARTS = frozenset("。，、：；！？」』）》】〉…,.:;!?)]}%")
NEVER_ENDS = frozenset("「『（《【〈([{")


def _wide(char: str) -> bool:
    return cells(char) == 2


def may_break_before(text: str, i: int) -> bool:
    """Whether a line may start at text[i] (0 < i < len(text))."""
    before, here = text[i - 1], text[i]
    if here == " ":
        return False
    if before == " ":  # after a space any word may start a line: ".npz" in "(.pt, .npz)" too
        return True
    if before in NEVER_ENDS or (here in NEVER_STARTS and not _extension(text, i)):
        return False
    return _wide(before) or _wide(here)


def _extension(text: str, i: int) -> bool:
    """text[i] is the dot of a file's extension (".npz" in "、.npz"), not a full stop."""
    return text[i] == "." and i + 1 < len(text) and text[i + 1].isalnum()


def line_starts(text: str, width: int) -> list[int]:
    """The indices where the lines of `text` (one paragraph, no newlines) start after the first,
    each line at most `width` cells without its trailing spaces. A word longer than a line is cut
    where it must, though never before a closing mark when there is a character to keep with it."""
    starts: list[int] = []
    start, used, last_break = 0, 0, None
    for i, char in enumerate(text):
        if i > start and may_break_before(text, i):
            last_break = i
        used += cells(char)
        if char == " " or used <= width or i == start:
            continue
        if last_break is None or last_break <= start:  # no break in this line: cut the word
            cut = i - 1 if text[i] in NEVER_STARTS and i - 1 > start else i
        else:
            cut = last_break
        starts.append(cut)
        start, last_break = cut, None
        used = cells(text[cut : i + 1])
    return starts


def wrap(text: str, width: int) -> list[str]:
    """`text` as lines of at most `width` cells (its own newlines kept), trailing spaces dropped."""
    lines = []
    for paragraph in text.split("\n"):
        bounds = [0, *line_starts(paragraph, width), len(paragraph)]
        lines += [paragraph[a:b].rstrip(" ") for a, b in zip(bounds, bounds[1:], strict=False)]
    return lines


def fill(text: str, width: int, indent: str = "") -> str:
    """`text` wrapped to `width` cells, every line after the first indented by `indent`."""
    room = max(1, width - cells(indent))
    return ("\n" + indent).join(wrap(text, room))
