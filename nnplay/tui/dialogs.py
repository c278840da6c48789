"""Modal dialogs: the preset picker, a path prompt, a yes/no confirmation and the help."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from nnplay.experiment import Experiment
from nnplay.i18n import N_, _
from nnplay.tui.actions import help_rows, translate_bindings
from nnplay.tui.cells import pad
from nnplay.tui.footer import KeyBar
from nnplay.tui.prose import Prose, with_code
from nnplay.tui.screens import OnTop


class PresetPicker(OnTop[str | None], ModalScreen[str | None]):
    """Every preset with its title; the highlighted one's description and goal beside the list."""

    BINDINGS = [Binding("escape", "dismiss(None)", N_("Close"))]

    def __init__(self, presets: list[tuple[str, Experiment]]) -> None:
        super().__init__()
        translate_bindings(self)
        self.presets = dict(presets)

    def compose(self) -> ComposeResult:
        with Vertical(id="picker", classes="dialog"):
            keys = _("(enter to load, escape to close)")
            yield Label(
                Content.from_markup("[b]$title[/b]  $keys", title=self.heading(), keys=keys)
            )
            yield OptionList(*self.options(), id="preset-list")
            yield Static("", id="preset-info")

    def heading(self) -> str:
        return _("Load a preset exercise")

    def options(self) -> list[Option]:
        return [
            Option(
                Content.from_markup(
                    "$name  [dim]$title[/dim]", name=name, title=exp.meta.localized().title
                ),
                id=name,
            )
            for name, exp in self.presets.items()
        ]

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0
        self.query_one(OptionList).focus()  # the app itself starts with nothing focused

    @on(OptionList.OptionHighlighted)
    def _describe(self, event: OptionList.OptionHighlighted) -> None:
        self.query_one("#preset-info", Static).update(self.describe(str(event.option.id)))

    def describe(self, name: str) -> Content:
        """The exercise's title, description and goal."""
        exp = self.presets[name]
        meta = exp.meta.localized()
        goal = exp.goal.describe() if exp.goal.enabled else _("free play")
        solved = _("challenge: fix it") if exp.solution else _("meets its goal as shipped")
        heading = _("Goal:")
        return Content.from_markup(
            "[b]$title[/b]\n$description\n\n[b]$heading[/b] $goal ($solved)",
            title=meta.title,
            description=meta.description,
            heading=heading,
            goal=goal,
            solved=solved,
        )

    @on(OptionList.OptionSelected)
    def _pick(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


# What a path prompt does with the path: None when done (the prompt closes), else why not.
PathAction = Callable[[str], Awaitable[str | None]]


class PathPrompt(OnTop[str | None], ModalScreen[str | None]):
    """Ask for a file path. With `act`, the prompt does the work itself and stays open while it
    fails, the reason beside the path: the keys typed next go to the prompt, never to the
    playground behind it (a `p` there loads another exercise)."""

    BINDINGS = [Binding("escape", "dismiss(None)", N_("Cancel"))]

    def __init__(
        self,
        question: str,
        default: str,
        act: PathAction | None = None,
        suggester: Suggester | None = None,
        keys: str = "",
    ) -> None:
        super().__init__()
        translate_bindings(self)
        self.question, self.default, self.act = question, default, act
        self.suggester, self.keys = suggester, keys or _("enter to confirm, escape to cancel")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog small"):
            yield Label(Prose(self.question))
            yield Input(self.default, id="path", suggester=self.suggester)
            # the error's line is always there: the keys' line never moves under the pointer
            yield Static(" ", id="path-error", markup=False)
            yield Label(Content.styled(self.keys, "dim"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @property
    def error(self) -> str:
        """The reason the last path failed, as shown; "" when none did."""
        return str(self.query_one("#path-error", Static).render()).strip()

    @on(Input.Submitted)
    async def _submit(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if not path or self.act is None:
            self.dismiss(path or None)
            return
        if self.answered:
            return  # a second Enter queued while the first one worked
        problem = await self.act(path)
        if problem is None:
            self.dismiss(path)
        elif self.is_on_top:
            self.query_one("#path-error", Static).update(Prose(problem))
            self.query_one(Input).focus()


class Confirm(OnTop[bool], ModalScreen[bool]):
    BINDINGS = [
        Binding("escape", "dismiss(False)", N_("No")),
        Binding("y", "dismiss(True)", N_("Yes")),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        translate_bindings(self)
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog small"):
            yield Static(Prose(self.question))
            with Grid(classes="buttons"):
                yield Button(_("Yes (y)"), id="yes", variant="primary")
                yield Button(_("No (esc)"), id="no")

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


# The help's paragraphs, each a message of its own (Markdown: a translation keeps the backticks).
HELP_PARAGRAPHS = (
    N_(
        "Build a network on the left, train it on the right. Click a field (or press tab) to "
        "type into it; `escape` gives the keys back to the playground."
    ),
    N_(
        "Learning rate, L1, L2 and epochs change a running training at once. Other changes "
        "(layers, task, loss, optimizer, batch size, ...) take effect when you reset with `r`."
    ),
    N_(
        "A diverging run (the loss becomes NaN or infinite) stops by itself; the banner says "
        "which weights it kept. Lower the learning rate and reset."
    ),
    N_(
        "Nothing trained is lost by a key: a preset (`p`), a file (`O`), a reset (`r`), a "
        "solution (`S`) or quitting (`q`) over weights that are not exported asks first. Export "
        "them with `e` "
        "(.pt, .safetensors, .onnx or .npz) to keep them."
    ),
    N_(
        "The lab screens (`B`, `o`, `g`, `l`) have their own keys, listed at their foot; `escape` "
        "goes back."
    ),
)


def keys_table() -> Prose:
    """The keys' table: a key is never wrapped or cut; the descriptions wrap beside the keys by
    nnplay's rule (Chinese too)."""
    rows = [(_("key"), _("does")), *help_rows()]
    column = max(cell_len(key) for key, _does in rows) + 2
    (key, does), heading = rows[0], "bold underline"
    lines = [Content.assemble((key, heading), pad("", column - cell_len(key)), (does, heading))]
    lines += [Content.assemble((pad(key, column), "bold"), does) for key, does in rows[1:]]
    return Prose(Content("\n").join(lines), hanging=column)


class HelpScreen(OnTop[None], ModalScreen[None]):
    # q and ? close the help too; the footer shows escape only, so "q Quit" is not shown here.
    BINDINGS = [
        Binding("escape", "dismiss(None)", N_("Close")),
        Binding("question_mark,q", "dismiss(None)", N_("Close"), show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        translate_bindings(self)

    def compose(self) -> ComposeResult:
        first, *rest = (_(paragraph) for paragraph in HELP_PARAGRAPHS)
        # Scrollable and focused, so arrows and PageDown read a help taller than the terminal.
        with VerticalScroll(id="help", classes="dialog"):
            # Prose renders at once (Textual's Markdown lays out later, so an early End fell
            # short of the end) and breaks Chinese lines by nnplay's rule.
            yield Static(Content.styled("nnplay", "bold"), id="help-title")
            yield Static(Prose(with_code(first)))
            yield Static(keys_table(), id="help-keys")
            yield Static(Prose(with_code("\n\n".join(rest))))
        yield KeyBar()  # the help's own keys: escape closes it (the playground's are not live)

    def on_mount(self) -> None:
        self.query_one("#help").focus()
