"""A file name holding terminal escapes, as the app shows it: escaped in its subtitle and in
what it says about a file it saved, replaced in the file name it offers (Textual draws a raw
escape as it is: it would retitle the window or clear the screen)."""

from textual.widgets import Input

from nnplay.presets import load_preset
from nnplay.tui.app import PlaygroundApp

from .conftest import SIZE, notices, ready, until

ESCAPED = "\\x1b]0;TITLE\\x07\\x1b[31m"


async def test_a_hostile_file_name_is_shown_escaped(tmp_path, monkeypatch):
    source = "esc\x1b]0;TITLE\x07\x1b[31m.toml"
    app = PlaygroundApp(load_preset("first-gt-fifth"), source)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert app.sub_title == f"esc{ESCAPED}.toml"
        shown = notices(app, monkeypatch)
        await pilot.press("s")
        # the prompt's text field would draw an escape as it is
        assert app.screen.query_one(Input).value == "esc_]0;TITLE__[31m-mine.toml"
        path = tmp_path / "saved\x1b]0;TITLE\x07\x1b[31m.toml"
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await until(pilot, lambda: path.is_file() and bool(shown))
    assert shown == [
        f"Saved {tmp_path}/saved{ESCAPED}.toml; open it with: nnplay {tmp_path}/saved{ESCAPED}.toml"
    ]
