"""The learner's language: every text nnplay shows goes through `_()` (or `N_()` + `_()`).

English is written in the code; other languages come from gettext catalogs in
`nnplay/locale/<lang>/LC_MESSAGES/nnplay.mo`, compiled from the `.po` files beside them with
Babel (see README, Contributing). Messages use named placeholders, `_("epoch {epoch}")`, so a
translation may reorder them; a test checks that every translation keeps them.

The language is chosen once at start-up: `--lang`, else `NNPLAY_LANG`, else the locale
(`LC_ALL`, `LC_MESSAGES`, `LANG`, as POSIX orders them), else English. Names a program reads
(TOML fields, `--set` keys, JSON keys) are an interface and are never translated.
"""

from __future__ import annotations

import gettext
import os
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

DOMAIN = "nnplay"
LANGUAGES = ("en", "zh")
LOCALE_DIR = Path(__file__).parent / "locale"

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def language_from(environ: Mapping[str, str] = os.environ) -> str:
    """The language the environment asks for: NNPLAY_LANG, then the locale; English otherwise."""
    chosen = environ.get("NNPLAY_LANG", "").strip().lower()
    if chosen in LANGUAGES:
        return chosen
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:  # the first one set decides, as in POSIX
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def set_language(lang: str) -> None:
    """Show every later text in `lang` (one of LANGUAGES)."""
    global _translation, _language
    if lang not in LANGUAGES:
        message = _("language {value}: must be one of {allowed}")
        raise ValueError(message.format(value=lang, allowed=", ".join(LANGUAGES)))
    _language = lang
    if lang == "en":
        _translation = gettext.NullTranslations()
    else:
        _translation = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


@contextmanager
def english(when: bool = True) -> Iterator[None]:
    """Texts made inside are English (when `when`): what a program reads (`--json` output) is
    the same whatever the learner's language."""
    previous = _language
    set_language("en" if when else previous)
    try:
        yield
    finally:
        set_language(previous)


def language() -> str:
    """The language texts are shown in now."""
    return _language


def _(message: str) -> str:
    """`message` in the learner's language."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for `n`, in the learner's language."""
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a text for translation where it is defined (at import, before the language is
    known); it is translated with `_()` where it is shown."""
    return message


def cells(text: str) -> int:
    """How many terminal cells `text` takes: wide characters (Chinese) take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def ljust(text: str, width: int) -> str:
    """`text` padded with spaces to `width` cells, as str.ljust does for one-cell characters."""
    return text + " " * max(0, width - cells(text))


def rjust(text: str, width: int) -> str:
    """`text` with spaces before it to `width` cells."""
    return " " * max(0, width - cells(text)) + text
