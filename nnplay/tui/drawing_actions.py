"""The app's side of drawing on the map: clicks and keys change the learner's points, which go
to the session as a command (it rebuilds the training set between two steps), and the data
set is written as a CSV file that `nnplay FILE.csv --target label` opens again."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from nnplay.drawn import MOST_POINTS, dataset_csv
from nnplay.experiment import Experiment
from nnplay.files import write_atomic
from nnplay.i18n import _
from nnplay.locks import is_locked
from nnplay.presets import CSV_SUFFIX
from nnplay.tasks import TaskShape, is_blank, task_shape
from nnplay.tui.dialogs import PathPrompt
from nnplay.tui.drawing import Drawing
from nnplay.tui.map_view import DecisionMap
from nnplay.tui.session import Session
from nnplay.untrusted import shown

if TYPE_CHECKING:
    from textual.app import App

    _Base = App
else:
    _Base = object


def dataset(trainer) -> tuple:
    """(inputs, labels, regression) of every point a run has, on the plane: its training and
    validation sets, the learner's points among them (a blank task validates on the drawn
    points: they are written once)."""
    import numpy as np

    regression = trainer.shape.kind == "regression"
    x, y = trainer.raw_inputs(), trainer.y_train.numpy().reshape(-1)
    if not is_blank(trainer.exp.task):
        x = np.concatenate([x, trainer.raw_inputs(validation=True)])
        y = np.concatenate([y, trainer.y_val.numpy().reshape(-1)])
    return x, y, regression


class DrawingActions(_Base):
    """Mixed into the app: the pen's key, the clicks on the Map tab, removing and saving."""

    session: Session | None
    drawing: Drawing = Drawing()
    file_stem: str
    edited: Experiment  # the form's setup (its locks say whether data may be drawn)
    last_click: tuple[float, float] | None = None  # where the map was last clicked
    _pause: Callable[[], Awaitable[None]]

    def _shape(self) -> TaskShape | None:
        return None if self.session is None else task_shape(self.session.experiment.task)

    def drawn_for(self, experiment: Experiment):
        """The points a run of `experiment` trains on (those that fit its task)."""
        return self.drawing.fitting(task_shape(experiment.task))

    def show_pen(self) -> None:
        """The big map says what a click draws (a 2-D task), with the pen fitted to the task."""
        shape = self._shape()
        if shape is not None:
            self.drawing = self.drawing.for_task(shape)
        pen = None if shape is None else self.drawing.pen_text(shape)
        self.query_one("#big-map", DecisionMap).set_pen(pen)

    def _redraw_points(self, drawing: Drawing) -> None:
        self.drawing = drawing
        if self.session is not None:
            self.session.set_drawn(self.drawn_for(self.session.experiment))

    def on_decision_map_clicked(self, message: DecisionMap.Clicked) -> None:
        shape = self._shape()
        if message.map.id != "big-map" or shape is None or not shape.is_2d:
            return
        if is_locked(self.edited, "task.name"):  # a teacher's exercise keeps its data
            self.notify(_("The exercise locks its data: no points can be drawn on it."))
            return
        if message.remove:
            self._remove(message.x1, message.x2)
            return
        drawn = self.drawing.add(message.x1, message.x2, shape)
        if drawn is None:
            self.notify(self.drawing.other_kind(), severity="warning")
            return
        if drawn == self.drawing:
            most = _("At most {count} points can be drawn; remove some to draw more.")
            self.notify(most.format(count=MOST_POINTS), severity="warning")
            return
        self.last_click = (message.x1, message.x2)
        self._redraw_points(drawn)

    def _remove(self, x1: float, x2: float) -> None:
        if self.session is None or not len(self.drawn_for(self.session.experiment)):
            self.notify(_("There is no point you drew to remove."))
            return
        self.last_click = (x1, x2)
        self._redraw_points(self.drawing.remove_nearest(x1, x2))

    def action_next_class(self) -> None:
        shape = self._shape()
        if shape is None or not shape.is_2d:
            self.notify(_("Points are drawn on the map of a 2-D task."))
            return
        self.drawing = self.drawing.next_pen(shape)
        self.show_pen()

    def action_remove_point(self) -> None:
        """The key's removal: the point nearest the last click (the last point drawn, or the
        one a right click removed beside)."""
        if self.last_click is None:
            self.notify(_("Click on the map first: X removes the point you drew nearest it."))
            return
        self._remove(*self.last_click)

    def action_save_data(self) -> None:
        shape = self._shape()
        if shape is None or not shape.is_2d:
            self.notify(
                _("Saving the data as CSV is for 2-D tasks: the points of their map."),
                severity="error",
            )
            return
        prompt = _("Save the data set (the task's points and yours) as a CSV file: x1,x2,label.")
        default = self.file_stem + "-data.csv"
        self.push_screen(PathPrompt(prompt, default, act=self._save_data))

    async def _save_data(self, path: str) -> str | None:
        """Write the run's data set to `path`: None when written, else why not."""
        session = self.session
        if session is None:
            return None
        if Path(path).suffix.lower() != CSV_SUFFIX:  # never over a weights file by a slip
            return _("{path}: the data is saved as a CSV file; end its name with .csv").format(
                path=shown(path, 300)
            )
        drawing = self.drawing
        await self._pause()
        try:
            x, y, regression = await asyncio.wrap_future(session.call(dataset))
            write_atomic(Path(path), dataset_csv(x, y, regression))
        except Exception as e:  # the points stay on the map: the learner can try elsewhere
            from nnplay.tui.app import SAVE, file_error  # the app imports this module

            return file_error(SAVE, path, e)
        self.drawing = replace(self.drawing, saved=drawing.points)
        message = _("Saved {count} points to {path}; open them with: nnplay {path} --target label")
        self.notify(message.format(count=len(x), path=shown(path, 300)))
        return None
