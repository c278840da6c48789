"""The command line in Chinese: chosen by --lang, NNPLAY_LANG or the locale; help (argparse's own
words too), summaries and errors translated; error messages keep the field, the value and what is
allowed; what a program reads (--json, field names) is the same in both languages."""

import json
import re

from nnplay import i18n, serve
from nnplay.presets import all_presets
from tests.command_line import run_many

CHINESE = re.compile(r"[\u4e00-\u9fff]")
ZH = {"LANG": "zh_CN.UTF-8"}
SMALL = ["--set", "task.samples=200", "--seed", "3"]


def chinese(text: str) -> bool:
    return bool(CHINESE.search(text))


def test_the_language_comes_from_lang_then_nnplay_lang_then_the_locale():
    cases = [  # (argv, environment, Chinese expected)
        (("--lang", "zh", "--help"), {}, True),
        (("--lang", "zh", "train", "--help"), {}, True),
        (("train", "--help", "--lang", "zh"), {}, True),  # after the subcommand too
        (("train", "--help", "--lang=zh"), {}, True),
        (("train", "--help"), {"NNPLAY_LANG": "zh", "LANG": "en_US.UTF-8"}, True),
        (("serve", "--help"), ZH, True),
        (("backprop", "--help"), {"LC_ALL": "zh_CN.UTF-8"}, True),
        (("--help",), {}, False),  # English is the default, with no variable at all
        (("train", "--help"), {"LANG": "C"}, False),
        (("--lang", "en", "train", "--help"), ZH, False),  # --lang beats the locale
        (("train", "--help"), {"NNPLAY_LANG": "en", **ZH}, False),
    ]
    results = run_many([argv for argv, _, _ in cases], envs=[env for _, env, _ in cases])
    for (argv, env, in_chinese), result in zip(cases, results, strict=True):
        out = result.stdout
        assert result.returncode == 0 and result.stderr == "", (argv, env, result.stderr)
        if in_chinese:  # argparse's own words as well as ours
            assert out.startswith("用法：nnplay"), (argv, env, out)
            assert "选项:" in out and "显示本帮助信息并退出" in out, (argv, env, out)
        else:
            assert out.startswith("usage: nnplay"), (argv, env, out)
            assert "show this help message and exit" in out and not chinese(out), (argv, env)
    assert "位置参数:" in results[1].stdout and "训练这么多轮" in results[1].stdout
    assert "--lang {en,zh}" in results[7].stdout


def test_a_bad_lang_is_one_line_and_exit_2_in_either_language():
    cases = [("--lang", "fr", "train", "--help"), ("train", "x", "--lang"), ("--lang=",)]
    english = run_many(cases)
    in_chinese = run_many(cases, envs=[ZH] * len(cases))
    for result in english + in_chinese:
        assert result.returncode == 2 and result.stdout == "", result
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert result.stderr.startswith("nnplay") and "--lang" in result.stderr
        assert "en, zh" in result.stderr
    assert "'fr': must be one of en, zh" in english[0].stderr
    assert "'fr'：必须是 en, zh 之一" in in_chinese[0].stderr


def test_errors_keep_the_field_the_value_and_what_is_allowed_in_chinese():
    cases = {
        ("train", "first-gt-fifth", "--set", "training.lr=500"): ("training.lr", "500", "100"),
        ("train", "first-gt-fifth", "--epochs", "0"): ("training.epochs", "0", "1"),
        ("train", "first-gt-fifth", "--set", "training.loss=nll"): ("training.loss", "NLL", "bce"),
        ("train", "no-such-preset"): ("no-such-preset", "first-gt-fifth"),
        ("train", "first-gt-fifth", "--epochs", "many"): ("--epochs", "'many'", "int"),
        ("train",): ("PRESET_OR_PATH",),
        ("trian", "x"): ("'x'",),
        ("predict", "missing.npz", "--input", "1"): ("missing.npz", "没有这个文件"),
        ("backprop", "--steps", "0"): ("--steps", "0", "1..10000"),
        ("optpaths", "--function", "moon"): ("--function", "'moon'", "bowl"),
        ("serve", "--port", "0"): ("--port", "0", "1..65535"),
    }
    results = run_many(list(cases), envs=[{"NNPLAY_LANG": "zh"}] * len(cases))
    for (argv, named), result in zip(cases.items(), results, strict=True):
        err = result.stderr
        assert result.returncode == 2 and err.count("\n") == 1, (argv, err)
        assert chinese(err) and "Traceback" not in err, (argv, err)
        assert all(word in err for word in named), (argv, err)


def test_the_summary_in_chinese_and_the_json_the_same_in_both_languages():
    runs = [
        ("train", "first-gt-fifth", *SMALL, "--epochs", "2"),
        ("train", "first-gt-fifth", *SMALL, "--epochs", "2", "--json"),
        ("presets", "--json"),
        ("backprop", "--steps", "2", "--json"),
    ]
    in_chinese = run_many(runs, envs=[ZH] * len(runs))
    english = run_many(runs[1:])
    for result in in_chinese + english:
        assert result.returncode == 0, result.stderr
    summary = in_chinese[0].stdout
    assert summary.startswith("first-gt-fifth：已完成，共 2 轮、20 步"), summary
    assert "\n  损失      训练集 " in summary and "\n  准确率    训练集 " in summary
    assert "\n  目标      " in summary and ("：已达成" in summary or "：未达成" in summary)
    for zh, en in zip(in_chinese[1:], english, strict=True):
        zh_data, en_data = json.loads(zh.stdout), json.loads(en.stdout)
        for data in (zh_data, en_data):  # timings differ from run to run
            data.pop("seconds", None), data.pop("steps_per_second", None)
        assert zh_data == en_data and not chinese(zh.stdout)


def test_diverged_advice_in_chinese():
    result = run_many(
        [
            (
                *("train", "first-gt-fifth", "--set", "task.name=quadratic"),
                *("--set", "task.samples=100", "--set", "goal.metric=val_loss"),
                *("--set", "training.optimizer=sgd", "--set", "training.lr=100"),
                *("--set", "training.batch_size=10", "--set", "model.hidden=[32,32]"),
            )
        ],
        envs=[{"NNPLAY_LANG": "zh"}],
    )[0]
    assert result.returncode == 3, result.stderr
    assert result.stdout.startswith("first-gt-fifth：已发散，共 0 轮")
    note = next(line for line in result.stdout.splitlines() if line.startswith("  说明"))
    assert "降低学习率" in note and "初始权重" in note, note


def test_tables_stay_aligned_with_wide_characters():
    listing, lab, data = run_many(
        [("presets",), ("optpaths", "--steps", "50"), ("presets", "--json")], envs=[ZH, ZH, {}]
    )
    header, *rows = listing.stdout.splitlines()
    presets = json.loads(data.stdout)["presets"]
    assert len(rows) == len(presets)
    title_column = i18n.cells(header[: header.index("标题")])
    task_column = i18n.cells(header[: header.index("任务")])
    chinese = {name: exp.meta.zh.title or exp.meta.title for name, exp in all_presets()}
    for row, preset in zip(rows, presets, strict=True):
        title = chinese[preset["name"]]  # the listing shows each exercise's Chinese title
        title_at = row.index(title, len(preset["name"]))
        task_at = row.index(preset["task"], title_at + len(title))
        assert i18n.cells(row[:title_at]) == title_column, row
        assert i18n.cells(row[:task_at]) == task_column, row
    lines = lab.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("优化器"))
    table = lines[start : lines.index("", start)]  # the verdicts follow a blank line
    assert len(table) == 6
    assert "收敛步数" in table[0]
    status = i18n.cells(table[0][: table[0].index("状态")])
    for line in table[1:]:
        word = line.split()[-1]
        assert i18n.cells(line[: line.rindex(word)]) == status, table


def test_served_tabs_get_the_language(monkeypatch):
    try:
        i18n.set_language("zh")
        argv = serve.app_command("circle")
    finally:
        i18n.set_language("en")
    assert argv[-3:] == ["--lang", "zh", "circle"]


def test_the_progress_line_in_chinese(capsys):
    from types import SimpleNamespace

    from nnplay.cli import Progress
    from nnplay.history import History

    history = History(train_loss=[0.5, 0.25], val_accuracy=[0.5, 0.75])
    trainer = SimpleNamespace(
        epoch=2, exp=SimpleNamespace(training=SimpleNamespace(epochs=4)), history=history
    )
    try:
        i18n.set_language("zh")
        Progress(trainer, width=4).update(trainer)
    finally:
        i18n.set_language("en")
    assert capsys.readouterr().err == "\r[##..] 第 2/4 轮 损失 0.2500 验证集准确率 0.750 "


def test_a_bad_predict_input_in_chinese_names_the_option_the_value_and_an_example():
    import pytest

    from nnplay.cli import parse_input
    from nnplay.errors import ExperimentError

    try:
        i18n.set_language("zh")
        with pytest.raises(ExperimentError) as refused:
            parse_input("1,x")
    finally:
        i18n.set_language("en")
    assert str(refused.value) == "--input '1,x'：应为逗号分隔的数，例如 0.1,0.5,0.2"
