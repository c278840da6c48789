"""Shared helpers of the hostile-input tests: check a refusal, measure runs (tests/command_line.py
runs the CLI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

# Generated hostile files: enough cases to cover each class, each case a fresh file (fixtures
# that make files are function-scoped on purpose) and some slow to refuse.
HOSTILE_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# The peak is VmHWM (kB), not getrusage's ru_maxrss: Linux carries ru_maxrss over exec from the
# forked parent (pytest, with torch loaded), so it measured the test runner, not nnplay.
RUNNER = """
import json, sys
from nnplay.cli import main
codes = [main(argv) for argv in json.loads(sys.argv[2])]
with open("/proc/self/status") as f:
    peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
with open(sys.argv[1], "w") as f:
    json.dump([codes, peak], f)
"""


# A run that trains for a moment: what a file or a signal does, not what the network learns.
FAST = [
    "--set",
    "task.samples=20",
    "--set",
    "task.val_samples=5",
    "--set",
    "training.epochs=1",
    "--set",
    "goal.epochs=0",
]


def assert_refused(code: int, err: str, *words: str) -> None:
    """Exit 2 with exactly one clean line on stderr (no traceback, no terminal escapes)."""
    assert code == 2, err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("nnplay") and "Traceback" not in err, err
    assert all(c.isprintable() for c in err[:-1]), repr(err)
    for word in words:
        assert word in err, err


def assert_json(out: str) -> dict:
    """The last stdout line is strict JSON (no NaN or Infinity tokens)."""
    return json.loads(
        out.strip().splitlines()[-1],
        parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)),
    )


def measured(tmp_path: Path, runs: list[list], timeout: float = 120):
    """Several CLI runs in one fresh process: (result, exit codes, peak resident memory in
    bytes over all of them)."""
    out = tmp_path / "measured.json"
    argv = json.dumps([[str(a) for a in run] for run in runs])
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, str(out), argv],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    codes, peak = json.loads(out.read_text())
    return result, codes, peak * 1024
