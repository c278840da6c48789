"""Every action of the playground, listed once.

The key bindings, the footer, the buttons, the command palette and the help screen are all
made from `ACTIONS`, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider

KEY_NAMES = {
    "space": "space",
    "question_mark": "?",
    "escape": "escape",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
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
        "Start/Pause",
        "Start / pause training",
        "train continuously, or pause",
        button=True,
    ),
    Action("step", "n", "Step", "Step", "train on one mini-batch", button=True),
    Action(
        "reset",
        "r",
        "Reset",
        "Reset",
        "new weights from the form; changes to the network, data or training apply here",
        button=True,
    ),
    Action("pick_preset", "p", "Presets", "Presets", "load an exercise", button=True),
    Action(
        "export",
        "e",
        "Export",
        "Export",
        "the trained weights as .pt, .safetensors, .onnx or .npz, or a PyTorch script .py",
        footer=False,
        button=True,
    ),
    Action(
        "save_preset",
        "s",
        "Save",
        "Save as preset",
        "the current setup as a TOML file",
        footer=False,
        button=True,
    ),
    Action("hint", "h", "Hint", "Next hint", "reveal the exercise's next hint", button=True),
    Action(
        "solution",
        "S",
        "Solution",
        "Show solution",
        "apply the exercise's solution, after asking",
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
        "Clear earlier",
        "Clear earlier runs",
        "remove the faded curves that a reset keeps of the earlier runs",
        footer=False,
    ),
    Action(
        "toggle_build",
        "b",
        "Build panel",
        "Toggle build panel",
        "hide or show the forms: more room for the charts",
        footer=False,
    ),
    Action(
        "backprop",
        "B",
        "Backprop lab",
        "Lab: backpropagation",
        "every value and gradient of a 2-2-2 network, step by step",
        footer=False,
    ),
    Action(
        "optimizer_paths",
        "o",
        "Optimizer paths",
        "Lab: optimizer paths",
        "SGD, momentum, AdaGrad, RMSprop and Adam on 2-D functions",
        footer=False,
    ),
    Action(
        "gradient_check",
        "g",
        "Gradient check",
        "Lab: gradient check",
        "numerical gradients against backprop for this model",
        footer=False,
    ),
    Action(
        "show_charts",
        "1",
        "Charts",
        "Charts",
        "loss and accuracy, layer statistics and a small map",
        footer=False,
    ),
    Action(
        "show_map",
        "2",
        "Map",
        "Map",
        "the decision map (or prediction curve) as large as it fits",
        footer=False,
    ),
    Action(
        "show_neurons",
        "3",
        "Neurons",
        "Neurons",
        "every unit's output over the plane, its weights and bias",
        footer=False,
    ),
    Action(
        "show_weights",
        "4",
        "Weights",
        "Weights",
        "each weight and bias of the small layers, live",
        footer=False,
    ),
    Action(
        "previous_unit",
        "left_square_bracket",
        "Previous unit",
        "Previous unit",
        "select the previous unit in the Neurons tab",
        footer=False,
    ),
    Action(
        "next_unit",
        "right_square_bracket",
        "Next unit",
        "Next unit",
        "select the next unit in the Neurons tab",
        footer=False,
    ),
    Action(
        "toggle_description",
        "d",
        "Description",
        "Fold the description",
        "show or hide the exercise's description",
        footer=False,
    ),
    Action("help", "question_mark", "Help", "Help", "keys and what they do"),
    Action(
        "unfocus",
        "escape",
        "Keys back",
        "Leave the field",
        "leave a form field: the keys act on the playground again",
    ),
    Action("quit", "q", "Quit", "Quit", "leave nnplay", main_only=False),
]
BY_ID = {action.id: action for action in ACTIONS}


def bindings() -> list[BindingType]:
    return [Binding(a.key, a.id, a.label, show=a.footer) for a in ACTIONS]


def buttons() -> list[Action]:
    return [a for a in ACTIONS if a.button]


def palette_entries() -> list[Action]:
    """What the palette offers; leaving a field makes no sense from the palette."""
    return [a for a in ACTIONS if a.id != "unfocus"]


def help_markdown() -> str:
    rows = "\n".join(f"| `{a.key_text}` | {a.title}: {a.description} |" for a in ACTIONS)
    palette = "| `ctrl+p` | command palette: every action by name |"
    return f"| key | does |\n|---|---|\n{rows}\n{palette}"


class ActionCommands(Provider):
    """The command palette's entries for the playground's actions (none over a lab screen)."""

    def _available(self) -> list[Action]:
        if self.screen is not self.app.screen_stack[0]:
            return []
        return palette_entries()

    async def discover(self) -> Hits:
        for action in self._available():
            yield DiscoveryHit(
                action.title,
                partial(self.app.run_action, action.id),
                help=f"{action.description} ({action.key_text})",
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action in self._available():
            score = matcher.match(action.title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(action.title),
                    partial(self.app.run_action, action.id),
                    help=f"{action.description} ({action.key_text})",
                )
