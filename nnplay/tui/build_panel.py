"""The build panel: forms for data, layers, training and regularization.

It edits a working copy of the Experiment. Every change rebuilds the candidate through
`form_model.build`, marks bad fields inline with the schema's message, updates the layer
shapes and parameter count, and tells the app (`BuildPanel.Edited`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.containers import HorizontalGroup, VerticalGroup, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from nnplay.experiment import Experiment, LayerSpec, field_rule
from nnplay.i18n import _, ngettext
from nnplay.labels import label
from nnplay.model import describe, parameter_count
from nnplay.tasks import FEATURE_MODES, TASKS
from nnplay.tui import form_model
from nnplay.tui.dropdown import Dropdown
from nnplay.tui.form_locks import show_locks
from nnplay.tui.form_model import FormField
from nnplay.tui.prose import Prose

MAX_LAYERS = 12


def field_id(path: str) -> str:
    return "f-" + path.replace(".", "--").replace("[", "-").replace("]", "")


LABEL_WIDTH = 19  # cells: the longest English label and a space


def label_width() -> int:
    """The label column's width in cells: the longest label in the learner's language, a
    space after it (so a label is never wrapped or cut), at least LABEL_WIDTH."""
    labels = [f.label for fields in form_model.FORM_SECTIONS.values() for f in fields]
    return max(LABEL_WIDTH, *(cell_len(text) + 1 for text in labels))


def field_label(text: str) -> Label:
    label = Label(text, classes="field-label")
    label.styles.width = label_width()
    return label


def choice_options(path: str) -> list[tuple[str, str]]:
    return [(option, option) for option in field_rule(path)[0].options]


class OnOff(Checkbox):
    """A checkbox whose mark shows its state (Textual's draws the same X on and off)."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802 (Textual reads it per render)
        return "✔" if self.value else " "


class FieldRow(VerticalGroup):
    """One labelled setting with its inline error line."""

    def __init__(self, field: FormField, value) -> None:
        super().__init__(id=field_id(field.path), classes="field")
        self.field = field
        self.value = value

    def compose(self) -> ComposeResult:
        with HorizontalGroup():
            yield field_label(self.field.label)
            common: dict[str, Any] = {
                "compact": True,
                "classes": "field-input",
                "tooltip": self.field.help,
            }
            if self.field.is_flag:
                yield OnOff(value=bool(self.value), **common)
            elif self.field.is_choice:
                yield Dropdown(
                    choice_options(self.field.path), value=self.value, allow_blank=False, **common
                )
            else:
                yield Input(form_model.text_of(self.value), **common)
        yield Static("", classes="error", markup=False)  # shows what was typed

    def raw(self):
        widget: Any = self.query_one(".field-input")  # Input, Select or Checkbox
        return widget.value

    def set_raw(self, value) -> None:
        widget: Any = self.query_one(".field-input")  # Input, Select or Checkbox
        widget.value = value if not isinstance(widget, Input) else form_model.text_of(value)

    def show_error(self, message: str | None) -> None:
        error = self.query_one(".error", Static)
        error.update(Prose(message or ""))
        error.display = bool(message)
        self.set_class(bool(message), "invalid")


FEATURE_LABELS = {
    "x1": "x1",
    "x2": "x2",
    "x1^2": "x1²",
    "x2^2": "x2²",
    "x1*x2": "x1·x2",
    "sin(x1)": "sin(x1)",
    "sin(x2)": "sin(x2)",
}
SHORTHANDS = {"raw": ["x1", "x2"], "poly2": ["x1", "x2", "x1^2", "x2^2", "x1*x2"]}  # on 2-D tasks


class FeaturesRow(FieldRow):
    """task.features: a toggle per input feature on 2-D tasks (as TF Playground's), the
    shorthand raw or poly2 on the others. Toggles that spell a shorthand give the shorthand."""

    def compose(self) -> ComposeResult:
        with HorizontalGroup():
            yield field_label(self.field.label)
            yield Dropdown(
                [(mode, mode) for mode in FEATURE_MODES],
                allow_blank=False,
                value=self.value if isinstance(self.value, str) else "raw",
                compact=True,
                classes="field-input",
                tooltip=self.field.help,
            )
        with HorizontalGroup(classes="feature-toggles"):
            chosen = self._names(self.value)
            for name, text in FEATURE_LABELS.items():
                yield OnOff(text, value=name in chosen, compact=True, name=name, classes="feature")
        yield Static("", classes="error", markup=False)  # shows what was typed

    @staticmethod
    def _names(value) -> list[str]:
        return list(value) if isinstance(value, list) else SHORTHANDS.get(value, [])

    def show_for(self, two_d: bool) -> None:
        self.query_one(".field-input", Select).display = not two_d
        self.query_one(".feature-toggles").display = two_d

    def raw(self):
        if self.query_one(".field-input", Select).display:
            return self.query_one(".field-input", Select).value
        names = [str(box.name) for box in self.query(".feature").results(Checkbox) if box.value]
        shorthand = [mode for mode, spelled in SHORTHANDS.items() if spelled == names]
        return shorthand[0] if shorthand else names

    def set_raw(self, value) -> None:
        self.query_one(".field-input", Select).value = value if isinstance(value, str) else "raw"
        chosen = self._names(value)
        for box in self.query(".feature").results(Checkbox):
            box.value = box.name in chosen


class LayerRow(HorizontalGroup):
    """One hidden layer: units, activation, dropout, batch norm, and move/remove buttons."""

    def __init__(self, values: dict) -> None:
        super().__init__(classes="layer")
        self.values = values

    def compose(self) -> ComposeResult:
        yield Label("", classes="layer-index")
        yield Input(
            str(self.values["units"]),
            compact=True,
            classes="units",
            tooltip=_("units: {allowed}").format(allowed=field_rule("layer.units")[0].describe()),
        )
        yield Dropdown(
            choice_options("layer.activation"),
            value=self.values["activation"],
            allow_blank=False,
            compact=True,
            classes="activation",
        )
        yield Input(
            form_model.text_of(self.values["dropout"]),
            compact=True,
            classes="dropout",
            tooltip=_("dropout rate: {allowed}").format(
                allowed=field_rule("layer.dropout")[0].describe()
            ),
        )
        yield OnOff(
            value=self.values["batch_norm"],
            compact=True,
            classes="bn",
            tooltip=_("batch norm before the activation"),
        )
        yield Button("↑", compact=True, classes="up", tooltip=_("move up"))
        yield Button("↓", compact=True, classes="down", tooltip=_("move down"))
        yield Button("✕", compact=True, classes="remove", tooltip=_("remove this layer"))

    def raw(self) -> dict:
        return {
            "units": self.query_one(".units", Input).value,
            "activation": self.query_one(".activation", Select).value,
            "dropout": self.query_one(".dropout", Input).value,
            "batch_norm": self.query_one(".bn", Checkbox).value,
        }


class BuildPanel(VerticalScroll):
    """All the forms; posts `Edited` with the candidate experiment after every change."""

    class Edited(Message):
        def __init__(self, experiment: Experiment, errors: dict[str, str]) -> None:
            super().__init__()
            self.experiment = experiment
            self.errors = errors

    def __init__(self, experiment: Experiment, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base = experiment
        self.experiment = experiment
        self.errors: dict[str, str] = {}
        self.filled = False  # the form widgets are mounted after the first frame
        self._layers_changing = asyncio.Lock()
        self._place_held = False  # a place is held until the form's change is drawn

    def compose(self) -> ComposeResult:
        # Only the frames: the ~150 form widgets are mounted after the first frame, which
        # would otherwise take half a second longer to appear.
        for title in form_model.FORM_SECTIONS:
            section = VerticalGroup(classes="section", id=f"section-{title.lower()}")
            section.border_title = _(title)
            yield section

    def on_mount(self) -> None:
        self.call_after_refresh(self._fill)

    async def _fill(self) -> None:
        for title, fields in form_model.FORM_SECTIONS.items():
            if not self.is_attached:
                return  # the app is closing (q pressed in its first second): nothing to fill
            section = self.query_one(f"#section-{title.lower()}")
            rows: list[Widget] = [
                (FeaturesRow if field.path == "task.features" else FieldRow)(
                    field, form_model.value_of(self.base, field.path)
                )
                for field in fields
            ]
            if title == "Network":
                every = Dropdown(
                    choice_options("layer.activation"),
                    prompt=_("activation…"),
                    compact=True,
                    id="all-activation",
                    tooltip=_("set the activation of every hidden layer at once"),
                )
                rows += [
                    HorizontalGroup(
                        field_label(_("every layer's")),
                        every,
                        id="all-activation-row",
                    ),
                    # the columns of the rows below: a translation keeps them aligned
                    Label(_("layer units activation   drop  BN"), classes="hint"),
                    VerticalGroup(id="layers"),
                    Button(_("+ add layer"), id="add-layer", compact=True),
                    Static("", id="architecture"),
                    Static("", id="layer-error", classes="error", markup=False),
                ]
            await section.mount_all(rows)
        if not self.is_attached:
            return
        self.filled = True
        await self.load(self.base)

    # -- loading and reading ----------------------------------------------------------------------

    async def load(self, experiment: Experiment) -> None:
        """Show `experiment` in the forms (a preset, a reset, a solution)."""
        self.base = experiment
        if not self.filled:
            return  # filling the form shows the newest base
        for row in self.query(FieldRow):
            with row.prevent(Input.Changed, Select.Changed, Checkbox.Changed):
                row.set_raw(form_model.value_of(experiment, row.field.path))
        values = [form_model.layer_values(layer) for layer in experiment.model.hidden]
        await self._change_layers(lambda rows: values)
        if self.is_attached:
            await show_locks(self, experiment)

    async def _change_layers(self, change: Callable[[list[LayerRow]], list[dict] | None]) -> None:
        """Rebuild the layer rows from `change(rows)` (None: no change), then revalidate.

        Removing and mounting rows take a few frames and a row read half-removed has lost its
        inputs: changes wait for each other, and validation waits for them.
        """
        async with self._layers_changing:
            values = change(self.layer_rows())
            if values is not None and self.is_attached:  # not while the app closes
                self._hold_place()
                layers = self.query_one("#layers")
                focused = self.screen.focused
                if focused is not None and layers in focused.ancestors:
                    # Textual would focus the panel's first control instead, scrolling to it
                    self.screen.set_focus(None)
                await layers.remove_children()
                await layers.mount_all(LayerRow(v) for v in values)
        if self.is_attached:
            self.revalidate()

    def set_value(self, path: str, value) -> None:
        """One field set from outside the form (Regenerate's data seed); the form revalidates."""
        self.query_one(f"#{field_id(path)}", FieldRow).set_raw(value)

    def layer_rows(self) -> list[LayerRow]:
        return list(self.query(LayerRow))

    def revalidate(self) -> None:
        if self._layers_changing.locked():
            return  # the change revalidates when it is done
        features = self.query_one(FeaturesRow)
        task = self.query_one(f"#{field_id('task.name')}", FieldRow).raw()
        features.show_for(task in TASKS and TASKS[task].is_2d)  # before it is read
        values = {row.field.path: row.raw() for row in self.query(FieldRow)}
        layers = [row.raw() for row in self.layer_rows()]
        experiment, errors = form_model.build(self.base, values, layers)
        self.experiment, self.errors = experiment, errors
        self._show(errors)
        self.post_message(self.Edited(experiment, errors))

    def _hold_place(self) -> None:
        """Keep what the pointer is on (else the focused control) where it is on the screen
        while the form above it changes height (an error line, layer rows rebuilt): the next
        click lands where the learner aimed. Without either, the panel keeps its scroll."""
        if self._place_held:
            return  # the first position counts until the change is drawn
        anchor = next(
            (
                widget
                for widget in (self.app.mouse_over, self.screen.focused)
                if widget is not None and self in widget.ancestors and widget.region.height
            ),
            None,
        )
        scroll, anchor_y = self.scroll_y, anchor.region.y if anchor is not None else 0
        self._place_held = True

        def restore() -> None:
            self._place_held = False
            if anchor is not None and anchor.is_mounted and anchor.region.height:
                scroll_now = scroll + anchor.region.y - anchor_y
            else:
                scroll_now = scroll
            self.scroll_to(y=scroll_now, animate=False, immediate=True)

        self.call_after_refresh(restore)

    def _show(self, errors: dict[str, str]) -> None:
        self._hold_place()
        shown = set()
        for row in self.query(FieldRow):
            row.display = form_model.visible(row.field.path, self.experiment)
            row.show_error(errors.get(row.field.path))
            shown.add(row.field.path)
        layer_errors = []
        for i, layer in enumerate(self.layer_rows()):
            layer.query_one(".layer-index", Label).update(f"{i + 1:>2}")
            bad = {k for k in errors if k.startswith(f"model.hidden[{i}].")}
            layer.set_class(bool(bad), "invalid")
            layer_errors += [
                _("layer {number} {field}: {problem}").format(
                    number=i + 1, field=label("layer." + k.rsplit(".", 1)[1]), problem=errors[k]
                )
                for k in sorted(bad)
            ]
        other = [
            f"{k}: {v}"
            for k, v in errors.items()
            if k not in shown and not k.startswith("model.hidden[")
        ]
        self.query_one("#layer-error", Static).update(Prose("\n".join(layer_errors + other)))
        self.query_one("#add-layer", Button).disabled = len(self.layer_rows()) >= MAX_LAYERS
        self.query_one("#architecture", Static).update(self._architecture())

    def _architecture(self) -> str:
        if any(k.startswith("model.") or k.startswith("task.") for k in self.errors):
            return _("(fix the fields marked in red to see the shapes)")
        try:
            rows = describe(self.experiment)
            total = parameter_count(self.experiment)
        except Exception:  # the loss may not fit the task yet; the error line says why
            return ""
        params = _("{count} params")
        lines = [
            f"{r.name:<8} {r.detail:<12} " + params.format(count=f"{r.params:>7,}")
            if r.params
            else f"{r.name:<8} {r.detail}"
            for r in rows
        ]
        every = ngettext("{count} parameter", "{count} parameters", total)
        return "\n".join(lines) + f"\n[b]{every.format(count=f'{total:,}')}[/b]"

    # -- events ---------------------------------------------------------------------------------

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        if self.filled:
            self.revalidate()

    @on(Select.Changed, "#all-activation")
    async def set_every_activation(self, event: Select.Changed) -> None:
        """Every hidden layer gets the chosen activation; the control goes back to its prompt."""
        if event.value is Select.NULL:
            return
        chosen = event.value
        await self._change_layers(
            lambda rows: [dict(row.raw(), activation=chosen) for row in rows] if rows else None
        )
        with event.select.prevent(Select.Changed):
            event.select.value = Select.NULL

    @on(Button.Pressed, "#add-layer")
    async def add_layer(self) -> None:
        def added(rows: list[LayerRow]) -> list[dict] | None:
            if len(rows) >= MAX_LAYERS:
                return None
            values = [row.raw() for row in rows]
            return values + [dict(values[-1]) if values else form_model.layer_values(LayerSpec())]

        await self._change_layers(added)

    @on(Button.Pressed, ".layer .remove")
    async def remove_layer(self, event: Button.Pressed) -> None:
        gone = event.button.parent

        def removed(rows: list[LayerRow]) -> list[dict] | None:
            return [row.raw() for row in rows if row is not gone] if gone in rows else None

        await self._change_layers(removed)

    @on(Button.Pressed, ".layer .up, .layer .down")
    async def move_layer(self, event: Button.Pressed) -> None:
        moving, offset = event.button.parent, -1 if event.button.has_class("up") else 1

        def moved(rows: list[LayerRow]) -> list[dict] | None:
            if moving not in rows or not 0 <= rows.index(moving) + offset < len(rows):
                return None  # a row already gone, or the first moving up
            here = rows.index(moving)
            values = [row.raw() for row in rows]
            values[here], values[here + offset] = values[here + offset], values[here]
            return values

        await self._change_layers(moved)
