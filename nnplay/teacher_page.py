"""The teacher's page of `nnplay serve`: every open tab's run, in a table that refreshes itself.

It is opened with a random token the server prints at its start; without it, or with another,
the answer is 403 (compared in constant time). The page only reads: it has no control that acts
on a student's tab, no script, and nothing from another site. What the tabs reported is
untrusted text (an exercise's title comes from a file): the template escapes every value.
"""

from __future__ import annotations

import hmac
import secrets

from nnplay import i18n
from nnplay.experiment import METRIC_WORDS
from nnplay.i18n import _
from nnplay.labels import status_word
from nnplay.status import Status
from nnplay.tab_status import TabStatus

REFRESH = 3  # seconds between two loads of the page
NONE = "—"  # a value a tab has not reported


def new_token() -> str:
    return secrets.token_urlsafe(16)


def token_matches(given: str, token: str) -> bool:
    """In constant time, so that the time of a refusal says nothing about the token. Compared
    as bytes: a string that is not ASCII would make compare_digest raise."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode())


def duration(seconds: float) -> str:
    """3:07, or 1:02:03 past an hour."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def row(number: int, status: TabStatus | None, seconds_open: float) -> dict:
    """One tab's cells, as text; a tab whose app has not reported yet is "starting"."""
    cells = {"number": number, "open_for": duration(seconds_open), "met": False}
    if status is None:
        return (
            cells
            | dict.fromkeys(("exercise", "epoch", "best", "goal", "prediction"), NONE)
            | {"status": _("starting")}
        )
    best = NONE
    if status.metric is not None and status.best is not None:
        best = f"{_(METRIC_WORDS[status.metric])} {status.best:.4g}"
    goal = NONE if status.goal_met is None else _("met") if status.goal_met else _("not met")
    return cells | {
        "exercise": status.exercise or NONE,
        "status": status_word(Status(status.status)),
        "epoch": status.epoch,
        "best": best,
        "goal": goal,
        "prediction": status.prediction or NONE,
        "met": bool(status.goal_met),
    }


def page_context(tabs: list[tuple[TabStatus | None, float]], most: int) -> dict:
    """The template's values for `tabs`, (what each reported, seconds open), in opening order."""
    return {
        "lang": i18n.language(),
        "refresh": REFRESH,
        "title": _("nnplay: the class"),
        "summary": _(
            "{open} of at most {most} playgrounds open; this page refreshes itself."
        ).format(open=len(tabs), most=most),
        "headings": [
            "#",
            _("exercise"),
            _("status"),
            _("epoch"),
            _("best validation"),
            _("goal"),
            _("their prediction"),
            _("open for"),
        ],
        "rows": [row(i, status, seconds) for i, (status, seconds) in enumerate(tabs, 1)],
    }
