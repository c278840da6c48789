"""`nnplay serve`: every tab's app ends with its tab and with its server, and --max-tabs holds
while tabs open and close during start-up. Processes are checked in /proc."""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

import aiohttp
import pytest

from nnplay.web_tab import QUIT_GRACE
from tests.command_line import environment
from tests.served import alive, served, tab_processes, wait_until

GONE_WITHIN = 4 * QUIT_GRACE + 5  # quit, SIGTERM and SIGKILL each get QUIT_GRACE; a busy machine
SIZES = [(120, 40), (200, 60), (1000, 500)]  # the sizes the probe found spinning


def meta(data: dict) -> bytes:
    payload = json.dumps(data).encode()
    return b"M" + len(payload).to_bytes(4, "big") + payload


def test_an_app_told_to_quit_while_it_starts_ends_by_itself():
    """The cause: a resize and a quit in the app's first moments made Textual relayout the
    closing screen back and forth forever, at 100% CPU and deaf to SIGTERM. No signal here."""
    app = subprocess.Popen(
        [sys.executable, "-m", "nnplay", "--lang", "en", "circle"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,  # a pipe, as from the server: the web driver needs one
        stderr=subprocess.DEVNULL,
        env=environment(
            {"TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver", "COLUMNS": "80"}
        ),
    )
    threading.Thread(target=app.stdout.read, daemon=True).start()  # the screen, unread
    try:
        app.stdin.write(meta({"type": "resize", "width": 120, "height": 40}))
        app.stdin.flush()
        time.sleep(0.3)
        app.stdin.write(meta({"type": "quit"}))
        app.stdin.flush()
        app.wait(GONE_WITHIN)  # TimeoutExpired before the fix: the app spun
    finally:
        app.kill()
        app.wait()


async def open_and_close(base: str, size, after: float) -> None:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
        http.ws_connect(f"{base}/ws", headers={"Origin": base}) as ws,
    ):
        await ws.send_str(json.dumps(["resize", {"width": size[0], "height": size[1]}]))
        await asyncio.sleep(after)


async def watch(port: int, seen: list[int], stop: asyncio.Event) -> None:
    """Count the server's live apps every 50 ms until `stop`."""
    while not stop.is_set():
        seen.append(len(tab_processes(port, apps_only=True)))
        await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_tabs_closed_while_their_apps_start_leave_no_process(tmp_path):
    with served(tmp_path / "serve.log", "circle", "--max-tabs", "2") as (proc, port):
        base = f"http://127.0.0.1:{port}"
        seen: list[int] = []
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch(port, seen, stop))
        # Two at a time, resized and closed after 0.3 s (the probe's case, three sizes), then
        # some closed at once and some while PyTorch loads.
        for round_ in range(3):
            await asyncio.gather(
                *(open_and_close(base, SIZES[(round_ + i) % 3], 0.3) for i in range(2))
            )
        for after in (0.0, 1.0, 2.0):
            await open_and_close(base, SIZES[0], after)
        gone = await asyncio.to_thread(wait_until, lambda: not tab_processes(port), GONE_WITHIN)
        stop.set()
        await watcher
        assert gone, f"apps left: {tab_processes(port)}"
        assert max(seen) <= 2, f"more apps than --max-tabs 2 at once: {max(seen)}"
        assert proc.poll() is None  # the server is still serving
    log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in log, log


async def test_a_flooded_tab_lets_its_app_go(tmp_path):
    """A 60 kB x 200 stdin flood kept an app busy for over a minute after its tab dropped."""
    with served(tmp_path / "serve.log", "circle") as (_proc, port):
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            ws = await http.ws_connect(f"{base}/ws?width=100&height=30", headers={"Origin": base})
            await asyncio.wait_for(ws.receive(), 30)  # the app has started
            flood = json.dumps(["stdin", "x" * 60_000])
            for _ in range(200):
                await ws.send_str(flood)
            await ws.close()
            dropped = time.monotonic()
        gone = await asyncio.to_thread(wait_until, lambda: not tab_processes(port), GONE_WITHIN)
        assert gone, f"the app was still there {time.monotonic() - dropped:.0f} s after its tab"


def test_an_app_ends_when_its_server_is_gone_even_if_it_ignores_sigterm(tmp_path):
    """SIGKILL of the server runs no clean-up, and an app stuck in a loop ignores the SIGTERM
    Linux sends it: its watchdog ends it anyway."""
    child = (
        "import os, signal, time; from nnplay.serve import end_with_the_server; "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); end_with_the_server(); "
        "print(os.getpid(), flush=True); time.sleep(120)"
    )
    parent = (
        "import os, subprocess, sys, time; "
        f"subprocess.Popen([sys.executable, '-c', {child!r}], "
        "env=os.environ | {'NNPLAY_SERVER_PID': str(os.getpid())}); time.sleep(120)"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        app = int(server.stdout.readline())
        assert alive(app)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(10)
        assert wait_until(lambda: not alive(app), GONE_WITHIN), "the app outlived its server"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
