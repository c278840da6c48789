"""What the exercise box says stays true while the learner reads on."""

from .conftest import SIZE, notices, ready, shown_lines, train_to_epoch, until

FAST = {"task.samples": 400, "training.epochs": 3, "goal.epochs": 3, "training.lr": 0.05}


def exercise(app) -> str:
    return str(app.query_one("#exercise").render())


async def test_revealing_a_hint_keeps_the_goal_met_mark(make_app):
    app = make_app("first-gt-fifth", **FAST)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await train_to_epoch(pilot, 3)
        await until(pilot, lambda: "✔ met" in exercise(app))
        await pilot.press("h")
        await pilot.pause()
        assert "hint 1:" in exercise(app) and "✔ met" in exercise(app), exercise(app)


async def test_every_hint_can_be_read_at_120x40(make_app, monkeypatch):
    app = make_app("feature-sum")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        notes = notices(app, monkeypatch)
        hints = app.experiment.meta.hints
        box = app.query_one("#exercise")
        for number in range(1, len(hints) + 1):
            await pilot.press("h")
            await pilot.pause()
            # the hint just revealed is on the screen, not below the box's fold
            assert f"hint {number}:" in shown_lines(box), shown_lines(box)
        await pilot.press("h")
        # the fourth did not fit under the description: it was folded, and the learner told
        folded = "The description is folded so the hint fits: d shows it again."
        assert notes == [folded, "No more hints."] and not app.description_shown


async def test_a_single_step_shows_the_loss_of_the_batch_just_taken(make_app):
    app = make_app("circle")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        for steps in (1, 2):
            await pilot.press("n")
            await until(pilot, lambda steps=steps: app.session.trainer.steps == steps)
            await pilot.pause(0.2)
            status = str(app.query_one("#status").render())
            taken = app.session.trainer.history.step_loss.last
            assert f"batch loss {taken:.4g}" in status, status
            assert "steps/s" not in status  # the rate of one step says nothing
