"""The package as a user installs it: one version, the typing marker, the licence."""

from importlib.metadata import version
from pathlib import Path

import nnplay


def test_the_version_is_written_once_and_reported_by_the_command(nnplay_cli):
    result = nnplay_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"nnplay {nnplay.__version__}"
    assert version("nnplay") == nnplay.__version__


def test_the_package_is_marked_typed():
    assert (Path(nnplay.__file__).parent / "py.typed").is_file()
