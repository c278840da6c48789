"""`nnplay verify FILE…`: train saved experiment files again and check their `[result]`.

Exit 0 when every result is what a replay gives; 1 when one is not (the field that differs is
named); 2 when a file cannot be read (one line on stderr each, the others still verified).
NumPy and torch are imported inside the command (the parser stays light).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from nnplay import __version__, i18n
from nnplay.errors import EXIT_BAD_INPUT, ExperimentError
from nnplay.i18n import _
from nnplay.untrusted import named_path, shown

EXIT_DIFFERS = 1


def add_verify_command(commands) -> None:
    verify = commands.add_parser(
        "verify",
        help=_("train saved results again and check them (for teachers)"),
        description=_(
            "Train each experiment file saved with a result (s in the app, or nnplay train … "
            "--save FILE.toml) again, and check that the replay gives what the file records. "
            "Training is deterministic: every seed is in the file. The losses and accuracies "
            "must match within a relative {tolerance}: nnplay computes them in float32 "
            "(1.2e-7 apart), and another CPU may add them in another order, changing their "
            "last digits, while any edited number or one sample more or less right differs "
            "more. Every other field must be equal: the status, the epochs, the goal's "
            "verdict, the SHA-256 of the data and nnplay's version. The prediction is the "
            "learner's answer: it is shown, not replayed. Files are trained in parallel, one "
            "per core. Exit 0 when all match, 1 when a result differs, 2 when a file cannot "
            "be read."
        ).format(tolerance="1e-06"),
    )
    verify.add_argument("files", nargs="+", metavar="FILE", help=_("experiment files (.toml)"))
    verify.add_argument("--json", action="store_true", help=_("one JSON object on stdout"))
    verify.set_defaults(func=cmd_verify)


def add_save_option(train) -> None:
    train.add_argument(
        "--save",
        metavar="FILE.toml",
        help=_(
            "at the end, save the experiment with the run's result (its metrics, the goal's "
            "verdict, the data's SHA-256, nnplay's version), for nnplay verify"
        ),
    )


def result_target(text: str, continued: bool) -> Path:
    """Where --save writes: a .toml file that can be written, of a new run (checked before
    training)."""
    from nnplay.files import check_writable

    path = named_path(text, "--save")
    if path.suffix != ".toml":
        message = _("--save {path}: an experiment file's name ends in .toml")
        raise ExperimentError(message.format(path=shown(path, 300)))
    if continued:
        raise ExperimentError(
            _(
                "--save: a continued run's result cannot be verified (a replay trains from "
                "the start); train the experiment file instead"
            )
        )
    check_writable(path)
    return path


def save_result(path: Path, trainer) -> list[Path]:
    """Write the experiment with the run's [result]. A run stopped before its end (Ctrl+C)
    saves nothing: a replay would train it to the end, so no replay gives its result."""
    from nnplay.results import result_of, save_with_result
    from nnplay.summary import summarize

    if not trainer.status.ended:
        message = _(
            "nnplay: {path}: not saved; the run was stopped before its end, and a result "
            "is verified by training the whole run again"
        )
        print(message.format(path=shown(path, 300)), file=sys.stderr)
        return []
    result = result_of(summarize(trainer, findings=[]), trainer.exp.task)
    return [save_with_result(trainer.exp, result, path)]


def cmd_verify(args) -> int:
    from nnplay.cli import Interrupted, json_line, signals_deferred
    from nnplay.results import to_table
    from nnplay.verify import TOLERANCE, compared, read_all, replayed, replays

    started = time.perf_counter()
    recorded, unreadable = read_all(args.files)
    for problem in unreadable.values():
        print(f"nnplay verify: {problem}", file=sys.stderr)
    results = []
    if recorded:
        running = replays(recorded)  # nothing runs yet
        try:
            with signals_deferred():  # no worker is left half started
                running.start()
            results = replayed(recorded, running.result())
        except Interrupted as e:
            running.cancel()
            print(_("nnplay: verify interrupted; the workers were stopped"), file=sys.stderr)
            return e.exit_code
    rows = []
    with i18n.english(args.json):  # JSON is the same in every language
        for r, again in zip(recorded, results, strict=True):
            differences = compared(r.result, again)
            rows.append(
                {
                    "file": r.path,
                    "exercise": r.exercise,
                    "verdict": "differs" if differences else "match",
                    "recorded": to_table(r.result),
                    "replayed": to_table(again),
                    "differences": [vars(d) for d in differences],
                    "headline": (headline(r.result, r.experiment), headline(again, r.experiment)),
                }
            )
    if args.json:
        files = [{k: v for k, v in row.items() if k != "headline"} for row in rows]
        files += [
            {"file": name, "verdict": "unreadable", "error": problem}
            for name, problem in unreadable.items()
        ]
        print(json_line({"nnplay": __version__, "tolerance": TOLERANCE, "files": files}))
    elif rows:
        print(format_verification(rows, time.perf_counter() - started))
    if unreadable:
        return EXIT_BAD_INPUT
    return EXIT_DIFFERS if any(row["differences"] for row in rows) else 0


def headline(result, exp) -> str:
    """What a row of the table shows of a result: the goal's metric (else the validation
    accuracy, else loss), and the goal's verdict."""
    from nnplay.experiment import METRIC_WORDS

    metric = exp.goal.metric if exp.goal.enabled else "val_accuracy"
    if getattr(result, metric) is None:
        metric = "val_loss"
    value = getattr(result, metric)
    text = f"{_(METRIC_WORDS[metric])} {'-' if value is None else f'{value:.4f}'}"
    if result.goal is None:
        return text
    verdict = _("goal met") if result.goal.met else _("goal not met")
    return _("{metric}, {verdict}").format(metric=text, verdict=verdict)


def shown_value(value) -> str:
    if value is None:
        return _("none")
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:.9g}" if isinstance(value, float) else str(value)


def format_verification(rows: list[dict], seconds: float) -> str:
    from nnplay.verify import TOLERANCE

    table = [(_("FILE"), _("EXERCISE"), _("RECORDED"), _("REPLAYED"), _("VERDICT"))]
    for row in rows:
        fields = ", ".join(d["field"] for d in row["differences"])
        verdict = _("differs: {fields}").format(fields=fields) if fields else _("match")
        table.append(
            (shown(row["file"], 80), shown(row["exercise"], 40), *row["headline"], verdict)
        )
    widths = [max(i18n.cells(line[i]) for line in table) for i in range(len(table[0]))]
    matching = sum(not row["differences"] for row in rows)
    head = i18n.ngettext(
        "{files} file: {matching} match, {differing} differ ({seconds} s)",
        "{files} files: {matching} match, {differing} differ ({seconds} s)",
        len(rows),
    )
    lines = [
        head.format(
            files=len(rows),
            matching=matching,
            differing=len(rows) - matching,
            seconds=f"{seconds:.1f}",
        )
    ]
    lines += [
        "  ".join(i18n.ljust(cell, w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in table
    ]
    for row in rows:
        for d in row["differences"]:
            lines.append(difference_line(shown(row["file"], 80), d))
        if "prediction" in row["recorded"]:  # the learner's answer: shown, never replayed
            message = _("{file}: the learner predicted: {prediction}")
            file, prediction = shown(row["file"], 80), shown(row["recorded"]["prediction"], 200)
            lines.append("  " + message.format(file=file, prediction=prediction))
    lines.append(
        _("the metrics match within a relative {tolerance} (float32 rounding)").format(
            tolerance=f"{TOLERANCE:g}"
        )
    )
    return "\n".join(lines)


def difference_line(file: str, d: dict) -> str:
    if d["field"] == "version":
        message = _(
            "{file}: saved by nnplay {recorded}, this is nnplay {replayed}: a result is "
            "verified by the version that made it"
        )
    else:
        message = _("{file}: {field} recorded {recorded}, replayed {replayed}")
    return "  " + message.format(
        file=file,
        field=d["field"],
        recorded=shown_value(d["recorded"]),
        replayed=shown_value(d["replayed"]),
    )
