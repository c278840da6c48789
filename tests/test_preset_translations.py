"""The exercises' texts in Chinese: beside the English in each preset ([meta.zh], [compare.zh]),
kept in step with it, held to the same rules, shown when nnplay speaks Chinese, kept on save."""

import argparse
import re
from dataclasses import fields

import pytest

from nnplay import i18n
from nnplay.errors import ExperimentError
from nnplay.experiment import (
    Experiment,
    apply_override,
    dumps,
    field_rule,
    from_dict,
    loads,
    parse_assignment,
    to_dict,
)
from nnplay.presets import all_presets, load_preset, preset_names

NAMES = preset_names()
HAN = re.compile(r"[\u4e00-\u9fff]")  # CJK ideographs: the text is written in Chinese


@pytest.fixture
def chinese():
    i18n.set_language("zh")
    yield
    i18n.set_language("en")


def english_texts(exp) -> dict[str, object]:
    return {
        "title": exp.meta.title,
        "description": exp.meta.description,
        "hints": exp.meta.hints,
        "compare": exp.compare.description,
    }


def chinese_texts(exp) -> dict[str, object]:
    return {
        "title": exp.meta.zh.title,
        "description": exp.meta.zh.description,
        "hints": exp.meta.zh.hints,
        "compare": exp.compare.zh.description,
    }


# ---------------------------------------------------------------------------------------------
# The shipped exercises


@pytest.mark.parametrize("name", NAMES)
def test_every_english_text_of_a_preset_has_its_chinese_in_step(name):
    exp = load_preset(name)
    english, chinese = english_texts(exp), chinese_texts(exp)
    assert len(chinese["hints"]) == len(english["hints"]), "one Chinese hint per English hint"
    for key, text in english.items():
        translated = chinese[key]
        if not text:
            assert not translated, f"{key}: Chinese for a text that has no English"
            continue
        for line in translated if isinstance(translated, list) else [translated]:
            assert HAN.search(line), f"{name} {key}: not written in Chinese: {line!r}"
    # numbers a lesson gives (rates, sizes, goals) say the same in both languages
    for english_text, chinese_text in zip(english["hints"], chinese["hints"], strict=True):
        assert _decimals(english_text) <= _decimals(chinese_text), (english_text, chinese_text)


def _decimals(text: str) -> set[str]:
    return set(re.findall(r"\d+\.\d+", text))


@pytest.mark.parametrize("name", NAMES)
def test_a_preset_shows_its_chinese_when_nnplay_speaks_chinese(name, chinese):
    exp = load_preset(name)
    meta, compare = exp.meta.localized(), exp.compare.localized()
    assert (meta.title, meta.description, meta.hints) == (
        exp.meta.zh.title,
        exp.meta.zh.description,
        exp.meta.zh.hints,
    )
    assert compare.description == exp.compare.zh.description
    i18n.set_language("en")
    assert exp.meta.localized().title == exp.meta.title
    assert exp.meta.localized().hints == exp.meta.hints
    assert exp.compare.localized().description == exp.compare.description


def presets_listing(capsys) -> str:
    from nnplay.cli import cmd_presets

    assert cmd_presets(argparse.Namespace(json=False, answers=False)) == 0
    return capsys.readouterr().out


def test_the_presets_listing_shows_chinese_titles_in_chinese(capsys, chinese):
    out = presets_listing(capsys)
    for name, exp in all_presets():
        row = next(line for line in out.splitlines() if line.startswith(f"{name} "))
        assert exp.meta.zh.title in row and exp.meta.title not in row, row


def test_the_presets_listing_stays_english_in_english(capsys):
    out = presets_listing(capsys)
    assert load_preset("xor").meta.title in out
    assert not HAN.search(out)


# ---------------------------------------------------------------------------------------------
# A user's own file: the Chinese is optional, checked like the English, kept on save


def test_a_file_without_chinese_shows_its_english_in_chinese(chinese):
    exp = loads('[meta]\ntitle = "Mine"\ndescription = "My own."\nhints = ["one", "two"]\n')
    assert exp.meta.zh == type(exp.meta.zh)()
    meta = exp.meta.localized()
    assert (meta.title, meta.description, meta.hints) == ("Mine", "My own.", ["one", "two"])
    assert "[meta.zh]" not in dumps(exp)  # nothing invented on save


def test_a_text_left_out_in_chinese_falls_back_to_its_english(chinese):
    exp = loads('[meta]\ntitle = "Mine"\nhints = ["one"]\n[meta.zh]\ntitle = "我的练习"\n')
    assert exp.meta.localized().title == "我的练习"
    assert exp.meta.localized().hints == ["one"]
    assert dumps(loads(dumps(exp))) == dumps(exp)
    assert to_dict(exp)["meta"]["zh"] == {"title": "我的练习"}  # only what was given


def test_saving_keeps_the_chinese_texts(tmp_path):
    from nnplay.experiment import load_file, save

    for name in ("overfitting", "batch-size"):  # with [meta.zh] and [compare.zh]
        exp = load_preset(name)
        text = dumps(exp)
        assert "[meta.zh]" in text and "[compare.zh]" in text
        back = load_file(save(exp, tmp_path / f"{name}.toml"))
        assert back == exp
        assert chinese_texts(back) == chinese_texts(exp)


def translated_fields():
    for section in ("meta", "compare"):
        for f in fields(getattr(Experiment(), section).zh):
            yield section, f.name


@pytest.mark.parametrize("section,name", list(translated_fields()))
def test_a_chinese_text_obeys_the_rule_of_its_english(section, name):
    rule, _ = field_rule(f"{section}.{name}")

    def as_field(text):  # hints are a list of texts
        return [text] if name == "hints" else text

    bad = {
        "too long": as_field("长" * (rule.max_length + 1)),
        "an escape": as_field("\x1b[2J清屏"),
        "a bidi override": as_field("\u202e反转"),
        "a bell": as_field("响\x07"),
        "a number": 5,
    }
    path = f"{section}.zh.{name}"
    for what, value in bad.items():
        with pytest.raises(ExperimentError) as info:
            from_dict({section: {"zh": {name: value}}})
        message = str(info.value)
        assert message.startswith(f"{path}: "), (what, message)
        assert message.endswith(rule.describe()), (what, message)
        assert message.isprintable(), (what, message)  # one line, escapes shown escaped


def test_too_many_chinese_hints_for_their_english_are_refused():
    with pytest.raises(ExperimentError) as info:
        loads('[meta]\nhints = ["one", "two"]\n[meta.zh]\nhints = ["一", "二", "三"]\n')
    assert str(info.value) == (
        "meta.zh.hints: 3 hints is not allowed; must be as many as meta.hints (2), "
        "in the same order, or none"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ('[meta]\nzh = "中文"\n', "meta.zh: must be a table"),
        ('[meta.zh]\ncolour = "红"\n', "meta.zh.colour: unknown field; allowed: title, "),
        ('[compare.zh]\nvary = {"training.lr" = [1]}\n', "compare.zh.vary: unknown field"),
        ('[meta.zh.zh]\ntitle = "套娃"\n', "meta.zh.zh: unknown field"),
    ],
)
def test_a_misshapen_chinese_table_is_refused_naming_it(text, message):
    with pytest.raises(ExperimentError, match="^" + re.escape(message)):
        loads(text)


def test_the_chinese_can_be_set_as_a_table_and_is_checked():
    exp = load_preset("xor")
    apply_override(exp, *parse_assignment('meta.zh={title = "异或"}'))
    assert exp.meta.zh.title == "异或" and exp.meta.zh.hints == []
    for value, message in [
        ("1", "meta.zh: must be a table"),
        ('{title = "\\u001b[2J"}', "meta.zh.title: '\\x1b[2J' is not allowed"),
    ]:
        with pytest.raises(ExperimentError, match="^" + re.escape(message)):
            apply_override(exp, *parse_assignment(f"meta.zh={value}"))


def test_chinese_text_within_the_limits_is_accepted_whole():
    title = "标题" * 100  # 200 characters: the title's limit
    exp = loads(f'[meta]\ntitle = "t"\n[meta.zh]\ntitle = "{title}"\n')
    assert exp.meta.zh.title == title
