"""The command line: `nnplay [PRESET]` opens the app; subcommands train, predict and list headless.

Exit codes: 0 done; 1 the output's reader left early (silently); 2 bad input, a file or the
output that cannot be written (one line on stderr, never a traceback); 3 diverged; 130 / 143
interrupted by Ctrl+C / SIGTERM (after a summary of what was done).
JSON output is strict JSON: a number that is not finite (NaN, infinity) is written as null.

Each command imports what it runs inside its function: the parser, --help and a usage error answer
without loading NumPy (~0.3 s), torch (~1.5 s) or Textual (~1 s); tests/test_layers.py checks it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing.resource_tracker
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from nnplay import __version__, cli_help, i18n
from nnplay.cli_lab import add_lab_commands, add_overrides_argument
from nnplay.cli_verify import add_save_option, add_verify_command, result_target, save_result
from nnplay.errors import EXIT_BAD_INPUT, ExperimentError
from nnplay.i18n import N_, _
from nnplay.labels import status_word
from nnplay.serve import add_serve_command, end_with_the_server, is_web_tab
from nnplay.status import Status
from nnplay.untrusted import named_path, shown

EXIT_DIVERGED = 3
EXIT_OUTPUT_CLOSED = 1  # the reader left early (nnplay ... | head), as other tools exit then


class Interrupted(BaseException):
    """Ctrl+C or SIGTERM: the run winds down with a summary; exit 128 + the signal's number."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum, self.exit_code = signum, 128 + signum


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _on_signal(signum, frame):
    raise Interrupted(signum)


def interruption(error: BaseException | None) -> Interrupted | None:
    """The Interrupted behind an error, if any: Python 3.11 wraps what a signal handler raises
    while a class is being made (during a late import) in "RuntimeError: Error calling
    __set_name__"."""
    while error is not None:
        if isinstance(error, Interrupted):
            return error
        error = error.__cause__
    return None


def handle_signals() -> dict:
    """Ctrl+C and SIGTERM raise Interrupted; returns the handlers they had."""
    return {signum: signal.signal(signum, _on_signal) for signum in _SIGNALS}


@contextlib.contextmanager
def signals_received():
    """Ctrl+C and SIGTERM inside the block are only noted: it yields the list of those
    received, first first, for the block to act on when it can."""
    received: list[int] = []
    old = {signum: signal.signal(signum, lambda n, _: received.append(n)) for signum in _SIGNALS}
    try:
        yield received
    finally:
        for signum, handler in old.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def signals_deferred():
    """Ctrl+C and SIGTERM inside the block are kept and raised as Interrupted when it ends, so
    what it starts (worker processes) is never left half started: such a worker is not known to
    be stopped and outlives its parent to print a traceback. (Not a signal mask: the processes
    started in the block would inherit it, and could not be stopped.)"""
    with signals_received() as received:
        yield
    if received:
        raise Interrupted(received[0])


# Options whose value may start with "-" (a negative number): argparse would take it for an option.
_VALUE_OPTIONS = {"--input", "--set", "--epochs", "--seed"}
_NEGATIVE = re.compile(r"-[^-]")  # -4,4  -.5  -inf, never --option


def join_negative_values(argv: list[str]) -> list[str]:
    """`--input -4,4` becomes `--input=-4,4`."""
    out, i = [], 0
    while i < len(argv):
        if argv[i] in _VALUE_OPTIONS and i + 1 < len(argv) and _NEGATIVE.match(argv[i + 1]):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def json_line(data) -> str:
    """Strict JSON (no NaN or Infinity tokens): a non-finite number becomes null."""

    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    return json.dumps(clean(data), allow_nan=False)


# argparse's own words (usage, options, its errors) as its gettext msgids, marked here so that
# they are extracted into our catalog; `speak_argparse` makes argparse look them up there.
ARGPARSE_WORDS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("unrecognized arguments: %s"),
    N_("the following arguments are required: %s"),
    N_("expected one argument"),
    N_("invalid %(type)s value: %(value)r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("ignored explicit argument %r"),
)


def speak_argparse() -> None:
    """argparse translates its words with the `gettext` functions it imported; point those names
    at ours, so its help and errors follow --lang like every other text."""
    vars(argparse).update(_=i18n._, ngettext=i18n.ngettext)


def choose_language(argv: list[str]) -> list[str]:
    """Set the language from `--lang X` (anywhere before `--`, the last one counts), else from
    NNPLAY_LANG or the locale; returns argv without the --lang options. An unknown value raises
    ExperimentError, told in the language of the environment."""
    chosen, rest, i = None, [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        if arg == "--lang" or arg.startswith("--lang="):
            if arg == "--lang":
                chosen = argv[i + 1] if i + 1 < len(argv) else ""
                i += 2
            else:
                chosen = arg.partition("=")[2]
                i += 1
            continue
        rest.append(arg)
        i += 1
    i18n.set_language(i18n.language_from(os.environ))
    if chosen is not None:
        if chosen not in i18n.LANGUAGES:
            message = _("--lang {value}: must be one of {allowed}")
            raise ExperimentError(
                message.format(value=repr(shown(chosen, 40)), allowed=", ".join(i18n.LANGUAGES))
            )
        i18n.set_language(chosen)
    return rest


class Parser(argparse.ArgumentParser):
    """Argparse, but a usage error is one line on stderr (exit 2), like our own errors, and the
    help's lines break by nnplay's rule (cli_help), Chinese too."""

    # The subcommands' names (the top-level parser's): argparse keeps them only privately.
    command_names: Iterable[str] = ()

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", cli_help.Help)
        super().__init__(*args, **kwargs)

    def add_subparsers(self, **kwargs):
        """The subcommands, each one's line in the list filled like every other help text."""
        commands = super().add_subparsers(**kwargs)
        add_parser = commands.add_parser

        def add_command(name, **options):
            options["help"] = cli_help.filled_help(options.get("help"))
            return add_parser(name, **options)

        commands.add_parser = add_command  # type: ignore[method-assign]
        return commands

    def error(self, message):
        see = _("(see {command} --help)").format(command=self.prog)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {shown(message, 300)} {see}\n")


def build_parser() -> Parser:
    parser = Parser(
        prog="nnplay",
        description=_(
            "A terminal neural-network playground on PyTorch. "
            "Run `nnplay [PRESET_OR_PATH]` to open the app (default: first-gt-fifth)."
        ),
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"nnplay {__version__}",
        help=_("show program's version number and exit"),
    )
    parser.add_argument(
        "--lang",
        choices=i18n.LANGUAGES,
        help=_(
            "language of every text: en (English) or zh (Chinese); default: NNPLAY_LANG, "
            "else the locale (LANG=zh_CN.UTF-8 gives Chinese), else English"
        ),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    assert isinstance(commands.choices, dict)  # argparse fills it in as commands are added
    parser.command_names = commands.choices

    listing = commands.add_parser("presets", help=_("list the preset exercises"))
    listing.add_argument("--json", action="store_true", help=_("one JSON object on stdout"))
    listing.add_argument(
        "--answers",
        action="store_true",
        help=_(
            "with --json: each question's answer and explanation too (for teachers; without "
            "it the listing never spoils a question)"
        ),
    )
    listing.set_defaults(func=cmd_presets)

    train = commands.add_parser(
        "train",
        help=_("train a preset or experiment file headless, or continue a saved run"),
        description=_(
            "Train a preset or an experiment file, or continue a run saved with --save-run "
            "(FILE.nnrun): it goes on exactly where it stopped, up to --epochs in all, and "
            "prints what a run that never stopped would. A continued run may change "
            "training.lr, training.l1, training.l2, training.epochs and the goal and meta "
            "sections (--set): it then goes on with the change from where it was. A run that "
            "early-stopped or diverged cannot continue (its weights were set back to an "
            "earlier epoch): start a new run instead."
        ),
    )
    train.add_argument(
        "target",
        metavar="PRESET_OR_PATH",
        help=_(
            "a preset, an experiment file (.toml), an export, a run file (.nnrun), or a CSV "
            "file of your own data (with --target)"
        ),
    )
    add_data_options(train)
    train.add_argument(
        "--epochs", type=int, help=_("train this many epochs (in all, when continuing a run)")
    )
    train.add_argument("--seed", type=int, help=_("seed of init, shuffling and dropout"))
    add_overrides_argument(train)
    train.add_argument("--solution", action="store_true", help=_("apply the preset's solution"))
    train.add_argument(
        "--export",
        action="append",
        default=[],
        metavar="PATH",
        help=_("write the weights (.pt, .safetensors, .onnx, .npz); repeatable"),
    )
    train.add_argument(
        "--save-run",
        metavar="FILE.nnrun",
        help=_(
            "at the end, write the whole run (weights, optimizer, random streams, history) to "
            "continue it later: nnplay train FILE.nnrun"
        ),
    )
    add_save_option(train)
    train.add_argument("--json", action="store_true", help=_("end with one JSON summary line"))
    train.set_defaults(func=cmd_train)

    predict = commands.add_parser("predict", help=_("predict with exported weights"))
    predict.add_argument("weights", metavar="WEIGHTS")
    predict.add_argument(
        "--input",
        dest="inputs",
        action="append",
        required=True,
        metavar="V1,V2,...",
        help=_("one sample; repeatable"),
    )
    predict.add_argument("--json", action="store_true", help=_("one JSON object on stdout"))
    predict.set_defaults(func=cmd_predict)

    compare = commands.add_parser("compare", help=_("train variants side by side (all cores)"))
    compare.add_argument("target", metavar="PRESET_OR_TOML")
    compare.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="SECTION.FIELD=V1,V2",
        help=_(
            "values to compare; repeat for the grid of all combinations "
            "(default: the preset's own comparison)"
        ),
    )
    compare.add_argument("--epochs", type=int, help=_("train every variant this many epochs"))
    compare.add_argument("--seed", type=int, help=_("seed of init, shuffling and dropout"))
    compare.add_argument("--json", action="store_true", help=_("one JSON object on stdout"))
    compare.set_defaults(func=cmd_compare)

    add_lab_commands(commands)
    add_verify_command(commands)

    add_serve_command(commands)
    return parser


class OutputFailed(Exception):
    """Writing to stdout failed (a full disk, a closed reader): told apart from the command's
    own files."""

    def __init__(self, error: OSError):
        super().__init__(error)
        self.error = error


class GuardedStdout:
    """sys.stdout while a command runs: a write or flush that fails raises OutputFailed."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as e:
            raise OutputFailed(e) from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as e:
            raise OutputFailed(e) from None

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def main(argv: list[str] | None = None) -> int:
    """Run one command. What it prints goes out before it returns: a full disk or a closed
    stdout is one line on stderr and exit 2; a reader that left early (`| head`) exit 1,
    silently."""
    if sys.stdout is None:  # started with stdout closed (>&-): the output has nowhere to go
        print(_("nnplay: stdout is closed; redirect it to a file or /dev/null"), file=sys.stderr)
        return EXIT_BAD_INPUT
    stdout, sys.stdout = sys.stdout, GuardedStdout(sys.stdout)
    try:
        try:
            return run_command(argv)
        finally:
            sys.stdout.flush()
    except OutputFailed as e:
        if isinstance(e.error, BrokenPipeError):
            # nothing more can reach the reader, even at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())
            return EXIT_OUTPUT_CLOSED
        reason = e.error.strerror or e.error.__class__.__name__
        print(
            _("nnplay: cannot write the output ({reason})").format(reason=reason), file=sys.stderr
        )
        return EXIT_BAD_INPUT
    finally:
        sys.stdout = stdout


def run_command(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        argv = choose_language(argv)  # before the parser is built: its help is in the language
    except ExperimentError as e:
        print(f"nnplay: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    speak_argparse()
    parser = build_parser()
    if not argv or (argv[0] not in parser.command_names and not argv[0].startswith("-")):
        return launch_app(argv)
    args = parser.parse_args(join_negative_values(argv))
    if args.command is None:
        parser.print_help()
        return 0
    previous = handle_signals()
    try:
        return args.func(args)
    except ExperimentError as e:
        print(f"nnplay: {shown(e, 2000)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (Interrupted, RuntimeError) as e:
        interrupted = interruption(e)
        if interrupted is None:
            raise
        print(_("nnplay: interrupted"), file=sys.stderr)
        return interrupted.exit_code
    finally:
        restore_signals(previous)


def restore_signals(previous: dict) -> None:
    """Give the signals their old handlers. One that lands meanwhile finds the command done
    (its files whole, its summary printed): it is dropped, never a traceback."""
    while True:
        try:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            return
        except Interrupted:
            continue


def add_data_options(command: argparse.ArgumentParser) -> None:
    """The options of a CSV task: the column to predict, and a changed file accepted."""
    command.add_argument(
        "--target",
        dest="column",
        metavar="COLUMN",
        help=_("the column of the CSV file to predict (its class names or numbers)"),
    )
    command.add_argument(
        "--accept-data-change",
        action="store_true",
        help=_(
            "train on an experiment's CSV file even though it changed since the experiment "
            "read it (its SHA-256 differs)"
        ),
    )


def app_arguments(argv: list[str]) -> argparse.Namespace | None:
    """`nnplay [PRESET_OR_PATH] [--target COLUMN] [--accept-data-change]`: None, after one
    line on stderr, when they are not that."""
    parser = Parser(prog="nnplay", add_help=False)
    parser.add_argument("target", nargs="?")
    add_data_options(parser)
    args, extra = parser.parse_known_args(argv)
    if extra:
        message = _(
            "nnplay: unexpected {words}; open the app with nnplay [PRESET_OR_PATH] "
            "[--target COLUMN], or run a command (nnplay --help)"
        )
        print(message.format(words=repr(shown(" ".join(extra), 200))), file=sys.stderr)
        return None
    return args


def launch_app(argv: list[str]) -> int:
    """`nnplay [PRESET_OR_PATH]`: check the target before the app starts, so a bad name is one
    line on stderr rather than a broken screen."""
    from nnplay.packs import pack_folder, read_pack
    from nnplay.presets import DEFAULT_PRESET, RUN_SUFFIX, load_experiment

    args = app_arguments(argv)
    if args is None:
        return EXIT_BAD_INPUT
    # A browser tab of `nnplay serve` talks to the app through Textual's web driver, not a tty.
    web_tab = is_web_tab()
    if not web_tab and not (sys.stdin.isatty() and sys.stdout.isatty()):
        print(
            _(
                "nnplay: the app needs a terminal (stdin or stdout is not one); to train "
                "without one, use nnplay train PRESET (see nnplay train --help)"
            ),
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    target = args.target or DEFAULT_PRESET
    run = pack = None
    try:
        if named_path(target).suffix == RUN_SUFFIX:  # a saved run: the app goes on with it
            from nnplay.run_files import read_run

            run = read_run(target)
            exp = run.experiment
        elif (folder := pack_folder(target)) is not None:  # a lesson pack: its menu first
            pack = read_pack(folder)
            target, exp = pack.first()
        else:
            exp = load_experiment(target, args.column, args.accept_data_change)
    except ExperimentError as e:
        print(f"nnplay: {shown(e, 2000)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if web_tab:
        end_with_the_server()
    from nnplay.tui.app import run_app

    # in the app, as Python sets it (the app restores the terminal); quiet again at exit
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        # Comparisons start worker processes; the tracker they need cannot start in the app.
        multiprocessing.resource_tracker.ensure_running()
        return run_app(exp, target, run, pack)
    finally:
        signal.signal(signal.SIGINT, previous)


# ---------------------------------------------------------------------------------------------
# nnplay presets


def cmd_presets(args) -> int:
    from nnplay.presets import all_presets
    from nnplay.tasks import source_name

    rows, questions = [], []
    with i18n.english(args.json):  # JSON is the same in every language
        for name, exp in all_presets():
            goal = exp.goal.describe() if exp.goal.enabled else "-"
            title = exp.meta.localized().title
            task = source_name(exp.task)
            rows.append({"name": name, "title": title, "task": task, "goal": goal})
            asks = exp.predict.asks  # the question asked before the first run, if any
            questions.append(exp.predict.to_dict(args.answers) if asks else None)
    if args.json:
        listed = [row | {"predict": q} for row, q in zip(rows, questions, strict=True)]
        print(json_line({"presets": listed}))
        return 0
    headers = {"name": _("NAME"), "title": _("TITLE"), "task": _("TASK")}
    widths = {
        k: max(i18n.cells(header), *(i18n.cells(r[k]) for r in rows))
        for k, header in headers.items()
    }
    print("  ".join(i18n.ljust(headers[k], widths[k]) for k in widths) + "  " + _("GOAL"))
    for r in rows:
        print("  ".join(i18n.ljust(r[k], widths[k]) for k in widths) + "  " + r["goal"])
    return 0


# ---------------------------------------------------------------------------------------------
# nnplay train


def experiment_from_args(args, exp):
    """`exp` with what the command line changes: --solution, then --set, --epochs, --seed."""
    from nnplay.experiment import parse_assignment, with_overrides, with_solution
    from nnplay.locks import refuse_locked

    if args.solution:
        exp = with_solution(exp)  # the exercise's own: it may change a locked field
    overrides = [("--set", *parse_assignment(text)) for text in args.overrides]
    if args.epochs is not None:
        overrides.append(("--epochs", "training.epochs", args.epochs))
    if args.seed is not None:
        overrides.append(("--seed", "training.seed", args.seed))
    refuse_locked(exp, ((option, path) for option, path, _value in overrides))
    asked = [(path, value) for _option, path, value in overrides]
    return with_overrides(exp, asked, args.accept_data_change)


def saved_run_target(text: str) -> Path:
    """Where --save-run writes: a .nnrun file that can be written (checked before training)."""
    from nnplay.files import check_writable
    from nnplay.presets import RUN_SUFFIX

    path = named_path(text, "--save-run")
    if path.suffix != RUN_SUFFIX:
        message = _("--save-run {path}: a run file's name ends in {suffix}")
        raise ExperimentError(message.format(path=shown(path, 300), suffix=RUN_SUFFIX))
    check_writable(path)
    return path


def cmd_train(args) -> int:
    from nnplay.export import check_export_targets, export
    from nnplay.memory import check_training_fits
    from nnplay.presets import RUN_SUFFIX, load_experiment

    source = named_path(args.target)
    saved = None
    if source.suffix == RUN_SUFFIX:
        from nnplay.run_files import read_run  # torch: reading a run builds its network

        saved = read_run(source)
    start = (
        saved.experiment
        if saved
        else load_experiment(args.target, args.column, args.accept_data_change)
    )
    exp = experiment_from_args(args, start)
    read_from = [source, source.with_suffix(".toml")] if source.is_file() else []
    # refuse what cannot be written or run before training, not after
    named = [str(named_path(raw, "--export")) for raw in args.export]
    targets = check_export_targets(named, read_from)
    save_to = None if args.save_run is None else saved_run_target(args.save_run)
    result_to = None if args.save is None else result_target(args.save, saved is not None)
    check_training_fits(exp)
    trainer = new_or_continued(exp, saved, source)
    progress = Progress(trainer) if sys.stderr.isatty() and not args.json else None
    interrupted = train_to_the_end(trainer, progress)
    # Ctrl+C during training keeps what was learned (the summary says stopped); SIGTERM asks
    # the program to end, so nothing more is written.
    go_on = interrupted is None or interrupted.signum == signal.SIGINT
    writes: list[tuple[Path, Callable[[], list[Path]]]] = [
        (path, partial(export, trainer.model, exp, path)) for path in targets if go_on
    ]
    exports, failed, cut = write_files(writes)
    run_file: list[str] = []
    if save_to is not None and go_on and cut is None:
        from nnplay.run_files import write_run

        run_file, failed_run, cut = write_files(
            [(save_to, lambda: [write_run(save_to, trainer.state())])]
        )
        failed = failed or failed_run
    result_file: list[str] = []
    if result_to is not None and go_on and cut is None:
        result_file, failed_result, cut = write_files(
            [(result_to, partial(save_result, result_to, trainer))]
        )
        failed = failed or failed_result
    interrupted = cut or interrupted
    with i18n.english(args.json):  # JSON is the same in every language
        summary = train_summary(args.target, trainer, exports, run_file, result_file)
    if args.json:
        print(json_line(summary))
    else:
        print(format_summary(summary, trainer.message))
    if interrupted is not None:
        return interrupted.exit_code
    if failed:
        return EXIT_BAD_INPUT
    return EXIT_DIVERGED if trainer.status == Status.DIVERGED else 0


def new_or_continued(exp, saved, source: Path):
    """A Trainer for `exp`: a new run, or the saved run (a RunState) going on with `exp`."""
    if saved is None:
        from nnplay.training import Trainer  # torch: ~1.5 s, so only once the input is good

        return Trainer(exp)
    from nnplay.run_files import continued

    return continued(saved, exp, source)


def train_to_the_end(trainer, progress) -> Interrupted | None:
    """Train until the run ends. Ctrl+C or SIGTERM stop it between two steps, never inside one
    (a run file then continues exactly); returns the Interrupted they make."""
    with signals_received() as received:
        trainer.run(
            on_epoch=progress.update if progress else None, stop_when=lambda: bool(received)
        )
    if progress:
        progress.close()
    if not received:
        return None
    trainer.stop()
    return Interrupted(received[0])


def write_files(
    writes: list[tuple[Path, Callable[[], list[Path]]]],
) -> tuple[list[str], bool, Interrupted | None]:
    """Run each (target, write) in turn: (the files written, whether one failed, the
    Interrupted that cut the writing short). A file that cannot be written is one line on
    stderr, and the others still go."""
    written: list[str] = []
    failed = False
    for path, write in writes:
        try:
            written += [str(p) for p in write()]
        except OSError as e:  # the disk filled, the folder went away: the others still go
            message = _("{path}: cannot write it ({reason})")
            where = shown(e.filename or path, 300)
            reason = e.strerror or e.__class__.__name__
            print("nnplay: " + message.format(path=where, reason=reason), file=sys.stderr)
            failed = True
        except Interrupted as e:  # the file being written is whole or untouched
            return written, failed, e
    return written, failed, None


def train_summary(
    target: str, trainer, exports: list[str], run_file: list[str], result_file: list[str]
) -> dict:
    """The run's summary (nnplay.summary: the numbers of the weights kept, the goal with the
    value it was judged on, the findings), how it ran and the files it wrote."""
    from nnplay.lab.confusion import summary_fields
    from nnplay.summary import final_test_fields, summarize

    return {
        "preset": target,
        **summarize(trainer).to_dict(),
        **summary_fields(trainer),
        **final_test_fields(trainer),
        "steps": trainer.steps,
        "seconds": round(trainer.seconds, 4),
        "steps_per_second": round(trainer.steps_per_second(), 1),
        "exports": exports,
        "run_file": next(iter(run_file), None),
        "result_file": next(iter(result_file), None),
    }


def number(v) -> str:
    return "-" if v is None else f"{v:.4f}"


def format_summary(s: dict, message: str) -> str:
    def row(label: str, text: str) -> str:
        return "  " + i18n.ljust(label, 10) + text

    head = _(
        "{preset}: {status} after {epochs} epochs, {steps} steps ({seconds} s, {rate} steps/s)"
    )
    pair = _("train {train}   val {val}")
    lines = [
        head.format(
            preset=shown(s["preset"], 300),
            status=status_word(s["status"]),
            epochs=s["epochs"],
            steps=s["steps"],
            seconds=f"{s['seconds']:.2f}",
            rate=f"{s['steps_per_second']:.0f}",
        ),
        row(_("loss"), pair.format(train=number(s["train_loss"]), val=number(s["val_loss"])))
        + _kept_note(s),
    ]
    if s["train_accuracy"] is not None:
        accuracy = pair.format(train=number(s["train_accuracy"]), val=number(s["val_accuracy"]))
        lines.append(row(_("accuracy"), accuracy))
    from nnplay.summary import final_test_words

    tested = final_test_words(s)
    if tested:  # its words say what it is: no label before them
        lines.append("  " + tested)
    summary = summary_of(s)
    if summary.goal is not None:
        goal = _("{goal}: {verdict}").format(
            goal=summary.goal.description, verdict=summary.goal_words()
        )
        lines.append(row(_("goal"), goal))
    if message and s["status"] != Status.FINISHED:
        lines.append(row(_("note"), message))
    lines += [row(_("advice"), "⚠ " + f["message"]) for f in s["findings"]]
    lines += [row(_("exported"), shown(p, 300)) for p in s["exports"]]
    if s["run_file"] is not None:
        lines.append(row(_("run file"), shown(s["run_file"], 300)))
    if s["result_file"] is not None:
        lines.append(row(_("result"), shown(s["result_file"], 300)))
    return "\n".join(lines)


def summary_of(s: dict):
    """A RunSummary back from its JSON shape, for the words it prints."""
    from nnplay.history import GoalResult
    from nnplay.summary import RunSummary

    goal = s["goal"]
    return RunSummary(
        s["status"],
        s["epochs"],
        s["weights_epoch"],
        s["train_loss"],
        s["val_loss"],
        s["train_accuracy"],
        s["val_accuracy"],
        None
        if goal is None
        else GoalResult(goal["description"], goal["met"], goal["epoch"], goal["value"], None),
        s["findings"],
    )


def _kept_note(s: dict) -> str:
    """Which weights the numbers (and exports) are of, when not the last epoch's."""
    note = summary_of(s).kept_note()
    return "   " + note if note else ""


class Progress:
    """A one-line progress bar on stderr, redrawn after each epoch."""

    def __init__(self, trainer, width: int = 30):
        self.trainer, self.width, self.started = trainer, width, time.perf_counter()

    def update(self, trainer) -> None:
        total = trainer.exp.training.epochs
        done = int(self.width * trainer.epoch / total)
        acc = trainer.history.last("val_accuracy")
        extra = (
            " " + _("val acc {accuracy}").format(accuracy=f"{acc:.3f}") if acc is not None else ""
        )
        where = _("epoch {epoch}/{epochs} loss {loss}").format(
            epoch=trainer.epoch, epochs=total, loss=f"{trainer.history.last('train_loss'):.4f}"
        )
        sys.stderr.write(f"\r[{'#' * done}{'.' * (self.width - done)}] {where}{extra} ")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")


# ---------------------------------------------------------------------------------------------
# nnplay compare


def cmd_compare(args) -> int:
    from nnplay.compare import ComparisonRun, parse_vary, plan
    from nnplay.experiment import with_overrides
    from nnplay.locks import refuse_locked
    from nnplay.presets import load_experiment

    vary = [parse_vary(text) for text in args.vary]
    base = load_experiment(args.target)
    refuse_locked(base, (("--vary", path) for path, _values in vary))
    fixed = [
        (path, value)
        for path, value in (("training.epochs", args.epochs), ("training.seed", args.seed))
        if value is not None
    ]
    variants = plan(with_overrides(base, fixed), vary)  # every variant valid before any runs
    running = ComparisonRun(variants, preset=args.target)  # nothing runs yet
    try:
        with i18n.english(args.json):  # JSON is the same in every language, the workers' too
            with signals_deferred():
                running.start()
            comparison = running.result()
    except Interrupted as e:
        running.cancel()
        print(_("nnplay: compare interrupted; the workers were stopped"), file=sys.stderr)
        return e.exit_code
    if args.json:
        print(json_line(comparison.to_dict()))
    else:
        print(format_comparison(comparison, base))
    return 0


def format_comparison(comparison, base) -> str:
    rows = [
        (
            _("VARIANT"),
            _("STATUS"),
            _("EPOCHS"),
            _("TRAIN LOSS"),
            _("VAL LOSS"),
            _("TRAIN ACC"),
            _("VAL ACC"),
            _("GOAL"),
            _("SECONDS"),
        )
    ]
    for v in comparison.variants:
        goal = v.summary.goal_words()
        epochs = str(v.epochs)
        if v.weights_epoch != v.epochs and v.status != "error":
            epochs = _("{epochs}, kept {kept}").format(epochs=v.epochs, kept=v.weights_epoch)
        rows.append(
            (
                v.label,
                status_word(v.status),
                epochs,
                number(v.train_loss),
                number(v.val_loss),
                number(v.train_accuracy),
                number(v.val_accuracy),
                goal,
                f"{v.seconds:.2f}",
            )
        )
    widths = [max(i18n.cells(row[i]) for row in rows) for i in range(len(rows[0]))]
    head = _("{preset}: {variants} variants in {seconds} s ({workers} processes)")
    lines = [
        head.format(
            preset=shown(comparison.preset, 300),
            variants=len(comparison.variants),
            seconds=f"{comparison.seconds:.2f}",
            workers=comparison.workers,
        )
    ]
    if base.compare.localized().description:
        lines.append(base.compare.localized().description)
    lines += [
        "  ".join(i18n.ljust(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    if base.goal.enabled:
        lines.append(_("goal: {goal}").format(goal=base.goal.describe()))
    lines += [
        _("note: {variant}: {message}").format(variant=v.label, message=v.message)
        for v in comparison.variants
        if v.status in (Status.DIVERGED, Status.ERROR)
    ]
    lines += [
        _("advice: {variant}: {message}").format(variant=v.label, message=f["message"])
        for v in comparison.variants
        for f in v.findings
    ]
    if any(v.weights_epoch != v.epochs for v in comparison.variants if v.status != "error"):
        lines.append(
            _(
                "EPOCHS …, kept N: early stopping or divergence restored the weights of "
                "epoch N, and the numbers are theirs"
            )
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# nnplay predict


FLOAT32_MAX = 3.4028234663852886e38


def parse_input(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        message = _("--input {value}: expected comma-separated numbers, e.g. 0.1,0.5,0.2")
        raise ExperimentError(message.format(value=repr(shown(text)))) from None
    if not values or not all(abs(v) <= FLOAT32_MAX for v in values):  # NaN fails too
        message = _(
            "--input {value}: expected comma-separated numbers between {low} and {high} (float32)"
        )
        raise ExperimentError(
            message.format(
                value=repr(shown(text)), low=f"-{FLOAT32_MAX:.4g}", high=f"{FLOAT32_MAX:.4g}"
            )
        )
    return values


def cmd_predict(args) -> int:
    from nnplay.export import load_predictor
    from nnplay.presets import weights_file

    predictor = load_predictor(weights_file(args.weights))
    rows = [parse_input(text) for text in args.inputs]
    lengths = {len(r) for r in rows}
    if len(lengths) > 1:
        message = _("--input: every sample needs {count} values")
        raise ExperimentError(message.format(count=predictor.shape.raw_inputs))
    results = describe_predictions(predictor, rows)
    if args.json:
        print(json_line({"weights": args.weights, "predictions": results}))
        return 0
    for r in results:
        values = ", ".join(f"{v:g}" for v in r["input"])
        if "class" in r:
            probs = ", ".join(f"{p:.4f}" for p in r["probabilities"])
            line = _("[{values}] -> class {label}  (probabilities {probabilities})")
            label = repr(r["name"]) if "name" in r else r["class"]
            print(line.format(values=values, label=label, probabilities=probs))
        else:
            print(f"[{values}] -> {r['value']:.6g}")
    return 0


def describe_predictions(predictor, rows) -> list[dict]:
    if predictor.shape.kind == "regression":
        outputs = predictor.outputs(rows)
        return [{"input": r, "value": float(o[0])} for r, o in zip(rows, outputs, strict=True)]
    probs = predictor.probabilities(rows)
    names = predictor.exp.task.schema.classes  # a CSV task's, by index; [] for a synthetic one
    results = [
        {"input": r, "class": int(p.argmax()), "probabilities": [float(v) for v in p]}
        for r, p in zip(rows, probs, strict=True)
    ]
    return [{**r, "name": names[r["class"]]} if names else r for r in results]
