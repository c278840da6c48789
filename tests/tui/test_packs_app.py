"""Lesson packs and locked fields in the app (issue 22 §3): the pack's menu in order, a mark by
each exercise whose goal was met, a broken one shown with why; a locked field shown but not
editable, saying why; a hidden section absent; the solution still changes a locked field."""

from pathlib import Path

import pytest
from textual.widgets import Button, Input, OptionList, Static

from nnplay.packs import packs_dir, read_pack
from nnplay.tui.app import PlaygroundApp
from nnplay.tui.build_panel import BuildPanel, LayerRow
from nnplay.tui.dialogs import Confirm
from nnplay.tui.pack_menu import PackMenu

from .conftest import SIZE, notices, ready, train_to_epoch, until
from .test_app import field

# first-gt-fifth made quick: 3 epochs reach val accuracy 0.48 (0.96 with lr 0.03)
QUICK = """
[task]
name = "first_gt_fifth"
samples = 400
[training]
epochs = 3
[goal]
metric = "val_accuracy"
epochs = 3
"""
EASY = QUICK + "threshold = 0.4\n[meta]\ntitle = 'Easy'\n"
HARD = (
    QUICK
    + "threshold = 0.6\n[meta]\ntitle = 'Hard'\n"
    + '[lock]\nfields = ["training.lr", "model.hidden"]\nhide = ["task"]\n'
    + '[solution]\n"training.lr" = 0.03\n'
)


def write_pack(folder: Path) -> Path:
    folder.mkdir()
    (folder / "pack.toml").write_text(
        'title = "Test pack"\nexercises = ["easy.toml", "broken.toml", "hard.toml", "xor"]\n'
    )
    (folder / "easy.toml").write_text(EASY)
    (folder / "hard.toml").write_text(HARD)
    (folder / "broken.toml").write_text("[training]\nlr = -1\n")
    return folder


def pack_app(folder: Path) -> PlaygroundApp:
    pack = read_pack(folder)
    name, exp = pack.first()
    return PlaygroundApp(exp, name, pack=pack)


def menu_lines(app) -> list[str]:
    options = app.screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def choose(pilot, name: str) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, PackMenu))
    await ready(pilot)  # the first frames are long drawn: the menu has highlighted the open one
    menu = pilot.app.screen
    names = [e.name for e in menu.progress.pack.entries]
    menu.query_one(OptionList).highlighted = names.index(name)
    await pilot.press("enter")
    await pilot.pause()


async def opened(pilot, name: str) -> None:
    """The exercise `name` chosen from the menu the pack opens on, its network built."""
    await choose(pilot, name)
    await until(pilot, lambda: pilot.app.source == name)
    await ready(pilot)


async def test_the_pack_opens_on_its_menu_in_order_with_the_broken_one_and_why(tmp_path):
    app = pack_app(write_pack(tmp_path / "pack"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PackMenu))
        lines = menu_lines(app)
        assert [line.split()[:2] for line in lines] == [
            ["1.", "easy.toml"],
            ["2.", "broken.toml"],
            ["3.", "hard.toml"],
            ["4.", "xor"],
        ]
        assert "Test pack" in str(app.screen.query_one("Label").render())
        assert "✖ broken: training.lr: -1 is not allowed; must be a number > 0" in lines[1]
        options = app.screen.query_one(OptionList)
        assert options.get_option_at_index(1).disabled  # it cannot be chosen
        assert not options.get_option_at_index(2).disabled
        assert not any("✔" in line for line in lines)  # nothing met yet
        assert app.source == "easy.toml"  # the first that opens is behind the menu


async def test_choosing_an_exercise_loads_it_and_a_met_goal_is_marked(tmp_path):
    app = pack_app(write_pack(tmp_path / "pack"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PackMenu))
        await pilot.press("escape")
        await ready(pilot)
        await train_to_epoch(pilot, 3)
        assert app.session.trainer.history.last("val_accuracy") >= 0.4  # the goal: met
        await pilot.press("p")
        await pilot.pause()
        lines = menu_lines(app)
        assert lines[0].endswith("✔ met") and "✔" not in lines[2] + lines[3]
        # the trained run is not exported: choosing another asks first, as a preset does
        await choose(pilot, "hard.toml")
        assert isinstance(app.screen, Confirm)
        assert app.screen.question.startswith("Load the exercise hard.toml.")
        await pilot.press("y")
        await until(pilot, lambda: app.source == "hard.toml")
        await ready(pilot)
        assert app.experiment.meta.title == "Hard"
        await train_to_epoch(pilot, 3)  # val accuracy 0.48 < 0.6: not met
        await pilot.press("p")
        await pilot.pause()
        lines = menu_lines(app)
        assert lines[0].endswith("✔ met") and "✔" not in lines[2]
        await pilot.press("escape")
        # the solution meets it: marked, but as met with the solution
        await pilot.press("S")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: app.experiment.training.lr == 0.03)
        await ready(pilot)
        await train_to_epoch(pilot, 3)
        await pilot.press("p")
        await pilot.pause()
        assert menu_lines(app)[2].endswith("✔ met with the solution")


async def test_a_locked_field_cannot_be_edited_and_says_why(tmp_path):
    app = pack_app(write_pack(tmp_path / "pack"))
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, "hard.toml")
        panel = app.query_one(BuildPanel)
        lr = field(app, "training.lr")
        assert lr.query_one(Input).disabled
        note = lr.query_one(".lock-note", Static)
        assert str(note.render()) == "locked by the exercise"
        assert "Locked by the exercise" in str(lr.tooltip)
        # clicked and typed into, it keeps its value and the form stays as loaded
        await pilot.click(lr.query_one(Input))
        await pilot.press("9")
        assert lr.query_one(Input).value == "0.001" and panel.experiment.training.lr == 0.001
        # an open field is still editable, and has no note
        optimizer = field(app, "training.batch_size")
        assert not optimizer.query_one(Input).disabled and not optimizer.query(".lock-note")
        # the hidden layers: every control disabled, no add button, a note that says why
        assert all(w.disabled for row in panel.query(LayerRow) for w in row.query("Input"))
        assert not app.query_one("#add-layer", Button).display
        assert "hidden layers are locked" in str(
            app.query_one("#section-network .lock-note").render()
        )
        # the hidden section is not shown
        assert not app.query_one("#section-data").display
        assert app.query_one("#section-training").display


async def test_the_solution_changes_a_locked_field_and_keeps_it_locked(tmp_path):
    app = pack_app(write_pack(tmp_path / "pack"))
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, "hard.toml")
        await pilot.press("S")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: field(app, "training.lr").query_one(Input).value == "0.03")
        assert app.edited.training.lr == 0.03
        assert field(app, "training.lr").query_one(Input).disabled  # still locked


async def test_another_exercise_undoes_the_locks(tmp_path):
    app = pack_app(write_pack(tmp_path / "pack"))
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, "hard.toml")
        assert not app.query_one("#section-data").display
        await pilot.press("p")
        await pilot.pause()
        await opened(pilot, "xor")
        assert app.query_one("#section-data").display
        assert not field(app, "training.lr").query_one(Input).disabled
        assert not app.query(".lock-note")
        assert app.query_one("#add-layer", Button).display


async def test_a_comparison_offers_only_the_fields_the_exercise_leaves_open(tmp_path):
    from textual.widgets import Select
    from textual.widgets.select import InvalidSelectValueError

    from nnplay.tui.compare_view import CompareDialog

    app = pack_app(write_pack(tmp_path / "pack"))
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, "hard.toml")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CompareDialog))
        field_choice = app.screen.query_one(Select)
        for path in ("training.optimizer", "training.seed"):
            field_choice.value = path  # offered
        for path in ("training.lr", "model.hidden", "task.noise"):
            with pytest.raises(InvalidSelectValueError):  # not offered: locked or hidden
                field_choice.value = path


async def test_an_exercise_that_locks_everything_has_nothing_to_compare(tmp_path, monkeypatch):
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / "all.toml").write_text(QUICK + '[lock]\nhide = ["task", "model", "training"]\n')
    app = pack_app(folder)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, "all.toml")
        shown = notices(app, monkeypatch)
        await pilot.press("c")
        await pilot.pause()
        assert shown == ["The exercise locks every field a comparison could vary."]
        assert app.screen is app.screen_stack[0]
        assert not any(app.query_one(f"#section-{box}").display for box in ("data", "network"))


async def test_the_rate_range_test_leaves_a_locked_rate_alone(tmp_path, monkeypatch):
    from nnplay.tui.lab_screens import RateRangeScreen

    app = pack_app(write_pack(tmp_path / "pack"))
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, "hard.toml")
        shown = notices(app, monkeypatch)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, RateRangeScreen) and app.screen.test)
        assert app.screen.test.suggested is not None
        await pilot.press("a")
        await pilot.pause()
        assert "The exercise locks the learning rate: it stays as it is." in shown
        assert app.screen_stack[0].query_one("#f-training--lr").query_one(Input).value == "0.001"


async def test_the_example_pack_opens_and_its_locked_exercise_meets_its_goal_by_the_network():
    app = pack_app(packs_dir() / "basics")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PackMenu))
        lines = menu_lines(app)
        assert [line.split()[1] for line in lines] == [
            "first-gt-fifth",
            "xor",
            "circle",
            "circle-capacity.toml",
        ]
        assert not any("broken" in line for line in lines)
        await opened(pilot, "circle-capacity.toml")
        assert not app.query_one("#section-data").display
        assert field(app, "training.lr").query_one(Input).disabled
        assert not app.query_one(LayerRow).query_one(".units", Input).disabled  # the learner's


async def test_a_hostile_name_is_shown_escaped_and_a_vanished_data_file_is_told(
    tmp_path, monkeypatch
):
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / "1-ok.toml").write_text(EASY)
    (folder / "2-\x1b[2J.toml").write_text(EASY)
    (folder / "3-data.toml").write_text('[task]\ndata = "gone.csv"\ntarget = "y"\n')
    app = pack_app(folder)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PackMenu))
        await ready(pilot)
        lines = menu_lines(app)
        assert "2-\\x1b[2J.toml" in lines[1] and "\x1b" not in "".join(lines)
        assert "✖ broken: '2-\\x1b[2J.toml' is not a plain file name" in lines[1]
        shown = notices(app, monkeypatch)
        await choose(pilot, "3-data.toml")  # its CSV file is read when it is chosen
        await pilot.pause(0.3)
        assert len(shown) == 1 and shown[0].startswith(f"{folder / 'gone.csv'}: no such file")
        assert app.source == "1-ok.toml"  # the open exercise stays


async def test_the_pack_and_its_locks_speak_chinese(chinese):
    app = pack_app(packs_dir() / "basics")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PackMenu))
        await ready(pilot)
        assert "基础：从一个神经元到一条封闭的边界" in str(app.screen.query_one("Label").render())
        assert "圆形：只有网络由你决定" in menu_lines(app)[3]
        await opened(pilot, "circle-capacity.toml")
        note = field(app, "training.lr").query_one(".lock-note", Static)
        assert str(note.render()) == "由练习锁定"


async def test_an_exercise_that_hides_its_data_keeps_it_from_regenerate_and_drawing(monkeypatch):
    """circle-capacity hides the Data section (the teacher fixes the data): ⟳ Data and a
    click on the map say so and leave the data as it was."""
    from .test_drawn_points import click_cell, open_drawing

    app = pack_app(packs_dir() / "basics")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PackMenu))
        await opened(pilot, "circle-capacity.toml")
        shown = notices(app, monkeypatch)
        seed = app.edited.task.seed
        await pilot.press("R")
        await pilot.pause()
        assert "The exercise locks its data: ⟳ Data cannot draw new points." in shown
        assert app.edited.task.seed == seed == app.session.experiment.task.seed
        await open_drawing(pilot)
        await click_cell(pilot, 3, 3)
        assert "The exercise locks its data: no points can be drawn on it." in shown
        assert len(app.drawing.points) == 0
