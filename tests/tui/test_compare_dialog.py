"""The compare dialog: every field it offers can be chosen, described and planned."""

from textual.widgets import OptionList, Select, Static

from nnplay.tui.compare_view import FIELDS, OWN, CompareDialog

from .conftest import SIZE, ready, until


async def pick(pilot, select: Select, index: int) -> None:
    """Open the dropdown and choose its option `index` with the keys, as a learner does."""
    select.focus()
    await pilot.press("enter")
    select.query_one(OptionList).highlighted = index
    await pilot.press("enter")
    await pilot.pause()


async def walk_every_field(make_app, preset: str) -> list[str]:
    app = make_app(preset)
    chosen = []
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CompareDialog))
        dialog = app.screen
        select = dialog.query_one("#compare-field", Select)
        count = select.query_one(OptionList).option_count
        for index in range(count):
            await pick(pilot, select, index)
            assert app.is_running and app.screen is dialog, (index, chosen)
            chosen.append(str(select.value))
            about = str(dialog.query_one("#compare-about", Static).render())
            assert about.strip(), select.value
            variants = dialog.variants()  # the suggested values build valid variants
            assert len(variants) >= 2 or select.value == OWN, select.value
    return chosen


async def test_every_field_the_compare_dialog_offers_works(make_app):
    chosen = await walk_every_field(make_app, "circle")
    assert "model.hidden" in chosen and len(set(chosen)) == len(chosen) >= 15


async def test_every_field_works_beside_an_exercise_s_own_comparison(make_app):
    chosen = await walk_every_field(make_app, "momentum-vs-sgd")
    assert chosen[0] == OWN and "model.hidden" in chosen


async def test_the_exercise_s_comparison_starts_from_its_settings_not_the_learner_s(make_app):
    """momentum-vs-sgd after its solution (momentum 0.9): `c`, enter must still compare plain SGD
    with momentum, as `nnplay compare momentum-vs-sgd` does; the learner's setup is a second,
    labelled choice, and no variant carries a setting of another optimizer."""
    from nnplay import compare
    from nnplay.presets import load_preset

    from .conftest import small

    app = make_app("momentum-vs-sgd")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("S")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: app.session.experiment.training.momentum == 0.9)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CompareDialog))
        dialog = app.screen
        select = dialog.query_one("#compare-field", Select)
        assert select.value == OWN
        about = str(dialog.query_one("#compare-about", Static).render())
        assert "from the exercise's settings" in about
        own = dialog.variants()
        assert [v.experiment for v in own] == [
            v.experiment for v in compare.plan(small("momentum-vs-sgd"))
        ]
        assert [v.experiment.training.momentum for v in own] == [0.0, 0.9, 0.0, 0.0, 0.0]
        assert load_preset("momentum-vs-sgd").training.momentum == 0.0

        await pick(pilot, select, 1)  # the second choice: from the learner's setup
        about = str(dialog.query_one("#compare-about", Static).render())
        assert "from your setup" in about
        mine = {v.label: v.experiment.training for v in dialog.variants()}
        rmsprop = mine["training.optimizer=rmsprop, training.momentum=0"]
        assert rmsprop.momentum == 0.0  # not the SGD setup's 0.9
        assert mine["training.optimizer=sgd"].momentum == 0.9  # the learner's own SGD


async def test_without_edits_there_is_no_second_choice(make_app):
    app = make_app("momentum-vs-sgd")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CompareDialog))
        select = app.screen.query_one("#compare-field", Select)
        count = select.query_one(OptionList).option_count
        assert count == 1 + len(FIELDS)  # the exercise's own, then the fields
