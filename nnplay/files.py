"""Atomic file writes: a crash, Ctrl+C or SIGTERM never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from pathlib import Path

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
    path = Path(path).expanduser()
    with signals_held():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            # mkstemp makes the file private (0600); an export is for other tools to read.
            os.fchmod(fd, path.stat().st_mode & 0o777 if path.exists() else 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return path
