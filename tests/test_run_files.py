"""Run files (issue 19, item 6): a run's whole state written with `--save-run` and continued
with `nnplay train FILE.nnrun`. A file read back is the state that was written, field by field;
a continued run prints what a run that never stopped prints; a fork with a live setting is the
run that got the change at that point; every other change, and a run that ended for good, is
refused in one line. Hostile run files, generated, are each refused in one line (exit 2), fast
and with bounded memory."""

from __future__ import annotations

import json
import math
import os
import pickle
import signal
import struct

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from safetensors.torch import load, save

from nnplay.experiment import dumps, with_overrides
from nnplay.history import STEP_BUCKETS
from nnplay.presets import load_preset
from nnplay.run_files import (
    HISTORY_COUNTS,
    HISTORY_NUMBERS,
    MAX_HEADER_BYTES,
    RECORD_KEYS,
    RUN_KEY,
    STATUSES,
    VERSION,
    read_run,
    write_run,
)
from nnplay.run_state import RunState
from nnplay.training import Trainer
from tests.command_line import run_in_process
from tests.hostile import HOSTILE_SETTINGS, assert_refused, measured
from tests.test_hostile_files import HOSTILE_TOML
from tests.test_run_state import SETUPS, experiment

EXPERIMENT_KEY = "nnplay.experiment"

# ---------------------------------------------------------------------------------------------
# A file read back is the state written


def same(a, b) -> bool:
    """Equal trees of dicts, lists, tuples, tensors (bit for bit, dtype too) and numbers (NaN
    equal to NaN)."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return type(a) is type(b) and a == b


def assert_same_state(a: RunState, b: RunState) -> None:
    for name in RunState.__dataclass_fields__:
        mine, theirs = getattr(a, name), getattr(b, name)
        if name == "best":
            assert same(vars(mine), vars(theirs)), name
        elif name == "history":
            assert same(mine.to_dict(), theirs.to_dict()), name
        else:
            assert same(mine, theirs), name


@pytest.mark.parametrize("name", SETUPS)
@pytest.mark.parametrize("after_steps", [0, 16, 21])  # untrained, an epoch's end, mid-epoch
def test_a_run_file_reads_back_as_the_state_written(tmp_path, name, after_steps):
    trainer = Trainer(experiment(name))
    for _ in range(after_steps):
        trainer.step()
    state = trainer.state()
    path = write_run(tmp_path / "run.nnrun", state)
    assert_same_state(read_run(path), state)


def test_ended_runs_read_back_too(tmp_path):
    ended = Trainer(experiment("early-stopping"))
    ended.run()
    assert ended.status == "early_stopped"
    path = write_run(tmp_path / "ended.nnrun", ended.state())
    assert_same_state(read_run(path), ended.state())
    diverged = Trainer(DIVERGING)
    assert diverged.run() == "diverged"
    path = write_run(tmp_path / "diverged.nnrun", diverged.state())
    assert_same_state(read_run(path), diverged.state())


def test_reading_a_run_leaves_torchs_random_stream_alone(tmp_path):
    path = write_run(tmp_path / "run.nnrun", Trainer(experiment("adamw")).state())
    torch.manual_seed(7)
    before = torch.get_rng_state()
    read_run(path)
    assert torch.equal(torch.get_rng_state(), before)


# ---------------------------------------------------------------------------------------------
# Continued from the command line, the run that never stopped

SMALL = [
    "--set",
    "task.samples=200",
    "--set",
    "task.val_samples=50",
    "--set",
    "goal.epochs=0",
    "--set",
    "training.batch_size=20",
]
DIVERGING = with_overrides(
    load_preset("circle"),
    {
        "task.name": "quadratic",
        "training.loss": "mse",
        "goal.metric": "val_loss",
        "goal.epochs": 0,
        "task.samples": 100,
        "training.optimizer": "sgd",
        "training.lr": 10.0,
    },
)
CONTINUED = {
    "sgd-momentum": [
        "--set",
        "training.optimizer=sgd",
        "--set",
        "training.momentum=0.9",
        "--set",
        "training.lr=0.05",
    ],
    "adam": ["--set", "training.optimizer=adam", "--set", "training.lr=0.01"],
    "step-schedule": [
        "--set",
        "training.schedule=step",
        "--set",
        "training.step_size=3",
        "--set",
        "training.lr=0.05",
    ],
    "dropout-batch-norm": [
        "--set",
        "model.hidden=[{units=16, dropout=0.3, batch_norm=true}, {units=8, dropout=0.2}]",
    ],
    # early-stops at epoch 13, the weights of epoch 11 restored: the counters cross the save
    "early-stopping": [
        "--set",
        "task.noise=0.3",
        "--set",
        "model.hidden=[32]",
        "--set",
        "training.lr=0.05",
        "--set",
        "training.patience=2",
    ],
}
RUN_ONLY = ("preset", "seconds", "steps_per_second", "run_file")  # how the run went, not what


def train_json(capsys, *argv) -> dict:
    code, out, err = run_in_process(capsys, "train", *argv, "--json")
    assert code == 0 and err == "", err
    return json.loads(out.strip().splitlines()[-1])


def learned(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k not in RUN_ONLY}


@pytest.mark.parametrize("name", CONTINUED)
def test_a_continued_run_prints_what_a_run_that_never_stopped_prints(tmp_path, capsys, name):
    options = [*SMALL, *CONTINUED[name]]
    path = tmp_path / "run.nnrun"
    first = train_json(capsys, "circle", *options, "--epochs", "10", "--save-run", path)
    assert first["run_file"] == str(path) and first["epochs"] == 10
    continued = train_json(capsys, path, "--epochs", "20")
    straight = train_json(capsys, "circle", *options, "--epochs", "20")
    assert learned(continued) == learned(straight)
    assert continued["run_file"] is None and continued["preset"] == str(path)
    if name == "early-stopping":
        assert straight["status"] == "early_stopped" and straight["weights_epoch"] == 11


def test_a_long_run_continues_exactly_across_the_merging_of_step_losses(tmp_path):
    """Step losses are kept as means whose width doubles past STEP_BUCKETS steps: a run saved
    after its first merge, with a bucket half filled, continues to the record of a run that
    never stopped, and to the same final weights."""
    exp = with_overrides(
        experiment("sgd-nesterov"),
        {"task.samples": 1300, "training.batch_size": 1, "training.epochs": 4},
    )
    straight = Trainer(exp)
    straight.run()
    assert straight.steps > 2 * STEP_BUCKETS and straight.history.step_loss.width == 4
    stopped = Trainer(exp)
    for _ in range(STEP_BUCKETS + 101):
        stopped.step()
    losses = stopped.history.step_loss
    assert (losses.width, losses.tail_count, len(losses)) == (2, 1, STEP_BUCKETS + 101)
    state = read_run(write_run(tmp_path / "mid.nnrun", stopped.state()))
    again = Trainer.from_state(state)
    again.run()
    assert again.history.to_dict() == straight.history.to_dict()
    assert same(again.model.state_dict(), straight.model.state_dict())


def test_a_run_continued_in_steps_saves_and_goes_on_again(tmp_path, capsys):
    options = [*SMALL, *CONTINUED["adam"]]
    one, two = tmp_path / "one.nnrun", tmp_path / "two.nnrun"
    train_json(capsys, "circle", *options, "--epochs", "4", "--save-run", one)
    train_json(capsys, one, "--epochs", "9", "--save-run", two)
    train_json(capsys, two, "--epochs", "12", "--save-run", two)  # in place
    straight = train_json(capsys, "circle", *options, "--epochs", "15")
    assert learned(train_json(capsys, two, "--epochs", "15")) == learned(straight)


def test_without_epochs_a_run_goes_on_to_its_experiments(tmp_path, capsys):
    path = tmp_path / "run.nnrun"
    code, _, err = run_in_process(
        capsys, "train", "circle", *SMALL, "--epochs", "6", "--save-run", path
    )
    assert code == 0, err
    state = read_run(path)
    assert (state.status, state.epoch, state.experiment.training.epochs) == ("finished", 6, 6)
    again = train_json(capsys, path)
    assert again["epochs"] == 6 and again["steps"] == state.steps  # nothing more to do


def test_a_fork_with_a_new_rate_is_the_run_given_that_rate_at_that_point(tmp_path, capsys):
    options = [*SMALL, *CONTINUED["step-schedule"]]
    saved, forked = tmp_path / "saved.nnrun", tmp_path / "forked.nnrun"
    train_json(capsys, "circle", *options, "--epochs", "5", "--save-run", saved)
    fork = train_json(
        capsys, saved, "--epochs", "12", "--set", "training.lr=0.2", "--save-run", forked
    )
    exp = read_run(saved).experiment
    reference = Trainer(with_overrides(exp, {"training.epochs": 12}))
    reference.run(5)
    reference.set_lr(0.2)
    reference.run()
    state = read_run(forked)
    assert state.history.to_dict() == reference.history.to_dict()
    assert same(state.model, reference.model.state_dict())
    assert state.experiment.training.lr == 0.2 and fork["epochs"] == 12
    assert state.history.lr[3:7] == [0.025, 0.025, 0.2, 0.1]  # the schedule goes on from it


def test_a_fork_with_l1_and_l2_and_a_new_goal(tmp_path, capsys):
    options = [*SMALL, *CONTINUED["adam"]]
    saved = tmp_path / "saved.nnrun"
    train_json(capsys, "circle", *options, "--epochs", "3", "--save-run", saved)
    changes = ["--set", "training.l1=0.001", "--set", "training.l2=0.01"]
    goal = ["--set", "goal.epochs=6", "--set", "goal.threshold=0.5"]
    fork = train_json(capsys, saved, "--epochs", "6", *changes, *goal)
    reference = Trainer(with_overrides(read_run(saved).experiment, {"training.epochs": 6}))
    reference.run(3)
    reference.set_l1(0.001)
    reference.set_l2(0.01)
    reference.run()
    assert fork["train_loss"] == reference.history.train_loss[-1]
    assert fork["goal"]["met"] is True


@pytest.mark.parametrize(
    "change",
    [
        "model.hidden=[4]",
        "model.activation=relu",
        "task.samples=300",
        "task.noise=0.5",
        "training.optimizer=sgd",
        "training.batch_size=10",
        "training.schedule=exponential",
        "training.patience=3",
        "training.seed=5",
    ],
)
def test_a_change_a_run_cannot_go_on_with_is_refused(tmp_path, capsys, change):
    path = tmp_path / "run.nnrun"
    train_json(capsys, "circle", *SMALL, "--epochs", "2", "--save-run", path)
    code, out, err = run_in_process(capsys, "train", path, "--epochs", "4", "--set", change)
    assert_refused(code, err, change.partition("=")[0], "cannot continue a run with that change")
    assert out == ""


def test_runs_that_ended_for_good_cannot_continue(tmp_path, capsys):
    stopped_early = tmp_path / "early.nnrun"
    options = [*SMALL, *CONTINUED["early-stopping"]]
    train_json(capsys, "circle", *options, "--epochs", "20", "--save-run", stopped_early)
    code, _, err = run_in_process(capsys, "train", stopped_early, "--epochs", "40")
    assert_refused(code, err, "early-stopped after 13 epochs", "of epoch 11", "cannot continue")
    diverged = tmp_path / "diverged.nnrun"
    code, _, err = run_in_process(
        capsys, "train", "circle", *diverging_options(), "--save-run", diverged
    )
    assert code == 3 and diverged.is_file(), err  # a diverged run is saved too
    code, _, err = run_in_process(capsys, "train", diverged)
    assert_refused(code, err, "diverged after", "cannot continue")


def diverging_options() -> list[str]:
    return [
        "--set",
        "task.name=quadratic",
        "--set",
        "training.loss=mse",
        "--set",
        "goal.metric=val_loss",
        "--set",
        "goal.epochs=0",
        "--set",
        "task.samples=100",
        "--set",
        "training.optimizer=sgd",
        "--set",
        "training.lr=10",
        "--epochs",
        "5",
    ]


def test_save_run_needs_a_run_files_name_and_a_place_to_write(tmp_path, capsys):
    code, _, err = run_in_process(
        capsys, "train", "circle", *SMALL, "--save-run", tmp_path / "r.pt"
    )
    assert_refused(code, err, "a run file's name ends in .nnrun")
    code, _, err = run_in_process(capsys, "train", "circle", *SMALL, "--save-run", tmp_path)
    assert_refused(code, err, "--save-run")
    (tmp_path / "folder.nnrun").mkdir()
    code, _, err = run_in_process(
        capsys, "train", "circle", *SMALL, "--save-run", tmp_path / "folder.nnrun"
    )
    assert_refused(code, err, "cannot write it (it is a folder)")


def test_ctrl_c_saves_a_run_that_continues_exactly(tmp_path, capsys, monkeypatch):
    """Ctrl+C lands inside a step, mid-epoch: the run stops after that step, and its file
    goes on as the run that never stopped."""
    import nnplay.training

    real = nnplay.training.Trainer._train_batch

    def train_batch(trainer, xb, yb):
        if trainer.steps == 37:
            os.kill(os.getpid(), signal.SIGINT)  # lands inside the step
        return real(trainer, xb, yb)

    options = [*SMALL, *CONTINUED["dropout-batch-norm"], "--epochs", "8"]
    path = tmp_path / "run.nnrun"
    monkeypatch.setattr(nnplay.training.Trainer, "_train_batch", train_batch)
    code, out, err = run_in_process(capsys, "train", "circle", *options, "--save-run", path)
    monkeypatch.undo()
    assert code == 130 and "stopped after 3 epochs" in out, (out, err)
    state = read_run(path)
    assert (state.status, state.steps, state.batch) == ("stopped", 38, 8)
    assert learned(train_json(capsys, path)) == learned(train_json(capsys, "circle", *options))


# ---------------------------------------------------------------------------------------------
# Hostile run files: each refused in one line, exit 2


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> bytes:
    """A run stopped mid-epoch with dropout, batch norm, Adam and a step schedule: every part
    a run file has."""
    exp = with_overrides(
        experiment("dropout-batch-norm"),
        {"training.schedule": "step", "training.optimizer": "adam", "training.epochs": 6},
    )
    trainer = Trainer(exp)
    trainer.run(3)
    trainer.step()
    path = write_run(tmp_path_factory.mktemp("good") / "good.nnrun", trainer.state())
    return path.read_bytes()


def split(data: bytes) -> tuple[dict, bytes]:
    """(the safetensors header, the tensors' bytes)."""
    length = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8 : 8 + length]), data[8 + length :]


def joined(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


def parts(data: bytes) -> tuple[dict, dict, str]:
    """(tensors, run record, experiment TOML)."""
    header, _body = split(data)
    meta = header["__metadata__"]
    return load(data), json.loads(meta[RUN_KEY]), meta[EXPERIMENT_KEY]


def rebuilt(tensors: dict, record: dict, experiment_text: str) -> bytes:
    metadata = {RUN_KEY: json.dumps(record), EXPERIMENT_KEY: experiment_text}
    return save(tensors, metadata=metadata)


def refused(tmp_path, capsys, data: bytes, *words: str) -> str:
    path = tmp_path / "hostile.nnrun"
    path.write_bytes(data)
    code, out, err = run_in_process(capsys, "train", path, "--json")
    assert_refused(code, err, *words)
    assert out == "" and str(path) in err, err
    return err


def test_the_good_file_continues(tmp_path, capsys, good):
    path = tmp_path / "good.nnrun"
    path.write_bytes(good)
    assert train_json(capsys, path)["epochs"] == 6


@HOSTILE_SETTINGS
@given(cut=st.floats(0.0, 0.9999))
def test_a_cut_file_is_refused(tmp_path, capsys, good, cut):
    refused(tmp_path, capsys, good[: int(len(good) * cut)], "not a run file")


@HOSTILE_SETTINGS
@given(length=st.integers(MAX_HEADER_BYTES + 1, 2**64 - 1))
def test_a_huge_declared_header_is_refused(tmp_path, capsys, good, length):
    refused(tmp_path, capsys, struct.pack("<Q", length) + good[8:], "its header would have")


@HOSTILE_SETTINGS
@given(
    name=st.sampled_from(
        ["model/hidden1.weight", "optimizer/state/0/exp_avg", "history/step_loss"]
    ),
    dims=st.lists(st.integers(1, 2**40), min_size=1, max_size=4),
)
def test_a_header_claiming_huge_tensors_is_refused(tmp_path, capsys, good, name, dims):
    header, body = split(good)
    header[name]["shape"] = dims
    start = header[name]["data_offsets"][0]
    header[name]["data_offsets"] = [start, start + 4 * math.prod(dims)]
    refused(tmp_path, capsys, joined(header, body), "not a run file")


def other_dtype(tensor: torch.Tensor, dtype) -> torch.Tensor:
    return tensor.to(dtype) if tensor.dtype != dtype else tensor.to(torch.float16)


@HOSTILE_SETTINGS
@given(data=st.data())
def test_a_tensor_of_another_shape_or_dtype_is_refused(tmp_path, capsys, good, data):
    tensors, record, text = parts(good)
    name = data.draw(st.sampled_from(sorted(tensors)))
    if data.draw(st.booleans()):
        dtype = data.draw(st.sampled_from([torch.float64, torch.float16, torch.int32, torch.uint8]))
        tensors[name] = other_dtype(tensors[name], dtype)
        words = f"{name} is "
    else:
        shape = list(tensors[name].shape) or [1]
        shape[data.draw(st.integers(0, len(shape) - 1))] += data.draw(st.integers(1, 3))
        tensors[name] = torch.zeros(shape, dtype=tensors[name].dtype)
        words = name
    refused(tmp_path, capsys, rebuilt(tensors, record, text), words)


@HOSTILE_SETTINGS
@given(data=st.data())
def test_a_missing_or_extra_tensor_is_refused(tmp_path, capsys, good, data):
    tensors, record, text = parts(good)
    name = data.draw(st.sampled_from(sorted(tensors)))
    if data.draw(st.booleans()):
        del tensors[name]
    else:
        tensors[name + data.draw(st.sampled_from(["x", "/0", ".weight"]))] = torch.zeros(1)
    refused(tmp_path, capsys, rebuilt(tensors, record, text), "not a run file")


WHOLE_NUMBERS = ("epoch", "batch", "steps", "weights_epoch", "bad_epochs")
never_a_count = st.one_of(
    st.integers(max_value=-1),
    st.integers(min_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
never_a_number = st.one_of(
    st.sampled_from([math.nan, "1", None, [], {}, True]), st.text(max_size=5)
)


@HOSTILE_SETTINGS
@given(name=st.sampled_from(WHOLE_NUMBERS), value=never_a_count)
def test_a_counter_no_run_has_is_refused(tmp_path, capsys, good, name, value):
    tensors, record, text = parts(good)
    record[name] = value
    refused(tmp_path, capsys, rebuilt(tensors, record, text), f"{name} is")


@HOSTILE_SETTINGS
@given(name=st.sampled_from(["seconds", "l1", "l2", "stop_reference"]), value=never_a_number)
def test_a_number_no_run_has_is_refused(tmp_path, capsys, good, name, value):
    tensors, record, text = parts(good)
    record[name] = value
    refused(tmp_path, capsys, rebuilt(tensors, record, text), f"{name} is")


OUT_OF_RANGE = {
    "seconds": [-1.0, -1e-9, math.inf, -math.inf],
    "l1": [-1.0, -1e-9, 10.5, math.inf, 1e300],
    "l2": [-1.0, 11, math.inf, -math.inf],
}


@HOSTILE_SETTINGS
@given(data=st.data())
def test_a_number_out_of_range_is_refused(tmp_path, capsys, good, data):
    tensors, record, text = parts(good)
    name = data.draw(st.sampled_from(sorted(OUT_OF_RANGE)))
    record[name] = data.draw(st.sampled_from(OUT_OF_RANGE[name]))
    refused(tmp_path, capsys, rebuilt(tensors, record, text), f"{name} is")


@HOSTILE_SETTINGS
@given(steps=st.integers(0, 500).filter(lambda n: n != 25))
def test_counters_that_do_not_add_up_are_refused(tmp_path, capsys, good, steps):
    tensors, record, text = parts(good)
    assert (record["epoch"], record["batch"], record["steps"]) == (3, 1, 25)
    record["steps"] = steps
    refused(tmp_path, capsys, rebuilt(tensors, record, text), "steps is")


@HOSTILE_SETTINGS
@given(status=st.text(max_size=20).filter(lambda s: s not in STATUSES))
def test_an_unknown_status_is_refused(tmp_path, capsys, good, status):
    tensors, record, text = parts(good)
    record["status"] = status
    refused(tmp_path, capsys, rebuilt(tensors, record, text), "status is")


@HOSTILE_SETTINGS
@given(
    tag=st.text(max_size=20).filter(lambda s: s != "nnplay run"),
    version=st.one_of(st.integers().filter(lambda v: v != VERSION), st.text(max_size=3), st.none()),
    which=st.sampled_from(["format", "version", "both"]),
)
def test_another_format_or_version_is_refused(tmp_path, capsys, good, tag, version, which):
    tensors, record, text = parts(good)
    if which != "version":
        record["format"] = tag
    if which != "format":
        record["version"] = version
    words = "not tagged" if which != "version" else "a run file of version"
    refused(tmp_path, capsys, rebuilt(tensors, record, text), words)


@HOSTILE_SETTINGS
@given(key=st.sampled_from(RECORD_KEYS), extra=st.text(min_size=1, max_size=10))
def test_a_record_with_a_field_missing_or_unknown_is_refused(tmp_path, capsys, good, key, extra):
    tensors, record, text = parts(good)
    if key in ("format", "version"):
        return  # the format's own checks (above)
    del record[key]
    refused(tmp_path, capsys, rebuilt(tensors, record, text), f"has no {key}")
    record[key + extra] = 0
    record[key] = parts(good)[1][key]
    refused(tmp_path, capsys, rebuilt(tensors, record, text), "unknown field")


HISTORY = (*HISTORY_COUNTS, *HISTORY_NUMBERS, "grad_norms", "step_loss")


@HOSTILE_SETTINGS
@given(name=st.sampled_from(HISTORY), change=st.integers(-3, 3).filter(bool))
def test_history_lists_of_the_wrong_length_are_refused(tmp_path, capsys, good, name, change):
    tensors, record, text = parts(good)
    values = tensors[f"history/{name}"]
    length = max(values.shape[0] + change, 0)
    shape = (length, *values.shape[1:])
    tensors[f"history/{name}"] = torch.zeros(shape, dtype=values.dtype)
    refused(tmp_path, capsys, rebuilt(tensors, record, text), f"history/{name}")


BAD_STEP_LOSSES = {
    "width": [0, 3, 6, -2, 2**41, 1.5, "2", None],  # a power of two from 1 to 2**40
    "tail_count": [-1, 1, 2, 1.0, None],  # the good file's width is 1: its tail is empty
    "tail_sum": [math.nan, math.inf, "0", None],
    "last": [math.nan, -math.inf, "1", None],  # None: as if no step had been taken
}


@HOSTILE_SETTINGS
@given(data=st.data())
def test_step_losses_that_do_not_account_for_the_steps_are_refused(tmp_path, capsys, good, data):
    tensors, record, text = parts(good)
    assert record["step_loss"]["width"] == 1 and record["step_loss"]["tail_count"] == 0
    name = data.draw(st.sampled_from(sorted(BAD_STEP_LOSSES)))
    record["step_loss"][name] = data.draw(st.sampled_from(BAD_STEP_LOSSES[name]))
    words = "step losses" if name == "last" and record["step_loss"][name] is None else name
    refused(tmp_path, capsys, rebuilt(tensors, record, text), words)


def test_step_losses_of_another_width_must_hold_their_means(tmp_path, capsys, good):
    """Width 2 with one step in the bucket being filled accounts for the 25 steps only with 12
    means; the file's 25 are refused."""
    tensors, record, text = parts(good)
    record["step_loss"].update(width=2, tail_count=1)
    refused(tmp_path, capsys, rebuilt(tensors, record, text), "history/step_loss", "(12,)")
    tensors["history/step_loss"] = tensors["history/step_loss"][:12].clone()
    path = tmp_path / "regrouped.nnrun"
    path.write_bytes(rebuilt(tensors, record, text))
    assert len(read_run(path).history.step_loss) == 25


BAD_HISTORY = {
    "epoch": [0, 7, -1],  # never one of 1, 2, 3
    "step": [0, 5, -8],
    "train_loss": [math.nan, math.inf],
    "step_loss": [math.nan, -math.inf],
    "lr": [-0.1, 101.0, math.nan],
    "l1_penalty": [-1.0, math.inf],
    "train_accuracy": [1.5, -0.5],
    "val_accuracy": [2.0, -math.inf],
    "grad_norms": [-1.0, -math.inf],
}


@HOSTILE_SETTINGS
@given(data=st.data())
def test_history_values_no_run_records_are_refused(tmp_path, capsys, good, data):
    tensors, record, text = parts(good)
    name = data.draw(st.sampled_from(sorted(BAD_HISTORY)))
    values = tensors[f"history/{name}"].clone()
    flat = values.view(-1)
    flat[data.draw(st.integers(0, flat.numel() - 1))] = data.draw(
        st.sampled_from(BAD_HISTORY[name])
    )
    tensors[f"history/{name}"] = values
    refused(tmp_path, capsys, rebuilt(tensors, record, text), "its history's")


@HOSTILE_SETTINGS
@given(
    name=st.sampled_from(
        ["model/hidden1.weight", "best/model/output.bias", "model/bn1.running_var"]
    ),
    value=st.sampled_from([math.nan, math.inf, -math.inf]),
)
def test_weights_that_are_not_finite_are_refused(tmp_path, capsys, good, name, value):
    tensors, record, text = parts(good)
    tensors[name] = tensors[name].clone()
    tensors[name].view(-1)[0] = value
    refused(tmp_path, capsys, rebuilt(tensors, record, text), "NaN or infinity", name)


@HOSTILE_SETTINGS
@given(name=st.sampled_from(["rng/shuffle", "rng/dropout"]), fill=st.integers(0, 255))
def test_a_random_state_torch_did_not_make_is_refused(tmp_path, capsys, good, name, fill):
    tensors, record, text = parts(good)
    tensors[name] = torch.full_like(tensors[name], fill)
    refused(tmp_path, capsys, rebuilt(tensors, record, text), "not a random state", name)


OPTIMIZER_CHANGES = {
    "a choice flipped": lambda o: o["param_groups"][0].update(fused=False),
    "amsgrad asked for": lambda o: o["param_groups"][0].update(amsgrad=True),
    "a key added": lambda o: o["param_groups"][0].update(extra=1),
    "a key removed": lambda o: o["param_groups"][0].pop("betas"),
    "a NaN rate": lambda o: o["param_groups"][0].update(lr=math.nan),
    "a huge rate": lambda o: o["param_groups"][0].update(lr=1e9),
    "a negative rate": lambda o: o["param_groups"][0].update(lr=-0.1),
    "a rate as text": lambda o: o["param_groups"][0].update(lr="0.1"),
    "betas of three": lambda o: o["param_groups"][0].update(betas=[0.9, 0.99, 0.1]),
    "parameters reordered": lambda o: o["param_groups"][0]["params"].reverse(),
    "a second group": lambda o: o["param_groups"].append(o["param_groups"][0]),
    "a state key renamed": lambda o: o["state"]["0"].update(other=o["state"]["0"].pop("exp_avg")),
    "a tensor named elsewhere": lambda o: o["state"]["0"].update(exp_avg="model/output.bias"),
    "a state as a list": lambda o: o.update(state=[]),
}


@HOSTILE_SETTINGS
@given(
    change=st.sampled_from(sorted(OPTIMIZER_CHANGES)),
    where=st.sampled_from(["optimizer", "best"]),
)
def test_an_optimizer_state_its_experiment_does_not_make_is_refused(
    tmp_path, capsys, good, change, where
):
    tensors, record, text = parts(good)
    OPTIMIZER_CHANGES[change](
        record["optimizer"] if where == "optimizer" else record["best"]["optimizer"]
    )
    refused(tmp_path, capsys, rebuilt(tensors, record, text), "not a run file")


@HOSTILE_SETTINGS
@given(
    change=st.sampled_from(
        [
            ("last_epoch", -1),
            ("T_max", 0),
            ("step_size", 0),
            ("gamma", math.nan),
            ("base_lrs", [0.1, 0.2]),
            ("base_lrs", 0.1),
            ("extra", 1),
        ]
    )
)
def test_a_schedule_its_experiment_does_not_make_is_refused(tmp_path, capsys, good, change):
    tensors, record, text = parts(good)
    key, value = change
    record["scheduler"][key] = value
    refused(tmp_path, capsys, rebuilt(tensors, record, text), "not a run file")


@HOSTILE_SETTINGS
@given(
    message=st.text(alphabet=st.sampled_from("\x1b\n\r\x00\x07\u202eab"), min_size=1).filter(
        lambda m: not m.isprintable()
    )
)
def test_a_message_that_is_not_one_line_of_text_is_refused(tmp_path, capsys, good, message):
    tensors, record, text = parts(good)
    record["message"] = message
    err = refused(tmp_path, capsys, rebuilt(tensors, record, text), "its message")
    assert "\x1b" not in err


def test_a_long_message_is_refused(tmp_path, capsys, good):
    tensors, record, text = parts(good)
    record["message"] = "a" * 5000
    refused(tmp_path, capsys, rebuilt(tensors, record, text), "its message")


OTHER_EXPERIMENTS = {
    "another network": ({"model.hidden": [16]}, "a run of its experiment does not have"),
    "wider layers": ({"model.hidden": [{"units": 9, "dropout": 0.3, "batch_norm": True}, 6]}, ""),
    "another optimizer": ({"training.optimizer": "rmsprop"}, "optimizer/state/0/"),
    "another schedule": ({"training.schedule": "cosine"}, "scheduler"),
    "no dropout": ({"model.hidden": [{"units": 8, "batch_norm": True}, 6]}, "rng/dropout"),
    "more samples an epoch": ({"task.samples": 400}, "steps is"),
}


@pytest.mark.parametrize("name", OTHER_EXPERIMENTS)
def test_an_experiment_that_is_not_the_runs_is_refused(tmp_path, capsys, good, name):
    tensors, record, text = parts(good)
    from nnplay.experiment import loads

    overrides, words = OTHER_EXPERIMENTS[name]
    other = dumps(with_overrides(loads(text), overrides))
    refused(tmp_path, capsys, rebuilt(tensors, record, other), words)


@pytest.mark.parametrize("name", HOSTILE_TOML)
def test_an_experiment_that_is_not_valid_is_refused(tmp_path, capsys, good, name):
    tensors, record, _ = parts(good)
    refused(tmp_path, capsys, rebuilt(tensors, record, HOSTILE_TOML[name]))


def test_hostile_run_records_are_refused(tmp_path, capsys, good):
    tensors, _, text = parts(good)
    deep = "[" * 5000 + "]" * 5000
    for record_text, words in [
        (deep, "nested too deeply"),
        ("{", "not valid JSON"),
        ('{"format": ' + "9" * 5000 + "}", "not valid JSON"),
        ('{"format": ' + "9" * 400 + "}", "not tagged"),
        ("[]", "not tagged"),
        (" " * 300_000, "too large"),
    ]:
        metadata = {RUN_KEY: record_text, EXPERIMENT_KEY: text}
        refused(tmp_path, capsys, save(tensors, metadata=metadata), "its run record", words)


def test_files_that_are_not_run_files_are_refused(tmp_path, capsys, good):
    tensors, record, text = parts(good)
    cases = {
        "an empty file": (b"", "0 bytes"),
        "a pickle": (pickle.dumps({k: v.tolist() for k, v in tensors.items()}), "header"),
        "random bytes": (os.urandom(4096), "header"),
        "an exported safetensors": (
            save(tensors, metadata={EXPERIMENT_KEY: text}),
            "no run record",
        ),
        "no metadata": (save(tensors), "no run record"),
        "more metadata": (
            save(tensors, metadata={RUN_KEY: json.dumps(record), EXPERIMENT_KEY: text, "x": ""}),
            "metadata",
        ),
        "a header that is a list": (joined([], b""), "header"),  # type: ignore[arg-type]
        "bytes after the tensors": (good + b"\0" * 64, "not a run file"),
    }
    for name, (data, words) in cases.items():
        assert refused(tmp_path, capsys, data, words), name
    code, _, err = run_in_process(capsys, "train", tmp_path / "none.nnrun")
    assert_refused(code, err, "no such file")
    (tmp_path / "folder.nnrun").mkdir()
    code, _, err = run_in_process(capsys, "train", tmp_path / "folder.nnrun")
    assert_refused(code, err, "it is a folder, not a file")


def test_the_worst_files_are_refused_fast_and_in_little_memory(tmp_path, good):
    """A header declaring 2^64 bytes, tensors of 2^40 elements, counters of a run of 100,000
    epochs, a different network of 32 wide layers: all refused, the memory peak that of
    importing torch."""
    header, body = split(good)
    huge_tensor = json.loads(json.dumps(header))
    huge_tensor["history/step_loss"].update(shape=[2**40], data_offsets=[0, 2**43])
    long_run = json.loads(json.dumps(header))
    record = json.loads(long_run["__metadata__"][RUN_KEY])
    record.update(epoch=100_000, steps=100_000 * 8)
    long_run["__metadata__"][RUN_KEY] = json.dumps(record)
    wide = json.loads(json.dumps(header))
    from nnplay.experiment import loads

    wide_exp = with_overrides(
        loads(header["__metadata__"][EXPERIMENT_KEY]), {"model.hidden": [4096] * 32}
    )
    wide["__metadata__"][EXPERIMENT_KEY] = dumps(wide_exp)
    files = {
        "header": struct.pack("<Q", 2**64 - 1) + good[8:],
        "tensor": joined(huge_tensor, body),
        "long": joined(long_run, body),
        "wide": joined(wide, body),
    }
    paths = []
    for name, data in files.items():
        path = tmp_path / f"{name}.nnrun"
        path.write_bytes(data)
        paths.append(path)
    result, codes, peak = measured(tmp_path, [["train", p, "--json"] for p in paths], timeout=60)
    assert codes == [2] * len(paths), result.stderr
    assert result.stderr.count("\n") == len(paths) and "Traceback" not in result.stderr
    print(f"peak memory refusing the worst run files: {peak / 2**20:.0f} MB")
    assert peak < 400 * 10**6
