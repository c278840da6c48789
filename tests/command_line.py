"""How tests run the real `nnplay` command: `python -m nnplay` in a fresh interpreter, or its
`main` in the test's own process (fast, for many refusals; capsys captures the output)."""

import subprocess
import sys

from nnplay.cli import main


def nnplay_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "nnplay", *args]


def run_nnplay(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run one command to its end; stdout and stderr are captured as text."""
    return subprocess.run(nnplay_argv(*args), capture_output=True, text=True, timeout=timeout)


def run_many(commands, timeout: float = 120) -> list[subprocess.CompletedProcess]:
    """Run several commands at once (2 cores): most of their time is importing torch."""
    procs = [
        subprocess.Popen(
            nnplay_argv(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for args in commands
    ]
    results = []
    for args, proc in zip(commands, procs, strict=True):
        out, err = proc.communicate(timeout=timeout)
        results.append(subprocess.CompletedProcess(args, proc.returncode, out, err))
    return results


def run_in_process(capsys, *argv) -> tuple[int, str, str]:
    """nnplay.cli.main in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:  # argparse's own refusals
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err
