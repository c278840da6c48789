"""A standalone PyTorch script that reproduces a run, step for step, without nnplay.

`write_script(exp, "run.py")` writes `run.py`. A synthetic task's script generates its data with
the task's own NumPy code (nnplay.script_data) and checks the arrays' SHA-256 against nnplay's;
a CSV task's data has no generator, so its arrays are written beside it, `run.data.npz`. The
script builds the same network with the same seed, shuffles with the same generator and trains
with the same optimizer, so it prints the same losses the Trainer records: the learner can read
a plain PyTorch training loop that does exactly what nnplay did.

Nothing from the experiment or the path becomes code: every text (title, file name) enters the
script as a repr() literal, and the numbers were validated as numbers. A CSV task's data is
written first and the script checks its SHA-256, so a script never trains on another run's data.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from nnplay.experiment import Experiment
from nnplay.files import signals_held, write_atomic
from nnplay.model import output_head
from nnplay.registry import ACTIVATIONS, HEAD_ACTIVATIONS, LOSSES, OPTIMIZERS
from nnplay.script_data import CHECKSUM_CODE, data_code, synthetic_sha256
from nnplay.tasks import make_datasets, source_name, task_shape

_INIT_LINES = {
    "default": None,
    "xavier": ["nn.init.xavier_uniform_(layer.weight)", "nn.init.zeros_(layer.bias)"],
    "he": [
        "nn.init.kaiming_normal_(layer.weight, nonlinearity='relu')",
        "nn.init.zeros_(layer.bias)",
    ],
    "uniform": [
        "nn.init.uniform_(layer.weight, -{a}, {a})",
        "nn.init.uniform_(layer.bias, -{a}, {a})",
    ],
}


# How the weights nnplay exports load into this script's network, or into a plain Sequential.
PT_NOTE = """Weights exported from nnplay as .pt (a state_dict) load into `model` below, whose
layers carry nnplay's names (hidden1, act1, ..., output):
    model.load_state_dict(torch.load("w.pt", weights_only=True))
A plain nn.Sequential(nn.Linear(...), nn.ReLU(), ...) numbers its keys instead (0.weight,
2.weight, ... where nnplay has hidden1.weight, output.weight); both list the tensors in the
layers' order, so the values load by position:
    state = torch.load("w.pt", weights_only=True)
    plain.load_state_dict(dict(zip(plain.state_dict(), state.values(), strict=True)))"""


def data_path(script: Path) -> Path:
    return script.with_name(script.stem + ".data.npz")


def write_script(exp: Experiment, path: str | Path) -> list[Path]:
    """The script; beside it, for a CSV task, its data (a CSV file's rows have no generator).
    The data first, then the script that names its checksum: a crash between the two leaves
    a script that refuses the other data, never one that trains on it."""
    path = Path(path).expanduser()
    if not exp.task.data:  # the script makes its data itself
        text = script_text(exp, synthetic_data_lines(exp.task))
        return [write_atomic(path, text.encode())]
    x, y, xv, yv = make_datasets(exp.task)
    buffer = io.BytesIO()
    np.savez(buffer, x_train=x, y_train=y, x_val=xv, y_val=yv)
    content = buffer.getvalue()
    data = data_path(path)
    digest = hashlib.sha256(content).hexdigest()
    with signals_held():  # the pair as one unit, as far as Ctrl+C and SIGTERM go
        if not (
            data.is_file() and data.stat().st_size == len(content) and data.read_bytes() == content
        ):  # the same data: keep the file as it is
            write_atomic(data, content)
        return [
            write_atomic(path, script_text(exp, file_data_lines(data.name, digest)).encode()),
            data,
        ]


def file_data_lines(data_name: str, data_sha256: str) -> str:
    """A CSV task's arrays, read from the file beside the script after checking its SHA-256."""
    return f"""
# ---- The data: a CSV file's rows, standardized as nnplay did, saved beside this script ----
DATA_FILE = {data_name!r}
DATA_SHA256 = {data_sha256!r}
data_file = Path(__file__).with_name(DATA_FILE)
if hashlib.sha256(data_file.read_bytes()).hexdigest() != DATA_SHA256:
    sys.exit(f"{{data_file}} is not the data this script was written with; export it again")
data = np.load(data_file)
x_train, y_train, x_val, y_val = (data[k] for k in ("x_train", "y_train", "x_val", "y_val"))
"""


def synthetic_data_lines(spec) -> str:
    """A synthetic task's generator written out, and the check that it made nnplay's arrays."""
    return f"""{data_code(spec)}
{CHECKSUM_CODE}

# The checksum of nnplay's arrays, computed at export: the code above must make the same.
DATA_SHA256 = {synthetic_sha256(spec)!r}
if arrays_sha256([x_train, y_train, x_val, y_val]) != DATA_SHA256:
    sys.exit("the generated data differ from nnplay's (another NumPy version?)")
"""


def _module_lines(exp: Experiment) -> list[str]:
    def module(activation: str, registry) -> str:
        entry = registry[activation]
        args = ", ".join(f"{k}={v!r}" for k, v in entry.kwargs)
        return f"nn.{entry.torch_class}({args})"

    lines, width = [], task_shape(exp.task).inputs
    for i, layer in enumerate(exp.model.hidden, start=1):
        lines.append(f'("hidden{i}", nn.Linear({width}, {layer.units})),')
        width = layer.units
        if layer.batch_norm:
            lines.append(f'("bn{i}", nn.BatchNorm1d({width})),')
        if layer.activation != "linear":
            lines.append(f'("act{i}", {module(layer.activation, ACTIVATIONS)}),')
        if layer.dropout:
            lines.append(f'("drop{i}", nn.Dropout({layer.dropout!r})),')
    head = output_head(exp)
    lines.append(f'("output", nn.Linear({width}, {head.units})),')
    if head.activation:
        lines.append(f'("head", {module(head.activation, HEAD_ACTIVATIONS)}),')
    return lines


def _optimizer_line(exp: Experiment) -> str:
    """The optimizer the registry builds, with the same class and arguments."""
    t = exp.training
    optimizer = OPTIMIZERS[t.optimizer]
    options = "".join(f", {k}={v!r}" for k, v in optimizer.options(t).items())
    return f"torch.optim.{optimizer.torch_class}(model.parameters(), lr={t.lr!r}{options})"


def _scheduler_line(exp: Experiment) -> str:
    t = exp.training
    return {
        "constant": "None",
        "step": f"torch.optim.lr_scheduler.StepLR(optimizer, step_size={t.step_size}, gamma={t.gamma!r})",
        "exponential": f"torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma={t.gamma!r})",
        "cosine": f"torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max={t.epochs})",
    }[t.schedule]


def _l2_lines(exp: Experiment) -> str:
    """L2 as the Trainer applies it (registry.WeightDecay), written out."""
    t = exp.training
    if not t.l2:
        return ""
    lines = OPTIMIZERS[t.optimizer].decay.source(t.l2, lr="optimizer.param_groups[0]['lr']")
    return "".join(f"{' ' * 8}{line}\n" for line in lines)


def _early_stopping_note(exp: Experiment) -> str:
    if not exp.training.patience:
        return ""
    return (
        f"\nnnplay also stops early (patience {exp.training.patience}); this script trains "
        "every epoch."
    )


def script_text(exp: Experiment, data_lines: str) -> str:
    t = exp.training
    head = output_head(exp)
    kind = task_shape(exp.task).kind
    targets = ".long()" if head.target == "index" else ".float().reshape(-1, 1)"
    if kind == "regression":
        accuracy = "None"
    elif head.target == "index":
        accuracy = "(out.argmax(dim=1) == y).double().mean().item()"
    else:
        accuracy = "((out >= 0.5).long() == y.long()).double().mean().item()"
    init = _INIT_LINES[exp.model.init]
    init_block = (
        ""
        if init is None
        else (
            "for layer in model:\n    if isinstance(layer, nn.Linear):\n"
            + "".join(f"        {line.format(a=exp.model.init_scale)}\n" for line in init)
        )
    )
    l1 = f" + {t.l1!r} * sum(w.abs().sum() for w in weights)" if t.l1 else ""
    modules = "\n".join(f"    {line}" for line in _module_lines(exp))
    title = exp.meta.title or source_name(exp.task)
    # the docstring names only what nnplay chose: a file's name could close the docstring
    if exp.task.data:
        task, source = (
            "a CSV file, its inputs standardized",
            "the file DATA_FILE names, beside this one",
        )
    else:
        task, source = exp.task.name, "generated below with NumPy, as nnplay generates it"
    return f'''"""A plain PyTorch script that reproduces an nnplay run (TITLE below).

Written by nnplay. Data: {source}.
Task: {task} ({kind}).
Run it with `python {{this file}}`; it prints one line per epoch.{_early_stopping_note(exp)}

{PT_NOTE}
"""

TITLE = {title!r}

import hashlib
import sys
from collections import OrderedDict
{"from pathlib import Path" + chr(10) if exp.task.data else ""}
import numpy as np
import torch
from torch import nn
{data_lines}
torch.set_num_threads(1)
x_train, x_val = torch.from_numpy(x_train), torch.from_numpy(x_val)
y_train = torch.from_numpy(y_train){targets}
y_val = torch.from_numpy(y_val){targets}

torch.manual_seed({t.seed})
model = nn.Sequential(OrderedDict([
{modules}
]))
{init_block}
weights = [m.weight for m in model if isinstance(m, nn.Linear)]
optimizer = {_optimizer_line(exp)}
scheduler = {_scheduler_line(exp)}
loss_fn = nn.{LOSSES[t.loss].torch_class}()
shuffle = torch.Generator().manual_seed({t.seed})


def evaluate(x, y):
    model.eval()
    with torch.no_grad():
        out = model(x)
        loss, accuracy = loss_fn(out, y).item(), {accuracy}
    model.train()
    return loss, accuracy


for epoch in range(1, {t.epochs} + 1):
    order = torch.randperm(len(x_train), generator=shuffle)
    x, y = x_train.index_select(0, order), y_train.index_select(0, order)
    for i in range(0, len(x), {t.batch_size}):
        loss = loss_fn(model(x[i:i + {t.batch_size}]), y[i:i + {t.batch_size}])
        optimizer.zero_grad(set_to_none=True)
        (loss{l1}).backward()
{_l2_lines(exp)}        optimizer.step()
    train_loss, train_accuracy = evaluate(x_train, y_train)
    val_loss, val_accuracy = evaluate(x_val, y_val)
    print(f"epoch {{epoch}} train_loss {{train_loss!r}} val_loss {{val_loss!r}} "
          f"train_accuracy {{train_accuracy!r}} val_accuracy {{val_accuracy!r}}")
    if scheduler is not None:
        scheduler.step()
'''
