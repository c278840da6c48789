"""DNS rebinding against a classroom server: `nnplay serve --host 0.0.0.0` inside a private
network namespace (`unshare -rn`), so nothing listens beyond this test. The namespace has only
loopback; it is given a second, non-loopback address (10.7.0.1) to stand for the teacher's
machine on the school network. A page at evil.example whose name was rebound to that address
sends `Host: evil.example:PORT`: it must get neither the page, nor /static/, nor an app; the
machine's own address and an --allow-host name work."""

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.served import free_port, served

ADDRESS = "10.7.0.1"
SETUP = f"ip link set lo up && ip addr add {ADDRESS}/32 dev lo"
ROOT = Path(__file__).resolve().parents[1]


def namespace_problem() -> str | None:
    """Why no private network namespace can be made here, or None."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "no unshare or ip command (util-linux, iproute2)"
    probe = subprocess.run(
        ["unshare", "-rn", "sh", "-c", SETUP], capture_output=True, text=True, timeout=30
    )
    if probe.returncode != 0:
        return f"cannot make a private network namespace: {probe.stderr.strip()}"
    return None


async def status(http, url: str, host: str) -> int:
    async with http.get(url, headers={"Host": host}) as answer:
        return answer.status


async def websocket(http, base: str, host: str, origin: str) -> int | str:
    """101 with the app's first output, or the refusal's status."""
    try:
        async with http.ws_connect(
            f"{base}/ws?width=80&height=24", headers={"Host": host, "Origin": origin}
        ) as ws:
            first = await asyncio.wait_for(ws.receive(), 60)
            return 101 if first.type == aiohttp.WSMsgType.BINARY else str(first.type)
    except aiohttp.WSServerHandshakeError as refused:
        return refused.status


async def probe(port: int) -> dict:
    base = f"http://{ADDRESS}:{port}"
    evil, own, allowed = f"evil.example:{port}", f"{ADDRESS}:{port}", f"teacher.lan:{port}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=90)) as http:
        return {
            "evil page": await status(http, base, evil),
            "evil static": await status(http, f"{base}/static/", evil),
            "evil websocket": await websocket(http, base, evil, f"http://{evil}"),
            "own page": await status(http, base, own),
            "own static": await status(http, f"{base}/static/", own),
            "allowed page": await status(http, base, allowed),
            "own page, evil origin": await websocket(http, base, own, f"http://{evil}"),
            "own websocket": await websocket(http, base, own, f"http://{own}"),
        }


def main(log: str) -> None:
    """Inside the namespace: serve on every address, probe, print the answers as JSON."""
    port = free_port()
    with served(Path(log), "circle", "--host", "0.0.0.0", "--allow-host", "teacher.lan", port=port):
        print(json.dumps(asyncio.run(probe(port))))


@pytest.mark.slow
def test_a_rebound_name_gets_nothing_from_a_server_on_every_address(tmp_path):
    if problem := namespace_problem():
        pytest.skip(problem)
    code = f"import sys; from tests.test_serve_rebinding import main; main({str(tmp_path / 'serve.log')!r})"
    ran = subprocess.run(
        ["unshare", "-rn", "sh", "-c", f'{SETUP} && exec "$0" -c "$1"', sys.executable, code],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert ran.returncode == 0, ran.stderr + (tmp_path / "serve.log").read_text()
    answers = json.loads(ran.stdout.splitlines()[-1])
    assert answers == {
        "evil page": 403,
        "evil static": 403,
        "evil websocket": 403,
        "own page": 200,
        "own static": 200,
        "allowed page": 200,
        "own page, evil origin": 403,
        "own websocket": 101,
    }
