"""The layers at run time: what import-linter (`lint-imports`) cannot see.

Importing torch costs about two seconds, and the app imports it only after its first frame, so
these modules must not import it at module level (they do inside functions, on purpose).
"""

import subprocess
import sys

import pytest

# tui.app too: the app's first frame never waits for torch.
TORCH_FREE = [
    "registry",
    "rules",
    "experiment",
    "tasks",
    "model",
    "presets",
    "history",
    "cli",
    "tui.app",
]


def imports_torch(code: str) -> bool:
    """Whether running `code` in a fresh interpreter leaves torch in sys.modules."""
    probe = f"{code}\nimport sys\nprint('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip() == "True"


@pytest.mark.parametrize("name", TORCH_FREE)
def test_module_imports_without_torch(name):
    assert not imports_torch(f"import nnplay.{name}")


def test_building_the_command_line_parser_does_not_import_torch():
    # The parser (with the lab's commands) is built on every start, also before the app's first
    # frame; torch costs about two seconds.
    assert not imports_torch("from nnplay.cli import build_parser; build_parser()")


def test_the_check_sees_torch():
    assert imports_torch("import nnplay.training")
