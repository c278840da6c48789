"""`nnplay serve`'s teacher's page (token, the tabs' runs, escaping), the offline page, and the
console: a line when a tab opens and closes, request lines only with --log."""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import urljoin, urlsplit

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnplay.tab_status import KIND, MAX_BYTES, TabStatus, best_validation, read_status
from nnplay.teacher_page import page_context, token_matches
from tests.served import served, wait_until

REPORT_TIMEOUT = 60  # seconds for a tab's app to start, train and report (a busy machine)
HOSTILE_TITLE = "<script>alert('teacher')</script> & \"co\""


def payload(**changes) -> bytes:
    fields = {
        "type": KIND,
        "exercise": "Circle",
        "status": "running",
        "epoch": 7,
        "metric": "val_accuracy",
        "best": 0.95,
        "goal_met": False,
        "prediction": None,
    }
    return json.dumps({k: v for k, v in (fields | changes).items() if v != "absent"}).encode()


def test_a_tabs_report_round_trips_and_the_prediction_may_be_absent():
    status = TabStatus("Circle", "running", 7, "val_accuracy", 0.95, False, "a ring")
    assert read_status(status.packet()[5:]) == status
    assert int.from_bytes(status.packet()[1:5], "big") == len(status.packet()) - 5
    assert read_status(payload(prediction="absent")) == TabStatus(
        "Circle", "running", 7, "val_accuracy", 0.95, False, None
    )
    long = TabStatus("圆" * 500, "ready", 0, None, None, None, "\U0001f600" * 500)
    assert read_status(long.packet()[5:]) == TabStatus(
        "圆" * 200, "ready", 0, None, None, None, "\U0001f600" * 200
    )


@pytest.mark.parametrize(
    "hostile",
    [
        payload(type="exit"),
        payload(status="hacked"),
        payload(metric="train_loss"),
        payload(epoch=-1),
        payload(epoch=10**12),
        payload(epoch=True),
        payload(epoch=7.5),
        payload(best=float("nan")),
        payload(best="0.9"),
        payload(goal_met=1),
        payload(exercise=None),
        payload(exercise="absent"),
        payload(exercise="x" * 201),
        payload(exercise=["Circle"]),
        payload(extra="field"),
        b'{"type": "' + KIND.encode() + b'", "exercise": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b"[" * 3000 + b"]" * 3000,
        b"\xff\xfe not utf-8",
        b"not json",
        b"[]",
        payload(exercise="x" * 100) + b" " * MAX_BYTES,
    ],
)
def test_a_report_that_is_not_exactly_a_tabs_status_is_dropped(hostile):
    assert read_status(hostile) is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
NAMES = st.sampled_from(["type", *TabStatus.__dataclass_fields__, "other"])


@settings(deadline=None)  # a busy machine must not fail it on time alone
@given(st.dictionaries(NAMES, JSON | st.sampled_from([KIND, "ready", "val_loss"])))
def test_no_report_makes_the_reader_raise(message):
    status = read_status(json.dumps(message).encode())
    assert status is None or read_status(status.packet()[5:]) == status


def test_control_characters_in_a_report_are_escaped():
    status = read_status(payload(exercise="a\x1b]0;TITLE\x07b"))
    assert status is not None and status.exercise == "a\\x1b]0;TITLE\\x07b"


@pytest.mark.parametrize(
    "accuracy, loss, best",
    [
        ([0.5, 0.9, 0.8], [0.7, 0.3, 0.4], ("val_accuracy", 0.9)),
        ([None, None], [0.7, 0.2], ("val_loss", 0.2)),  # regression: the lowest loss
        ([float("nan"), 0.6], [float("inf"), 0.5], ("val_accuracy", 0.6)),
        ([], [], (None, None)),
    ],
)
def test_the_best_validation_metric(accuracy, loss, best):
    assert best_validation(accuracy, loss) == best


def test_the_token_is_compared_whole():
    assert token_matches("s3cret-token", "s3cret-token")
    for wrong in ("", "s3cret-toke", "s3cret-token ", "S3CRET-TOKEN", "s3crét-token"):
        assert not token_matches(wrong, "s3cret-token")


def test_the_pages_rows_say_what_each_tab_reported():
    tabs = [
        (None, 2.0),
        (TabStatus("Circle", "finished", 40, "val_accuracy", 0.9712, True), 3725.0),
        (TabStatus("Forbes", "paused", 3, "val_loss", 0.01234, None), 65.0),
    ]
    rows = page_context(tabs, 8)["rows"]
    assert [(r["number"], r["status"], r["open_for"]) for r in rows] == [
        (1, "starting", "0:02"),
        (2, "finished", "1:02:05"),
        (3, "paused", "1:05"),
    ]
    assert (rows[1]["best"], rows[1]["goal"], rows[1]["prediction"]) == (
        "val accuracy 0.9712",
        "met",
        "—",
    )
    assert (rows[2]["best"], rows[2]["goal"]) == ("val loss 0.01234", "—")
    assert page_context(tabs, 8)["summary"].startswith("3 of at most 8 playgrounds open")


def cells(page: str) -> list[list[str]]:
    rows = re.findall(r"<tr class=[^>]*>(.*?)</tr>", page, re.S)
    return [[c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for row in rows]


def urls_outside_comments(text: str) -> list[str]:
    """Every http(s) URL a page or asset names, its comments aside (a licence's link is never
    fetched). Anything else would be fetched by the browser, or could be."""
    text = re.sub(r"/\*.*?\*/|<!--.*?-->", "", text, flags=re.S)
    return re.findall(r"https?://[^\s\"'()<>]+", text)


async def assert_offline(http: aiohttp.ClientSession, base: str) -> None:
    """The page and everything it references come from this server, and name no other."""
    async with http.get(base + "/") as page:
        html = await page.text()
    assets = re.findall(r'(?:src|href)="([^"]+)"|url\("([^"]+)"\)', html)
    assets = [a or b for a, b in assets]
    assert {urlsplit(a).path.rsplit(".", 1)[1] for a in assets} == {"css", "js", "ttf"}
    for url in urls_outside_comments(html):
        assert url.startswith(base + "/"), url
    for asset in assets:
        async with http.get(urljoin(base + "/", asset)) as answer:
            assert answer.status == 200, asset
            if asset.endswith((".css", ".js")):
                for url in urls_outside_comments(await answer.text()):
                    assert url.startswith(base + "/"), (asset, url)


async def teacher_rows(http, url: str) -> list[list[str]]:
    async with http.get(url) as page:
        assert page.status == 200
        assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
        return cells(await page.text())


async def drain(ws) -> None:
    async for _message in ws:
        pass


async def test_the_teacher_sees_every_tabs_run_and_nobody_else_does(tmp_path):
    exercise = tmp_path / "hostile.toml"
    exercise.write_text(
        f"[meta]\ntitle = {json.dumps(HOSTILE_TITLE)}\n"
        '[task]\nname = "xor"\nsamples = 200\nval_samples = 100\n'
        '[training]\nepochs = 3\n[goal]\nmetric = "val_accuracy"\nthreshold = 0.0\nepochs = 3\n'
    )
    log_path = tmp_path / "serve.log"
    with served(log_path, str(exercise), "--log") as (proc, port):
        base = f"http://127.0.0.1:{port}"
        assert wait_until(lambda: "teacher" in log_path.read_text(), 10)
        line = next(x for x in log_path.read_text().splitlines() if "teacher" in x)
        token = re.search(r"/teacher\?token=([\w-]+)$", line)[1]
        teacher = f"{base}/teacher?token={token}"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            for wrong in ("", "?token=", f"?token={token[:-1]}", f"?token={token}x", "?token=é"):
                async with http.get(f"{base}/teacher{wrong}") as refused:
                    assert refused.status == 403, wrong
            async with http.get(teacher, headers={"Host": f"evil.example:{port}"}) as refused:
                assert refused.status == 403  # the host check comes first, as for every page
            await assert_offline(http, base)
            assert await teacher_rows(http, teacher) == []

            ws = await http.ws_connect(f"{base}/ws?width=120&height=40", headers={"Origin": base})
            screen = asyncio.create_task(drain(ws))  # the screen, read as a browser would
            try:
                rows = []
                for _ in range(REPORT_TIMEOUT * 2):
                    rows = await teacher_rows(http, teacher)
                    if rows and rows[0][5] == "not met":  # the network is built
                        break
                    await asyncio.sleep(0.5)
                number, title, status, epoch, best, goal, prediction, open_for = rows[0]
                assert (number, status, epoch, best, goal, prediction) == (
                    "1",
                    "ready",
                    "0",
                    "—",
                    "not met",
                    "—",
                )
                assert (
                    title
                    == "&lt;script&gt;alert(&#39;teacher&#39;)&lt;/script&gt; &amp; &#34;co&#34;"
                )
                assert re.fullmatch(r"0:\d\d", open_for)
                await ws.send_str('["stdin", " "]')  # space: train the 3 epochs
                for _ in range(REPORT_TIMEOUT * 2):
                    rows = await teacher_rows(http, teacher)
                    if rows[0][2] == "finished":
                        break
                    await asyncio.sleep(0.5)
                _n, _t, status, epoch, best, goal, prediction, _o = rows[0]
                assert (status, epoch, goal, prediction) == ("finished", "3", "met", "—")
                assert re.fullmatch(r"val accuracy (0\.\d+|1)", best), best
            finally:
                screen.cancel()
                await ws.close()
            assert wait_until(lambda: "a tab closed (0 open)" in log_path.read_text(), 20)
            assert await teacher_rows(http, teacher) == []
            async with http.get(f"{base}/%1b]0;TITLE%07") as missing:
                assert missing.status == 404
    log = log_path.read_text()
    assert "a tab opened (1 open)" in log and "<script>" not in log
    assert "GET /teacher 200" in log and "GET /teacher 403" in log
    assert token not in log.replace(line, "")  # --log shows paths, never the query
    assert "\x1b" not in log and "GET /\\x1b]0;TITLE\\x07 404" in log
    assert "Mozilla" not in log and "Python/" not in log  # no browser's description of itself
