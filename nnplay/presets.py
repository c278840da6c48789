"""Presets: exercises saved as Experiment TOML files, found by name or by path."""

from __future__ import annotations

import os
from pathlib import Path

from nnplay.errors import ExperimentError
from nnplay.experiment import Experiment, csv_experiment, load_file, with_data
from nnplay.export import FORMATS, read_experiment
from nnplay.i18n import _
from nnplay.untrusted import named_path, readable_file, shown

DEFAULT_PRESET = "first-gt-fifth"  # what `nnplay` and `nnplay serve` open without a name
CSV_SUFFIX = ".csv"  # your own data: nnplay train FILE.csv --target COLUMN
RUN_SUFFIX = ".nnrun"  # a run's whole state, to continue it (nnplay.run_files)


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
    return with_data(load_file(path))  # a preset on a CSV file ships with it


def load_experiment(
    name_or_path: str, column: str | None = None, accept_data_change: bool = False
) -> Experiment:
    """A preset name, a preset/experiment TOML path, an exported weights file's experiment, or
    a new one on a CSV file (whose `column` it predicts); a CSV task's file is read (one whose
    SHA-256 differs from the one recorded is refused unless `accept_data_change`)."""
    path = named_path(name_or_path)
    if (path.suffix == CSV_SUFFIX) != (column is not None):
        message = (
            _("{path}: a CSV file needs --target COLUMN, the column to predict")
            if column is None
            else _(
                "--target {value}: it names the column to predict of a CSV file; {path} is not one"
            )
        )
        raise ExperimentError(message.format(path=shown(path, 300), value=repr(shown(column))))
    if column is not None:
        return csv_experiment(readable_file(path), column)
    return with_data(_experiment_named(name_or_path), accept_data_change)


def _experiment_named(name_or_path: str) -> Experiment:
    """A preset name, a preset/experiment TOML path, or an exported weights file's experiment.

    It is a path when it says so (a suffix nnplay reads, a folder in it) or when something is
    there (a folder only when no preset has its name); whatever is there must then be a file
    (one line says what it is)."""
    path = named_path(name_or_path)
    if path.suffix in FORMATS:
        return read_experiment(weights_file(path))
    if (
        path.suffix == ".toml"
        or os.sep in name_or_path
        or (os.path.exists(path) and not os.path.isdir(path))
        or (os.path.isdir(path) and name_or_path not in preset_names())
    ):
        return load_file(readable_file(path))
    return load_preset(name_or_path)


def weights_file(name: str | Path) -> Path:
    """A weights file that can be read; its name must be UTF-8 (PyTorch and safetensors open
    files by a UTF-8 name: another name failed deep inside them)."""
    path = readable_file(name)
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        message = _("{path}: the file name is not UTF-8; rename the file to read its weights")
        raise ExperimentError(message.format(path=shown(path, 300))) from None
    return path


def all_presets() -> list[tuple[str, Experiment]]:
    return [(name, load_preset(name)) for name in preset_names()]
