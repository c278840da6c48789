"""Text padded to a width in terminal cells: a Chinese character takes two cells, so Python's
`len` and format widths (`f"{word:<7}"`) would misalign columns that hold translated words."""

from __future__ import annotations

from rich.cells import cell_len


def pad(text: str, width: int, align: str = "<") -> str:
    """`text` padded with spaces to `width` cells: on the right for "<", the left for ">"
    (never cut: a longer text comes back whole)."""
    room = " " * max(0, width - cell_len(text))
    return room + text if align == ">" else text + room
