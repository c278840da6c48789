"""Four variants of first-gt-fifth: in the process pool against one after another in one process.

    python benchmarks/bench_compare.py [--repeats 3] [--workers 2] [--json]

The variants are the preset with training.lr = 0.001, 0.003, 0.01, 0.03. Two measurements:

- command: wall time of a fresh `nnplay compare first-gt-fifth --vary training.lr=...` (the
  pool, including starting Python, the forkserver and its torch import) against a fresh Python
  that imports nnplay and trains the four variants one after another. What a learner waits for.
- warm: inside one process, `nnplay.compare.run` once the forkserver is up (as in the app after
  its first comparison) against `run_in_process` (torch already imported).

Runs are interleaved (alternating which goes first) and the median of each is reported, with
the ratios pool / one-after-another (target <= 0.65 on 2 cores). Other work on the machine
changes both sides, not equally: note the load average with the figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from nnplay.compare import plan, run, run_in_process  # noqa: E402
from nnplay.presets import load_preset  # noqa: E402

LRS = [0.001, 0.003, 0.01, 0.03]


def variants():
    return plan(load_preset("first-gt-fifth"), [("training.lr", LRS)])


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serial-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serial_child:
        run_in_process(variants())
        return

    pool_command = [
        sys.executable,
        "-m",
        "nnplay",
        "compare",
        "first-gt-fifth",
        "--vary",
        "training.lr=" + ",".join(map(str, LRS)),
        "--json",
    ]
    serial_command = [sys.executable, os.path.abspath(__file__), "--serial-child"]
    planned = variants()
    run(planned, workers=args.workers)  # start the forkserver: the warm runs reuse it
    times = {"command pool": [], "command serial": [], "warm pool": [], "warm serial": []}
    for i in range(args.repeats):
        for side in ["pool", "serial"] if i % 2 == 0 else ["serial", "pool"]:
            times[f"command {side}"].append(
                wall(pool_command if side == "pool" else serial_command)
            )
            times[f"warm {side}"].append(
                run(planned, workers=args.workers).seconds
                if side == "pool"
                else run_in_process(planned).seconds
            )
    medians = {name: statistics.median(values) for name, values in times.items()}
    result = {
        "variants": len(planned),
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
        "seconds": {k: round(v, 3) for k, v in medians.items()},
        "ratio_command": round(medians["command pool"] / medians["command serial"], 3),
        "ratio_warm": round(medians["warm pool"] / medians["warm serial"], 3),
    }
    if args.json:
        print(json.dumps(result))
        return
    for name, value in medians.items():
        print(f"{name:15s} {value:7.2f} s")
    print(
        f"pool / one after another: command {result['ratio_command']:.2f}, warm "
        f"{result['ratio_warm']:.2f} (target <= 0.65); load average {result['load_average']}"
    )


if __name__ == "__main__":
    main()
