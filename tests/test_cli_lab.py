"""The lab's subcommands (nnplay/cli_lab.py): reports, JSON, exit codes, bad input."""

import json

import pytest

from nnplay.lab.surfaces import PATH_OPTIMIZERS
from tests.command_line import run_in_process

PATH_MARKS = {name: kind.mark for name, kind in PATH_OPTIMIZERS.items()}


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
    assert "x²/20 + y²" in out and "200 steps" in out
    assert "STEPS TO CONVERGE" in out and "A adam" in out and "S sgd" in out
    assert "S sgd  A adam  & several paths  x start  o minimum" in out
    assert "momentum" not in out


def verdicts(out: str) -> dict[str, str]:
    """The last lines, one per optimizer: 'S sgd: converged: ...' by name."""
    lines = [line for line in out.splitlines() if line[:2] in {"S ", "M ", "G ", "R ", "A "}]
    return {line.split(":")[0][2:]: line for line in lines if ": " in line}


def test_optpaths_says_each_default_converged_and_where_it_ended(capsys):
    code, out, _ = run_in_process(capsys, "optpaths", "--function", "himmelblau")
    data = json.loads(run_in_process(capsys, "optpaths", "--function", "himmelblau", "--json")[1])
    assert code == 0
    said = verdicts(out)
    for path in data["paths"]:
        x, y = path["final_point"]
        mx, my = path["nearest_minimum"]
        assert path["status"] == "converged" and path["distance_to_minimum"] < 0.001
        assert said[path["optimizer"]] == (
            f"{PATH_MARKS[path['optimizer']]} {path['optimizer']}: converged: ended at "
            f"({x + 0:.4f}, {y + 0:.4f}), {path['distance_to_minimum']:.2g} from the minimum "
            f"({mx:.4f}, {my:.4f}), within 0.001 from step {path['steps_to_converge']}"
        )
    ends = {p["optimizer"]: p["nearest_minimum"] for p in data["paths"]}
    assert ends["sgd"] == [3.0, 2.0] and ends["momentum"] == [3.584428, -1.848126]


def test_optpaths_says_when_a_path_diverges_or_does_not_converge(capsys):
    args = ("optpaths", "--optimizers", "sgd,momentum,adam", "--lr", "1.05", "--steps", "140")
    code, out, _ = run_in_process(capsys, *args)
    paths = {
        p["optimizer"]: p for p in last_json(run_in_process(capsys, *args, "--json")[1])["paths"]
    }
    said = verdicts(out)
    assert code == 0
    # SGD at lr 1.05 multiplies the point by 1 − 2.1 = −1.1 a step: y = 4 · 1.1ⁿ passes 1e6
    # at step 131 (ln 250000 / ln 1.1 = 130.4); the start and 130 steps are the path.
    assert paths["sgd"]["diverged"] and len(paths["sgd"]["points"]) == 131
    assert said["sgd"].startswith("S sgd: diverged at step 131: the point went past 1e+06 ")
    assert 1e6 / 1.1 < max(map(abs, paths["sgd"]["final_point"])) <= 1e6
    for name in ("momentum", "adam"):  # they spiral in, at 167 and 158 steps: not yet at 140
        assert paths[name]["status"] == "not converged"
        assert paths[name]["distance_to_minimum"] >= 0.001
        assert said[name].split(": ")[1] == "did not converge in 140 steps"
        assert f"{paths[name]['distance_to_minimum']:.2g} from the nearest minimum" in said[name]
        assert "converged means within 0.001" in said[name]


def test_optpaths_on_the_saddle_says_there_is_no_minimum(capsys):
    code, out, _ = run_in_process(
        capsys, "optpaths", "--function", "saddle", "--optimizers", "adam"
    )
    assert code == 0
    assert "A adam: no minimum to converge to; left the view, ended at (0.0001, 90.9136)" in out


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
    data = last_json(out)
    paths = {p["optimizer"]: p for p in data["paths"]}
    assert code == 0 and data["steps"] == 300 and data["tolerance"] == 0.001
    assert paths["sgd"]["diverged"] is True and paths["sgd"]["steps_to_converge"] is None
    assert paths["adam"]["lr"] == 1.1


def test_optpaths_steps_default_to_the_function_s_own(capsys):
    data = last_json(
        run_in_process(
            capsys, "optpaths", "--function", "rosenbrock", "--optimizers", "momentum", "--json"
        )[1]
    )
    assert data["steps"] == 6000 and data["tolerance"] == 0.01
    assert data["paths"][0]["lr"] == 0.0015 and data["paths"][0]["status"] == "converged"


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
