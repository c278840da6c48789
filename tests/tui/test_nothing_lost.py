"""Nothing the learner made is lost by a keystroke (issue 18 §3): a trained run is never
replaced without asking, a prompt with a bad value stays open, a file opens from inside the app."""

import asyncio

from textual.widgets import Button, Input, Label, Select, Static

from nnplay.experiment import save, with_overrides
from nnplay.presets import load_preset
from nnplay.tui.build_panel import BuildPanel, LayerRow
from nnplay.tui.dialogs import Confirm, PathPrompt, PresetPicker
from nnplay.tui.open_dialog import OpenPrompt, completion

from .conftest import SIZE, from_palette, notices, ready, shown_lines, train_to_epoch, until
from .test_app import FAST, field


async def ended(app) -> None:
    for _ in range(100):
        if not app.is_running:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the app is still running")


def question(app) -> str:
    return app.screen.question


async def trained(pilot):
    await ready(pilot)
    await train_to_epoch(pilot, 3)
    return pilot.app.session


async def test_loading_a_preset_over_a_trained_run_asks_first_and_escape_keeps_it(make_app):
    # a 1,460-epoch run was lost to `p`, enter
    app = make_app(**FAST)
    async with app.run_test(size=SIZE) as pilot:
        run = await trained(pilot)
        await pilot.press("p")
        assert isinstance(app.screen, PresetPicker)
        app.screen.dismiss("circle")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        assert question(app).startswith("Load the exercise circle.")
        assert f"{run.trainer.steps:,} steps (epoch 3)" in question(app)
        assert "export them with e" in question(app)
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert app.session is run and app.source == "first-gt-fifth"
        assert app.screen is app.screen_stack[0]
        await pilot.press("p")
        app.screen.dismiss("circle")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: app.source == "circle" and app.session is not run)


async def test_a_reset_asks_first_until_the_weights_are_exported(make_app, tmp_path):
    app = make_app(**FAST)
    async with app.run_test(size=SIZE) as pilot:
        run = await trained(pilot)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        assert question(app).startswith("Reset: new weights from the form.")
        await pilot.press("escape")
        assert app.session is run
        # a script keeps no weights: still asked
        for name, asks in (("run.py", True), ("run.npz", False)):
            await pilot.press("e")
            app.screen.query_one(Input).value = str(tmp_path / name)
            await pilot.press("enter")
            await until(pilot, lambda: app.screen is app.screen_stack[0])
            await pilot.press("r")
            await pilot.pause()
            assert isinstance(app.screen, Confirm) is asks, name
            if asks:
                await pilot.press("escape")
        await until(pilot, lambda: app.session is not run and app.session is not None)
        await ready(pilot)
        await pilot.press("r")  # nothing trained: nothing to lose, nothing asked
        await pilot.pause()
        assert app.screen is app.screen_stack[0]


async def test_quitting_over_a_trained_run_asks_first_and_never_stacks_questions(
    make_app, tmp_path
):
    app = make_app(**FAST)
    async with app.run_test(size=SIZE) as pilot:
        run = await trained(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, Confirm) and app.is_running
        assert question(app).startswith("Quit nnplay.")
        assert f"{run.trainer.steps:,} steps (epoch 3)" in question(app)
        await pilot.press("q")  # q inside the question asks again: one question, not two
        await pilot.pause()
        assert isinstance(app.screen, Confirm) and len(app.screen_stack) == 2
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running and app.session is run and len(app.screen_stack) == 1
        await pilot.press("e")  # exported: nothing to lose, q quits at once
        app.screen.query_one(Input).value = str(tmp_path / "w.pt")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is app.screen_stack[0])
        await pilot.press("q")
        await ended(app)
    assert app.return_code == 0


async def test_yes_to_the_quit_question_quits(make_app):
    app = make_app(**FAST)
    async with app.run_test(size=SIZE) as pilot:
        await trained(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await ended(app)
    assert app.return_code == 0


async def test_a_solution_over_a_trained_run_says_the_run_is_lost(make_app):
    app = make_app("lr-too-high", **FAST)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("S")
        await pilot.pause()
        assert "not exported" not in question(app)  # nothing trained yet
        await pilot.press("escape")
        await pilot.press("n")
        await pilot.press("S")
        await pilot.pause()
        assert question(app).startswith("Apply the solution?")
        assert "1 step (epoch 0) and its weights are not exported" in question(app)


async def test_a_bad_export_name_keeps_the_prompt_open_and_its_keys(
    make_app, tmp_path, monkeypatch
):
    # the prompt closed on w.txt; `p`, enter then loaded another exercise over the run
    app = make_app(**FAST)
    messages = notices(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        run = await trained(pilot)
        await pilot.press("e")
        prompt = app.screen
        prompt.query_one(Input).value = str(tmp_path / "w.txt")
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.screen is prompt
        assert (
            prompt.error.startswith("Could not export") and "unknown export format" in prompt.error
        )
        assert prompt.query_one(Input).has_focus
        await pilot.press("end", "p", "enter")
        await pilot.pause(0.2)
        assert app.screen is prompt and prompt.query_one(Input).value == f"{tmp_path}/w.txtp"
        assert "unknown export format" in prompt.error
        assert not messages and app.session is run
        prompt.query_one(Input).value = str(tmp_path / "w.pt")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is app.screen_stack[0])
        assert (tmp_path / "w.pt").is_file() and messages == [
            f"Exported {tmp_path / 'w.pt'}, {tmp_path / 'w.toml'}"
        ]


async def test_open_a_saved_setup_from_the_palette(make_app, tmp_path):
    path = tmp_path / "mine.toml"
    save(with_overrides(load_preset("circle"), {"training.lr": 0.07}), path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await from_palette(pilot, "Open")
        await until(pilot, lambda: isinstance(app.screen, OpenPrompt))
        await pilot.press(*str(path))
        await pilot.press("enter")
        await until(pilot, lambda: app.source == str(path) and app.session is not None)
        await ready(pilot)
        assert app.session.experiment.training.lr == 0.07
        assert app.experiment.task.name == "circle" and app.sub_title == str(path)


async def test_open_an_exported_file_asks_over_a_trained_run(make_app, tmp_path):
    app = make_app(**FAST)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        run = app.session
        await pilot.press("n", "e")
        app.screen.query_one(Input).value = str(tmp_path / "w.safetensors")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is app.screen_stack[0])
        await pilot.press("n")  # trained on after the export: unsaved again
        await pilot.press("O")
        assert isinstance(app.screen, OpenPrompt)
        app.screen.query_one(Input).value = str(tmp_path / "w.safetensors")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert question(app).startswith(f"Open {tmp_path / 'w.safetensors'}.")
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.session is run and app.screen is app.screen_stack[0]
        await pilot.press("O")
        app.screen.query_one(Input).value = str(tmp_path / "w.safetensors")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await until(pilot, lambda: app.session is not run and app.session is not None)
        assert app.session.experiment == run.experiment and app.session.trainer.steps == 0


async def test_a_file_that_cannot_be_opened_is_one_line_in_the_prompt(make_app, tmp_path):
    (tmp_path / "bad.toml").write_text("[model]\nhidden = 'x'\n")
    (tmp_path / "huge.toml").write_text("x = 1\n" * 400_000)
    (tmp_path / "w.pt").write_bytes(b"not a torch file")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        run = app.session
        await pilot.press("O")
        prompt = app.screen
        for name, reason in (
            ("bad.toml", "model.hidden"),
            ("huge.toml", "too large"),
            ("w.pt", "w.pt"),
            ("missing.toml", "no such file"),
            ("", ""),  # nothing typed: the prompt closes below
        ):
            if not name:
                break
            prompt.query_one(Input).value = str(tmp_path / name)
            await pilot.press("enter")
            await until(pilot, lambda: prompt.error != "", 10)
            assert app.screen is prompt, name
            assert reason in prompt.error and "\n" not in prompt.error, prompt.error
            assert "Traceback" not in prompt.error
        await pilot.press("escape")
        assert app.screen is app.screen_stack[0] and app.session is run


async def test_the_open_prompt_completes_paths(make_app, tmp_path):
    (tmp_path / "saved.toml").write_text("")
    (tmp_path / "same.npz").write_text("")
    (tmp_path / "sample.txt").write_text("")  # not a file nnplay opens
    (tmp_path / "sub").mkdir()
    folder = f"{tmp_path}/"
    assert completion(folder + "sa") == folder + "same.npz"  # the first, in order
    assert completion(folder + "sav") == folder + "saved.toml"
    assert completion(folder + "samp") is None
    assert completion(folder + "su") == folder + "sub/"
    assert completion(folder + "nothing/x") is None
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("O")
        await pilot.press(*(folder + "sav"))
        await pilot.pause(0.3)
        await pilot.press("right")
        assert app.screen.query_one(Input).value == folder + "saved.toml"
        assert isinstance(app.screen, PathPrompt)


async def test_after_choosing_in_a_dropdown_space_trains(make_app):
    # space opened the list again: the dropdown kept the keys
    app = make_app(**{**FAST, "training.epochs": 100000, "goal.epochs": 0})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        optimizer = field(app, "training.optimizer").query_one(Select)
        optimizer.focus()
        await pilot.press("enter")  # opens the list on the current value (adam)
        assert optimizer.expanded
        await pilot.press("up", "enter")
        await pilot.pause()
        assert optimizer.value != "adam" and not optimizer.expanded
        assert app.focused is None
        await pilot.press("space")
        await until(pilot, lambda: app.session.running and app.session.trainer.steps > 0)
        assert not optimizer.expanded


async def test_down_enter_in_every_layers_activation_chooses_an_activation(make_app):
    # the prompt was the list's first option: down, enter chose it and nothing changed
    app = make_app("vanishing-gradients")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        every = app.query_one("#all-activation", Select)
        every.focus()
        await pilot.press("down")
        assert every.expanded
        await pilot.press("enter")
        await pilot.pause(0.3)
        activations = [row.query_one(".activation", Select).value for row in app.query(LayerRow)]
        assert activations == ["relu"] * 8
        assert every.is_blank() and app.focused is None
        # the prompt cannot be chosen: up from the first activation goes round to the last
        every.focus()
        await pilot.press("down", "up", "enter")
        await pilot.pause(0.3)
        activations = [row.query_one(".activation", Select).value for row in app.query(LayerRow)]
        assert activations == ["linear"] * 8
        assert every.is_blank() and not every.expanded


async def test_the_build_panel_keeps_its_place_when_a_layer_is_removed(make_app):
    app = make_app("vanishing-gradients")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        panel = app.query_one(BuildPanel)
        rows = list(app.query(LayerRow))
        panel.scroll_to_widget(rows[2], top=True, animate=False)
        await pilot.pause(0.2)
        assert panel.scroll_y > 0
        scroll, first = panel.scroll_y, rows[3].region.y
        await pilot.click(rows[3].query_one(".remove", Button))
        await until(pilot, lambda: len(app.query(LayerRow)) == 7)
        await pilot.pause(0.3)
        assert panel.scroll_y == scroll
        # the row below the removed one took its place: the next click removes it
        assert app.query(LayerRow)[3].region.y == first


async def test_the_build_panel_keeps_the_control_under_the_pointer_when_an_error_appears(
    make_app,
):
    app = make_app("vanishing-gradients")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        panel = app.query_one(BuildPanel)
        epochs = field(app, "training.epochs").query_one(Input)
        panel.scroll_to_widget(field(app, "training.lr"), top=True, animate=False)
        await pilot.pause(0.2)
        await pilot.hover(epochs)  # about to click the epochs
        where = epochs.region.y
        lr = field(app, "training.lr")
        lr.query_one(Input).value = "x"  # an error line appears under the learning rate
        await pilot.pause(0.3)
        assert lr.query_one(".error").display and lr.query_one(".error").region.y < where
        assert epochs.region.y == where
        lr.query_one(Input).value = "0.1"  # and goes
        await pilot.pause(0.3)
        assert epochs.region.y == where


async def test_the_question_and_the_open_prompt_in_chinese(chinese, make_app):
    app = make_app(**FAST)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("n", "r")
        await pilot.pause()
        assert question(app) == (
            "重置：按表单生成新的权重。\n\n"
            "网络已训练 1 步（第 0 轮），其权重尚未导出：它们将会丢失。请回答否，然后按 e 导出。\n\n"
            "继续吗？"
        )
        await pilot.press("escape", "O")
        assert isinstance(app.screen, OpenPrompt)
        assert app.screen.question.startswith("打开保存的设置（.toml）或导出的权重文件")
        labels = [str(label.render()) for label in app.screen.query(Label)]
        assert "→ 补全路径，enter 打开，escape 取消" in labels


async def test_the_help_says_what_asks_first_and_how_to_keep_a_run(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        paragraphs = " ".join(
            " ".join(shown_lines(static).split()) for static in app.screen.query(Static)
        )
        assert (
            "a preset (p), a file (O), a reset (r), a solution (S) or quitting (q) over weights "
            "that are not exported asks first" in paragraphs
        )
        keys = shown_lines(app.screen.query_one("#help-keys")).splitlines()
        assert ["O", "Open…:", "a", "saved", "setup", "(.toml)"] in [k.split()[:6] for k in keys]
