"""A History's step losses in bounded memory (issue 19, item 7): kept one by one for the first
STEP_BUCKETS steps, then as means whose width doubles, never more than STEP_BUCKETS of them,
and always the true mean of the steps each covers."""

from __future__ import annotations

import numpy as np
import pytest

from nnplay.history import STEP_BUCKETS, History, StepLosses


def recorded(values) -> StepLosses:
    losses = StepLosses()
    for v in values:
        losses.append(float(v))
    return losses


def test_the_first_steps_are_kept_one_by_one():
    values = np.random.default_rng(0).random(STEP_BUCKETS - 1)
    losses = recorded(values)
    assert losses.width == 1 and losses.means == values.tolist() and losses.tail_count == 0
    assert losses.last == values[-1] and len(losses) == STEP_BUCKETS - 1


@pytest.mark.parametrize("steps", [STEP_BUCKETS, 3 * STEP_BUCKETS + 5, 1_000_003])
def test_a_long_run_keeps_bounded_means_of_its_steps(steps):
    values = np.random.default_rng(steps).random(steps)
    losses = recorded(values)
    width = losses.width
    # the narrowest width that holds the run in fewer than STEP_BUCKETS means
    assert steps // width < STEP_BUCKETS <= steps // (width // 2)
    assert len(losses.means) == steps // width and len(losses) == steps
    full = len(losses.means) * width
    expected = values[:full].reshape(-1, width).mean(axis=1)
    assert np.allclose(losses.means, expected, rtol=1e-12)
    assert losses.tail_count == steps - full
    assert losses.tail_sum == pytest.approx(values[full:].sum(), rel=1e-12)
    assert losses.last == values[-1]


def test_coarsened_for_a_chart_keeps_every_step_and_its_mean():
    values = np.random.default_rng(1).random(1000)
    losses = recorded(values)
    chart = losses.coarsened(120)
    steps, means = chart.points()
    assert 60 <= len(chart.means) <= 120 and len(chart) == 1000
    # each point is the mean of the steps it covers, drawn at their middle step
    weights = [chart.width] * len(chart.means) + [chart.tail_count]
    assert np.average(means, weights=weights) == pytest.approx(values.mean(), rel=1e-12)
    assert steps[0] == (chart.width + 1) / 2 and steps[-1] < 1000
    assert losses.means == values.tolist()  # the record itself is untouched


def test_the_record_as_it_was_after_some_steps():
    values = np.random.default_rng(2).random(STEP_BUCKETS + 301)
    losses = recorded(values)
    early = losses.upto(700)  # before the first merge: exactly the steps
    assert early.width == 2 and len(early) == 700
    assert np.allclose(early.means, values[:700].reshape(-1, 2).mean(axis=1))
    odd = losses.upto(701)  # inside a bucket: that bucket's mean stands for its first step
    assert (len(odd), odd.tail_count, odd.tail_sum) == (701, 1, losses.means[350])
    assert len(losses.upto(10**9)) == len(losses)
    few = recorded(values[:100])
    assert few.upto(40).means == values[:40].tolist() and few.upto(40).last == values[39]


def test_a_history_copy_is_independent_of_the_record_going_on():
    history = History(step_loss=recorded([1.0, 2.0]))
    copy = history.copy()
    history.step_loss.append(3.0)
    assert copy.step_loss.means == [1.0, 2.0] and copy.step_loss.last == 2.0
