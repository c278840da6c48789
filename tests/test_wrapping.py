"""Line breaking in English and Chinese: the rules the app, the help and the CLI all follow."""

import pytest

from nnplay.i18n import cells
from nnplay.wrapping import NEVER_ENDS, NEVER_STARTS, fill, wrap
from tests.command_line import run_many

HINT = "提示 1：验证集损失在第 8 轮最低，之后再训练下去没有哪一轮比它更好。"


def test_english_breaks_at_spaces_only():
    assert wrap("the loss moved very little", 10) == ["the loss", "moved very", "little"]


def test_chinese_breaks_between_characters_and_fills_each_line():
    lines = wrap(HINT, 20)
    assert "".join(lines).replace(" ", "") == HINT.replace(" ", "")  # nothing lost or added
    assert all(cells(line) <= 20 for line in lines)
    assert lines[0].startswith("提示 1：") and cells(lines[0]) >= 18  # the hint is not left alone


@pytest.mark.parametrize("width", range(6, 40))
def test_no_line_starts_with_a_closing_mark_or_ends_with_an_opening_one(width):
    text = HINT + "（d：说明）「引号」里的话，也一样！对吗？是的；好。"
    lines = wrap(text, width)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:
        assert cells(line) <= width
        assert line[0] not in NEVER_STARTS, (width, lines)
        assert line[-1] not in NEVER_ENDS, (width, lines)


def test_a_full_stop_stays_with_the_word_before_it():
    # the stop would just fit after 更 at 18 cells; it goes with 好 to the next line instead
    assert wrap("没有哪一轮比它更好。", 18) == ["没有哪一轮比它更", "好。"]
    assert wrap("没有哪一轮比它更好。", 20) == ["没有哪一轮比它更好。"]


def test_a_word_longer_than_the_line_is_cut():
    assert wrap("abcdefghij", 4) == ["abcd", "efgh", "ij"]


def test_newlines_are_kept_and_fill_indents():
    assert wrap("a b\nc", 10) == ["a b", "c"]
    assert fill("one two three", 9, "  ") == "one two\n  three"


def test_a_line_may_start_at_a_word_after_a_space_or_an_extension_after_a_chinese_mark():
    assert wrap("write (.pt, .safetensors, .onnx, .npz)", 20) == [
        "write (.pt,",
        ".safetensors, .onnx,",
        ".npz)",
    ]
    assert wrap("写出权重（.pt、.safetensors、.onnx、.npz）；可重复", 24) == [
        "写出权重（.pt、",
        ".safetensors、.onnx、",
        ".npz）；可重复",
    ]


COMMANDS = ["presets", "train", "predict", "compare", "backprop", "optpaths", "gradcheck", "serve"]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_command_line_help_fits_a_narrow_terminal_by_the_same_rule(language):
    """Every help text of every command, at 50 columns: no line wider (a Chinese character is
    two cells), none starting with a closing mark or ending with an opening one."""
    runs = [("--help",), *[(command, "--help") for command in COMMANDS]]
    env = {"NNPLAY_LANG": language, "COLUMNS": "50"}
    for argv, result in zip(runs, run_many(runs, envs=[env] * len(runs)), strict=True):
        assert result.returncode == 0, (argv, result.stderr)
        usage, _, body = result.stdout.partition("\n\n")  # argparse lays the usage out itself
        assert body.strip(), (argv, result.stdout)
        for line in body.splitlines():
            text = line.strip()
            assert cells(line) <= 50, (argv, line)
            if text:
                extension = text[0] == "." and text[1:2].isalnum()  # ".npz", not a full stop
                assert text[0] not in NEVER_STARTS or extension, (argv, line)
                assert text[-1] not in NEVER_ENDS, (argv, line)
