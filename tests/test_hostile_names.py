"""Generated hostile names through the real CLI: file names holding terminal escapes or bytes
that are not UTF-8, names too long for any file system, `~user` of no user, folders closed to
the reader, things that are not files (a folder, a named pipe, a device), text that no file or
terminal can write back (lone surrogates), and numbers in messages. Whatever comes in, the answer
is a run, or one escaped line on stderr with exit 2."""

from __future__ import annotations

import ctypes
import json
import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnplay import memory
from nnplay.compare import default_workers
from nnplay.experiment import SECTIONS
from nnplay.export import NPZ_KEY
from nnplay.rules import Number
from tests.command_line import nnplay_argv, run_in_process
from tests.hostile import FAST, HOSTILE_SETTINGS, assert_refused

PRESETS = Path(__file__).parent.parent / "presets"
TARGET_COMMANDS = ("train", "compare", "gradcheck", "predict", "app")

# Pieces of hostile file names: terminal escapes (retitle the window, colour, clear), bidi
# overrides, line breaks, and bytes that are not UTF-8 (os.fsdecode's stand-ins).
ESCAPES = ["\x1b]0;TITLE\x07", "\x1b[31m", "\x1b[2J", "\u202e", "\n", "\r", "\x9b", "\udcff"]
hostile_name = st.lists(
    st.sampled_from(ESCAPES) | st.text(alphabet="ab-_. 中", min_size=1, max_size=3),
    min_size=1,
    max_size=5,
).map(lambda parts: "x" + "".join(parts).replace("/", "_"))


def assert_clean(out: str, err: str) -> None:
    """Nothing a terminal would act on: every character printable but the line ends."""
    text = out + err
    assert "Traceback" not in err, err
    assert all(c.isprintable() for line in text.splitlines() for c in line), repr(text)


def target_argv(command: str, target: str) -> list[str]:
    if command == "app":
        return [target]
    if command == "predict":
        return ["predict", target, "--input", "1,2,3,4,5"]
    return [command, target]


def run_target(capsys, monkeypatch, command: str, target: str) -> tuple[int, str, str]:
    """`command` on `target` in this process; the app's checks as in a terminal (a bad target
    is refused before any screen is drawn)."""
    with monkeypatch.context() as patch:
        if command == "app":
            patch.setattr(sys.stdin, "isatty", lambda: True)
            patch.setattr(sys.stdout, "isatty", lambda: True)
        return run_in_process(capsys, *target_argv(command, target))


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("w") / "w.npz"
    from nnplay.cli import main

    assert main(["train", "first-gt-fifth", *FAST, "--export", str(path)]) == 0
    return path


# ---------------------------------------------------------------------------------------------
# Security 4: every path shown is shown escaped


@HOSTILE_SETTINGS
@given(name=hostile_name)
def test_a_hostile_file_name_is_shown_escaped_by_every_command(tmp_path, capsys, name):
    path = tmp_path / (name + ".toml")
    shutil.copy(PRESETS / "first-gt-fifth.toml", path)
    runs = [
        ["gradcheck", path],
        ["train", path, *FAST, "--json"],
        ["train", path, *FAST, "--export", tmp_path / (name + ".npz")],
        ["train", path, *FAST, "--export", tmp_path / (name + ".bad")],  # refused, path named
        ["predict", tmp_path / (name + ".npz"), "--input", "1,2,3,4,5"],
    ]
    shown = ""
    for argv in runs:
        code, out, err = run_in_process(capsys, *argv)
        assert code in (0, 2), err
        assert_clean(out, err)
        shown += out + err
    assert ("\\x1b" in shown) == ("\x1b" in name)


def test_compare_shows_a_hostile_file_name_escaped(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = Path("esc\x1b]0;TITLE\x07\x1b[31m.toml")
    shutil.copy(PRESETS / "first-gt-fifth.toml", path)
    code, out, err = run_in_process(
        capsys, "compare", path, "--epochs", "1", "--vary", "training.lr=0.1,0.2"
    )
    assert code == 0, err
    assert_clean(out, err)
    assert out.startswith("esc\\x1b]0;TITLE\\x07\\x1b[31m.toml: 2 variants"), out


# ---------------------------------------------------------------------------------------------
# Names no file can have, homes that do not exist, folders closed to the reader


long_name = st.tuples(
    st.sampled_from(["a", "中", "é"]), st.integers(min_value=256, max_value=1000)
).map(lambda t: t[0] * (t[1] // len(t[0].encode()) + 1))


@HOSTILE_SETTINGS
@given(
    name=long_name,
    suffix=st.sampled_from(["", ".toml", ".npz", ".pt", ".onnx"]),
    folder=st.booleans(),
    command=st.sampled_from(TARGET_COMMANDS),
)
def test_a_name_over_255_bytes_is_one_line_in_every_command(
    capsys, monkeypatch, name, suffix, folder, command
):
    target = f"{name}/x.toml" if folder else name + suffix
    code, out, err = run_target(capsys, monkeypatch, command, target)
    assert_refused(code, err, "a name in it is longer than 255 bytes")


def no_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return True
    return False


@HOSTILE_SETTINGS
@given(
    user=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=12, max_size=30)
    .map(lambda u: "nosuch" + u)
    .filter(no_user),
    suffix=st.sampled_from([".toml", ".npz", ".safetensors"]),
    command=st.sampled_from(TARGET_COMMANDS),
)
def test_a_home_of_no_user_is_one_line_in_every_command(capsys, monkeypatch, user, suffix, command):
    code, out, err = run_target(capsys, monkeypatch, command, f"~{user}/x{suffix}")
    assert_refused(code, err, f"~{user} is no home folder on this computer")


def test_export_to_a_home_of_no_user_or_a_long_name_is_refused_before_training(capsys):
    for target, words in [
        ("~nosuchuserhere/w.npz", "--export ~nosuchuserhere/w.npz: ~nosuchuserhere is no home"),
        ("a" * 300 + ".npz", "longer than 255 bytes"),
    ]:
        code, out, err = run_in_process(capsys, "train", "first-gt-fifth", "--export", target)
        assert_refused(code, err, words)
        assert out == ""  # nothing trained


def drop_file_permission_override():
    """In the child, before exec: without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH even root
    obeys a folder's permissions (PR_CAPBSET_DROP = 24; the capabilities are 1 and 2)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")


@pytest.mark.parametrize("command", ["train", "compare", "gradcheck", "predict"])
def test_a_folder_without_search_permission_is_one_line(tmp_path, weights, command):
    closed = tmp_path / "closed"
    closed.mkdir()
    shutil.copy(PRESETS / "first-gt-fifth.toml", closed / "x.toml")
    shutil.copy(weights, closed / "x.npz")
    closed.chmod(0)
    target = str(closed / ("x.npz" if command == "predict" else "x.toml"))
    try:
        result = subprocess.run(
            nnplay_argv(*target_argv(command, target)),
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=drop_file_permission_override if os.geteuid() == 0 else None,
        )
    except subprocess.SubprocessError as e:
        pytest.skip(f"root cannot give up its file permission override here: {e}")
    finally:
        closed.chmod(0o700)
    assert_refused(
        result.returncode,
        result.stderr,
        "cannot read (permission denied: the file, or a folder on its way, is not open to you)",
    )


# ---------------------------------------------------------------------------------------------
# Things that are not files


def not_a_file(tmp_path: Path, kind: str) -> tuple[Path, str]:
    if kind == "folder":
        (tmp_path / "d.toml").mkdir()
        return tmp_path / "d.toml", "it is a folder, not a file"
    if kind == "fifo":
        os.mkfifo(tmp_path / "f.npz")
        return tmp_path / "f.npz", "it is a named pipe (FIFO), not a file"
    return Path("/dev/zero"), "/dev/zero: it is a device, not a file"


@pytest.mark.parametrize("command", TARGET_COMMANDS)
@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_what_is_not_a_file_is_named_by_its_kind(tmp_path, capsys, monkeypatch, command, kind):
    path, words = not_a_file(tmp_path, kind)
    code, out, err = run_target(capsys, monkeypatch, command, str(path))
    assert_refused(code, err, words)
    assert "no such file" not in err


def test_a_folder_named_without_a_suffix_is_a_folder_unless_a_preset_has_its_name(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lessons").mkdir()
    (tmp_path / "circle").mkdir()
    assert_refused(*run_in_process(capsys, "gradcheck", "lessons")[::2], "it is a folder")
    code, out, err = run_in_process(capsys, "gradcheck", "circle")
    assert code == 0, err


def test_an_empty_export_path_is_named_as_empty(capsys):
    code, out, err = run_in_process(capsys, "train", "first-gt-fifth", "--export", "")
    assert_refused(code, err, "--export '': an empty path names no file")


def test_a_toml_with_a_byte_order_mark_is_read(tmp_path, capsys):
    path = tmp_path / "notepad.toml"
    path.write_bytes(b"\xef\xbb\xbf" + (PRESETS / "first-gt-fifth.toml").read_bytes())
    code, out, err = run_in_process(capsys, "train", path, *FAST)
    assert code == 0, err


def test_weights_under_a_name_that_is_not_utf8_are_refused_in_words(tmp_path, capsys, weights):
    path = Path(os.fsdecode(bytes(tmp_path) + b"/w\xff.npz"))
    shutil.copy(weights, path)
    code, out, err = run_in_process(capsys, "predict", path, "--input", "1,2,3,4,5")
    assert_refused(code, err, "w\\xff.npz: the file name is not UTF-8")
    assert "Error" not in err


# ---------------------------------------------------------------------------------------------
# Lone surrogates: refused before training (the export could not write them)


lone_surrogate = st.integers(min_value=0xD800, max_value=0xDFFF).map(chr)


@HOSTILE_SETTINGS
@given(
    char=lone_surrogate,
    field=st.sampled_from(["meta.title", "meta.description", "compare.description"]),
)
def test_a_lone_surrogate_set_on_the_command_line_is_refused_before_training(
    tmp_path, capsys, char, field
):
    target = tmp_path / "w.npz"
    code, out, err = run_in_process(
        capsys, "train", "first-gt-fifth", "--set", f"{field}=a{char}b", "--export", target
    )
    assert_refused(code, err, f"{field}:", "without control characters")
    assert out == "" and not target.exists()


@HOSTILE_SETTINGS
@given(char=lone_surrogate, field=st.sampled_from(["title", "description"]))
def test_a_lone_surrogate_in_an_exported_experiment_is_refused_before_training(
    tmp_path, capsys, weights, char, field
):
    with np.load(weights) as data:
        arrays = {k: data[k] for k in data.files}
    experiment = json.loads(str(arrays[NPZ_KEY][()]))
    experiment["meta"][field] = "a" + char
    arrays[NPZ_KEY] = np.array(json.dumps(experiment))  # "\udxxx" escaped, as JSON allows
    hostile, target = tmp_path / "h.npz", tmp_path / "out.npz"
    np.savez(hostile, **arrays)
    code, out, err = run_in_process(capsys, "train", hostile, *FAST, "--export", target)
    assert_refused(code, err, f"meta.{field}:")
    assert out == "" and not target.exists()


# ---------------------------------------------------------------------------------------------
# Numbers in messages are written as people write them


WHOLE_NUMBER_FIELDS = [
    (f"{section}.{f.name}", r.high)
    for section, cls in SECTIONS.items()
    for f in fields(cls)
    if isinstance(r := f.metadata.get("rule"), Number) and r.integer
]


@pytest.mark.parametrize("path, high", WHOLE_NUMBER_FIELDS)
def test_a_whole_number_limit_is_shown_as_an_integer(capsys, path, high):
    code, out, err = run_in_process(
        capsys, "train", "first-gt-fifth", "--set", f"{path}={high + 1}"
    )
    assert_refused(code, err, f"<= {int(high)}")
    assert "e+" not in err


# ---------------------------------------------------------------------------------------------
# compare: the variants that run at once must fit in memory together


def test_a_comparison_of_variants_that_cannot_fit_is_one_line(capsys):
    hidden = "[" + ", ".join(["4096"] * 32) + "]"
    code, out, err = run_in_process(
        capsys,
        "compare",
        "first-gt-fifth",
        "--vary",
        f"model.hidden={hidden}",
        "--vary",
        "training.lr=0.1,0.2",
    )
    assert_refused(code, err, "needs about", "GB of memory")
    assert out == ""


def test_variants_that_fit_alone_but_not_together_are_refused(capsys, monkeypatch):
    if default_workers(2) < 2:
        pytest.skip("one core: the variants run one after the other")
    from nnplay.presets import load_preset

    one = memory.training_bytes(load_preset("first-gt-fifth"))
    monkeypatch.setattr(memory, "limit_bytes", lambda: int(1.5 * one))
    code, out, err = run_in_process(
        capsys, "compare", "first-gt-fifth", "--vary", "training.lr=0.1,0.2"
    )
    assert_refused(code, err, "compare (2 variants at once) needs about")
