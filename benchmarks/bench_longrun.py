"""A long run's cost stays flat: memory and the time of a View at 10k steps and at 1M steps.

    python benchmarks/bench_longrun.py [--steps 1000000] [--early 10000] [--json]

circle with 100 training samples, one per batch (so a million steps are 10,000 epochs, more
than the timeline's budget keeps), trained in a Session as the app trains it: every step
through Session.advance, so the History's step losses and the timeline of states kept for
scrubbing grow as they do in the app. At `--early` steps and at
`--steps` steps it measures the process's resident memory and the median time of a View, with
every picture (the map, the units, the weights) and with the charts tab's only. Issue 19's
targets: RSS at 1M at most 1.1x RSS at 10k plus the timeline's budget, and a View at 1M at most
1.5x one at 10k. The figures are ratios within one run; wall-clock times only inform.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import torch  # noqa: E402

from nnplay.experiment import with_overrides  # noqa: E402
from nnplay.presets import load_preset  # noqa: E402
from nnplay.tui.pictures import TAB_PICTURES  # noqa: E402
from nnplay.tui.session import PICTURES, TIMELINE_BUDGET, Session, state_bytes  # noqa: E402

MB = 1024 * 1024
VIEWS = 15


def rss() -> int:
    """The resident memory of this process now (not its peak), in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def view_seconds(session: Session, pictures: frozenset[str]) -> float:
    session.pictures = pictures
    times = []
    for _ in range(VIEWS):
        start = time.perf_counter()
        session.view()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(session: Session) -> dict:
    return {
        "steps": session.trainer.steps,
        "epochs": session.trainer.epoch,
        "rss_mb": rss() / MB,
        "states_kept": len(session.timeline),
        "timeline_mb": len(session.timeline) * state_bytes(session.timeline[0]) / MB,
        "step_buckets": len(session.trainer.history.step_loss.means),
        "view_all_ms": 1000 * view_seconds(session, PICTURES),
        "view_charts_ms": 1000 * view_seconds(session, TAB_PICTURES["charts-tab"]),
    }


def train_to(session: Session, steps: int) -> float:
    start = time.perf_counter()
    while session.trainer.steps < steps:
        if not session.advance():
            raise SystemExit(f"the run ended at step {session.trainer.steps}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--early", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    exp = with_overrides(load_preset("circle"), {"task.samples": 100})
    per_epoch = exp.task.samples  # a fresh validation set: every sample trains
    settings = {
        "training.batch_size": 1,
        "training.epochs": args.steps // per_epoch + 2,
        "training.patience": 0,  # no early stop: the run goes the whole way
        "goal.epochs": 0,
    }
    session = Session(with_overrides(exp, settings))
    session.map_size = (60, 30)
    train_to(session, args.early)
    early = measure(session)
    seconds = train_to(session, args.steps)
    late = measure(session)
    result = {
        "early": early,
        "late": late,
        "steps_per_second": (late["steps"] - early["steps"]) / seconds,
        "rss_ratio": late["rss_mb"] / early["rss_mb"],
        "rss_target_mb": 1.1 * early["rss_mb"] + TIMELINE_BUDGET / MB,
        "view_all_ratio": late["view_all_ms"] / early["view_all_ms"],
        "view_charts_ratio": late["view_charts_ms"] / early["view_charts_ms"],
        "charts_share_of_all": late["view_charts_ms"] / late["view_all_ms"],
    }
    if args.json:
        print(json.dumps(result))
        return
    for name in ("early", "late"):
        m = result[name]
        print(
            f"{m['steps']:>9,} steps ({m['epochs']:,} epochs): RSS {m['rss_mb']:.0f} MB, "
            f"{m['states_kept']:,} states kept (counted {m['timeline_mb']:.0f} MB), "
            f"{m['step_buckets']:,} step buckets, "
            f"View {m['view_all_ms']:.1f} ms (charts tab only {m['view_charts_ms']:.1f} ms)"
        )
    print(
        f"RSS at the end {late['rss_mb']:.0f} MB, target <= {result['rss_target_mb']:.0f} MB; "
        f"View at the end / early: {result['view_all_ratio']:.2f}x (target <= 1.5x), "
        f"charts tab only {result['view_charts_ratio']:.2f}x; "
        f"{result['steps_per_second']:,.0f} steps/s"
    )


if __name__ == "__main__":
    main()
