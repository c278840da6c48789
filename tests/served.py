"""A real `nnplay serve` on 127.0.0.1 for the serve tests: started on a free port, always stopped;
and the processes it leaves, read from /proc."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time

from nnplay.fork_server import SERVER_NAME, TAB_NAME
from tests.command_line import nnplay_argv

START_TIMEOUT = 30  # seconds until the server accepts connections (the machine may be busy)
MARK = "NNPLAY_TEST_SERVER"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


@contextlib.contextmanager
def served(log_path, *args, port: int | None = None):
    """`nnplay serve *args --port P` until the block ends; yields (process, port).
    Its output goes to a file (a pipe nobody reads could fill up and stall the server)."""
    port = port or free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            nnplay_argv("serve", *args, "--port", str(port)),
            env=os.environ | {MARK: str(port)},  # the server's apps inherit it: see tab_apps
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


def process_state(pid: int) -> tuple[str, int] | None:
    """(state letter, parent pid) from /proc, or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    """Running or sleeping: not gone, and not a zombie waiting for its parent."""
    state = process_state(pid)
    return state is not None and state[0] != "Z"


def marked_processes(port: int) -> dict[int, tuple[bytes, list[bytes]]]:
    """{pid: (name, environment)} of every live process of the server `served` started on
    `port`: itself, its fork server, the apps and their helpers, found by the environment they
    inherited, so that one which lost its server (its parent is then 1) is found as well."""
    found = {}
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read().split(b"\0")
            with open(f"/proc/{entry}/comm", "rb") as f:
                name = f.read().strip()
        except OSError:  # not a process, gone, or not ours to read
            continue
        if f"{MARK}={port}".encode() in environ and alive(int(entry)):
            found[int(entry)] = (name, environ)
    return found


def tab_processes(port: int, apps_only: bool = False) -> set[int]:
    """Every live process of the tabs of the server on `port` (each app and any helper it
    started), not the server, its fork server or the fork server's resource tracker.
    `apps_only`: the forked apps alone (not a child an app forked, which keeps the app's name
    until it execs its own)."""
    marked = marked_processes(port)
    servers = {pid for pid, (name, _environ) in marked.items() if name == SERVER_NAME}
    live = {
        pid
        for pid, (name, environ) in marked.items()
        if any(v.startswith(b"TEXTUAL_DRIVER=") for v in environ)
        and pid not in servers
        # the fork server's own helper (the resource tracker the apps share) is the server's
        and (name == TAB_NAME or (state := process_state(pid)) is None or state[1] not in servers)
    }
    if apps_only:
        apps = {pid for pid in live if marked.get(pid, (b"",))[0] == TAB_NAME}
        return {pid for pid in apps if (state := process_state(pid)) and state[1] not in apps}
    return live


def wait_until(condition, timeout: float, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True
