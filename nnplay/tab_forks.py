"""The server's end of the fork server (`nnplay.fork_server`): it starts that process, asks it for
a tab's app, and hands back the app as a process with pipes (`ForkedApp`), as asyncio's
subprocesses are, so web_tab relays and bounds it as before.

The fork server is started with the server and preloads while nobody has opened a tab yet. An app
asked for while it still imports simply waits for it. If it ends (killed by someone), the next
tab starts a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from collections import deque
from functools import partial

from nnplay.fork_server import MAX_REQUEST

# Read by Textual as it is imported, so they are the fork server's own: the web driver, at 60
# frames a second, in true colour (xterm.js shows it all).
WEB_DRIVER_ENVIRONMENT = {
    "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver",
    "TEXTUAL_FPS": "60",
    "TEXTUAL_COLOR_SYSTEM": "truecolor",
    "TERM_PROGRAM": "textual",
}
STOP_GRACE = 5.0  # seconds for the fork server to end once told, before SIGKILL


class ForkServerGone(ConnectionError):
    """The fork server ended before it started the app."""


class ForkedApp:
    """A tab's app forked by the fork server: its pid, pipes and exit code (asyncio's
    Process's names: stdin, stdout, stderr, returncode, wait, send_signal)."""

    def __init__(self, pid: int, pidfd: int) -> None:
        self.pid, self.pidfd = pid, pidfd
        self.returncode: int | None = None
        self.ended: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.stdin: asyncio.WriteTransport | None = None
        self.stdout = asyncio.StreamReader()
        self.stderr = asyncio.StreamReader()

    async def connect(self, stdin: int, stdout: int, stderr: int) -> None:
        """Take over the server's ends of the app's pipes (the transports close them)."""
        loop = asyncio.get_running_loop()
        for fd, reader in ((stdout, self.stdout), (stderr, self.stderr)):
            pipe = open(fd, "rb", buffering=0)  # noqa: SIM115  (the transport owns it)
            await loop.connect_read_pipe(partial(asyncio.StreamReaderProtocol, reader), pipe)
        pipe = open(stdin, "wb", buffering=0)  # noqa: SIM115
        self.stdin, _protocol = await loop.connect_write_pipe(asyncio.Protocol, pipe)

    def send_signal(self, signum: int) -> None:
        """Through the pidfd: once the app is gone (and its pid perhaps someone else's), a
        ProcessLookupError."""
        if self.returncode is not None:
            raise ProcessLookupError(self.pid)
        signal.pidfd_send_signal(self.pidfd, signum)

    def end(self, code: int) -> None:
        self.returncode = code
        os.close(self.pidfd)
        if not self.ended.done():
            self.ended.set_result(code)

    async def wait(self) -> int:
        return await asyncio.shield(self.ended)


class TabForks:
    """The fork server, from the server's side. `fork` starts an app; `close` waits for every
    app it started to end, then ends the fork server."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.process: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.starting: deque[asyncio.Future[ForkedApp]] = deque()
        self.apps: dict[int, ForkedApp] = {}

    def start(self) -> None:
        """Start the fork server (it preloads in the background); a no-op while it runs."""
        if self.control is not None:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # Started with Ctrl+C blocked (a blocked signal survives fork and exec), as compare's
        # forkserver is: a Ctrl+C before it has set its handler would print a traceback.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from nnplay.fork_server import main; main()",
                    str(theirs.fileno()),
                    self.language,
                ],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # its errors go to the server's stderr
                env=os.environ | WEB_DRIVER_ENVIRONMENT,
            )
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            theirs.close()
        self.control = ours
        asyncio.get_running_loop().add_reader(ours.fileno(), self.on_message)

    async def fork(self, argv: list[str], env: dict[str, str]) -> ForkedApp:
        """A new app running `nnplay ARGV` with `env` added. If the caller is cancelled while
        the fork server forks, the app is killed as soon as it is known."""
        self.start()
        assert self.control is not None
        pipes = [os.pipe() for _ in range(3)]
        theirs = [pipes[0][0], pipes[1][1], pipes[2][1]]
        request = json.dumps({"argv": argv, "env": env}).encode()
        if len(request) > MAX_REQUEST:
            raise ValueError("the app's command is too long")
        started: asyncio.Future[ForkedApp] = asyncio.get_running_loop().create_future()
        try:
            socket.send_fds(self.control, [request], theirs)
        except OSError:
            for fd in (fd for pipe in pipes for fd in pipe):
                os.close(fd)
            self.gone()
            raise ForkServerGone() from None
        for fd in theirs:
            os.close(fd)
        self.starting.append(started)
        try:
            app = await asyncio.shield(started)
        except BaseException:
            for fd in (pipes[0][1], pipes[1][0], pipes[2][0]):
                os.close(fd)
            raise
        await app.connect(pipes[0][1], pipes[1][0], pipes[2][0])
        return app

    def on_message(self) -> None:
        assert self.control is not None
        try:
            message, fds, _flags, _address = socket.recv_fds(self.control, 4096, 1)
        except OSError:
            message, fds = b"", []
        if not message:
            self.gone()
            return
        answer = json.loads(message)
        if "started" in answer:
            app = ForkedApp(answer["started"], fds[0])
            self.apps[app.pid] = app
            started = self.starting.popleft()
            if started.cancelled():
                app.send_signal(signal.SIGKILL)  # its tab is gone already
            else:
                started.set_result(app)
        elif "ended" in answer and answer["ended"] in self.apps:
            self.apps.pop(answer["ended"]).end(answer["code"])
        elif "failed" in answer:
            self.starting.popleft().set_exception(ForkServerGone())

    def gone(self) -> None:
        """The fork server ended: no app it started is known to be running any more (each
        ends by its parent-death signal), and the next tab starts a new one."""
        if self.control is None:
            return
        asyncio.get_running_loop().remove_reader(self.control.fileno())
        self.control.close()
        self.control = None
        while self.starting:
            started = self.starting.popleft()
            if not started.done():
                started.set_exception(ForkServerGone())
        for app in self.apps.values():
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(app.pidfd, signal.SIGKILL)
            app.end(-signal.SIGKILL)
        self.apps.clear()
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_GRACE)

    async def close(self) -> None:
        """Once every app has ended, end the fork server."""
        await asyncio.gather(*(app.wait() for app in list(self.apps.values())))
        process = self.process
        self.gone()
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
