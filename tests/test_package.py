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


ROOT = Path(__file__).resolve().parents[1]


def locked() -> dict[str, str]:
    from packaging.utils import canonicalize_name

    lines = (ROOT / "requirements.lock").read_text().splitlines()
    pins = [line.split("==") for line in lines if line and not line.startswith("#")]
    return {canonicalize_name(name): version for name, version in pins}


def test_the_lock_pins_every_requirement_inside_the_range_pyproject_allows():
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = [
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["dev"],
        *project["build-system"]["requires"],
    ]
    pins = locked()
    for text in wanted:
        requirement = Requirement(text)
        pinned = pins.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement.name} is not in requirements.lock"
        assert requirement.specifier.contains(pinned, prereleases=True), (text, pinned)
    assert pins["torch"] == "2.13.0"  # the local CPU build, never a CUDA one


def test_ci_installs_exactly_as_readme_says():
    """README's install command, pip's part of it, is what .ci/run runs, with the lock."""
    readme = (ROOT / "README.md").read_text()
    command = next(line for line in readme.splitlines() if line.startswith("python3 -m venv"))
    installs = [part.strip() for part in command.split("&&") if part.strip().startswith("pip ")]
    assert len(installs) == 2 and all("-c requirements.lock" in i for i in installs)
    assert "--build-constraint requirements.lock" in installs[1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    for install in installs:
        assert install.replace("pip install", "pip install -q", 1) in ci, install
