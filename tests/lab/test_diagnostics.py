import math
from collections import OrderedDict
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from nnplay.experiment import with_overrides, with_solution
from nnplay.lab.diagnostics import (
    PLATEAU_EPOCHS,
    RunContext,
    activation_stats,
    baseline_flags,
    diagnose,
    diagnose_trainer,
    gradient_flags,
    lr_jump_flag,
    plateau_flags,
)
from nnplay.model import weight_grad_norms
from nnplay.presets import load_preset
from nnplay.tasks import Baseline
from nnplay.training import Trainer


def deep_stack(activation, batch_norm=False, depth=8, width=16) -> nn.Sequential:
    """A deep net named the way nnplay names its models (hidden1, bn1, act1, …, output)."""
    torch.manual_seed(0)
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    inputs = 2
    for i in range(1, depth + 1):
        layers[f"hidden{i}"] = nn.Linear(inputs, width)
        if batch_norm:
            layers[f"bn{i}"] = nn.BatchNorm1d(width)
        layers[f"act{i}"] = activation()
        inputs = width
    layers["output"] = nn.Linear(inputs, 1)
    return nn.Sequential(layers)


def quadrant_task():
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(128, 2, generator=generator)
    return X, (X[:, 0] * X[:, 1] > 0).float()[:, None]


def train_a_few_steps(model: nn.Sequential) -> dict[str, float]:
    X, y = quadrant_task()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(5):
        optimizer.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(model(X), y).backward()
        optimizer.step()
    return weight_grad_norms(model)


def codes(flags):
    return [f.code for f in flags]


def test_deep_sigmoid_stack_is_flagged_vanishing():
    model = deep_stack(nn.Sigmoid)
    norms = train_a_few_steps(model)
    assert list(norms) == [*(f"hidden{i}" for i in range(1, 9)), "output"]
    flags = diagnose(norms, activation_stats(model, quadrant_task()[0]))
    assert "vanishing_gradients" in codes(flags)
    vanishing = flags[codes(flags).index("vanishing_gradients")]
    assert vanishing.layer == "hidden1" and vanishing.value < 1e-3
    assert vanishing.cause and vanishing.fix and "\n" not in vanishing.cause + vanishing.fix


@pytest.mark.parametrize(
    "shape", [dict(activation=nn.ReLU), dict(activation=nn.Sigmoid, batch_norm=True)]
)
def test_same_depth_with_relu_or_batch_norm_is_not_flagged(shape):
    model = deep_stack(**shape)
    norms = train_a_few_steps(model)
    assert "vanishing_gradients" not in codes(
        diagnose(norms, activation_stats(model, quadrant_task()[0]))
    )


def test_exploding_gradients_by_norm_or_by_growth_toward_the_input():
    assert codes(gradient_flags({"layer1": 5e3, "layer2": 1.0})) == ["exploding_gradients"]
    assert codes(gradient_flags({"layer1": math.nan, "layer2": 1.0})) == ["exploding_gradients"]
    assert codes(gradient_flags({"layer1": 50.0, "layer2": 0.01})) == ["exploding_gradients"]
    assert gradient_flags({"layer1": 0.5, "layer2": 1.0}) == []


def test_dead_relus_are_counted_per_unit_and_flagged():
    layer = nn.Linear(2, 10)
    with torch.no_grad():
        layer.weight.fill_(0.1)
        layer.bias[:7] = -100.0  # seven units can never fire on this data
        layer.bias[7:] = 0.0
    model = nn.Sequential(layer, nn.ReLU(), nn.Linear(10, 1))
    X = torch.randn(
        32, 2, generator=torch.Generator().manual_seed(0)
    )  # live units fire on some rows
    (stats,) = activation_stats(model, X)
    assert stats.kind == "ReLU" and stats.layer == "1" and stats.units == 10
    assert stats.never_active == pytest.approx(0.7)
    assert stats.saturated is None
    assert codes(diagnose({}, [stats])) == ["dead_relu"]
    with torch.no_grad():
        layer.bias[:7] = 0.0
    assert diagnose({}, activation_stats(model, X)) == []


def test_saturated_sigmoid_and_tanh_outputs_are_flagged():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Sigmoid(), nn.Linear(8, 8), nn.Tanh())
    X = torch.randn(64, 3)
    calm = activation_stats(model, X)
    assert [s.kind for s in calm] == ["Sigmoid", "Tanh"]
    assert all(s.saturated < 0.5 for s in calm) and diagnose({}, calm) == []
    loud = activation_stats(model, 1000 * X)  # huge inputs push the first layer to its bounds
    assert loud[0].saturated > 0.9
    assert "saturated" in codes(diagnose({}, loud))


def test_activation_stats_handles_every_kind_and_restores_the_model():
    model = nn.Sequential(
        nn.Linear(2, 4),
        nn.LeakyReLU(),
        nn.Linear(4, 4),
        nn.GELU(),
        nn.Dropout(0.5),
        nn.Linear(4, 1),
    )
    model.train()
    stats = activation_stats(model, torch.randn(16, 2))
    assert [s.kind for s in stats] == ["LeakyReLU", "GELU"]
    assert all(s.never_active is not None for s in stats)
    assert model.training
    model(torch.randn(3, 2))  # a hook left in place would describe this run too
    assert len(stats) == 2


def test_plateau_needs_a_flat_history_and_a_loss_that_is_not_small():
    flat = [1.0, 0.8, 0.7] + [0.6931] * PLATEAU_EPOCHS + [0.69309]
    assert codes(plateau_flags(flat)) == ["plateau"]
    falling = [1.0 / (i + 1) for i in range(12)]
    assert plateau_flags(falling) == []
    assert plateau_flags([1e-5] * 12) == []  # finished, not stuck
    assert plateau_flags([0.7] * PLATEAU_EPOCHS) == []  # too short to tell


def test_a_confident_output_sigmoid_is_not_called_saturated():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    with torch.no_grad():
        model[2].weight.fill_(50.0)
    stats = activation_stats(model, torch.randn(64, 2))
    assert [s.hidden for s in stats] == [True, False]
    assert stats[1].saturated > 0.9
    assert diagnose({}, stats) == []


def test_diagnose_trainer_reads_a_trainer_shaped_object():
    model = deep_stack(nn.Sigmoid)
    norms = train_a_few_steps(model)
    trainer = SimpleNamespace(
        model=model,
        X_train=quadrant_task()[0],
        grad_norms=lambda: norms,
        history=SimpleNamespace(
            train_loss=[0.7] * 8,
            val_loss=[0.7] * 8,
            lr=[0.1] * 8,
            train_accuracy=[None] * 8,
            val_accuracy=[None] * 8,
        ),
        shape=SimpleNamespace(kind="regression"),
        exp=SimpleNamespace(
            training=SimpleNamespace(optimizer="sgd", momentum=0.0, loss="mse"),
            model=SimpleNamespace(hidden=[8, 8, 8]),
        ),
        initial_metrics=lambda: {"train_loss": 0.7},
        lr=0.1,
        goal=lambda: None,
    )
    assert codes(diagnose_trainer(trainer)) == ["vanishing_gradients", "plateau"]


# ---------------------------------------------------------------------------------------------
# Advice that reads the run's context


def saturated_stats():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    with torch.no_grad():
        model[0].weight.fill_(40.0)
    return activation_stats(model, torch.randn(64, 2))


def test_a_run_that_meets_its_goal_is_not_told_to_change_what_works():
    assert codes(diagnose({}, saturated_stats(), [0.5] * 8)) == ["saturated", "plateau"]
    assert diagnose({}, saturated_stats(), [0.5] * 8, RunContext(goal_met=True)) == []
    exploding = diagnose({"layer1": 1e6}, saturated_stats(), [], RunContext(goal_met=True))
    assert codes(exploding) == ["exploding_gradients"]  # a run that blows up still needs action


@pytest.mark.slow
def test_the_spiral_solution_at_full_accuracy_gets_no_advice():
    trainer = Trainer(with_solution(load_preset("spiral")))
    trainer.run()
    assert trainer.goal().met and trainer.history.val_accuracy[-1] >= 0.99
    bare = diagnose(
        trainer.grad_norms(),
        activation_stats(trainer.model, trainer.X_train[:256]),
        trainer.history.train_loss,
    )
    assert "relu" in " ".join(f.fix for f in bare).lower()  # what it was told before
    assert diagnose_trainer(trainer) == []


@pytest.mark.parametrize(
    "optimizer,momentum",
    [("adam", 0.0), ("adamw", 0.0), ("sgd", 0.0), ("sgd", 0.9), ("rmsprop", 0.0), ("adagrad", 0.0)],
)
def test_plateau_advice_never_suggests_what_the_run_already_uses(optimizer, momentum):
    (flag,) = plateau_flags([0.5] * 8, RunContext(optimizer, momentum))
    if optimizer.startswith("adam"):
        assert "adam" not in flag.fix.lower()
    if momentum:
        assert "momentum" not in flag.fix.lower()
    assert "raise the learning rate" in flag.fix


@pytest.mark.parametrize("optimizer,lr", [("adam", 50.0), ("sgd", 5.0), ("rmsprop", 0.5)])
def test_a_plateau_at_a_huge_learning_rate_is_not_told_to_raise_it(optimizer, lr):
    (flag,) = diagnose({}, [], [23.1] * 8, RunContext(optimizer, lrs=[lr]))
    assert flag.code == "lr_too_high" and "saturation" in flag.cause
    assert "raise" not in flag.fix and "lower the learning rate" in flag.fix


def test_after_a_learning_rate_jump_the_rate_is_named_first():
    trainer = Trainer(with_overrides(load_preset("circle"), {"training.epochs": 12}))
    trainer.run(6)
    trainer.set_lr(3.0)
    trainer.run(2)
    flags = diagnose_trainer(trainer)
    assert flags[0].code == "lr_too_high"
    assert flags[0].cause == "the learning rate went up from 0.03 to 3: the likely cause"
    assert flags[0].fix == "lower the learning rate again (it was 0.03)"


def test_a_jump_with_nothing_wrong_since_is_not_flagged():
    assert lr_jump_flag([0.01, 0.01, 0.1], [0.5, 0.4], trouble=False) is None
    assert lr_jump_flag([0.01, 0.01, 0.1, 0.1], [0.5, 0.4, 0.3], trouble=False) is None
    assert (
        lr_jump_flag([0.01, 0.01, 0.1, 0.1], [0.5, 0.4, 0.6], trouble=False).code == "lr_too_high"
    )
    assert lr_jump_flag([0.01, 0.01, 0.1], [0.5, 0.4], trouble=True).code == "lr_too_high"
    # long ago, or a schedule lowering the rate: not a jump
    assert lr_jump_flag([0.01, 0.1, 0.1, 0.1, 0.1, 0.1], [1] * 5, trouble=True) is None
    assert lr_jump_flag([0.1, 0.05, 0.025], [0.5, 0.6], trouble=True) is None


def test_divergence_advice_does_not_give_away_the_lr_too_high_answer():
    trainer = Trainer(load_preset("lr-too-high"))
    trainer.run()
    assert trainer.status == "diverged" and "learning rate" in trainer.message
    advice = trainer.message.split("blew up.")[1].split(";")[0]  # no value to copy
    assert "Lower the learning rate" in advice and not any(ch.isdigit() for ch in advice), advice
    assert "0.5" not in trainer.message and "0.05" not in trainer.message


def test_accuracy_flat_on_the_majority_baseline_is_explained():
    trainer = Trainer(with_overrides(load_preset("vanishing-gradients"), {"training.epochs": 6}))
    trainer.run()
    assert trainer.history.val_accuracy == [0.736] * 6
    flags = {f.code: f for f in diagnose_trainer(trainer)}
    assert flags["at_baseline"].cause == (
        "the validation accuracy is flat: it predicts the majority class: 73.6% (class 0)"
    )
    assert (
        baseline_flags(
            RunContext(val_accuracy=[0.7, 0.8, 0.85, 0.9, 0.95], baseline=Baseline(0, 0.736))
        )
        == []
    )
