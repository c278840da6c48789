"""What the exercises of issue 20 §5 say is true: zero initialization, exploding gradients, batch
norm, dropout alone, NLL against cross-entropy. (test_presets checks that each solution meets
its goal and that each exercise as shipped misses it.)"""

import numpy as np
import pytest
import torch

from nnplay.errors import ExperimentError
from nnplay.experiment import with_overrides, with_solution
from nnplay.lab.diagnostics import diagnose_trainer
from nnplay.lab.neurons import unit_maps
from nnplay.presets import load_preset
from nnplay.summary import summarize
from nnplay.tasks import majority_baseline
from nnplay.training import Trainer


def trained(exp, seed: int = 0) -> Trainer:
    trainer = Trainer(with_overrides(exp, {"training.seed": seed, "task.seed": seed}))
    trainer.run()
    return trainer


def kinds(trainer) -> set[str]:
    return {f["kind"] for f in summarize(trainer).findings}


# ---------------------------------------------------------------------------------------------
# zero-init


def test_zero_init_starts_every_weight_and_bias_at_zero():
    trainer = Trainer(load_preset("zero-init"))
    assert all((p == 0).all() for p in trainer.model.parameters())
    message = "model.init_scale: -0.1 is not allowed; must be a number >= 0 and <= 100"
    with pytest.raises(ExperimentError, match=message):
        with_overrides(load_preset("zero-init"), {"model.init_scale": -0.1})


def hidden_units_identical(trainer) -> bool:
    hidden = trainer.model.hidden1
    weight, bias = hidden.weight.detach(), hidden.bias.detach()
    return bool((weight == weight[0]).all() and (bias == bias[0]).all())


@pytest.mark.parametrize("seed", [0, 1])
def test_zero_init_units_learn_but_all_the_same_thing(seed):
    trainer = trained(load_preset("zero-init"), seed)
    assert hidden_units_identical(trainer)
    assert trainer.model.hidden1.weight.abs().min() > 0.01  # they did learn
    output = trainer.model.output.weight.detach()
    assert (output == output[0, 0]).all()
    # the Neurons tab (the hint) draws one map eight times
    grid = np.stack(np.meshgrid(np.linspace(-1, 1, 9), np.linspace(-1, 1, 9)), -1).reshape(-1, 2)
    maps = unit_maps(trainer.model, grid.astype(np.float32), 9, 9)[1].maps
    assert len(maps) == 8 and all((m == maps[0]).all() for m in maps)
    assert maps[0].max() - maps[0].min() > 0.1  # a map, not a flat colour
    # the compare's words: the run stays at the majority class
    baseline = majority_baseline(trainer.y_val.numpy()).accuracy
    assert trainer.history.val_accuracy[-1] == pytest.approx(baseline)


def test_random_initial_weights_break_the_symmetry():
    trainer = trained(with_solution(load_preset("zero-init")))
    assert not hidden_units_identical(trainer) and trainer.goal().met


# ---------------------------------------------------------------------------------------------
# exploding-gradients


@pytest.mark.parametrize("seed", [0, 1])
def test_a_large_init_makes_the_gradients_explode_from_the_first_step(seed):
    exp = with_overrides(load_preset("exploding-gradients"), {"training.seed": seed})
    trainer = Trainer(exp)
    sizes, x = [], trainer.X_train
    with torch.no_grad():  # the signal grows layer by layer
        for name, module in trainer.model.named_children():
            x = module(x)
            if name.startswith("act") or name == "output":
                sizes.append(x.pow(2).mean().sqrt().item())
    assert sizes == sorted(sizes)
    assert sizes[-1] > 50 * trainer.y_train.pow(2).mean().sqrt().item()  # ~100x the targets
    trainer.step()
    assert min(trainer.grad_norms().values()) > 1000  # every layer's, in the thousands
    assert "exploding_gradients" in {f.code for f in diagnose_trainer(trainer)}


def test_a_large_init_diverges_even_at_a_tiny_learning_rate():
    for lr in (0.01, 0.00003):
        trainer = trained(with_overrides(load_preset("exploding-gradients"), {"training.lr": lr}))
        assert trainer.status == "diverged", lr
        assert "exploding_gradients" in kinds(trainer)


def test_too_small_an_init_hardly_learns_and_he_init_learns():
    exp = load_preset("exploding-gradients")
    small = trained(with_overrides(exp, {"model.init_scale": 0.2}))
    assert small.status == "finished" and small.history.val_loss[-1] > 10 * exp.goal.threshold
    he = trained(with_solution(exp))
    assert he.goal().met and "exploding_gradients" not in kinds(he)


# ---------------------------------------------------------------------------------------------
# batch-norm


def first_over_last(trainer) -> float:
    norms = list(trainer.grad_norms().values())
    return norms[0] / norms[-1]


def test_a_deep_sigmoid_stack_vanishes_and_batch_norm_rescues_it():
    exp = load_preset("batch-norm")
    stuck = trained(exp)
    assert "vanishing_gradients" in kinds(stuck)
    assert abs(stuck.history.val_accuracy[-1] - 0.5) < 0.1  # near chance on xor
    rescued = trained(with_solution(exp))
    assert rescued.exp.model.hidden[0].activation == "sigmoid"  # still sigmoid units
    assert "vanishing_gradients" not in kinds(rescued)
    assert first_over_last(rescued) > 100 * first_over_last(stuck)
    assert rescued.goal().met


# ---------------------------------------------------------------------------------------------
# dropout


@pytest.mark.parametrize("seed", [0, 1])
def test_dropout_alone_trades_training_accuracy_for_accuracy_on_fresh_points(seed):
    exp = load_preset("dropout")
    assert exp.training.l2 == 0 and exp.training.patience == 0  # dropout alone
    memorized = trained(exp, seed)
    assert memorized.history.train_accuracy[-1] == 1.0
    assert memorized.history.val_accuracy[-1] < exp.goal.threshold
    dropped = trained(with_solution(exp), seed)
    assert dropped.history.train_accuracy[-1] < 1.0
    assert dropped.history.val_accuracy[-1] > memorized.history.val_accuracy[-1] + 0.02


# ---------------------------------------------------------------------------------------------
# nll-vs-cross-entropy


def history_numbers(trainer) -> dict:
    h = trainer.history
    names = ("train_loss", "val_loss", "train_accuracy", "val_accuracy")
    return {name: list(getattr(h, name)) for name in names} | {"steps": list(h.step_loss.means)}


@pytest.mark.parametrize("hidden", [[], [32, 32]])
def test_nll_on_log_softmax_and_cross_entropy_on_logits_give_the_same_digits(hidden):
    exp = with_overrides(
        load_preset("nll-vs-cross-entropy"), {"model.hidden": hidden, "training.epochs": 5}
    )
    nll = trained(exp)
    ce = trained(with_overrides(exp, {"training.loss": "cross_entropy"}))
    assert type(nll.model.head).__name__ == "LogSoftmax" and not hasattr(ce.model, "head")
    assert history_numbers(nll) == history_numbers(ce)
    for a, b in zip(nll.model.parameters(), ce.model.parameters(), strict=True):
        assert torch.equal(a, b)
    # and the loss is what torch's cross-entropy gives on the logits
    with torch.no_grad():
        logits = ce.model.eval()(ce.X_val)
        expected = torch.nn.functional.cross_entropy(logits, ce.y_val).item()
    assert nll.history.val_loss[-1] == expected


def test_the_loss_is_not_to_blame_a_hidden_layer_is_missing():
    exp = load_preset("nll-vs-cross-entropy")
    assert not trained(with_overrides(exp, {"training.loss": "cross_entropy"})).goal().met
    assert trained(with_solution(exp)).goal().met
