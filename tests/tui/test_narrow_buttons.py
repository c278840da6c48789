"""Buttons squeezed below their label's width are cut, not wrapped into a crash."""

from pathlib import Path

from textual.app import App, ComposeResult
from textual.containers import Grid
from textual.widgets import Button

import nnplay.tui.app


class Squeezed(App):
    CSS_PATH = Path(nnplay.tui.app.__file__).with_name("app.tcss")  # the playground's rules
    CSS = "Grid { grid-size: 3; width: 6; } Button { width: 2; min-width: 2; }"

    def compose(self) -> ComposeResult:
        with Grid():
            for label in ("Start", "Compare", "Solution"):
                yield Button(label, compact=True)


async def test_a_button_two_cells_wide_renders():
    app = Squeezed()
    async with app.run_test(size=(20, 5)) as pilot:
        await pilot.pause()
        assert all(b.size.width == 2 for b in app.query(Button))
        app.save_screenshot("/dev/null")  # renders every line; raised before the fix
    assert app.return_code in (None, 0)  # an error in the app ends it with 1
