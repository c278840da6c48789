"""The lab on the command line: nnplay backprop | optpaths | gradcheck."""

from __future__ import annotations

import json

from nnplay.errors import ExperimentError

MAX_STEPS = 10_000


def add_lab_commands(commands) -> None:
    backprop = commands.add_parser("backprop", help="the 2-2-2 backpropagation worked example")
    backprop.add_argument("--steps", type=int, default=1, help="SGD steps (default 1)")
    backprop.add_argument("--lr", type=float, default=0.5, help="learning rate (default 0.5)")
    backprop.add_argument("--json", action="store_true", help="one JSON object on stdout")
    backprop.set_defaults(func=cmd_backprop)

    paths = commands.add_parser("optpaths", help="optimizers walking a 2-D function")
    paths.add_argument("--function", default="bowl", help="bowl, elongated, rosenbrock, saddle, "
                       "himmelblau (default bowl)")
    paths.add_argument("--optimizers", default="sgd,momentum,adagrad,rmsprop,adam",
                       help="comma-separated: sgd, momentum, adagrad, rmsprop, adam")
    paths.add_argument("--lr", type=float, help="one learning rate for all (default: each its own)")
    paths.add_argument("--steps", type=int, default=200, help="steps (default 200)")
    paths.add_argument("--json", action="store_true", help="one JSON object on stdout")
    paths.set_defaults(func=cmd_optpaths)

    check = commands.add_parser("gradcheck", help="numerical gradients vs backprop of a model")
    check.add_argument("target", metavar="PRESET_OR_PATH")
    check.add_argument("--json", action="store_true", help="one JSON object on stdout")
    check.set_defaults(func=cmd_gradcheck)


def _check_range(name: str, value, low, high) -> None:
    if not low <= value <= high:
        raise ExperimentError(f"{name}: {value} is not allowed; allowed: {low} to {high}")


def cmd_backprop(args) -> int:
    from nnplay.lab.backprop import BackpropSetup, worked_example

    _check_range("--steps", args.steps, 1, 1000)
    if not args.lr > 0:
        raise ExperimentError(f"--lr: {args.lr} is not allowed; it must be a number > 0")
    result = worked_example(BackpropSetup(lr=args.lr), steps=args.steps)
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    for i, p in enumerate(result.numpy, start=1):
        print(f"step {i}: hidden net {_v(p.net1)} -> out {_v(p.hidden)};  output net {_v(p.net2)}"
              f" -> out {_v(p.out)};  loss {p.loss:.6f}")
        for name, grad in p.grads.items():
            print(f"  dL/d{name} = {_v(grad)}   new {name} = {_v(p.after[name])}")
    print("\n".join(result.chain_rule()))
    print(f"NumPy layers vs autograd: largest difference {result.max_difference:.1e}")
    return 0


def _v(array) -> str:
    return str(array.round(6).tolist())


def cmd_optpaths(args) -> int:
    from nnplay.lab.optpaths import FUNCTIONS, OPTIMIZERS, render, run_path, table

    if args.function not in FUNCTIONS:
        raise ExperimentError(f"--function: {args.function!r} is not allowed; allowed: "
                              f"{', '.join(FUNCTIONS)}")
    names = [n.strip() for n in args.optimizers.split(",") if n.strip()]
    unknown = [n for n in names if n not in OPTIMIZERS]
    if unknown or not names:
        raise ExperimentError(f"--optimizers: {','.join(unknown) or 'nothing'} is not allowed; "
                              f"allowed: {', '.join(OPTIMIZERS)}")
    _check_range("--steps", args.steps, 1, MAX_STEPS)
    if args.lr is not None and not 0 < args.lr <= 100:
        raise ExperimentError(f"--lr: {args.lr} is not allowed; it must be > 0 and <= 100")
    paths = [run_path(args.function, name, args.lr, args.steps) for name in names]
    function = FUNCTIONS[args.function]
    if args.json:
        print(json.dumps({"function": args.function,
                          "paths": [p.to_dict(function) for p in paths]}))
        return 0
    print(f"{function.title}: start {function.start}, X = start, o = minimum")
    print("\n".join(render(args.function, paths) + table(paths)))
    return 0


def cmd_gradcheck(args) -> int:
    from nnplay.lab.gradcheck import check_trainer, report_lines
    from nnplay.presets import load_experiment
    from nnplay.training import Trainer

    report = check_trainer(Trainer(load_experiment(args.target)))
    if args.json:
        print(json.dumps(report.to_dict()))
        return 0
    print("\n".join(report_lines(report)))
    return 0
