"""An exercise's locks ([lock]): the fields a learner sees but may not change, and the sections
of the form it hides. A hidden section's fields are locked too: what cannot be seen cannot be
set. The exercise's own solution may change a locked field (it is the exercise's, not the
learner's); `--set`, `--epochs`, `--seed` and `--vary` may not.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nnplay.errors import ExperimentError
from nnplay.experiment import Experiment, with_overrides
from nnplay.i18n import _
from nnplay.untrusted import shown


def has_locks(exp: Experiment) -> bool:
    return bool(exp.lock.fields or exp.lock.hide)


def is_locked(exp: Experiment, path: str) -> bool:
    """Whether the learner may not change the field at `path` (a layer's field, such as
    model.hidden[0].units, belongs to model.hidden). The locks themselves are locked."""
    field = path.partition("[")[0]
    section = field.partition(".")[0]
    if section == "lock":
        return has_locks(exp)
    return field in exp.lock.fields or section in exp.lock.hide


def refuse_locked(exp: Experiment, asked: Iterable[tuple[str, str]]) -> None:
    """Raise ExperimentError (one line) for the first (option, field path) in `asked` that
    `exp` locks; the option is what the learner typed, e.g. --set or --epochs."""
    for option, path in asked:
        if is_locked(exp, path):
            hidden = path.partition(".")[0] in exp.lock.hide
            message = (
                _(
                    "{option} {field}: the exercise hides this section ([lock] hide), so it cannot be changed"
                )
                if hidden
                else _(
                    "{option} {field}: locked by the exercise ([lock] fields), so it cannot be changed"
                )
            )
            raise ExperimentError(message.format(option=option, field=shown(path)))


def with_unlocked_overrides(
    exp: Experiment, overrides: list[tuple[str, Any]], accept_data_change: bool = False
) -> Experiment:
    """`exp` with the --set overrides applied (with_overrides), refusing one on a locked field."""
    refuse_locked(exp, (("--set", path) for path, _value in overrides))
    return with_overrides(exp, overrides, accept_data_change)
