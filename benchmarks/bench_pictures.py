"""What the pictures cost per frame: the worker's View, and the UI's painting of each tab.

    python benchmarks/bench_pictures.py

The worker builds a View (decision grid, map points, unit maps, weights) every frame; the UI
thread turns the active tab into text. Both are timed on circle (2-8-1) at the grid sizes of a
120x40 screen with and without the build panel, median of many repeats, in milliseconds.
"""

import statistics
import time
from functools import partial

from nnplay.presets import load_preset
from nnplay.tui.map_view import render_map
from nnplay.tui.network_picture import render_network
from nnplay.tui.neuron_view import render_units, unit_details
from nnplay.tui.session import Session
from nnplay.tui.weights_view import render_weights

REPEATS = 200


def median_ms(work) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main() -> None:
    session = Session(load_preset("circle"))
    for _ in range(200):
        session.advance()
    for cols, rows in ((44, 22), (56, 28), (76, 38)):
        session.map_size = (cols, rows)
        view = session.view()
        paint = median_ms(partial(render_map, view.grid, view.points, 120))
        print(
            f"map {cols}x{rows}: worker View {median_ms(session.view):.2f} ms, "
            f"painting the map {paint:.2f} ms"
        )
    layers, names = view.units, view.input_names
    neurons = median_ms(
        lambda: (render_units(layers, names, (1, 0), 66), unit_details(layers, names, (1, 0), 66))
    )
    weights = median_ms(lambda: render_weights(view.weights, names, 66))
    network = median_ms(lambda: render_network(view.network, layers, names, (0, 0, 0), 66))
    print(
        f"painting the neurons {neurons:.2f} ms, the weights {weights:.2f} ms, "
        f"the network {network:.2f} ms ({network / neurons:.1f}x the neurons)"
    )
    deep = Session(load_preset("vanishing-gradients"))  # ten columns, 8x8 lines between each
    view = deep.view()
    network = median_ms(lambda: render_network(view.network, view.units, names, (0, 0, 0), 66))
    print(f"painting a ten-column network (vanishing-gradients) {network:.2f} ms")


if __name__ == "__main__":
    main()
