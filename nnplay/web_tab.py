"""One browser tab's app for `nnplay serve`: a process speaking Textual's web-driver protocol.

The server has `nnplay PRESET_OR_PATH` forked for a tab by its fork server (tab_forks), relays
its screen to the browser and the browser's keys to it, and bounds it: the keys a tab may send
are rate-limited, and when the tab goes the app is asked to quit, then sent SIGTERM, then
SIGKILL, each after a grace period. A tab counts against --max-tabs until its process is gone,
not merely until its page is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import time
from collections.abc import Awaitable, Callable

from nnplay.i18n import _
from nnplay.tab_forks import ForkedApp, TabForks
from nnplay.tab_status import TabStatus, read_status
from nnplay.untrusted import shown

QUIT_GRACE = 2.0  # seconds for the app to quit when asked, then as long again after SIGTERM
# Every byte of input is a key event the app handles one by one: typing and a moving mouse send
# about 1 kB a second, a pasted path a few hundred bytes.
INPUT_RATE = 16 * 1024  # bytes a second a tab may send its app
INPUT_BURST = 32 * 1024  # bytes at once
MESSAGE_COST = 64  # bytes each message counts for on top of its size: a resize costs a relayout
MOST_QUEUED = 256 * 1024  # bytes waiting for an app that does not read its input; more are dropped
MOST_PACKET = 16 * 2**20  # one screen update from the app
READY_LINES = 10  # lines of start-up output before the app's "ready" line
READY = b"__GANGLION__\n"  # Textual's web driver writes it once it runs
ERROR_LINE = re.compile(r"^[A-Z]\w*: .*$", re.MULTILINE)  # "NoMatches: No nodes match ..."


class InputBudget:
    """A token bucket: `rate` bytes a second, at most `burst` at once."""

    def __init__(self, rate: float = INPUT_RATE, burst: float = INPUT_BURST, clock=time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.left, self.since = burst, clock()

    def take(self, size: int) -> bool:
        now = self.clock()
        self.left = min(self.burst, self.left + (now - self.since) * self.rate)
        self.since = now
        if size > self.left:
            return False
        self.left -= size
        return True


async def bounded(task: asyncio.Task) -> None:
    """Wait for a task that reads the app's output, cancelling it after QUIT_GRACE: once the app
    is gone its pipes end, unless a process it started still holds them."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(task, QUIT_GRACE)


def tab_environment(width: int, height: int) -> dict[str, str]:
    """What the app's environment adds to the fork server's: the browser's screen size."""
    return {"COLUMNS": str(width), "ROWS": str(height)}


class TabApp:
    """The app process of one tab. `send_screen` and `close_tab` reach the browser."""

    def __init__(
        self,
        forks: TabForks,
        argv: list[str],
        send_screen: Callable[[bytes], Awaitable[None]],
        close_tab: Callable[[], Awaitable[object]],
    ) -> None:
        self.forks, self.argv = forks, argv
        self.send_screen, self.close_tab = send_screen, close_tab
        self.budget = InputBudget()
        self.forking: asyncio.Future[ForkedApp] | None = None
        self.process: ForkedApp | None = None
        self.relay: asyncio.Task | None = None
        self.errors = b""  # the end of the app's stderr, for a line in the server's log
        self.ended_by_us = False
        self.opened = time.monotonic()
        self.status: TabStatus | None = None  # what its app last reported, for the teacher

    async def start(self, width: int, height: int) -> None:
        # Shielded: a tab closed while its app is forked still stops that app (stop()).
        self.forking = asyncio.ensure_future(
            self.forks.fork(self.argv, tab_environment(width, height))
        )
        self.process = await asyncio.shield(self.forking)
        self.relay = asyncio.create_task(self.relay_screen())

    async def relay_screen(self) -> None:
        """The app's output to the browser until the app ends (or the tab does)."""
        assert self.process is not None and self.process.stdout is not None
        stdout = self.process.stdout
        errors = asyncio.create_task(self.keep_errors())
        try:
            for _line in range(READY_LINES):
                if await stdout.readline() in (READY, b""):
                    break
            while True:
                kind = await stdout.readexactly(1)
                size = int.from_bytes(await stdout.readexactly(4), "big")
                if size > MOST_PACKET:
                    break
                payload = await stdout.readexactly(size)
                if kind == b"D":
                    await self.send_screen(payload)
                elif kind == b"M" and (status := read_status(payload)) is not None:
                    self.status = status
                elif kind == b"M" and json.loads(payload).get("type") == "exit":
                    await self.close_tab()
        except (
            asyncio.IncompleteReadError,
            ConnectionError,
            ValueError,
            AttributeError,
            RecursionError,
        ):
            pass  # the app ended, the tab went, or a packet made no sense: the tab is over
        finally:
            await bounded(errors)
            # An app that ended by itself (or was killed) ends its tab: the page says so, and the
            # tab's place under --max-tabs is freed.
            with contextlib.suppress(ConnectionError):
                await self.close_tab()

    async def keep_errors(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        while chunk := await self.process.stderr.read(4096):
            self.errors = (self.errors + chunk)[-4096:]

    def allows(self, message_size: int) -> bool:
        """Whether the tab's budget allows one more message from the browser."""
        return self.budget.take(message_size + MESSAGE_COST)

    def send_input(self, data: bytes) -> bool:
        """Keys and mouse for the app; False when dropped."""
        return self.send_packet(b"D", data)

    def send_meta(self, meta: dict) -> bool:
        return self.send_packet(b"M", json.dumps(meta).encode())

    def send_packet(self, kind: bytes, payload: bytes) -> bool:
        stdin = self.process.stdin if self.process else None
        if stdin is None or stdin.is_closing():
            return False
        if stdin.get_write_buffer_size() > MOST_QUEUED:
            return False  # the app does not keep up: never queue without bound, never wait
        stdin.write(kind + len(payload).to_bytes(4, "big") + payload)
        return True

    async def stop(self) -> None:
        """Ask the app to quit; SIGTERM, then SIGKILL, if it does not within the grace period.
        Returns once the process is gone."""
        if self.process is None and self.forking is not None:
            with contextlib.suppress(ConnectionError):
                self.process = await self.forking
        process = self.process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ConnectionError):
                self.send_meta({"type": "quit"})
            for ending in (None, signal.SIGTERM, signal.SIGKILL):
                if ending is not None:
                    self.ended_by_us = True
                    with contextlib.suppress(ProcessLookupError):
                        process.send_signal(ending)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), QUIT_GRACE)
                    break
        await process.wait()
        if self.relay is not None:
            await bounded(self.relay)
        if process.stdin is not None:
            process.stdin.close()

    def ending(self) -> str | None:
        """One line for the server's log when the app ended on its own with an error: the
        error's own line from its stderr (`Name: what`), not the whole traceback."""
        code = self.process.returncode if self.process else None
        if code in (None, 0) or self.ended_by_us:
            return None
        text = self.errors.decode("utf-8", "replace")
        errors = ERROR_LINE.findall(text) or [_("no error line")]
        message = _("a tab's app ended with exit code {code}: {reason}")
        return message.format(code=code, reason=shown(errors[-1].strip(), 200))
