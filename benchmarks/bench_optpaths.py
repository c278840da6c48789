"""The optimizer-paths lab: five paths walked side by side against one after another.

    python benchmarks/bench_optpaths.py [--function rosenbrock] [--repeats 3] [--json]

Side by side (nnplay.lab.optpaths.compare) runs one forward and backward pass over all the
points per step, then each torch optimizer's step; one after another walks each optimizer's
path alone (run_path). Both give the same points (tests/lab/test_optpaths.py). Runs are
interleaved and the median of each is reported, with the ratio side by side / one after another
(measured 0.66 at load 9.6 on 2 cores). Other work on the machine changes both sides: note the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from nnplay.lab.optpaths import compare, run_path  # noqa: E402
from nnplay.lab.surfaces import PATH_OPTIMIZERS  # noqa: E402


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--function", default="rosenbrock")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    names = list(PATH_OPTIMIZERS)
    together, alone = [], []
    for i in range(args.repeats):
        runs = [
            (together, lambda: compare(args.function, names)),
            (alone, lambda: [run_path(args.function, name) for name in names]),
        ]
        for times, work in runs if i % 2 == 0 else runs[::-1]:
            times.append(timed(work))
    result = {
        "function": args.function,
        "side_by_side_s": statistics.median(together),
        "one_after_another_s": statistics.median(alone),
        "ratio": statistics.median(together) / statistics.median(alone),
        "load_average": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{args.function}: side by side {result['side_by_side_s']:.2f} s, one after another "
            f"{result['one_after_another_s']:.2f} s, ratio {result['ratio']:.2f} "
            f"(load {result['load_average']:.1f})"
        )


if __name__ == "__main__":
    main()
