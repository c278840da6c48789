"""textual-serve's web server, hardened for `nnplay serve`.

Every request is checked for its Host first (the page, its websocket and /static/ alike): a web
page elsewhere whose name is made to point at this machine (DNS rebinding) must not get the
playground, which trains and writes files here. On loopback only loopback names are answered;
on other addresses, the names the server was started with, this machine's own addresses and
--allow-host names. The websocket also only accepts the pages this server served (Origin). At
most --max-tabs apps run at once, each forked by the fork server (tab_forks) and bounded by
web_tab; what a browser sends is checked (sizes, nesting, rate) before an app sees it.

The pages are nnplay's own (web_pages/), with nothing from another site, so that a classroom
works offline: textual-serve's script, styles and font, from this server. The console says when
a tab opens and closes; requests are logged only with --log, and then without their query (the
teacher's token) or the browser's description of itself.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import re
import signal
import socket
import time
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import WSMsgType, web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_runner import GracefulExit
from textual_serve.server import Server

from nnplay import i18n
from nnplay.i18n import _
from nnplay.tab_forks import TabForks
from nnplay.teacher_page import page_context, token_matches
from nnplay.untrusted import MAX_NESTING, nesting, shown
from nnplay.web_tab import TabApp

# What a browser may send as Host: a name or an IP (IPv6 in brackets), and a port.
HOST_HEADER = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")
MAX_COLUMNS, MAX_ROWS = 1000, 500  # a screen size from a browser is a number to check, too
MAX_MESSAGE = 1024 * 1024  # bytes in one websocket message (the budget in web_tab drops more)
PAGES = Path(__file__).parent / "web_pages"
# The teacher's page: no script, no frame, nothing fetched but itself; the token stays on it.
TEACHER_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


class HostNames:
    """The Host headers this server answers."""

    def __init__(self, loopback_only: bool, names: list[str]) -> None:
        self.loopback_only = loopback_only
        self.names = {name.lower().rstrip(".") for name in names}

    def accepts(self, header: str) -> bool:
        if not HOST_HEADER.fullmatch(header):
            return False
        name = host_name(header)
        if is_loopback_name(name):
            return True
        # Bound to loopback, only loopback names: a foreign name that resolves here is a
        # DNS-rebinding page, not the learner. Elsewhere the same holds for any name not given.
        return not self.loopback_only and (name in self.names or is_own_address(name))


class RequestLog(AbstractAccessLogger):
    """--log: one line a request, its path shown escaped (a path can hold terminal escapes)."""

    def log(self, request, response, elapsed: float) -> None:
        path = shown(request.path, 200)
        self.logger.info(f"{request.remote} {request.method} {path} {response.status}")


class PlaygroundServer(Server):
    def __init__(
        self,
        command: list[str],
        host: str,
        port: int,
        hosts: HostNames,
        max_tabs: int,
        teacher_token: str,
        log_requests: bool = False,
    ):
        super().__init__(" ".join(command), host=host, port=port, title="nnplay")
        self.argv, self.hosts, self.max_tabs = command, hosts, max_tabs
        self.teacher_token, self.log_requests = teacher_token, log_requests
        self.connections: set[asyncio.Task] = set()  # one per open tab, with an app or refused
        self.apps: set[TabApp] = set()  # each until its process is gone
        self.endings: set[asyncio.Task] = set()
        self.forks = TabForks(i18n.language())  # started with the server: it preloads meanwhile

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self.check_host])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(PAGES), autoescape=True)
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/teacher", self.handle_teacher, name="teacher"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.static("/static", self.statics_path, show_index=True, name="static"),
            ]
        )
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    def serve(self, debug: bool = False) -> None:
        loop = asyncio.new_event_loop()
        for stop in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(stop, self.request_exit)
        logging.basicConfig(level=logging.INFO, format="%(message)s")  # no tracebacks with locals
        web.run_app(
            self.application(),
            host=self.host,
            port=self.port,
            handle_signals=False,
            loop=loop,
            print=lambda *args: None,
            access_log=logging.getLogger("aiohttp.access") if self.log_requests else None,
            access_log_class=RequestLog,
        )

    def request_exit(self) -> None:
        raise GracefulExit()

    @web.middleware
    async def check_host(self, request: web.Request, handler):
        if not self.hosts.accepts(request.host or ""):
            raise web.HTTPForbidden(text=_("unknown host name"))
        return await handler(request)

    async def handle_index(self, request: web.Request) -> web.Response:
        """The page of one tab: its terminal, and what it says while it starts and ends."""
        context = {
            "lang": i18n.language(),
            "static": f"http://{request.host}/static/",
            "websocket": f"ws://{request.host}/ws",
            "starting": _("nnplay is starting…"),
            "ended": _("This playground has ended."),
            "restart": _("Start again"),
        }
        return aiohttp_jinja2.render_template("tab.html", request, context)

    async def handle_teacher(self, request: web.Request) -> web.Response:
        """Every open tab's run, for the one who holds the token."""
        if not token_matches(request.query.get("token", ""), self.teacher_token):
            raise web.HTTPForbidden(text=_("this page needs the teacher's link"))
        now = time.monotonic()
        tabs = [
            (tab.status, now - tab.opened) for tab in sorted(self.apps, key=lambda tab: tab.opened)
        ]
        page = aiohttp_jinja2.render_template(
            "teacher.html", request, page_context(tabs, self.max_tabs)
        )
        page.headers.update(TEACHER_HEADERS)
        return page

    async def handle_websocket(self, request: web.Request):
        if request.headers.get("Origin") != f"http://{request.host}":
            raise web.HTTPForbidden(text=_("this page was not served here"))
        size = screen_size(request.query.get("width", "80"), request.query.get("height", "24"))
        if size is None:
            message = _("the screen must be 1..{columns} x 1..{rows}")
            raise web.HTTPBadRequest(text=message.format(columns=MAX_COLUMNS, rows=MAX_ROWS))
        connection = asyncio.current_task()
        assert connection is not None  # a request handler always runs in a task
        self.connections.add(connection)
        try:
            # An app counts until its process is gone, even one whose tab went while it forked.
            if max(len(self.apps), len(self.forks.apps)) >= self.max_tabs:
                return await self.refuse(request)
            return await self.run_tab(request, size)
        finally:
            self.connections.discard(connection)

    async def run_tab(self, request: web.Request, size: tuple[int, int]) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE)
        tab = TabApp(self.forks, self.argv, socket.send_bytes, socket.close)
        self.apps.add(tab)
        say(_("a tab opened ({count} open)").format(count=len(self.apps)))
        try:
            await socket.prepare(request)
            await tab.start(*size)
            await self.relay_browser(socket, tab)
        except (ConnectionError, asyncio.CancelledError):
            pass  # the tab went, or the server is stopping
        finally:
            # The slot is held until the process is gone, even when this handler is cancelled.
            ending = asyncio.ensure_future(self.end(tab))
            self.endings.add(ending)
            await asyncio.shield(ending)
        return socket

    async def end(self, tab: TabApp) -> None:
        try:
            await tab.stop()
            if line := tab.ending():
                say(line)
        finally:
            self.apps.discard(tab)
            say(_("a tab closed ({count} open)").format(count=len(self.apps)))

    async def refuse(self, request: web.Request) -> web.WebSocketResponse:
        """Every app takes memory and a share of the cores: say so in the tab instead of
        starting one more, and wait until the tab goes."""
        socket = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE)
        await socket.prepare(request)
        message = _(
            "nnplay serve: already running as many playgrounds as allowed ({most}, see "
            "--max-tabs). Close a tab, then reload this page."
        )
        await socket.send_bytes(f"\r\n  {message.format(most=self.max_tabs)}\r\n".encode())
        async for _message in socket:
            pass
        return socket

    async def relay_browser(self, socket: web.WebSocketResponse, tab: TabApp) -> None:
        """The browser's messages to the app (textual-serve's protocol), each one checked: a
        malformed, too deeply nested or over-budget message is dropped, never a traceback, and
        a screen size must be in range."""
        async for message in socket:
            if message.type != WSMsgType.TEXT or not tab.allows(len(message.data)):
                continue
            kind, data = browser_message(message.data)
            if kind == "stdin" and isinstance(data, str):
                tab.send_input(data.encode("utf-8", "replace"))
            elif kind == "resize" and isinstance(data, dict):
                if size := screen_size(data.get("width"), data.get("height")):
                    tab.send_meta({"type": "resize", "width": size[0], "height": size[1]})
            elif kind == "ping" and isinstance(data, str):
                await socket.send_json(["pong", data])
            elif kind in ("blur", "focus"):
                tab.send_meta({"type": kind})

    async def on_shutdown(self, app: web.Application) -> None:
        """Ctrl+C: end every tab's connection now (which ends its app) rather than wait for
        the browsers to hang up, and return once every app's process is gone."""
        for connection in self.connections:
            connection.cancel()
        await asyncio.gather(*self.connections, return_exceptions=True)
        await asyncio.gather(*self.endings, return_exceptions=True)
        await self.forks.close()

    async def on_startup(self, app: web.Application) -> None:
        self.forks.start()
        shown = "localhost" if self.host in ("127.0.0.1", "localhost") else self.host
        url = f"http://{f'[{shown}]' if ':' in shown else shown}:{self.port}"
        message = _(
            "nnplay serve: open {url} in a web browser; every tab gets its own playground. "
            "Ctrl+C stops the server."
        )
        print(message.format(url=url), flush=True)
        teacher = _("nnplay serve: the teacher's page, for you alone: {url}")
        print(teacher.format(url=f"{url}/teacher?token={self.teacher_token}"), flush=True)


def say(line: str) -> None:
    print(f"nnplay serve: {line}", flush=True)


def browser_message(text: str) -> tuple[object, object]:
    """(kind, data) of a message `[kind, data?]`; (None, None) for anything else. The nesting
    is bounded before the parser sees it (a message 5,000 deep would exhaust its recursion)."""
    if nesting(text) > MAX_NESTING:
        return None, None
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(message, list) or not message:
        return None, None
    return message[0], message[1] if len(message) > 1 else None


def screen_size(width, height) -> tuple[int, int] | None:
    """(columns, rows) when both are whole numbers in range, else None."""
    try:
        columns, rows = int(width), int(height)
    except (TypeError, ValueError, OverflowError):
        return None
    if 1 <= columns <= MAX_COLUMNS and 1 <= rows <= MAX_ROWS:
        return columns, rows
    return None


def host_name(host_header: str) -> str:
    """The name or address in a Host header, without its port or brackets, in lower case."""
    name = host_header if host_header.endswith("]") else host_header.rsplit(":", 1)[0]
    return name.strip("[]").lower().rstrip(".")


def is_loopback_name(name: str) -> bool:
    """localhost, 127.x or ::1."""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_own_address(name: str) -> bool:
    """An address of one of this machine's interfaces: only those can be bound to."""
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return False
    if ip.is_unspecified or ip.is_multicast:
        return False
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((str(ip), 0))
        except OSError:  # EADDRNOTAVAIL: another machine's
            return False
    return True
