"""The layers at run time: what import-linter (`lint-imports`) cannot see.

Importing torch costs about two seconds, and the app imports it only after its first frame, so
these modules must not import it at module level (they do inside functions, on purpose).
"""

import subprocess
import sys

import pytest

TORCH_FREE = ["registry", "experiment", "tasks", "model", "presets", "history", "cli"]


@pytest.mark.parametrize("name", TORCH_FREE)
def test_module_imports_without_torch(name):
    code = (f"import sys, nnplay.{name}; "
            "sys.exit('torch was imported' if 'torch' in sys.modules else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_check_would_see_torch():
    code = ("import sys, nnplay.training; "
            "sys.exit('torch was imported' if 'torch' in sys.modules else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "torch was imported" in done.stderr
