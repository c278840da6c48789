"""Shared helpers of the hostile-input tests: run the real CLI in-process and check a refusal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from nnplay.cli import main

RUNNER = """
import resource, sys
from nnplay.cli import main
try:
    code = main(sys.argv[2:])
finally:
    with open(sys.argv[1], "w") as f:
        f.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
sys.exit(code)
"""


def run(capsys, *argv) -> tuple[int, str, str]:
    """nnplay.cli.main in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(code: int, err: str, *words: str) -> None:
    """Exit 2 with exactly one clean line on stderr (no traceback, no terminal escapes)."""
    assert code == 2, err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("nnplay: ") and "Traceback" not in err, err
    assert all(c.isprintable() for c in err[:-1]), repr(err)
    for word in words:
        assert word in err, err


def assert_json(out: str) -> dict:
    """The last stdout line is strict JSON (no NaN or Infinity tokens)."""
    return json.loads(out.strip().splitlines()[-1],
                      parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))


def measured(tmp_path: Path, *argv, timeout: float = 60) -> tuple[subprocess.CompletedProcess, int]:
    """The CLI in a fresh process: (result, its peak resident memory in bytes)."""
    rss_file = tmp_path / "maxrss.txt"
    result = subprocess.run([sys.executable, "-c", RUNNER, str(rss_file), *map(str, argv)],
                            capture_output=True, text=True, timeout=timeout)
    return result, int(rss_file.read_text()) * 1024  # ru_maxrss is in kB on Linux
