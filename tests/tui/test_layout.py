"""Nothing cut, at any size, in either language: read what the screen really shows.

Each check reads the rendered rows of the widgets (not their text in memory), so a label cut by
its box, a row pushed out of its container or a line wrapped away fails here.
"""

import pytest
from textual.widgets import Button, Tabs

from nnplay.tui.build_panel import LayerRow
from nnplay.tui.train_view import TrainView

from .conftest import ready, shown_lines, small, speaking, train_to_epoch
from nnplay.tui.app import PlaygroundApp

SIZES = [(60, 15), (80, 24), (120, 40), (200, 60)]


def visible(widget) -> bool:
    """The widget is on screen whole: its region lies inside the screen and its parent's."""
    screen = widget.screen.region
    region = widget.region
    return bool(region) and screen.contains_region(region) and (
        widget.parent.region.contains_region(region)
    )


async def open_with_panel(pilot, size):
    await ready(pilot)
    app = pilot.app
    if not app.query_one("#build").display:
        await pilot.press("b")  # the narrow start hides it: the learner shows it
    app.clear_notifications()
    await train_to_epoch(pilot, 2)
    await pilot.pause(0.3)


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_buttons_tabs_status_and_layer_rows_are_whole(size, language):
    with speaking(language):
        app = PlaygroundApp(small("circle", **{"training.epochs": 2}), "circle")
        async with app.run_test(size=size) as pilot:
            await open_with_panel(pilot, size)
            # every action button shows its whole label, inside the button bar
            for button in app.query("#controls Button").results(Button):
                label = str(button.label)
                assert visible(button), (label, button.region, button.parent.region)
                assert label in shown_lines(button), (label, shown_lines(button))
            # the row of tabs shows every tab's name whole
            tabs = app.query_one("#pictures Tabs", Tabs)
            row = shown_lines(tabs)
            for name in ("Charts", "Map", "Neurons", "Weights"):
                from nnplay.i18n import _

                assert _(name) in row, row
            # the status line says the epoch, the learning rate, the loss and the accuracy
            status = shown_lines(app.query_one("#status"))
            for word in (("epoch", "轮"), ("lr 0.03", "学习率 0.03"), ("loss", "损失")):
                assert word[language == "zh"] in status, status
            assert ("acc" if language == "en" else "准确率") in status, status
            assert "/ val" in status or "/ 验证" in status, status
            # each layer row shows its remove button
            for row in app.query(LayerRow):
                if row.region:  # a short panel scrolls: the rows on screen are whole
                    remove = row.query_one(".remove", Button)
                    assert visible(remove) and "✕" in shown_lines(remove), shown_lines(row)
