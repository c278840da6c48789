"""The app on a CSV task: an iris run opens, trains and draws every tab without a map."""

from nnplay.experiment import with_overrides
from nnplay.presets import load_experiment, presets_dir
from nnplay.tui.app import PlaygroundApp
from tests.tui.conftest import SIZE, idle, ready, until

IRIS = presets_dir() / "data" / "iris.csv"


async def test_an_iris_run_opens_trains_and_shows_every_tab():
    # as `nnplay iris.csv --target species` opens it
    exp = with_overrides(load_experiment(str(IRIS), "species"), {"training.epochs": 30})
    app = PlaygroundApp(exp, str(IRIS))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("space")
        await until(pilot, lambda: idle(app) and app.session.trainer.epoch == 30, 60)
        assert app.return_code is None
        assert app.session.trainer.history.val_accuracy[-1] >= 0.9
        for tab in "12345":
            await pilot.press(tab)
            await pilot.pause(0.2)
        await pilot.press("1")
        await pilot.pause(0.2)
        await until(pilot, lambda: "inputs (" in str(app.query_one("#map").render()))
        text = str(app.query_one("#map").render())
        assert "4 inputs (sepal_length, sepal_width, petal_length, petal_width)" in text
        assert app.return_code is None


async def test_a_one_column_regression_draws_its_prediction_curve():
    exp = with_overrides(load_experiment("forbes"), {"training.epochs": 20, "training.lr": 0.3})
    app = PlaygroundApp(exp, "forbes")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("space")
        await until(pilot, lambda: idle(app) and app.session.trainer.epoch == 20, 60)
        await pilot.press("b")  # the build panel hidden: room for the curve
        await until(pilot, lambda: "prediction curve" in str(app.query_one("#map").render()))
        assert app.return_code is None
