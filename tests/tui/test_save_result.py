"""The app's `s` saves the setup with the run's [result] when a replay gives it, and a teacher's
`nnplay verify` then passes; a run not ended or changed while training saves the setup only,
and says why."""

import tomllib

import pytest
from textual.widgets import Input

from nnplay.results import result_from_table
from tests.command_line import run_in_process

from .conftest import SIZE, idle, notices, ready, train_to_epoch, until
from .test_app import type_into

QUICK = {"training.epochs": 3, "task.samples": 400}


async def save_as(pilot, path) -> None:
    await pilot.press("s")
    pilot.app.screen.query_one(Input).value = str(path)
    await pilot.press("enter")
    await until(pilot, lambda: path.is_file())


async def test_s_after_a_run_saves_a_result_that_verifies(make_app, tmp_path, monkeypatch, capsys):
    app = make_app("xor", **QUICK)
    path = tmp_path / "mine.toml"
    shown = notices(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await train_to_epoch(pilot, 3)
        await save_as(pilot, path)
        kept = app.session.trainer.kept_metrics()
    assert f"Saved {path} with the run's result; check it with: nnplay verify {path}" in shown
    result = result_from_table(tomllib.loads(path.read_text())["result"])
    assert (result.status, result.epochs) == ("finished", 3)
    assert (result.val_loss, result.val_accuracy) == (kept["val_loss"], kept["val_accuracy"])
    code, out, err = run_in_process(capsys, "verify", path)
    assert (code, err) == (0, ""), out
    assert "1 match, 0 differ" in out


NO_RESULT = {
    "not ended": "the run has not ended",
    "changed mid-run": "the run changed while it trained",
}


@pytest.mark.parametrize("case", NO_RESULT)
async def test_a_run_a_replay_would_not_give_saves_the_setup_only(
    make_app, tmp_path, monkeypatch, case
):
    app = make_app("xor", **QUICK)
    path = tmp_path / "setup.toml"
    shown = notices(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("n")
        await until(pilot, lambda: idle(app) and app.session.trainer.steps == 1)
        if case == "changed mid-run":  # a live setting after the first step, then to the end
            await type_into(pilot, "training.lr", "0.05")
            await until(pilot, lambda: app.session.trainer.lr == 0.05)
            await pilot.press("space")
            await until(pilot, lambda: idle(app) and app.session.trainer.done)
        await save_as(pilot, path)
    assert "result" not in tomllib.loads(path.read_text())
    said = f"Saved the setup to {path}, without a result: {NO_RESULT[case]}"
    assert any(notice.startswith(said) for notice in shown), shown
