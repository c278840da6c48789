"""`nnplay serve`: the playground in a web browser, through textual-serve.

Every browser tab that opens the page starts its own `nnplay PRESET_OR_PATH` process; the page
shows its screen and sends it the keys. Everything is checked before the server starts, so a bad
preset, a bad host or a busy port is one line on stderr (exit 2), never a traceback.
"""

from __future__ import annotations

import ctypes
import errno
import ipaddress
import re
import shlex
import signal
import socket
import sys
from pathlib import Path

from nnplay import i18n
from nnplay.errors import EXIT_BAD_INPUT
from nnplay.i18n import _

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
DEFAULT_MAX_TABS, MAX_TABS = 8, 64
# Letters, digits, dots, dashes, and colons for IPv6: anything else is refused before DNS sees it.
HOST_NAME = re.compile(r"[A-Za-z0-9.\-:]{1,253}")


class OptionError(ValueError):
    """A serve option that cannot work: a bad host, a busy port, a number out of range."""


def add_serve_command(subparsers) -> None:
    serve = subparsers.add_parser("serve", help=_("the playground in a web browser"))
    serve.add_argument(
        "target",
        metavar="PRESET_OR_PATH",
        nargs="?",
        help=_("the exercise every tab opens (default: first-gt-fifth)"),
    )
    serve.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=_("address to listen on (default {host}: this machine only)").format(
            host=DEFAULT_HOST
        ),
    )
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=_("port, 1..65535 (default {port})").format(port=DEFAULT_PORT),
    )
    serve.add_argument(
        "--max-tabs",
        type=int,
        default=DEFAULT_MAX_TABS,
        help=_(
            "playgrounds open at once, 1..{most} (default {default}); "
            "each is a process with its own PyTorch"
        ).format(most=MAX_TABS, default=DEFAULT_MAX_TABS),
    )
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args) -> int:
    from nnplay.presets import DEFAULT_PRESET, load_experiment  # NumPy: see cli's docstring

    target = args.target or DEFAULT_PRESET
    load_experiment(target)  # a bad name or file: ExperimentError, one line from cli.main
    try:
        if not 1 <= args.max_tabs <= MAX_TABS:
            message = _("--max-tabs {value}: must be 1..{most}")
            raise OptionError(message.format(value=args.max_tabs, most=MAX_TABS))
        loopback = check_address(args.host, args.port)
    except OptionError as e:
        print(f"nnplay serve: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not loopback:
        print(exposure_warning(args.host, args.port), file=sys.stderr)
    from nnplay.web_server import PlaygroundServer  # textual-serve (~0.8 s): only to serve

    server = PlaygroundServer(
        app_command(target), args.host, args.port, loopback_only=loopback, max_tabs=args.max_tabs
    )
    try:
        server.serve()
    except OSError as e:  # the port was taken between our check and the server's own bind
        message = _("cannot listen on {host} port {port}: {reason}")
        print(
            "nnplay serve: " + message.format(host=args.host, port=args.port, reason=e.strerror),
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    return 0


def app_command(target: str) -> str:
    """The shell command textual-serve runs for each tab: this Python, this nnplay, this
    language, this target. A file is passed by absolute path; everything is quoted, so no name
    becomes shell code. `exec` makes the app the server's own child (dash would keep a shell in
    between), so the app ends when the server dies (`end_with_the_server`)."""
    if Path(target).is_file():  # as load_experiment decides: a directory is no experiment
        target = str(Path(target).absolute())
    argv = [sys.executable, "-m", "nnplay", "--lang", i18n.language(), target]
    return "exec " + shlex.join(argv)


def end_with_the_server() -> None:
    """Called in a tab's app: it gets SIGTERM when the server that started it dies, even by
    SIGKILL, which runs no clean-up (Linux's parent-death signal; elsewhere nothing is done)."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def check_address(host: str, port: int) -> bool:
    """Try to bind every address `host` names; True when all of them are loopback addresses.
    Raises OptionError with one readable sentence otherwise."""
    if not 1 <= port <= 65535:
        raise OptionError(_("--port {value}: must be 1..65535").format(value=port))
    if not HOST_NAME.fullmatch(host):
        message = _("--host {value}: not a host name or IP address")
        raise OptionError(message.format(value=repr(host)))
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        message = _("--host {value}: not a known host name or IP address")
        raise OptionError(message.format(value=repr(host))) from None
    for family, kind, proto, _name, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
            try:
                probe.bind(address)
            except OSError as e:
                raise OptionError(bind_problem(host, port, e)) from None
    return all(is_loopback(str(address[0])) for *_info, address in infos)


def is_loopback(ip: str) -> bool:
    """127.x and ::1; not 0.0.0.0 or ::, which listen on every interface."""
    return ipaddress.ip_address(ip.split("%")[0]).is_loopback


def bind_problem(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        message = _("port {port} is in use on {host}; choose another with --port")
    elif error.errno == errno.EADDRNOTAVAIL:
        message = _("--host {host}: not an address of this machine")
        host = repr(host)
    elif error.errno == errno.EACCES:
        message = _("port {port}: not allowed for this user; choose one above 1023 with --port")
    else:
        message = _("cannot listen on {host} port {port}: {reason}")
    return message.format(host=host, port=port, reason=error.strerror)


def exposure_warning(host: str, port: int) -> str:
    message = _(
        "nnplay serve: WARNING: listening on {host} port {port}. Anyone who can reach this "
        "address can open the playground and run training on this machine (and write "
        "exported files here). Use the default --host 127.0.0.1 to keep it to yourself."
    )
    return message.format(host=host, port=port)
