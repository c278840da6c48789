"""Faults: export targets that cannot be written, crashes at every write point, Ctrl+C and
SIGTERM at any moment, no terminal, and scripts that must not run text as code. Nothing the
user made is lost, nothing is left half-written, every refusal is one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nnplay import cli, files
from nnplay.experiment import csv_experiment, with_overrides
from nnplay.export import export, load_predictor
from nnplay.presets import load_preset, presets_dir
from nnplay.training import Trainer
from tests.command_line import nnplay_argv, run_in_process
from tests.hostile import FAST, assert_refused

X = np.array([[0.1, 0.2, 0.3, 0.4, 0.5]])


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp"))


# ---------------------------------------------------------------------------------------------
# Export targets, checked before training


def target_cases(tmp_path: Path):
    (tmp_path / "a-folder.pt").mkdir()
    (tmp_path / "a-file").write_text("x")
    return {
        "an existing folder": (tmp_path / "a-folder.pt", "it is a folder"),
        "a parent that is a file": (tmp_path / "a-file" / "w.pt", "is a file, not a folder"),
        "a 300-character name": (tmp_path / ("w" * 300 + ".pt"), "longer than 255 bytes"),
        "/proc": (Path("/proc/nnplay-test/w.pt"), "cannot write it"),
        "an unknown suffix": (tmp_path / "w.txt", "unknown export format"),
    }


def test_unwritable_targets_are_refused_before_training(tmp_path, capsys):
    for name, (target, words) in target_cases(tmp_path).items():
        started = time.perf_counter()
        code, out, err = run_in_process(
            capsys, "train", "first-gt-fifth", "--export", tmp_path / "ok.npz", "--export", target
        )
        assert_refused(code, err, words)
        assert out == "" and not (tmp_path / "ok.npz").exists(), name
        assert time.perf_counter() - started < 5  # refused up front, not after training


def test_conflicting_targets_are_refused(tmp_path, capsys):
    code, _, err = run_in_process(
        capsys,
        "train",
        "first-gt-fifth",
        "--export",
        tmp_path / "w.py",
        "--export",
        tmp_path / "w.data.npz",
    )
    assert_refused(code, err, "which --export")
    code, _, err = run_in_process(
        capsys,
        "train",
        "first-gt-fifth",
        "--export",
        tmp_path / "w.pt",
        "--export",
        tmp_path / "." / "w.pt",
    )
    assert_refused(code, err, "which --export")


def test_the_file_a_run_was_read_from_is_never_overwritten(tmp_path, capsys):
    mine = tmp_path / "my.toml"
    text = "# my own notes\n" + (load_preset("first-gt-fifth") and "[training]\nepochs = 1\n")
    mine.write_text(text)
    code, _, err = run_in_process(capsys, "train", mine, "--export", tmp_path / "my.pt")
    assert_refused(code, err, "which this run was read from")
    assert mine.read_text() == text and not (tmp_path / "my.pt").exists()


def test_tilde_is_the_home_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    code, out, err = run_in_process(
        capsys, "train", "first-gt-fifth", *FAST, "--export", "~/w.pt", "--export", "~/sub/w.py"
    )
    assert code == 0, err
    assert {"w.pt", "w.toml"} <= {p.name for p in tmp_path.iterdir()}
    assert (tmp_path / "sub" / "w.py").is_file() and not (tmp_path / "~").exists()
    code, _, err = run_in_process(capsys, "predict", "~/w.pt", "--input", "1,2,3,4,5")
    assert code == 0, err


def test_a_write_error_is_one_line_and_the_other_exports_are_still_written(
    tmp_path, capsys, monkeypatch
):
    real = files.os.replace

    def disk_full(src, dst):
        if str(dst).endswith(".onnx"):
            raise OSError(28, "No space left on device", str(dst))
        return real(src, dst)

    monkeypatch.setattr(files.os, "replace", disk_full)
    code, out, err = run_in_process(
        capsys,
        "train",
        "first-gt-fifth",
        *FAST,
        "--export",
        tmp_path / "w.onnx",
        "--export",
        tmp_path / "w.npz",
    )
    assert_refused(code, err, "w.onnx: cannot write it (No space left on device)")
    assert (tmp_path / "w.npz").is_file() and not (tmp_path / "w.onnx").exists()
    assert "exported" in out and leftovers(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# A crash at every write point: the earlier good export still works


@pytest.fixture(scope="module")
def two_runs():
    """Two different trained models of the same task (an old export and a new one)."""
    exp = with_overrides(
        load_preset("first-gt-fifth"),
        {"task.samples": 40, "model.hidden": [3], "training.epochs": 1},
    )
    old, new = Trainer(exp), Trainer(with_overrides(exp, {"training.seed": 1, "task.samples": 60}))
    old.run(), new.run()
    return old, new


IRIS = presets_dir() / "data" / "iris.csv"


class Crash(Exception):
    pass


def crash_at(monkeypatch, k: int):
    """The k-th write step (a write, an fsync or a rename) raises, as a killed process stops."""
    calls = {"n": 0}

    def step(real):
        def wrapped(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == k:
                raise Crash(f"step {k}")
            return real(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(files.os, "replace", step(os.replace))
    monkeypatch.setattr(files.os, "fsync", step(os.fsync))
    return calls


@pytest.mark.parametrize("suffix", [".pt", ".safetensors", ".onnx", ".npz"])
def test_a_crash_at_any_write_point_keeps_a_working_export(tmp_path, monkeypatch, two_runs, suffix):
    old, new = two_runs
    path = tmp_path / f"w{suffix}"
    export(old.model, old.exp, path)
    before = load_predictor(path).outputs(X)
    after = new.predict(X)
    for k in range(1, 5):
        with monkeypatch.context() as m:
            crash_at(m, k)
            try:
                export(new.model, new.exp, path)
                finished = True
            except Crash:
                finished = False
        got = load_predictor(path).outputs(X)
        assert np.allclose(got, after if finished else before, atol=1e-6) or np.allclose(
            got, after, atol=1e-6
        ), (k, got, before, after)
        assert leftovers(tmp_path) == []
        export(old.model, old.exp, path)  # back to the old export for the next crash point


def test_a_crash_between_a_script_and_its_data_never_trains_on_other_data(tmp_path, monkeypatch):
    # A CSV task's script reads its arrays beside it (a synthetic task's makes them itself):
    # two runs that hold out different rows write different data.
    exp = with_overrides(csv_experiment(IRIS, "species"), {"training.epochs": 1})
    old, new = Trainer(exp), Trainer(with_overrides(exp, {"task.seed": 1}))
    path = tmp_path / "run.py"
    export(old.model, old.exp, path)
    with monkeypatch.context() as m:
        crash_at(m, 4)  # data written (fsync, rename), script fsynced: its rename fails
        with pytest.raises(Crash):
            export(new.model, new.exp, path)
    assert leftovers(tmp_path) == []
    import runpy

    with pytest.raises(SystemExit) as info:  # it stops before reading the data
        runpy.run_path(str(path), run_name="__main__")
    assert "is not the data this script was written with" in str(info.value.code)


# ---------------------------------------------------------------------------------------------
# Ctrl+C and SIGTERM at any moment


CHILD = """
import sys, time
from pathlib import Path
import nnplay.cli, nnplay.export, nnplay.training

marker, where, delay = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
module, name = (nnplay.training.Trainer, "run") if where == "training" else (nnplay.export, "export")
real = getattr(module, name)

def started(*args, **kwargs):  # tells the test the moment has come, then carries on
    if not marker.exists():
        marker.touch()
        time.sleep(delay)
    return real(*args, **kwargs)

setattr(module, name, started)
sys.exit(nnplay.cli.main(sys.argv[4:]))
"""


def signal_at(tmp_path, where: str, signum, *argv, delay: float = 0.0):
    """Run the CLI, send `signum` once it reaches `where` (training or the first export)."""
    marker = tmp_path / "reached"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(marker), where, "0.3", *map(str, argv)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(delay)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_training_ends_with_a_summary(tmp_path, capsys, monkeypatch, signum, code):
    """A real signal to this process at the end of epoch 2 (the CLI's own handlers)."""
    import nnplay.training

    real = nnplay.training.Trainer._end_epoch

    def end_epoch(trainer):
        real(trainer)
        if trainer.epoch == 2:
            os.kill(os.getpid(), signum)

    monkeypatch.setattr(nnplay.training.Trainer, "_end_epoch", end_epoch)
    before = signal.getsignal(signal.SIGINT)  # ignored when pytest runs as a background job
    good = tmp_path / "w.npz"
    returncode, out, err = run_in_process(
        capsys,
        "train",
        "first-gt-fifth",
        "--set",
        "task.samples=40",
        "--set",
        "training.epochs=1000",
        "--export",
        good,
    )
    assert returncode == code and err == "", err
    assert "stopped after 2 epochs" in out and leftovers(tmp_path) == []
    assert good.is_file() == (signum == signal.SIGINT)  # Ctrl+C keeps what was learned
    assert signal.getsignal(signal.SIGINT) is before  # handlers restored


@pytest.mark.parametrize("signum, delay", [(signal.SIGTERM, 0.0), (signal.SIGINT, 0.4)])
def test_a_signal_at_any_moment_of_an_export_leaves_whole_files(tmp_path, signum, delay):
    """A slow export (a wide network, four formats) interrupted at several moments."""
    good = tmp_path / "w.onnx"
    good.write_bytes(b"an earlier file")
    targets = [tmp_path / f"w{s}" for s in (".pt", ".onnx", ".safetensors", ".npz")]
    code, out, err = signal_at(
        tmp_path,
        "export",
        signum,
        "train",
        "first-gt-fifth",
        "--set",
        "task.samples=20",
        "--set",
        "training.epochs=1",
        "--set",
        "model.hidden=[512, 512]",
        "--set",
        "goal.epochs=0",
        *[a for t in targets for a in ("--export", t)],
        delay=delay,
    )
    if code == -signum:  # it came after the run was over, while Python was shutting down
        assert out.count("exported  ") == len(targets) + 1, out
    else:
        assert code in (0, 128 + signum), err
    assert "Traceback" not in err and err == "", err
    assert "finished after 1 epochs" in out and leftovers(tmp_path) == []
    for target in targets:
        if f"exported  {target}" in out:
            load_predictor(target)  # whole, never half-written
        elif target == good:
            assert good.read_bytes() == b"an earlier file"  # untouched
        else:
            assert not target.exists()


# ---------------------------------------------------------------------------------------------
# No terminal


def test_without_a_terminal_the_app_says_so_and_exits(tmp_path):
    with open(os.devnull) as stdin:
        result = subprocess.run(
            nnplay_argv(),
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "nnplay train" in result.stderr


# ---------------------------------------------------------------------------------------------
# Nothing from an experiment or a path becomes code


HOSTILE_TEXTS = [
    '"""\nimport os; os.system("touch PWNED")\n"""',
    "'''\nopen('PWNED', 'w')\n'''",
    'x\\"; open("PWNED", "w"); "',
    "back\\slash \\n \\x00 \\N{BULLET}",
    "line\nopen('PWNED','w')\n",
]


RUN_ALL = """
import runpy, sys
for script in sys.argv[1:]:
    runpy.run_path(script, run_name="__main__")
"""


def test_an_exported_script_runs_no_text_from_the_experiment(tmp_path):
    scripts, expected = [], {}
    for i, text in enumerate(HOSTILE_TEXTS):
        exp = with_overrides(
            load_preset("first-gt-fifth"),
            {
                "meta.title": text,
                "meta.description": text,
                "meta.hints": [text, text],
                "meta.zh": {"title": text, "description": text, "hints": [text, text]},
                "training.epochs": 1,
                "task.samples": 20,
            },
        )
        folder = tmp_path / f"case{i}"
        folder.mkdir()
        name = "ru'n\"" + ('"""' if i % 2 else "'''") + ".py"
        written = export(Trainer(exp).model, exp, folder / name)
        scripts.append(str(written[0]))
        expected[folder] = sorted(p.name for p in written)
    result = subprocess.run(
        [sys.executable, "-c", RUN_ALL, *scripts],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("epoch 1 ") == len(HOSTILE_TEXTS)  # every script trained
    assert not list(tmp_path.rglob("PWNED"))
    for folder, names in expected.items():
        assert sorted(p.name for p in folder.iterdir()) == names


def test_a_signal_landing_while_the_handlers_are_given_back_is_no_traceback(monkeypatch):
    """Seen in CI: Ctrl+C just as an export command finished hit main()'s `finally` and ended
    in a traceback with exit 1."""
    previous = cli.handle_signals()
    real, landed = signal.signal, []

    def lands_once(signum, handler):
        if not landed:
            landed.append(signum)
            cli._on_signal(signal.SIGINT, None)  # the handler, as if the signal came now
        return real(signum, handler)

    monkeypatch.setattr(signal, "signal", lands_once)
    cli.restore_signals(previous)
    monkeypatch.undo()
    assert landed and signal.getsignal(signal.SIGINT) is previous[signal.SIGINT]
