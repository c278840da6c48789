"""The real command line in subprocesses: listing, training, exporting, predicting, bad input."""

import json
import os
import sys

import pytest

from nnplay.cli import main
from nnplay.experiment import Experiment, dumps, load_file, with_overrides
from nnplay.export import FORMATS
from tests.command_line import run_many, run_nnplay

SUMMARY_KEYS = {
    "preset",
    "status",
    "epochs",
    "steps",
    "seconds",
    "steps_per_second",
    "train_loss",
    "val_loss",
    "train_accuracy",
    "val_accuracy",
    "test_loss",
    "test_accuracy",
    "goal",
    "exports",
    "run_file",
    "result_file",
    "weights_epoch",
    "findings",
    "classes",
    "confusion",
    "class_accuracy",
}
REFERENCE_INPUT = "0.97889086,0.15229675,0.31082123,0.03504317,0.88920843"
SMALL = ["--set", "task.samples=200"]


def last_json(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_presets_listing(nnplay_cli):
    text = nnplay_cli("presets")
    assert text.returncode == 0 and text.stderr == ""
    lines = text.stdout.splitlines()
    assert lines[0].split()[:3] == ["NAME", "TITLE", "TASK"]
    assert any(
        line.startswith("first-gt-fifth") and "val accuracy >= 0.95" in line for line in lines
    )
    data = json.loads(nnplay_cli("presets", "--json").stdout)
    row = next(r for r in data["presets"] if r["name"] == "first-gt-fifth")
    assert row == {
        "name": "first-gt-fifth",
        "title": "Is the first number bigger than the fifth?",
        "task": "first_gt_fifth",
        "goal": "val accuracy >= 0.95 within 20 epochs",
        "predict": None,  # it asks no question before its first run
    }


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    """first-gt-fifth trained as shipped, exported in every format (docs/curriculum.md §8)."""
    out = tmp_path_factory.mktemp("reference")
    paths = [str(out / f"w{suffix}") for suffix in FORMATS]
    result = run_nnplay(
        "train", "first-gt-fifth", "--json", *[a for p in paths for a in ("--export", p)]
    )
    return result, paths


def test_train_json_summary(reference_run):
    result, paths = reference_run
    summary = last_json(result)
    assert set(summary) == SUMMARY_KEYS
    assert summary["preset"] == "first-gt-fifth" and summary["status"] == "finished"
    assert summary["epochs"] == 20 and summary["steps"] == 5000
    assert summary["val_accuracy"] >= 0.95 and summary["goal"]["met"] is True
    assert summary["steps_per_second"] > 0 and summary["seconds"] > 0
    assert summary["exports"] == [paths[0], paths[0][:-3] + ".toml", *paths[1:]]
    assert result.stderr == ""


def test_predict_the_reference_input_with_every_format(reference_run, nnplay_cli):
    _, paths = reference_run
    results = run_many([("predict", path, "--input", REFERENCE_INPUT, "--json") for path in paths])
    probabilities = []
    for path, result in zip(paths, results, strict=True):
        data = last_json(result)
        assert data["weights"] == path
        (prediction,) = data["predictions"]
        assert prediction["class"] == 1, path
        assert prediction["input"] == pytest.approx([float(v) for v in REFERENCE_INPUT.split(",")])
        assert sum(prediction["probabilities"]) == pytest.approx(1)
        probabilities.append(prediction["probabilities"])
    for p in probabilities[1:]:
        assert p == pytest.approx(probabilities[0], abs=1e-5)
    text = nnplay_cli("predict", paths[2], "--input", REFERENCE_INPUT, "--input", "0.1,0,0,0,0.9")
    assert text.returncode == 0
    lines = text.stdout.splitlines()
    assert len(lines) == 2 and "-> class 1" in lines[0] and "-> class 0" in lines[1]


def test_train_again_from_the_toml_beside_an_export(reference_run):
    _, paths = reference_run
    beside = paths[0][:-3] + ".toml"
    from_toml, from_weights = run_many(
        [
            ("train", beside, "--epochs", "1", *SMALL, "--json"),
            ("train", paths[1], "--epochs", "1", *SMALL, "--json"),  # the experiment inside
        ]
    )
    summary = last_json(from_toml)
    assert summary["preset"] == beside and summary["epochs"] == 1 and summary["steps"] == 10
    summary = last_json(from_weights)
    assert summary["epochs"] == 1 and summary["status"] == "finished"


def test_set_epochs_and_seed_reach_the_trainer(nnplay_cli):
    args = [
        "--set",
        "task.samples=200",
        "--set",
        "model.hidden=[4]",
        "--set",
        "training.lr=0.01",
        "--epochs",
        "2",
        "--seed",
        "3",
    ]
    summary = last_json(nnplay_cli("train", "first-gt-fifth", *args, "--json"))
    assert summary["epochs"] == 2 and summary["steps"] == 20
    from nnplay.presets import load_preset
    from nnplay.training import Trainer

    exp = with_overrides(
        load_preset("first-gt-fifth"),
        {
            "task.samples": 200,
            "model.hidden": [4],
            "training.lr": 0.01,
            "training.epochs": 2,
            "training.seed": 3,
        },
    )
    trainer = Trainer(exp)
    trainer.run()
    assert summary["train_loss"] == trainer.history.train_loss[-1]
    assert summary["val_accuracy"] == trainer.history.val_accuracy[-1]
    other = Trainer(with_overrides(exp, {"training.seed": 0}))
    other.run()
    assert other.history.train_loss[-1] != summary["train_loss"]


def test_solution_is_applied(tmp_path, nnplay_cli):
    exp = with_overrides(Experiment(), {"task.samples": 200, "training.epochs": 5})
    exp.solution = {"training.epochs": 2, "training.lr": 0.05}
    path = tmp_path / "exercise.toml"
    path.write_text(dumps(exp))
    assert load_file(path).solution == exp.solution
    plain, solved = run_many(
        [("train", str(path), "--json"), ("train", str(path), "--solution", "--json")]
    )
    assert last_json(plain)["epochs"] == 5
    assert last_json(solved)["epochs"] == 2


def test_plain_text_summary(nnplay_cli):
    result = nnplay_cli("train", "first-gt-fifth", *SMALL, "--epochs", "2")
    assert result.returncode == 0
    assert result.stdout.startswith("first-gt-fifth: finished after 2 epochs, 20 steps")
    assert "accuracy  train" in result.stdout and "goal" in result.stdout


def test_diverging_run_exits_3_and_still_exports(tmp_path, nnplay_cli):
    weights = tmp_path / "blown.npz"
    result = nnplay_cli(
        "train",
        "first-gt-fifth",
        "--set",
        "task.name=quadratic",
        "--set",
        "task.samples=100",
        "--set",
        "goal.metric=val_loss",
        "--set",
        "training.optimizer=sgd",
        "--set",
        "training.lr=100",
        "--set",
        "training.batch_size=10",
        "--set",
        "model.hidden=[32,32]",
        "--export",
        str(weights),
    )
    assert result.returncode == 3, result.stderr
    assert result.stdout.startswith("first-gt-fifth: diverged after 0 epochs")
    assert "Lower the learning rate (the usual cause)" in result.stdout
    assert f"exported  {weights}" in result.stdout
    predicted = last_json(nnplay_cli("predict", str(weights), "--input", "0.5", "--json"))
    assert isinstance(predicted["predictions"][0]["value"], float)


def test_bad_input_exits_2_with_one_line(tmp_path, reference_run):
    _, paths = reference_run
    foreign = tmp_path / "foreign.safetensors"
    foreign.write_bytes(b"not safetensors at all")
    cases = {
        ("train", "no-such-preset"): "no-such-preset",
        ("train", "first-gt-fifth", "--set", "training.rate=0.1"): "training.rate: unknown field",
        ("train", "first-gt-fifth", "--set", "optimiser.lr=0.1"): "optimiser.lr: unknown field",
        ("train", "first-gt-fifth", "--set", "training.lr=500"): "training.lr: 500 is not allowed",
        ("train", "first-gt-fifth", "--set", "training.lr=abc"): "'abc' is not allowed",
        ("train", "first-gt-fifth", "--set", "training.lr"): "expected section.field=value",
        ("train", "first-gt-fifth", "--epochs", "0"): "training.epochs: 0 is not allowed",
        ("train", "first-gt-fifth", "--set", "training.loss=nll"): "training.loss",
        ("train", "first-gt-fifth", "--export", str(tmp_path / "w.h5")): "unknown export format",
        ("train", str(tmp_path / "missing.toml")): "no such file",
        ("train", "first-gt-fifth", "--bogus"): "unrecognized arguments: --bogus",
        ("--bogus",): "--bogus",
        ("predict", paths[2], "--input", "1,2,3"): "3 values is not allowed; this model takes 5",
        ("predict", paths[2], "--input", "1,2,x,4,5"): "expected comma-separated numbers",
        ("predict", paths[2], "--input", "1,2,3,4,5", "--input", "1,2"): "every sample needs 5",
        ("predict", str(foreign), "--input", "1,2,3,4,5"): "not an nnplay export",
        ("predict", str(tmp_path / "none.onnx"), "--input", "1,2,3,4,5"): "no such file",
        ("predict", str(tmp_path / "w.h5"), "--input", "1"): "no such file",
        ("predict", paths[0]): "--input",
    }
    for args, result in zip(cases, run_many(list(cases)), strict=True):
        stderr = result.stderr
        assert result.returncode == 2, (args, stderr)
        assert stderr.endswith("\n") and stderr.count("\n") == 1, (args, stderr)
        assert "Traceback" not in stderr
        assert cases[args] in stderr, (args, stderr)
        assert result.stdout == "" or args == (
            "train",
            "first-gt-fifth",
            "--export",
            str(tmp_path / "w.h5"),
        ), (args, result.stdout)
    assert not (tmp_path / "w.h5").exists()


def test_a_reader_that_leaves_early_ends_it_quietly_with_exit_1(monkeypatch, capsys):
    # as `nnplay presets | head -1` expects: no traceback, no complaint, exit 1
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone: every write now fails with EPIPE
    closed = os.fdopen(write_end, "w", buffering=1)
    monkeypatch.setattr(sys, "stdout", closed)
    assert main(["presets"]) == 1
    assert capsys.readouterr().err == ""
    closed.close()
