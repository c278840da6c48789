"""`nnplay serve` in a real browser: headless Chromium opens the page, waits for the playground,
presses space and sees the epoch counter move; it saves a screenshot.

Chromium is driven over the DevTools protocol with aiohttp (already installed with textual-serve).
It may only resolve 127.0.0.1, as in an offline classroom: every request the page makes goes to
the server, and its font is the server's. Skipped only when no Chromium is installed (`.ci/run`
installs it).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import shutil
import subprocess
import time

import aiohttp
import pytest

from tests.served import served

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on PATH: install Debian's `chromium` package "
    "(.ci/run does) to test `nnplay serve` in a real browser",
)

WIDTH, HEIGHT = 1600, 800  # wide enough for the whole status line
STEP_TIMEOUT = 40  # seconds for any one wait below (the app imports torch on a shared machine)

# The page keeps its xterm.js terminal in a private variable; this records it when the page's
# code assigns `something.terminal = new Terminal(...)`, so the test can read the screen's text.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, 'terminal', {configurable: true, set(value) {
  Object.defineProperty(this, 'terminal', {value, writable: true, configurable: true});
  if (value && value.buffer && value.write) window.nnplayTerminal = value;
}});
"""
SCREEN_TEXT = """(() => {
  const term = window.nnplayTerminal;
  if (!term) return '';
  const lines = [];
  for (let y = 0; y < term.rows; y++) lines.push(term.buffer.active.getLine(y).translateToString(true));
  return lines.join('\\n');
})()"""


@contextlib.contextmanager
def chromium(profile):
    """Headless Chromium with a DevTools port; yields that port; always ends the browser."""
    proc = subprocess.Popen(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        active = profile / "DevToolsActivePort"  # Chromium writes its port here
        deadline = time.monotonic() + STEP_TIMEOUT
        while not (active.exists() and active.read_text().strip()):
            assert proc.poll() is None, f"Chromium ended with exit code {proc.returncode}"
            assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
            time.sleep(0.1)
        yield int(active.read_text().split()[0])
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


class Page:
    """One browser tab, driven by DevTools protocol commands."""

    def __init__(self, socket):
        self.socket, self.last_id = socket, 0
        self.requested: list[str] = []  # every URL the page asked for (Network.enable)

    async def call(self, method: str, **params) -> dict:
        self.last_id += 1
        await self.socket.send_json({"id": self.last_id, "method": method, "params": params})
        while True:  # events arrive in between; only our answer matters
            message = await self.socket.receive_json()
            if message.get("method") == "Network.requestWillBeSent":
                self.requested.append(message["params"]["request"]["url"])
            if message.get("id") == self.last_id:
                assert "error" not in message, message
                return message["result"]

    async def screen(self) -> str:
        answer = await self.call("Runtime.evaluate", expression=SCREEN_TEXT, returnByValue=True)
        return answer["result"].get("value", "")

    async def wait_for(self, pattern: str) -> re.Match:
        """Poll the terminal's text (10 times a second, at most STEP_TIMEOUT seconds)."""
        text = ""
        for _ in range(STEP_TIMEOUT * 10):
            text = await self.screen()
            if found := re.search(pattern, text):
                return found
            await asyncio.sleep(0.1)
        raise AssertionError(f"never saw {pattern!r}; the screen was:\n{text}")

    async def press_space(self) -> None:
        for kind in ("keyDown", "keyUp"):
            await self.call(
                "Input.dispatchKeyEvent",
                type=kind,
                key=" ",
                code="Space",
                windowsVirtualKeyCode=32,
                text=" " if kind == "keyDown" else "",
            )

    async def screenshot(self, path) -> None:
        answer = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(answer["data"]))


FONTS_LOADED = "[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)"


async def train_in_browser(devtools_port: int, url: str, screenshot) -> tuple[str, Page]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=STEP_TIMEOUT)) as http:
        async with http.get(f"http://127.0.0.1:{devtools_port}/json/list") as answer:
            tab = next(t for t in await answer.json() if t["type"] == "page")
        async with http.ws_connect(tab["webSocketDebuggerUrl"], max_msg_size=0) as socket:
            page = Page(socket)
            await page.call("Page.enable")  # else the script below is not run on navigation
            await page.call("Network.enable")
            await page.call("Page.addScriptToEvaluateOnNewDocument", source=CATCH_TERMINAL)
            await page.call(
                "Emulation.setDeviceMetricsOverride",
                width=WIDTH,
                height=HEIGHT,
                deviceScaleFactor=1,
                mobile=False,
            )
            await page.call("Page.navigate", url=url)
            await page.wait_for(r"ready\s+epoch 0/20")  # PyTorch loaded, the model built
            await page.call(
                "Runtime.evaluate",  # keys go to the terminal, as after a click
                expression="document.querySelector('.xterm-helper-textarea').focus()",
            )
            await page.press_space()
            await page.wait_for(r"epoch ([3-9]|1\d|20)/20")
            await page.screenshot(screenshot)
            fonts = await page.call("Runtime.evaluate", expression=FONTS_LOADED, returnByValue=True)
            assert fonts["result"]["value"] == ["Roboto Mono"], fonts  # the server's copy
            return await page.screen(), page


def test_the_playground_trains_in_a_browser(tmp_path):
    screenshot = tmp_path / "browser.png"
    with (
        served(tmp_path / "serve.log", "first-gt-fifth") as (_, port),
        chromium(tmp_path / "profile") as devtools_port,
    ):
        screen, page = asyncio.run(
            asyncio.wait_for(
                train_in_browser(devtools_port, f"http://127.0.0.1:{port}/", screenshot),
                timeout=3 * STEP_TIMEOUT,
            )
        )
    assert "nnplay — first-gt-fifth" in screen, screen
    assert page.requested and all(
        re.match(f"(http|ws)://127.0.0.1:{port}/", url) for url in page.requested
    ), page.requested
    assert re.search(r"(running|finished)\s+epoch \d+/20\s+step [\d,]+", screen), screen
    number = r"\d\.[\d.e+-]*"  # as `:.4g` writes a loss: 0.2, 0.1695, 0.09891
    assert re.search(f"loss {number} / val {number}  acc", screen), screen
    assert (
        screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 20_000
    )
