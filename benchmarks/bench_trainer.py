"""Trainer steps/second against a tutorial-style PyTorch loop, in one process.

The tutorial loop is the seeds' script shape: slice `x[i:i+batch]`, default `torch.optim.Adam`,
`loss.item()` every step, and (for a fair comparison) the same per-epoch evaluation on the
training and validation sets that the Trainer records. Same data, architecture, batch size and
one torch thread for both. Repeats are interleaved; the median of each is reported.

    python benchmarks/bench_trainer.py [--repeats 5] [--json]
"""

import argparse
import json
import statistics
import time

import torch

from nnplay.experiment import with_overrides
from nnplay.presets import load_preset
from nnplay.training import Trainer

CASES = {
    "first-gt-fifth": ("first-gt-fifth", {"training.epochs": 4}),
    "feature-sum": ("feature-sum", {"training.epochs": 4}),
}


def trainer_rate(exp) -> float:
    trainer = Trainer(exp)
    trainer.run()
    return trainer.steps / trainer.seconds


def tutorial_rate(exp) -> float:
    """The same run written the way a first PyTorch tutorial does."""
    reference = Trainer(exp)  # borrow its data and a fresh model of the same architecture
    x, y, xv, yv = reference.X_train, reference.y_train, reference.X_val, reference.y_val
    torch.manual_seed(exp.training.seed)
    from nnplay.model import build_model

    model = build_model(exp)
    loss_fn = type(reference.loss_fn)()
    optimizer = torch.optim.Adam(model.parameters(), lr=exp.training.lr)
    batch = exp.training.batch_size
    steps = 0
    started = time.perf_counter()
    for _ in range(exp.training.epochs):
        for i in range(0, len(x), batch):
            loss = loss_fn(model(x[i:i + batch]), y[i:i + batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss.item()
            steps += 1
        with torch.no_grad():
            for data, target in ((x, y), (xv, yv)):
                loss_fn(model(data), target).item()
    return steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = {}
    for name, (preset, overrides) in CASES.items():
        exp = with_overrides(load_preset(preset), overrides)
        ours, theirs = [], []
        for _ in range(args.repeats):
            ours.append(trainer_rate(exp))
            theirs.append(tutorial_rate(exp))
        results[name] = {"trainer_steps_per_s": round(statistics.median(ours)),
                         "tutorial_steps_per_s": round(statistics.median(theirs)),
                         "ratio": round(statistics.median(ours) / statistics.median(theirs), 2)}
        if not args.json:
            r = results[name]
            print(f"{name:16s} trainer {r['trainer_steps_per_s']:6d} steps/s   tutorial loop "
                  f"{r['tutorial_steps_per_s']:6d} steps/s   ratio {r['ratio']:.2f}x")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
