"""`nnplay serve` under a class: N simulated browser tabs opening at once over loopback websockets.

    python benchmarks/bench_serve.py [--tabs 1 10 30] [--tree PATH] [--speed] [--json]

For each N, a fresh `nnplay serve circle --max-tabs N` (PYTHONPATH=--tree, default this tree:
give an older checkout to measure it the same way), left --settle seconds after it accepts
connections (a teacher starts it before the class comes in), then N tabs open at once:
- first screen: seconds from opening the websocket until the app's screen is drawn (its "Charts"
  tab label has arrived), and until its network is built ("epoch 0/"), p50/p95/max;
- CPU seconds each tab's processes spent until every network was built (load-independent);
- PSS per tab while every tab trains (space pressed in each, read --sample seconds later from
  /proc/PID/smaps_rollup): the apps, their helpers and the fork server, divided by N; the
  server's own PSS beside it.

--speed: circle at SPEED_EPOCHS epochs trained once in one browser tab (simulated; with
--browser, headless Chromium: xterm.js draws every frame) and once in the app in a terminal of
the same size (a pseudo-terminal the benchmark reads as fast as a terminal would), interleaved,
--repeats times: wall steps/s from the space key to "finished" on the screen (the steps are the
run's, the time includes every frame sent), and the ratio tab / terminal (target >= 0.8).

The machine may be loaded by others: the load average is printed with every figure, and ratios
(this tree against an older one, a tab against a terminal) say more than seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import pty
import re
import select
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import aiohttp

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
from tests.test_serve_browser import CATCH_TERMINAL, STEP_TIMEOUT, Page, chromium  # noqa: E402

MARK = "NNPLAY_BENCH_SERVE"  # every process of the server inherits it: found in /proc
SIZE = (120, 40)
FIRST_SCREEN, BUILT, FINISHED = b"Charts", b"epoch 0/", b"finished"
SPEED_EPOCHS = 300  # 9,600 steps: about 8 s in a terminal here
STEPS = re.compile(rb"step ([\d,]+) ")


def load() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(tree: str, port: int) -> dict[str, str]:
    return os.environ | {"PYTHONPATH": os.path.abspath(tree), MARK: str(port)}


@contextlib.contextmanager
def server(tree: str, target: str, tabs: int, log_path: str):
    """(process, port) of `nnplay serve TARGET --max-tabs TABS`, stopped with Ctrl+C at the end."""
    port = free_port()
    argv = [sys.executable, "-m", "nnplay", "--lang", "en", "serve", target]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [*argv, "--port", str(port), "--max-tabs", str(tabs)],
            env=environment(tree, port),
            cwd=tree,  # `-m` puts the working folder first on the path
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if proc.poll() is not None:
                raise SystemExit(Path(log_path).read_text())
            time.sleep(0.1)
        yield proc, port
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def marked(port: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if f"{MARK}={port}".encode() in f.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def cpu_seconds(pid: int) -> float:
    """User and system time of a process so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Tab:
    """One simulated browser tab: what it received, and when."""

    def __init__(self) -> None:
        self.opened = time.perf_counter()
        self.seen: dict[bytes, float] = {}
        self.data = bytearray()
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    def waited(self, mark: bytes) -> float | None:
        return self.seen[mark] - self.opened if mark in self.seen else None

    async def run(self, http: aiohttp.ClientSession, base: str, marks: list[bytes]) -> None:
        """Read the screen as a browser would, noting when each of `marks` first arrives."""
        url = f"{base}/ws?width={SIZE[0]}&height={SIZE[1]}"
        self.ws = await http.ws_connect(url, headers={"Origin": base}, max_msg_size=0)
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.BINARY:
                continue
            self.data += message.data
            tail = bytes(self.data[-len(message.data) - 16 :])
            for mark in marks:
                if mark not in self.seen and mark in tail:
                    self.seen[mark] = time.perf_counter()
            if len(self.data) > 1 << 20:
                del self.data[: -(1 << 16)]

    async def until(self, mark: bytes, timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        while mark not in self.seen and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        return mark in self.seen

    async def press(self, keys: str) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps(["stdin", keys]))


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": statistics.median(ordered),
        "p95": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "max": ordered[-1],
    }


async def open_tabs(server_pid: int, port: int, tabs: int, sample: float, timeout: float) -> dict:
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as http:
        opened = [Tab() for _ in range(tabs)]
        readers = [
            asyncio.create_task(tab.run(http, base, [FIRST_SCREEN, BUILT])) for tab in opened
        ]
        before = {pid: cpu_seconds(pid) for pid in marked(port) if pid != server_pid}
        await asyncio.gather(*(tab.until(BUILT, timeout) for tab in opened))
        # What starting cost the apps (the fork server's preloading was done before).
        started_cpu = sum(
            cpu_seconds(pid) - before.get(pid, 0.0) for pid in marked(port) if pid != server_pid
        )
        for tab in opened:
            if tab.ws is not None:
                await tab.press(" ")
        await asyncio.sleep(sample)
        shared = [pss_mb(pid) for pid in marked(port) if pid != server_pid]
        result = {
            "tabs": tabs,
            "load": load(),
            "drawn": sum(tab.waited(FIRST_SCREEN) is not None for tab in opened),
            "first_screen_s": percentiles([tab.waited(FIRST_SCREEN) or timeout for tab in opened]),
            "built_s": percentiles([tab.waited(BUILT) or timeout for tab in opened]),
            "cpu_per_tab_s": started_cpu / tabs,
            "pss_per_tab_mb": sum(shared) / tabs,
            "processes": len(shared),
            "server_pss_mb": pss_mb(server_pid),
        }
        for tab in opened:
            if tab.ws is not None:
                await tab.ws.close()
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    return result


def experiment_file(folder: str) -> str:
    """circle at SPEED_EPOCHS epochs, as an experiment file (saved by `nnplay train --save`)."""
    path = os.path.join(folder, "circle-long.toml")
    subprocess.run(
        [sys.executable, "-m", "nnplay", "train", "circle"]
        + ["--set", f"training.epochs={SPEED_EPOCHS}", "--save", path],
        env=os.environ | {"PYTHONPATH": ROOT},
        check=True,
        capture_output=True,
    )
    return path


def steps_of(screen: bytes) -> int:
    return int(STEPS.findall(screen)[-1].replace(b",", b""))


async def tab_rate(port: int, timeout: float = 600) -> float:
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as http:
        tab = Tab()
        reader = asyncio.create_task(tab.run(http, base, [BUILT, FINISHED]))
        assert await tab.until(BUILT, 120), "the tab's network was not built"
        await asyncio.sleep(1)
        started = time.perf_counter()
        await tab.press(" ")
        assert await tab.until(FINISHED, timeout), "the tab's run did not finish"
        rate = steps_of(bytes(tab.data[-20000:])) / (tab.seen[FINISHED] - started)
        await tab.ws.close()
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
    return rate


def terminal_rate(tree: str, path: str, size: tuple[int, int], timeout: float = 600) -> float:
    """The app in a pseudo-terminal of `size` (columns, rows), its output read as it comes."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(PYTHONPATH=os.path.abspath(tree))
        os.chdir(tree)
        os.execv(sys.executable, [sys.executable, "-m", "nnplay", "--lang", "en", path])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    screen, started, mark = bytearray(), None, 0
    deadline = time.perf_counter() + timeout
    try:
        while time.perf_counter() < deadline:
            if select.select([fd], [], [], 0.05)[0]:
                screen += os.read(fd, 1 << 16)
            if started is None and BUILT in screen:
                time.sleep(1)
                started, mark = time.perf_counter(), len(screen)
                os.write(fd, b" ")
            if started is not None and FINISHED in screen[mark:]:
                return steps_of(bytes(screen[-20000:])) / (time.perf_counter() - started)
        raise SystemExit("the terminal's run did not finish")
    finally:
        os.write(fd, b"q")
        with contextlib.suppress(ChildProcessError):
            time.sleep(1)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


async def browser_rate(devtools_port: int, url: str) -> tuple[float, tuple[int, int]]:
    """(wall steps/s, (columns, rows)) of the run in a Chromium tab, read from its screen."""
    timeout = aiohttp.ClientTimeout(total=None)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        async with http.get(f"http://127.0.0.1:{devtools_port}/json/list") as answer:
            tab = next(t for t in await answer.json() if t["type"] == "page")
        async with http.ws_connect(tab["webSocketDebuggerUrl"], max_msg_size=0) as socket:
            page = Page(socket)
            await page.call("Page.enable")
            await page.call("Page.addScriptToEvaluateOnNewDocument", source=CATCH_TERMINAL)
            await page.call(
                "Emulation.setDeviceMetricsOverride",
                width=1600,
                height=800,
                deviceScaleFactor=1,
                mobile=False,
            )
            await page.call("Page.navigate", url=url)
            await page.wait_for(r"ready\s+epoch 0/")
            await page.call(
                "Runtime.evaluate",
                expression="document.querySelector('.xterm-helper-textarea').focus()",
            )
            size = await page.call(
                "Runtime.evaluate",
                expression="[window.nnplayTerminal.cols, window.nnplayTerminal.rows]",
                returnByValue=True,
            )
            started = time.perf_counter()
            await page.press_space()
            deadline = started + 20 * STEP_TIMEOUT
            while time.perf_counter() < deadline:
                if found := re.search(
                    r"finished\s+epoch \d+/\d+\s+step ([\d,]+)", await page.screen()
                ):
                    steps = int(found[1].replace(",", ""))
                    columns, rows = size["result"]["value"]
                    return steps / (time.perf_counter() - started), (columns, rows)
                await asyncio.sleep(0.1)
    raise SystemExit("the browser's run did not finish")


def speed(tree: str, repeats: int, settle: float, browser: bool) -> dict:
    """Interleaved runs: a tab (simulated, or Chromium), then the app in a terminal of the
    tab's size."""
    with tempfile.TemporaryDirectory() as folder:
        path = experiment_file(folder)
        tab, terminal = [], []
        for _ in range(repeats):
            with server(tree, path, 1, os.path.join(folder, "serve.log")) as (_proc, port):
                time.sleep(settle)
                if browser:
                    with chromium(Path(tempfile.mkdtemp(dir=folder))) as devtools:
                        url = f"http://127.0.0.1:{port}/"
                        rate, size = asyncio.run(browser_rate(devtools, url))
                else:
                    rate, size = asyncio.run(tab_rate(port)), SIZE
                tab.append(rate)
            terminal.append(terminal_rate(tree, path, size))
    return {
        "load": load(),
        "tab_steps_per_s": statistics.median(tab),
        "terminal_steps_per_s": statistics.median(terminal),
        "ratio": statistics.median(tab) / statistics.median(terminal),
        "runs": {"tab": tab, "terminal": terminal},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, nargs="*", default=[1, 10, 30])
    parser.add_argument("--tree", default=ROOT, help="the nnplay checkout to serve")
    parser.add_argument("--settle", type=float, default=15.0)
    parser.add_argument("--sample", type=float, default=8.0)
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--browser", action="store_true", help="--speed in headless Chromium")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for tabs in args.tabs:
            log = os.path.join(folder, "serve.log")
            with server(args.tree, "circle", tabs, log) as (proc, port):
                time.sleep(args.settle)
                result = asyncio.run(open_tabs(proc.pid, port, tabs, args.sample, args.timeout))
            results.append(result)
            first, built = result["first_screen_s"], result["built_s"]
            print(
                f"{tabs:3d} tabs  drawn {result['drawn']}/{tabs}  first screen p50 "
                f"{first['p50']:.2f} p95 {first['p95']:.2f} max {first['max']:.2f} s  "
                f"network built p50 {built['p50']:.2f} p95 {built['p95']:.2f} max "
                f"{built['max']:.2f} s  CPU to build {result['cpu_per_tab_s']:.2f} s  "
                f"PSS per tab {result['pss_per_tab_mb']:.0f} MB "
                f"(server {result['server_pss_mb']:.0f} MB)  load {result['load']}",
                flush=True,
            )
    if args.speed:
        result = speed(args.tree, args.repeats, args.settle, args.browser)
        results.append(result)
        print(
            f"training circle x{SPEED_EPOCHS} epochs  browser tab "
            f"{result['tab_steps_per_s']:,.0f} steps/s  terminal "
            f"{result['terminal_steps_per_s']:,.0f} steps/s  ratio {result['ratio']:.2f}x  "
            f"(medians of {args.repeats})  load {result['load']}",
            flush=True,
        )
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
