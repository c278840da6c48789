"""The learning-rate range test (nnplay/lab/lrfind.py): its rates, where it stops, and that its
suggestion trains well; the command's report, JSON and refusals."""

import json
import math
from itertools import pairwise

import pytest

from nnplay.experiment import with_overrides
from nnplay.lab.lrfind import (
    EXPLODED,
    EXPLODED_STOP,
    NO_DROP,
    REACHED_END,
    SWEEP_STEPS,
    TENTH_OF_LOWEST,
    range_test,
    rates,
)
from nnplay.lab.text import SUGGESTED_MARK, Y_LABEL_WIDTH, lrfind_chart, lrfind_reason
from nnplay.presets import load_preset
from nnplay.status import Status
from nnplay.training import Trainer
from tests.command_line import run_in_process


@pytest.fixture(scope="module")
def tests():
    """One range test of each preset the tests look at (each takes a fraction of a second)."""
    names = ("first-gt-fifth", "quadratic-fit", "underfitting")
    return {name: range_test(load_preset(name)) for name in names}


def trained_at(name: str, lr: float) -> Trainer:
    trainer = Trainer(with_overrides(load_preset(name), {"training.lr": lr}))
    trainer.run()
    return trainer


def test_first_gt_fifth_meets_its_goal_at_the_suggested_rate(tests):
    test = tests["first-gt-fifth"]
    assert test.rule == TENTH_OF_LOWEST and test.suggested == 1.0
    goal = trained_at("first-gt-fifth", test.suggested).goal()
    assert goal.met and goal.value >= 0.95


def test_quadratic_fit_does_not_diverge_at_the_suggested_rate(tests):
    test = tests["quadratic-fit"]
    assert test.suggested == pytest.approx(test.lrs[test.lowest] / 10, rel=0.05)
    trainer = trained_at("quadratic-fit", test.suggested)
    assert trainer.status == Status.FINISHED
    assert trainer.history.val_loss[-1] < 1e-5  # it even meets the goal
    # ... while the rate of the lowest loss itself, the edge, diverges: the tenth matters
    assert trained_at("quadratic-fit", test.lrs[test.lowest]).status == Status.DIVERGED


def test_an_exploding_loss_stops_the_test_early(tests):
    test = tests["quadratic-fit"]
    assert test.stopped == EXPLODED_STOP and len(test.lrs) < SWEEP_STEPS
    assert test.smoothed[-1] > EXPLODED * min(test.smoothed[:-1])
    assert all(
        s <= EXPLODED * min(test.smoothed[: i + 1]) for i, s in enumerate(test.smoothed[:-1])
    )
    assert len(test.lrs) == len(test.losses) == len(test.smoothed)


def test_a_loss_still_falling_at_the_end_runs_every_rate_and_says_so(tests):
    test = tests["first-gt-fifth"]
    assert test.stopped == REACHED_END and test.lrs == rates(1e-6, 10, SWEEP_STEPS)
    assert test.lowest_at_end
    assert "a tenth of 10, the last rate, where the smoothed loss was lowest" in lrfind_reason(test)
    assert "begin to overshoot" not in lrfind_reason(test)
    assert not tests["quadratic-fit"].lowest_at_end
    assert "There the steps begin to overshoot" in lrfind_reason(tests["quadratic-fit"])
    assert "still falling" not in lrfind_reason(tests["quadratic-fit"])


def test_rates_grow_geometrically_from_start_to_end():
    lrs = rates(1e-4, 1.0, 5)
    assert lrs[0] == 1e-4 and lrs[-1] == 1.0
    assert lrs == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0], rel=1e-12)
    ratios = [b / a for a, b in pairwise(rates(1e-6, 10, 100))]
    assert ratios == pytest.approx([10 ** (7 / 99)] * 99, rel=1e-12)


def test_the_test_starts_from_the_initial_weights_of_a_real_run(tests):
    """Its first batch is a real run's first batch on the same initial weights: same loss."""
    for name in ("first-gt-fifth", "quadratic-fit"):
        assert tests[name].losses[0] == Trainer(load_preset(name)).step()


def test_the_smoothed_loss_is_the_debiased_average_of_the_batch_losses(tests):
    test = tests["quadratic-fit"]
    average = 0.0
    for i, loss in enumerate(test.losses):
        average = 0.9 * average + 0.1 * loss
        assert test.smoothed[i] == pytest.approx(average / (1 - 0.9 ** (i + 1)), rel=1e-12)


def test_no_rate_is_suggested_when_the_loss_never_falls(tests):
    test = tests["underfitting"]
    assert test.rule == NO_DROP and test.suggested is None
    assert lrfind_reason(test).startswith("no rate suggested")
    assert SUGGESTED_MARK not in "\n".join(lrfind_chart(test))


def test_the_chart_marks_the_suggested_rate_under_its_column(tests):
    test = tests["quadratic-fit"]
    lines = lrfind_chart(test, width=71, height=10)  # 10 columns a decade from 1e-6 to 1e1
    decades = lines[-2]
    assert decades[Y_LABEL_WIDTH:].startswith("1e-6") and decades.rstrip().endswith("1e1")
    column = lines[-1].index(SUGGESTED_MARK) - Y_LABEL_WIDTH
    assert column == round((math.log10(test.suggested) + 6) * 10)


def test_lrfind_prints_the_chart_and_the_suggestion(capsys):
    code, out, _ = run_in_process(capsys, "lrfind", "quadratic-fit")
    assert code == 0
    assert "stopped early at rate 3.2: the smoothed loss passed 4× its lowest" in out
    assert "suggested learning rate 0.23: a tenth of 2.31" in out
    assert SUGGESTED_MARK in out and "1e-6" in out


def test_lrfind_json_and_set(capsys):
    code, out, _ = run_in_process(
        capsys, "lrfind", "quadratic-fit", "--set", "training.optimizer=adam", "--steps", "50",
        "--start", "1e-4", "--end", "1", "--json",
    )  # fmt: skip
    data = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and data["steps"] == 50
    assert data["lrs"] == pytest.approx(rates(1e-4, 1, 50)[: len(data["lrs"])])
    assert len(data["losses"]) == len(data["smoothed"]) == len(data["lrs"])
    adam = range_test(
        with_overrides(load_preset("quadratic-fit"), {"training.optimizer": "adam"}), 1e-4, 1, 50
    )
    assert data["losses"] == adam.losses and data["suggested"] == adam.suggested
    assert data["rule"] == adam.rule and data["reason"] == lrfind_reason(adam)


@pytest.mark.parametrize(
    "argv,line",
    [
        (["--start", "0"], "--start 0 is not allowed; the learning rate must be a number > 0"),
        (["--start", "2", "--end", "1"], "--start 2 is not allowed; it must be less than --end"),
        (["--end", "101"], "--end 101 is not allowed; a learning rate is at most 100"),
        (["--end", "nan"], "--end nan is not allowed"),
        (["--steps", "9"], "--steps 9 is out of range; allowed: 10..10000"),
        (["--steps", "10001"], "--steps 10001 is out of range; allowed: 10..10000"),
        (["--set", "training.batch_size=0"], "training.batch_size: 0 is not allowed"),
    ],
)
def test_lrfind_refuses_bad_input_in_one_line(capsys, argv, line):
    code, out, err = run_in_process(capsys, "lrfind", "quadratic-fit", *argv)
    assert code == 2 and out == ""
    assert err.startswith("nnplay lrfind: " + line) and err.count("\n") == 1


def test_lr_too_high_meets_its_goal_at_the_rate_its_hint_points_to():
    """Its last hint sends the learner to `nnplay lrfind lr-too-high`: that rate converges."""
    exp = load_preset("lr-too-high")
    assert "nnplay lrfind lr-too-high" in exp.meta.hints[-1]
    test = range_test(exp)
    assert test.stopped == EXPLODED_STOP and test.suggested == 0.063
    trainer = trained_at("lr-too-high", test.suggested)
    assert trainer.status == Status.FINISHED and trainer.goal().met
