"""What the exercise box says stays true while the learner reads on."""

from .conftest import SIZE, ready, train_to_epoch, until

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
