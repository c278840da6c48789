"""Every action of the playground, listed once.

The key bindings, the footer, the buttons, the command palette and the help screen are all
made from `ACTIONS`, so they cannot disagree. Its words are marked with `N_()` (the table is
built at import, before the language is chosen) and translated where they are shown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode

from nnplay.i18n import N_, _

KEY_NAMES = {
    "space": "space",
    "question_mark": "?",
    "escape": "escape",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "comma": ",",
    "full_stop": ".",
    "home": "Home",
    "end": "End",
}


@dataclass(frozen=True)
class Action:
    id: str  # the app runs `action_<id>`
    key: str  # a Textual key name
    label: str  # short: the footer and the button
    title: str  # the command palette's entry
    description: str  # the palette's line and the help's row
    footer: bool = True  # the footer holds what fits in 80 columns; the buttons hold the rest
    button: bool = False
    main_only: bool = True  # acts on the playground: not from a lab screen or a dialog

    @property
    def key_text(self) -> str:
        return KEY_NAMES.get(self.key, self.key)


ACTIONS = [
    Action(
        "toggle_training",
        "space",
        N_("Start/Pause"),
        N_("Start / pause training"),
        N_("train continuously, or pause"),
        button=True,
    ),
    Action("step", "n", N_("Step"), N_("Step"), N_("train on one mini-batch"), button=True),
    Action(
        "scrub_back",
        "comma",
        N_("Earlier"),
        N_("Back one epoch"),
        N_("see the run as it was one epoch earlier; space then goes on from there (a fork)"),
        footer=False,
    ),
    Action(
        "scrub_forward",
        "full_stop",
        N_("Later"),
        N_("Forward one epoch"),
        N_("see the run one epoch later, up to where it is now"),
        footer=False,
    ),
    Action(
        "scrub_first",
        "home",
        N_("First"),
        N_("Back to the start"),
        N_("see the run's initial weights"),
        footer=False,
    ),
    Action(
        "scrub_last",
        "end",
        N_("Now"),
        N_("Back to now"),
        N_("see the run where it is now"),
        footer=False,
    ),
    Action(
        "reset",
        "r",
        N_("Reset"),
        N_("Reset"),
        N_("new weights from the form; changes to the network, data or training apply here"),
        button=True,
    ),
    Action(
        "regenerate",
        "R",
        N_("⟳ Data"),  # short: the buttons of 120 columns keep to one row
        N_("Regenerate the data"),
        N_("a new data seed: new points (a CSV task: a new split of its rows) and new weights"),
        footer=False,
        button=True,
    ),
    Action("pick_preset", "p", N_("Presets"), N_("Presets"), N_("load an exercise"), button=True),
    Action(
        "open",
        "O",
        N_("Open"),
        N_("Open…"),
        N_("a saved setup (.toml) or the setup of an exported weights file"),
        footer=False,
    ),
    Action(
        "export",
        "e",
        N_("Export"),
        N_("Export"),
        N_("the trained weights as .pt, .safetensors, .onnx or .npz, or a PyTorch script .py"),
        footer=False,
        button=True,
    ),
    Action(
        "save_preset",
        "s",
        N_("Save"),
        N_("Save as preset"),
        N_("the current setup as a TOML file, with the run's result once it has ended"),
        footer=False,
        button=True,
    ),
    Action(
        "hint", "h", N_("Hint"), N_("Next hint"), N_("reveal the exercise's next hint"), button=True
    ),
    Action(
        "solution",
        "S",
        N_("Solution"),
        N_("Show solution"),
        N_("apply the exercise's solution, after asking"),
        footer=False,
        button=True,
    ),
    Action(
        "compare",
        "c",
        "Compare",
        "Compare runs",
        "train variants of this setup side by side: choose a field and its values",
        footer=False,
    ),
    Action(
        "clear_ghosts",
        "x",
        N_("Clear earlier"),
        N_("Clear earlier runs"),
        N_("remove the faded curves that a reset keeps of the earlier runs"),
        footer=False,
    ),
    Action(
        "toggle_build",
        "b",
        N_("Build panel"),
        N_("Toggle build panel"),
        N_("hide or show the forms: more room for the charts"),
        footer=False,
    ),
    Action(
        "backprop",
        "B",
        N_("Backprop lab"),
        N_("Lab: backpropagation"),
        N_("every value and gradient of a 2-2-2 network, step by step"),
        footer=False,
    ),
    Action(
        "optimizer_paths",
        "o",
        N_("Optimizer paths"),
        N_("Lab: optimizer paths"),
        N_("SGD, momentum, AdaGrad, RMSprop and Adam on 2-D functions"),
        footer=False,
    ),
    Action(
        "gradient_check",
        "g",
        N_("Gradient check"),
        N_("Lab: gradient check"),
        N_("numerical gradients against backprop for this model"),
        footer=False,
    ),
    Action(
        "lr_range_test",
        "l",
        N_("LR range test"),
        N_("Lab: learning-rate range test"),
        N_("the loss as the learning rate grows, and a rate to use for this setup"),
        footer=False,
    ),
    Action(
        "confusion_matrix",
        "C",
        N_("Confusion matrix"),
        N_("Lab: confusion matrix"),
        N_("which classes the network mistakes for which, on the validation set"),
        footer=False,
    ),
    Action(
        "show_charts",
        "1",
        N_("Charts"),
        N_("Charts"),
        N_("loss and accuracy, layer statistics and a small map"),
        footer=False,
    ),
    Action(
        "show_map",
        "2",
        N_("Map"),
        N_("Map"),
        N_("the decision map (or prediction curve) as large as it fits"),
        footer=False,
    ),
    Action(
        "toggle_validation",
        "v",
        N_("Validation points"),
        N_("Show or hide the validation points"),
        N_("the validation points (○) on the map: hide them to see the training data alone"),
        footer=False,
    ),
    Action(
        "show_neurons",
        "3",
        N_("Neurons"),
        N_("Neurons"),
        N_("every unit's output over the plane, its weights and bias"),
        footer=False,
    ),
    Action(
        "show_weights",
        "4",
        N_("Weights"),
        N_("Weights"),
        N_("each weight and bias of the small layers, live"),
        footer=False,
    ),
    Action(
        "show_network",
        "5",
        N_("Network"),
        N_("Network"),
        N_("the network drawn: every unit and connection, coloured by its weight, live"),
        footer=False,
    ),
    Action(
        "previous_unit",
        "left_square_bracket",
        N_("Previous unit"),
        N_("Previous unit"),
        N_("select the previous unit (Neurons tab) or connection (Network tab)"),
        footer=False,
    ),
    Action(
        "next_unit",
        "right_square_bracket",
        N_("Next unit"),
        N_("Next unit"),
        N_("select the next unit (Neurons tab) or connection (Network tab)"),
        footer=False,
    ),
    Action(
        "explain_update",
        "u",
        N_("Explain update"),
        N_("Explain this update"),
        N_(
            "the next step of the connection selected in the Network tab, worked out by hand, "
            "then taken and checked against torch"
        ),
        footer=False,
    ),
    Action(
        "next_class",
        "k",
        N_("Pen"),
        N_("Class to draw"),
        N_("the class (a regression: the value) a click on the Map tab adds"),
        footer=False,
    ),
    Action(
        "remove_point",
        "X",
        N_("Remove point"),
        N_("Remove a drawn point"),
        N_("remove the point you drew nearest the last click on the map (or right-click it)"),
        footer=False,
    ),
    Action(
        "save_data",
        "D",
        N_("Save data"),
        N_("Save the data as CSV"),
        N_("a 2-D task's points, yours too, as a CSV file that nnplay opens as a task"),
        footer=False,
    ),
    Action(
        "toggle_description",
        "d",
        N_("Description"),
        N_("Fold the description"),
        N_("show or hide the exercise's description"),
        footer=False,
    ),
    Action("help", "question_mark", N_("Help"), N_("Help"), N_("keys and what they do")),
    Action(
        "unfocus",
        "escape",
        N_("Keys back"),
        N_("Leave the field"),
        N_("leave a form field: the keys act on the playground again"),
    ),
    Action("quit", "q", N_("Quit"), N_("Quit"), N_("leave nnplay"), main_only=False),
]
BY_ID = {action.id: action for action in ACTIONS}


# Textual's own words that the learner reads (the footer's palette key, the palette's prompt
# and its system commands), translated with the playground's.
TEXTUAL_WORDS = (
    N_("palette"),
    N_("Search for commands…"),
    N_("Theme"),
    N_("Change the current theme"),
    N_("Quit the application as soon as possible"),
    N_("Keys"),
    N_("Hide the keys and widget help panel"),
    N_("Show help for the focused widget and a summary of available keys"),
    N_("Minimize"),
    N_("Minimize the widget and restore to normal size"),
    N_("Maximize"),
    N_("Maximize the focused widget"),
    N_("Screenshot"),
    N_("Save an SVG 'screenshot' of the current screen"),
)


def bindings() -> list[BindingType]:
    return [Binding(a.key, a.id, a.label, show=a.footer) for a in ACTIONS]


def translate_bindings(node: DOMNode) -> None:
    """Show `node`'s key descriptions (the footer's words) in the learner's language.

    Class bindings are made at import; each node holds its own copy of them, which is the one
    translated here (from its __init__, so before the footer reads them)."""
    for key, found in node._bindings.key_to_bindings.items():
        node._bindings.key_to_bindings[key] = [
            replace(b, description=_(b.description)) if b.description else b for b in found
        ]


def buttons() -> list[Action]:
    return [a for a in ACTIONS if a.button]


def palette_entries() -> list[Action]:
    """What the palette offers; leaving a field makes no sense from the palette."""
    return [a for a in ACTIONS if a.id != "unfocus"]


def help_rows() -> list[tuple[str, str]]:
    """(key, what it does) for every action and the palette, in the learner's language."""
    row = _("{title}: {description}")
    rows = [
        (a.key_text, row.format(title=_(a.title), description=_(a.description))) for a in ACTIONS
    ]
    return [*rows, ("ctrl+p", _("command palette: every action by name"))]


class ActionCommands(Provider):
    """The command palette's entries for the playground's actions (none over a lab screen)."""

    def _available(self) -> list[Action]:
        if self.screen is not self.app.screen_stack[0]:
            return []
        return palette_entries()

    async def discover(self) -> Hits:
        for action in self._available():
            yield DiscoveryHit(
                _(action.title),
                partial(self.app.run_action, action.id),
                help=f"{_(action.description)} ({action.key_text})",
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action in self._available():
            title = _(action.title)
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self.app.run_action, action.id),
                    help=f"{_(action.description)} ({action.key_text})",
                )
