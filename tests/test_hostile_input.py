"""Generated hostile text through the real CLI entry point: experiment TOML files (deep
nesting, huge integers, wrong types, unknown keys, control characters), --set and --input
values. Whatever comes in, the answer is a run, or one escaped line on stderr with exit 2."""

from __future__ import annotations

import string
from dataclasses import fields

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnplay.experiment import Experiment, TaskSpec, to_dict
from nnplay.predict import PredictSpec
from tests.command_line import run_in_process
from tests.hostile import FAST as BRIEF
from tests.hostile import assert_json, assert_refused

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FAST = [*BRIEF, "--set", "training.batch_size=20", "--set", "training.patience=0"]
HOSTILE_CHARS = "\x1b\n\r\t\x00\x07\u202e\u2028\"'\\[]{}=#.,"
# every section's fields; [predict] is left out of a file while it asks nothing: named here
SCHEMA = {**to_dict(Experiment()), "predict": {f.name: None for f in fields(PredictSpec)}}


def assert_answered(code: int, out: str, err: str) -> None:
    """A run (0 finished, 3 diverged) or a refusal; never a traceback or a raw escape."""
    assert "Traceback" not in err and "\x1b" not in out + err, err
    if code == 2:
        assert_refused(code, err)
    else:
        assert code in (0, 3), (code, err)


# ---------------------------------------------------------------------------------------------
# Strategies

hostile_text = st.text(alphabet=st.sampled_from(HOSTILE_CHARS) | st.characters(), max_size=30)
huge_int = st.integers(min_value=20, max_value=6000).map(lambda n: "9" * n)
deep = st.integers(min_value=10, max_value=6000).flatmap(
    lambda n: st.sampled_from(
        ["[" * n + "]" * n, "{a=" * n + "1" + "}" * n, "[{a=" * n + "1" + "}]" * n]
    )
)
scalar = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats().map(repr),
    st.sampled_from(["true", "false", "nan", "inf", "-inf", "1e400", "[]", "{}"]),
    hostile_text.map(
        lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    ),
    huge_int,
    deep,
)
known_key = st.sampled_from([f"{s}.{k}" for s, table in SCHEMA.items() for k in table])
any_key = known_key | st.builds(
    lambda s, k: f"{s}.{k}", st.sampled_from(list(SCHEMA)), hostile_text.filter(bool)
)


def toml_key(key: str) -> str:
    section, _, name = key.partition(".")
    if name and all(c in string.ascii_letters + string.digits + "_-" for c in name):
        return name
    escaped = "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in name)
    return f'"{escaped}"'


@st.composite
def toml_documents(draw) -> str:
    """Sections with generated keys and values; sometimes raw hostile lines appended."""
    entries = draw(st.lists(st.tuples(any_key, scalar), max_size=6))
    lines = []
    for key, value in entries:
        lines += [f"[{key.partition('.')[0]}]", f"{toml_key(key)} = {value}"]
    junk = draw(
        st.sampled_from(
            [
                "",
                "[[[",
                "a = " + "[" * 3000,
                "x.y" + ".z" * 2000 + " = 1",
                "[task]\nsamples = 1_000",
                "\x1b[31m = 1",
            ]
        )
    )
    return "\n".join(lines + [junk]) + "\n"


# ---------------------------------------------------------------------------------------------
# Tests


@SETTINGS
@given(document=toml_documents())
def test_generated_experiment_files(tmp_path, capsys, document):
    path = tmp_path / "hostile.toml"
    path.write_text(document, encoding="utf-8", errors="surrogatepass")
    code, out, err = run_in_process(capsys, "train", path, *FAST)
    assert_answered(code, out, err)


@SETTINGS
@given(key=any_key, value=scalar)
def test_generated_set_values(capsys, key, value):
    # FAST comes last: the hostile value is still checked, but cannot ask for a long run
    code, out, err = run_in_process(
        capsys, "train", "first-gt-fifth", "--set", f"{key}={value}", *FAST
    )
    assert_answered(code, out, err)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "w.npz"
    from nnplay.cli import main

    assert main(["train", "first-gt-fifth", *FAST, "--export", str(path)]) == 0
    return path


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    huge_int,
    st.sampled_from(["1e39", "-3.4e38", "-inf", "-nan", "-", "--json", "-x"]),
)
inputs = st.one_of(st.lists(numbers, min_size=0, max_size=7).map(",".join), hostile_text)


@SETTINGS
@given(values=st.lists(inputs, min_size=1, max_size=3))
def test_generated_input_values(capsys, weights, values):
    argv = [a for v in values for a in ("--input", v)]
    code, out, err = run_in_process(capsys, "predict", weights, *argv, "--json")
    assert "Traceback" not in err
    if code == 0:
        for p in assert_json(out)["predictions"]:
            assert len(p["input"]) == 5
    else:
        assert_refused(code, err)


def test_negative_inputs_are_numbers_not_options(capsys, weights):
    code, out, err = run_in_process(
        capsys, "predict", weights, "--input", "-4,4,-1,.5,-.5", "--json"
    )
    assert code == 0, err
    assert assert_json(out)["predictions"][0]["input"] == [-4, 4, -1, 0.5, -0.5]


@pytest.mark.parametrize(
    "text, words",
    [
        ("[model]\nhidden = " + "[" * 5000 + "]" * 5000, "nested too deeply"),
        ("[meta]\ntitle = " + "{a=" * 5000 + "1" + "}" * 5000, "nested too deeply"),
        ("[task]\nsamples = " + "9" * 5000, "too large"),
        ("[task]\nsamples = " + "9" * 400, "a 400-digit number"),
        ("[training]\nlr = " + "9" * 400, "a 400-digit number"),
        ('[task]\n"\\u001b[31mred\\nline" = 1', "\\x1b[31mred\\nline: unknown field"),
        ("[meta]\nhints = [" + ", ".join(['"h"'] * 60) + "]", "at most 50"),
        ("a = 1\n" * 50_000, "too large"),
        # shown in the app and the exported script: a terminal escape there would rewrite the screen
        ('[meta]\ntitle = "\\u001b[2Jgone"', "meta.title: '\\x1b[2Jgone'"),
        ('[meta]\ndescription = "a\\u0007b"', "meta.description"),
        ('[meta]\nhints = ["ok", "\\u009b31m"]', "meta.hints"),
        ('[meta]\ntitle = "\\u202eevil"', "without control characters"),
        ('[meta.zh]\ntitle = "\\u001b[2J清屏"', "meta.zh.title: '\\x1b[2J清屏'"),
        ('[meta.zh]\nhints = ["\\u009b31m"]', "meta.zh.hints"),
        ('[compare.zh]\ndescription = "\\u202e反转"', "compare.zh.description"),
    ],
)
def test_known_hostile_documents(tmp_path, capsys, text, words):
    path = tmp_path / "x.toml"
    path.write_text(text)
    code, _, err = run_in_process(capsys, "train", path)
    assert_refused(code, err, words)


@pytest.mark.parametrize(
    "override, words",
    [
        ("training.epochs=" + "9" * 400, "a 400-digit number"),
        ("model.hidden=" + "[" * 5000 + "]" * 5000, "nested too deeply"),
        ("task.samples=" + "9" * 5000, "too large"),
        ("\x1b[2J=1", "\\x1b[2J"),
    ],
)
def test_known_hostile_set_values(capsys, override, words):
    code, _, err = run_in_process(capsys, "train", "first-gt-fifth", "--set", override)
    assert_refused(code, err, words)


def test_huge_epochs_flag_is_one_line(capsys):
    code, _, err = run_in_process(capsys, "train", "first-gt-fifth", "--epochs", "9" * 400)
    assert_refused(code, err, "training.epochs")


@pytest.mark.parametrize(
    "overrides",
    [
        [
            "task.name=feature_sum",
            "task.samples=200000",
            "task.val_samples=200000",
            "task.dim=4096",
            "task.features=poly2",
            "training.loss=cross_entropy",
        ],
        [
            "task.name=feature_sum",
            "task.dim=4096",
            "training.loss=cross_entropy",
            "model.hidden=[" + ", ".join(["4096"] * 32) + "]",
        ],
    ],
)
def test_runs_that_cannot_fit_in_memory_are_refused_before_allocating(capsys, overrides):
    argv = [a for o in overrides for a in ("--set", o)]
    code, _, err = run_in_process(capsys, "train", "first-gt-fifth", *argv)
    assert_refused(code, err, "needs about", "GB of memory", "at most")


@pytest.mark.parametrize(
    "overrides",
    [
        ["task.name=circle", "training.batch_size=1", "model.hidden=[{units=8, batch_norm=true}]"],
        [
            "task.name=circle",
            "task.samples=3",
            "training.batch_size=1",
            "model.batch_norm=true",
            "model.hidden=[4]",
        ],
    ],
)
def test_batch_norm_with_one_sample_batches_is_refused(capsys, overrides):
    argv = [a for o in overrides for a in ("--set", o)]
    code, _, err = run_in_process(
        capsys, "train", "first-gt-fifth", "--set", "training.loss=bce", *argv
    )
    assert_refused(code, err, "training.batch_size: 1 is not allowed with batch norm")


def test_batch_norm_with_a_last_batch_of_one_trains(capsys):
    code, out, err = run_in_process(
        capsys,
        "train",
        "first-gt-fifth",
        "--set",
        "task.samples=3",
        "--set",
        "training.batch_size=2",
        "--set",
        "model.hidden=[4]",
        "--set",
        "model.batch_norm=true",
        "--set",
        "training.epochs=2",
        "--set",
        "goal.epochs=0",
    )
    assert code == 0, err


def test_a_diverging_bce_run_ends_as_diverged(capsys):
    code, out, err = run_in_process(
        capsys,
        "train",
        "circle",
        "--set",
        "training.optimizer=sgd",
        "--set",
        "training.lr=100",
        "--set",
        "training.l2=10",
        "--json",
    )
    assert code == 3 and err == "", err
    summary = assert_json(out)
    assert summary["status"] == "diverged" and summary["val_loss"] is not None


def test_argparse_errors_are_escaped_too(capsys):
    code, _, err = run_in_process(capsys, "train", "first-gt-fifth", "\x1b[31mred\nline")
    assert_refused(code, err, "\\x1b[31mred\\nline")


def test_an_unknown_field_lists_the_allowed_ones_in_a_stable_order(tmp_path, capsys):
    path = tmp_path / "x.toml"
    path.write_text("[task]\nbogus = 1\n")
    code, _, err = run_in_process(capsys, "train", path)
    assert_refused(code, err, "allowed: " + ", ".join(f.name for f in fields(TaskSpec)))


def test_one_value_too_few_is_said_in_good_english(tmp_path, capsys):
    weights = tmp_path / "w.npz"
    assert run_in_process(capsys, "train", "first-gt-fifth", *FAST, "--export", weights)[0] == 0
    code, _, err = run_in_process(capsys, "predict", weights, "--input", "-4")
    assert_refused(code, err, "input: 1 value is not allowed")
