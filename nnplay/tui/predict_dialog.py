"""The exercise's question before its first run, and its answer once the run has ended.

`PredictDialog` asks: a choice is picked with its number key or a click, and escape skips (the
answer is the choice's number, None for a skip). `RevealDialog` shows the right answer beside the
learner's, the explanation, and what the run really did (the numbers of the weights it kept).
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from nnplay.experiment import Experiment
from nnplay.i18n import N_, _, ngettext
from nnplay.labels import describe_difference, status_word
from nnplay.predict import MAX_CHOICES, Prediction, Predictions, PredictSpec
from nnplay.tui.actions import translate_bindings
from nnplay.tui.prose import Prose
from nnplay.tui.screens import OnTop
from nnplay.tui.session import View
from nnplay.tui.train_view import metric_words


def numbered(number: int, text: str) -> Content:
    """A choice as listed: its number (the key that picks it), then its text."""
    return Content.assemble((f"{number}. ", "bold"), text)


class ChoiceLine(Static):
    """One choice of the question: a click picks it."""

    def __init__(self, number: int, text: str) -> None:
        # a choice's lines after the first start under its text, not under its number
        super().__init__(Prose(numbered(number, text), hanging=3), classes="choice")
        self.number = number

    def on_click(self, event: events.Click) -> None:
        event.stop()
        if isinstance(self.screen, PredictDialog):
            self.screen.action_choose(self.number)


class PredictDialog(OnTop[int | None], ModalScreen[int | None]):
    """The question; dismissed with the choice's number, or None when skipped."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", N_("Skip")),
        *(Binding(str(n), f"choose({n})", show=False) for n in range(1, MAX_CHOICES + 1)),
    ]

    def __init__(self, question: PredictSpec) -> None:
        super().__init__()
        translate_bindings(self)
        self.question = question.localized()

    def compose(self) -> ComposeResult:
        q = self.question
        with VerticalScroll(id="predict", classes="dialog"):
            heading = _("Predict first: what will happen?")
            yield Static(Content.styled(heading, "bold"))
            yield Static(Prose(q.question), id="predict-question")
            for number, choice in enumerate(q.choices, 1):
                yield ChoiceLine(number, choice)
            keys = _(
                "Press 1–{last} or click your answer: training starts right after it. "
                "Escape skips the question."
            ).format(last=len(q.choices))
            yield Static(Prose(Content.styled(keys, "dim")), id="predict-keys")

    def action_choose(self, number: int) -> None:
        if 1 <= number <= len(self.question.choices):
            self.dismiss(number)


class RevealDialog(OnTop[None], ModalScreen[None]):
    """After the run: the right answer, the learner's, why, and what the run did."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", N_("Close")),
        Binding("enter", "dismiss(None)", N_("Close"), show=False),
    ]

    def __init__(
        self, prediction: Prediction, view: View, exercise: Experiment, run: Experiment
    ) -> None:
        """`exercise`: the one asked about; `run`: the experiment the run trained."""
        super().__init__()
        translate_bindings(self)
        self.text = reveal_text(prediction, view, exercise, run)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="reveal", classes="dialog"):
            yield Static(Prose(self.text), id="reveal-text")


def reveal_text(
    prediction: Prediction, view: View, exercise: Experiment, run: Experiment
) -> Content:
    """What the reveal says, in the learner's language."""
    question, text = prediction.question, prediction.question.localized()
    if prediction.right:
        verdict = Content.styled(_("✔ You predicted it."), "bold green")
    else:
        verdict = Content.styled(_("✖ Not what happened."), "bold red")
    chosen = prediction.choice or 0
    closes = Content.styled("  " + _("(enter or escape closes this)"), "dim")
    lines = [
        verdict + closes,
        Content(" ".join(text.question.split())),
        Content.assemble((_("Your prediction:"), "bold"), " ")
        + numbered(chosen, text.choices[chosen - 1]),
    ]
    for number in question.answer:
        lines.append(
            Content.assemble((_("The answer:"), "bold"), " ")
            + numbered(number, text.choices[number - 1])
        )
    lines += [Content(""), Content(" ".join(text.explanation.split()))]
    lines.append(Content.assemble((_("What this run did:"), "bold"), " ", run_words(view)))
    if (exercise.task, exercise.model, exercise.training) != (run.task, run.model, run.training):
        note = _(
            "This run's settings differ from the exercise's ({changes}): the answer is about "
            "the exercise as given."
        )
        lines.append(Content(note.format(changes=describe_difference(exercise, run))))
    if exercise.compare.overrides():
        lines.append(Content(_("c runs the comparison: see the other variants for yourself.")))
    return Content("\n").join(lines)


def prediction_line(predictions: Predictions, question: PredictSpec) -> Content | None:
    """The exercise box's reminder of the learner's answer: waiting for the run's end, or
    beside the right one once revealed (None when not answered)."""
    prediction = predictions.given_to(question)
    if prediction is None or prediction.choice is None:
        return None
    words = {"choice": prediction.choice, "answer": ", ".join(map(str, question.answer))}
    if prediction is predictions.waiting:
        text, style = _("your prediction: {choice} (the answer comes when the run ends)"), "cyan"
    elif prediction.right:
        text, style = _("your prediction: {choice} ✔ right"), "green"
    else:
        text, style = _("your prediction: {choice} ✖ the answer: {answer}"), "red"
    return Content.styled(text.format(**words), style)


def run_words(view: View) -> str:
    """The run's end in one line: how it ended, its numbers and the goal's verdict."""
    s = view.summary
    if s is None:
        return status_word(view.status)
    ended = ngettext("{status} after {count} epoch", "{status} after {count} epochs", s.epochs)
    ended = ended.format(status=status_word(view.status), count=s.epochs)
    parts = [ended, *metric_words(view)]
    if s.goal is not None:
        parts.append(_("goal {verdict}").format(verdict=s.goal_words()))
    return "; ".join(parts)
