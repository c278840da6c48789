"""One summary for train, compare and --json: the numbers of the weights kept, and a goal
verdict that agrees with the value printed beside it."""

import json

from tests.command_line import run_many


def test_compare_and_train_report_the_same_kept_weights_and_goal():
    compared, *trained = run_many(
        [
            ("compare", "overfitting", "--vary", "training.patience=3,10", "--json"),
            ("train", "overfitting", "--set", "training.patience=3", "--json"),
            ("train", "overfitting", "--set", "training.patience=10", "--json"),
            ("train", "overfitting", "--set", "training.patience=10"),
        ]
    )
    assert compared.returncode == 0, compared.stderr
    variants = json.loads(compared.stdout)["variants"]
    for variant, run in zip(variants, trained[:2], strict=True):
        assert run.returncode == 0, run.stderr
        summary = json.loads(run.stdout)
        for key in ("status", "epochs", "weights_epoch", "train_loss", "val_loss", "goal"):
            assert variant[key] == summary[key], key
        assert variant["findings"] == summary["findings"]
        assert summary["status"] == "early_stopped"
        assert summary["weights_epoch"] < summary["epochs"]
        goal = summary["goal"]
        # the verdict is judged on the value printed beside it: that of the weights kept
        assert goal["epoch"] == summary["weights_epoch"]
        assert goal["value"] == summary["val_loss"]
        assert goal["met"] == (goal["value"] <= 0.45)
    text = trained[2].stdout
    kept = json.loads(trained[1].stdout)
    assert f"(the weights of epoch {kept['weights_epoch']})" in text
    assert f"met (value {kept['goal']['value']:.4g}, epoch {kept['weights_epoch']})" in text
