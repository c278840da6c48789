"""The confusion matrix: counted from the network's own predictions on the validation set, of
the weights the run keeps; in `nnplay train --json` with each class's accuracy."""

import json

import numpy as np
import torch

from nnplay.experiment import with_overrides
from nnplay.lab.confusion import Confusion, confusion
from nnplay.lab.text import confusion_lines
from nnplay.presets import load_preset
from nnplay.training import Trainer
from tests.command_line import run_in_process


def trained(name: str, **overrides) -> Trainer:
    trainer = Trainer(with_overrides(load_preset(name), overrides))
    trainer.run()
    return trainer


def by_hand(predicted: torch.Tensor, true: torch.Tensor, classes: int) -> list[list[int]]:
    matrix = [[0] * classes for _ in range(classes)]
    for t, p in zip(true.tolist(), predicted.tolist(), strict=True):
        matrix[t][p] += 1
    return matrix


def test_a_trained_multiclass_net_s_matrix_is_its_argmax_predictions_counted():
    trainer = trained("blobs")
    model = trainer.model.eval()
    with torch.no_grad():
        predicted = model(trainer.X_val).argmax(dim=1)
    found = confusion(trainer)
    assert found.names == ["0", "1", "2", "3"]
    assert found.matrix == by_hand(predicted, trainer.y_val, 4)
    assert found.counts == np.bincount(trainer.y_val.numpy(), minlength=4).tolist()
    assert found.accuracy() == trainer.history.val_accuracy[-1] > 0.9
    assert all(
        row[i] < count
        for i, (row, count) in enumerate(zip(found.matrix, found.counts, strict=True))
    )


def test_a_sigmoid_output_predicts_class_one_from_one_half_up():
    trainer = trained("circle")
    with torch.no_grad():
        predicted = (trainer.model.eval()(trainer.X_val) >= 0.5).long().reshape(-1)
    found = confusion(trainer)
    assert found.matrix == by_hand(predicted, trainer.y_val.reshape(-1).long(), 2)
    assert found.accuracy() == trainer.history.val_accuracy[-1] > 0.9
    assert min(found.matrix[0][0], found.matrix[1][1]) > 100  # both classes predicted


def test_the_matrix_is_of_the_kept_weights_after_early_stopping():
    trainer = trained("overfitting", **{"training.patience": 5})
    assert trainer.weights_epoch < trainer.epoch  # the weights of an earlier epoch came back
    kept = trainer.history.val_accuracy[trainer.weights_epoch - 1]
    assert confusion(trainer).accuracy() == kept != trainer.history.val_accuracy[-1]


def test_a_csv_task_names_its_classes_and_a_regression_has_no_matrix():
    iris = trained("iris", **{"training.epochs": 2})
    assert confusion(iris).names == ["setosa", "versicolor", "virginica"]
    assert confusion(Trainer(load_preset("quadratic-fit"))) is None


def test_each_class_accuracy_is_its_diagonal_over_its_row():
    matrix = Confusion(["a", "b", "c"], [[8, 2, 0], [1, 3, 0], [0, 0, 0]])
    assert matrix.counts == [10, 4, 0]
    assert matrix.class_accuracy() == [0.8, 0.75, None]
    assert matrix.accuracy() == 11 / 14
    assert confusion_lines(matrix) == [
        "rows: the true class; columns: the class predicted; 14 validation samples",
        "",
        "true \\ predicted   a  b  c  accuracy",
        "a                  8  2  0     80.0%",
        "b                  1  3  0     75.0%",
        "c                  0  0  0         -",
        "",
        "accuracy over all classes: 78.6%",
    ]


def test_train_json_has_the_matrix_and_each_class_accuracy(capsys):
    code, out, _err = run_in_process(capsys, "train", "blobs", "--json")
    summary = json.loads(out.splitlines()[-1])
    assert code == 0 and summary["classes"] == ["0", "1", "2", "3"]
    matrix = summary["confusion"]
    counts = [sum(row) for row in matrix]
    assert sum(counts) == 600 and min(counts) > 100
    assert summary["class_accuracy"] == [
        row[i] / n for i, (row, n) in enumerate(zip(matrix, counts, strict=True))
    ]
    right = sum(row[i] for i, row in enumerate(matrix))
    assert right / 600 == summary["val_accuracy"]


def test_train_json_of_a_regression_has_no_matrix(capsys):
    code, out, _err = run_in_process(
        capsys, "train", "plane", "--json", "--set", "training.epochs=1"
    )
    summary = json.loads(out.splitlines()[-1])
    assert code == 0
    assert summary["confusion"] is None and summary["class_accuracy"] is None
    assert summary["classes"] is None
