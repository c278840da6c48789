"""Results a teacher can verify: `nnplay train … --save FILE.toml` writes a [result], and
`nnplay verify FILE…` trains each file again: exit 0 when all match, 1 naming the field that
differs (a tampered number, another version), 2 for a file it cannot read (one line)."""

import hashlib
import json
import os
import signal
import subprocess
import time
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from nnplay import __version__
from nnplay.experiment import load_file, to_dict
from nnplay.presets import load_preset
from nnplay.results import data_sha256, result_from_table, to_table
from nnplay.tasks import make_datasets
from nnplay.untrusted import shown
from nnplay.verify import TOLERANCE, same
from tests.command_line import nnplay_argv, run_in_process

QUICK = ["--set", "training.epochs=3", "--set", "task.samples=400"]


@pytest.fixture(scope="module")
def honest(tmp_path_factory):
    """An xor run saved with its result, and what `train --json` said of it."""
    import contextlib
    import io

    from nnplay.cli import main

    path = tmp_path_factory.mktemp("verify") / "xor-result.toml"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["train", "xor", *QUICK, "--save", str(path), "--json"])
    assert code == 0
    return path, json.loads(out.getvalue().splitlines()[-1])


def edited(path, tmp_path, old: str, new: str, name: str = "edited.toml"):
    """A copy of the file at `path` with its last line `old` (the [result] is last) replaced
    by `new`."""
    lines = path.read_text().splitlines()
    assert old in lines, old
    at = len(lines) - 1 - lines[::-1].index(old)
    target = tmp_path / name
    target.write_text("\n".join([*lines[:at], new, *lines[at + 1 :]]))
    return target


def result_line(path, name: str) -> str:
    """The line of [result] (not of the experiment) that sets `name`."""
    lines = path.read_text().splitlines()
    start = lines.index("[result]")
    return next(line for line in lines[start:] if line.startswith(f"{name} = "))


def test_the_saved_result_holds_what_train_json_said(honest):
    path, summary = honest
    data = tomllib.loads(path.read_text())
    result = data["result"]
    for name in ("status", "epochs", "weights_epoch", "train_loss", "val_loss"):
        assert result[name] == summary[name]
    assert result["train_accuracy"] == summary["train_accuracy"]
    assert result["val_accuracy"] == summary["val_accuracy"]
    goal = summary["goal"]
    assert result["goal"] == {"met": goal["met"], "value": goal["value"], "epoch": goal["epoch"]}
    assert result["version"] == __version__
    assert "prediction" not in result  # written only when the exercise asked one
    # the SHA-256 of the arrays the network trained on, with their dtypes and shapes
    digest = hashlib.sha256()
    for array in make_datasets(load_file(path).task):
        digest.update(f"{array.dtype.str}{array.shape};".encode() + array.tobytes())
    assert result["data_sha256"] == digest.hexdigest()
    assert result_from_table(result).val_accuracy == summary["val_accuracy"]
    answered = replace(result_from_table(result), prediction="a curved boundary")
    assert to_table(answered) == {**result, "prediction": "a curved boundary"}


def test_training_a_file_with_a_result_ignores_it(honest, capsys):
    path, summary = honest
    exp = load_file(path)
    assert "result" not in to_dict(exp)
    code, out, err = run_in_process(capsys, "train", path, "--json")
    assert code == 0, err
    again = json.loads(out.splitlines()[-1])
    assert again["val_loss"] == summary["val_loss"]  # the same run, the result not in its way


def test_an_honest_file_verifies(honest, capsys):
    path, _summary = honest
    code, out, err = run_in_process(capsys, "verify", path)
    assert (code, err) == (0, "")
    assert "1 file: 1 match, 0 differ" in out
    row = next(line for line in out.splitlines() if line.startswith(str(path)))
    assert row.endswith("match") and "XOR" in row
    assert "val accuracy" in row and "goal" in row


def test_a_tampered_metric_fails_naming_the_field(honest, tmp_path, capsys):
    path, summary = honest
    line = result_line(path, "val_accuracy")
    tampered = edited(path, tmp_path, line, "val_accuracy = 0.999")
    code, out, err = run_in_process(capsys, "verify", tampered)
    assert (code, err) == (1, "")
    assert "differs: val_accuracy" in out
    replayed = f"{summary['val_accuracy']:.9g}"
    assert f"val_accuracy recorded 0.999, replayed {replayed}" in out


def test_a_tampered_verdict_and_data_digest_are_named(honest, tmp_path, capsys):
    path, _summary = honest
    met = edited(path, tmp_path, "met = false", "met = true", "met.toml")
    digest = edited(
        path,
        tmp_path,
        result_line(path, "data_sha256"),
        'data_sha256 = "' + "0" * 64 + '"',
        "digest.toml",
    )
    code, out, err = run_in_process(capsys, "verify", "--json", met, digest)
    assert (code, err) == (1, "")
    files = json.loads(out.splitlines()[-1])["files"]
    assert [f["verdict"] for f in files] == ["differs", "differs"]
    assert files[0]["differences"] == [{"field": "goal.met", "recorded": True, "replayed": False}]
    assert [d["field"] for d in files[1]["differences"]] == ["data_sha256"]


def test_a_changed_experiment_no_longer_gives_its_result(honest, tmp_path, capsys):
    path, _summary = honest
    text = path.read_text().replace("lr = 0.03\n", "lr = 0.3\n", 1)
    assert text != path.read_text()
    changed = tmp_path / "lr.toml"
    changed.write_text(text)
    code, out, _err = run_in_process(capsys, "verify", changed)
    assert code == 1
    assert "val_loss recorded" in out and "train_loss recorded" in out


def test_another_version_fails_saying_so(honest, tmp_path, capsys):
    path, _summary = honest
    older = edited(path, tmp_path, f'version = "{__version__}"', 'version = "0.0.9"')
    code, out, _err = run_in_process(capsys, "verify", older)
    assert code == 1
    assert "differs: version" in out
    assert f"saved by nnplay 0.0.9, this is nnplay {__version__}" in out


def test_the_last_float32_digits_still_match(honest, tmp_path, capsys):
    # Another CPU sums in another order: a loss a float32 rounding or two away still matches.
    path, _summary = honest
    line = result_line(path, "val_loss")
    value = float(line.partition(" = ")[2])
    nearby = edited(path, tmp_path, line, f"val_loss = {value * (1 + 2.4e-7)!r}")
    edited_by_hand = edited(path, tmp_path, line, f"val_loss = {value * (1 + 1e-5)!r}", "by.toml")
    code, out, _err = run_in_process(capsys, "verify", nearby, edited_by_hand)
    assert code == 1
    assert "1 match, 1 differ" in out and "by.toml: val_loss recorded" in out
    assert same(value, value * (1 + TOLERANCE / 2)) and not same(value, value * (1 + 3 * TOLERANCE))
    assert same(0.0, 1e-13) and not same(1, 1.0)  # an int in place of a float differs


def test_json_gives_every_file_with_its_verdict(honest, tmp_path, capsys):
    path, summary = honest
    broken = tmp_path / "broken.toml"
    broken.write_text("x = [")
    code, out, err = run_in_process(capsys, "verify", path, broken, "--json")
    assert code == 2
    assert err.count("\n") == 1 and "broken.toml: not valid TOML" in err
    data = json.loads(out.splitlines()[-1])
    assert data["nnplay"] == __version__ and data["tolerance"] == TOLERANCE
    first, second = data["files"]
    assert first["verdict"] == "match" and first["differences"] == []
    assert first["recorded"] == first["replayed"]
    assert first["replayed"]["val_loss"] == summary["val_loss"]
    assert second == {"file": str(broken), "verdict": "unreadable", "error": err.strip()[15:]}


HOSTILE = {
    "broken TOML": (None, "[result\nx = 1", "not valid TOML"),
    "a huge number": ("epochs", "epochs = 1" + "0" * 30, "result.epochs: a 31-digit number"),
    "a wrong type": ("status", "status = 3", "result.status: 3 is not allowed"),
    "an unknown field": ("epochs", "epochs = 3\nbonus = 1", "result.bonus: unknown field"),
    "an accuracy above 1": ("val_accuracy", "val_accuracy = 1.5", "result.val_accuracy: 1.5"),
    "a loss that is not a number": ("val_loss", "val_loss = nan", "result.val_loss: nan is not"),
    "infinity": ("train_loss", "train_loss = inf", "result.train_loss: inf is not"),
    "a control character": ("version", 'version = "0.1\\u001b[2J"', "result.version:"),
    "a missing field": ("weights_epoch", "", "result.weights_epoch: missing"),
    "a goal without its verdict": ("met", "", "result.goal.met: missing"),
    "a table in the goal": ("[result.goal]", "[result.goal.x]", "result.goal.x: unknown field"),
    "a list for a table": ("[result.goal]", "[[result.goal]]", "result.goal: must be a table"),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_a_hostile_result_is_one_line_and_exit_2(honest, tmp_path, capsys, case):
    path, _summary = honest
    name, new, said = HOSTILE[case]
    if name is None:
        target = tmp_path / "hostile.toml"
        target.write_text(new)
    else:
        line = name if name.startswith("[") else result_line(path, name)
        target = edited(path, tmp_path, line, new, "hostile.toml")
    code, out, err = run_in_process(capsys, "verify", target)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"nnplay verify: {target}: ") and said in err, err


def test_a_file_without_a_result_or_unknown_sections_is_refused(tmp_path, capsys):
    plain = tmp_path / "plain.toml"
    plain.write_text("[training]\nepochs = 2\n")
    code, _out, err = run_in_process(capsys, "verify", plain)
    assert code == 2 and "it has no [result] table" in err and err.count("\n") == 1
    plain.write_text("[results]\nepochs = 2\n")
    code, _out, err = run_in_process(capsys, "verify", plain)
    assert code == 2 and "results: unknown section" in err
    code, _out, err = run_in_process(capsys, "verify", tmp_path / "missing.toml")
    assert code == 2 and "missing.toml" in err and err.count("\n") == 1
    plain.write_text("# " + "x" * 300_000)  # read no further than an experiment's size
    code, _out, err = run_in_process(capsys, "verify", plain)
    assert code == 2 and "too large for an experiment" in err and err.count("\n") == 1


def test_a_prediction_is_kept_and_shown_but_not_replayed(honest, tmp_path, capsys):
    # the learner's answer to the exercise's question: a replay cannot give it again
    path, _summary = honest
    line = result_line(path, "val_accuracy")
    answered = edited(path, tmp_path, line, f'{line}\nprediction = "a curved boundary"')
    assert result_from_table(tomllib.loads(answered.read_text())["result"]).prediction == (
        "a curved boundary"
    )
    code, out, _err = run_in_process(capsys, "verify", answered)
    # the file as the table names it (a long path is cut to 80 characters)
    assert code == 0 and f"{shown(answered, 80)}: the learner predicted: a curved boundary" in out
    code, out, _err = run_in_process(capsys, "verify", answered, "--json")
    assert code == 0
    (row,) = json.loads(out.splitlines()[-1])["files"]
    assert row["recorded"]["prediction"] == "a curved boundary"
    assert "prediction" not in row["replayed"] and row["differences"] == []
    hostile = edited(path, tmp_path, line, f'{line}\nprediction = "{"x" * 201}"', "long.toml")
    code, out, err = run_in_process(capsys, "verify", hostile)
    assert code == 2 and "result.prediction:" in err and "at most 200 characters" in err


def test_save_refuses_before_training(tmp_path, capsys):
    code, _out, err = run_in_process(capsys, "train", "xor", "--save", tmp_path / "x.txt")
    assert code == 2 and "--save" in err and ".toml" in err
    run = tmp_path / "run.nnrun"
    code, _out, err = run_in_process(capsys, "train", "xor", *QUICK, "--save-run", run, "--json")
    assert code == 0, err
    code, _out, err = run_in_process(capsys, "train", run, "--save", tmp_path / "x.toml")
    assert code == 2 and "a continued run's result cannot be verified" in err
    assert not (tmp_path / "x.toml").exists()


def test_a_stopped_run_saves_no_result(tmp_path, capsys):
    from nnplay.cli_verify import save_result
    from nnplay.training import Trainer

    trainer = Trainer(load_preset("xor"))
    trainer.step()
    capsys.readouterr()
    assert save_result(tmp_path / "x.toml", trainer) == []
    err = capsys.readouterr().err
    assert "x.toml: not saved; the run was stopped before its end" in err
    assert not (tmp_path / "x.toml").exists()


def test_a_csv_result_records_the_files_digest(tmp_path, capsys):
    path = tmp_path / "iris.toml"
    code, _out, err = run_in_process(
        capsys, "train", "iris", "--set", "training.epochs=2", "--save", path
    )
    assert code == 0, err
    exp = load_file(path)
    assert tomllib.loads(path.read_text())["result"]["data_sha256"] == exp.task.schema.sha256
    assert data_sha256(exp.task) == hashlib.sha256(Path(exp.task.data).read_bytes()).hexdigest()
    code, out, err = run_in_process(capsys, "verify", path)
    assert (code, err) == (0, ""), out


def test_a_diverged_regression_run_verifies(tmp_path, capsys):
    path = tmp_path / "diverged.toml"
    code, out, _err = run_in_process(capsys, "train", "lr-too-high", "--save", path, "--json")
    summary = json.loads(out.splitlines()[-1])
    result = tomllib.loads(path.read_text())["result"]
    assert code == 3 and result["status"] == "diverged"
    # the weights kept are the initial ones, and so are the numbers; a regression task has no
    # accuracy, and the goal judged no epoch: none of them is written
    assert result["weights_epoch"] == summary["weights_epoch"] == 0
    assert result["val_loss"] == summary["val_loss"]
    assert "val_accuracy" not in result and result["goal"] == {"met": False}
    code, out, err = run_in_process(capsys, "verify", path)
    assert (code, err) == (0, ""), out


def test_the_help_states_the_tolerance(capsys):
    code, out, _err = run_in_process(capsys, "verify", "--help")
    assert code == 0
    assert f"relative {TOLERANCE:g}" in " ".join(out.split())


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the processes in /proc")
def test_ctrl_c_stops_verify_and_its_workers(honest, tmp_path):
    """As `compare`: Ctrl+C reaches nnplay, its forkserver and the workers; one line, exit
    130, and no worker left."""
    from tests.test_compare import _descendants

    path, _summary = honest
    long = tmp_path / "long.toml"
    long.write_text(path.read_text().replace("epochs = 3\n", "epochs = 100000\n", 1))
    cli = subprocess.Popen(
        nnplay_argv("verify", str(long), str(long)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group, as a terminal gives it
    )
    deadline = time.monotonic() + 120
    while len(_descendants(cli.pid)) < 4 and time.monotonic() < deadline:  # tracker, server, 2
        time.sleep(0.05)
    workers = _descendants(cli.pid)
    os.killpg(cli.pid, signal.SIGINT)
    out, err = cli.communicate(timeout=120)
    assert (cli.returncode, out) == (130, "")
    assert err == "nnplay: verify interrupted; the workers were stopped\n"
    time.sleep(0.5)
    assert not workers & _descendants(os.getpid()) - {cli.pid}
