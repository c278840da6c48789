"""The playground in Chinese: what the learner reads is Chinese, numbers stay intact, and wide
characters (two cells each) keep forms, columns and charts aligned.

The language is chosen before the app composes (the command line does it from --lang); here
the `chinese` fixture does it and gives English back afterwards.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from rich.cells import cell_len
from textual.command import CommandPalette
from textual.widgets import Button, Footer, Input, Label, Tabs

from nnplay import i18n
from nnplay.lab.neurons import LayerWeights
from nnplay.tui.actions import help_rows
from nnplay.tui.build_panel import FieldRow, label_width
from nnplay.tui.curves import Chart
from nnplay.tui.lab_screens import BackpropScreen
from nnplay.tui.train_view import LossChart, NetworkView, SecondChart, TrainView
from nnplay.tui.weights_view import render_weights

from .conftest import SIZE, idle, notices, ready, shown_lines, until
from .test_snapshots import app_for, loaded, no_timings  # noqa: F401 (a fixture)

FAST = {"task.samples": 400, "training.epochs": 3, "goal.epochs": 3}
CJK = re.compile(r"[\u4e00-\u9fff]")


def text(widget) -> str:
    return str(widget.render())


def status(app) -> str:
    return text(app.query_one("#status"))


async def test_the_main_screen_speaks_chinese(chinese, make_app):
    app = make_app("circle")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        buttons = [str(b.label) for b in app.query("#controls Button")]
        assert buttons[:5] == ["▶ 开始", "单步", "重置", "重抽", "预设"]
        assert "参考答案" in buttons
        titles = [section.border_title for section in app.query(".section")]
        assert titles == ["数据", "网络", "训练", "正则化"]
        labels = [str(label.render()) for label in app.query(".field-label")]
        assert "学习率" in labels and "优化器" in labels and "随机种子" in labels
        assert status(app).startswith("就绪  第 0/40 轮  第 0 步")
        tabs = [str(tab.label) for tab in app.query_one(Tabs).query("Tab")]
        assert tabs == ["1 图表", "2 边界图", "3 神经元", "4 权重", "5 网络"]
        footer = " ".join(str(key.render()) for key in app.query_one(Footer).children)
        assert "开始/暂停" in footer and "退出" in footer and "命令面板" in footer
        # option values are config values: they stay as the courses write them
        assert app.query_one("#f-training--optimizer", FieldRow).raw() == "adam"


async def test_a_narrow_terminal_says_why_the_forms_are_hidden(chinese, make_app, monkeypatch):
    app = make_app("circle")
    messages = notices(app, monkeypatch)  # a toast expires while a loaded machine loads torch
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert messages == ["终端较窄：构建面板已隐藏；按 b 显示。"]
        assert not app.query_one("#build").display


async def test_a_training_run_in_chinese_keeps_its_numbers(chinese, make_app, monkeypatch):
    app = make_app("circle", **FAST)
    messages = notices(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("space")
        view = app.query_one(TrainView)
        await until(pilot, lambda: idle(app) and view.last_view.snapshot.epoch == 3, 60)
        await until(pilot, lambda: view.last_view.snapshot.step == app.session.trainer.steps)
        h, steps = app.session.trainer.history, app.session.trainer.steps
        line, metrics = status(app).splitlines()
        # steps per second are held at zero here (a timing): shown as "-"
        assert line == f"已完成  第 3/3 轮  第 {steps:,} 步  -  学习率 0.03"
        assert metrics == (
            f"损失 {h.train_loss[-1]:.4g} / 验证 {h.val_loss[-1]:.4g}  "
            f"准确率 {h.train_accuracy[-1]:.3f} / 验证 {h.val_accuracy[-1]:.3f}"
        )
        assert "目标" in text(app.query_one("#banner"))
        loss_heading = text(app.query_one("#loss-box .legend"))
        assert loss_heading.startswith("损失") and "训练集" in loss_heading
        assert loss_heading.endswith("横轴：轮")
        assert text(app.query_one("#second-box .legend")).startswith("准确率")
        assert "均值±标准差" in text(app.query_one(NetworkView))
        await pilot.press("space")  # a run that is over says so, in Chinese
        await pilot.pause()
        assert any("这次训练已结束" in message for message in messages)


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_plotext_gets_no_text_so_every_chart_row_is_the_chart_wide(language, make_app):
    """plotext puts one character per cell: a Chinese title in it made its row 46 cells wide
    in a 40-cell chart. Titles, legends and the x axis's name are drawn above the chart."""
    i18n.set_language(language)
    try:
        app = make_app("circle", **FAST)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("space")
            await until(pilot, lambda: idle(app) and app.session.trainer.epoch == 3, 60)
            for chart in (app.query_one(LossChart), app.query_one(SecondChart)):
                rows = chart.render().plain.splitlines()
                assert rows and {cell_len(row) for row in rows} == {chart.size.width}
                assert not CJK.search("".join(rows))
            headings = [text(box.query_one(".legend")) for box in app.query(Chart)]
            assert all(CJK.search(h) for h in headings) == (language == "zh")
    finally:
        i18n.set_language("en")


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_form_is_aligned_in_chinese(chinese, make_app, size):
    """Every label fits its column on one line, so every input starts in the same column."""
    app = make_app("circle")
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        if not app.query_one("#build").display:
            await pilot.press("b")
            await pilot.pause()
        assert label_width() > 19  # a Chinese label is wider than the English column
        starts = set()
        for row in app.query(FieldRow):
            if not row.display:
                continue
            label = row.query_one(Label)
            assert label.size.height == 1
            assert cell_len(str(label.render())) < label.size.width
            field_input = row.query_one(".field-input")
            if field_input.display:  # the features' shorthand hides behind toggles on 2-D tasks
                starts.add(field_input.region.x)
        assert len(starts) == 1


async def test_the_help_shows_every_key_whole_and_scrolls_to_its_end_in_80x24(chinese, make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        rows = shown_lines(app.screen.query_one("#help-keys")).splitlines()
        for key, does in help_rows():
            # The key is never cut ("sp…") and its description starts on the same row.
            assert any(row.startswith(f"{key} ") and does[:4] in row for row in rows), key
        help_pane = app.screen.query_one("#help")
        assert help_pane.max_scroll_y > 0 and help_pane.scroll_y == 0
        await pilot.press("end")
        await pilot.pause()
        assert help_pane.scroll_y == help_pane.max_scroll_y


async def test_help_palette_and_dialogs_in_chinese(chinese, make_app):
    app = make_app("lr-too-high")  # a challenge: it has a solution to confirm
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert "开始 / 暂停训练：连续训练，或暂停" in shown_lines(
            app.screen.query_one("#help-keys")
        )
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        assert app.screen.query_one(Input).placeholder == "搜索命令…"
        titles = [command.title for command in app.get_system_commands(app.screen_stack[0])]
        assert "主题" in titles and "截图" in titles
        app.screen.query_one(Input).value = "单步"  # found by its Chinese title
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: app.session.trainer.steps == 1)
        assert status(app).startswith("已暂停")
        await pilot.press("S")
        await pilot.pause()
        assert [str(b.label) for b in app.screen.query(Button)] == ["是 (y)", "否 (esc)"]


async def test_a_lab_screen_in_chinese(chinese, make_app):
    app = make_app("circle")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("B")
        await until(pilot, lambda: isinstance(app.screen, BackpropScreen))
        await pilot.pause()
        screen = app.screen
        assert text(screen.query_one(".lab-title")).startswith("反向传播，一步一步")
        assert [str(b.label) for b in screen.query(Button)] == ["单步 (n)", "重置 (r)"]
        assert "学习率 0.5" in text(screen.query_one("#bp-status"))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_weights_table_keeps_its_columns_in_both_languages(language):
    """The corner word (unit\\in, 神经元\\输入) is wider in Chinese: the names' column widens
    with it, so every row of the table is as wide as its header."""
    i18n.set_language(language)
    try:
        rng = np.random.default_rng(0)
        layer = LayerWeights("hidden2", rng.normal(size=(4, 3)), rng.normal(size=4), (4, 3))
        lines = render_weights([layer], ["x1", "x2", "x3"], 120).plain.splitlines()
        table = [line for line in lines if line.startswith("  ")]
        assert len(table) == 5  # the header and four units
        assert len({cell_len(line.rstrip()) for line in table}) == 1
        assert ("偏置" in table[0]) == (language == "zh")
    finally:
        i18n.set_language("en")


def test_no_marked_text_hides_inside_an_f_string():
    """On Python 3.11 an f-string is one token: `f"{_('met')}"` is translated at run time but
    never extracted into the catalog, so it would stay English unnoticed."""
    root = Path(__file__).resolve().parents[2] / "nnplay"
    hidden = [
        f"{path.name}: {line.strip()}"
        for path in root.rglob("*.py")
        for line in path.read_text().splitlines()
        if re.search(r"""\{_\(["']""", line)
    ]
    assert not hidden


# Snapshots of the Chinese screens (the English ones are in test_snapshots.py).


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_main_screen_in_chinese(snap_compare, chinese, size):
    assert snap_compare(app_for("circle"), terminal_size=size, run_before=loaded)


def test_backprop_lab_in_chinese(snap_compare, chinese):
    async def opened(pilot):
        await loaded(pilot)
        await pilot.press("B")
        await pilot.pause(0.5)

    assert snap_compare(app_for("circle"), terminal_size=(120, 40), run_before=opened)
