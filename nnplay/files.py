"""Atomic file writes: a crash, Ctrl+C or SIGTERM never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from pathlib import Path

from nnplay.errors import ExperimentError
from nnplay.i18n import _
from nnplay.untrusted import shown

_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def signals_held():
    """Ctrl+C and SIGTERM wait until the block is done (then arrive as usual): a write and its
    clean-up cannot be cut in half by them."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are delivered to the main thread only
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def write_atomic(path: Path, data: bytes) -> Path:
    """Write to a temporary file beside `path`, then rename it over `path` in one step."""
    return write_atomic_files({path: data})[0]


def write_atomic_files(files: dict[Path, bytes]) -> list[Path]:
    """Write each file to a temporary one beside it, and only when all are written rename them
    over their targets: a failed write (a full disk) leaves every old file as it was, so files
    that belong together (a .pt and its .toml) are replaced together or not at all."""
    targets = [Path(p).expanduser() for p in files]
    temps: list[str] = []
    with signals_held():
        try:
            for path, data in zip(targets, files.values(), strict=True):
                temps.append(_write_temporary(path, data))
            for path, tmp in zip(targets, temps, strict=True):
                os.replace(tmp, path)
        except BaseException:
            for tmp in temps:
                Path(tmp).unlink(missing_ok=True)
            raise
    return targets


def _write_temporary(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); an export is for other tools to read.
        os.fchmod(fd, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def check_writable(path: Path) -> None:
    """Refuse, in one line naming the reason, a file that cannot be written: a folder in the
    way, a parent that is a file, a name too long, a folder nnplay cannot create files in."""

    def refuse(why: str) -> ExperimentError:
        message = _("{path}: cannot write it ({reason})")
        return ExperimentError(message.format(path=shown(path, 300), reason=why))

    if len(os.fsencode(path.name)) > 255:
        raise refuse(_("the file name is longer than 255 bytes"))
    try:
        if path.is_dir():
            raise refuse(_("it is a folder"))
        folder = path.parent
        while not folder.exists():  # write_atomic creates missing folders
            if folder.is_symlink() or folder == folder.parent:
                raise refuse(_("{folder} cannot be created").format(folder=shown(folder, 300)))
            folder = folder.parent
        if not folder.is_dir():
            message = _("{folder} is a file, not a folder")
            raise refuse(message.format(folder=shown(folder, 300)))
        # the one honest test: create (and remove) a file there
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".nnplay-probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise refuse(e.strerror or e.__class__.__name__) from None
