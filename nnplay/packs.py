"""Lesson packs: a folder of exercises a class works through in order.

A pack is a folder of exercise TOML files, in the order of their names, or one with a
`pack.toml` giving its title and listing its exercises. An entry of the list is a file in the
folder ("my-circle.toml") or the name of a built-in preset ("xor"): a teacher's pack reuses the
shipped exercises without copying them (a copy would miss their later fixes) and adds its own
beside them, and no entry can name a file outside the folder.

The folder and every file in it are hostile: the folder is read for at most MAX_FOLDER_NAMES
names, a pack lists at most MAX_EXERCISES, each file is read through nnplay.untrusted (bounded
size and nesting), a name is a plain name (no folder in it, no dot file), a symbolic link that
leads out of the folder is refused, and so is an exercise whose CSV data lies outside it. An
exercise that cannot be read is an entry with its one-line reason, shown in the menu as broken.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from nnplay.errors import ExperimentError
from nnplay.experiment import Experiment, load_file, with_data
from nnplay.export import FORMATS
from nnplay.i18n import _, language
from nnplay.presets import CSV_SUFFIX, RUN_SUFFIX, load_preset, preset_names, presets_dir
from nnplay.rules import Text, TextList
from nnplay.untrusted import MAX_NAME_BYTES, named_path, parse_toml, read_text, shown

PACK_FILE = "pack.toml"
SUFFIX = ".toml"
FILE_SUFFIXES = (SUFFIX, CSV_SUFFIX, RUN_SUFFIX, *FORMATS)
MAX_EXERCISES = 50
MAX_FOLDER_NAMES = 1000  # names read from a folder without a pack.toml
MAX_PACK_BYTES = 16 * 1024
TITLE = Text(200)
EXERCISES = TextList(MAX_EXERCISES, MAX_NAME_BYTES)


@dataclass(frozen=True)
class Entry:
    """One exercise of a pack: its name as listed, and its experiment or why it has none."""

    name: str
    experiment: Experiment | None = None
    problem: str = ""  # one line: why it cannot be opened ("" when it can)

    @property
    def title(self) -> str:
        return self.experiment.meta.localized().title if self.experiment else ""


@dataclass
class Pack:
    folder: Path
    title: str
    entries: list[Entry] = field(default_factory=list)

    def entry(self, name: str) -> Entry:
        return next(e for e in self.entries if e.name == name)

    def open(self, name: str) -> Experiment:
        """The exercise `name`, ready to train (its CSV file read): ExperimentError when it
        cannot be opened."""
        entry = self.entry(name)
        if entry.experiment is None:
            raise ExperimentError(f"{shown(name)}: {entry.problem}")
        return with_data(entry.experiment.copy())

    def first(self) -> tuple[str, Experiment]:
        """The first exercise that opens, with its name; ExperimentError when none does."""
        problems = []
        for entry in self.entries:
            try:
                return entry.name, self.open(entry.name)
            except ExperimentError as e:
                problems.append(str(e))
        message = _("{folder}: no exercise of the pack can be opened; the first: {problem}")
        raise ExperimentError(
            message.format(folder=shown(self.folder, 300), problem=shown(problems[0], 300))
        )


def packs_dir() -> Path:
    """The packs nnplay ships: `nnplay basics` opens presets/packs/basics."""
    return presets_dir() / "packs"


def pack_folder(target: str) -> Path | None:
    """The folder `target` names as a pack, or None when it names none: a folder (a bare name is
    a preset first, as presets decide a path; a name ending like a file is a file), else a pack
    nnplay ships."""
    path = named_path(target)
    if path.suffix in FILE_SUFFIXES:
        return None  # a folder named like a file nnplay reads was meant as that file
    if os.path.isdir(path) and (os.sep in target or target not in preset_names()):
        return path
    shipped = packs_dir() / target
    if os.sep not in target and target not in (".", "..") and shipped.is_dir():
        return shipped
    return None


def pack_experiments(folder: Path) -> list[Experiment]:
    """Every exercise of the pack in `folder` that opens (what a server sizes its tabs by);
    ExperimentError when it is no pack or none opens."""
    pack = read_pack(folder)
    opened = []
    for entry in pack.entries:
        with contextlib.suppress(ExperimentError):  # a broken one is the menu's to show
            opened.append(pack.open(entry.name))
    if not opened:
        pack.first()  # raises, saying why the first cannot be opened
    return opened


def read_pack(folder: Path) -> Pack:
    """The pack in `folder`: ExperimentError (one line) when it is no pack; an exercise that
    cannot be read is an Entry with its problem."""
    listing = folder / PACK_FILE
    if os.path.lexists(listing):
        title, names = _listed(folder, listing)
    else:
        title, names = shown(folder.resolve().name), _toml_files(folder)
    if not names:
        message = _("{path}: a pack holds exercise files (.toml) or a {file} listing them")
        raise ExperimentError(message.format(path=shown(folder, 300), file=PACK_FILE))
    return Pack(folder, title, [_entry(folder, name) for name in names])


def _listed(folder: Path, listing: Path) -> tuple[str, list[str]]:
    """pack.toml's title (in the learner's language) and exercises, checked:
    title = "...", exercises = ["a.toml", "xor", ...], and [zh] title = "..."."""
    where = shown(listing, 300)
    _inside(folder, listing)
    data = parse_toml(read_text(listing, MAX_PACK_BYTES), where)
    unknown = sorted(set(data) - {"title", "exercises", "zh"})
    if unknown:
        message = _("{file}: {field}: unknown field; allowed: title, exercises, zh")
        raise ExperimentError(message.format(file=where, field=shown(unknown[0])))
    chinese = data.get("zh", {})
    if not isinstance(chinese, dict) or set(chinese) - {"title"}:
        message = _("{file}: zh: must be a table holding only the title in Chinese")
        raise ExperimentError(message.format(file=where))
    for key, value, rule in (
        ("title", data.get("title", ""), TITLE),
        ("exercises", data.get("exercises", []), EXERCISES),
        ("zh.title", chinese.get("title", ""), TITLE),
    ):
        if rule.check(value):
            message = _("{file}: {field}: must be {allowed}")
            raise ExperimentError(message.format(file=where, field=key, allowed=rule.describe()))
    names = data.get("exercises", [])
    if len(set(names)) != len(names):
        message = _("{file}: exercises: an exercise is listed twice")
        raise ExperimentError(message.format(file=where))
    title = chinese.get("title", "") if language() == "zh" else ""
    return title or data.get("title", "") or shown(folder.resolve().name), names


def _toml_files(folder: Path) -> list[str]:
    """The folder's exercise files in the order of their names, dot files left out."""
    names = []
    with os.scandir(folder) as found:
        for count, item in enumerate(found):
            if count >= MAX_FOLDER_NAMES:
                message = _("{path}: more than {most} names in the folder; a pack is a small one")
                raise ExperimentError(
                    message.format(path=shown(folder, 300), most=MAX_FOLDER_NAMES)
                )
            if item.name.endswith(SUFFIX) and not item.name.startswith("."):
                names.append(item.name)
    if len(names) > MAX_EXERCISES:
        message = _("{path}: {count} exercise files; a pack holds at most {most}")
        raise ExperimentError(
            message.format(path=shown(folder, 300), count=len(names), most=MAX_EXERCISES)
        )
    return sorted(names)


def _entry(folder: Path, name: str) -> Entry:
    try:
        if not name.endswith(SUFFIX):
            if name not in preset_names():
                message = _(
                    "neither a file of the pack's folder (a name ending in {suffix}) nor a "
                    "built-in preset (nnplay presets lists them)"
                )
                raise ExperimentError(message.format(suffix=SUFFIX))
            return Entry(name, load_preset(name))
        return Entry(name, _exercise_file(folder, name))
    except ExperimentError as e:
        return Entry(name, problem=" ".join(shown(e, 300).split()))


def _exercise_file(folder: Path, name: str) -> Experiment:
    """The exercise file `name` in `folder`, which must stay inside it."""
    plain = name not in ("", PACK_FILE) and not name.startswith(".") and name == shown(name, 300)
    if not plain or "/" in name or "\\" in name:
        message = _("{name} is not a plain file name in the pack's folder")
        raise ExperimentError(message.format(name=shown(repr(name))))
    path = folder / name
    _inside(folder, path)
    exp = load_file(path)
    if exp.task.data:
        _inside(folder, Path(exp.task.data), "task.data")
    return exp


def _inside(folder: Path, path: Path, field_name: str = "") -> None:
    """Refuse `path` when it leads (through symbolic links or ..) out of `folder`."""
    home, real = os.path.realpath(folder), os.path.realpath(path)
    if os.path.commonpath([home, real]) != home:
        message = _("{path}: leads out of the pack's folder (to {target})")
        where = f"{field_name} {shown(path, 300)}" if field_name else shown(path, 300)
        raise ExperimentError(message.format(path=where, target=shown(real, 300)))
