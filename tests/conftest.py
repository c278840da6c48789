import pytest
import torch

from tests.command_line import run_nnplay

torch.set_num_threads(1)  # two cores: one thread is faster for nets this small


@pytest.fixture
def nnplay_cli():
    """Run the real `nnplay` command line in a subprocess (tests/command_line.py)."""
    return run_nnplay


def pytest_addoption(parser):
    parser.addoption(
        "--monkey-steps",
        type=int,
        default=None,
        help="actions per seed for the TUI monkey test (default: a quick run)",
    )
