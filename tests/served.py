"""A real `nnplay serve` on 127.0.0.1 for the serve tests: started on a free port, always stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time

from tests.command_line import nnplay_argv

START_TIMEOUT = 30  # seconds until the server accepts connections (the machine may be busy)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


@contextlib.contextmanager
def served(log_path, *args):
    """`nnplay serve *args --port P` until the block ends; yields (process, port).
    Its output goes to a file (a pipe nobody reads could fill up and stall the server)."""
    port = free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            nnplay_argv("serve", *args, "--port", str(port)),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not accepts(port):
            assert proc.poll() is None, f"nnplay serve ended early: {log_path.read_text()}"
            assert time.monotonic() < deadline, "nnplay serve did not start in time"
            time.sleep(0.1)
        yield proc, port
    finally:
        stop(proc)
        end_group(proc)


def stop(proc: subprocess.Popen, timeout: float = 15) -> int:
    """Ctrl+C, as a learner would; the process group is killed only if that does not work."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            end_group(proc)
    return proc.returncode


def end_group(proc: subprocess.Popen) -> None:
    """Kill the server's process group (it runs in a session of its own): no app it started may
    outlive a failed test."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
