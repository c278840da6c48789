"""argparse's help broken into lines by nnplay's rule (nnplay/wrapping.py).

argparse breaks lines only at spaces and counts characters, not cells: a Chinese help text (no
spaces, two cells a character) ran past the terminal's edge or broke before a full stop. Here
every text is filled before argparse lays it out, and argparse keeps those lines as they are.
"""

from __future__ import annotations

import argparse
import copy
import shutil

from nnplay.wrapping import fill

HELP_COLUMN = 24  # argparse's max_help_position: the furthest column a help text starts at


def width() -> int:
    """The cells argparse fills: the terminal's columns less two, as argparse counts them."""
    return max(shutil.get_terminal_size().columns - 2, 20)


def help_room() -> int:
    """The cells a help text has beside its option, wherever argparse puts the help column."""
    columns = width()
    return max(columns - min(HELP_COLUMN, max(columns - 20, 4)), 10)


def filled_help(text: str | None) -> str | None:
    return text if not text or text == argparse.SUPPRESS else fill(text, help_room())


class Help(argparse.RawTextHelpFormatter):
    """Descriptions and help texts filled by nnplay's rule; argparse only indents them."""

    def add_text(self, text: str | None) -> None:
        if text and text != argparse.SUPPRESS:
            text = fill(text, width())
        super().add_text(text)

    def add_argument(self, action: argparse.Action) -> None:
        if action.help and action.help != argparse.SUPPRESS:
            action = copy.copy(action)  # the parser keeps its own text: it may be shown again
            action.help = filled_help(action.help)
        super().add_argument(action)
