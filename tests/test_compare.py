"""Compare: planning variants, the process pool, `nnplay compare`, and the presets' comparisons."""

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

from nnplay.compare import (
    ComparisonRun,
    Variant,
    _stderr_with_a_file,
    outcome,
    parse_vary,
    plan,
    run,
    run_in_process,
    split_values,
    start_early,
    submit,
)
from nnplay.errors import ExperimentError
from nnplay.experiment import from_dict, with_overrides, with_solution
from nnplay.presets import load_preset, preset_names
from nnplay.training import Trainer
from tests.command_line import nnplay_argv

VARIANT_KEYS = {
    "overrides",
    "status",
    "epochs",
    "train_loss",
    "val_loss",
    "train_accuracy",
    "val_accuracy",
    "goal",
    "seconds",
    "weights_epoch",
    "findings",
}


def small(name="first-gt-fifth", **overrides):
    return with_overrides(
        load_preset(name), {"task.samples": 200, "training.epochs": 2, **overrides}
    )


# ---------------------------------------------------------------------------------------------
# Planning


def test_vary_values_are_typed_like_set_and_split_outside_brackets():
    assert parse_vary("training.lr=0.1,1e-2") == ("training.lr", [0.1, 0.01])
    assert parse_vary("model.hidden=[8, 8],[]") == ("model.hidden", [[8, 8], []])
    assert parse_vary('task.features=raw,["x1^2", "x2^2"]') == (
        "task.features",
        ["raw", ["x1^2", "x2^2"]],
    )
    assert parse_vary("training.nesterov=true,false")[1] == [True, False]
    assert split_values('"a,b",c') == ['"a,b"', "c"]


@pytest.mark.parametrize("text", ["training.lr", "=1,2", "training.lr=", "training.lr=1,,2"])
def test_malformed_vary_is_refused(text):
    with pytest.raises(ExperimentError, match=r"^--vary .*expected section.field=value1,value2"):
        parse_vary(text)


def test_several_varies_make_the_grid_in_order():
    variants = plan(
        small(), [("training.optimizer", ["sgd", "adam"]), ("training.lr", [0.01, 0.1])]
    )
    assert [v.overrides for v in variants] == [
        {"training.optimizer": "sgd", "training.lr": 0.01},
        {"training.optimizer": "sgd", "training.lr": 0.1},
        {"training.optimizer": "adam", "training.lr": 0.01},
        {"training.optimizer": "adam", "training.lr": 0.1},
    ]
    assert [(v.experiment.training.optimizer, v.experiment.training.lr) for v in variants] == [
        ("sgd", 0.01),
        ("sgd", 0.1),
        ("adam", 0.01),
        ("adam", 0.1),
    ]
    assert variants[1].label == "training.optimizer=sgd, training.lr=0.1"


@pytest.mark.parametrize(
    "vary,match",
    [
        ([("training.lr", [0.1, 0])], r"^training.lr: 0 is not allowed; must be a number > 0"),
        ([("training.foo", [1])], r"^training.foo: unknown field"),
        ([("meta.title", ["a"])], r"^--vary: meta.title cannot be varied"),
        ([("training.lr", [1]), ("training.lr", [2])], r"^--vary training.lr: given twice"),
        (
            [("training.nesterov", [True])],
            r"^compare: the variant training.nesterov=true does not "
            r"work: training.nesterov: true is not allowed",
        ),
        (
            [
                (f"training.{k}", [0.1, 0.2])
                for k in ("lr", "l1", "l2", "momentum", "gamma", "eps", "alpha")
            ],
            r"too many variants",
        ),
    ],
)
def test_bad_variants_are_refused_before_anything_runs(vary, match):
    with pytest.raises(ExperimentError, match=match):
        plan(small(), vary)


def test_without_vary_the_presets_own_comparison_is_planned():
    variants = plan(load_preset("momentum-vs-sgd"))
    assert [v.overrides for v in variants] == [
        {"training.optimizer": "sgd"},
        {"training.optimizer": "sgd", "training.momentum": 0.9},
        {"training.optimizer": "adagrad"},
        {"training.optimizer": "rmsprop"},
        {"training.optimizer": "adam"},
    ]
    with pytest.raises(ExperimentError, match="^compare: nothing to vary"):
        plan(load_preset("circle"))


# ---------------------------------------------------------------------------------------------
# Running


def test_pool_results_equal_the_trainer_run_in_this_process():
    variants = plan(small(), [("training.lr", [0.01, 0.1])])
    pooled = run(variants, preset="first-gt-fifth", workers=2)
    assert pooled.workers == 2 and pooled.preset == "first-gt-fifth"
    for variant, result in zip(variants, pooled.variants, strict=True):
        trainer = Trainer(variant.experiment)
        trainer.run()
        assert result.status == "finished" and result.epochs == 2
        assert result.history.train_loss == trainer.history.train_loss  # same data and seed
        assert result.history.val_accuracy == trainer.history.val_accuracy
        assert result.val_loss == trainer.history.val_loss[-1]
        assert result.goal == trainer.goal()
    assert pooled.variants[0].history.train_loss != pooled.variants[1].history.train_loss


def test_a_diverging_variant_is_reported_and_the_others_go_on():
    variants = plan(small("lr-too-high", **{"training.epochs": 5}), [("training.lr", [5.0, 0.05])])
    results = run_in_process(variants).variants
    assert [r.status for r in results] == ["diverged", "finished"]
    diverged = results[0]
    assert diverged.epochs < 5 and diverged.epochs == len(diverged.history.train_loss)
    assert "the loss became" in diverged.message  # its last good epoch is what it reports
    assert results[1].epochs == 5 and results[1].train_loss < 0.1


def test_submit_does_not_block_and_reports_each_variant_with_its_curves():
    seen, lock = [], threading.Lock()

    def on_result(result):
        with lock:
            seen.append(result.overrides["training.lr"])

    start_early()  # what an app calls at launch; harmless when the workers are up already
    handle = submit(
        plan(small(), [("training.lr", [0.01, 0.1, 0.3])]), workers=2, on_result=on_result
    )
    assert isinstance(handle, ComparisonRun)
    comparison = handle.result()
    assert handle.done() and sorted(seen) == [0.01, 0.1, 0.3]
    for result in comparison.variants:
        assert result.history.epoch == [1, 2] and len(result.history.train_loss) == 2
        assert len(result.history.step_loss) == 20  # 200 samples / batch 20, 2 epochs


def test_a_crashed_variant_becomes_an_error_result():
    variant = plan(small(), [("training.lr", [0.1])])[0]
    future = Future()
    future.set_exception(RuntimeError("worker died"))
    result = outcome(future, variant)
    assert result.status == "error" and "worker died" in result.message
    assert outcome(future, variant, cancelled=True).status == "stopped"
    assert result.to_dict()["goal"] == {
        "description": variant.experiment.goal.describe(),
        "met": False,
        "value": None,
        "epoch": None,
    }


def test_cancel_stops_the_workers_and_reports_every_variant_stopped():
    variants = plan(
        small(**{"training.epochs": 200, "task.samples": 2000}),
        [("training.lr", [0.01, 0.02, 0.03])],
    )
    handle = submit(variants, workers=2)
    handle.cancel()
    comparison = handle.result()
    assert [r.status for r in comparison.variants] == ["stopped"] * 3
    assert comparison.seconds < 60  # not the minutes 3 x 200 epochs would take


def test_cancel_before_start_stops_the_workers_as_they_start():
    handle = ComparisonRun(plan(small(**{"training.epochs": 200}), [("training.lr", [0.01, 0.02])]))
    handle.cancel()  # the app's screen closed while the comparison was being started
    comparison = handle.start().result()
    assert [r.status for r in comparison.variants] == ["stopped"] * 2


def _descendants(pid: int) -> set[int]:
    """Every process under `pid`, from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the processes in /proc")
@pytest.mark.parametrize("when", ["starting", "running"])
def test_ctrl_c_stops_nnplay_compare_without_a_traceback(when):
    """Ctrl+C reaches the whole process group: nnplay, its forkserver and the workers. Only one
    line is printed, however early it comes (the forkserver importing torch, workers starting)."""
    cli = subprocess.Popen(
        [sys.executable, "-m", "nnplay", "compare", "momentum-vs-sgd", "--epochs", "1000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group, as a terminal gives it
    )
    deadline = time.monotonic() + 120
    # "running": nnplay, the resource tracker, the forkserver and two workers
    want = 1 if when == "starting" else 4
    while len(_descendants(cli.pid)) < want and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = _descendants(cli.pid)
    os.killpg(cli.pid, signal.SIGINT)
    out, err = cli.communicate(timeout=120)
    assert cli.returncode == 130
    assert err == "nnplay: compare interrupted; the workers were stopped\n"
    time.sleep(0.5)
    assert not workers & _descendants(os.getpid()) - {cli.pid}  # every worker is gone


def test_variant_is_plain_picklable_data():
    import pickle

    variant = plan(small(), [("task.features", ["raw"])])[0]
    assert isinstance(pickle.loads(pickle.dumps(variant)), Variant)


# ---------------------------------------------------------------------------------------------
# The presets' comparisons


def test_compare_section_round_trips_and_is_validated():
    exp = load_preset("momentum-vs-sgd")
    from nnplay.experiment import dumps, loads

    assert loads(dumps(exp)).compare == exp.compare
    with pytest.raises(ExperimentError, match=r"^compare: training.lr: 0 is not allowed"):
        from_dict({"compare": {"vary": {"training.lr": [0.1, 0]}}})
    with pytest.raises(ExperimentError, match=r"^compare.variants: is not allowed together"):
        from_dict({"compare": {"vary": {"training.lr": [0.1]}, "variants": [{"training.lr": 0.2}]}})
    with pytest.raises(
        ExperimentError,
        match=r"^compare.vary: .* is not allowed; goal.epochs "
        r"cannot be varied",
    ):
        from_dict({"compare": {"vary": {"goal.epochs": [1, 2]}}})
    with pytest.raises(ExperimentError, match=r"^compare: unknown section|^compare.extra: unknown"):
        from_dict({"compare": {"extra": 1}})


@pytest.mark.parametrize(
    "name,key",
    [
        ("momentum-vs-sgd", "training.optimizer"),
        ("overfitting", "training.l2"),
        ("vanishing-gradients", "model.activation"),
        ("batch-size", "training.batch_size"),
        ("circle-features", "task.features"),
    ],
)
def test_lessons_declare_their_comparison(name, key):
    exp = load_preset(name)
    assert exp.compare.description
    assert all(len(v.overrides) >= 1 for v in plan(exp))
    assert key in plan(exp)[0].overrides


@pytest.mark.parametrize(
    "name",
    [n for n in preset_names() if load_preset(n).solution and load_preset(n).compare.overrides()],
)
def test_a_challenges_comparison_runs_it_as_shipped_and_as_solved(name):
    """So test_presets' checks (misses as shipped, meets with its solution) hold for the
    comparison's variants too: the lesson shows its point."""
    exp = load_preset(name)
    experiments = [v.experiment for v in plan(exp)]
    assert exp in experiments
    assert with_solution(exp) in experiments


@pytest.mark.slow
def test_optimizer_comparison_shows_sgd_crawl_and_adaptive_methods_arrive():
    results = {r.label: r for r in run(plan(load_preset("momentum-vs-sgd"))).variants}
    assert not results["training.optimizer=sgd"].goal.met
    for label in (
        "training.optimizer=sgd, training.momentum=0.9",
        "training.optimizer=rmsprop",
        "training.optimizer=adam",
    ):
        assert results[label].goal.met, label
    adagrad, adam = results["training.optimizer=adagrad"], results["training.optimizer=adam"]
    assert adagrad.val_loss > adam.val_loss


# ---------------------------------------------------------------------------------------------
# The command line


def test_cli_grid_as_json(nnplay_cli):
    result = nnplay_cli(
        "compare",
        "first-gt-fifth",
        "--vary",
        "training.optimizer=sgd,adam",
        "--vary",
        "training.lr=0.01,0.1",
        "--epochs",
        "1",
        "--seed",
        "3",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert set(data) == {"preset", "variants", "seconds"} and data["preset"] == "first-gt-fifth"
    assert [v["overrides"] for v in data["variants"]] == [
        {"training.optimizer": o, "training.lr": lr} for o in ("sgd", "adam") for lr in (0.01, 0.1)
    ]
    for v in data["variants"]:
        assert set(v) == VARIANT_KEYS and v["status"] == "finished" and v["epochs"] == 1
        assert set(v["goal"]) == {"description", "met", "value", "epoch"}
        assert 0 <= v["val_accuracy"] <= 1 and v["seconds"] > 0
    assert data["seconds"] >= max(v["seconds"] for v in data["variants"])
    # the same seed and data as `nnplay train`
    exp = with_overrides(
        load_preset("first-gt-fifth"),
        {
            "training.optimizer": "adam",
            "training.lr": 0.1,
            "training.epochs": 1,
            "training.seed": 3,
        },
    )
    trainer = Trainer(exp)
    trainer.run()
    assert data["variants"][3]["val_loss"] == trainer.history.val_loss[-1]


def test_cli_diverging_variant_and_table(nnplay_cli):
    result = nnplay_cli("compare", "lr-too-high", "--vary", "training.lr=5.0,0.05", "--epochs", "4")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("lr-too-high: 2 variants in ")
    header = next(line for line in lines if line.startswith("VARIANT"))
    assert header.split() == [
        "VARIANT",
        "STATUS",
        "EPOCHS",
        "TRAIN",
        "LOSS",
        "VAL",
        "LOSS",
        "TRAIN",
        "ACC",
        "VAL",
        "ACC",
        "GOAL",
        "SECONDS",
    ]
    rows = {
        line.split()[0]: line.split()
        for line in lines[lines.index(header) + 1 :]
        if line.startswith("training.lr")
    }
    assert rows["training.lr=5"][1] == "diverged" and rows["training.lr=0.05"][1] == "finished"
    assert rows["training.lr=0.05"][2] == "4"
    assert "goal: val loss <= 0.004 within 30 epochs" in lines
    assert any(line.startswith("note: training.lr=5: the loss became") for line in lines)


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--vary", "training.lr=0.1,-1"],
            "nnplay: training.lr: -1 is not allowed; must be a number",
        ),
        (
            ["--vary", "training.optimizr=sgd"],
            "nnplay: training.optimizr: unknown field; training has:",
        ),
        (
            ["--vary", "training.lr"],
            "nnplay: --vary training.lr: expected section.field=value1,value2",
        ),
        ([], "nnplay: compare: nothing to vary"),
        (
            ["--vary", "training.lr=0.1", "--epochs", "0"],
            "nnplay: training.epochs: 0 is not allowed",
        ),
    ],
)
def test_cli_bad_vary_is_one_line_before_anything_runs(nnplay_cli, args, message):
    result = nnplay_cli("compare", "circle", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr


def test_cli_ctrl_c_stops_the_workers_with_one_line():
    import signal
    import subprocess
    import time

    # 100,000 epochs each: no machine finishes before the signal, whether it lands while the
    # workers start or while they train (both must stop cleanly).
    proc = subprocess.Popen(
        nnplay_argv("compare", "overfitting", "--epochs", "100000"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(6)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert out == "" and err == "nnplay: compare interrupted; the workers were stopped\n"


def test_the_resource_tracker_gets_a_real_stderr_inside_an_app(monkeypatch):
    """Inside a Textual app (headless, or a browser tab) sys.stderr is a capture whose fileno()
    is -1: starting the tracker failed with "bad value(s) in fds_to_keep"."""

    class Captured(io.StringIO):
        def fileno(self) -> int:
            return -1

    captured = Captured()
    monkeypatch.setattr(sys, "stderr", captured)
    with _stderr_with_a_file():
        assert sys.stderr is sys.__stderr__ and sys.stderr.fileno() >= 0
    assert sys.stderr is captured


def test_a_variant_that_changes_a_choice_drops_the_settings_of_the_old_one():
    """Momentum and Nesterov belong to SGD, step_size to the step schedule: a variant that
    switches away starts them from their defaults, and its label says so."""
    base = with_overrides(
        load_preset("momentum-vs-sgd"),
        {
            "training.momentum": 0.9,
            "training.nesterov": True,
            "training.schedule": "step",
            "training.step_size": 3,
        },
    )
    variants = plan(
        base,
        [("training.optimizer", ["sgd", "rmsprop"]), ("training.schedule", ["step", "cosine"])],
    )
    by_label = {v.label: v.experiment.training for v in variants}
    assert list(by_label) == [
        "training.optimizer=sgd, training.schedule=step",
        "training.optimizer=sgd, training.schedule=cosine, training.step_size=10",
        "training.optimizer=rmsprop, training.schedule=step, training.momentum=0, "
        "training.nesterov=false",
        "training.optimizer=rmsprop, training.schedule=cosine, training.momentum=0, "
        "training.nesterov=false, training.step_size=10",
    ]
    assert by_label["training.optimizer=sgd, training.schedule=step"].momentum == 0.9
    rmsprop = variants[2].experiment.training
    assert (rmsprop.momentum, rmsprop.nesterov, rmsprop.step_size) == (0.0, False, 3)
    # a variant that sets the setting itself keeps it
    kept = plan(base, [("training.optimizer", ["rmsprop"]), ("training.momentum", [0.5])])
    assert kept[0].experiment.training.momentum == 0.5
