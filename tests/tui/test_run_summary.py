"""The app says what `nnplay train` says about a run: the numbers of the weights kept (and
which epoch they are from), a goal verdict beside the number it was judged on, and the same
advice in the same words."""

import json

from tests.command_line import run_many

from .conftest import SIZE, idle, ready, until


def text(app, selector: str) -> str:
    return str(app.query_one(selector).render())


async def run_to_the_end(pilot) -> None:
    app = pilot.app
    await ready(pilot)
    await pilot.press("space")
    await until(pilot, lambda: idle(app) and not app.session.can_step, 120)
    view = lambda: app.query_one("TrainView").last_view  # noqa: E731
    await until(pilot, lambda: view() is not None and view().status == app.session.status)
    await pilot.pause(0.3)


async def test_after_early_stopping_the_status_line_shows_the_kept_weights(make_app):
    (cli,) = run_many([("train", "overfitting", "--set", "training.patience=10", "--json")])
    summary = json.loads(cli.stdout)
    assert summary["status"] == "early_stopped" and summary["goal"]["met"] is True
    app = make_app("overfitting", **{"training.patience": 10})
    async with app.run_test(size=SIZE) as pilot:
        await run_to_the_end(pilot)
        status, banner = text(app, "#status"), text(app, "#banner")
        kept = f"val {summary['val_loss']:.4g}"
        assert kept in status, status
        assert f"(the weights of epoch {summary['weights_epoch']})" in status
        # the verdict's number is the one on the status line, not the last epoch's
        judged = f"(value {summary['goal']['value']:.4g}, epoch {summary['weights_epoch']})"
        assert judged in banner and "Goal met" in banner and "went on" not in banner
        last = app.session.trainer.history.val_loss[-1]
        assert f"val {last:.4g}" not in status


async def test_the_app_gives_the_advice_the_command_line_gives(make_app):
    (cli,) = run_many([("train", "circle", "--set", "training.loss=mae", "--json")])
    findings = json.loads(cli.stdout)["findings"]
    assert [f["kind"] for f in findings] == ["at_baseline"]
    app = make_app("circle", **{"training.loss": "mae"})
    async with app.run_test(size=SIZE) as pilot:
        await run_to_the_end(pilot)
        shown = text(app, "#diagnostics").splitlines()
        assert shown == [f"⚠ {f['message']}" for f in findings]


async def test_a_run_past_its_goal_s_epochs_says_which_epoch_the_verdict_judged(make_app):
    app = make_app("circle", **{"training.epochs": 50})  # the goal: within 40 epochs
    async with app.run_test(size=SIZE) as pilot:
        await run_to_the_end(pilot)
        goal, banner = app.session.trainer.goal(), " ".join(text(app, "#banner").split())
        assert goal.met and goal.epoch == 40
        assert (
            f"✔ Goal met: val accuracy >= 0.95 within 40 epochs (value {goal.value:.4g}, epoch 40)."
            in banner
        )
        assert "The run went on after epoch 40: the status below shows the network now." in banner
