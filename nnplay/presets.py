"""Presets: exercises saved as Experiment TOML files, found by name or by path."""

from __future__ import annotations

from pathlib import Path

from nnplay.errors import ExperimentError
from nnplay.experiment import Experiment, load_file
from nnplay.export import FORMATS, read_experiment
from nnplay.i18n import _
from nnplay.untrusted import shown

DEFAULT_PRESET = "first-gt-fifth"  # what `nnplay` and `nnplay serve` open without a name


def presets_dir() -> Path:
    """Inside the installed package (wheel), else the repository's top-level presets/."""
    here = Path(__file__).parent
    packaged = here / "presets"
    return packaged if packaged.is_dir() else here.parent / "presets"


def preset_names() -> list[str]:
    return sorted(p.stem for p in presets_dir().glob("*.toml"))


def load_preset(name: str) -> Experiment:
    path = presets_dir() / f"{name}.toml"
    if not path.is_file():
        message = _("unknown preset {name}; available: {allowed}")
        raise ExperimentError(
            message.format(name=repr(shown(name)), allowed=", ".join(preset_names()))
        )
    return load_file(path)


def load_experiment(name_or_path: str) -> Experiment:
    """A preset name, a preset/experiment TOML path, or an exported weights file's experiment."""
    path = Path(name_or_path).expanduser()
    if path.suffix in FORMATS:
        return read_experiment(path)
    if path.suffix == ".toml" or path.is_file():
        if not path.is_file():
            raise ExperimentError(_("{path}: no such file").format(path=shown(path, 300)))
        return load_file(path)
    return load_preset(name_or_path)


def all_presets() -> list[tuple[str, Experiment]]:
    return [(name, load_preset(name)) for name in preset_names()]
