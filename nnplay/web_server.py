"""textual-serve's web server, hardened for `nnplay serve`.

The page's websocket address follows the address the browser used (so `localhost` and
`127.0.0.1` both work), and the websocket only accepts the pages this server served: another web
site open in the same browser must not be able to drive the playground, which trains and writes
files on this machine. At most --max-tabs apps run at once (each is a process with its own
PyTorch), and screen sizes from the browser are checked before an app sees them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re

from aiohttp import WSMsgType, web
from textual_serve.server import Server

from nnplay.i18n import _

# What a browser may send as Host: a name or an IP (IPv6 in brackets), and a port.
HOST_HEADER = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")
MAX_COLUMNS, MAX_ROWS = 1000, 500  # a screen size from a browser is a number to check, too


class PlaygroundServer(Server):
    def __init__(self, command: str, host: str, port: int, loopback_only: bool, max_tabs: int):
        super().__init__(command, host=host, port=port, title="nnplay")
        self.loopback_only, self.max_tabs = loopback_only, max_tabs
        self.connections: set[asyncio.Task] = set()  # one per open tab, with an app or refused
        self.apps = 0

    def trusted_host(self, request: web.Request) -> bool:
        host = request.host or ""
        if not HOST_HEADER.fullmatch(host):
            return False
        # Bound to loopback, only loopback names: a foreign name that resolves here is a
        # DNS-rebinding page, not the learner.
        return not self.loopback_only or is_loopback_name(host)

    async def handle_index(self, request: web.Request):
        if not self.trusted_host(request):
            raise web.HTTPForbidden(text=_("unknown host name"))
        # No await before the page is rendered, so concurrent requests cannot mix addresses.
        self.public_url = f"http://{request.host}"
        return await super().handle_index(request)

    async def handle_websocket(self, request: web.Request):
        if (
            not self.trusted_host(request)
            or request.headers.get("Origin") != f"http://{request.host}"
        ):
            raise web.HTTPForbidden(text=_("this page was not served here"))
        if screen_size(request.query.get("width", "80"), request.query.get("height", "24")) is None:
            message = _("the screen must be 1..{columns} x 1..{rows}")
            raise web.HTTPBadRequest(text=message.format(columns=MAX_COLUMNS, rows=MAX_ROWS))
        connection = asyncio.current_task()
        assert connection is not None  # a request handler always runs in a task
        self.connections.add(connection)
        try:
            if self.apps >= self.max_tabs:
                return await self.refuse(request)
            self.apps += 1
            try:
                return await super().handle_websocket(request)
            finally:
                self.apps -= 1
        finally:
            self.connections.discard(connection)

    async def refuse(self, request: web.Request) -> web.WebSocketResponse:
        """Every app is a process with its own PyTorch: say so in the tab instead of starting
        one more, and wait until the tab goes."""
        socket = web.WebSocketResponse(heartbeat=15)
        await socket.prepare(request)
        message = _(
            "nnplay serve: already running as many playgrounds as allowed ({most}, see "
            "--max-tabs). Close a tab, then reload this page."
        )
        await socket.send_bytes(f"\r\n  {message.format(most=self.max_tabs)}\r\n".encode())
        async for _message in socket:
            pass
        return socket

    async def _process_messages(self, websocket: web.WebSocketResponse, app_service) -> None:
        """The browser's messages to the app (textual-serve's protocol), each one checked: a
        malformed message is ignored, never a traceback, and a screen size must be in range."""
        async for message in websocket:
            try:
                kind, *rest = json.loads(message.data) if message.type == WSMsgType.TEXT else [None]
            except (ValueError, TypeError):  # not JSON, or not a non-empty list
                continue
            data = rest[0] if rest else None
            if kind == "stdin" and isinstance(data, str):
                await app_service.send_bytes(data.encode("utf-8", "replace"))
            elif kind == "resize" and isinstance(data, dict):
                if size := screen_size(data.get("width"), data.get("height")):
                    await app_service.set_terminal_size(*size)
            elif kind == "ping" and isinstance(data, str):
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await app_service.blur()
            elif kind == "focus":
                await app_service.focus()

    async def on_shutdown(self, app: web.Application) -> None:
        """Ctrl+C: end every tab's connection now (which quits its app) rather than wait for
        the browsers to hang up."""
        for connection in self.connections:
            connection.cancel()

    async def on_startup(self, app: web.Application) -> None:
        shown = "localhost" if self.host in ("127.0.0.1", "localhost") else self.host
        url = f"http://{f'[{shown}]' if ':' in shown else shown}:{self.port}"
        message = _(
            "nnplay serve: open {url} in a web browser; every tab gets its own playground. "
            "Ctrl+C stops the server."
        )
        print(message.format(url=url), flush=True)


def screen_size(width, height) -> tuple[int, int] | None:
    """(columns, rows) when both are whole numbers in range, else None."""
    try:
        columns, rows = int(width), int(height)
    except (TypeError, ValueError, OverflowError):
        return None
    if 1 <= columns <= MAX_COLUMNS and 1 <= rows <= MAX_ROWS:
        return columns, rows
    return None


def is_loopback_name(host_header: str) -> bool:
    """localhost, 127.x or [::1], with or without a port."""
    name = host_header if host_header.endswith("]") else host_header.rsplit(":", 1)[0]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False
