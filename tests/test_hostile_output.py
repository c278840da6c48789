"""Where the output goes and when Ctrl+C comes, through the real `nnplay` command: stdout on a
full disk or closed is one line on stderr and exit 2; a reader that left early (`| head`) is
exit 1, silently; Ctrl+C at any moment of a run, its start and its shutdown included, never
prints a traceback."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.command_line import environment, nnplay_argv
from tests.hostile import FAST, assert_refused

DEV_FULL = Path("/dev/full")


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("w") / "w.npz"
    from nnplay.cli import main

    assert main(["train", "first-gt-fifth", *FAST, "--export", str(path)]) == 0
    return path


def commands(weights: Path) -> list[list[str]]:
    """The commands whose whole answer is on stdout."""
    predict = ["predict", str(weights), "--input", "1,2,3,4,5"]
    return [
        ["presets"],
        ["presets", "--json"],
        ["backprop", "--json"],
        ["train", "first-gt-fifth", *FAST, "--json"],
        predict,
        [*predict, "--json"],
    ]


def run_all(argvs: list[list[str]], stdout, preexec=None) -> list[subprocess.CompletedProcess]:
    """The commands at once (most of their time is importing torch), stdout as given."""
    procs = [
        subprocess.Popen(
            nnplay_argv(*argv),
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(),
            preexec_fn=preexec,
        )
        for argv in argvs
    ]
    return [
        subprocess.CompletedProcess(argv, p.wait(timeout=120), "", p.stderr.read())
        for argv, p in zip(argvs, procs, strict=True)
    ]


@pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full on this system")
def test_stdout_on_a_full_disk_is_one_line_and_exit_2(weights):
    with DEV_FULL.open("w") as full:
        for result in run_all(commands(weights), full):
            assert_refused(
                result.returncode,
                result.stderr,
                "nnplay: cannot write the output (No space left on device)",
            )


def test_a_closed_stdout_is_one_line_and_exit_2(weights):
    for result in run_all(commands(weights), None, preexec=lambda: os.close(1)):
        assert_refused(result.returncode, result.stderr, "nnplay: stdout is closed")


def test_a_reader_that_left_is_exit_1_and_nothing_on_stderr(weights):
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write now fails with EPIPE
    try:
        results = run_all(commands(weights), write_end)
    finally:
        os.close(write_end)
    for result in results:
        assert (result.returncode, result.stderr) == (1, ""), result


# ---------------------------------------------------------------------------------------------
# Ctrl+C at any moment


# nnplay's own code, but for `python -m nnplay`'s first lines (which install the handler)
NNPLAY_CODE = re.compile(r"/nnplay/(?!__main__\.py$)[^\"]*\.py$")


def before_nnplay(stderr: str) -> bool:
    """A KeyboardInterrupt traceback from the interpreter's own start (site, runpy, the standard
    library they import, `import signal`), with no frame of nnplay's code: out of its hands."""
    frames = re.findall(r'File "([^"]+)"', stderr)
    return (
        "Traceback" in stderr  # also after "Fatal Python error: init_import_site"
        and stderr.rstrip().endswith("KeyboardInterrupt")
        and "Exception ignored" not in stderr
        and not any(NNPLAY_CODE.search(f) for f in frames)
    )


def interrupted_at(argv: list[str], delay: float) -> subprocess.CompletedProcess:
    proc = subprocess.Popen(
        nnplay_argv(*argv),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
        # Ctrl+C as in a terminal (a background job's children start with it ignored)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(argv, proc.returncode, "", err)


def duration(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(nnplay_argv(*argv), capture_output=True, env=environment(), check=True)
    return time.perf_counter() - started


@pytest.mark.parametrize(
    "argv, trials",
    [(["presets"], 24), (["train", "first-gt-fifth", *FAST, "--json"], 12)],
)
def test_ctrl_c_at_any_moment_prints_no_traceback(argv, trials):
    """Trials spread from the start to past the run's end (its shutdown: the exit handlers of
    multiprocessing and torch). Before nnplay's first line the interpreter answers Ctrl+C with
    its own traceback; those trials are told apart by their frames, and any other fails."""
    end = 1.1 * duration(argv)
    bad, before = [], 0
    for i in range(trials):
        delay = end * (i + 1) / trials
        result = interrupted_at(argv, delay)
        if before_nnplay(result.stderr):
            before += 1
            continue
        # 130 from nnplay; -2 killed by the signal, silently (before Python's handler, or by
        # nnplay's handler while it starts or shuts down)
        quiet = all(line.startswith("nnplay: ") for line in result.stderr.splitlines())
        if not quiet or result.returncode not in (0, 130, -2):
            bad.append((round(delay, 3), result.returncode, result.stderr[-300:]))
    assert not bad, f"{len(bad)} of {trials} trials: {bad}"
    assert before < trials / 2, f"{before} of {trials} trials ended before nnplay started"


def test_ctrl_c_while_a_command_makes_a_class_is_an_interruption(monkeypatch, capsys):
    """A command imports its modules late; a Ctrl+C landing while one of them makes a class
    (a dataclass's fields) reached Python 3.11 as "RuntimeError: Error calling __set_name__",
    a traceback. It is the same interruption as anywhere else: one line, exit 130."""
    from nnplay import cli

    class Field:
        def __set_name__(self, owner, name):
            os.kill(os.getpid(), signal.SIGINT)  # handled before this returns, as in the flake

    def make_a_class(args):
        type("Spec", (), {"momentum": Field()})
        return 0

    monkeypatch.setattr(cli, "cmd_presets", make_a_class)
    assert cli.main(["presets"]) == 130
    assert capsys.readouterr().err == "nnplay: interrupted\n"
