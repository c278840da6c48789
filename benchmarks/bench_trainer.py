"""Trainer steps/second against a tutorial-style PyTorch training loop.

    python benchmarks/bench_trainer.py [--repeats 5] [--epochs N] [--json]

Both loops train a fresh model of the same architecture on the same tensors (the Trainer's own
data), with the same batch size, loss, optimizer settings and one torch thread. The tutorial loop
has the shape of the scripts in docs/curriculum.md §8: batches by slicing `x[i:i+bs]`, default
`torch.optim.Adam`, `loss.item()` every step. What is counted, in both: every training step
plus, after each epoch, an evaluation under `no_grad` of the loss and accuracy on the whole
training set and on the validation set (what the Trainer records in its History). Setup (data,
model, optimizer) is not counted. Runs are interleaved (alternating which goes first), and the
median of each is reported.
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
from torch import nn  # noqa: E402

from nnplay.experiment import Experiment, with_overrides  # noqa: E402
from nnplay.presets import load_preset, preset_names  # noqa: E402
from nnplay.training import Trainer  # noqa: E402


def first_gt_fifth(epochs: int | None) -> Experiment:
    exp = load_preset("first-gt-fifth")
    return with_overrides(exp, {"training.epochs": epochs}) if epochs else exp


def feature_sum(epochs: int | None) -> Experiment:
    """docs/curriculum.md §8: Linear 784→128 + ReLU + Linear 128→10, cross-entropy, Adam 0.001, batch 64."""
    settings = {
        "task.name": "feature_sum",
        "task.samples": 1000,
        "task.val_samples": 100,
        "model.hidden": [128],
        "model.activation": "relu",
        "training.loss": "cross_entropy",
        "training.optimizer": "adam",
        "training.lr": 0.001,
        "training.batch_size": 64,
        "training.epochs": epochs or 30,
        "goal.epochs": 0,
    }
    if "feature-sum" in preset_names():
        return with_overrides(load_preset("feature-sum"), settings)
    return with_overrides(Experiment(), settings)


def tutorial_model(exp: Experiment) -> nn.Sequential:
    """The same architecture, written out by hand as a tutorial would."""
    if exp.task.name == "first_gt_fifth":
        return nn.Sequential(nn.Linear(5, 1), nn.Sigmoid())
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def run_tutorial(exp: Experiment, data) -> tuple[int, float, float]:
    """(steps, seconds, last val accuracy) of the tutorial-style loop."""
    x, y, xv, yv = data
    torch.manual_seed(exp.training.seed)
    model = tutorial_model(exp)
    loss_fn = nn.MSELoss() if exp.training.loss == "mse" else nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=exp.training.lr)
    bs = exp.training.batch_size
    binary = exp.task.name == "first_gt_fifth"

    def evaluate(inputs, targets):
        model.eval()
        with torch.no_grad():
            out = model(inputs)
            loss = loss_fn(out, targets).item()
            if binary:
                predicted = (out >= 0.5).long().reshape(-1)
                accuracy = (predicted == targets.reshape(-1).long()).double().mean().item()
            else:
                accuracy = (out.argmax(dim=1) == targets).double().mean().item()
        model.train()
        return loss, accuracy

    steps = 0
    started = time.perf_counter()
    for _ in range(exp.training.epochs):
        running = 0.0
        for i in range(0, len(x), bs):
            xb, yb = x[i : i + bs], y[i : i + bs]
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            running += loss.item()
            steps += 1
        evaluate(x, y)
        _, val_accuracy = evaluate(xv, yv)
    return steps, time.perf_counter() - started, val_accuracy


def run_trainer(exp: Experiment) -> tuple[int, float, float]:
    trainer = Trainer(exp)
    started = time.perf_counter()
    trainer.run()
    seconds = time.perf_counter() - started
    return trainer.steps, seconds, trainer.history.val_accuracy[-1]


def bench(name: str, exp: Experiment, repeats: int) -> dict:
    reference = Trainer(exp)  # the very tensors the Trainer trains on
    data = (reference.X_train, reference.y_train, reference.X_val, reference.y_val)
    rates = {"tutorial": [], "trainer": []}
    accuracy = {}
    for r in range(repeats):
        order = ("tutorial", "trainer") if r % 2 == 0 else ("trainer", "tutorial")
        for which in order:
            steps, seconds, acc = (
                run_tutorial(exp, data) if which == "tutorial" else run_trainer(exp)
            )
            rates[which].append(steps / seconds)
            accuracy[which] = acc
    tutorial = statistics.median(rates["tutorial"])
    trainer = statistics.median(rates["trainer"])
    return {
        "task": name,
        "epochs": exp.training.epochs,
        "batch_size": exp.training.batch_size,
        "steps_per_epoch": reference.steps_per_epoch,
        "repeats": repeats,
        "tutorial_steps_per_second": round(tutorial, 1),
        "trainer_steps_per_second": round(trainer, 1),
        "ratio": round(trainer / tutorial, 3),
        "tutorial_runs": [round(v, 1) for v in rates["tutorial"]],
        "trainer_runs": [round(v, 1) for v in rates["trainer"]],
        "val_accuracy": {k: round(v, 3) for k, v in accuracy.items()},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each loop (default 5)")
    parser.add_argument(
        "--epochs", type=int, help="epochs per run (default: the preset's 20; feature-sum 30)"
    )
    parser.add_argument(
        "--task",
        choices=["first-gt-fifth", "feature-sum"],
        action="append",
        help="only this task (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON line per task")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # the Trainer sets this too; the tutorial loop gets the same

    tasks = {"first-gt-fifth": first_gt_fifth, "feature-sum": feature_sum}
    if not args.json:
        print(
            f"torch {torch.__version__}, {torch.get_num_threads()} thread; median of "
            f"{args.repeats} interleaved runs each.\nCounted: training steps + per-epoch "
            "no_grad evaluation (loss, accuracy) on the train and validation sets; "
            "setup excluded."
        )
    for name in args.task or list(tasks):
        result = bench(name, tasks[name](args.epochs), args.repeats)
        if args.json:
            print(json.dumps(result))
            continue
        print(
            f"\n{name}: {result['epochs']} epochs x {result['steps_per_epoch']} steps "
            f"(batch {result['batch_size']})"
        )
        print(
            f"  tutorial loop  {result['tutorial_steps_per_second']:9.1f} steps/s   "
            f"runs {result['tutorial_runs']}"
        )
        print(
            f"  nnplay Trainer {result['trainer_steps_per_second']:9.1f} steps/s   "
            f"runs {result['trainer_runs']}"
        )
        print(
            f"  ratio          {result['ratio']:9.3f}x   (final val accuracy: "
            f"tutorial {result['val_accuracy']['tutorial']}, "
            f"trainer {result['val_accuracy']['trainer']})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
