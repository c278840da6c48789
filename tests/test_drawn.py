"""The drawn points' core (nnplay.drawn): their edits, the rule a blank task trains by, the CSV
they are saved as (read back by the CSV reader exactly), and the Trainer's training set."""

import numpy as np
import pytest

from nnplay.csv_data import read_table
from nnplay.drawn import (
    MIN_PER_CLASS,
    MOST_POINTS,
    PEN_VALUES,
    DrawnPoints,
    dataset_csv,
    missing_points,
    next_pen,
)
from nnplay.experiment import with_overrides
from nnplay.presets import load_preset
from nnplay.training import Trainer
from tests.command_line import run_nnplay


def points(*rows) -> DrawnPoints:
    drawn = DrawnPoints()
    for x1, x2, label in rows:
        drawn = drawn.added(x1, x2, label)
    return drawn


def test_the_nearest_point_is_removed_and_the_others_keep_their_order():
    drawn = points((0.0, 0.0, 0), (0.5, 0.5, 1), (-0.5, 0.2, 0), (0.5, 0.5, 1))
    left = drawn.without_nearest(0.45, 0.52)
    # of the two equally near points, the last drawn goes
    assert left.xy == ((0.0, 0.0), (0.5, 0.5), (-0.5, 0.2)) and left.labels == (0, 1, 0)
    assert left.without_nearest(-1.0, 0.0).xy == ((0.0, 0.0), (0.5, 0.5))
    assert DrawnPoints().without_nearest(0, 0) == DrawnPoints()


def test_points_beyond_the_most_are_not_added():
    drawn = DrawnPoints(((0.0, 0.0),) * MOST_POINTS, (0.0,) * MOST_POINTS)
    assert drawn.added(1.0, 1.0, 1.0) is drawn


def test_a_blank_task_trains_once_two_classes_have_a_few_points_each():
    one_class = points(*[(0.1 * k, 0.0, 1) for k in range(5)])
    assert missing_points(one_class, 2).startswith("Draw some points first")
    assert missing_points(DrawnPoints(), 2) is not None
    short = points(*[(0.1 * k, 0.0, 1) for k in range(5)], (0.0, 0.5, 0))
    assert missing_points(short, 2) is not None  # one point of class 0 is not a few
    enough = points(*[(0.1 * k, 0.0, k % 2) for k in range(2 * MIN_PER_CLASS)])
    assert missing_points(enough, 2) is None
    # three classes drawn, two of them with enough points
    three = points(*[(0.1 * k, 0.0, k % 2) for k in range(4)], (0.0, 0.5, 2))
    assert missing_points(three, 3) is None


def test_the_pen_cycles_through_the_classes_or_the_values():
    assert [next_pen(k, False, 3) for k in (0.0, 1.0, 2.0)] == [1.0, 2.0, 0.0]
    assert next_pen(PEN_VALUES[-1], True, 0) == PEN_VALUES[0]
    assert next_pen(0.0, True, 0) == 0.5


def test_the_csv_reads_back_exactly(tmp_path):
    x = np.array([[0.1, -1.2], [1 / 3, 2 / 7], [-0.0000123456789, 1.2]])
    path = tmp_path / "d.csv"
    path.write_bytes(dataset_csv(x, np.array([0, 1, 1]), regression=False))
    assert path.read_text().splitlines()[:2] == ["x1,x2,label", "0.1,-1.2,0"]
    table = read_table(path, "label")
    assert np.array_equal(np.stack([table.numbers["x1"], table.numbers["x2"]], axis=1), x)
    assert table.target_values == ["0", "1", "1"]
    path.write_bytes(dataset_csv(x, np.array([0.5, -1.0, 0.25], np.float32), regression=True))
    assert read_table(path, "label").numbers["label"].tolist() == [0.5, -1.0, 0.25]


def test_drawn_points_join_the_training_set_and_only_it():
    exp = with_overrides(load_preset("circle"), {"task.samples": 50, "task.val_samples": 20})
    plain = Trainer(exp.copy())
    drawn = points((0.9, 0.9, 1), (-0.9, 0.9, 1))
    trainer = Trainer(exp.copy(), drawn)
    assert len(trainer.X_train) == 52 and len(trainer.X_val) == 20
    assert trainer.X_train[:50].equal(plain.X_train) and trainer.X_val.equal(plain.X_val)
    assert trainer.y_train[50:].reshape(-1).tolist() == [1, 1]
    assert trainer.raw_inputs()[50:].tolist() == [[0.9, 0.9], [-0.9, 0.9]]
    trainer.set_drawn(DrawnPoints())
    assert trainer.X_train.equal(plain.X_train)


def test_points_drawn_mid_epoch_start_the_epoch_again_on_the_new_set():
    exp = with_overrides(load_preset("circle"), {"task.samples": 64, "training.batch_size": 32})
    trainer = Trainer(exp)
    trainer.step()
    trainer.set_drawn(points(*[(0.0, 0.0, 1)] * 10))
    assert trainer.steps_per_epoch == 3  # 74 samples in batches of 32
    for _ in range(3):
        trainer.step()
    assert trainer.epoch == 1 and trainer.steps == 4


def test_the_command_line_refuses_the_blank_task_in_one_line():
    done = run_nnplay("train", "draw-your-own")
    assert done.returncode == 2
    assert done.stderr == (
        "nnplay: task.name: draw has no data of its own: draw points on its map in the app\n"
    )


@pytest.mark.parametrize("name, loss", [("draw", "bce"), ("draw_multi", "cross_entropy")])
def test_a_blank_task_validates_on_the_drawn_points(name, loss):
    exp = with_overrides(load_preset("draw-your-own"), {"task.name": name, "training.loss": loss})
    drawn = points((0.5, 0.5, 1), (0.6, 0.5, 1), (-0.5, -0.5, 0), (-0.6, -0.5, 0))
    trainer = Trainer(exp, drawn)
    assert trainer.X_val.equal(trainer.X_train) and len(trainer.X_train) == 4
