"""docs/curriculum.md §1: the reference examples through nnplay's own loss registry."""

import pytest
import torch

from nnplay.registry import LOSSES


def value(name, prediction, target):
    return LOSSES[name].build()(torch.tensor(prediction), torch.tensor(target)).item()


def test_mae():
    assert value("mae", [2.5, 5.0, 3.0], [3.0, 5.0, 2.5]) == pytest.approx(0.333333, abs=1e-6)


def test_mse():
    assert value("mse", [2.5, 5.0, 3.0], [3.0, 5.0, 2.5]) == pytest.approx(0.166667, abs=1e-6)


def test_smooth_l1():
    assert value("smooth_l1", [1.0, 2.0, 3.0, 4.0], [3.0, 2.5, 3.5, 4.5]) == pytest.approx(
        0.46875, abs=1e-6
    )


def test_cross_entropy_two_samples():
    logits = [[1.5, 2.0, 0.5], [0.5, 1.0, 1.5]]
    assert value("cross_entropy", logits, [1, 2]) == pytest.approx(0.642200, abs=1e-6)


def test_cross_entropy_three_samples():
    logits = [[1.3, 0.1, 0.3], [0.9, 1.2, 0.9], [0.5, 1.4, 0.2]]
    assert value("cross_entropy", logits, [1, 2, 0]) == pytest.approx(1.452124, abs=1e-6)


def test_bce():
    assert value("bce", [0.7, 0.2, 0.9, 0.7], [1.0, 0.0, 1.0, 0.0]) == pytest.approx(
        0.472288, abs=1e-6
    )


@pytest.mark.parametrize(
    "logits,labels,expected",
    [
        ([[1.5, 2.0, 0.5], [0.5, 1.0, 1.5]], [1, 2], 0.642200),
        ([[1.3, 0.1, 0.3], [0.9, 1.2, 0.9], [0.5, 1.4, 0.2]], [1, 2, 0], 1.452124),
    ],
)
def test_nll_on_log_softmax_equals_cross_entropy(logits, labels, expected):
    log_probs = torch.log_softmax(torch.tensor(logits), dim=1)
    nll = LOSSES["nll"].build()(log_probs, torch.tensor(labels)).item()
    assert nll == pytest.approx(expected, abs=1e-6)
    assert nll == pytest.approx(value("cross_entropy", logits, labels), abs=1e-7)


def test_losses_average_over_the_batch():
    one = value("mse", [1.0], [3.0])
    many = value("mse", [1.0] * 5, [3.0] * 5)
    assert one == many == 4.0
