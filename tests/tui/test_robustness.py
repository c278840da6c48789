"""Regressions from a new user's hour with the app: each of these crashed it or showed
something untrue."""

import re
import threading

from textual.app import App
from textual.widgets import Button, Input

from nnplay.tui import app as app_module
from nnplay.tui.app import PlaygroundApp
from nnplay.tui.build_panel import BuildPanel, LayerRow, OnOff
from nnplay.tui.dialogs import Confirm, HelpScreen, PathPrompt
from nnplay.tui.train_view import TrainView

from .conftest import SIZE, idle, notices, ready, small, train_to_epoch, until
from .test_app import architecture, banner, field, type_into


def status(app) -> str:
    return str(app.query_one("#status").render())


def shown_parameters(app) -> int:
    return int(re.search(r"([\d,]+) parameters", architecture(app)).group(1).replace(",", ""))


def model_parameters(app) -> int:
    return sum(p.numel() for p in app.session.trainer.model.parameters())


async def test_removing_and_moving_layers_at_once_never_reads_a_half_removed_row(make_app):
    app = make_app("vanishing-gradients", **{"training.epochs": 2})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        panel = app.query_one(BuildPanel)
        for _ in range(3):
            rows = list(app.query(LayerRow))
            # Several clicks land before the first change is done, as a quick learner's do;
            # a click on a row that is already gone does nothing.
            rows[0].query_one(".remove", Button).press()
            rows[1].query_one(".down", Button).press()
            rows[0].query_one(".remove", Button).press()
            rows[-1].query_one(".up", Button).press()
            await pilot.pause(0.3)
            await until(pilot, lambda: not panel._layers_changing.locked())
            await pilot.pause(0.2)
            assert len(app.query(LayerRow)) == len(panel.experiment.model.hidden) < 8
            assert "NULL" not in str(app.query_one("#layer-error").render())
        await pilot.press("r")
        await until(
            pilot,
            lambda: (
                app.session is not None
                and app.session.trainer.steps == 0
                and app.session.experiment.model.hidden == panel.experiment.model.hidden
            ),
        )
        await pilot.pause(0.2)
        assert shown_parameters(app) == model_parameters(app)


async def test_applying_a_solution_after_training_keeps_the_layers_consistent(make_app):
    app = make_app("vanishing-gradients", **{"training.epochs": 1, "goal.epochs": 1})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await train_to_epoch(pilot, 1)
        await pilot.press("S")
        await pilot.pause()
        await pilot.press("y")
        await until(
            pilot,
            lambda: app.session is not None and app.session.experiment.model.activation == "relu",
        )
        await pilot.pause(0.3)
        assert len(app.query(LayerRow)) == 8
        assert not str(app.query_one("#layer-error").render())
        assert shown_parameters(app) == model_parameters(app)


async def test_loading_a_preset_while_training_stops_the_old_run(make_app):
    app = make_app("first-gt-fifth", **{"training.epochs": 100000, "goal.epochs": 0})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("space")
        await until(pilot, lambda: app.session.trainer.steps > 20)
        old = app.session
        await type_into(pilot, "training.lr", "50")
        await pilot.press("p")
        await pilot.pause()
        app.screen.dismiss("lr-too-high")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)  # the trained run is not exported
        await pilot.press("y")
        await until(pilot, lambda: app.session is not None and app.session is not old)
        await pilot.pause(0.3)
        assert not old.running
        steps = old.trainer.steps
        await pilot.pause(0.3)
        assert old.trainer.steps == steps  # the old run really stopped
        assert status(app).startswith("ready") and "lr 5\n" in status(app)  # the new run's lr
        network = str(app.query_one("#network").render())
        assert "5 → 8" not in network and "2 → 16" in network  # only the new model
        await pilot.press("r")
        await until(pilot, lambda: app.session is not None and app.session.trainer.steps == 0)
        await pilot.press("n")
        assert app.session.trainer.steps == 1


async def test_status_is_paused_after_manual_steps_and_diverged_runs_take_no_steps(make_app):
    app = make_app("lr-too-high")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert status(app).startswith("ready")
        await pilot.press("n", "n")
        assert status(app).startswith("paused")
        await pilot.press("space")
        await until(pilot, lambda: idle(app) and app.session.trainer.status == "diverged")
        await pilot.pause(0.2)
        steps = app.session.trainer.steps
        assert status(app).startswith("diverged")
        await pilot.press("n")
        await pilot.press("space")
        await pilot.pause(0.2)
        assert app.session.trainer.steps == steps and status(app).startswith("diverged")
        assert "Diverged" in banner(app)


async def test_a_failed_export_or_save_is_one_message_and_the_model_stays(
    make_app, tmp_path, monkeypatch
):
    app = make_app(**{"training.epochs": 1, "goal.epochs": 1, "task.samples": 300})
    messages = notices(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("n")
        session, trainer = app.session, app.session.trainer
        blocker = tmp_path / "file"
        blocker.write_text("x")
        # each message gives the true reason (a file in the way is not "File exists")
        for key, path, reason in (
            ("e", tmp_path, "unknown export format"),
            ("e", blocker / "w.pt", f"{blocker} is a file, not a folder"),
            ("e", blocker / "w.py", f"{blocker} is a file, not a folder"),
            ("s", blocker / "s.toml", f"{blocker} is a file, not a folder"),
            ("s", tmp_path, "it is a folder"),
            ("e", tmp_path / "w.txt", "unknown export format"),
        ):
            await pilot.press(key)
            app.screen.query_one(Input).value = str(path)
            await pilot.press("enter")
            await pilot.pause(0.2)
            # the prompt stays open, the reason beside the path
            assert isinstance(app.screen, PathPrompt)
            error = app.screen.error
            assert error.startswith(f"Could not {'export' if key == 'e' else 'save'}"), error
            assert reason in error, error
            assert "\n" not in error and "Traceback" not in error
            await pilot.press("escape")
        assert not messages
        assert app.session is session and session.trainer is trainer and trainer.steps == 1
        assert app.screen is app.screen_stack[0]


async def test_adding_a_layer_never_shows_an_internal_value(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        for _ in range(3):
            app.query_one("#add-layer", Button).press()
            await pilot.pause(0)
            assert "NULL" not in str(app.query_one("#layer-error").render())
        await until(pilot, lambda: len(app.query(LayerRow)) == 3)
        await pilot.pause(0.2)
        assert not str(app.query_one("#layer-error").render())


async def test_checkboxes_draw_on_and_off_differently(make_app):
    app = make_app("momentum-vs-sgd")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        box = field(app, "training.nesterov").query_one(OnOff)
        off = str(box.render())
        box.toggle()
        await pilot.pause()
        assert str(box.render()) != off and "✔" in str(box.render()) and "✔" not in off


async def test_status_numbers_and_hints_are_not_cut_at_120x40(make_app):
    app = make_app(**{"training.epochs": 1, "goal.epochs": 1})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("h", "h", "h", "space")
        await until(pilot, lambda: idle(app) and app.session.trainer.epoch == 1)
        await pilot.pause(0.2)
        line = app.query_one("#status")
        for text in str(line.render()).splitlines():
            assert len(text) <= line.content_region.width, text
        assert "val" in str(line.render())
        exercise = app.query_one("#exercise")
        assert exercise.virtual_size.height <= exercise.content_region.height  # all hints show
        assert app.query_one(BuildPanel).display


async def test_an_unexpected_error_is_shown_and_exits_non_zero(monkeypatch, capsys):
    def broken(self):
        raise RuntimeError("a bug")

    async def press_hint(pilot):
        await pilot.pause(0.5)
        await pilot.press("h")

    monkeypatch.setattr(PlaygroundApp, "action_hint", broken)
    monkeypatch.setattr(
        PlaygroundApp, "run", lambda self: App.run(self, headless=True, auto_pilot=press_hint)
    )
    codes = []  # run in a thread of its own: App.run starts an event loop
    thread = threading.Thread(
        target=lambda: codes.append(app_module.run_app(small("first-gt-fifth"), "first-gt-fifth"))
    )
    thread.start()
    thread.join(120)
    assert codes == [1]
    captured = capsys.readouterr()
    assert "unexpected error" in captured.err and "a bug" in captured.out + captured.err


async def test_the_training_thread_ends_with_the_app_however_it_ends(make_app):
    app = make_app(**{"training.epochs": 100000, "goal.epochs": 0})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("space")
        await until(pilot, lambda: app.session.trainer.steps > 10)
        session = app.session
    # The app left without `q` (ctrl+q, a crash): the worker must not keep the process alive.
    assert not session.running


async def test_a_file_name_with_terminal_escapes_is_shown_escaped():
    # a shared archive's file name can hold escapes that clear the screen or retitle the terminal
    source = "x\x1b[2J\x1b]0;PWN\x07y.toml"
    app = PlaygroundApp(small("circle", **{"meta.title": ""}), source)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        shown = [app.sub_title, str(app.query_one("#exercise").render()), app.title]
        for text in shown:
            assert "\x1b" not in text and "\x07" not in text, repr(text)
        assert "x\\x1b[2J" in app.sub_title
        await pilot.press("p")
        await pilot.pause()
        app.screen.dismiss("spiral")
        await until(pilot, lambda: app.source == "spiral" and app.session is not None)
        assert app.sub_title == "spiral"


async def test_the_export_prompt_says_what_is_exported_and_names_it_after_the_file(make_app):
    exp = small("lr-too-high", **{"task.samples": 300})
    app = PlaygroundApp(exp, "my runs/lr too high.toml")  # a file name with spaces
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("e")
        assert isinstance(app.screen, PathPrompt)
        assert "Nothing is trained yet" in app.screen.question  # not "the trained weights"
        assert app.screen.query_one(Input).value == "lr too high.pt"
        await pilot.press("escape", "n", "e")
        assert app.screen.question.startswith("Export the trained weights")
        await pilot.press("escape")
        await app._apply_solution(True)
        await pilot.press("e")
        assert app.screen.query_one(Input).value == "lr too high-solution.pt"


async def test_messages_arriving_while_the_app_closes_touch_no_widget(make_app):
    """Seen under load and by the monkey: the run's last frame reached the exercise box, and a
    form's last edit the Start button, after the app's widgets were removed (NoMatches at
    exit)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        session, generation = app.session, app.generation
        view = app.query_one(TrainView).last_view
    # the app has closed: nothing to draw on
    app.on_progress(app_module.Progress(session, view))
    app._edited(BuildPanel.Edited(session.experiment, {}))
    await app.on_session_ready(app_module.SessionReady(session, generation, view=view))


async def test_text_that_looks_like_markup_is_shown_as_typed_and_never_ends_the_app(
    tmp_path, monkeypatch
):
    # `[/x]` in a field, a path or an exercise's text used to raise MarkupError while rendering
    # (the app ended); `[@click=…]` would have become an action; a trailing backslash showed twice.
    exp = small(
        "circle",
        **{"meta.title": "Title [/x]", "meta.hints": ["try [b]this[/b] \\", "C:\\temp\\[x]"]},
    )
    app = PlaygroundApp(exp, "circle")
    messages = notices(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("h", "h")
        await pilot.pause()
        exercise = str(app.query_one("#exercise").render())  # its text, before line breaking
        assert "Title [/x]" in exercise
        assert "try [b]this[/b] \\\n" in exercise and exercise.count("\\") == 3
        assert "C:\\temp\\[x]" in exercise
        await type_into(pilot, "training.lr", "[/x]")
        await type_into(pilot, "task.samples", "[@click=app.quit]q")
        errors = [str(e.render()) for e in app.query(".error") if e.display]
        assert any("'[/x]'" in e for e in errors) and any("[@click=app.quit]q" in e for e in errors)
        await pilot.press("escape", "e")
        app.screen.query_one(Input).value = str(tmp_path / "a[/x]" / "w[b].pt")
        await pilot.press("enter")
        await pilot.pause(0.3)
        message = messages[-1]
        assert f"{tmp_path}/a[/x]" in message, message  # the toast draws it as text
        assert app.is_running and app.screen is app.screen_stack[0]


async def test_a_dialog_answered_twice_answers_once_and_never_pops_the_playground(
    make_app, tmp_path
):
    # Two Enters queued on the export prompt: Textual's dismiss popped whatever was on top, so the
    # second one popped the playground itself (ScreenStackError, the session lost).
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        exported = []

        async def export(path):
            exported.append(path)

        app._export = export
        for _ in range(3):
            await pilot.press("e")
            prompt = app.screen
            prompt.query_one(Input).value = str(tmp_path / "w.pt")
            await prompt.query_one(Input).action_submit()
            await prompt.query_one(Input).action_submit()
            await pilot.pause()
            prompt.dismiss(None)  # a late answer from a screen already gone does nothing
            await pilot.pause()
            assert app.screen is app.screen_stack[0] and len(app.screen_stack) == 1
        assert exported == [str(tmp_path / "w.pt")] * 3
        await pilot.press("question_mark", "escape", "escape", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and len(app.screen_stack) == 2


async def test_q_while_the_form_is_still_being_filled_quits_cleanly(make_app):
    # The form's widgets are mounted after the first frame; q in the app's first second removed
    # them while they were mounted, and the filling crashed the app (NoMatches '#layers', exit 1).
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert not app.query_one(BuildPanel).filled
        await pilot.press("q")
    assert app.return_code == 0
