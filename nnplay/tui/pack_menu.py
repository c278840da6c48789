"""A lesson pack in the app: its menu of exercises, in order, each marked once its goal is met.

What counts as met is the app's own goal verdict (the exercise box's "✔ met"); a goal met only
after the solution was applied is marked as such. The marks last as long as the app.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from nnplay.experiment import Experiment
from nnplay.i18n import _
from nnplay.packs import Pack
from nnplay.tui.dialogs import PresetPicker
from nnplay.untrusted import shown

MET, MET_WITH_SOLUTION = "met", "solution"


class PackProgress:
    """The pack, which exercise of it is open, and which goals were met in this app."""

    def __init__(self, pack: Pack, name: str, exercise: Experiment) -> None:
        self.pack = pack
        self.marks: dict[str, str] = {}  # entry name -> MET or MET_WITH_SOLUTION
        self.opened(name, exercise)

    def open(self, name: str) -> Experiment:
        """The entry `name`'s exercise, now the open one (ExperimentError when it cannot be)."""
        exercise = self.pack.open(name)
        self.opened(name, exercise)
        return exercise

    def opened(self, name: str, exercise: Experiment) -> None:
        """The app opened the entry `name` as `exercise` (the app's exercise object)."""
        self.current, self.exercise = name, exercise

    def goal_met(self, exercise: Experiment, with_solution: bool) -> None:
        """The app's run of `exercise` met its goal; only the open entry's exercise counts (a
        preset or file opened meanwhile is no part of the pack)."""
        if exercise is not self.exercise:
            return
        if not with_solution:
            self.marks[self.current] = MET
        else:
            self.marks.setdefault(self.current, MET_WITH_SOLUTION)


class PackMenu(PresetPicker):
    """The pack's exercises in order: ✔ by each whose goal was met, a broken one with why."""

    def __init__(self, progress: PackProgress) -> None:
        pack = progress.pack
        super().__init__([(e.name, e.experiment) for e in pack.entries if e.experiment])
        self.progress = progress

    def heading(self) -> str:
        return self.progress.pack.title

    def options(self) -> list[Option]:
        marks = {MET: _("✔ met"), MET_WITH_SOLUTION: _("✔ met with the solution")}
        options = []
        for number, entry in enumerate(self.progress.pack.entries, 1):
            mark = marks.get(self.progress.marks.get(entry.name, ""), "")
            if entry.experiment is None:
                text = Content.from_markup(
                    "$number. $name  [red]$broken[/red]",
                    number=number,
                    name=shown(entry.name),
                    broken=_("✖ broken: {problem}").format(problem=entry.problem),
                )
            else:
                text = Content.from_markup(
                    "$number. $name  [dim]$title[/dim]  [green]$mark[/green]",
                    number=number,
                    name=shown(entry.name),
                    title=entry.title,
                    mark=mark,
                )
            options.append(Option(text, id=entry.name, disabled=entry.experiment is None))
        return options

    def on_mount(self) -> None:
        super().on_mount()
        names = [e.name for e in self.progress.pack.entries]
        self.query_one(OptionList).highlighted = names.index(self.progress.current)
