"""`nnplay serve`: the playground in a web browser, through textual-serve.

Every browser tab that opens the page starts its own `nnplay PRESET_OR_PATH` process; the page
shows its screen and sends it the keys. A teacher's page, at a link with a random token printed
at the start, lists every open tab's run. Everything is checked before the server starts, so a bad
preset, a bad host, a busy port or more tabs than the memory holds is one line on stderr (exit
2), never a traceback.
"""

from __future__ import annotations

import ctypes
import errno
import ipaddress
import os
import re
import signal
import socket
import stat
import sys
import threading
import time
from pathlib import Path

from nnplay import i18n
from nnplay.errors import EXIT_BAD_INPUT
from nnplay.i18n import _

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
DEFAULT_MAX_TABS, MAX_TABS = 30, 64
# Letters, digits, dots, dashes, and colons for IPv6: anything else is refused before DNS sees it.
HOST_NAME = re.compile(r"[A-Za-z0-9.\-:]{1,253}")
# What one tab holds before it trains: its app is forked from the fork server, which holds
# Python, Textual and PyTorch once for all of them; with 10 tabs training, each app (with its
# share of the fork server and its resource tracker) measured 74 MB PSS
# (benchmarks/bench_serve.py). 150 MB leaves room for what a tab does later.
APP_BYTES = 150 * 2**20
KILL_GRACE = 3.0  # seconds a tab's app has to quit after its server is gone, before SIGKILL


class OptionError(ValueError):
    """A serve option that cannot work: a bad host, a busy port, a number out of range."""


def add_serve_command(subparsers) -> None:
    serve = subparsers.add_parser(
        "serve",
        help=_("the playground in a web browser"),
        description=_(
            "Serve the playground to web browsers: every tab that opens the page gets its own "
            "playground. The page needs no internet connection (its font and script come "
            "from this server). At its start the server also prints the teacher's page: a "
            "link with a random token to keep to yourself, where every open tab's exercise, "
            "status, epoch, best validation metric, goal and time open are listed, refreshed "
            "every few seconds. Without the token the page is refused."
        ),
    )
    serve.add_argument(
        "target",
        metavar="PRESET_OR_PATH",
        nargs="?",
        help=_("the exercise every tab opens (default: first-gt-fifth)"),
    )
    serve.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=_(
            "address to listen on (default {host}: this machine only). On any other address, "
            "pages are answered only under this name, this machine's own addresses and the "
            "--allow-host names, so that another web site cannot reach the playground through "
            "its own name (DNS rebinding)"
        ).format(host=DEFAULT_HOST),
    )
    serve.add_argument(
        "--allow-host",
        metavar="NAME",
        action="append",
        default=[],
        help=_(
            "one more name the page may be opened under, such as this machine's name on the "
            "network (repeatable)"
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
        help=_(
            "playgrounds open at once, 1..{most} and as many as half of the memory available "
            "holds (default {default}, or fewer if they do not fit); each is a process forked "
            "from one that has loaded PyTorch, sharing its memory"
        ).format(most=MAX_TABS, default=DEFAULT_MAX_TABS),
    )
    serve.add_argument(
        "--log",
        action="store_true",
        help=_(
            "print a line for every request (off by default; the console always says when a "
            "tab opens and closes)"
        ),
    )
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args) -> int:
    from nnplay.memory import training_bytes  # NumPy: see cli's docstring
    from nnplay.packs import pack_experiments, pack_folder
    from nnplay.presets import DEFAULT_PRESET, load_experiment

    target = args.target or DEFAULT_PRESET
    folder = pack_folder(target)  # a lesson pack: every tab opens its menu
    if folder is not None:
        target = str(folder.absolute())
    # a bad name or file: ExperimentError, one line from cli.main
    exps = pack_experiments(folder) if folder else [load_experiment(target)]
    try:
        max_tabs = check_max_tabs(args.max_tabs, APP_BYTES + max(map(training_bytes, exps)))
        allowed = [check_host_name("--allow-host", name) for name in args.allow_host]
        loopback = check_address(args.host, args.port)
    except OptionError as e:
        print(f"nnplay serve: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not loopback:
        print(exposure_warning(args.host, args.port), file=sys.stderr)
    from nnplay.teacher_page import new_token
    from nnplay.web_server import HostNames, PlaygroundServer  # textual-serve (~0.8 s): to serve

    hosts = HostNames(loopback, [args.host, *allowed])
    server = PlaygroundServer(
        app_command(target), args.host, args.port, hosts, max_tabs, new_token(), args.log
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


def check_max_tabs(value: int | None, tab_bytes: int) -> int:
    """--max-tabs, or the default: 1..MAX_TABS, and no more tabs than half of the memory
    available holds (each tab's app with the exercise's training). Without the option, the
    default shrinks to what fits."""
    from nnplay.memory import limit_bytes, size_text  # NumPy: see cli's docstring

    fits = min(MAX_TABS, limit_bytes() // tab_bytes)
    if value is None and fits >= 1:
        return min(DEFAULT_MAX_TABS, fits)
    if value is not None and 1 <= value <= fits:
        return value
    if fits < 1:
        message = _(
            "--max-tabs: not even one playground fits (each needs about {each}; "
            "at most {most} can be used here)"
        )
        raise OptionError(message.format(each=size_text(tab_bytes), most=size_text(limit_bytes())))
    if fits == MAX_TABS:  # the memory is not what limits
        message = _("--max-tabs {value}: must be 1..{most}")
    else:
        message = _(
            "--max-tabs {value}: must be 1..{most} (each playground needs about {each}; "
            "{most} fit in half of the memory available now)"
        )
    raise OptionError(message.format(value=value, most=fits, each=size_text(tab_bytes)))


def check_host_name(option: str, name: str) -> str:
    if not HOST_NAME.fullmatch(name):
        message = _("{option} {value}: not a host name or IP address")
        raise OptionError(message.format(option=option, value=repr(name)))
    return name


def app_command(target: str) -> list[str]:
    """The arguments of each tab's app (`nnplay ARGS`, forked by the fork server): this
    language, this target. A file is passed by absolute path: the app does not parse a shell
    line, so no name becomes shell code."""
    if Path(target).is_file():  # as load_experiment decides: a directory is no experiment
        target = str(Path(target).absolute())
    return ["--lang", i18n.language(), target]


def is_web_tab() -> bool:
    """Started by `nnplay serve` for a browser tab: Textual's web driver, talking through pipes
    (the driver cannot read a file or a terminal)."""
    if not os.environ.get("TEXTUAL_DRIVER", "").endswith(":WebDriver"):
        return False
    try:
        return all(stat.S_ISFIFO(os.fstat(fd).st_mode) for fd in (0, 1))
    except OSError:
        return False


def end_with_the_server() -> None:
    """Called in a tab's app: it gets SIGTERM when the process that started it dies, even by
    SIGKILL, which runs no clean-up (Linux's parent-death signal). That is the server's fork
    server (NNPLAY_SERVER_PID), which dies with the server. A watchdog thread covers
    what that misses: a server gone before this call, another system, and an app that does not
    end on SIGTERM (it is killed KILL_GRACE seconds later)."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    try:
        server = int(os.environ.get("NNPLAY_SERVER_PID", ""))
    except ValueError:
        server = os.getppid()
    threading.Thread(target=watch_the_server, args=(server,), daemon=True).start()


def watch_the_server(server: int, every: float = 0.25) -> None:
    while os.getppid() == server:
        time.sleep(every)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(KILL_GRACE)
    os.kill(os.getpid(), signal.SIGKILL)


def check_address(host: str, port: int) -> bool:
    """Try to bind every address `host` names; True when all of them are loopback addresses.
    Raises OptionError with one readable sentence otherwise."""
    if not 1 <= port <= 65535:
        raise OptionError(_("--port {value}: must be 1..65535").format(value=port))
    check_host_name("--host", host)
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
