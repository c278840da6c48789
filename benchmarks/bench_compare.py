"""Four variants of first-gt-fifth: in the process pool against one after another in one process.

    python benchmarks/bench_compare.py [--repeats 3] [--workers 2] [--json]

The variants are the preset with training.lr = 0.001, 0.003, 0.01, 0.03. "serial" trains them one
after another in this process (torch already imported, the best case for serial); "pool" is
`nnplay.compare.run`, counted from submitting to the last result, including starting the worker
processes; "pool (warm)" is a second pool run, once the forkserver holds torch. Runs are
interleaved and the median of each is reported, with the ratio pool / serial (target <= 0.65 on
2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from nnplay.compare import plan, run, run_in_process  # noqa: E402
from nnplay.presets import load_preset  # noqa: E402

VARY = [("training.lr", [0.001, 0.003, 0.01, 0.03])]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    variants = plan(load_preset("first-gt-fifth"), VARY)
    times = {"serial": [], "pool": [], "pool (warm)": []}
    for i in range(args.repeats):
        order = ["serial", "pool"] if i % 2 == 0 else ["pool", "serial"]
        for name in order:
            if name == "serial":
                times[name].append(run_in_process(variants).seconds)
            else:
                times["pool"].append(run(variants, workers=args.workers).seconds)
                times["pool (warm)"].append(run(variants, workers=args.workers).seconds)
    medians = {name: statistics.median(values) for name, values in times.items()}
    result = {"variants": len(variants), "workers": args.workers, "cpus": os.cpu_count(),
              "seconds": {k: round(v, 3) for k, v in medians.items()},
              "ratio": round(medians["pool"] / medians["serial"], 3),
              "ratio_warm": round(medians["pool (warm)"] / medians["serial"], 3)}
    if args.json:
        print(json.dumps(result))
        return
    for name, value in medians.items():
        print(f"{name:12s} {value:7.2f} s")
    print(f"pool / serial: {result['ratio']:.2f} (warm {result['ratio_warm']:.2f}); "
          "target <= 0.65")


if __name__ == "__main__":
    main()
