"""The network: an nn.Sequential built from the model spec, and a description of its layers.

Hidden layer i is `hidden{i}` (Linear), then `bn{i}` (BatchNorm1d), `act{i}`, `drop{i}` when
asked; the output layer is `output`, followed by `head` when the loss needs one (sigmoid for a
probability, log-softmax for NLL). The names are the state_dict keys that exports carry.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from nnplay.errors import ExperimentError
from nnplay.i18n import _, ngettext
from nnplay.registry import ACTIVATIONS, HEAD_ACTIVATIONS, INITS, LOSSES, Head
from nnplay.tasks import network_inputs, task_shape

# torch is imported inside the functions that build or inspect a network: the forms describe
# layers before the app has imported torch (~2 s), see docs/architecture.md.
if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class LayerInfo:
    name: str
    kind: str  # "linear", "batch_norm", "activation", "dropout"
    detail: str  # e.g. "5 → 8", "relu", "p=0.2"
    out_features: int
    params: int


def output_head(exp) -> Head:
    shape = task_shape(exp.task)
    return LOSSES[exp.training.loss].head(shape.kind, shape.classes)


def describe(exp) -> list[LayerInfo]:
    """Every module with its output width and parameter count, without building it (no torch)."""
    rows = []
    width = task_shape(exp.task).inputs
    for i, layer in enumerate(exp.model.hidden, start=1):
        rows.append(
            LayerInfo(
                f"hidden{i}",
                "linear",
                f"{width} → {layer.units}",
                layer.units,
                width * layer.units + layer.units,
            )
        )
        width = layer.units
        if layer.batch_norm:
            rows.append(LayerInfo(f"bn{i}", "batch_norm", "batch norm", width, 2 * width))
        if layer.activation != "linear":
            rows.append(LayerInfo(f"act{i}", "activation", layer.activation, width, 0))
        if layer.dropout:
            rows.append(LayerInfo(f"drop{i}", "dropout", f"p={layer.dropout:g}", width, 0))
    head = output_head(exp)
    rows.append(
        LayerInfo(
            "output",
            "linear",
            f"{width} → {head.units}",
            head.units,
            width * head.units + head.units,
        )
    )
    if head.activation:
        rows.append(LayerInfo("head", "activation", head.activation, head.units, 0))
    return rows


def state_shapes(exp) -> dict[str, tuple[int, ...]]:
    """The state_dict's entries and their shapes, from the spec alone (nothing allocated): what
    a weights file must hold, checked before a model is built."""
    shapes: dict[str, tuple[int, ...]] = {}
    width = task_shape(exp.task).inputs
    for i, layer in enumerate(exp.model.hidden, start=1):
        shapes |= {f"hidden{i}.weight": (layer.units, width), f"hidden{i}.bias": (layer.units,)}
        width = layer.units
        if layer.batch_norm:
            shapes |= {
                f"bn{i}.{k}": (width,) for k in ("weight", "bias", "running_mean", "running_var")
            }
            shapes[f"bn{i}.num_batches_tracked"] = ()
    units = output_head(exp).units
    return shapes | {"output.weight": (units, width), "output.bias": (units,)}


def parameter_count(exp) -> int:
    return sum(row.params for row in describe(exp))


def build_model(exp):
    """The nn.Sequential for `exp`, initialized from the global torch RNG (seed it first)."""
    from torch import nn

    modules: OrderedDict[str, nn.Module] = OrderedDict()
    width = task_shape(exp.task).inputs
    for i, layer in enumerate(exp.model.hidden, start=1):
        modules[f"hidden{i}"] = nn.Linear(width, layer.units)
        width = layer.units
        if layer.batch_norm:
            modules[f"bn{i}"] = nn.BatchNorm1d(width)
        if layer.activation != "linear":
            modules[f"act{i}"] = ACTIVATIONS[layer.activation].build()
        if layer.dropout:
            modules[f"drop{i}"] = nn.Dropout(layer.dropout)
    head = output_head(exp)
    modules["output"] = nn.Linear(width, head.units)
    if head.activation:
        modules["head"] = HEAD_ACTIVATIONS[head.activation].build()
    model = nn.Sequential(modules)
    init = INITS[exp.model.init]
    for module in model:
        if isinstance(module, nn.Linear):
            init(module, exp.model.init_scale)
    return model


def linear_layers(model: nn.Module) -> list[tuple[str, nn.Linear]]:
    """(name, module) of every Linear layer, input to output."""
    from torch import nn

    return [(name, m) for name, m in model.named_children() if isinstance(m, nn.Linear)]


def has_dropout(model: nn.Module) -> bool:
    from torch import nn

    return any(isinstance(m, nn.Dropout) for m in model.modules())


def weight_grad_norms(model: nn.Module) -> dict[str, float]:
    """L2 norm of each Linear layer's weight gradient from the last backward pass (0 before any)."""
    return {
        name: (m.weight.grad.norm().item() if m.weight.grad is not None else 0.0)
        for name, m in linear_layers(model)
    }


def probabilities(head: Head, outputs):
    """Class probabilities (n, classes) from raw outputs (NumPy), whatever the head."""
    if head.activation == "sigmoid":
        p1 = outputs.reshape(-1, 1)
        return np.concatenate([1 - p1, p1], axis=1)
    if head.activation == "log_softmax":
        return np.exp(outputs)
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))  # softmax of logits
    return shifted / shifted.sum(axis=1, keepdims=True)


def predicted_classes(head: Head, outputs):
    """The class each row of a network's torch outputs (n, units) predicts: the largest output,
    or, for a single probability, class 1 from 0.5 up. Accuracy and the confusion matrix both
    count these."""
    if head.target == "float":
        return (outputs >= 0.5).long().reshape(-1)
    return outputs.argmax(dim=1)


class Predictor:
    """A network's outputs for raw task inputs: the one way to run a model on inputs, for the
    Trainer's model during a run as for a loaded export. The inputs become what the network
    sees as in training (network_inputs: a CSV task's columns standardized, the features
    expanded); `run` maps the network's float32 inputs (n, inputs) to its outputs (n, units)."""

    def __init__(self, exp, run: Callable[[np.ndarray], np.ndarray]):
        self.exp = exp
        self.shape = task_shape(exp.task)
        self.head = output_head(exp)
        self._run = run

    def outputs(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.shape.raw_inputs:
            got = x.shape[-1] if x.ndim else 1
            values = ngettext("{count} value", "{count} values", got).format(count=got)
            message = _(
                "input: {value} is not allowed; this model takes {count} comma-separated numbers"
            )
            raise ExperimentError(message.format(value=values, count=self.shape.raw_inputs))
        return self._run(network_inputs(x, self.exp.task))

    def probabilities(self, x) -> np.ndarray:
        return probabilities(self.head, self.outputs(x))


def torch_run(model: nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """A Predictor's `run` for a torch network: eval mode (dropout off, batch norm on its running
    statistics) and no gradients; the mode the model was in is put back afterwards."""

    def run(x: np.ndarray) -> np.ndarray:
        import torch

        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                return model(torch.from_numpy(x)).numpy()
        finally:
            model.train(was_training)

    return run
