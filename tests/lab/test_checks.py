"""The lab's typed numbers: a refusal says how many numbers the field takes, in words."""

import pytest

from nnplay.errors import ExperimentError
from nnplay.lab.checks import parse_numbers


def test_numbers_are_parsed_and_a_wrong_count_says_how_many_are_wanted():
    assert parse_numbers("0.05, 0.1", "x", 2) == [0.05, 0.1]
    with pytest.raises(ExperimentError, match=r"^lr '\[/x\]' is not allowed; write one number$"):
        parse_numbers("[/x]", "lr", 1)
    with pytest.raises(ExperimentError, match="write 2 numbers separated by commas"):
        parse_numbers("1, inf", "x", 2)
