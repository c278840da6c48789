"""The lab's subcommands (nnplay/cli_lab.py): reports, JSON, exit codes, bad input."""

import json

import pytest

from tests.command_line import run_in_process


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_backprop_prints_the_worked_example(capsys):
    code, out, _ = run_in_process(capsys, "backprop")
    assert code == 0
    assert "0.751365" in out and "0.298371" in out and "0.358916" in out


def test_backprop_json_with_more_steps_and_another_lr(capsys):
    code, out, _ = run_in_process(capsys, "backprop", "--steps", "3", "--lr", "1", "--json")
    data = last_json(out)
    assert code == 0 and len(data["losses"]) == 3
    assert data["losses"][0] == pytest.approx(0.298371, abs=1e-6)
    assert data["losses"][2] < data["losses"][1] < data["losses"][0]
    assert data["max_difference"] < 1e-12


def test_optpaths_prints_map_and_table(capsys):
    code, out, _ = run_in_process(
        capsys, "optpaths", "--function", "elongated", "--optimizers", "sgd,adam"
    )
    assert code == 0
    assert "x²/20 + y²" in out
    assert "STEPS TO CONVERGE" in out and "A adam" in out and "S sgd" in out
    assert "momentum" not in out


def test_optpaths_json_reports_divergence(capsys):
    code, out, _ = run_in_process(
        capsys,
        "optpaths",
        "--function",
        "bowl",
        "--optimizers",
        "sgd,adam",
        "--lr",
        "1.1",
        "--steps",
        "300",
        "--json",
    )
    paths = {p["optimizer"]: p for p in last_json(out)["paths"]}
    assert code == 0
    assert paths["sgd"]["diverged"] is True and paths["sgd"]["steps_to_converge"] is None
    assert paths["adam"]["lr"] == 1.1


def test_gradcheck_on_a_preset_passes(capsys):
    code, out, _ = run_in_process(capsys, "gradcheck", "circle", "--json")
    data = last_json(out)
    assert code == 0 and data["passed"] is True
    assert data["max_rel_error"] < 1e-6
    assert data["checked"] == data["total"] > 0


@pytest.mark.parametrize(
    "argv,named",
    [
        (["optpaths", "--function", "nope"], "--function 'nope'"),
        (["optpaths", "--optimizers", "sgd,lbfgs"], "--optimizers 'lbfgs'"),
        (["optpaths", "--lr", "-0.5"], "--lr -0.5"),
        (["optpaths", "--steps", "0"], "--steps 0"),
        (["backprop", "--steps", "10001"], "--steps 10001"),
        (["backprop", "--lr", "inf"], "--lr inf"),
        (["backprop", "--steps", "many"], "--steps"),
        (["gradcheck", "no-such-preset"], "no-such-preset"),
        (["gradcheck", "circle", "--max-params", "0"], "--max-params 0"),
    ],
)
def test_bad_arguments_exit_2_with_one_line_naming_them(capsys, argv, named):
    code, _, err = run_in_process(capsys, *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and named in err
    assert "Traceback" not in err


def test_the_command_line_runs_the_lab_in_a_fresh_process(nnplay_cli):
    done = nnplay_cli("backprop", "--json")
    assert done.returncode == 0
    assert last_json(done.stdout)["losses"][0] == pytest.approx(0.298371, abs=1e-6)
    bad = nnplay_cli("optpaths", "--optimizers", "sgd,nope")
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "nnplay optpaths: --optimizers 'nope' is not known; "
        "choose from sgd, momentum, adagrad, rmsprop, adam"
    )
