"""`nnplay serve` with a few tabs opened at once, as a class does: every tab's app (forked by the
fork server) draws its screen and trains, and stopping the server, by Ctrl+C or by SIGKILL,
leaves no process behind: no app, no helper of an app, no fork server. A fork server killed
under a running server is replaced."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal

import aiohttp
import pytest

from nnplay.fork_server import SERVER_NAME
from nnplay.web_tab import QUIT_GRACE
from tests.served import marked_processes, served, stop, tab_processes, wait_until

TRAIN_TIMEOUT = 90  # seconds for every tab to start and train an epoch on a busy machine
GONE_WITHIN = 4 * QUIT_GRACE + 5  # quit, SIGTERM and SIGKILL each get QUIT_GRACE; a busy machine
TRAINED = re.compile(rb"epoch [1-9]\d*/")  # the status line once an epoch is done
# Long enough that every tab is still training when the server is stopped.
EXERCISE = (
    '[meta]\ntitle = "load"\n[task]\nname = "xor"\nsamples = 200\nval_samples = 100\n'
    "[training]\nepochs = 5000\n"
)


class Tab:
    """A simulated browser tab: it reads the screen as it comes and notes what it showed."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base = http, base
        self.drawn = self.started = self.trained = False
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def run(self) -> None:
        self.ws = await self.http.ws_connect(
            f"{self.base}/ws?width=120&height=40", headers={"Origin": self.base}
        )
        tail = b""
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.BINARY:
                continue
            tail = tail[-64:] + message.data
            self.drawn = self.drawn or b"Charts" in tail  # the tabs' row is on the screen
            if self.drawn and not self.started and b"epoch 0/" in tail:  # built: train
                self.started = True
                await self.ws.send_str(json.dumps(["stdin", " "]))
            self.trained = self.trained or bool(TRAINED.search(tail))


async def open_tabs_that_train(port: int, count: int, stopping) -> None:
    """Open `count` tabs at once, wait until every one has drawn and trained, then call
    `stopping()` while they all still train."""
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as http:
        tabs = [Tab(http, base) for _ in range(count)]
        readers = [asyncio.create_task(tab.run()) for tab in tabs]
        every = await asyncio.to_thread(
            wait_until, lambda: all(tab.trained for tab in tabs), TRAIN_TIMEOUT
        )
        drawn, trained = sum(tab.drawn for tab in tabs), sum(tab.trained for tab in tabs)
        assert every, f"of {count} tabs, {drawn} drew their screen and {trained} trained"
        assert len(tab_processes(port, apps_only=True)) == count
        await asyncio.to_thread(stopping)
        await asyncio.wait(readers, timeout=GONE_WITHIN)
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)


@pytest.mark.slow
async def test_tabs_opened_at_once_draw_train_and_end_with_ctrl_c(tmp_path):
    exercise = tmp_path / "load.toml"
    exercise.write_text(EXERCISE)
    with served(tmp_path / "serve.log", str(exercise), "--max-tabs", "4") as (proc, port):
        codes = []
        await open_tabs_that_train(port, 4, lambda: codes.append(stop(proc)))
        assert codes == [0]
        gone = await asyncio.to_thread(wait_until, lambda: not marked_processes(port), 10)
        assert gone, f"outlived the server: {marked_processes(port)}"
    log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in log and "a tab closed (0 open)" in log, log


@pytest.mark.slow
async def test_tabs_that_train_end_when_the_server_is_killed(tmp_path):
    exercise = tmp_path / "load.toml"
    exercise.write_text(EXERCISE)
    with served(tmp_path / "serve.log", str(exercise), "--max-tabs", "3") as (proc, port):
        await open_tabs_that_train(port, 3, lambda: os.kill(proc.pid, signal.SIGKILL))
        gone = await asyncio.to_thread(wait_until, lambda: not marked_processes(port), GONE_WITHIN)
        assert gone, f"outlived the killed server: {marked_processes(port)}"


async def test_a_killed_fork_server_ends_its_tabs_and_the_next_tab_gets_a_new_one(tmp_path):
    """Someone kills the fork server: its app ends, the tab is told (its websocket closes) and
    its place is freed, so with --max-tabs 1 the next tab gets an app from a new fork server."""
    with served(tmp_path / "serve.log", "circle", "--max-tabs", "1") as (_proc, port):
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            first = Tab(http, base)
            reader = asyncio.create_task(first.run())
            assert await asyncio.to_thread(wait_until, lambda: first.started, TRAIN_TIMEOUT)
            (fork_server,) = [
                pid for pid, (name, _env) in marked_processes(port).items() if name == SERVER_NAME
            ]
            os.kill(fork_server, signal.SIGKILL)
            await asyncio.wait_for(reader, GONE_WITHIN)  # the server closed the tab
            assert not tab_processes(port, apps_only=True)
            second = Tab(http, base)
            reader = asyncio.create_task(second.run())
            assert await asyncio.to_thread(wait_until, lambda: second.trained, TRAIN_TIMEOUT)
            assert second.drawn and len(tab_processes(port, apps_only=True)) == 1
            await second.ws.close()
            await asyncio.wait_for(reader, GONE_WITHIN)
    log = (tmp_path / "serve.log").read_text()
    assert "a tab's app ended with exit code -9" in log and "Traceback" not in log, log
