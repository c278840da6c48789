"""An exercise's locks in the build panel: a locked field is shown but cannot be edited, and a
line under it says why; a hidden section is not shown. Loading another exercise undoes them."""

from __future__ import annotations

from textual.widget import Widget
from textual.widgets import Static

from nnplay.experiment import Experiment
from nnplay.i18n import _
from nnplay.locks import is_locked

# The form's boxes (ids section-<name>) that show each section an exercise may hide.
BOXES = {"task": ("data",), "model": ("network",), "training": ("training", "regularization")}
LAYER_CONTROLS = "#layers Input, #layers Select, #layers Checkbox, #layers Button"


def lock_reason() -> str:
    return _(
        "Locked by the exercise: it teaches with this value, so it cannot be edited. The "
        "solution (S) may still change it."
    )


async def show_locks(panel: Widget, exp: Experiment) -> None:
    """Show `exp`'s locks in `panel` (a filled BuildPanel): hidden boxes, locked rows."""
    from nnplay.tui.build_panel import FieldRow  # the panel imports this module

    for section, boxes in BOXES.items():
        for box in boxes:
            panel.query_one(f"#section-{box}").display = section not in exp.lock.hide
    for row in panel.query(FieldRow):
        locked = is_locked(exp, row.field.path)
        for control in row.query(".field-input, .feature"):
            control.disabled = locked
        row.tooltip = lock_reason() if locked else None
        await _note(row, locked, _("locked by the exercise"))
    layers = is_locked(exp, "model.hidden")
    for control in panel.query(LAYER_CONTROLS):
        control.disabled = layers
    panel.query_one("#add-layer").display = not layers
    panel.query_one("#all-activation-row").display = not layers
    network = panel.query_one("#section-network")
    await _note(network, layers, _("the hidden layers are locked by the exercise"), "#layers")


async def _note(box: Widget, locked: bool, text: str, before: str | None = None) -> None:
    """The line in `box` that says why it is locked: there only while it is."""
    found = box.query_children(".lock-note")
    if locked and not found:
        line = Static(text, classes="lock-note", markup=False)
        line.tooltip = lock_reason()
        await box.mount(line, before=before)
    elif not locked and found:
        await found.remove()
