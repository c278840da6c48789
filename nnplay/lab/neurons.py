"""What each unit of a small network computes, and its weights: pure functions over a model.

`unit_maps` runs the network's modules one by one over a grid of the input plane and keeps the
output of every unit (after its batch norm and activation), as TF Playground draws its neurons.
`layer_weights` copies the weights and biases of the layers small enough to read one by one;
`network_weights` those between the units the network picture draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

# torch is imported inside the functions that run a network: the TUI's views import this module
# before the app has imported torch (~2 s, docs/architecture.md).
if TYPE_CHECKING:
    from torch import nn

MAX_UNITS = 8  # unit maps drawn per layer
MAX_WEIGHTS = 64  # layers with more weights are summarized, not listed


@dataclass(frozen=True)
class UnitLayer:
    name: str  # "inputs", "hidden1", ..., "output"
    what: str  # what follows the linear layer ("relu", "batchnorm1d relu"), "" for none
    maps: np.ndarray  # (shown units, rows, cols): each unit's output over the plane
    weights: np.ndarray | None  # (units, inputs) incoming weights; None for the inputs
    bias: np.ndarray | None  # (units,)
    units: int  # all units of the layer (maps holds the first MAX_UNITS)


@dataclass(frozen=True)
class LayerWeights:
    name: str
    weight: np.ndarray | None  # (outputs, inputs) or the part drawn; None: too large to list
    bias: np.ndarray | None
    shape: tuple[int, int]  # (outputs, inputs) of the whole layer


def unit_maps(model, features: np.ndarray, rows: int, cols: int) -> list[UnitLayer]:
    """Every layer's unit outputs for `features` (rows*cols points of the plane, row by row).

    The first entry is the inputs themselves (x1, x2, and any derived features); then each
    Linear layer with what follows it up to the next Linear, in eval mode, without gradients.
    """
    import torch
    from torch import nn

    def as_maps(values: np.ndarray) -> np.ndarray:
        return values[:, :MAX_UNITS].T.reshape(-1, rows, cols).astype(np.float32)

    layers = [UnitLayer("inputs", "", as_maps(features), None, None, features.shape[1])]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            x = torch.as_tensor(features, dtype=torch.float32)
            groups = _linear_groups(model)
            for name, linear, following in groups:
                x = linear(x)
                for module in following:
                    x = module(x)
                what = " ".join(
                    type(m).__name__.lower() for m in following if not isinstance(m, nn.Dropout)
                )
                layers.append(
                    UnitLayer(
                        name,
                        what,
                        as_maps(x.numpy()),
                        linear.weight.numpy().copy(),
                        linear.bias.numpy().copy(),
                        linear.out_features,
                    )
                )
    finally:
        model.train(was_training)
    return layers


def _linear_groups(model) -> list[tuple[str, nn.Linear, list[nn.Module]]]:
    """(name, Linear, the modules after it up to the next Linear) in order."""
    from torch import nn

    groups: list[tuple[str, nn.Linear, list[nn.Module]]] = []
    for name, module in model.named_children():
        if isinstance(module, nn.Linear):
            groups.append((name, module, []))
        elif groups:
            groups[-1][2].append(module)
    return groups


def layer_weights(model, limit: int = MAX_WEIGHTS) -> list[LayerWeights]:
    """Each Linear layer's weights and bias (copies); only the shape when it has > `limit`."""
    return [
        _copied(name, linear, None if linear.weight.numel() <= limit else 0)
        for name, linear, _ in _linear_groups(model)
    ]


def network_weights(model, most: int = MAX_UNITS) -> list[LayerWeights]:
    """Each Linear layer's weights between the units the network picture draws: the first
    `most` of every layer (and of the inputs), with the bias of those drawn (copies)."""
    return [_copied(name, linear, most) for name, linear, _ in _linear_groups(model)]


def _copied(name: str, linear, most: int | None) -> LayerWeights:
    """The layer's weights and biases, the first `most` rows and columns (None: all of them;
    0: none, only the shape)."""
    shape = (linear.out_features, linear.in_features)
    if most == 0:
        return LayerWeights(name, None, None, shape)
    rows = slice(None) if most is None else slice(most)
    weight = linear.weight.detach()[rows, rows].numpy().copy()
    return LayerWeights(name, weight, linear.bias.detach()[rows].numpy().copy(), shape)


def input_names(raw_inputs: int, width: int, features="raw") -> list[str]:
    """Names of the network's inputs: a list of feature names as given, or for `raw`/`poly2`
    x1..xn, then their squares and, on 2-D, x1·x2; in1..inN if the width disagrees."""
    if isinstance(features, (list, tuple)):
        names = [str(f).replace("^2", "²").replace("*", "·") for f in features]
    else:
        names = [f"x{i + 1}" for i in range(raw_inputs)]
        if features == "poly2":
            names += [f"x{i + 1}²" for i in range(raw_inputs)]
            names += ["x1·x2"] if raw_inputs == 2 else []
    return names if len(names) == width else [f"in{i + 1}" for i in range(width)]
