"""Open… : a saved setup (.toml) or an exported weights file, from inside the app.

The path is read by the command line's own loader (`presets.load_experiment`), which treats
every file as hostile; a file it refuses keeps the prompt open with the reason beside the
path. The prompt completes paths as they are typed (→ takes the completion).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from textual.suggester import Suggester

from nnplay.errors import ExperimentError
from nnplay.experiment import Experiment
from nnplay.export import FORMATS
from nnplay.i18n import _
from nnplay.presets import load_experiment
from nnplay.tui.dialogs import PathPrompt
from nnplay.untrusted import shown

OPENABLE = (".toml", *FORMATS)
MOST_ENTRIES = 2000  # a folder's entries looked at for a completion: a huge one is not listed


def completion(value: str) -> str | None:
    """`value` completed to the first folder or openable file that starts with what follows
    its last slash; None when there is none."""
    folder, slash, start = value.rpartition("/")
    where = Path(folder + slash or ".").expanduser()
    names = []
    try:
        with os.scandir(where) as entries:
            for n, entry in enumerate(entries):
                if n >= MOST_ENTRIES:
                    break
                if not entry.name.startswith(start) or entry.name == start:
                    continue
                if entry.name.startswith(".") and not start.startswith("."):
                    continue  # hidden files only when asked for
                if entry.is_dir():
                    names.append(entry.name + "/")
                elif entry.name.endswith(OPENABLE):
                    names.append(entry.name)
    except OSError:  # no such folder, no permission: nothing to complete
        return None
    return value + min(names)[len(start) :] if names else None


class PathCompleter(Suggester):
    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)  # paths are case-sensitive

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(completion, value) if value else None


class OpenPrompt(PathPrompt):
    """Asks for the file to open and reads it; `opened` is its setup once read."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Open a saved setup (.toml) or an exported weights file ({formats}): its setup "
                "is loaded, and the network trains from new weights."
            ).format(formats=", ".join(FORMATS)),
            "",
            act=self._read,
            suggester=PathCompleter(),
            keys=_("→ completes the path, enter opens, escape cancels"),
        )
        self.opened: Experiment | None = None

    async def _read(self, path: str) -> str | None:
        try:
            self.opened = await asyncio.to_thread(load_experiment, path)
        except ExperimentError as e:
            return str(e)
        except Exception as e:  # a folder, an unreadable file: one line, and the app goes on
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            return _("Could not open {path}: {reason}").format(path=shown(path, 300), reason=reason)
        return None
