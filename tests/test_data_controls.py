"""The data controls TF Playground has, outside the app: the ratio of training to validation
data (task.validation = fraction) and the held-out test set (task.test_fraction), measured
once when the run ends and reported by `nnplay train` and its --json."""

import json

import numpy as np
import pytest
import torch

from nnplay.experiment import Experiment, LayerSpec, load_file, save, with_overrides
from nnplay.model import build_model
from nnplay.summary import final_test_fields
from nnplay.tasks import generate, network_splits, raw_splits, train_samples
from nnplay.training import Trainer
from tests.command_line import run_many


def circle(**task) -> Experiment:
    exp = Experiment()
    exp.task.name, exp.task.samples, exp.task.val_samples = "circle", 300, 100
    for name, value in task.items():
        setattr(exp.task, name, value)
    exp.model.hidden = [LayerSpec(8, "tanh")]
    exp.training.loss, exp.training.lr, exp.training.epochs = "cross_entropy", 0.03, 30
    return exp


def rows(x: np.ndarray) -> set[tuple[float, ...]]:
    return {tuple(r) for r in x.tolist()}


@pytest.mark.parametrize(
    ("task", "sizes"),
    [
        ({"validation": "fresh", "test_fraction": 0.2}, (240, 100, 60)),
        ({"validation": "split", "test_fraction": 0.1}, (170, 100, 30)),
        ({"validation": "fraction", "val_fraction": 0.5}, (150, 150, 0)),
        ({"validation": "fraction", "val_fraction": 0.3, "test_fraction": 0.2}, (150, 90, 60)),
    ],
)
def test_sizes_of_the_three_sets_and_no_point_in_two(task, sizes):
    exp = circle(**task)
    x, _y, xv, _yv, xt, _yt = raw_splits(exp.task)
    assert (len(x), len(xv), len(xt)) == sizes
    assert train_samples(exp.task) == sizes[0]
    assert not rows(x) & rows(xt) and not rows(xv) & rows(xt) and not rows(x) & rows(xv)
    if task["validation"] != "fresh":  # held out of the samples: together they are all of them
        everything, _labels = generate(exp.task, exp.task.samples, 0)
        assert rows(x) | rows(xv) | rows(xt) == rows(everything)


def test_without_a_test_set_the_data_is_what_it_always_was():
    """Fresh validation: the training set is the generator's samples in their order; a split
    holds out the first val_samples of the seeded permutation, as before the test set."""
    exp = circle()
    x, y, xv, _yv, xt, yt = raw_splits(exp.task)
    drawn, labels = generate(exp.task, 300, 0)
    assert np.array_equal(x, drawn) and np.array_equal(y, labels) and len(xt) == len(yt) == 0
    split = circle(validation="split", val_samples=60)
    x, _y, xv, _yv, _xt, _yt = raw_splits(split.task)
    order = np.random.default_rng([0, 2]).permutation(300)
    drawn, _labels = generate(split.task, 300, 0)
    assert np.array_equal(xv, drawn[order[:60]]) and np.array_equal(x, drawn[order[60:]])


def test_a_ratio_changes_the_sizes_and_a_test_set_shrinks_the_training_set_only():
    base = Trainer(circle(validation="fraction", val_fraction=0.2))
    assert (len(base.X_train), len(base.X_val)) == (240, 60)
    tested = Trainer(circle(validation="fraction", val_fraction=0.2, test_fraction=0.1))
    assert (len(tested.X_train), len(tested.X_val)) == (210, 60)
    assert torch.equal(base.X_val, tested.X_val)  # the validation set is the same points


def test_the_test_set_is_measured_once_after_training_and_never_during_it(monkeypatch):
    trainer = Trainer(circle(test_fraction=0.2))
    seen = []
    evaluate = Trainer.evaluate

    def counted(self, x, y):
        seen.append("train" if x is self.X_train else "val" if x is self.X_val else "test")
        return evaluate(self, x, y)

    monkeypatch.setattr(Trainer, "evaluate", counted)
    trainer.exp.training.patience = 2  # early stopping looks at validation only
    trainer.run()
    assert seen and "test" not in seen
    first = trainer.test_metrics()
    again = trainer.test_metrics()
    assert seen.count("test") == 1 and first == again
    assert 0.5 < first["test_accuracy"] <= 1


def test_no_test_set_no_test_numbers():
    trainer = Trainer(circle())
    trainer.run(epochs=1)
    assert trainer.test_metrics() is None
    assert final_test_fields(trainer) == {"test_loss": None, "test_accuracy": None}


def test_train_reports_the_test_set_and_its_numbers_are_the_kept_weights_own(tmp_path):
    """Early stopping keeps an earlier epoch's weights: the test numbers are theirs (those the
    export holds), equal to torch's own loss and accuracy on the test points."""
    exp = circle(validation="fraction", val_fraction=0.25, test_fraction=0.2)
    exp.training.lr, exp.training.epochs, exp.training.patience = 0.3, 60, 3
    setup = tmp_path / "tested.toml"
    save(exp, setup)
    weights = tmp_path / "w.pt"
    tested, plain, words = run_many(
        [
            ("train", str(setup), "--json", "--export", str(weights)),
            ("train", str(setup), "--json", "--set", "task.test_fraction=0"),
            ("train", str(setup)),
        ]
    )
    summary = json.loads(tested.stdout.splitlines()[-1])
    assert tested.returncode == 0, tested.stderr
    kept = load_file(setup)
    model = build_model(kept)
    model.load_state_dict(torch.load(weights, weights_only=True))
    model.eval()
    _x, _y, _xv, _yv, xt, yt = network_splits(kept.task)
    with torch.no_grad():
        out = model(torch.from_numpy(xt))
        loss = torch.nn.functional.cross_entropy(out, torch.from_numpy(yt)).item()
        accuracy = (out.argmax(dim=1).numpy() == yt).mean()
    assert len(yt) == 60
    assert summary["test_loss"] == pytest.approx(loss, rel=1e-6)
    assert summary["test_accuracy"] == pytest.approx(accuracy, abs=1e-12)
    without = json.loads(plain.stdout.splitlines()[-1])
    assert without["test_loss"] is None and without["test_accuracy"] is None
    tested_line = f"test set, measured once at the end: loss {loss:.4f}, accuracy {accuracy:.4f}"
    assert "  " + tested_line in words.stdout.splitlines()


def test_a_csv_task_holds_a_test_set_out_of_its_rows_and_standardizes_without_it(tmp_path):
    data = tmp_path / "d.csv"
    x = np.arange(40, dtype=float)
    data.write_text("a,y\n" + "".join(f"{v},{int(v) % 2}\n" for v in x))
    exp = Experiment()
    exp.task.data, exp.task.target, exp.task.val_fraction = str(data), "y", 0.25
    exp.model.hidden = []
    exp.training.loss = "cross_entropy"
    tested = with_overrides(exp, {"task.test_fraction": 0.25})
    train, _y, val, _yv, test, _yt = raw_splits(tested.task)
    assert (len(train), len(val), len(test)) == (20, 10, 10)
    assert not rows(train) & rows(test) and not rows(val) & rows(test)
    assert tested.task.schema.mean == [pytest.approx(train[:, 0].mean())]
    plain = with_overrides(exp, {})
    assert plain.task.schema.mean != tested.task.schema.mean  # the test rows are not in it


@pytest.mark.parametrize(
    ("setting", "line"),
    [
        ("task.test_fraction=nan", "task.test_fraction: nan is not allowed; must be a number"),
        ("task.test_fraction=-0.1", "task.test_fraction: -0.1 is not allowed; must be a number"),
        ("task.test_fraction=0.51", "task.test_fraction: 0.51 is not allowed; must be a number"),
        ("task.test_fraction=true", "task.test_fraction: true is not allowed; must be a number"),
        ("task.test_fraction=lots", "task.test_fraction: 'lots' is not allowed; must be a number"),
        ("task.validation=ratio", "task.validation: 'ratio' is not allowed; must be one of"),
        ("task.val_fraction=0", "task.val_fraction: 0 is not allowed; must be a number > 0"),
        ("task.val_fraction=0.95", "task.val_fraction: 0.95 is not allowed; must be a number >"),
    ],
)
def test_hostile_values_are_refused_in_one_line(setting, line, capsys):
    from nnplay.cli import main

    code = main(["train", "presets/circle.toml", "--set", setting])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1, err
    assert line in err


def test_a_test_set_that_leaves_nothing_to_train_on_is_refused(capsys):
    from nnplay.cli import main

    args = ["--set", "task.validation=fraction", "--set", "task.val_fraction=0.5"]
    code = main(["train", "presets/circle.toml", *args, "--set", "task.test_fraction=0.5"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        "nnplay: task.test_fraction: 0.5 is not allowed; it leaves nothing to train on "
        "(1000 samples: 500 validate, 500 test)\n"
    )


def test_a_ratio_needs_two_samples_and_a_file_is_refused_like_a_setting(tmp_path, capsys):
    from nnplay.cli import main

    one = ["--set", "task.validation=fraction", "--set", "task.samples=1"]
    assert main(["train", "presets/circle.toml", *one]) == 2
    assert capsys.readouterr().err == (
        "nnplay: task.samples: 1 is not allowed with validation = fraction; it needs 2 or more\n"
    )
    setup = tmp_path / "hostile.toml"
    setup.write_text('[task]\nname = "circle"\ntest_fraction = "a fifth"\n')
    assert main(["train", str(setup)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "task.test_fraction: 'a fifth' is not allowed; must be a number >= 0 and <= 0.5" in err
