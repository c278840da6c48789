"""`nnplay serve`: bad input before the server starts, the warning for other hosts, and the
server itself on 127.0.0.1 (which pages it answers, and that Ctrl+C ends it and its apps)."""

import asyncio
import os
import signal
import socket
import subprocess
import sys

import aiohttp
import pytest

from nnplay import serve
from nnplay.cli import main
from tests.command_line import environment
from tests.served import free_port, marked_processes, served, stop, tab_processes, wait_until


def one_line_error(result, *words):
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


def test_bad_preset_is_one_line_before_any_server(nnplay_cli):
    one_line_error(
        nnplay_cli("serve", "no-such-preset", "--port", str(free_port())),
        "no-such-preset",
        "available",
    )
    one_line_error(nnplay_cli("serve", "missing.toml"), "missing.toml", "no such file")


def test_port_in_use_is_one_line(nnplay_cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        one_line_error(nnplay_cli("serve", "--port", str(port)), f"port {port} is in use")


@pytest.mark.parametrize(
    "host, says",
    [
        ("not a host;", "not a host name or IP address"),
        ("192.0.2.1", "not an address of this machine"),  # TEST-NET-1: no machine has it
    ],
)
def test_bad_host_is_one_line(nnplay_cli, host, says):
    one_line_error(nnplay_cli("serve", "--host", host, "--port", str(free_port())), says)


@pytest.mark.parametrize(
    "option, value",
    [
        ("--port", "0"),
        ("--port", "65536"),
        ("--port", "http"),
        ("--max-tabs", "0"),
        ("--max-tabs", "65"),
    ],
)
def test_bad_numbers_are_one_line(nnplay_cli, option, value):
    one_line_error(nnplay_cli("serve", option, value), option)


@pytest.mark.parametrize(
    "header, loopback",
    [
        ("localhost:8000", True),
        ("127.0.0.1:8000", True),
        ("127.0.0.2", True),
        ("[::1]:8000", True),
        ("[::1]", True),
        ("evil.example:8000", False),
        ("192.168.1.20:8000", False),
        ("[::]:80", False),
        ("localhost:8000\r\nX: y", False),
    ],
)
def test_host_names_the_loopback_server_answers(header, loopback):
    from nnplay.web_server import HostNames

    assert HostNames(True, ["127.0.0.1"]).accepts(header) is loopback


@pytest.mark.parametrize(
    "header, accepted",
    [
        ("localhost:8000", True),
        ("127.0.0.1:8000", True),
        ("teacher.lan:8000", True),  # --host's name
        ("Teacher.LAN.:8000", True),
        ("class-7:8000", True),  # --allow-host
        ("evil.example:8000", False),  # a rebinding page: its name is its own
        ("teacher.lan.evil.example:8000", False),
        ("0.0.0.0:8000", False),  # binds, but is no address of this machine
        ("[::]:8000", False),
        ("224.0.0.1:8000", False),
        ("192.0.2.1:8000", False),  # TEST-NET-1: no machine has it
        ("", False),
    ],
)
def test_host_names_a_classroom_server_answers(header, accepted):
    """On other addresses: the names it was started with, its own addresses, --allow-host."""
    from nnplay.web_server import HostNames

    assert HostNames(False, ["teacher.lan", "class-7"]).accepts(header) is accepted


@pytest.mark.parametrize(
    "width, height, size",
    [
        (80, 24, (80, 24)),
        ("120", "40", (120, 40)),
        (1000, 500, (1000, 500)),
        (0, 24, None),
        (1001, 24, None),
        (80, 501, None),
        (10**12, 10**12, None),
        ("wide", 24, None),
        (None, 24, None),
        (float("inf"), 24, None),
        (-5, 24, None),
    ],
)
def test_screen_sizes_from_the_browser_are_checked(width, height, size):
    from nnplay.web_server import screen_size

    assert screen_size(width, height) == size


@pytest.mark.parametrize(
    "ip, loopback",
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("fe80::1%eth0", False),
    ],
)
def test_only_loopback_addresses_count_as_private(ip, loopback):
    assert serve.is_loopback(ip) is loopback


def test_localhost_binds_quietly():
    assert serve.check_address("127.0.0.1", free_port()) is True
    assert serve.check_address("localhost", free_port()) is True


@pytest.mark.parametrize("host, warned", [("0.0.0.0", True), ("127.0.0.1", False)])
def test_other_hosts_get_the_warning(monkeypatch, capsys, host, warned):
    """The warning comes before serving; no socket leaves 127.0.0.1 in this test."""
    from nnplay import web_server

    monkeypatch.setattr(serve, "check_address", lambda h, p: serve.is_loopback(h))
    started = []
    monkeypatch.setattr(web_server.PlaygroundServer, "serve", lambda self: started.append(self))
    assert main(["serve", "--host", host, "--port", "8123"]) == 0
    err = capsys.readouterr().err
    assert (
        "anyone who can reach this address can open the playground and run training on "
        "this machine" in err.lower()
    ) is warned
    assert len(started) == 1 and started[0].hosts.loopback_only is not warned


@pytest.mark.parametrize(
    "available_gb, asked, says",
    [
        (4, "64", "--max-tabs 64: must be 1..13"),  # 64 x 150 MB do not fit in half of 4 GB
        (4, "14", "--max-tabs 14: must be 1..13"),
        (0.2, "1", "--max-tabs: not even one playground fits"),
        (24 * 64, "65", "--max-tabs 65: must be 1..64\n"),  # the memory is not what limits
    ],
)
def test_more_tabs_than_the_memory_holds_are_one_line(
    monkeypatch, capsys, available_gb, asked, says
):
    from nnplay import memory

    monkeypatch.setattr(memory, "available_bytes", lambda: int(available_gb * 2**30))
    assert main(["serve", "circle", "--max-tabs", asked, "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"nnplay serve: {says}") and err.count("\n") == 1, err


@pytest.mark.parametrize("available_gb, tabs", [(24, 30), (24 * 64, 30), (3, 10), (0.5, 1)])
def test_the_default_max_tabs_is_what_fits(monkeypatch, available_gb, tabs):
    from nnplay import memory, web_server

    monkeypatch.setattr(memory, "available_bytes", lambda: int(available_gb * 2**30))
    started = []
    monkeypatch.setattr(web_server.PlaygroundServer, "serve", lambda self: started.append(self))
    assert main(["serve", "circle", "--port", str(free_port())]) == 0
    assert started[0].max_tabs == tabs
    assert main(["serve", "circle", "--max-tabs", str(tabs), "--port", str(free_port())]) == 0


def test_allowed_host_names_are_checked(monkeypatch, capsys):
    from nnplay import web_server

    started = []
    monkeypatch.setattr(web_server.PlaygroundServer, "serve", lambda self: started.append(self))
    args = ["serve", "--port", str(free_port()), "--allow-host", "class.lan"]
    assert main([*args, "--allow-host", "evil.example/x"]) == 2
    err = capsys.readouterr().err
    assert err == "nnplay serve: --allow-host 'evil.example/x': not a host name or IP address\n"
    assert main([*args, "--allow-host", "Teacher.lan"]) == 0 and started
    assert started[0].hosts.names == {"127.0.0.1", "class.lan", "teacher.lan"}


def test_the_help_says_which_names_a_classroom_server_answers(nnplay_cli):
    for env in ({}, {"NNPLAY_LANG": "zh"}):
        helped = nnplay_cli("serve", "--help", env=env).stdout
        assert "--allow-host NAME" in helped
    assert "DNS rebinding" in " ".join(nnplay_cli("serve", "--help").stdout.split())
    assert "DNS 重绑定" in "".join(nnplay_cli("serve", "--help", env={"NNPLAY_LANG": "zh"}).stdout)


def test_a_web_driver_without_pipes_is_one_line():
    """TEXTUAL_DRIVER=...WebDriver with stdin from /dev/null skipped the terminal check and
    ended in a traceback: only a server's pipes make a web tab."""
    ran = subprocess.run(
        [sys.executable, "-m", "nnplay", "circle"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment({"TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver"}),
    )
    assert ran.returncode == 2 and "Traceback" not in ran.stderr
    assert ran.stderr.splitlines() == [
        "nnplay: the app needs a terminal (stdin or stdout is not one); to train without one, "
        "use nnplay train PRESET (see nnplay train --help)"
    ]


@pytest.mark.parametrize(
    "text, kind, data",
    [
        ('["stdin", "a"]', "stdin", "a"),
        ('["focus"]', "focus", None),
        ("[" * 5000 + "]" * 5000, None, None),  # RecursionError in the parser before
        ('["stdin", ' + "[" * 17 + "]" * 17 + "]", None, None),
        ('["stdin", "' + "[" * 5000 + '"]', "stdin", "[" * 5000),  # brackets in a string
        ('{"a": 1}', None, None),
        ("[]", None, None),
        ("not json", None, None),
    ],
)
def test_browser_messages_are_bounded_before_parsing(text, kind, data):
    from nnplay.web_server import browser_message

    assert browser_message(text) == (kind, data)


def test_a_tabs_input_budget_refills_at_its_rate():
    from nnplay.web_tab import InputBudget

    now = [0.0]
    budget = InputBudget(rate=1000, burst=4000, clock=lambda: now[0])
    assert budget.take(3000) and not budget.take(2000) and budget.take(1000)
    assert not budget.take(1)
    now[0] = 1.5
    assert budget.take(1500) and not budget.take(1)
    now[0] = 100.0  # never more than the burst
    assert budget.take(4000) and not budget.take(1)


def test_the_app_command_is_absolute_and_needs_no_shell(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my run; rm -rf ~.toml").write_text("")
    assert serve.app_command("my run; rm -rf ~.toml") == [
        *("--lang", "en"),
        str(tmp_path / "my run; rm -rf ~.toml"),
    ]
    (tmp_path / "circle").mkdir()  # a folder named like a preset is not the preset
    assert serve.app_command("circle")[-1] == "circle"


async def test_serves_its_own_pages_and_ctrl_c_ends_everything(tmp_path):
    with served(tmp_path / "serve.log", "circle", "--max-tabs", "1") as (proc, port):
        base = f"http://127.0.0.1:{port}"
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.get(base) as page:
                assert page.status == 200 and f'"ws://127.0.0.1:{port}/ws"' in await page.text()
            async with http.get(base, headers={"Host": f"localhost:{port}"}) as page:
                assert f'"ws://localhost:{port}/ws"' in await page.text()
            # A web site whose name points here (DNS rebinding) gets no page and no app.
            for path in ("", "/static/", "/static/css/xterm.css", "/ws"):
                async with http.get(base + path, headers={"Host": f"evil.example:{port}"}) as page:
                    assert page.status == 403, path
            async with http.get(f"{base}/static/") as listing:
                assert listing.status == 200
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(f"{base}/ws", headers={"Origin": "http://evil.example"})
            assert refused.value.status == 403
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(
                    f"{base}/ws?width=100000&height=100000", headers={"Origin": base}
                )
            assert refused.value.status == 400
            async with http.ws_connect(
                f"{base}/ws?width=100&height=30", headers={"Origin": base}
            ) as ws:
                first = await asyncio.wait_for(ws.receive(), 30)  # the app's first output
                assert first.type == aiohttp.WSMsgType.BINARY and first.data.startswith(b"\x1b[")
                apps = tab_processes(port, apps_only=True)
                assert len(apps) == 1
                for hostile in [
                    "not json",
                    "[]",
                    "{}",
                    '"stdin"',
                    '["stdin", 5]',
                    '["resize", 3]',
                    '["resize", {"width": 1e12, "height": 5}]',
                    '["stdin", "\\ud800"]',
                    "[" * 5000 + "]" * 5000,  # a RecursionError ended the tab before
                ]:
                    await ws.send_str(hostile)
                await ws.send_str('["ping", "still here"]')
                for _ in range(1000):  # app output first, then the answer (bounded)
                    answer = await asyncio.wait_for(ws.receive(), 30)
                    if answer.type == aiohttp.WSMsgType.TEXT:
                        break
                assert answer.json() == ["pong", "still here"]
                async with http.ws_connect(f"{base}/ws", headers={"Origin": base}) as second:
                    told = await asyncio.wait_for(second.receive(), 30)
                    assert b"as many playgrounds as allowed (1, see --max-tabs)" in told.data
                assert tab_processes(port, apps_only=True) == apps  # no second app was started
                assert stop(proc) == 0
        log = (tmp_path / "serve.log").read_text()
        assert "Traceback" not in log and "Error" not in log, log
        assert "a tab opened (1 open)" in log and "a tab closed (0 open)" in log
        assert "GET /" not in log  # requests are logged only with --log
        # the apps, their helpers and the fork server end with the server
        gone = await asyncio.to_thread(wait_until, lambda: not marked_processes(port), 10)
        assert gone, f"outlived the server: {marked_processes(port)}"


async def test_a_tab_ends_when_the_server_is_killed(tmp_path):
    # SIGKILL runs no clean-up in the server: the tab's app must notice on its own.
    with served(tmp_path / "serve.log", "circle") as (proc, port):
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            ws = await http.ws_connect(f"{base}/ws?width=100&height=30", headers={"Origin": base})
            first = await asyncio.wait_for(ws.receive(), 30)  # the app has started
            assert first.type == aiohttp.WSMsgType.BINARY
            assert len(tab_processes(port, apps_only=True)) == 1
            os.kill(proc.pid, signal.SIGKILL)
            gone = await asyncio.to_thread(wait_until, lambda: not marked_processes(port), 10)
            assert gone, f"outlived the killed server: {marked_processes(port)}"
            await ws.close()


@pytest.mark.parametrize(
    "code, ended_by_us, stderr, line",
    [
        (0, False, b"", None),
        (-9, True, b"", None),  # the server ended it: nothing to report
        (
            1,
            False,
            b"Traceback ...\n\xe2\x94\x82 x = 1\nNoMatches: no '#layers'\nnnplay stopped (above).\n",
            "a tab's app ended with exit code 1: NoMatches: no '#layers'",
        ),
        (2, False, b"\x1b]0;TITLE\x07", "a tab's app ended with exit code 2: no error line"),
    ],
)
def test_an_app_that_failed_is_one_line_in_the_servers_log(code, ended_by_us, stderr, line):
    from types import SimpleNamespace

    from nnplay.web_tab import TabApp

    tab = TabApp(None, [], send_screen=None, close_tab=None)
    tab.process = SimpleNamespace(returncode=code)
    tab.ended_by_us, tab.errors = ended_by_us, stderr
    assert tab.ending() == line
