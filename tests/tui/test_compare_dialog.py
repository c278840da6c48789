"""The compare dialog: every field it offers can be chosen, described and planned."""

from textual.widgets import OptionList, Select, Static

from nnplay.tui.compare_view import OWN, CompareDialog

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
