"""Translations: every text the code marks has a Chinese translation that keeps its placeholders,
the shipped compiled catalog is the one the .po gives, and the language is chosen as README says."""

import io
import re
import string
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from nnplay import i18n

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "nnplay" / "locale" / "zh" / "LC_MESSAGES" / "nnplay.po"
MO = PO.with_suffix(".mo")


@pytest.fixture(scope="module")
def marked_texts(tmp_path_factory) -> set[str]:
    """Every msgid the code marks, found by the command translators run (README, Contributing):
    `pybabel extract -F pyproject.toml`, through Babel's public command-line class."""
    pot = tmp_path_factory.mktemp("extract") / "nnplay.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "pyproject.toml"), "-o", str(pot), str(ROOT)]
    )
    with open(pot, "rb") as f:
        extracted = read_po(f)
    # a plural pair's two ids are both texts the code marks
    return {text for m in extracted if m.id for text in ([m.id] if isinstance(m.id, str) else m.id)}


def catalog():
    with open(PO, "rb") as f:
        return read_po(f, locale="zh")


def placeholders(text: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def test_every_marked_text_has_a_chinese_translation(marked_texts):
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog() if m.id}
    missing = [
        text
        for text in sorted(marked_texts)
        if text not in translated or not all(translated[text].string or [""])
    ]
    # extract_from_dir gives plural pairs as separate ids: the plural id is covered by its pair
    plural_ids = {m.id[1] for m in catalog() if isinstance(m.id, tuple)}
    missing = [text for text in missing if text not in plural_ids]
    assert not missing, f"{len(missing)} texts without a translation, e.g. {missing[:5]}"


def test_translations_keep_every_placeholder():
    wrong = []
    for message in catalog():
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for translation in strings:
            if placeholders(translation) != placeholders(ids[-1]):
                wrong.append((ids[0], translation))
    assert not wrong, f"placeholders dropped or renamed: {wrong[:5]}"


def test_no_translation_is_left_fuzzy_or_obsolete():
    messages = catalog()
    assert not [m.id for m in messages if m.id and m.fuzzy]
    assert not messages.obsolete


def test_the_shipped_compiled_catalog_is_the_po_compiled():
    """nnplay.mo (what the wheel ships and gettext reads) is up to date with nnplay.po."""
    compiled = io.BytesIO()
    write_mo(compiled, catalog())
    with open(MO, "rb") as f:
        shipped = read_mo(f)
    rebuilt = read_mo(io.BytesIO(compiled.getvalue()))
    assert entries(shipped) == entries(rebuilt), "run: pybabel compile -d nnplay/locale -D nnplay"


def entries(messages) -> dict:
    """id -> translation; a plural message's forms (lists in a compiled catalog) as tuples."""

    def key(value):
        return tuple(value) if isinstance(value, list) else value

    return {key(m.id): key(m.string) for m in messages if m.id}


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
        ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"NNPLAY_LANG": "zh", "LANG": "en_US.UTF-8"}, "zh"),
        ({"NNPLAY_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"NNPLAY_LANG": "klingon", "LANG": "zh_CN.UTF-8"}, "zh"),
    ],
)
def test_the_language_comes_from_nnplay_lang_then_the_locale(environ, expected):
    assert i18n.language_from(environ) == expected


def test_set_language_switches_what_underscore_returns():
    sample = next(m for m in catalog() if m.id and isinstance(m.id, str) and m.string)
    try:
        i18n.set_language("zh")
        assert i18n._(sample.id) == sample.string
        i18n.set_language("en")
        assert i18n._(sample.id) == sample.id
    finally:
        i18n.set_language("en")
    with pytest.raises(ValueError, match="en, zh"):
        i18n.set_language("fr")


def test_placeholders_are_named(marked_texts):
    """Positional `{}` cannot be reordered by a translation: every marked text names its fields."""
    positional = [t for t in marked_texts if re.search(r"(?<!\{)\{(?:![rsa])?(?::[^}]*)?\}", t)]
    assert not positional, positional[:5]
