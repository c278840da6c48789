"""Predict, then run, in the app: the question before the first run, the answer after it."""

from nnplay.presets import load_preset
from nnplay.status import Status
from nnplay.tui.predict_dialog import ChoiceLine, PredictDialog, RevealDialog

from .conftest import ready, shown_lines, speaking, train_to_epoch, until

SIZES = [(80, 24), (120, 40)]


def reveal(app) -> str:
    """The answer's text as shown ("" while its dialog is still being put together)."""
    shown = app.screen.query("#reveal-text")
    return shown_lines(shown.first()) if shown else ""


async def revealed(pilot, seconds: float = 30) -> str:
    """The answer's text, once the run has ended and it is on the screen, on one line."""
    app = pilot.app
    await until(
        pilot, lambda: isinstance(app.screen, RevealDialog) and reveal(app).strip(), seconds
    )
    return " ".join(reveal(app).split())


async def asked(pilot) -> PredictDialog:
    """Space on a fresh exercise: the question is on top, and nothing has trained."""
    app = pilot.app
    await ready(pilot)
    await pilot.press("space")
    await until(pilot, lambda: isinstance(app.screen, PredictDialog))
    assert app.session.trainer.steps == 0 and not app.session.running
    return app.screen


async def test_a_key_answers_and_the_run_ends_with_the_answer(make_app):
    app = make_app("lr-too-high", asks=True)
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await asked(pilot)
        await pilot.press("h", "space", "n")  # the playground's keys wait behind the question
        await pilot.pause(0.2)
        assert app.screen is dialog and app.hints_shown == 0 and app.session.trainer.steps == 0
        await pilot.press("3")
        text = await revealed(pilot)
        assert app.session.status == Status.DIVERGED
        assert "✔ You predicted it." in text, text
        chosen = "3. The loss grows until it overflows: the run diverges within a few dozen steps"
        assert f"Your prediction: {chosen}" in text and f"The answer: {chosen}" in text, text
        assert "Each step moves a weight by learning rate x gradient." in text, text
        # what the run did: the numbers the status line shows, of the weights kept
        summary = app.query_one("#train").last_view.summary
        assert summary.weights_epoch == 0, summary
        did = f"What this run did: diverged after 1 epoch; loss {summary.train_loss:.4g}"
        assert did in text and "(the initial weights)" in text, text
        assert "goal not met" in text and "differ" not in text, text
        await pilot.press("escape")
        assert not isinstance(app.screen, RevealDialog)
        # the learner's answer stays in sight, in the exercise's box
        assert "your prediction: 3 ✔ right" in shown_lines(app.query_one("#exercise"))


async def test_a_click_answers_and_a_wrong_answer_says_so(make_app):
    app = make_app("momentum-vs-sgd", asks=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await asked(pilot)
        first = app.screen.query(ChoiceLine).first()
        await pilot.click(first)
        await until(pilot, lambda: app.session.trainer.steps > 0)  # training started at once
        text = await revealed(pilot, 60)
        assert "✖ Not what happened." in text, text
        assert "Your prediction: 1. Little: momentum only smooths the path" in text, text
        assert "The answer: 2. Momentum meets the goal" in text, text
        summary = app.query_one("#train").last_view.summary
        assert f"acc {summary.train_accuracy:.3f} / val {summary.val_accuracy:.3f}" in text
        assert "c runs the comparison" in text, text
        await pilot.press("enter")
        await pilot.pause()
        box = " ".join(shown_lines(app.query_one("#exercise")).split())
        assert "your prediction: 1 ✖ the answer: 2" in box, box


async def test_escape_skips_and_the_exercise_never_asks_again(make_app):
    app = make_app("underfitting", asks=True, **{"training.epochs": 3})
    async with app.run_test(size=(120, 40)) as pilot:
        await asked(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: app.session.trainer.steps > 0)  # a skip starts training too
        await until(pilot, lambda: not app.session.can_step and app.session.idle)
        await pilot.pause(0.3)
        assert not isinstance(app.screen, RevealDialog)  # a skip waits for no answer
        for again in ("reset", "load"):
            if again == "reset":
                await app.action_reset()
                if app.screen is not app.screen_stack[0]:
                    await pilot.press("y")  # training not exported: the reset asks first
            else:
                await app.load(load_preset("underfitting"), "underfitting")
            await ready(pilot)
            await pilot.press("space")
            await until(pilot, lambda: app.session.trainer.steps > 0)
            assert not isinstance(app.screen, PredictDialog), again


async def test_a_run_of_other_settings_says_its_answer_is_about_the_exercise(make_app):
    app = make_app("lr-too-high", asks=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        app.edited = edited = app.edited.copy()  # as the form makes it
        edited.training.batch_size, edited.training.epochs = 100, 2
        await pilot.press("space")  # nothing trained: the form's settings build the network
        await until(pilot, lambda: isinstance(app.screen, PredictDialog))
        await pilot.press("1")
        text = await revealed(pilot)
        assert "✖ Not what happened." in text
        assert "This run's settings differ from the exercise's (batch size 32 → 100" in text, text


async def test_the_question_and_its_answer_fit_both_sizes_in_both_languages(make_app):
    for language in ("en", "zh"):
        for size in SIZES:
            with speaking(language):
                app = make_app("circle-features", asks=True)
                async with app.run_test(size=size) as pilot:
                    dialog = await asked(pilot)
                    question = app.exercise.predict.localized()
                    box = dialog.query_one("#predict")
                    assert box.region.bottom <= size[1] and box.region.right <= size[0]
                    # all of it in sight at once: no part below a scroll
                    assert box.max_scroll_y == 0, (language, size, box.virtual_size)
                    # the whole question, its lines joined (a Chinese line breaks between two
                    # characters, an English one at a space)
                    text = "".join(shown_lines(dialog.query_one("#predict-question")).split())
                    assert "".join(question.question.split()) == text, (language, size, text)
                    for number, line in enumerate(dialog.query(ChoiceLine), 1):
                        # every choice is on the screen, whole: a click reaches each one
                        assert box.region.contains_region(line.region), (language, size)
                        assert shown_lines(line).strip().startswith(f"{number}. ")
                    keys = shown_lines(dialog.query_one("#predict-keys"))
                    assert ("Escape" if language == "en" else "Esc") in keys, keys
                    await pilot.press("2")  # the right answer
                    text = "".join((await revealed(pilot)).split())
                    box = app.screen.query_one("#reveal")
                    assert box.region.bottom <= size[1] and box.max_scroll_y == 0, (language, size)
                    right = "✔你预测对了。" if language == "zh" else "✔Youpredictedit."
                    assert text.startswith(right), text
                    assert "".join(question.explanation.split()) in text, (language, size, text)


async def test_every_question_and_answer_fits_80x24_in_both_languages(make_app):
    """Each exercise's own texts, the longest at the smallest screen: all in sight at once."""
    from nnplay.predict import Prediction
    from nnplay.tui.train_view import TrainView

    from ..test_predict import ASKING

    for language in ("en", "zh"):
        with speaking(language):
            app = make_app("circle", **{"training.epochs": 1})
            async with app.run_test(size=(80, 24)) as pilot:
                await ready(pilot)
                await train_to_epoch(pilot, 1)
                await pilot.pause(0.3)
                # the longest reveal: a run's numbers and goal, of settings not the exercise's
                view, run = app.query_one(TrainView).last_view, app.session.experiment
                assert view.status.ended and view.summary.goal is not None
                for name in ASKING:
                    exercise = load_preset(name)
                    wrong = next(n for n in (1, 2) if n not in exercise.predict.answer)
                    for dialog in (
                        PredictDialog(exercise.predict),
                        RevealDialog(Prediction(exercise.predict, wrong), view, exercise, run),
                    ):
                        await app.push_screen(dialog)
                        await pilot.pause()
                        box = dialog.query_one(".dialog")
                        assert box.region.bottom <= 24, (language, name)
                        assert box.max_scroll_y == 0, (language, name, type(dialog).__name__)
                        dialog.dismiss(None)
                        await pilot.pause()


async def test_a_run_already_under_way_asks_nothing_and_the_next_fresh_one_asks(make_app):
    app = make_app("underfitting", asks=True, **{"training.epochs": 2})
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("n")  # one step first: the run is under way
        await until(pilot, lambda: app.session.trainer.steps == 1)
        await pilot.press("space")
        await until(pilot, lambda: app.session.trainer.steps > 1)
        assert not isinstance(app.screen, PredictDialog)
        await until(pilot, lambda: not app.session.can_step and app.session.idle)
        await app.action_reset()
        if app.screen is not app.screen_stack[0]:
            await pilot.press("y")
        await ready(pilot)
        await pilot.press("space")  # a fresh run: the question, not asked yet, comes first
        await until(pilot, lambda: isinstance(app.screen, PredictDialog))


def test_the_exercise_box_keeps_the_answer_waiting_then_judged():
    from nnplay.predict import Predictions
    from nnplay.tui.predict_dialog import prediction_line

    question = load_preset("overfitting").predict
    remembered = Predictions()
    assert prediction_line(remembered, question) is None  # not asked yet
    remembered.answer(question, None)
    assert prediction_line(remembered, question) is None  # skipped: nothing to remind
    remembered.answer(question, 1)
    waiting = "your prediction: 1 (the answer comes when the run ends)"
    assert prediction_line(remembered, question).plain == waiting
    remembered.reveal(question)
    assert prediction_line(remembered, question).plain == "your prediction: 1 ✖ the answer: 2"
    remembered.answer(question, 2)
    remembered.reveal(question)
    assert prediction_line(remembered, question).plain == "your prediction: 2 ✔ right"


async def test_the_answer_reaches_the_saved_result_and_the_teachers_page(make_app, tmp_path):
    """A teacher sees the learner's prediction: in the [result] that `s` saves (which
    `nnplay verify` shows) and in the status a served tab reports."""
    import tomllib

    from textual.widgets import Input

    app = make_app("lr-too-high", asks=True)
    path = tmp_path / "answered.toml"
    async with app.run_test(size=(120, 40)) as pilot:
        await asked(pilot)
        await pilot.press("1")  # a wrong answer: the run diverges (3)
        await revealed(pilot)
        await pilot.press("escape")
        assert app._tab_status().prediction == app._prediction()
        assert app._prediction().startswith("1 ✖ ")
        await pilot.press("s")
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await until(pilot, lambda: path.is_file())
    saved = tomllib.loads(path.read_text())["result"]
    assert saved["prediction"] == app._prediction()
