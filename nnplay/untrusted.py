"""The one front door for text nnplay did not write itself: files, metadata, --set values.

Everything is bounded before a parser sees it: size, then nesting (counted on the raw text, so a
parser never recurses deeply), then the parsed data's depth. Whatever goes wrong is one
ExperimentError line; text shown back to the user is escaped (no terminal escapes or newlines).
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tomllib
from pathlib import Path

from nnplay.errors import ExperimentError
from nnplay.i18n import N_, _

MAX_TEXT_BYTES = 256 * 1024  # an experiment is a few kB; hints and descriptions included
MAX_NESTING = 16  # brackets/braces open at once in the raw text
MAX_DEPTH = 8  # tables and lists inside each other in the parsed data


class NotToml(ExperimentError):
    """The text does not parse as TOML (a --set value may then be a bare word)."""


def shown(text: object, limit: int = 80) -> str:
    """`text` made safe for one terminal line: control and format characters escaped, long
    text cut with an ellipsis. A file name's undecodable bytes show as the bytes (\\xff)."""
    text = str(text)
    cut = len(text) > limit
    text = text[:limit]
    safe = "".join(c if c.isprintable() else _escaped(c) for c in text)
    return safe + ("…" if cut else "")


def printable(text: str, stand_in: str = "_") -> str:
    """`text` with every character a terminal would act on (or cannot show) replaced."""
    return "".join(c if c.isprintable() else stand_in for c in text)


def _escaped(c: str) -> str:
    if "\udc80" <= c <= "\udcff":  # os.fsdecode's stand-in for an undecodable byte
        return f"\\x{ord(c) - 0xDC00:02x}"
    return c.encode("unicode_escape").decode("ascii")


# ---------------------------------------------------------------------------------------------
# Paths a person named: every refusal is one line that says what is there instead of a file

MAX_NAME_BYTES = 255  # one name in a path, on every common file system


def named_path(text: str | Path, option: str = "") -> Path:
    """The path `text` names, `~` expanded. Refuses in one line (prefixed with `option`, e.g.
    "--export", when given) an empty path, `~user` of no user, a name over 255 bytes."""
    where = " ".join(filter(None, [option, shown(text, 300) or "''"]))
    if not str(text):
        raise ExperimentError(_("{path}: an empty path names no file").format(path=where))
    try:
        path = Path(text).expanduser()
    except RuntimeError:  # ~nosuchuser, or ~ without a home
        home = str(text).partition("/")[0]
        message = _("{path}: {home} is no home folder on this computer")
        raise ExperimentError(message.format(path=where, home=shown(home))) from None
    long = next((n for n in path.parts if len(os.fsencode(n)) > MAX_NAME_BYTES), None)
    if long is not None:
        message = _("{path}: a name in it is longer than {most} bytes")
        raise ExperimentError(message.format(path=where, most=MAX_NAME_BYTES))
    return path


_KINDS = {
    stat.S_ISDIR: N_("a folder"),
    stat.S_ISFIFO: N_("a named pipe (FIFO)"),
    stat.S_ISCHR: N_("a device"),
    stat.S_ISBLK: N_("a device"),
    stat.S_ISSOCK: N_("a socket"),
}
_REASONS = {
    errno.EACCES: N_("permission denied: the file, or a folder on its way, is not open to you"),
    errno.ENOTDIR: N_("a part of the path is a file, not a folder"),
    errno.ELOOP: N_("too many symbolic links"),
    errno.ENAMETOOLONG: N_("the path is too long"),
}


def _open_regular(path: Path) -> int:
    """A descriptor of `path` opened for reading, which must be a regular file: anything else
    (a folder, a named pipe, a device) is refused by its kind before it is opened."""
    try:
        _refuse_other_kinds(path, os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as e:
        if e.errno == errno.ENOENT:
            raise ExperimentError(_("{path}: no such file").format(path=shown(path, 300))) from None
        reason = _(_REASONS[e.errno]) if e.errno in _REASONS else e.strerror or str(e)
        message = _("{path}: cannot read ({reason})")
        raise ExperimentError(message.format(path=shown(path, 300), reason=reason)) from None
    try:
        _refuse_other_kinds(path, os.fstat(fd).st_mode)  # replaced since it was looked at
    except ExperimentError:
        os.close(fd)
        raise
    return fd


def _refuse_other_kinds(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = next(kind for test, kind in _KINDS.items() if test(mode))
        message = _("{path}: it is {kind}, not a file")
        raise ExperimentError(message.format(path=shown(path, 300), kind=_(kind)))


def readable_file(text: str | Path) -> Path:
    """The path `text` names, checked to be a regular file nnplay can read (see named_path)."""
    path = named_path(text)
    os.close(_open_regular(path))
    return path


def read_bytes(path: Path, limit: int, too_large: str) -> bytes:
    """A regular file's bytes, at most `limit` of them (checked before reading it all):
    `too_large` is the message for a larger one, formatted with {path} and {most} (kB)."""
    with os.fdopen(_open_regular(path), "rb") as f:
        try:
            data = f.read(limit + 1)
        except OSError as e:
            reason = e.strerror or e.__class__.__name__
            message = _("{path}: cannot read ({reason})")
            raise ExperimentError(message.format(path=shown(path, 300), reason=reason)) from None
    if len(data) > limit:
        raise ExperimentError(too_large.format(path=shown(path, 300), most=limit // 1024))
    return data


def read_text(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """A UTF-8 text file of at most `limit` bytes (checked before reading it all); a byte
    order mark (Windows Notepad writes one) is dropped."""
    data = read_bytes(path, limit, _("{path}: too large for an experiment (more than {most} kB)"))
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
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


def parse_json(
    text: str, source: str, invalid: str = N_("{source}: its experiment is not valid JSON")
):
    """JSON data from untrusted text; `invalid` says (with {source}) that it did not parse."""
    _check_shape(text, source)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError, MemoryError):
        raise ExperimentError(_(invalid).format(source=source)) from None
    _check_depth(data, source)
    return data
