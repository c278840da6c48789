"""textual-serve's web server, hardened for `nnplay serve`.

The page's websocket address follows the address the browser used (so `localhost` and
`127.0.0.1` both work), and the websocket only accepts the pages this server served: another web
site open in the same browser must not be able to drive the playground, which trains and writes
files on this machine.
"""

from __future__ import annotations

import asyncio
import re

from aiohttp import web
from textual_serve.server import Server

# What a browser may send as Host: a name or an IP (IPv6 in brackets), and a port.
HOST_HEADER = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "[::1]"}


class PlaygroundServer(Server):
    def __init__(self, command: str, host: str, port: int, loopback_only: bool):
        super().__init__(command, host=host, port=port, title="nnplay")
        self.loopback_only = loopback_only
        self.sessions: set[asyncio.Task] = set()  # one per open tab

    def trusted_host(self, request: web.Request) -> bool:
        host = request.host or ""
        if not HOST_HEADER.fullmatch(host):
            return False
        name = host if host.endswith("]") else host.rsplit(":", 1)[0]
        # Bound to loopback, only loopback names: a foreign name that resolves here is a
        # DNS-rebinding page, not the learner.
        return not self.loopback_only or name in LOOPBACK_NAMES

    async def handle_index(self, request: web.Request):
        if not self.trusted_host(request):
            raise web.HTTPForbidden(text="unknown host name")
        # No await before the page is rendered, so concurrent requests cannot mix addresses.
        self.public_url = f"http://{request.host}"
        return await super().handle_index(request)

    async def handle_websocket(self, request: web.Request):
        if not self.trusted_host(request) or request.headers.get("Origin") != f"http://{request.host}":
            raise web.HTTPForbidden(text="this page was not served here")
        session = asyncio.current_task()
        self.sessions.add(session)
        try:
            return await super().handle_websocket(request)
        finally:
            self.sessions.discard(session)

    async def on_shutdown(self, app: web.Application) -> None:
        """Ctrl+C: end every tab's session now (which quits its app) rather than wait for the
        browsers to close their connections."""
        for session in self.sessions:
            session.cancel()

    async def on_startup(self, app: web.Application) -> None:
        url = f"http://{'localhost' if self.loopback_only else self.host}:{self.port}"
        print(f"nnplay serve: open {url} in a web browser; every tab gets its own playground. "
              "Ctrl+C stops the server.", flush=True)
