"""The confusion matrix of a classifier on its validation set, and each class's accuracy.

Row i counts the validation samples whose true class is i, column j those the network predicts
as j, so a row sums to its class's sample count and the diagonal holds the right answers. The
predictions are the ones accuracy counts (model.predicted_classes), made in eval mode by the
weights the network holds: after a finished run, the weights it keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from nnplay.model import predicted_classes, torch_run
from nnplay.registry import REGRESSION

FIELDS = ("classes", "confusion", "class_accuracy")  # in `nnplay train --json`


@dataclass(frozen=True)
class Confusion:
    names: list[str]  # the class names, by index: a CSV file's own, else "0", "1", …
    matrix: list[list[int]]  # matrix[true][predicted]: validation samples

    @property
    def counts(self) -> list[int]:
        """Validation samples of each true class."""
        return [sum(row) for row in self.matrix]

    def class_accuracy(self) -> list[float | None]:
        """Of each class's samples, the share predicted right (None: the class has none)."""
        return [
            row[i] / count if count else None
            for i, (row, count) in enumerate(zip(self.matrix, self.counts, strict=True))
        ]

    def accuracy(self) -> float:
        right = sum(row[i] for i, row in enumerate(self.matrix))
        return right / sum(self.counts)

    def to_dict(self) -> dict:
        values = (list(self.names), [list(row) for row in self.matrix], self.class_accuracy())
        return dict(zip(FIELDS, values, strict=True))


def class_names(trainer) -> list[str]:
    schema = trainer.exp.task.schema.classes  # a CSV task's, by index; [] for a synthetic one
    return list(schema) if schema else [str(i) for i in range(max(trainer.shape.classes, 2))]


def confusion(trainer) -> Confusion | None:
    """The confusion matrix of `trainer`'s network on its validation set (None: regression)."""
    if trainer.shape.kind == REGRESSION:
        return None
    names = class_names(trainer)
    outputs = torch_run(trainer.model)(trainer.X_val.numpy())  # eval mode, as accuracy is
    predicted = predicted_classes(trainer.head, torch.from_numpy(outputs)).numpy()
    true = trainer.y_val.reshape(-1).long().numpy()
    k = len(names)
    matrix = np.bincount(true * k + predicted, minlength=k * k).reshape(k, k)
    return Confusion(names, matrix.tolist())


def summary_fields(trainer) -> dict:
    """What `nnplay train --json` says of the matrix: its classes, the matrix (rows true,
    columns predicted) and each class's accuracy; null for a regression."""
    matrix = confusion(trainer)
    return dict.fromkeys(FIELDS) if matrix is None else matrix.to_dict()
