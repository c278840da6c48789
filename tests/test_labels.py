"""Hints, solutions and advice in the form's words, never config keys."""

import re

import pytest

from nnplay.experiment import SECTIONS
from nnplay.labels import LABELS, describe_change, describe_changes, label, status_word
from nnplay.presets import load_preset, preset_names
from nnplay.status import Status

CONFIG_KEY = re.compile(r"\b(task|model|training|goal|meta)\.[a-z_]+")


def test_every_field_has_a_label():
    from dataclasses import fields

    for section in ("task", "model", "training", "goal"):
        for f in fields(SECTIONS[section]):
            assert f"{section}.{f.name}" in LABELS, f"{section}.{f.name}"


def test_changes_are_phrased_with_the_labels():
    assert describe_change("training.l2", 0.01) == "set L2 (weight decay) to 0.01"
    assert describe_change("model.activation", "relu") == "set every layer's activation to relu"
    assert describe_change("model.hidden", [32, 32]) == "use 2 hidden layers of 32, 32 units"
    assert describe_change("model.hidden", [8]) == "use one hidden layer of 8 units"
    assert describe_change("model.hidden", []) == "remove every hidden layer"
    assert describe_change("training.nesterov", True) == "turn nesterov on"
    assert describe_change("task.features", ["x1^2", "x2^2"]) == "set the features to x1^2, x2^2"
    assert describe_changes({"model.hidden": [32, 32], "training.lr": 0.02}) == (
        "use 2 hidden layers of 32, 32 units and set learning rate to 0.02"
    )
    assert label("nothing.known") == "nothing.known"


@pytest.mark.parametrize("name", preset_names())
def test_preset_texts_speak_the_forms_words(name):
    exp = load_preset(name)
    texts = [exp.meta.description, *exp.meta.hints, exp.compare.description]
    texts += [exp.meta.zh.description, *exp.meta.zh.hints, exp.compare.zh.description]
    for text in texts:
        assert not CONFIG_KEY.search(text), text
    if exp.solution:
        assert not CONFIG_KEY.search(describe_changes(exp.solution))


def test_every_status_has_one_word_in_each_language():
    from nnplay.i18n import english, set_language

    with english():
        words = {status: status_word(status) for status in Status}
        assert words[Status.EARLY_STOPPED] == "early-stopped"
    assert len(set(words.values())) == len(Status)
    set_language("zh")
    chinese = {status_word(status) for status in Status}
    set_language("en")
    assert len(chinese) == len(Status) and not chinese & set(words.values())
    # JSON says the value; read back, it is the same status.
    assert status_word("early_stopped") == status_word(Status.EARLY_STOPPED)
