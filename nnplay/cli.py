"""The command line: `nnplay [PRESET]` opens the app; subcommands train, predict and list headless.

Exit codes: 0 done; 2 bad input (one line on stderr, never a traceback); 3 diverged.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

from nnplay.errors import ExperimentError

EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_INTERRUPTED = 2, 3, 130


class Parser(argparse.ArgumentParser):
    """Argparse, but a usage error is one line on stderr (exit 2), like our own errors."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> Parser:
    parser = Parser(prog="nnplay", description="A terminal neural-network playground on PyTorch. "
                    "Run `nnplay [PRESET_OR_PATH]` to open the app (default: first-gt-fifth).")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    listing = commands.add_parser("presets", help="list the preset exercises")
    listing.add_argument("--json", action="store_true", help="one JSON object on stdout")
    listing.set_defaults(func=cmd_presets)

    train = commands.add_parser("train", help="train a preset or experiment file headless")
    train.add_argument("target", metavar="PRESET_OR_PATH")
    train.add_argument("--epochs", type=int, help="train this many epochs")
    train.add_argument("--seed", type=int, help="seed of init, shuffling and dropout")
    train.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="SECTION.FIELD=VALUE", help="override a field, e.g. training.lr=0.01")
    train.add_argument("--solution", action="store_true", help="apply the preset's solution")
    train.add_argument("--export", action="append", default=[], metavar="PATH",
                       help="write the weights (.pt, .safetensors, .onnx, .npz); repeatable")
    train.add_argument("--json", action="store_true", help="end with one JSON summary line")
    train.set_defaults(func=cmd_train)

    predict = commands.add_parser("predict", help="predict with exported weights")
    predict.add_argument("weights", metavar="WEIGHTS")
    predict.add_argument("--input", dest="inputs", action="append", required=True,
                         metavar="V1,V2,...", help="one sample; repeatable")
    predict.add_argument("--json", action="store_true", help="one JSON object on stdout")
    predict.set_defaults(func=cmd_predict)

    from nnplay.lab.commands import add_lab_commands

    add_lab_commands(commands)

    from nnplay.serve import add_serve_command

    add_serve_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv or (argv[0] not in _command_names(parser) and not argv[0].startswith("-")):
        return launch_app(argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except ExperimentError as e:
        print(f"nnplay: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # the reader left early (nnplay ... | head): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _command_names(parser) -> set[str]:
    return set(next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices)


DEFAULT_PRESET = "first-gt-fifth"


def launch_app(argv: list[str]) -> int:
    """`nnplay [PRESET_OR_PATH]`: check the target before the app starts, so a bad name is one
    line on stderr rather than a broken screen."""
    from nnplay.presets import load_experiment

    if len(argv) > 1:
        print(f"nnplay: unexpected {' '.join(argv[1:])!r}; open the app with nnplay "
              "[PRESET_OR_PATH], or run a command (nnplay --help)", file=sys.stderr)
        return EXIT_BAD_INPUT
    target = argv[0] if argv else DEFAULT_PRESET
    try:
        exp = load_experiment(target)
    except ExperimentError as e:
        print(f"nnplay: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from nnplay.tui.app import run_app

    return run_app(exp, target)


# ---------------------------------------------------------------------------------------------
# nnplay presets


def cmd_presets(args) -> int:
    from nnplay.presets import all_presets

    rows = []
    for name, exp in all_presets():
        goal = exp.goal.describe() if exp.goal.enabled else "-"
        rows.append({"name": name, "title": exp.meta.title, "task": exp.task.name, "goal": goal})
    if args.json:
        print(json.dumps({"presets": rows}))
        return 0
    widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in ("name", "title", "task")}
    print("  ".join(k.upper().ljust(widths[k]) for k in widths) + "  GOAL")
    for r in rows:
        print("  ".join(r[k].ljust(widths[k]) for k in widths) + "  " + r["goal"])
    return 0


# ---------------------------------------------------------------------------------------------
# nnplay train


def experiment_from_args(args):
    from nnplay.experiment import parse_assignment, with_overrides, with_solution
    from nnplay.presets import load_experiment

    exp = load_experiment(args.target)
    if args.solution:
        exp = with_solution(exp)
    overrides = [parse_assignment(text) for text in args.overrides]
    if args.epochs is not None:
        overrides.append(("training.epochs", args.epochs))
    if args.seed is not None:
        overrides.append(("training.seed", args.seed))
    return with_overrides(exp, overrides)


def cmd_train(args) -> int:
    from nnplay.export import check_export_path, export

    exp = experiment_from_args(args)
    for path in args.export:  # refuse a bad path before training, not after
        check_export_path(path)
    from nnplay.training import Trainer  # torch: ~1.5 s, so only once the input is good

    trainer = Trainer(exp)
    progress = Progress(trainer) if sys.stderr.isatty() and not args.json else None
    interrupted = False
    try:
        trainer.run(on_epoch=progress.update if progress else None)
    except KeyboardInterrupt:
        trainer.stop()
        interrupted = True
    if progress:
        progress.close()
    exports = [str(p) for path in args.export for p in export(trainer.model, exp, path)]
    summary = train_summary(args.target, trainer, exports)
    if args.json:
        print(json.dumps(summary))
    else:
        print(format_summary(summary, trainer.message))
    if trainer.status == "diverged":
        return EXIT_DIVERGED
    return EXIT_INTERRUPTED if interrupted else 0


def train_summary(target: str, trainer, exports: list[str]) -> dict:
    h = trainer.history
    goal = trainer.goal()

    def finite(value):
        return value if value is not None and math.isfinite(value) else None

    return {
        "preset": target,
        "status": trainer.status,
        "epochs": trainer.epoch,
        "steps": trainer.steps,
        "seconds": round(trainer.seconds, 4),
        "steps_per_second": round(trainer.steps_per_second(), 1),
        "train_loss": finite(h.last("train_loss")),
        "val_loss": finite(h.last("val_loss")),
        "train_accuracy": h.last("train_accuracy"),
        "val_accuracy": h.last("val_accuracy"),
        "goal": None if goal is None else {"description": goal.description, "met": goal.met},
        "exports": exports,
    }


def format_summary(s: dict, message: str) -> str:
    def num(v):
        return "-" if v is None else f"{v:.4f}"

    lines = [f"{s['preset']}: {s['status']} after {s['epochs']} epochs, {s['steps']} steps "
             f"({s['seconds']:.2f} s, {s['steps_per_second']:.0f} steps/s)",
             f"  loss      train {num(s['train_loss'])}   val {num(s['val_loss'])}"]
    if s["train_accuracy"] is not None:
        lines.append(f"  accuracy  train {num(s['train_accuracy'])}   "
                     f"val {num(s['val_accuracy'])}")
    if s["goal"]:
        mark = "met" if s["goal"]["met"] else "not met"
        lines.append(f"  goal      {s['goal']['description']}: {mark}")
    if message and s["status"] != "finished":
        lines.append(f"  note      {message}")
    lines += [f"  exported  {p}" for p in s["exports"]]
    return "\n".join(lines)


class Progress:
    """A one-line progress bar on stderr, redrawn after each epoch."""

    def __init__(self, trainer, width: int = 30):
        self.trainer, self.width, self.started = trainer, width, time.perf_counter()

    def update(self, trainer) -> None:
        total = trainer.exp.training.epochs
        done = int(self.width * trainer.epoch / total)
        acc = trainer.history.last("val_accuracy")
        extra = f" val acc {acc:.3f}" if acc is not None else ""
        sys.stderr.write(f"\r[{'#' * done}{'.' * (self.width - done)}] epoch {trainer.epoch}/"
                         f"{total} loss {trainer.history.last('train_loss'):.4f}{extra} ")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")


# ---------------------------------------------------------------------------------------------
# nnplay predict


def parse_input(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise ExperimentError(f"--input {text!r}: expected comma-separated numbers, "
                              "e.g. 0.1,0.5,0.2") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise ExperimentError(f"--input {text!r}: expected finite comma-separated numbers")
    return values


def cmd_predict(args) -> int:
    from nnplay.export import load_predictor

    predictor = load_predictor(args.weights)
    rows = [parse_input(text) for text in args.inputs]
    lengths = {len(r) for r in rows}
    if len(lengths) > 1:
        raise ExperimentError(f"--input: every sample needs {predictor.shape.raw_inputs} values")
    results = describe_predictions(predictor, rows)
    if args.json:
        print(json.dumps({"weights": args.weights, "predictions": results}))
        return 0
    for r in results:
        values = ", ".join(f"{v:g}" for v in r["input"])
        if "class" in r:
            probs = ", ".join(f"{p:.4f}" for p in r["probabilities"])
            print(f"[{values}] -> class {r['class']}  (probabilities {probs})")
        else:
            print(f"[{values}] -> {r['value']:.6g}")
    return 0


def describe_predictions(predictor, rows) -> list[dict]:
    if predictor.shape.kind == "regression":
        outputs = predictor.outputs(rows)
        return [{"input": r, "value": float(o[0])} for r, o in zip(rows, outputs)]
    probs = predictor.probabilities(rows)
    return [{"input": r, "class": int(p.argmax()), "probabilities": [float(v) for v in p]}
            for r, p in zip(rows, probs)]
