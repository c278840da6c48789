"""How tests run the real `nnplay` command: `python -m nnplay` in a fresh interpreter, or its
`main` in the test's own process (fast, for many refusals; capsys captures the output)."""

import os
import subprocess
import sys

from nnplay.cli import main

# The variables that choose nnplay's language: the tests choose it themselves, so the suite
# gives the same result whatever the language of the machine it runs on.
LANGUAGE_VARIABLES = ("NNPLAY_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")


def nnplay_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "nnplay", *args]


def run_nnplay(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run one command to its end; stdout and stderr are captured as text. The language comes
    from `env` (e.g. {"LANG": "zh_CN.UTF-8"}) and is English without it."""
    return subprocess.run(
        nnplay_argv(*args),
        capture_output=True,
        encoding="utf-8",
        timeout=timeout,
        env=environment(env),
    )


def environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the language variables, plus `env`."""
    environ = {k: v for k, v in os.environ.items() if k not in LANGUAGE_VARIABLES}
    return {**environ, **(env or {})}


def run_many(
    commands, timeout: float = 120, envs: list[dict[str, str]] | None = None
) -> list[subprocess.CompletedProcess]:
    """Run several commands at once (2 cores): most of their time is importing torch.
    `envs`, one per command, sets their language variables (English without)."""
    procs = [
        subprocess.Popen(
            nnplay_argv(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            encoding="utf-8",
            env=environment(env),
        )
        for args, env in zip(commands, envs or [None] * len(commands), strict=True)
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
