"""Your own data: a CSV file read, checked, described and turned into a task's arrays.

Every file is hostile. Its size is capped before it is read, each line's length before it is
split, and the rows, columns, field lengths and classes as they come, so nothing is allocated
from a count the file states; a problem is one line naming the row and the column.

The file: a header row, then one row per sample; `,`, `;` or tab between fields (whichever the
header uses most, outside quotes); a UTF-8 byte order mark, CRLF line ends, quoted fields and
blank lines are fine. A column's kind is that of its first value: a number, and every value
below must be one (finite), or text (an input column of text whose values are mostly numbers
is refused at its first value). The schema (`describe`) is what an experiment records of
the file, so that its exports predict without it: the input columns, the kind, the class names
(sorted: an index never depends on the order of the rows), the inputs' mean and std on the
training rows, the row count and the file's SHA-256.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import os
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnplay.errors import ExperimentError
from nnplay.i18n import _
from nnplay.untrusted import named_path, read_bytes, shown

MAX_CSV_BYTES = 10 * 2**20
MAX_ROWS = 200_000  # data rows: as many samples as a synthetic task may have
MAX_COLUMNS = 256
MAX_FIELD = 1000  # characters in one value
MAX_NAME = 100  # characters in a column's or a class's name (the experiment keeps them)
MAX_LINE = 64 * 1024  # characters in one line of the file
FLOAT32_MAX = 3.4028234663852886e38  # the network reads float32: larger values overflow
MAX_CLASSES = 10  # as many as a synthetic task may have (the app has a colour for each)
SEPARATORS = (",", ";", "\t")
KINDS = ("auto", "classification", "regression")


@dataclass(frozen=True)
class Table:
    """What a CSV file holds: every number column as float64, the target as written."""

    path: str
    columns: list[str]  # the header, in the file's order
    numbers: dict[str, np.ndarray]  # the number columns (the target's too, when it is one)
    first_text: dict[str, str]  # each text column's first value (for the messages)
    target: str
    target_values: list[str]  # as written, stripped
    row_numbers: array  # each data row's row in the file (blank lines skipped)
    sha256: str

    @property
    def rows(self) -> int:
        return len(self.target_values)


def _where(path: str, row: int, column: int | None = None, name: str = "") -> str:
    if column is None:
        return _("{path}: row {row}").format(path=path, row=row)
    return _("{path}: row {row}, column {column} ({name})").format(
        path=path, row=row, column=column + 1, name=repr(shown(name, 40))
    )


def _lines(text: str, path: str) -> Iterator[str]:
    """The text's lines, each refused when longer than MAX_LINE before the CSV reader splits
    it (a line of a million commas would be a list of a million fields)."""
    start, number = 0, 0
    while start < len(text):
        end = text.find("\n", start, start + MAX_LINE + 1)
        number += 1
        if end < 0:
            end = min(len(text), start + MAX_LINE + 1) - 1
            if end - start + 1 > MAX_LINE:
                message = _("{where}: a line longer than {most} characters")
                raise ExperimentError(message.format(where=_line(path, number), most=MAX_LINE))
        yield text[start : end + 1]
        start = end + 1


def _line(path: str, number: int) -> str:
    return _("{path}: line {line}").format(path=path, line=number)


def sniff_separator(header: str) -> str:
    """The separator the header line uses most outside quotes (a comma on a tie or none)."""
    counts = dict.fromkeys(SEPARATORS, 0)
    quoted = False
    for c in header:
        if c == '"':
            quoted = not quoted
        elif not quoted and c in counts:
            counts[c] += 1
    return max(SEPARATORS, key=lambda s: counts[s])  # max keeps the first of equal counts


def _decoded(data: bytes, path: str) -> str:
    nul = data.find(b"\x00")
    if nul >= 0:
        message = _("{where}: a NUL byte; this is binary data, not a CSV file")
        raise ExperimentError(message.format(where=_line(path, data.count(b"\n", 0, nul) + 1)))
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        message = _("{where}: not UTF-8 text (byte {byte}); save the file as UTF-8")
        where = _line(path, data.count(b"\n", 0, e.start) + 1)
        raise ExperimentError(message.format(where=where, byte=f"0x{data[e.start]:02x}")) from None


def _plain(text: str) -> bool:
    return text.isprintable()


def _header(row: list[str], path: str, target: str) -> list[str]:
    if len(row) > MAX_COLUMNS:
        message = _("{where}: {count} columns; at most {most}")
        raise ExperimentError(
            message.format(where=_where(path, 1), count=len(row), most=MAX_COLUMNS)
        )
    names = [name.strip() for name in row]
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        where = _where(path, 1, i, name)
        if not name:
            raise ExperimentError(_("{where}: an empty column name").format(where=where))
        if len(name) > MAX_NAME or not _plain(name):
            message = _("{where}: a column name must be at most {most} printable characters")
            raise ExperimentError(message.format(where=where, most=MAX_NAME))
        if name in seen:
            message = _("{where}: the name is column {other}'s too; each name must be unique")
            raise ExperimentError(message.format(where=where, other=seen[name] + 1))
        seen[name] = i
    if len(names) < 2:
        message = _(
            "{path}: one column; a CSV task needs a target and an input column, separated "
            "by commas, semicolons or tabs"
        )
        raise ExperimentError(message.format(path=path))
    if target not in seen:
        message = _("task.target: {value} is not a column of {path}; its columns: {columns}")
        raise ExperimentError(
            message.format(
                value=repr(shown(target, 40)), path=path, columns=shown(", ".join(names), 300)
            )
        )
    return names


def _number(text: str) -> float | None:
    """`text` as a number (NaN and infinities too), or None."""
    try:
        return float(text)
    except ValueError:
        return None


def read_table(path: str | Path, target: str) -> Table:
    """Read and check the CSV file at `path` whose column `target` is to be predicted."""
    where_file = shown(path, 300)
    data = read_bytes(
        named_path(path),
        MAX_CSV_BYTES,
        _("{path}: too large for a CSV task (more than {most} kB)"),
    )
    sha256 = hashlib.sha256(data).hexdigest()
    text = _decoded(data, where_file)
    del data
    lines = _lines(text, where_file)
    first = next(lines, "")
    if not first.strip():
        raise ExperimentError(_("{path}: empty; a CSV task needs a header row").format(path=path))
    separator = sniff_separator(first)
    rows = csv.reader(_chained(first, lines), delimiter=separator, strict=True)
    try:
        columns = _header(next(rows), where_file, target)
        return _body(rows, columns, where_file, target, sha256)
    except csv.Error as e:
        message = _("{where}: not CSV as nnplay reads it ({detail})")
        where = _line(where_file, rows.line_num)
        raise ExperimentError(message.format(where=where, detail=shown(e, 80))) from None


def _chained(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _body(rows, columns: list[str], path: str, target: str, sha256: str) -> Table:
    """The data rows, checked as they come; the per-value work is kept to one float() each
    (a 10 MB file is a million values)."""
    width, t = len(columns), columns.index(target)
    number_columns: list[int] = []
    first_text: dict[str, str] = {}
    numbers_in_text: dict[int, int] = {}  # per text column (not the target): its number values
    values = array("d")
    targets: list[str] = []
    row_numbers = array("I")
    for row_number, row in enumerate(rows, start=2):
        if not row:  # a blank line
            continue
        if len(row) != width:
            message = _("{where}: {count} values; the header has {columns} columns")
            raise ExperimentError(
                message.format(where=_where(path, row_number), count=len(row), columns=width)
            )
        if len(targets) == MAX_ROWS:
            message = _("{path}: more than {most} data rows")
            raise ExperimentError(message.format(path=path, most=MAX_ROWS))
        if max(map(len, row)) > MAX_FIELD:
            i = next(i for i, field in enumerate(row) if len(field) > MAX_FIELD)
            message = _("{where}: a value longer than {most} characters")
            where = _where(path, row_number, i, columns[i])
            raise ExperimentError(message.format(where=where, most=MAX_FIELD))
        if not targets:  # the first row says each column's kind
            for i, field in enumerate(row):
                if _number(field) is None:
                    first_text[columns[i]] = field.strip()
                else:
                    number_columns.append(i)
            text_inputs = [i for i in range(width) if i not in number_columns and i != t]
            numbers_in_text = dict.fromkeys(text_inputs, 0)
        try:
            values.extend([float(row[i]) for i in number_columns])
        except ValueError:
            i = next(i for i in number_columns if _number(row[i]) is None)
            message = _("{where}: {value} is not a number, as the column's first value is")
            where = _where(path, row_number, i, columns[i])
            raise ExperimentError(
                message.format(where=where, value=repr(shown(row[i].strip(), 40)))
            ) from None
        for i in numbers_in_text:
            numbers_in_text[i] += _number(row[i]) is not None
        value = row[t].strip()
        if t not in number_columns and not (0 < len(value) <= MAX_NAME and _plain(value)):
            message = _("{where}: a class name must be 1 to {most} printable characters")
            where = _where(path, row_number, t, target)
            raise ExperimentError(message.format(where=where, most=MAX_NAME))
        targets.append(value)
        row_numbers.append(row_number)
    if not targets:
        message = _("{path}: no data rows, only a header")
        raise ExperimentError(message.format(path=path))
    for i, count in numbers_in_text.items():
        if 2 * count >= len(targets):  # a number column whose first value is not one
            message = _("{where}: {value} is not a number, as most of the column's values are")
            where = _where(path, row_numbers[0], i, columns[i])
            raise ExperimentError(
                message.format(where=where, value=repr(shown(first_text[columns[i]], 40)))
            )
    table = np.frombuffer(values, dtype=np.float64).reshape(len(targets), len(number_columns))
    _check_finite(table, path, [columns[i] for i in number_columns], number_columns, row_numbers)
    numbers = {columns[i]: table[:, k] for k, i in enumerate(number_columns)}
    return Table(path, columns, numbers, first_text, target, targets, row_numbers, sha256)


def _check_finite(table: np.ndarray, path: str, names, indices, row_numbers) -> None:
    """NaN, infinities and numbers float32 cannot hold are refused at the first of them."""
    bad = ~(np.abs(table) <= FLOAT32_MAX)  # NaN compares false
    if not bad.any():
        return
    r, k = np.argwhere(bad)[0]
    message = _(
        "{where}: {value} is not allowed; every value must be a finite number between "
        "{low} and {high}"
    )
    raise ExperimentError(
        message.format(
            where=_where(path, row_numbers[r], indices[k], names[k]),
            value=f"{table[r, k]:g}",
            low=f"-{FLOAT32_MAX:.4g}",
            high=f"{FLOAT32_MAX:.4g}",
        )
    )


# ---------------------------------------------------------------------------------------------
# The schema an experiment records, and the arrays


def val_rows(rows: int, val_fraction: float) -> int:
    """The rows held out for validation: at least one, and at least one left to train on."""
    return min(rows - 1, max(1, round(rows * val_fraction)))


def test_rows(rows: int, test_fraction: float) -> int:
    """The rows held out as a test set: none without one, else at least one."""
    return max(1, round(rows * test_fraction)) if test_fraction else 0


def parts(order: np.ndarray, held: int, tested: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(training, validation, test) indices: the first `held` of `order` validate, the next
    `tested` test, the rest train (with no test set, the split the validation always had)."""
    return order[held + tested :], order[:held], order[held : held + tested]


def left_to_train(total: int, held: int, tested: int, test_fraction: float) -> str | None:
    """The problem of a test set that leaves nothing to train on, or None."""
    if total - held - tested >= 1:
        return None
    message = _(
        "{value} is not allowed; it leaves nothing to train on ({total} samples: {held} "
        "validate, {tested} test)"
    )
    return message.format(value=f"{test_fraction:g}", total=total, held=held, tested=tested)


def split(
    rows: int, val_fraction: float, seed: int, test_fraction: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(training, validation, test rows): a seeded permutation, the same on every computer."""
    order = np.random.default_rng([seed, 2]).permutation(rows)
    held, tested = val_rows(rows, val_fraction), test_rows(rows, test_fraction)
    problem = left_to_train(rows, held, tested, test_fraction)
    if problem:
        raise ExperimentError("task.test_fraction: " + problem)
    return parts(order, held, tested)


def _inputs(table: Table, features) -> list[str]:
    """The input columns, in the file's order: every number column but the target (features
    = raw or poly2), or those the list names."""
    if not isinstance(features, list):
        chosen = [c for c in table.columns if c in table.numbers and c != table.target]
        if not chosen:
            message = _("{path}: no number column besides the target {target}")
            raise ExperimentError(
                message.format(path=table.path, target=repr(shown(table.target, 40)))
            )
        return chosen
    for name in features:
        if name not in table.columns:
            message = _("task.features: {value} is not a column of {path}; its columns: {columns}")
            raise ExperimentError(
                message.format(
                    value=repr(shown(name, 40)),
                    path=table.path,
                    columns=shown(", ".join(table.columns), 300),
                )
            )
        if name == table.target:
            message = _("task.features: {value} is the target; it cannot be an input too")
            raise ExperimentError(message.format(value=repr(shown(name, 40))))
        if name not in table.numbers:
            message = _(
                "task.features: {value} is a text column ({first} in row 2); an input must "
                "be a number column"
            )
            raise ExperimentError(
                message.format(
                    value=repr(shown(name, 40)), first=repr(shown(table.first_text[name], 40))
                )
            )
    return [c for c in table.columns if c in features]


def _target_column(table: Table) -> int:
    return table.columns.index(table.target)


def _classes(table: Table, kind: str) -> list[str]:
    """The class names, sorted (whole numbers by value), or [] for a regression target."""
    numbers = table.numbers.get(table.target)
    where_column = table.target
    if numbers is None:
        if kind == "regression":
            message = _(
                "task.kind: regression needs a number target; {column} is text ({first} in row 2)"
            )
            raise ExperimentError(
                message.format(
                    column=repr(shown(where_column, 40)),
                    first=repr(shown(table.first_text[table.target], 40)),
                )
            )
        names = sorted(set(table.target_values))
        _check_class_names(table, names)
        return names
    whole = np.isclose(numbers, np.round(numbers), rtol=0, atol=0) & (np.abs(numbers) < 2**53)
    distinct = np.unique(numbers) if whole.all() else numbers[:0]
    if kind == "regression" or (kind == "auto" and not 2 <= len(distinct) <= MAX_CLASSES):
        if kind == "auto" and len(np.unique(numbers)) == 1:
            _refuse_one_class(table)
        return []
    if not whole.all():
        row = int(np.argmin(whole))
        message = _(
            "{where}: {value} is not a class; classes are text or whole numbers "
            "(task.kind = regression predicts numbers)"
        )
        where = _where(table.path, table.row_numbers[row], _target_column(table), table.target)
        raise ExperimentError(message.format(where=where, value=f"{numbers[row]:g}"))
    names = [str(int(v)) for v in distinct]
    _check_class_names(table, names)
    return names


def _check_class_names(table: Table, names: list[str]) -> None:
    if len(names) < 2:
        _refuse_one_class(table)
    if len(names) > MAX_CLASSES:
        message = _("task.target: {column} has {count} classes; at most {most}")
        raise ExperimentError(
            message.format(column=repr(shown(table.target, 40)), count=len(names), most=MAX_CLASSES)
        )


def _refuse_one_class(table: Table) -> None:
    message = _("task.target: every row of {column} holds {value}; there is nothing to learn")
    raise ExperimentError(
        message.format(
            column=repr(shown(table.target, 40)), value=repr(shown(table.target_values[0], 40))
        )
    )


def describe(
    table: Table, features, kind: str, val_fraction: float, seed: int, test_fraction: float = 0.0
) -> dict:
    """The schema an experiment records of `table` (the fields of experiment.DataSchema): the
    standardization is the training rows' alone."""
    columns = _inputs(table, features)
    classes = _classes(table, kind)
    train, _val, _test = split(table.rows, val_fraction, seed, test_fraction)
    x = np.stack([table.numbers[c][train] for c in columns], axis=1)
    std = x.std(axis=0)
    return {
        "columns": columns,
        "kind": "classification" if classes else "regression",
        "classes": classes,
        "mean": [float(v) for v in x.mean(axis=0)],
        "std": [float(v) if v > 0 else 1.0 for v in std],  # a constant column stays as it is
        "rows": table.rows,
        "sha256": table.sha256,
    }


def arrays(table: Table, schema, val_fraction: float, seed: int, test_fraction: float = 0.0):
    """(x_train, y_train, x_val, y_val, x_test, y_test) of `table` as `schema` reads it: the raw inputs
    (float64, before standardization), the class indices (int64) or targets (float32)."""
    x = np.stack([table.numbers[c] for c in schema.columns], axis=1)
    if schema.kind == "regression":
        y = table.numbers[table.target].astype(np.float32)
    else:
        names = table.target_values
        if table.target in table.numbers:
            names = [str(int(v)) for v in table.numbers[table.target]]
        index = {name: i for i, name in enumerate(schema.classes)}
        unknown = next((name for name in names if name not in index), None)
        if unknown is not None:
            message = _("task.schema.classes: the data holds class {value}, which it does not list")
            raise ExperimentError(message.format(value=repr(shown(unknown, 40))))
        y = np.array([index[name] for name in names], dtype=np.int64)
    train, val, test = split(table.rows, val_fraction, seed, test_fraction)
    return x[train], y[train], x[val], y[val], x[test], y[test]


def changed(path: str) -> ExperimentError:
    """The refusal of a file whose SHA-256 is not the one its experiment recorded."""
    message = _(
        "{path} changed since the experiment read it (its SHA-256 differs); to train on it as "
        "it is now, add --accept-data-change"
    )
    return ExperimentError("task.data: " + message.format(path=repr(shown(path, 300))))


def table_of(path: str, target: str) -> Table:
    """`read_table`, kept for the file last read while it is unchanged: a run reads its data
    when the experiment is checked, when it starts and when its map is drawn."""
    try:
        info = os.stat(path)
    except OSError:
        return read_table(path, target)  # which says why it cannot be read
    return _last_read(path, os.path.realpath(path), info.st_size, info.st_mtime_ns, target)


@functools.lru_cache(maxsize=1)
def _last_read(path: str, real: str, size: int, modified: int, target: str) -> Table:
    return read_table(path, target)
