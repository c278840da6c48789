"""The lab's subcommands on the command line: backprop, optpaths, gradcheck, explain, lrfind.

Each prints a readable report, or with --json one JSON object as the last line of stdout.
Bad input exits 2 with one line on stderr that names the argument, the value and what is allowed.
`gradcheck` exits 1 when the check fails, so scripts can rely on it like a test.
"""

from __future__ import annotations

import json
import sys

from nnplay import i18n
from nnplay.errors import EXIT_BAD_INPUT, ExperimentError
from nnplay.i18n import _
from nnplay.lab.checks import (
    GRADCHECK_MAX_PARAMS,
    GRADCHECK_SAMPLES,
    MAX_EXPLAIN_STEPS,
    MAX_STEPS,
    checked_count,
    checked_lr,
    checked_name,
    checked_names,
    checked_rates,
)
from nnplay.lab.lrfind import LEAST_STEPS, SWEEP_END, SWEEP_START, SWEEP_STEPS
from nnplay.lab.surfaces import FUNCTIONS, PATH_OPTIMIZERS
from nnplay.untrusted import shown

# Modules that import NumPy or torch are imported inside the commands: the parser is built on
# every start, also before the app's first frame.

EXIT_FAILED = 1


def add_lab_commands(subparsers) -> None:
    json_help = _("end with one JSON object")
    backprop = subparsers.add_parser("backprop", help=_("the 2-2-2 backpropagation worked example"))
    backprop.add_argument(
        "--steps",
        type=int,
        default=1,
        help=_("SGD steps, 1..{most} (default 1)").format(most=MAX_STEPS),
    )
    backprop.add_argument(
        "--lr", type=float, default=0.5, help=_("learning rate > 0 (default 0.5)")
    )
    backprop.add_argument("--json", action="store_true", help=json_help)
    backprop.set_defaults(func=reporting_bad_input(cmd_backprop))

    paths = subparsers.add_parser("optpaths", help=_("optimizers walking a 2-D function"))
    paths.add_argument(
        "--function",
        default="bowl",
        help=_("one of {names} (default bowl)").format(names=", ".join(FUNCTIONS)),
    )
    paths.add_argument(
        "--optimizers",
        default=",".join(PATH_OPTIMIZERS),
        help=_("comma-separated, from {names} (default all)").format(
            names=", ".join(PATH_OPTIMIZERS)
        ),
    )
    paths.add_argument(
        "--lr",
        type=float,
        help=_("learning rate > 0 for all (default: each optimizer's own for the function)"),
    )
    paths.add_argument(
        "--steps",
        type=int,
        help=_("1..{most} (default: the function's own, {defaults})").format(
            most=MAX_STEPS, defaults=", ".join(f"{n} {s.steps}" for n, s in FUNCTIONS.items())
        ),
    )
    paths.add_argument("--json", action="store_true", help=json_help)
    paths.set_defaults(func=reporting_bad_input(cmd_optpaths))

    check = subparsers.add_parser(
        "gradcheck", help=_("numerical gradients against autograd for a model")
    )
    check.add_argument("target", metavar="PRESET_OR_PATH")
    check.add_argument(
        "--samples",
        type=int,
        default=GRADCHECK_SAMPLES,
        help=_("training samples in the batch, 1..{most} (default {default})").format(
            most=MAX_STEPS, default=GRADCHECK_SAMPLES
        ),
    )
    check.add_argument(
        "--max-params",
        type=int,
        default=GRADCHECK_MAX_PARAMS,
        help=_("parameters sampled per tensor, 1..{most} (default {default})").format(
            most=MAX_STEPS, default=GRADCHECK_MAX_PARAMS
        ),
    )
    check.add_argument("--json", action="store_true", help=json_help)
    check.set_defaults(func=reporting_bad_input(cmd_gradcheck))

    explain = subparsers.add_parser(
        "explain",
        help=_("one weight's next update by hand, checked against autograd and the optimizer"),
        description=_(
            "Build the experiment as nnplay train does, train --steps steps, then work out by "
            "hand the next step of one weight: the chain rule over the mini-batch, the L1 and "
            "L2 terms, the optimizer's arithmetic. The Trainer then takes that step, and the "
            "report sets autograd's gradient and the torch optimizer's new value beside the "
            "hand's (exit 1 when they disagree)."
        ),
    )
    add_target_argument(explain)
    explain.add_argument(
        "--weight",
        metavar="NAME[i,j]",
        help=_(
            "a weight or bias as the exported state_dict names it, e.g. hidden1.weight[0,1] or "
            "output.bias[0] (default: the first layer's [0,0])"
        ),
    )
    explain.add_argument(
        "--steps",
        type=int,
        default=0,
        help=_("steps to train first, 0..{most} (default 0)").format(most=MAX_EXPLAIN_STEPS),
    )
    add_overrides_argument(explain)
    explain.add_argument("--json", action="store_true", help=json_help)
    explain.set_defaults(func=reporting_bad_input(cmd_explain))

    find = subparsers.add_parser(
        "lrfind",
        help=_("learning-rate range test: the loss as the rate grows, and a rate to use"),
        description=_(
            "Train the experiment from its initial weights while the learning rate grows "
            "geometrically from --start to --end, one mini-batch per rate, stopping early when "
            "the loss explodes; draw the loss against the rate and suggest a rate: a tenth of "
            "the one where the smoothed loss is lowest."
        ),
    )
    add_target_argument(find)
    find.add_argument(
        "--start",
        type=float,
        default=SWEEP_START,
        help=_("the first rate, > 0 (default {default})").format(default=SWEEP_START),
    )
    find.add_argument(
        "--end",
        type=float,
        default=SWEEP_END,
        help=_("the last rate, > --start and <= 100 (default {default})").format(
            default=f"{SWEEP_END:g}"
        ),
    )
    find.add_argument(
        "--steps",
        type=int,
        default=SWEEP_STEPS,
        help=_("rates tried, one batch each, {least}..{most} (default {default})").format(
            least=LEAST_STEPS, most=MAX_STEPS, default=SWEEP_STEPS
        ),
    )
    add_overrides_argument(find)
    find.add_argument("--json", action="store_true", help=json_help)
    find.set_defaults(func=reporting_bad_input(cmd_lrfind))


def add_target_argument(parser) -> None:
    """The experiment a lab command works on, named as `nnplay train` names one."""
    parser.add_argument(
        "target",
        metavar="PRESET_OR_PATH",
        help=_("a preset, an experiment file (.toml) or an export"),
    )


def add_overrides_argument(parser) -> None:
    """--set SECTION.FIELD=VALUE, repeatable: as `nnplay train` changes an experiment."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help=_("override a field, e.g. training.lr=0.01"),
    )


def reporting_bad_input(command):
    """Bad input as one line on stderr that names the command, and exit code 2."""

    def run(args) -> int:
        try:
            return command(args)
        except ExperimentError as e:
            print(f"nnplay {args.command}: {shown(e, 2000)}", file=sys.stderr)
            return EXIT_BAD_INPUT

    return run


def report(args, data: dict, lines: list[str]) -> None:
    """With --json one JSON object on one line, otherwise the readable report."""
    print(json.dumps(data) if args.json else "\n".join(lines))


def cmd_backprop(args) -> int:
    from nnplay.lab.backprop import BackpropConfig, worked_example
    from nnplay.lab.text import backprop_lines

    config = BackpropConfig(
        lr=checked_lr(args.lr), steps=checked_count(args.steps, "--steps", MAX_STEPS)
    )
    with i18n.english(args.json):  # JSON is the same in every language
        result = worked_example(config)
        data = result.to_dict()
    report(args, data, backprop_lines(result))
    return 0


def cmd_optpaths(args) -> int:
    from nnplay.lab.optpaths import compare, path_map
    from nnplay.lab.text import optpaths_lines

    function = checked_name(args.function, "--function", FUNCTIONS)
    optimizers = checked_names(args.optimizers, "--optimizers", PATH_OPTIMIZERS)
    steps = FUNCTIONS[function].steps
    if args.steps is not None:
        steps = checked_count(args.steps, "--steps", MAX_STEPS)
    paths = compare(function, optimizers, checked_lr(args.lr), steps)
    data = {
        "function": function,
        "steps": steps,
        "tolerance": FUNCTIONS[function].tolerance,
        "paths": [p.to_dict() for p in paths],
    }
    report(args, data, optpaths_lines(function, steps, paths, path_map(function, paths)))
    return 0


def cmd_gradcheck(args) -> int:
    from nnplay.lab.gradcheck import gradient_check
    from nnplay.lab.text import gradcheck_lines
    from nnplay.presets import load_experiment
    from nnplay.training import Trainer

    samples = checked_count(args.samples, "--samples", MAX_STEPS)
    max_params = checked_count(args.max_params, "--max-params", MAX_STEPS)
    trainer = Trainer(load_experiment(args.target))
    result = gradient_check(
        trainer.model,
        trainer.loss_fn,
        trainer.X_train[:samples],
        trainer.y_train[:samples],
        max_params=max_params,
    )
    report(
        args,
        {"target": args.target, **result.to_dict()},
        [shown(args.target, 300), *gradcheck_lines(result)],
    )
    return 0 if result.passed else EXIT_FAILED


def cmd_explain(args) -> int:
    from nnplay.experiment import parse_assignment
    from nnplay.lab.explain import explain_next_step, parse_weight
    from nnplay.lab.explain_text import explain_lines
    from nnplay.locks import with_unlocked_overrides
    from nnplay.presets import load_experiment
    from nnplay.training import Trainer

    steps = checked_count(args.steps, "--steps", MAX_EXPLAIN_STEPS, least=0)
    overrides = [parse_assignment(text) for text in args.overrides]
    trainer = Trainer(with_unlocked_overrides(load_experiment(args.target), overrides))
    name, index = parse_weight(args.weight, trainer.model)
    for _step in range(steps):
        if trainer.step() is None or trainer.done:
            message = _(
                "--steps {steps}: the run ended after {done} steps ({message}); allowed: 0..{most}"
            )
            raise ExperimentError(
                message.format(
                    steps=steps, done=trainer.steps, message=trainer.message, most=trainer.steps - 1
                )
            )
    explanation = explain_next_step(trainer, name, index)
    report(
        args,
        {"target": args.target, **explanation.to_dict()},
        explain_lines(shown(args.target, 300), explanation),
    )
    return 0 if explanation.agrees else EXIT_FAILED


def cmd_lrfind(args) -> int:
    from nnplay.experiment import parse_assignment
    from nnplay.lab.lrfind import range_test
    from nnplay.lab.text import lrfind_lines, lrfind_reason
    from nnplay.locks import with_unlocked_overrides
    from nnplay.presets import load_experiment

    start, end = checked_rates(args.start, args.end, ("--start", "--end"))
    steps = checked_count(args.steps, "--steps", MAX_STEPS, least=LEAST_STEPS)
    overrides = [parse_assignment(text) for text in args.overrides]
    exp = with_unlocked_overrides(load_experiment(args.target), overrides)
    test = range_test(exp, start, end, steps)
    with i18n.english(args.json):  # JSON is the same in every language
        reason = lrfind_reason(test)
    report(
        args,
        {"target": args.target, **test.to_dict(), "reason": reason},
        lrfind_lines(test, shown(args.target, 300), exp.training.optimizer),
    )
    return 0
