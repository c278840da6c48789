"""The one front door for text nnplay did not write itself: files, metadata, --set values.

Everything is bounded before a parser sees it: size, then nesting (counted on the raw text, so a
parser never recurses deeply), then the parsed data's depth. Whatever goes wrong is one
ExperimentError line; text shown back to the user is escaped (no terminal escapes or newlines).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from nnplay.errors import ExperimentError
from nnplay.i18n import _

MAX_TEXT_BYTES = 256 * 1024  # an experiment is a few kB; hints and descriptions included
MAX_NESTING = 16  # brackets/braces open at once in the raw text
MAX_DEPTH = 8  # tables and lists inside each other in the parsed data


class NotToml(ExperimentError):
    """The text does not parse as TOML (a --set value may then be a bare word)."""


def shown(text: object, limit: int = 80) -> str:
    """`text` made safe for one terminal line: control and format characters escaped, long
    text cut with an ellipsis."""
    text = str(text)
    cut = len(text) > limit
    text = text[:limit]
    safe = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )
    return safe + ("…" if cut else "")


def read_text(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """A UTF-8 text file of at most `limit` bytes (checked before reading it all)."""
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        reason = e.strerror or e.__class__.__name__
        message = _("{path}: cannot read ({reason})")
        raise ExperimentError(message.format(path=shown(path, 300), reason=reason)) from None
    if len(data) > limit:
        message = _("{path}: too large for an experiment (more than {most} kB)")
        raise ExperimentError(message.format(path=shown(path, 300), most=limit // 1024))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        message = _("{path}: not UTF-8 text")
        raise ExperimentError(message.format(path=shown(path, 300))) from None


def _skip_string(text: str, i: int) -> int:
    """The index just after the TOML/JSON string starting at `i` (a quote character)."""
    quote = text[i]
    escapes = quote == '"'
    delimiter = quote * 3 if text.startswith(quote * 3, i) else quote
    j = i + len(delimiter)
    while j < len(text):
        if escapes and text[j] == "\\":
            j += 2
            continue
        if text.startswith(delimiter, j):
            j += len(delimiter)
            if len(delimiter) == 3:  # a multi-line string may end in one or two more quotes
                for _more in range(2):
                    j += j < len(text) and text[j] == quote
            return j
        if len(delimiter) == 1 and text[j] == "\n":
            return j  # an unterminated one-line string: the parser will say so
        j += 1
    return j


def nesting(text: str) -> int:
    """How many [ and { are open at once at most, outside strings and comments."""
    depth = deepest = i = 0
    while i < len(text):
        c = text[i]
        if c in "\"'":
            i = _skip_string(text, i)
            continue
        if c == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
        i += 1
    return deepest


def _check_shape(text: str, source: str) -> None:
    if len(text) > MAX_TEXT_BYTES:
        message = _("{source}: too large (more than {most} kB)")
        raise ExperimentError(message.format(source=source, most=MAX_TEXT_BYTES // 1024))
    if nesting(text) > MAX_NESTING:
        message = _("{source}: nested too deeply (more than {most} levels of [ ] or {{ }})")
        raise ExperimentError(message.format(source=source, most=MAX_NESTING))


def _check_depth(data, source: str) -> None:
    """The parsed data's depth, walked without recursion (dotted keys nest without brackets)."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            message = _("{source}: nested too deeply (more than {most} levels)")
            raise ExperimentError(message.format(source=source, most=MAX_DEPTH))
        if isinstance(value, dict):
            stack += [(v, depth + 1) for v in value.values()]
        elif isinstance(value, list):
            stack += [(v, depth + 1) for v in value]


def parse_toml(text: str, source: str) -> dict:
    _check_shape(text, source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = _("{source}: not valid TOML ({reason})")
        raise NotToml(message.format(source=source, reason=shown(e, 120))) from None
    except (ValueError, RecursionError, MemoryError):  # e.g. an integer of 5000 digits
        message = _("{source}: not valid TOML (a value is too large)")
        raise ExperimentError(message.format(source=source)) from None
    _check_depth(data, source)
    return data


def parse_json(text: str, source: str):
    _check_shape(text, source)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError, MemoryError):
        message = _("{source}: its experiment is not valid JSON")
        raise ExperimentError(message.format(source=source)) from None
    _check_depth(data, source)
    return data
