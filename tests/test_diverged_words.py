"""A diverged run's banner names the loss the learner saw, and why train and validation losses
were the same number there."""

import pytest
import torch

from nnplay.presets import load_preset
from nnplay.training import Trainer


def test_the_banner_says_the_value_seen_then_the_overflow():
    trainer = Trainer(load_preset("lr-too-high"))
    trainer.run()
    # the value itself is chaotic (its last digits follow the CPU's float kernels): what is
    # checked is that the banner quotes the one finite loss the learner saw, then the overflow
    (seen,) = trainer.history.train_loss
    assert trainer.status == "diverged" and 1e30 < seen < float("inf")
    assert trainer.message.startswith(f"the loss became {seen:.4g}, then inf: the weights blew up")


def test_train_and_validation_agree_because_the_blown_up_network_answers_one_constant():
    trainer = Trainer(load_preset("lr-too-high"))
    trainer.run(1)
    h = trainer.history
    assert h.train_loss == h.val_loss  # to the last digit, as the status line showed
    with torch.no_grad():
        train, val = trainer.model(trainer.X_train), trainer.model(trainer.X_val)
    # every ReLU is dead and the output is its bias: beside it the targets vanish in float32,
    # so both losses are that constant squared
    assert train.unique().numel() == 1 and torch.equal(train.unique(), val.unique())
    assert abs(train[0].item()) > 1e15 and h.train_loss[0] == pytest.approx(
        train[0].item() ** 2, rel=1e-5
    )
