"""The exported script's data code (nnplay/script_data.py) makes the Trainer's arrays, bit for
bit, for every task of the registry and the options that change how data is made."""

import hashlib

import numpy as np
import pytest

from nnplay.experiment import TaskSpec
from nnplay.script_data import CHECKSUM_CODE, arrays_sha256, data_code, synthetic_sha256
from nnplay.tasks import TASKS, is_blank, make_datasets

# the tasks with data of their own (a blank task trains on points drawn on the map, which an
# exported script cannot make: its export is refused)
GENERATED = [name for name in TASKS if not is_blank(TaskSpec(name=name))]


def spec_of(task: str, **fields):
    """A TaskSpec as an experiment file sets it: small sets, the task's defaults otherwise."""
    size = {"dim": 20} if task == "feature_sum" else {}  # its default 784 is big for a test
    return TaskSpec(name=task, samples=300, val_samples=40, **size | fields)


def run_data_code(spec) -> list[np.ndarray]:
    """The script's data section, run on its own (numpy only, as in the script)."""
    scope: dict = {"np": np, "hashlib": hashlib}
    exec(data_code(spec), scope)  # our own generated text, never a file's
    return [scope[k] for k in ("x_train", "y_train", "x_val", "y_val")]


def assert_identical(spec):
    made, expected = run_data_code(spec), make_datasets(spec)
    for name, a, b in zip(("x_train", "y_train", "x_val", "y_val"), made, expected, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert a.tobytes() == b.tobytes(), name  # bit for bit, not approximately


@pytest.mark.parametrize("task", GENERATED)
def test_every_task_s_code_makes_the_trainers_arrays(task):
    assert_identical(spec_of(task))


@pytest.mark.parametrize("task", GENERATED)
def test_with_noise_a_split_and_another_seed(task):
    assert_identical(spec_of(task, noise=0.3, validation="split", seed=7))


@pytest.mark.parametrize("task", GENERATED)
def test_with_poly2_features(task):
    assert_identical(spec_of(task, features="poly2"))


@pytest.mark.parametrize(
    "task, fields",
    [
        ("xor", {"features": ["x1", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]}),
        ("circle", {"features": ["x1^2", "x2^2"]}),
        ("plane", {"features": ["x2", "x1"]}),
        ("blobs", {"classes": 7}),
        ("blobs", {"classes": 3, "noise": 0.1}),
        ("spiral_multi", {"classes": 10}),
        ("first_gt_fifth", {"dim": 9}),
        ("quadratic", {"validation": "split", "noise": 1.5}),
    ],
)
def test_feature_lists_classes_and_sizes(task, fields):
    assert_identical(spec_of(task, **fields))


def test_the_check_sees_one_changed_bit():
    spec = spec_of("circle")
    arrays = make_datasets(spec)
    assert synthetic_sha256(spec) == arrays_sha256(arrays)
    scope: dict = {"np": np, "hashlib": hashlib}
    exec(CHECKSUM_CODE, scope)  # the script's own checksum lines agree with nnplay's
    assert scope["arrays_sha256"](arrays) == arrays_sha256(arrays)
    x = arrays[0].copy()
    x.view(np.uint32)[5, 1] ^= 1  # the last bit of one input
    assert arrays_sha256([x, *arrays[1:]]) != arrays_sha256(arrays)
    assert arrays_sha256([arrays[0].reshape(-1), *arrays[1:]]) != arrays_sha256(arrays)
    assert synthetic_sha256(spec_of("circle", seed=1)) != synthetic_sha256(spec)
