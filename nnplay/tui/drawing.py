"""The learner's pen on the map: the points they drew, the class (or value) a click adds, and
what the map's legend says of them.

The points are the learner's work: they outlive a reset and a change of the form (each run
trains on those that fit its task), and loading another exercise or quitting asks before it
drops points not saved as a CSV file (nnplay.tui.unsaved).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from rich.text import Text

from nnplay.drawn import PEN_VALUES, DrawnPoints, missing_points, next_pen, pen_label
from nnplay.i18n import _, ngettext
from nnplay.lab.boundary import MapPoints
from nnplay.registry import REGRESSION
from nnplay.tasks import TaskShape, is_blank, task_shape

DRAWN, DRAWN_WRONG = "◆", "◇"  # the learner's points on the map: right, and misclassified
DIM_PEN = "dim italic"


@dataclass(frozen=True)
class Drawing:
    """What the learner drew, with the kind of task it was drawn for (a class index means
    nothing to a regression), and the pen."""

    points: DrawnPoints = DrawnPoints()
    regression: bool = False
    pen: float = 0.0
    saved: DrawnPoints = DrawnPoints()  # the points the last CSV file written holds

    @property
    def unsaved(self) -> bool:
        return len(self.points) > 0 and self.points != self.saved

    def fitting(self, shape: TaskShape) -> DrawnPoints:
        """The points a run of a task of this shape trains on: none unless it is 2-D and of
        the kind they were drawn for, and no class it does not have."""
        if not shape.is_2d or self.regression != (shape.kind == REGRESSION):
            return DrawnPoints()
        keep = [
            k
            for k, label in enumerate(self.points.labels)
            if self.regression or label < shape.classes
        ]
        return DrawnPoints(
            tuple(self.points.xy[k] for k in keep), tuple(self.points.labels[k] for k in keep)
        )

    def for_task(self, shape: TaskShape) -> Drawing:
        """The pen made right for the task: a value the pen cycles through for a regression,
        a class the task has otherwise."""
        regression = shape.kind == REGRESSION
        if regression:
            fits = self.pen in PEN_VALUES
        else:
            fits = self.pen == int(self.pen) and 0 <= self.pen < shape.classes
        return self if fits else replace(self, pen=PEN_VALUES[-1] if regression else 0.0)

    def add(self, x1: float, x2: float, shape: TaskShape) -> Drawing | None:
        """A point of the pen's class at (x1, x2); None when the points drawn so far are of
        the other kind of task (classes and values cannot train together)."""
        regression = shape.kind == REGRESSION
        if self.points and regression != self.regression:
            return None
        return replace(self, points=self.points.added(x1, x2, self.pen), regression=regression)

    def remove_nearest(self, x1: float, x2: float) -> Drawing:
        return replace(self, points=self.points.without_nearest(x1, x2))

    def other_kind(self) -> str:
        """Why a click draws nothing on a task of the other kind."""
        if self.regression:
            message = _(
                "The {count} points you drew are values of a regression: a classification "
                "task cannot train on them. They are kept; save them with D."
            )
        else:
            message = _(
                "The {count} points you drew are classes: a regression task cannot train on "
                "them. They are kept; save them with D."
            )
        return message.format(count=len(self.points))

    def next_pen(self, shape: TaskShape) -> Drawing:
        return replace(self, pen=next_pen(self.pen, shape.kind == REGRESSION, shape.classes))

    def pen_text(self, shape: TaskShape) -> Text | None:
        """What a click adds, for the map's legend (None off a 2-D task)."""
        if not shape.is_2d:
            return None
        return Text(pen_label(self.pen, shape.kind == REGRESSION), DIM_PEN)

    def missing(self, experiment) -> str | None:
        """Why a blank task cannot train yet; None once it can (or for a task with data)."""
        if not is_blank(experiment.task):
            return None
        shape = task_shape(experiment.task)
        return missing_points(self.fitting(shape), shape.classes)

    def lost(self) -> str:
        """What leaving the points behind loses, and how to keep them."""
        count = len(self.points)
        return ngettext(
            "The {count} point you drew on the map is not saved: it will be lost. Answer no, "
            "then save the data as a CSV file with D.",
            "The {count} points you drew on the map are not saved: they will be lost. Answer "
            "no, then save the data as a CSV file with D.",
            count,
        ).format(count=count)


def drawn_items(points: MapPoints | None, pen: Text | None) -> list[Text]:
    """The legend's words for the learner's points and the pen."""
    items = []
    yours = 0 if points is None or points.yours is None else int(np.sum(points.yours))
    if yours:
        items.append(
            Text(
                f"{DRAWN} "
                + _("yours {count} ({wrong} wrong)").format(count=yours, wrong=DRAWN_WRONG)
            )
        )
    if pen is not None:
        items.append(pen)
    return items
