"""Field rules: what a field of the Experiment allows, in one place.

Each rule checks a value (returning the problem as text, or None), coerces it to its stored form
and describes what is allowed, so validation, the forms and the error messages all read the same
rule. `rule()` attaches one to a dataclass field with its one-line help text; the schema that
uses them is `nnplay/experiment.py`.
"""

from __future__ import annotations

import copy
import itertools
import math
import unicodedata
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from nnplay.i18n import _, language
from nnplay.tasks import FEATURE_MODES, FEATURES
from nnplay.untrusted import shown


class Rule:
    """What a field allows: `check` returns the problem (or None), `describe` the allowed values."""

    def check(self, value: Any) -> str | None:
        raise NotImplementedError

    def coerce(self, value: Any) -> Any:
        return value

    def describe(self) -> str:
        raise NotImplementedError

    def must_be(self) -> str:
        """The problem of a value this rule refuses: what it must be instead."""
        return _("must be {allowed}").format(allowed=self.describe())


@dataclass(frozen=True)
class Number(Rule):
    low: float
    high: float
    integer: bool = False
    low_open: bool = False  # True: the value must be strictly greater than `low`

    def check(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return self.must_be()
        if isinstance(value, int) and not -(2**63) < value < 2**63:  # also: too large for a float
            return self.must_be()
        if self.integer and not float(value).is_integer():
            return self.must_be()
        if not math.isfinite(value):
            return self.must_be()
        too_low = value <= self.low if self.low_open else value < self.low
        if too_low or value > self.high:
            return self.must_be()
        return None

    def coerce(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return value
        return (
            int(value)
            if self.integer and float(value).is_integer()
            else (value if self.integer else float(value))
        )

    def describe(self) -> str:
        if self.integer:
            text = (
                _("a whole number > {low} and <= {high}")
                if self.low_open
                else _("a whole number >= {low} and <= {high}")
            )
        else:
            text = (
                _("a number > {low} and <= {high}")
                if self.low_open
                else _("a number >= {low} and <= {high}")
            )
        return text.format(low=_fmt(self.low), high=_fmt(self.high))


@dataclass(frozen=True)
class Choice(Rule):
    options: tuple[str, ...]

    def check(self, value: Any) -> str | None:
        if value not in self.options:
            return _("must be one of: {allowed}").format(allowed=", ".join(self.options))
        return None

    def describe(self) -> str:
        return _("one of: {allowed}").format(allowed=", ".join(self.options))


@dataclass(frozen=True)
class Flag(Rule):
    def check(self, value: Any) -> str | None:
        return None if isinstance(value, bool) else _("must be true or false")

    def describe(self) -> str:
        return _("true or false")


@dataclass(frozen=True)
class Text(Rule):
    max_length: int = 2000

    def check(self, value: Any) -> str | None:
        if not _plain_text(value, self.max_length):
            return self.must_be()
        return None

    def describe(self) -> str:
        message = _("text of at most {most} characters, without control characters")
        return message.format(most=self.max_length)


def _plain_text(value: Any, max_length: int) -> bool:
    """Text a terminal shows as written: no escape sequences, bells or other control and format
    characters (line breaks and tabs are fine), which a shared file could use to rewrite the
    screen around it."""
    return (
        isinstance(value, str)
        and len(value) <= max_length
        and all(c in "\n\t" or unicodedata.category(c) not in _CONTROL for c in value)
    )


# controls, format characters (bidi overrides), line separators, and lone surrogates (a file
# name's undecodable bytes, "\ud800" in JSON): no file or terminal can write those back
_CONTROL = {"Cc", "Cf", "Zl", "Zp", "Cs"}


@dataclass(frozen=True)
class TextList(Rule):
    max_items: int = 50
    max_length: int = 2000

    def check(self, value: Any) -> str | None:
        if (
            not isinstance(value, list)
            or len(value) > self.max_items
            or not all(_plain_text(v, self.max_length) for v in value)
        ):
            return self.must_be()
        return None

    def describe(self) -> str:
        message = _(
            "a list of at most {items} text lines of at most {most} characters, "
            "without control characters"
        )
        return message.format(items=self.max_items, most=self.max_length)


@dataclass(frozen=True)
class ChoiceList(Rule):
    """A list of names, each one of `options` (the fields an exercise locks)."""

    options: tuple[str, ...]

    def check(self, value: Any) -> str | None:
        if not isinstance(value, list) or len(value) > len(self.options):
            return self.must_be()
        unknown = next((v for v in value if v not in self.options), None)
        if unknown is not None:
            message = _("{name} is not one of them; must be {allowed}")
            return message.format(name=shown(repr(unknown), 60), allowed=self.describe())
        return None

    def describe(self) -> str:
        return _("a list of names from: {allowed}").format(allowed=", ".join(self.options))


@dataclass(frozen=True)
class Features(Rule):
    """task.features: a shorthand ("raw", "poly2") or a non-empty list of names, each at most
    once: feature names on a 2-D task, kept in the order of FEATURES (toggles, not a
    sequence), or a CSV task's input columns (checked against the file when it is read)."""

    most: int = 256  # a CSV file's columns at most (csv_data.MAX_COLUMNS)
    longest: int = 100  # characters in a column's name (csv_data.MAX_NAME)

    def check(self, value: Any) -> str | None:
        if isinstance(value, str) and value in FEATURE_MODES:
            return None
        if (
            isinstance(value, list)
            and value
            and len(value) <= self.most
            and all(_plain_text(v, self.longest) and v for v in value)
            and len(set(value)) == len(value)
        ):
            return None
        return self.must_be()

    def coerce(self, value: Any) -> Any:
        if isinstance(value, list) and all(name in FEATURES for name in value):
            return [name for name in FEATURES if name in value]
        return value

    def names_problem(self, value: Any) -> str | None:
        """On a synthetic task, a list must name features of FEATURES."""
        if isinstance(value, list) and not all(name in FEATURES for name in value):
            return self.must_be()
        return None

    def describe(self) -> str:
        message = _(
            "{modes}, or a non-empty list of distinct names from: {names} (a CSV task: of "
            "its columns)"
        )
        return message.format(modes=_(" or ").join(FEATURE_MODES), names=", ".join(FEATURES))


@dataclass(frozen=True)
class NumberList(Rule):
    """A list of numbers, each as `each` allows, e.g. a CSV task's column means."""

    most: int
    each: Number

    def check(self, value: Any) -> str | None:
        if (
            not isinstance(value, list)
            or len(value) > self.most
            or any(self.each.check(v) for v in value)
        ):
            return self.must_be()
        return None

    def coerce(self, value: Any) -> Any:
        return [float(v) for v in value] if isinstance(value, list) else value

    def describe(self) -> str:
        message = _("a list of at most {most} numbers, each {each}")
        return message.format(most=self.most, each=self.each.describe())


@dataclass(frozen=True)
class Digest(Rule):
    """A SHA-256 as 64 lowercase hex digits, or empty (nothing read yet)."""

    def check(self, value: Any) -> str | None:
        if isinstance(value, str) and (
            not value or (len(value) == 64 and all(c in "0123456789abcdef" for c in value))
        ):
            return None
        return self.must_be()

    def describe(self) -> str:
        return _("64 lowercase hexadecimal digits (a SHA-256), or empty")


MAX_LAYERS = 32


@dataclass(frozen=True)
class Layers(Rule):
    """model.hidden as written: a list of layer widths and/or layer tables. Each layer's own
    fields are checked by LayerSpec's rules when the list is read (experiment.parse_hidden)."""

    def check(self, value: Any) -> str | None:
        if (
            not isinstance(value, list)
            or len(value) > MAX_LAYERS
            or not all(isinstance(v, dict) or (isinstance(v, int) and v > 0) for v in value)
        ):
            return self.must_be()
        return None

    def describe(self) -> str:
        message = _("a list of at most {most} layer widths, e.g. [16, 16], or of layer tables")
        return message.format(most=MAX_LAYERS)


MAX_VARIANTS = 64  # a comparison's variants, whoever declares them
VARIABLE_SECTIONS = ("task", "model", "training")


def _variable_key_problem(key: str) -> str | None:
    if key.partition(".")[0] not in VARIABLE_SECTIONS:
        return _("{field} cannot be varied").format(field=key)
    return None


@dataclass(frozen=True)
class Vary(Rule):
    """compare.vary: field path -> the values to try; the variants are every combination."""

    def check(self, value: Any) -> str | None:
        if not isinstance(value, dict):
            return self.must_be()
        for key, values in value.items():
            problem = _variable_key_problem(key) or (
                None
                if isinstance(values, list) and values
                else _("{field} needs a list of values").format(field=key)
            )
            if problem:
                return _("{problem}; must be {allowed}").format(
                    problem=problem, allowed=self.describe()
                )
        if math.prod(len(v) for v in value.values()) > MAX_VARIANTS:
            return _("too many variants; must be {allowed}").format(allowed=self.describe())
        return None

    def describe(self) -> str:
        message = _(
            "a table of task, model or training field = [values], at most {most} variants in all"
        )
        return message.format(most=MAX_VARIANTS)


@dataclass(frozen=True)
class VariantList(Rule):
    """compare.variants: each variant is its own table of field = value overrides."""

    def check(self, value: Any) -> str | None:
        if (
            not isinstance(value, list)
            or len(value) > MAX_VARIANTS
            or not all(isinstance(v, dict) and v for v in value)
        ):
            return self.must_be()
        for key in (key for variant in value for key in variant):
            problem = _variable_key_problem(key)
            if problem:
                return _("{problem}; must be {allowed}").format(
                    problem=problem, allowed=self.describe()
                )
        return None

    def describe(self) -> str:
        message = _("a list of at most {most} tables of task, model or training field = value")
        return message.format(most=MAX_VARIANTS)


def vary_grid(vary: dict[str, list]) -> list[dict[str, Any]]:
    """Every combination of the varied values, as override dicts ({} when nothing varies)."""
    keys = list(vary)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*vary.values())]


def _fmt(x: float) -> str:
    """A bound as people write it: 2147483647 and 1000000, not 2.14748e+09 and 1e+06."""
    if float(x).is_integer() and abs(x) < 2**63:
        return str(int(x))
    return repr(float(x))


def rule(r, default, doc: str = ""):
    """A dataclass field with its validation rule and a one-line help text."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.copy(default), metadata={"rule": r, "doc": doc})
    return field(default=default, metadata={"rule": r, "doc": doc})


def subsection(cls, doc: str):
    """A dataclass field holding a table of its own, e.g. [meta.zh] inside [meta]."""
    return field(default_factory=cls, metadata={"section": cls, "doc": doc})


# The texts a learner reads are written in English, and may be written in Chinese beside them in
# a `zh` table with the same fields and rules ([meta.zh], [compare.zh], [predict.zh]);
# `localized()` picks the language nnplay speaks, falling back to the English for any text the
# file leaves out.
TRANSLATION_DOC = "the same texts in Chinese, shown when nnplay speaks Chinese"

T = TypeVar("T")


def in_language(english: T, chinese: T) -> T:
    """The texts of `english` in the learner's language: the Chinese ones where nnplay speaks
    Chinese and they are given, the English otherwise."""

    def pick(name: str):
        translated = getattr(chinese, name)
        return translated if translated and language() == "zh" else getattr(english, name)

    texts = fields(chinese)  # type: ignore[arg-type]  # T is one of the text dataclasses
    return type(chinese)(**{f.name: pick(f.name) for f in texts})
