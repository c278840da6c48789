"""The Neurons tab says what its colours mean for each layer: a sigmoid's 0 is not 'negative'."""

import numpy as np

from nnplay.lab.neurons import UnitLayer
from nnplay.tui.neuron_view import render_units

NAMES = ["x1", "x2"]


def picture(*layers: UnitLayer) -> str:
    inputs = UnitLayer("inputs", "", np.linspace(-1, 1, 32).reshape(2, 4, 4), None, None, 2)
    text, _tiles = render_units([inputs, *layers], NAMES, (1, 0), 60)
    return text.plain


def test_each_layer_says_the_range_its_colours_span():
    hidden = UnitLayer("hidden1", "relu", np.linspace(0, 2.5, 32).reshape(2, 4, 4), *[None] * 2, 2)
    hidden = UnitLayer(hidden.name, hidden.what, hidden.maps, np.ones((2, 2)), np.zeros(2), 2)
    output = UnitLayer(
        "output",
        "sigmoid",
        np.linspace(0, 0.999, 16).reshape(1, 4, 4),
        np.ones((1, 2)),
        np.zeros(1),
        1,
    )
    text = picture(hidden, output)
    lines = text.splitlines()
    header = {line.split(" · ")[0]: line for line in lines if " · " in line}
    # a probability from 0 to 1: orange is near 0, blue near 1, dark at 0.5
    assert header["output"].endswith("orange 0 … blue 1"), header["output"]
    # a ReLU layer around 0, on the scale of its largest output
    assert header["hidden1"].endswith("orange -2.5 … blue +2.5"), header["hidden1"]
    assert header["input layer"].endswith("orange -1 … blue +1"), header["input layer"]
    assert "blue +, orange −" not in text
    key = "orange low, blue high, each layer on its own scale (in its heading)"
    assert key in " ".join(text.split())  # the key may wrap to the picture's width
