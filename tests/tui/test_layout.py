"""Nothing cut, at any size, in either language: read what the screen really shows.

Each check reads the rendered rows of the widgets (not their text in memory), so a label cut by
its box, a row pushed out of its container or a line wrapped away fails here.
"""

import pytest
from rich.cells import cell_len
from textual.geometry import Region
from textual.widgets import Button, Footer, Select, Tab, Tabs

from nnplay.i18n import _
from nnplay.tui.actions import help_rows
from nnplay.tui.app import PlaygroundApp
from nnplay.tui.build_panel import LayerRow
from nnplay.tui.footer import outer_width
from nnplay.tui.prose import index_at_cells
from nnplay.tui.train_view import TrainView
from nnplay.wrapping import NEVER_ENDS, NEVER_STARTS

from .conftest import ready, small, speaking, train_to_epoch, until

SIZES = [(60, 15), (80, 24), (120, 40), (200, 60)]
LANGUAGES = ["en", "zh"]


def shown_lines(widget) -> str:
    """What a widget draws in the whole of its region, padding and border too, row by row."""
    region = Region(0, 0, widget.region.width, widget.region.height)
    return "\n".join(strip.text for strip in widget.render_lines(region))


def inside(widget, outer) -> bool:
    """The widget's region lies whole inside `outer`'s region."""
    return bool(widget.region) and outer.region.contains_region(widget.region)


async def trained_with_panel(pilot, epochs: int = 2):
    """Built, the build panel shown (a narrow start hides it: the learner presses b), trained."""
    await ready(pilot)
    app = pilot.app
    if not app.query_one("#build").display:
        await pilot.press("b")
    app.clear_notifications()
    await train_to_epoch(pilot, epochs)
    await pilot.pause(0.3)


def assert_footer_keys_whole(app) -> None:
    """Every key the footer shows is whole and clear of the palette's key: none half shown."""
    footer = app.screen.query_one(Footer)
    keys = [k for k in footer.query("FooterKey") if k.display]
    palette = [k for k in keys if k.has_class("-command-palette")]
    for key in keys:
        assert inside(key, footer), (key.key, key.region, footer.region)
        assert key.region.width >= outer_width(key) - key.styles.margin.width, key.key
        if palette and key not in palette:  # a dialog's footer may have no palette key
            assert key.region.right <= palette[0].region.x, (key.key, key.region)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_buttons_footer_tabs_status_and_layer_rows_are_whole(size, language):
    with speaking(language):
        app = PlaygroundApp(small("circle", **{"training.epochs": 2}), "circle")
        async with app.run_test(size=size) as pilot:
            await trained_with_panel(pilot)
            # every action button shows its whole label, inside the button bar, on one line
            bar = app.query_one("#controls")
            for button in app.query("#controls Button").results(Button):
                label = str(button.label)
                assert inside(button, bar), (label, button.region, bar.region)
                assert label in shown_lines(button), (label, shown_lines(button))
            if language == "zh":  # eight short labels: two rows at 80 columns, not a grid of 4
                assert bar.region.height <= (2 if size[0] >= 80 else 3), bar.region
            assert_footer_keys_whole(app)
            if size[0] < 80:  # beside a panel of 48 columns: the buttons and the footer only
                return
            # each layer row on screen shows its remove button
            for row in app.query(LayerRow):
                if row.region:  # a short panel scrolls: the rows on screen are whole
                    remove = row.query_one(".remove", Button)
                    assert inside(remove, row) and "✕" in shown_lines(remove), shown_lines(row)
            # the row of tabs shows every tab's name whole; beside the panel at 80 columns,
            # where five names cannot fit, the tab shown by its name and the others by their keys
            tabs = app.query_one("#pictures Tabs", Tabs)
            shown_tabs = list(tabs.query(Tab))
            names = ("Charts", "Map", "Neurons", "Weights", "Network")
            assert len(shown_tabs) == 5
            for key, (tab, name) in enumerate(zip(shown_tabs, names, strict=True), 1):
                label = shown_lines(tab).strip()
                assert inside(tab, tabs), (name, tab.region)
                named = _(name) in label
                assert named or (size[0] < 120 and label == str(key) and key > 1), label
            assert _("Charts") in shown_lines(shown_tabs[0])  # the tab shown
            # a diverged run's loss title ("损失（对数刻" / "度）" was cut inside a word) fits whole
            if language == "zh":
                legend = app.query_one("#loss-box .legend")
                assert cell_len(_("loss (log scale)")) <= legend.content_size.width, legend.region
            # the status line says the epoch, the learning rate, the loss and the accuracy
            status = app.query_one("#status")
            assert inside(status, app.query_one(TrainView)), status.region
            shown = shown_lines(status)
            for words in (("epoch 2/2", "第 2/2 轮"), ("lr 0.03", "学习率 0.03")):
                assert words[language == "zh"] in shown, shown
            for words in (("loss", "损失"), ("acc", "准确率")):
                line = next(x for x in shown.splitlines() if words[language == "zh"] in x)
                assert ("/ val " if language == "en" else "/ 验证 ") in line, shown


@pytest.mark.parametrize("language", LANGUAGES)
async def test_an_8x8_weights_table_keeps_each_row_on_one_line_at_120x40(language):
    with speaking(language):
        exp = small("circle", **{"training.epochs": 1, "model.hidden": [8, 8]})
        app = PlaygroundApp(exp, "circle")
        async with app.run_test(size=(120, 40)) as pilot:
            await trained_with_panel(pilot, 1)
            await pilot.press("4")
            await pilot.pause(0.3)
            lines = shown_lines(app.query_one("#weights")).splitlines()
            rows = [x for x in lines if x.lstrip().startswith("h2.")]
            assert len(rows) == 8, lines
            for row in rows:  # the unit's name, its eight inputs and its bias
                assert len(row.split()) == 10, row


@pytest.mark.parametrize("language", LANGUAGES)
async def test_an_earlier_runs_legend_is_whole_beside_the_curves_of_the_run_now(language):
    with speaking(language):
        exp = small("circle", **{"training.epochs": 1, "model.hidden": [8]})
        app = PlaygroundApp(exp, "circle")
        async with app.run_test(size=(120, 40)) as pilot:
            await trained_with_panel(pilot, 1)
            app.query_one("#all-activation", Select).value = "relu"
            await pilot.pause(0.3)
            await pilot.press("r", "y")  # yes (it asks first): the run becomes an earlier run
            await until(pilot, lambda: app.query_one(TrainView).ghosts)
            await ready(pilot)
            await train_to_epoch(pilot, 1)
            await pilot.pause(0.3)
            legend = shown_lines(app.query_one("#loss-box .legend"))
            flat = " ".join(legend.split())  # the label may wrap: read its words in order
            ghost = app.query_one(TrainView).ghosts[0].label
            assert "relu" in ghost, ghost
            assert " ".join(ghost.split()) in flat, legend
            for name in ("train", "validation"):
                assert _(name) in flat, legend


async def test_the_map_legend_keeps_apart_from_the_layer_table_at_120x40():
    exp = small("circle", **{"training.epochs": 1, "model.hidden": [8, 8, 8, 8]})
    app = PlaygroundApp(exp, "circle")
    async with app.run_test(size=(120, 40)) as pilot:
        await trained_with_panel(pilot, 1)
        network, picture = app.query_one("#network"), app.query_one("#map")
        table = shown_lines(network).splitlines()
        drawn = shown_lines(picture).splitlines()
        assert any("class 0" in x for x in drawn), drawn
        shared = 0
        for y in range(network.region.y, network.region.bottom):
            left = table[y - network.region.y].rstrip()
            right_row = y - picture.region.y
            if not left or not 0 <= right_row < len(drawn) or not drawn[right_row].strip():
                continue
            shared += 1
            right = drawn[right_row]
            start = picture.region.x + len(right) - len(right.lstrip(" ▏"))  # a rule is a gap
            gap = start - (network.region.x + len(left))
            assert gap >= 3, (gap, left, right)
        assert shared, "the layer table and the map share no row: nothing was checked"


async def test_the_help_breaks_chinese_lines_by_the_rule_at_every_width(chinese):
    """No line of the help starts with a closing mark (。，：；！？」）) or ends with an opening
    one, and none is wider than the dialog, from 40 to 100 columns."""
    app = PlaygroundApp(small("circle"), "circle")
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        for width in range(40, 101, 3):
            await pilot.resize_terminal(width, 40)
            await pilot.pause()
            for text in app.screen.query("#help Static"):
                # the keys' table: its descriptions, right of the keys ("]" is a key)
                keys = 2 + max(cell_len(key) for key, _does in help_rows())
                beside = keys if text.id == "help-keys" else 0
                for line in shown_lines(text).splitlines():
                    assert cell_len(line) <= text.region.width, (width, line)
                    shown = line[index_at_cells(line, beside) :].strip()
                    if shown:
                        extension = shown[0] == "." and shown[1:2].isalnum()
                        assert shown[0] not in NEVER_STARTS or extension, (width, line)
                        assert shown[-1] not in NEVER_ENDS, (width, line)


async def test_the_exercise_box_breaks_chinese_lines_by_the_rule_at_every_width(chinese):
    """A hint's '提示 1：' stays with its text, and no line of the exercise box starts with a
    closing mark or ends with an opening one, from 40 to 120 columns."""
    app = PlaygroundApp(small("overfitting"), "overfitting")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("h", "h")
        for width in range(40, 121, 4):
            await pilot.resize_terminal(width, 40)
            await pilot.pause()
            box = app.query_one("#exercise")
            lines = shown_lines(box).splitlines()
            assert any("提示 2：" in line for line in lines), lines
            for line in lines:
                shown = line.strip()
                assert cell_len(line) <= box.region.width, (width, line)
                assert not shown.startswith("提示") or not shown.endswith("："), (width, lines)
                if shown:
                    extension = shown[0] == "." and shown[1:2].isalnum()
                    assert shown[0] not in NEVER_STARTS or extension, (width, line)
                    assert shown[-1] not in NEVER_ENDS, (width, line)


@pytest.mark.parametrize("key", ["B", "o", "g", "question_mark"])
async def test_the_lab_screens_and_the_help_show_their_footer_keys_whole_at_40x15(chinese, key):
    app = PlaygroundApp(small("circle"), "circle")
    async with app.run_test(size=(40, 15)) as pilot:
        await ready(pilot)
        await pilot.press(key)
        await pilot.pause(0.5)
        assert app.screen is not app.screen_stack[0]
        assert_footer_keys_whole(app)


def first_piece(text: str) -> str:
    """What a line must start with: one wide character with the closing marks after it, or a
    word of narrow ones."""
    if cell_len(text[0]) == 2:
        end = 1
        while end < len(text) and text[end] in NEVER_STARTS:
            end += 1
        return text[:end]
    end = 0
    while end < len(text) and text[end] != " " and cell_len(text[end]) == 1:
        end += 1
    return text[:end]


def assert_lines_filled(widget) -> None:
    """Each line broke because the next piece did not fit: Textual alone breaks only at spaces,
    leaving a Chinese line half empty before a long run of text."""
    lines = [line.rstrip() for line in shown_lines(widget).splitlines()]
    width = widget.content_region.width
    for line, after in zip(lines, lines[1:], strict=False):
        line, after = line.strip(), after.strip()
        if line and after:
            gap = 1 if cell_len(line[-1]) == cell_len(after[0]) == 1 else 0
            assert cell_len(line) + gap + cell_len(first_piece(after)) > width, (line, after)


async def test_questions_and_errors_in_dialogs_break_chinese_lines_by_the_rule(chinese):
    from nnplay.tui.dialogs import Confirm, PathPrompt

    app = PlaygroundApp(small("circle", **{"training.epochs": 2}), "circle")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await train_to_epoch(pilot, 2)
        await pilot.press("q")  # unsaved training: the question is asked
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        question = app.screen.query_one("Static")
        assert "尚未导出" in shown_lines(question)
        assert_lines_filled(question)
        await pilot.press("escape", "e")
        await pilot.pause()
        assert isinstance(app.screen, PathPrompt)
        # refused by its suffix before anything is written (a path longer than a line would
        # start a line of its own, as a long English word does)
        app.screen.query_one("Input").value = "权重" * 12 + ".txt"
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.screen.error))
        error = app.screen.query_one("#path-error")
        assert "未知的导出格式" in " ".join(shown_lines(error).split())
        assert_lines_filled(error)
