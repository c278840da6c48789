"""The fork server of `nnplay serve`: one process that imports Textual, nnplay's app and PyTorch
once, then forks a tab's app for every browser tab.

A spawned app spent seconds importing the same modules again, 30 of them at once far longer, and
each kept its own copy of them (about 350 MB). A forked app starts with everything loaded and
shares those pages with this process until it writes them (copy-on-write).

It talks to the server over a SOCK_SEQPACKET socket (`nnplay.tab_forks` is the other end):
- the server sends `{"argv": [...], "env": {...}}` with three file descriptors, the app's stdin,
  stdout and stderr;
- this process answers `{"started": PID}` with a pidfd of the app (the server signals through
  it: a pid can be reused once the app is gone, a pidfd cannot), and `{"ended": PID, "code": C}`
  when the app ends (C is negative for a signal, as asyncio says).
It ends when the server closes the socket, or dies: its end of the socket closes then too.

Ctrl+C in the terminal reaches every process of its group: this one ignores it (the server
answers it by ending the tabs, then this process). A forked app gets SIGTERM when this process
dies (`end_with_the_server`, with NNPLAY_SERVER_PID set to this process), which dies with the
server.
"""

from __future__ import annotations

import ctypes
import gc
import json
import multiprocessing.resource_tracker
import os
import select
import signal
import socket
import sys

MAX_REQUEST = 64 * 1024  # bytes of one request from the server: an argv and a few variables
TAB_NAME = b"nnplay-tab"  # a forked app's name in /proc/PID/comm (15 bytes at most)
SERVER_NAME = b"nnplay-forks"
PR_SET_NAME, PR_SET_PDEATHSIG = 15, 1


def main() -> None:
    """`python -c "from nnplay.fork_server import main; main()" FD LANGUAGE`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # blocked until now (tab_forks): dropped
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    control = socket.socket(fileno=int(sys.argv[1]))
    name_process(SERVER_NAME)
    if sys.platform.startswith("linux"):  # gone with the server, even if it is SIGKILLed
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    preload(sys.argv[2])
    request, fds = serve_forks(control)  # returns only in a forked app
    raise SystemExit(run_tab(request, fds))


def preload(language: str) -> None:
    """Import what every app imports, in the server's language (some texts are translated as
    their module is imported), start the resource tracker they share, then freeze the objects
    made so far: the collector then never writes to them, and their pages stay shared with every
    app."""
    from nnplay import i18n

    i18n.set_language(language)
    import nnplay.cli
    import nnplay.preload
    import nnplay.tui.app  # noqa: F401  (every screen and widget)

    # Every app needs multiprocessing's resource tracker (for comparisons) and started its own, a
    # new interpreter each: started here, all the forked apps share this one.
    multiprocessing.resource_tracker.ensure_running()
    gc.collect()
    gc.freeze()


def name_process(name: bytes) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0)


def serve_forks(control: socket.socket) -> tuple[dict, list[int]]:
    """Fork an app for every request until the server hangs up (then exit). Returns, in the
    forked app only, its request and descriptors."""
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # a handler, so it wakes poll
    signal.set_wakeup_fd(wake_write)
    poller = select.poll()
    poller.register(control, select.POLLIN)
    poller.register(wake_read, select.POLLIN)
    while True:
        for fd, _events in poller.poll():
            if fd == wake_read:
                os.read(wake_read, 4096)
                report_ended(control)
                continue
            message, fds, _flags, _address = socket.recv_fds(control, MAX_REQUEST, 3)
            if not message:
                raise SystemExit(0)  # the server is gone or done: its apps end with us
            request = read_request(message, fds)
            if request is None:
                for fd_ in fds:
                    os.close(fd_)
                send(control, {"failed": "bad request"})
                continue
            request["env"]["NNPLAY_SERVER_PID"] = str(os.getpid())  # the app's starter: us
            pid = os.fork()
            if pid == 0:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for own in (wake_read, wake_write):
                    os.close(own)
                control.close()
                return request, fds
            for fd_ in fds:
                os.close(fd_)
            pidfd = os.pidfd_open(pid)
            try:
                send(control, {"started": pid}, [pidfd])
            finally:
                os.close(pidfd)


def read_request(message: bytes, fds: list[int]) -> dict | None:
    """The server's request, when it is one: an argv of strings, an env of strings, 3 fds."""
    try:
        request = json.loads(message)
    except ValueError:
        return None
    if len(fds) != 3 or not isinstance(request, dict):
        return None
    argv, env = request.get("argv"), request.get("env")
    if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv)):
        return None
    if not (isinstance(env, dict) and all(isinstance(v, str) for v in env.values())):
        return None
    return request


def report_ended(control: socket.socket) -> None:
    """Reap every app that ended and tell the server."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        send(control, {"ended": pid, "code": os.waitstatus_to_exitcode(status)})


def send(control: socket.socket, message: dict, fds: list[int] | None = None) -> None:
    try:
        socket.send_fds(control, [json.dumps(message).encode()], fds or [])
    except OSError:  # BrokenPipeError: the server is gone
        raise SystemExit(0) from None


def run_tab(request: dict, fds: list[int]) -> int:
    """In the forked app: the tab's pipes as stdin, stdout and stderr, the tab's variables, and
    Ctrl+C as Python sets it; then the app, as `python -m nnplay ARGV` runs it."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    name_process(TAB_NAME)
    os.environ.update(request["env"])
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from nnplay.__main__ import run

    sys.argv = [sys.argv[0], *request["argv"]]
    return run()
