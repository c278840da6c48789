"""The exercise in Chinese: its title, description and hints on the main screen and in the preset
list, and a setup saved from the app keeps the Chinese beside the English."""

from textual.widgets import Input, OptionList

from nnplay.presets import load_experiment, load_preset

from .conftest import SIZE, ready, until


def exercise(app) -> str:
    return str(app.query_one("#exercise").render())


async def test_the_exercise_box_speaks_chinese_hint_by_hint(make_app, chinese):
    app = make_app()
    zh = load_preset("first-gt-fifth").meta.zh
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        box = exercise(app)
        assert zh.title in box and zh.description[:20] in box
        assert zh.hints[0] not in box
        await pilot.press("h")
        assert zh.hints[0] in exercise(app) and zh.hints[1] not in exercise(app)
        await pilot.press("h", "h")
        assert all(hint in exercise(app) for hint in zh.hints)
        assert app.experiment.meta.title not in exercise(app)  # no English beside it
        await pilot.pause()
        widget = app.query_one("#exercise")
        assert widget.virtual_size.height <= widget.content_region.height  # all hints show


async def test_the_preset_list_speaks_chinese(make_app, chinese):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("p")
        options = app.screen.query_one(OptionList)
        prompts = {str(option.id): str(option.prompt) for option in options.options}
        for name, prompt in prompts.items():  # each name, then its title in Chinese
            assert prompt.startswith(name) and load_preset(name).meta.zh.title in prompt
        options.highlighted = list(prompts).index("xor")
        await pilot.pause()
        info = str(app.screen.query_one("#preset-info").render())
        assert load_preset("xor").meta.zh.title in info
        assert load_preset("xor").meta.zh.description[:20] in info


async def test_a_setup_saved_from_the_app_keeps_its_chinese(make_app, tmp_path):
    app = make_app("overfitting")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("s")
        path = tmp_path / "mine.toml"
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await until(pilot, lambda: path.is_file())
    assert "[meta.zh]" in path.read_text() and "[compare.zh]" in path.read_text()
    saved, shipped = load_experiment(str(path)), load_preset("overfitting")
    assert saved.meta.zh == shipped.meta.zh and saved.compare.zh == shipped.compare.zh
