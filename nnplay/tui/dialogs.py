"""Modal dialogs: the preset picker, a path prompt, a yes/no confirmation and the help."""

from __future__ import annotations

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from nnplay.experiment import Experiment
from nnplay.tui.actions import help_markdown


class PresetPicker(ModalScreen[str | None]):
    """Every preset with its title; the highlighted one's description and goal beside the list."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, presets: list[tuple[str, Experiment]]) -> None:
        super().__init__()
        self.presets = dict(presets)

    def compose(self) -> ComposeResult:
        with Vertical(id="picker", classes="dialog"):
            yield Label("[b]Load a preset exercise[/b]  (enter to load, escape to close)")
            yield OptionList(
                *[
                    Option(f"{name}  [dim]{escape(exp.meta.localized().title)}[/dim]", id=name)
                    for name, exp in self.presets.items()
                ],
                id="preset-list",
            )
            yield Static("", id="preset-info")

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0
        self.query_one(OptionList).focus()  # the app itself starts with nothing focused

    @on(OptionList.OptionHighlighted)
    def _describe(self, event: OptionList.OptionHighlighted) -> None:
        exp = self.presets[str(event.option.id)]
        meta = exp.meta.localized()
        goal = exp.goal.describe() if exp.goal.enabled else "free play"
        solved = "challenge: fix it" if exp.solution else "meets its goal as shipped"
        self.query_one("#preset-info", Static).update(
            f"[b]{escape(meta.title)}[/b]\n{escape(meta.description)}\n\n"
            f"[b]Goal:[/b] {goal} ({solved})"
        )

    @on(OptionList.OptionSelected)
    def _pick(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class PathPrompt(ModalScreen[str | None]):
    """Ask for a file path."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, question: str, default: str) -> None:
        super().__init__()
        self.question, self.default = question, default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog small"):
            yield Label(self.question)
            yield Input(self.default, id="path")
            yield Label("[dim]enter to confirm, escape to cancel[/dim]")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class Confirm(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "dismiss(False)", "No"), Binding("y", "dismiss(True)", "Yes")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog small"):
            yield Static(self.question)
            with Grid(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="primary")
                yield Button("No (esc)", id="no")

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


HELP = f"""\
# nnplay

Build a network on the left, train it on the right. Click a field (or press tab) to type into
it; `escape` gives the keys back to the playground.

{help_markdown()}

Learning rate, L1, L2 and epochs change a running training at once. Other changes (layers,
task, loss, optimizer, batch size, ...) take effect when you reset with `r`.

A diverging run (the loss becomes NaN or infinite) stops by itself; the banner says which
weights it kept. Lower the learning rate and reset.

The lab screens (`B`, `o`, `g`) have their own keys, listed at their foot; `escape` goes back.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss(None)", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Markdown(HELP)
