"""A seeded monkey drives the real app and checks after every action that it still tells the truth.

Actions are drawn from every binding, button and palette command, form edits (valid and not),
layer changes, presets loaded mid-run, the lab screens, exports and saves (good and bad paths)
and terminal resizes. A failure names the seed and the actions so far, to replay them.
`--monkey-steps N` (or NNPLAY_MONKEY_STEPS=N) runs N actions per seed; NNPLAY_MONKEY_SEEDS=4,5,6
chooses the seeds (default 1,2,3).
"""

import contextlib
import os
import random
import re
import string
import traceback

import pytest
from textual.command import CommandPalette
from textual.pilot import OutOfBounds
from textual.widgets import Button, Checkbox, Input, OptionList, Select

from nnplay.labels import status_word
from nnplay.presets import preset_names
from nnplay.status import Status
from nnplay.tui.actions import ACTIONS, palette_entries
from nnplay.tui.build_panel import BuildPanel, FieldRow, LayerRow
from nnplay.tui.compare_view import CompareDialog, CompareScreen
from nnplay.tui.dialogs import Confirm, PathPrompt, PresetPicker
from nnplay.tui.form_model import needs_reset
from nnplay.tui.lab_screens import BackpropScreen, LabScreen, OptPathsScreen

from .conftest import ready

SEEDS = [int(s) for s in os.environ.get("NNPLAY_MONKEY_SEEDS", "1,2,3").split(",")]
CI_STEPS = 80
KEYS = [a.key for a in ACTIONS if a.id != "quit"] + ["tab", "enter", "y", "escape", "down"]
TEXTS = ["0.01", "3", "-1", "1e308", "", "abc", "0", "99999999999", "nan", "0.5", "inf", "-0"]
MARKUP = ["[/x]", "[b]1", "[@click=app.quit]q", "1\\"]  # shown as typed, never as markup
TEXTS += MARKUP


def random_text(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return "".join(rng.choice(string.printable[:94]) for _ in range(rng.randint(1, 8)))
    return rng.choice(TEXTS)


class Monkey:
    def __init__(self, pilot, rng: random.Random, folder) -> None:
        self.pilot, self.app, self.rng, self.folder = pilot, pilot.app, rng, folder
        self.log: list[str] = []

    async def act(self) -> None:
        screen = self.app.screen
        if isinstance(screen, LabScreen):
            choices = [self.lab_key, self.lab_edit, self.dropdown, self.leave]
        elif isinstance(screen, (PresetPicker, Confirm, PathPrompt, CommandPalette, CompareDialog)):
            choices = [self.dialog, self.dropdown, self.leave]
        elif isinstance(screen, CompareScreen):  # a comparison runs: leaving stops it
            choices = [self.leave, self.wait, self.resize, self.compare_key]
        else:
            choices = [
                self.key,
                self.key,
                self.button,
                self.palette,
                self.edit,
                self.edit,
                self.layers,
                self.dropdown,
                self.preset,
                self.lab,
                self.file,
                self.resize,
                self.wait,
            ]
        await self.rng.choice(choices)()
        await self.pilot.pause()

    def note(self, text: str) -> None:
        self.log.append(text)

    async def key(self) -> None:
        key = self.rng.choice(KEYS)
        self.note(f"press {key}")
        await self.pilot.press(key)

    async def button(self) -> None:
        buttons = [b for b in self.app.query("#controls Button") if not b.disabled]
        if buttons:
            button = self.rng.choice(buttons)
            self.note(f"button {button.id}")
            button.press()

    async def palette(self) -> None:
        action = self.rng.choice([a for a in palette_entries() if a.id != "quit"])
        self.note(f"palette {action.title}")
        await self.pilot.press("ctrl+p")
        await self.pilot.pause()
        if isinstance(self.app.screen, CommandPalette):
            self.app.screen.query_one(Input).value = action.title
            await self.pilot.pause(0.05)
            await self.pilot.press("enter")

    async def edit(self) -> None:
        rows = [r for r in self.app.query(FieldRow) if r.display]
        if not rows:
            return
        row = self.rng.choice(rows)
        widget = row.query_one(".field-input")
        if isinstance(widget, Input):
            text = random_text(self.rng)
            self.note(f"type {text!r} into {row.field.path}")
            widget.value = text
        elif isinstance(widget, Select):
            await self.choose(widget, row.field.path)
        elif isinstance(widget, Checkbox):
            self.note(f"toggle {row.field.path}")
            widget.toggle()

    async def dropdown(self) -> None:
        """Any dropdown on the screen on top (a dialog's, a lab's, a layer row's, the form's)."""
        selects = [s for s in self.app.screen.query(Select) if s.display and not s.disabled]
        if selects:
            select = self.rng.choice(selects)
            await self.choose(select, f"dropdown {select.id or type(select.parent).__name__}")

    async def choose(self, select: Select, what: str) -> None:
        """Open a dropdown and pick one of its options with the keys, as a person does."""
        options = select.query_one(OptionList)
        index = self.rng.randrange(options.option_count)
        self.note(f"choose option {index} of {what}")
        select.focus()
        await self.pilot.press("enter")  # opens the list
        options.highlighted = index
        await self.pilot.press("enter")

    async def layers(self) -> None:
        # a row being removed has lost its buttons already: a person can no longer press them
        rows = [r for r in self.app.query(LayerRow) if r.query(".remove")]
        kind = self.rng.choice(["add", "remove", "up", "down", "units", "click"])
        if kind == "add" or not rows:
            self.note("add layer")
            self.app.query_one("#add-layer", Button).press()
            return
        index = self.rng.randrange(len(rows))
        row = rows[index]
        if kind == "units":
            text = random_text(self.rng)
            self.note(f"layer {index + 1} units {text!r}")
            for field in row.query(".units").results(Input):  # none on a row half removed
                field.value = text
        elif kind == "click":  # a real click, where the row is on screen
            self.note(f"click remove on layer {index + 1}")
            with contextlib.suppress(OutOfBounds):
                await self.pilot.click(row.query_one(".remove"))
        else:
            self.note(f"{kind} layer {index + 1}")
            for button in row.query(f".{kind}").results(Button):  # none on a row half removed
                button.press()

    async def preset(self) -> None:
        name = self.rng.choice(preset_names())
        self.note(f"load preset {name}")
        await self.pilot.press("p")
        await self.pilot.pause()
        if isinstance(self.app.screen, PresetPicker):
            self.app.screen.dismiss(name)

    async def lab(self) -> None:
        key = self.rng.choice(["B", "o", "g"])
        self.note(f"open lab {key}")
        await self.pilot.press(key)

    async def lab_key(self) -> None:
        key = self.rng.choice(
            ["n", "r", "pagedown", "end", "home", "up", "tab", "ctrl+r", "e", "space", "p", "s"]
        )
        self.note(f"lab press {key}")
        await self.pilot.press(key)

    async def lab_edit(self) -> None:
        inputs = list(self.app.screen.query(Input))
        if inputs:
            widget = self.rng.choice(inputs)
            text = self.rng.choice(["1", "-1", "x", "", "0.1, 0.2", "1e9", "1,2,3,4", *MARKUP])
            self.note(f"lab field {widget.id} = {text!r}")
            widget.value = text
            if isinstance(self.app.screen, OptPathsScreen):
                self.app.screen.action_run()
            elif isinstance(self.app.screen, BackpropScreen):
                await self.pilot.press("n")

    async def dialog(self) -> None:
        screen = self.app.screen
        if isinstance(screen, PathPrompt):
            path = self.rng.choice(
                [
                    self.folder / f"w{self.rng.randrange(9)}.pt",
                    self.folder / "w.onnx",
                    self.folder / "w.npz",
                    self.folder / "w.safetensors",
                    self.folder / "w.py",
                    self.folder / "s.toml",
                    self.folder / "no" / "such" / "dir.pt",
                    self.folder,
                    self.folder / "w.txt",
                    self.folder / "a[/x]" / "w.pt",
                    self.folder / "[b]w.pt",
                    "",
                ]
            )
            twice = self.rng.random() < 0.3  # a second Enter queued before the prompt closed
            self.note(f"path {path}" + (" (enter twice)" if twice else ""))
            screen.query_one(Input).value = str(path)
            await self.pilot.press(*["enter"] * (2 if twice else 1))
        elif isinstance(screen, CompareDialog) and self.rng.random() < 0.4:
            text = self.rng.choice(["0.1, 0.3", "sgd, adam", "8, 32", "", "1, x", "0", *MARKUP])
            text = text if self.rng.random() < 0.7 else random_text(self.rng)
            self.note(f"compare values {text!r}")
            screen.query_one("#compare-values", Input).value = text
        else:
            keys = ["enter", "down", "y", "escape", "tab"]
            if isinstance(screen, CommandPalette):  # entered blindly, it may pick Quit
                keys = ["down", "escape", "tab"]
            key = self.rng.choice(keys)
            self.note(f"{type(screen).__name__} press {key}")
            await self.pilot.press(key)

    async def compare_key(self) -> None:
        """Keys of the playground pressed on the comparison: they must not reach it."""
        key = self.rng.choice(["space", "r", "c", "tab", "down", "n"])
        self.note(f"compare press {key}")
        await self.pilot.press(key)

    async def leave(self) -> None:
        self.note("escape")
        await self.pilot.press("escape")

    async def file(self) -> None:
        key = self.rng.choice(["e", "s"])
        self.note(f"press {key}")
        await self.pilot.press(key)

    async def resize(self) -> None:
        size = (self.rng.randint(60, 220), self.rng.randint(20, 70))
        self.note(f"resize {size}")
        await self.pilot.resize_terminal(*size)

    async def wait(self) -> None:
        seconds = self.rng.choice([0.05, 0.2, 0.5])
        self.note(f"wait {seconds}")
        await self.pilot.pause(seconds)

    def check(self) -> None:
        app = self.app
        assert app.return_code is None and app.is_running, "the app stopped"
        if app.screen is not app.screen_stack[0]:
            return
        status = str(app.query_one("#status").render())
        session = app.session
        if session is None:
            assert status.startswith(
                ("loading PyTorch", "building the network", "the network could not")
            ), status
            return
        assert status.split()[0] in {status_word(s) for s in Status}, status
        panel = app.query_one(BuildPanel)
        shown = re.search(r"([\d,]+) parameters", str(panel.query_one("#architecture").render()))
        if (
            shown
            and app.form_valid
            and panel.experiment is app.edited
            and not needs_reset(session.experiment, app.edited)
        ):
            count = sum(p.numel() for p in session.trainer.model.parameters())
            assert int(shown.group(1).replace(",", "")) == count


async def run_monkey(make_app, seed: int, steps: int, folder) -> int:
    rng = random.Random(seed)
    app = make_app(rng.choice(preset_names()), **{"task.samples": 300})
    monkey = None
    try:
        # an error in the app ends it, and run_test raises that error as the block closes
        async with app.run_test(size=(120, 40)) as pilot:
            monkey = Monkey(pilot, rng, folder)
            await ready(pilot)
            for _ in range(steps):
                await monkey.act()
                monkey.check()
            if app.session is not None:
                app.session.pause()
            await app.workers.wait_for_complete()
    except Exception as cause:
        trace = "".join(traceback.format_exception(cause)[-12:])
        log = monkey.log if monkey else []
        replay = "\n".join(log[-60:])
        raise AssertionError(
            f"monkey seed {seed} failed after {len(log)} actions:\n"
            f"{trace}\nthe last actions:\n{replay}"
        ) from cause
    return len(monkey.log)


@pytest.mark.parametrize("seed", SEEDS)
async def test_the_monkey_cannot_break_the_app(make_app, tmp_path, seed, monkey_steps):
    done = await run_monkey(make_app, seed, monkey_steps or CI_STEPS, tmp_path)
    assert done >= (monkey_steps or CI_STEPS) * 0.5  # most actions did something
