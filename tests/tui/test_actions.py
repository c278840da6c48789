"""One action table: the bindings, footer, buttons, palette and help agree, and each screen owns
its keys."""

from textual.widgets import Button, Footer, Input

from nnplay.tui.actions import ACTIONS, help_rows, palette_entries
from nnplay.tui.app import PlaygroundApp
from nnplay.tui.dialogs import HelpScreen
from nnplay.tui.lab_screens import BackpropScreen, GradCheckScreen

from .conftest import SIZE, from_palette, ready, shown_lines, until


def test_every_action_is_bound_runs_a_method_and_is_in_the_palette_and_help():
    bound = {b.action: b.key for b in PlaygroundApp.BINDINGS}
    assert bound == {a.id: a.key for a in ACTIONS}
    keys = [a.key for a in ACTIONS]
    assert len(keys) == len(set(keys))  # no key does two things
    for action in ACTIONS:
        assert callable(getattr(PlaygroundApp, f"action_{action.id}"))
        assert (action.key_text, f"{action.title}: {action.description}") in help_rows()
    assert {a.id for a in palette_entries()} <= set(bound)


async def test_buttons_and_footer_come_from_the_table(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        buttons = [b.id for b in app.query("#controls Button")]
        assert buttons == [a.id for a in ACTIONS if a.button]
        footer = app.query_one(Footer)
        shown = {item.action for item in footer.query("FooterKey")}
        in_footer = {a.id for a in ACTIONS if a.footer and a.id != "unfocus"}
        assert shown - {"command_palette"} == in_footer


async def test_the_palette_runs_an_action_by_name(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await from_palette(pilot, "Step")
        await until(pilot, lambda: app.session.trainer.steps == 1)
        assert "paused" in str(app.query_one("#status").render())


async def test_the_help_lists_every_key(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        text = shown_lines(app.screen.query_one("#help-keys"))
        for action in ACTIONS:
            assert action.title in text
        # Its footer names its own key: "q Quit" from the playground would be untrue here.
        footer = [(k.key, k.description) for k in app.screen.query_one(Footer).query("FooterKey")]
        assert footer == [("escape", "Close")]
        await pilot.press("q")
        assert not isinstance(app.screen, HelpScreen) and app.is_running


async def test_playground_keys_do_not_act_behind_a_lab_screen(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("n", "n")
        trainer = app.session.trainer
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, GradCheckScreen))
        await pilot.press("r", "n", "space", "p", "e")
        await pilot.pause(0.2)
        assert isinstance(app.screen, GradCheckScreen)  # no dialog opened behind or over it
        assert app.session.trainer is trainer and trainer.steps == 2
        footer_actions = {item.action for item in app.screen.query("FooterKey")}
        assert "reset" not in footer_actions and "step" not in footer_actions
        await pilot.press("escape")
        assert app.screen is app.screen_stack[0]


async def test_the_backprop_screen_scrolls_from_the_keyboard(make_app):
    app = make_app()
    async with app.run_test(size=(100, 24)) as pilot:
        await ready(pilot)
        await pilot.press("B")
        assert isinstance(app.screen, BackpropScreen)
        column = app.screen.query_one(".lab")
        await pilot.pause()
        assert column.scroll_y == 0 and column.max_scroll_y > 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert column.scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        assert column.scroll_y == column.max_scroll_y
        await pilot.press("n")  # the screen's own keys still act
        await pilot.pause()
        assert "after 1 step(s)" in str(app.screen.query_one("#bp-status").render())
        assert "showing step" not in str(app.screen.query_one("#bp-result").render())


async def test_keys_pressed_while_loading_are_queued_and_run(make_app):
    app = make_app(**{"training.epochs": 2, "goal.epochs": 2})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.session = None  # as if the network were still being built
        app.generation += 1
        await pilot.press("n")
        assert "queued: Step" in str(app.query_one("#status").render())
        app._prepare(app.experiment, app.generation)
        await until(pilot, lambda: app.session is not None and app.session.trainer.steps == 1)


async def test_escape_gives_the_keys_back_and_says_so(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        field = app.query("#build Input").first()
        field.focus()
        await pilot.pause()
        shown = {item.action for item in app.query_one(Footer).query("FooterKey")}
        assert "unfocus" in shown  # the footer says escape gives the keys back
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is None
        await pilot.press("n")
        assert app.session.trainer.steps == 1


async def test_start_is_a_button_that_trains(make_app):
    app = make_app(**{"training.epochs": 2, "goal.epochs": 2})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.query_one("#toggle_training", Button).press()
        await until(pilot, lambda: app.session.trainer.epoch == 2 and not app.session.running)
        assert isinstance(app.query_one("#toggle_training", Button), Button)
        assert not isinstance(app.screen, Input)
