"""An exercise's question before its first run ([predict]): what a file may say, what is
refused (one line naming the field and the range), and what the command line shows of it."""

import json

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from nnplay import i18n
from nnplay.experiment import dumps, from_dict, loads, to_dict
from nnplay.predict import Predictions, PredictSpec
from nnplay.presets import all_presets, load_preset
from tests.command_line import run_in_process
from tests.hostile import FAST, HOSTILE_SETTINGS, assert_json, assert_refused

ASKING = [
    "batch-size",
    "circle-features",
    "lr-too-high",
    "momentum-vs-sgd",
    "overfitting",
    "underfitting",
    "vanishing-gradients",
]
GOOD = {
    "question": "What will the loss do?",
    "choices": ["fall", "grow", "stay"],
    "answer": 2,
    "explanation": "The steps are too long.",
}


def with_question(**changes) -> dict:
    """first-gt-fifth as a TOML document's tables, asking GOOD changed by `changes`."""
    document = to_dict(load_preset("first-gt-fifth"))
    document["predict"] = {**GOOD, **changes}
    return document


def test_the_exercises_that_ask_are_the_ones_the_issue_names():
    assert sorted(n for n, exp in all_presets() if exp.predict.asks) == ASKING
    for name in ASKING:
        p = load_preset(name).predict
        # a wrong answer to tempt, the Chinese beside every text, in step with the English
        assert len(p.answer) < len(p.choices) and len(p.zh.choices) == len(p.choices), name
        assert p.zh.question and p.zh.explanation, name


def test_a_question_round_trips_and_a_single_answer_is_a_list():
    exp = from_dict(with_question())
    assert exp.predict.answer == [2] and exp.predict.choices == GOOD["choices"]
    assert loads(dumps(exp)) == exp
    assert from_dict(with_question(answer=[3, 1])).predict.answer == [1, 3]
    # an exercise that asks nothing writes no [predict] table
    assert "predict" not in to_dict(load_preset("first-gt-fifth"))


def test_the_question_is_shown_in_the_learners_language():
    p = load_preset("underfitting").predict
    i18n.set_language("zh")
    try:
        text = p.localized()
        assert text.question == p.zh.question and text.choices == p.zh.choices
        assert text.explanation == p.zh.explanation
    finally:
        i18n.set_language("en")
    assert p.localized().question == p.question
    # a Chinese table that leaves a text out falls back to the English one
    partial = from_dict(with_question(zh={"question": "问题"})).predict
    i18n.set_language("zh")
    try:
        assert partial.localized().choices == GOOD["choices"]
    finally:
        i18n.set_language("en")


REFUSED = [
    # (the predict table's changes, the field named, words of the allowed range)
    ({"choices": ["only one"]}, "predict.choices", "must be 2 to 5 non-empty texts"),
    ({"choices": ["a", "b", "c", "d", "e", "f"]}, "predict.choices", "at most 5 text lines"),
    ({"choices": ["a", "  "]}, "predict.choices", "must be 2 to 5 non-empty texts"),
    ({"choices": "a, b"}, "predict.choices", "at most 5 text lines"),
    ({"choices": ["a", 2]}, "predict.choices", "at most 200 characters"),
    ({"choices": ["a", "b" * 201]}, "predict.choices", "at most 200 characters"),
    ({"answer": 4}, "predict.answer", "from 1 to 3"),
    ({"answer": 0}, "predict.answer", "a choice's number from 1 to 5"),
    ({"answer": [1, 2, 3]}, "predict.answer", "leave at least one wrong"),
    ({"answer": [2, 2]}, "predict.answer", "a list of distinct ones"),
    ({"answer": "2"}, "predict.answer", "a choice's number from 1 to 5"),
    ({"answer": True}, "predict.answer", "a choice's number from 1 to 5"),
    ({"answer": []}, "predict.answer", "from 1 to 3"),
    ({"question": "q" * 501}, "predict.question", "at most 500 characters"),
    ({"question": "\x1b[2J?"}, "predict.question", "without control characters"),
    ({"question": ""}, "predict.question", "need a question"),
    ({"explanation": ""}, "predict.explanation", "the learner reads it after the run"),
    ({"explanation": "x" * 2001}, "predict.explanation", "at most 2000 characters"),
    ({"hint": "no"}, "predict.hint", "allowed: question, choices, explanation, answer, zh"),
    ({"zh": {"choices": ["一", "二"]}}, "predict.zh.choices", "as many as predict.choices (3)"),
    ({"zh": {"answer": 1}}, "predict.zh.answer", "allowed: question, choices, explanation"),
    ({"zh": "中文"}, "predict.zh", "must be a table"),
]


@pytest.mark.parametrize("changes,field,allowed", REFUSED, ids=[r[1] for r in REFUSED])
def test_a_bad_question_is_refused_in_one_line(tmp_path, capsys, changes, field, allowed):
    path = tmp_path / "asks.toml"
    path.write_text(tomli_w.dumps(with_question(**changes)))
    code, _out, err = run_in_process(capsys, "train", path, *FAST)
    assert_refused(code, err, f"{field}: ", allowed)


# A question of any shape and content: the file is refused in one line, or it trains.
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.text(min_size=2000, max_size=2100),
    st.lists(st.one_of(st.integers(-3, 9), st.text(max_size=300)), max_size=8),
    st.dictionaries(st.sampled_from(["question", "choices", "x"]), st.text(max_size=5)),
)
questions = st.dictionaries(
    st.sampled_from(["question", "choices", "answer", "explanation", "zh", "answers"]),
    anything.filter(lambda v: v is not None),
)


@HOSTILE_SETTINGS
@given(table=questions)
def test_generated_questions_are_refused_in_one_line_or_train(tmp_path, capsys, table):
    document = to_dict(load_preset("first-gt-fifth"))
    document["predict"] = table
    path = tmp_path / "generated.toml"
    path.write_text(tomli_w.dumps(document))
    code, out, err = run_in_process(capsys, "train", path, *FAST, "--json")
    if code == 2:
        assert_refused(code, err, "predict")
    else:  # a question that validates: train trains and asks nothing
        assert code == 0 and err == "" and "Predict" not in out, err
        assert_json(out)


def test_train_never_asks(capsys):
    code, out, err = run_in_process(capsys, "train", "lr-too-high", "--json")
    assert code == 3 and assert_json(out)["status"] == "diverged", err  # 3: diverged
    question = load_preset("lr-too-high").predict
    assert question.question not in out + err and question.choices[2] not in out + err


def test_presets_json_shows_each_question_without_spoiling_it(capsys):
    code, out, _err = run_in_process(capsys, "presets", "--json")
    rows = {row["name"]: row for row in json.loads(out)["presets"]}
    assert code == 0 and sorted(n for n, r in rows.items() if r["predict"]) == ASKING
    asked = load_preset("momentum-vs-sgd").predict
    assert rows["momentum-vs-sgd"]["predict"] == {
        "question": asked.question,
        "choices": asked.choices,
    }
    assert rows["xor"]["predict"] is None
    # a teacher asks for the answers too
    code, out, _err = run_in_process(capsys, "presets", "--json", "--answers")
    row = {row["name"]: row for row in json.loads(out)["presets"]}["momentum-vs-sgd"]
    assert row["predict"]["answer"] == [2] and row["predict"]["explanation"] == asked.explanation


def test_an_answer_or_a_skip_is_remembered_and_only_an_answer_waits_for_the_run():
    asked, other = load_preset("underfitting").predict, load_preset("overfitting").predict
    remembered = Predictions()
    assert remembered.to_ask(asked) is asked and remembered.to_ask(PredictSpec()) is None
    remembered.answer(asked, None)  # skipped
    assert remembered.to_ask(asked) is None and remembered.reveal(asked) is None
    remembered.answer(other, 1)
    assert remembered.to_ask(load_preset("overfitting").predict) is None  # a re-load
    # another exercise's run ends: the answer waits on for a run of its own exercise
    assert remembered.reveal(asked) is None
    waiting = remembered.reveal(other)
    assert waiting is not None and waiting.choice == 1 and not waiting.right
    assert remembered.reveal(other) is None  # revealed once
