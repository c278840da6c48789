"""Every preset is a valid exercise; its solution meets its goal; challenges miss it as shipped."""

import pytest

from nnplay.errors import ExperimentError
from nnplay.experiment import with_overrides, with_solution
from nnplay.presets import load_preset, preset_names, presets_dir
from nnplay.tasks import is_blank
from nnplay.training import Trainer

NAMES = preset_names()
# A blank task's data is drawn by the learner in the app (tests/tui/test_drawn_points.py).
TRAINED = [n for n in NAMES if not is_blank(load_preset(n).task)]
CHALLENGES = [n for n in NAMES if load_preset(n).solution]
SOLVED_AS_SHIPPED = [n for n in NAMES if not load_preset(n).solution]


def train(exp, seed=0):
    trainer = Trainer(with_overrides(exp, {"training.seed": seed, "task.seed": seed}))
    trainer.run()
    return trainer


def test_presets_ship_inside_the_package_or_beside_it():
    assert presets_dir().is_dir()
    assert len(NAMES) >= 12
    assert {
        "first-gt-fifth",
        "feature-sum",
        "quadratic-fit",
        "lr-too-high",
        "overfitting",
        "momentum-vs-sgd",
        "vanishing-gradients",
    } <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_preset_is_a_complete_exercise(name):
    exp = load_preset(name)
    assert exp.meta.title and len(exp.meta.description) > 80
    assert 1 <= len(exp.meta.hints) <= 4
    assert exp.goal.enabled and exp.goal.epochs <= exp.training.epochs


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", TRAINED)
def test_preset_meets_its_goal_with_its_solution(name, seed):
    trainer = train(with_solution(load_preset(name)), seed)
    goal = trainer.goal()
    assert trainer.status == "finished"
    assert goal.met, f"{name}: {goal}"


@pytest.mark.slow
@pytest.mark.parametrize("name", CHALLENGES)
def test_challenge_misses_its_goal_as_shipped(name):
    trainer = train(load_preset(name))
    assert not trainer.goal().met


def test_the_blank_preset_has_no_points_and_refuses_to_train_on_none():
    trainer = Trainer(load_preset("draw-your-own"))
    assert len(trainer.X_train) == len(trainer.X_val) == 0
    with pytest.raises(ExperimentError, match="draw has no data of its own: draw points"):
        trainer.step()
    assert [n for n in NAMES if n != "draw-your-own"] == TRAINED


def test_lr_too_high_diverges_and_keeps_finite_weights():
    trainer = train(load_preset("lr-too-high"))
    assert trainer.status == "diverged"
    assert "learning rate" in trainer.message
    assert all(p.isfinite().all() for p in trainer.model.parameters())


def test_first_gt_fifth_is_the_curriculum_script():
    exp = load_preset("first-gt-fifth")
    t = exp.training
    assert (exp.model.hidden, t.loss, t.optimizer, t.lr, t.batch_size, t.epochs) == (
        [],
        "mse",
        "adam",
        0.001,
        20,
        20,
    )
    assert (exp.task.samples, exp.task.val_samples, exp.task.validation) == (5000, 100, "fresh")
    trainer = train(exp)
    assert trainer.history.val_accuracy[-1] >= 0.95
