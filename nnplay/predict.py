"""Predict, then run: the question an exercise asks before its first run.

Learners who predict a demonstration's outcome before seeing it understand it far better than
those who only watch (Crouch et al., Am. J. Phys. 72, 2004). A preset's `[predict]` table holds
the question, its 2 to 5 choices (picked with the keys 1-5 or a click), the right choice or
choices and the explanation shown once the run has ended; `[predict.zh]` holds the Chinese
beside them, as `[meta.zh]` does. `Predictions` remembers each answer (or skip) while the app
is open: an exercise asks once, whatever resets and re-loads follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nnplay.i18n import _
from nnplay.rules import (
    TRANSLATION_DOC,
    Number,
    Rule,
    Text,
    TextList,
    in_language,
    rule,
    subsection,
)

MIN_CHOICES, MAX_CHOICES = 2, 5
LONGEST_CHOICE = 200  # characters: a choice is one line of the question's list, wrapped


@dataclass(frozen=True)
class Answer(Rule):
    """predict.answer: the right choice's number, or a list of the right ones, counted from 1
    as the keys that pick them; stored as a sorted list."""

    def check(self, value: Any) -> str | None:
        numbers = value if isinstance(value, list) else [value]
        each = Number(1, MAX_CHOICES, integer=True)
        if len(numbers) > MAX_CHOICES or any(each.check(n) for n in numbers):
            return self.must_be()
        if len({int(n) for n in numbers}) != len(numbers):
            return self.must_be()
        return None

    def coerce(self, value: Any) -> Any:
        return sorted(int(n) for n in (value if isinstance(value, list) else [value]))

    def describe(self) -> str:
        message = _("a choice's number from 1 to {most}, or a list of distinct ones")
        return message.format(most=MAX_CHOICES)


@dataclass
class PredictText:
    question: str = rule(Text(500), "", "the question asked before the exercise's first run")
    choices: list[str] = rule(
        TextList(MAX_CHOICES, LONGEST_CHOICE),
        [],
        "the answers to choose from, 2 to 5, in the order of the keys that pick them",
    )
    explanation: str = rule(Text(), "", "why the right answer is right, shown after the run")


@dataclass
class PredictSpec(PredictText):
    answer: list[int] = rule(Answer(), [], "the right choice's number (from 1), or a list of them")
    zh: PredictText = subsection(PredictText, TRANSLATION_DOC)

    @property
    def asks(self) -> bool:
        return bool(self.question)

    def localized(self) -> PredictText:
        """The question, choices and explanation in the learner's language."""
        return in_language(self, self.zh)

    def to_dict(self, with_answer: bool) -> dict[str, Any]:
        """The question and choices in the learner's language, as `presets --json` lists
        them; the answer and explanation only `with_answer`."""
        text = self.localized()
        out: dict[str, Any] = {"question": text.question, "choices": list(text.choices)}
        if with_answer:
            out |= {"answer": list(self.answer), "explanation": text.explanation}
        return out


def predict_problems(p: PredictSpec) -> list[tuple[str, str]]:
    """How the question's fields combine: every part needs the question, the choices number
    2 to 5, the answer names some of them (not all) and the explanation is given."""
    if not p.asks:
        if p != PredictSpec():
            return [("predict.question", _("is empty; the other predict fields need a question"))]
        return []
    count = len(p.choices)
    if not MIN_CHOICES <= count <= MAX_CHOICES or not all(c.strip() for c in p.choices):
        message = _("{count} choices is not allowed; must be {least} to {most} non-empty texts")
        return [
            ("predict.choices", message.format(count=count, least=MIN_CHOICES, most=MAX_CHOICES))
        ]
    if not p.answer or max(p.answer) > count or len(p.answer) == count:
        message = _(
            "{value} is not allowed; must name the right choices by their numbers, from 1 to "
            "{count}, and leave at least one wrong"
        )
        return [("predict.answer", message.format(value=p.answer, count=count))]
    if not p.explanation.strip():
        return [("predict.explanation", _("is empty; the learner reads it after the run"))]
    if p.zh.choices and len(p.zh.choices) != count:
        message = _(
            "{translated} choices is not allowed; must be as many as predict.choices "
            "({count}), in the same order, or none"
        )
        return [("predict.zh.choices", message.format(translated=len(p.zh.choices), count=count))]
    return []


SUMMARY_LENGTH = 200  # a saved result's prediction holds at most this many characters


@dataclass(frozen=True)
class Prediction:
    """The learner's answer to a question: the choice's number, None when skipped."""

    question: PredictSpec
    choice: int | None

    @property
    def right(self) -> bool:
        return self.choice in self.question.answer

    def summary(self) -> str | None:
        """The answer in one short line for a teacher (a saved result, the teacher's page): its
        number, right or not, and its words; None when the question was skipped."""
        if self.choice is None:
            return None
        mark = "✔" if self.right else "✖"
        return f"{self.choice} {mark} {self.question.choices[self.choice - 1]}"[:SUMMARY_LENGTH]


@dataclass
class Predictions:
    """The questions answered or skipped while the app is open, and the answer that waits for
    its run to end (a skip waits for nothing)."""

    given: dict[tuple, Prediction] = field(default_factory=dict)
    waiting: Prediction | None = None

    @staticmethod
    def _key(question: PredictSpec) -> tuple:
        return (question.question, tuple(question.choices))

    def to_ask(self, question: PredictSpec) -> PredictSpec | None:
        """`question` when it asks and has not been answered or skipped yet, else None."""
        return question if question.asks and self._key(question) not in self.given else None

    def answer(self, question: PredictSpec, choice: int | None) -> None:
        prediction = Prediction(question, choice)
        self.given[self._key(question)] = prediction
        self.waiting = prediction if choice is not None else None

    def given_to(self, question: PredictSpec) -> Prediction | None:
        """The answer (or skip) given to `question`, None when it was not asked yet."""
        return self.given.get(self._key(question))

    def reveal(self, question: PredictSpec) -> Prediction | None:
        """A run of the exercise asking `question` has ended: the answer to it that waited for
        that, once (an answer to another exercise's question waits on for a run of its own)."""
        prediction = self.waiting
        if prediction is None or self._key(prediction.question) != self._key(question):
            return None
        self.waiting = None
        return prediction
