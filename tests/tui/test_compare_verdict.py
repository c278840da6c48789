"""The comparison table's goal verdict names the epoch it was judged on when the numbers beside
it are of another (a goal 'within 20 epochs' on a run of 30)."""

from nnplay.compare import Variant, VariantResult
from nnplay.history import GoalResult
from nnplay.presets import load_preset
from nnplay.tui.compare_view import table_row


def result(goal_epoch: int, weights_epoch: int) -> VariantResult:
    goal = GoalResult("val loss <= 0.45 within 20 epochs", True, goal_epoch, 0.41, 5)
    return VariantResult(
        {},
        "",
        "finished",
        "",
        30,
        0.3,
        0.6,
        None,
        None,
        goal,
        1.0,
        weights_epoch=weights_epoch,
    )


def test_the_verdict_says_its_epoch_when_the_numbers_are_of_another():
    variant = Variant({"training.l2": 0.0}, load_preset("overfitting"))
    judged_elsewhere = table_row(0, variant, result(20, 30))
    assert str(judged_elsewhere[8]) == "✔ met (epoch 20, value 0.41)"
    assert judged_elsewhere[5] == "0.6"  # the kept weights' val loss, which the goal did not see
    assert str(table_row(0, variant, result(30, 30))[8]) == "✔ met"
