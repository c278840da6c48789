import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture
def nnplay_cli():
    """Run the real `nnplay` command line in a subprocess."""
    import subprocess
    import sys

    def run(*args, timeout=120):
        return subprocess.run([sys.executable, "-m", "nnplay", *args], capture_output=True,
                              text=True, timeout=timeout)
    return run


def pytest_addoption(parser):
    parser.addoption("--monkey-steps", type=int, default=None,
                     help="actions per seed for the TUI monkey test (default: a quick run)")
