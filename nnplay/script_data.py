"""The exported script's data section: the task's generator written out as small NumPy code.

A learner reads how the data is made (the same seeded streams, the same arithmetic as
nnplay.tasks) instead of loading it from a file. The code is text written here for each task,
with the experiment's numbers (validated as numbers) filled in; tests/test_script_data.py runs
it for every task of the registry and requires arrays identical to the Trainer's, bit for bit.
The script checks that too: it compares the SHA-256 of its arrays (arrays_sha256, written out
in the script as the same few lines) with the one computed at export.
"""

from __future__ import annotations

import hashlib

import numpy as np

from nnplay.registry import REGRESSION
from nnplay.tasks import (
    BLOB_SPREAD,
    FEATURE_SUM_EDGES,
    TASKS,
    TWO_CLOUD_SPREAD,
    make_datasets,
    task_shape,
)


def arrays_sha256(arrays) -> str:
    """The checksum of the four data arrays: each one's dtype, shape and bytes, in order."""
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(f"{a.dtype} {a.shape}".encode())
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()


CHECKSUM_CODE = '''
def arrays_sha256(arrays):
    """Each array's dtype, shape and bytes, in order: equal only for identical data."""
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(f"{a.dtype} {a.shape}".encode())
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()
'''

# Each task's generator: make(n, rng, training) -> (x, y), the inputs before noise. `training` is
# False for a fresh validation set (only quadratic draws those differently).
SQUARE = "rng.uniform(-1, 1, (n, 2))  # uniform over the square [-1, 1]²"

GENERATORS = {
    "first_gt_fifth": '''
def make(n, rng, training):
    """Uniform random vectors in [0, 1); the label is 1 when x[0] > x[4]."""
    x = rng.random((n, DIM))
    return x, (x[:, 0] > x[:, 4]).astype(np.int64)
''',
    "feature_sum": f'''
EDGES = np.array({FEATURE_SUM_EDGES.tolist()!r}, dtype=np.float64)


def make(n, rng, training):
    """Standard-normal vectors; the class is the bin of their sum between EDGES."""
    x = rng.standard_normal((n, DIM))
    return x, np.digitize(x.sum(axis=1), EDGES).astype(np.int64)
''',
    "quadratic": '''
def make(n, rng, training):
    """y = 2x² + 3x + 4: training x on the grid 0, 1/n, 2/n, ...; validation x random."""
    x = (np.arange(n) / n if training else rng.random(n)).reshape(n, 1)
    return x, 2 * x[:, 0] ** 2 + 3 * x[:, 0] + 4
''',
    "circle": '''
def make(n, rng, training):
    """Points in the unit disk; class 1 inside the circle of radius 0.5."""
    radius = np.sqrt(rng.random(n))  # the square root spreads the points evenly over the disk
    angle = rng.uniform(0, 2 * np.pi, n)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return x, (radius < 0.5).astype(np.int64)
''',
    "xor": f'''
def make(n, rng, training):
    """Points in the square; class 1 in the quadrants where x·y > 0."""
    x = {SQUARE}
    return x, (x[:, 0] * x[:, 1] > 0).astype(np.int64)
''',
    "spiral": '''
def make(n, rng, training):
    """CLASSES interleaved spiral arms, one class each."""
    y = rng.integers(0, CLASSES, n)
    t = np.sqrt(rng.random(n))  # the radius, 0..1
    angle = 1.75 * 2 * np.pi * t + 2 * np.pi * y / CLASSES  # each arm turned by its class
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
    return x, y.astype(np.int64)
''',
    "plane": f'''
def make(n, rng, training):
    """Regression on the plane 0.6·x - 0.4·y."""
    x = {SQUARE}
    return x, 0.6 * x[:, 0] - 0.4 * x[:, 1]
''',
    "multi_gaussian": f'''
def make(n, rng, training):
    """Regression on four gaussian bumps, two up, two down."""
    x = {SQUARE}

    def bump(cx, cy):
        return np.exp(-((x[:, 0] - cx) ** 2 + (x[:, 1] - cy) ** 2) / 0.08)

    return x, bump(-0.4, 0.4) + bump(0.4, -0.4) - bump(0.4, 0.4) - bump(-0.4, -0.4)
''',
}
GENERATORS["spiral_multi"] = GENERATORS["spiral"]

# The gaussian tasks: two overlapping clouds, or several blobs on a circle.
TWO_CLOUDS = f"""
CENTRES = np.array([[-0.45, -0.45], [0.45, 0.45]])
SPREAD = {TWO_CLOUD_SPREAD!r}
"""
BLOBS = f"""
ANGLES = 2 * np.pi * np.arange(CLASSES) / CLASSES + np.pi / 4
CENTRES = 0.55 * np.stack([np.cos(ANGLES), np.sin(ANGLES)], axis=1)  # evenly on a circle
SPREAD = {BLOB_SPREAD!r}
"""
GAUSSIANS = '''

def make(n, rng, training):
    """A class for each point, then the point: its class's centre plus gaussian noise."""
    y = rng.integers(0, CLASSES, n)
    return CENTRES[y] + SPREAD * rng.standard_normal((n, 2)), y.astype(np.int64)
'''

FEATURE_CODE = {
    "x1": "x[:, 0]",
    "x2": "x[:, 1]",
    "x1^2": "x[:, 0] ** 2",
    "x2^2": "x[:, 1] ** 2",
    "x1*x2": "x[:, 0] * x[:, 1]",
    "sin(x1)": "np.sin(x[:, 0])",
    "sin(x2)": "np.sin(x[:, 1])",
}


def generator_code(spec) -> str:
    """The task's `make` function with the constants it reads."""
    shape = task_shape(spec)
    if spec.name in ("gaussians", "blobs"):
        return (BLOBS if shape.classes > 2 else TWO_CLOUDS) + GAUSSIANS
    return "\n" + GENERATORS[spec.name]  # two blank lines before a def


def noise_code(spec) -> str:
    if not spec.noise:
        return ""
    where = "y" if TASKS[spec.name].noise_on == "targets" else "x"
    return (
        f"    # gaussian noise on the {'targets' if where == 'y' else 'inputs'}, from the same stream\n"
        f"    {where} = {where} + NOISE * rng.standard_normal({where}.shape)\n"
    )


def sets_code(spec) -> str:
    """Fresh validation: a second stream; split: a shuffled share of the one set held out."""
    if spec.validation == "fresh":
        return (
            "x_train, y_train = generate(SAMPLES, 0)\n"
            "x_val, y_val = generate(VAL_SAMPLES, 1, training=False)  # fresh points\n"
        )
    return (
        "x_all, y_all = generate(SAMPLES, 0)\n"
        "order = np.random.default_rng([SEED, 2]).permutation(SAMPLES)  # held out at random\n"
        "train, val = order[VAL_SAMPLES:], order[:VAL_SAMPLES]\n"
        "x_train, y_train, x_val, y_val = x_all[train], y_all[train], x_all[val], y_all[val]\n"
    )


def features_code(spec) -> str:
    """What the network sees of the inputs: x itself, or the chosen features as columns."""
    features = spec.features
    if features == "raw":
        body = "    return x"
    elif features == "poly2":
        two_d = task_shape(spec).raw_inputs == 2
        extra = ", x[:, :1] * x[:, 1:2]" if two_d else ""
        comment = "the inputs, their squares" + (" and x1·x2" if two_d else "")
        body = f"    # {comment}\n    return np.concatenate([x, x**2{extra}], axis=1)"
    else:
        columns = "".join(f"        {FEATURE_CODE[name]},  # {name}\n" for name in features)
        body = f"    return np.stack([\n{columns}    ], axis=1)"
    return f'''def features(x):
    """The inputs the network sees."""
{body}
'''


def data_code(spec) -> str:
    """The script's data section for a synthetic task: constants, the generator, the sets."""
    shape = task_shape(spec)
    target = "np.float32" if shape.kind == REGRESSION else "np.int64"
    return f'''
# ---- The data, made here as nnplay makes it: task {spec.name!r} ----
SEED = {spec.seed}
SAMPLES = {spec.samples}
VAL_SAMPLES = {spec.val_samples}
DIM = {shape.raw_inputs}
CLASSES = {shape.classes}
NOISE = {spec.noise!r}
{generator_code(spec)}

def generate(n, stream, training=True):
    """n samples from the seeded random stream [SEED, stream]."""
    rng = np.random.default_rng([SEED, stream])
    x, y = make(n, rng, training)
{noise_code(spec)}    return np.asarray(x, dtype=np.float64), y.astype({target})


{features_code(spec)}

{sets_code(spec)}# what the network sees, in float32 as it computes
x_train = features(x_train).astype(np.float32)
x_val = features(x_val).astype(np.float32)
'''


def synthetic_sha256(spec) -> str:
    """The checksum of the arrays the Trainer trains on, which the script must reproduce."""
    return arrays_sha256(make_datasets(spec))
