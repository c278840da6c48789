"""The real command line, in a subprocess: the JSON contract, exports, exit codes."""

import json

import pytest

SUMMARY_KEYS = {"preset", "status", "epochs", "steps", "seconds", "steps_per_second",
                "train_loss", "val_loss", "train_accuracy", "val_accuracy", "goal", "exports"}
SAMPLE = "0.97889086,0.15229675,0.31082123,0.03504317,0.88920843"


def last_json(result):
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_presets_lists_name_title_task_goal(nnplay_cli):
    result = nnplay_cli("presets")
    assert result.returncode == 0
    assert "first-gt-fifth" in result.stdout and "val accuracy >= 0.95 within 20" in result.stdout
    rows = last_json(nnplay_cli("presets", "--json"))["presets"]
    assert {"name", "title", "task", "goal"} == set(rows[0])
    assert len(rows) >= 12


def test_train_json_contract_exports_and_predict(nnplay_cli, tmp_path):
    paths = [str(tmp_path / f"w{s}") for s in (".pt", ".safetensors", ".onnx", ".npz")]
    result = nnplay_cli("train", "first-gt-fifth", "--json", "--seed", "3",
                        *[a for p in paths for a in ("--export", p)])
    assert result.returncode == 0, result.stderr
    summary = last_json(result)
    assert set(summary) == SUMMARY_KEYS
    assert summary["status"] == "finished" and summary["steps"] == 5000
    assert summary["val_accuracy"] >= 0.95 and summary["goal"]["met"] is True
    assert summary["steps_per_second"] > 0
    assert summary["exports"] == [paths[0], str(tmp_path / "w.toml"), *paths[1:]]
    for path in paths:
        prediction = last_json(nnplay_cli("predict", path, "--input", SAMPLE, "--json"))
        assert prediction["predictions"][0]["class"] == 1
    text = nnplay_cli("predict", paths[0], "--input", SAMPLE, "--input", "0.1,0.5,0.5,0.5,0.9")
    assert "class 1" in text.stdout and "class 0" in text.stdout


def test_train_an_exported_experiment_and_overrides(nnplay_cli, tmp_path):
    nnplay_cli("train", "first-gt-fifth", "--epochs", "1", "--export", str(tmp_path / "w.pt"))
    result = nnplay_cli("train", str(tmp_path / "w.toml"), "--json", "--epochs", "2",
                        "--set", "training.lr=0.01", "--set", "model.hidden=[4]")
    summary = last_json(result)
    assert summary["epochs"] == 2 and summary["preset"].endswith("w.toml")


def test_solution_flag_applies_the_fix(nnplay_cli):
    assert nnplay_cli("train", "lr-too-high", "--json").returncode == 3
    fixed = nnplay_cli("train", "lr-too-high", "--solution", "--json")
    assert fixed.returncode == 0 and last_json(fixed)["goal"]["met"] is True


def test_diverged_run_exits_3_and_still_exports(nnplay_cli, tmp_path):
    result = nnplay_cli("train", "lr-too-high", "--export", str(tmp_path / "w.npz"))
    assert result.returncode == 3
    assert "diverged" in result.stdout and "learning rate" in result.stdout
    assert (tmp_path / "w.npz").is_file()
    assert nnplay_cli("predict", str(tmp_path / "w.npz"), "--input", "0.1,0.2").returncode == 0


@pytest.mark.parametrize("args, says", [
    (["train", "nope"], "unknown preset 'nope'"),
    (["train", "first-gt-fifth", "--set", "training.lr=-1"], "training.lr: -1 is not allowed"),
    (["train", "first-gt-fifth", "--set", "training.optimizer=lbfgs"], "one of: sgd"),
    (["train", "first-gt-fifth", "--set", "lr"], "section.field=value"),
    (["train", "first-gt-fifth", "--set", "model.colour=1"], "unknown field"),
    (["train", "first-gt-fifth", "--export", "w.h5"], "allowed suffixes"),
    (["train", "first-gt-fifth", "--epochs", "0"], "training.epochs: 0"),
    (["train", "first-gt-fifth", "--bogus"], "unrecognized arguments: --bogus"),
    (["train", "missing.toml"], "no such file"),
    (["predict", "missing.pt", "--input", "1"], "no such file"),
    (["predict", "pyproject.toml", "--input", "1"], "pyproject.toml"),
    (["frobnicate", "--x"], "nnplay"),
])
def test_bad_input_exits_2_with_one_line_and_no_traceback(nnplay_cli, args, says):
    result = nnplay_cli(*args)
    assert result.returncode == 2, result.stdout
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_predict_input_errors(nnplay_cli, tmp_path):
    nnplay_cli("train", "first-gt-fifth", "--epochs", "1", "--export", str(tmp_path / "w.pt"))
    for bad, says in [("1,2", "takes 5"), ("a,b,c,d,e", "comma-separated numbers"),
                      ("1,2,3,4,nan", "finite")]:
        result = nnplay_cli("predict", str(tmp_path / "w.pt"), "--input", bad)
        assert result.returncode == 2 and says in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    (tmp_path / "foreign.pt").write_bytes(b"\x80\x04junk")
    (tmp_path / "foreign.toml").write_text("")
    result = nnplay_cli("predict", str(tmp_path / "foreign.pt"), "--input", SAMPLE)
    assert result.returncode == 2 and "not an nnplay export" in result.stderr
