"""Lesson packs and locks outside the app (issue 22 §3): what a pack folder may hold and how a
hostile one is refused, each bad exercise an entry with its one-line reason; [lock] checked
like every field; --set (and --epochs, --seed, --vary) on a locked field refused in one line."""

import os

import pytest

from nnplay import cli
from nnplay.errors import ExperimentError
from nnplay.experiment import dumps, loads
from nnplay.locks import is_locked
from nnplay.packs import MAX_EXERCISES, MAX_FOLDER_NAMES, pack_experiments, pack_folder, read_pack
from nnplay.presets import presets_dir
from tests.command_line import run_in_process
from tests.hostile import assert_refused

BASICS = presets_dir() / "packs" / "basics"
CAPACITY = BASICS / "circle-capacity.toml"
QUICK = '[task]\nname = "first_gt_fifth"\nsamples = 200\n[training]\nepochs = 1\n'


def problems(folder) -> dict[str, str]:
    return {e.name: e.problem for e in read_pack(folder).entries}


def refused(folder, *words: str) -> None:
    with pytest.raises(ExperimentError) as caught:
        read_pack(folder)
    message = str(caught.value)
    assert "\n" not in message and all(c.isprintable() for c in message), message
    for word in words:
        assert word in message, message


# -- the example pack ---------------------------------------------------------------------------


def test_the_example_pack_lists_its_exercises_in_order_and_every_one_opens():
    pack = read_pack(BASICS)
    assert pack.title == "Basics: from one neuron to a closed boundary"
    assert [e.name for e in pack.entries] == [
        "first-gt-fifth",
        "xor",
        "circle",
        "circle-capacity.toml",
    ]
    assert all(e.problem == "" for e in pack.entries)
    assert len(pack_experiments(BASICS)) == 4
    assert pack_folder("basics") == BASICS  # the shipped pack by its name
    assert pack_folder("circle") is None  # a preset is no pack


def test_a_folder_named_like_a_file_is_no_pack(tmp_path):
    for name in ("d.toml", "d.csv", "d.nnrun", "d.pt"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.toml").write_text(QUICK)
        assert pack_folder(str(tmp_path / name)) is None
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.toml").write_text(QUICK)
    assert pack_folder(str(tmp_path / "d")) == tmp_path / "d"


def test_the_example_pack_s_title_speaks_chinese():
    from tests.tui.conftest import speaking

    with speaking("zh"):
        assert read_pack(BASICS).title == "基础：从一个神经元到一条封闭的边界"


def test_the_pack_s_own_exercise_speaks_chinese_too():
    from nnplay.experiment import load_file

    meta = load_file(CAPACITY).meta
    assert meta.zh.title and meta.zh.description and len(meta.zh.hints) == len(meta.hints) == 2


def test_the_locked_exercise_is_met_by_its_solution_and_not_as_shipped(capsys):
    code, out, err = run_in_process(capsys, "train", CAPACITY, "--json")
    assert code == 0, err
    assert '"met": false' in out.splitlines()[-1]
    code, out, err = run_in_process(capsys, "train", CAPACITY, "--solution", "--json")
    assert code == 0, err
    assert '"met": true' in out.splitlines()[-1]  # model.hidden = [8]: val accuracy 0.97


def test_nnplay_pack_opens_the_app_on_its_first_exercise_with_the_pack(capsys, monkeypatch):
    import nnplay.tui.app

    opened = []
    monkeypatch.setattr(cli, "is_web_tab", lambda: True)  # past the check for a terminal
    monkeypatch.setattr(cli, "end_with_the_server", lambda: None)
    monkeypatch.setattr(nnplay.tui.app, "run_app", lambda *args: opened.append(args) or 0)
    code, out, err = run_in_process(capsys, "basics")
    assert code == 0, err
    exp, source, run, pack = opened[0]
    assert source == "first-gt-fifth" and exp.meta.title.startswith("Is the first number bigger")
    assert run is None and pack.folder == BASICS


def test_nnplay_on_a_pack_where_nothing_opens_is_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "is_web_tab", lambda: True)
    (tmp_path / "a.toml").write_text("[training]\nlr = 0\n")
    code, out, err = run_in_process(capsys, tmp_path)
    assert_refused(code, err, "no exercise of the pack can be opened", "training.lr: 0")


def test_serve_refuses_a_pack_where_nothing_opens_in_one_line(capsys, tmp_path):
    (tmp_path / "pack.toml").write_text('exercises = ["nothing-such"]\n')
    code, out, err = run_in_process(capsys, "serve", tmp_path, "--port", "1")
    assert_refused(code, err, "no exercise of the pack can be opened", "nor a built-in preset")


# -- the folder and its files are hostile -------------------------------------------------------


def test_without_pack_toml_the_toml_files_in_name_order_make_the_pack(tmp_path):
    for name in ("02-b.toml", "01-a.toml", "notes.txt", ".hidden.toml", "10-c.toml"):
        (tmp_path / name).write_text(QUICK)
    pack = read_pack(tmp_path)
    assert [e.name for e in pack.entries] == ["01-a.toml", "02-b.toml", "10-c.toml"]
    assert pack.title == tmp_path.name


def test_names_that_leave_the_folder_are_broken_entries(tmp_path):
    outside = tmp_path / "outside.toml"
    outside.write_text(QUICK)
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "ok.toml").write_text(QUICK)
    (pack / "link-out.toml").symlink_to(outside)
    (pack / "link-in.toml").symlink_to(pack / "ok.toml")
    listed = ["ok.toml", "../outside.toml", "/etc/passwd.toml", "sub/x.toml", ".hidden.toml"]
    listed += ["link-out.toml", "link-in.toml", "pack.toml", "nosuch.toml"]
    (pack / "pack.toml").write_text("exercises = [" + ", ".join(f'"{n}"' for n in listed) + "]")
    found = problems(pack)
    assert found["ok.toml"] == found["link-in.toml"] == ""
    for name in ("../outside.toml", "/etc/passwd.toml", "sub/x.toml", ".hidden.toml", "pack.toml"):
        assert found[name] == f"{name!r} is not a plain file name in the pack's folder"
    assert "leads out of the pack's folder" in found["link-out.toml"]
    assert found["nosuch.toml"].endswith("nosuch.toml: no such file")


def test_a_name_with_terminal_escapes_is_shown_escaped_and_not_opened(tmp_path):
    (tmp_path / "\x1b[2J.toml").write_text(QUICK)
    assert problems(tmp_path) == {
        "\x1b[2J.toml": "'\\x1b[2J.toml' is not a plain file name in the pack's folder"
    }
    (tmp_path / "pack.toml").write_text('exercises = ["\\u001b[2J.toml"]\n')
    refused(tmp_path, "exercises: must be a list of at most 50 text lines")


def test_a_file_that_is_no_exercise_is_a_broken_entry_with_why(tmp_path):
    (tmp_path / "big.toml").write_text("# " + "x" * 300_000)
    (tmp_path / "bad.toml").write_text("[training\n")
    (tmp_path / "wrong.toml").write_text("[training]\nlr = -1\n")
    (tmp_path / "folder.toml").mkdir()
    os.mkfifo(tmp_path / "pipe.toml")  # reading it would wait forever
    (tmp_path / "data.toml").write_text('[task]\ndata = "/etc/hostname"\ntarget = "y"\n')
    found = problems(tmp_path)
    assert "too large for an experiment (more than 256 kB)" in found["big.toml"]
    assert "not valid TOML" in found["bad.toml"]
    assert found["wrong.toml"] == "training.lr: -1 is not allowed; must be a number > 0 and <= 100"
    assert found["folder.toml"].endswith("it is a folder, not a file")
    assert found["pipe.toml"].endswith("it is a named pipe (FIFO), not a file")
    assert (
        "task.data" in found["data.toml"] and "leads out of the pack's folder" in found["data.toml"]
    )


def test_too_many_names_or_exercises_are_refused_before_reading_them(tmp_path):
    many = tmp_path / "many"
    many.mkdir()
    for i in range(MAX_FOLDER_NAMES + 1):
        (many / f"{i}.txt").touch()
    refused(many, f"more than {MAX_FOLDER_NAMES} names in the folder")
    exercises = tmp_path / "exercises"
    exercises.mkdir()
    for i in range(MAX_EXERCISES + 1):
        (exercises / f"{i:03}.toml").touch()
    refused(exercises, f"{MAX_EXERCISES + 1} exercise files; a pack holds at most {MAX_EXERCISES}")
    listing = tmp_path / "listing"
    listing.mkdir()
    names = ", ".join(f'"{i}.toml"' for i in range(MAX_EXERCISES + 1))
    (listing / "pack.toml").write_text(f"exercises = [{names}]\n")
    refused(listing, "exercises: must be a list of at most 50 text lines")


@pytest.mark.parametrize(
    "text, words",
    [
        ("x" * 20_000, ["too large for an experiment (more than 16 kB)"]),
        ("exercises = [", ["not valid TOML"]),
        ('exercises = ["xor"]\nlessons = 1\n', ["lessons: unknown field; allowed: title"]),
        ('exercises = "xor"\n', ["exercises: must be a list"]),
        ('exercises = ["xor", "xor"]\n', ["an exercise is listed twice"]),
        ('exercises = ["xor"]\ntitle = "\\u001b[2J"\n', ["title: must be text"]),
        ('exercises = ["xor"]\n[zh]\ntitle = 1\n', ["zh.title: must be text"]),
        ('exercises = ["xor"]\n[zh]\nhints = []\n', ["zh: must be a table holding only"]),
        ("exercises = []\n", ["a pack holds exercise files"]),
    ],
)
def test_a_bad_pack_toml_is_one_line(tmp_path, text, words):
    (tmp_path / "pack.toml").write_text(text)
    refused(tmp_path, *words)


def test_a_pack_toml_leading_out_of_the_folder_is_refused(tmp_path):
    (tmp_path / "elsewhere.toml").write_text('exercises = ["xor"]\n')
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "pack.toml").symlink_to(tmp_path / "elsewhere.toml")
    refused(pack, "leads out of the pack's folder")


def test_an_empty_folder_is_no_pack(tmp_path):
    refused(tmp_path, "a pack holds exercise files (.toml) or a pack.toml listing them")


# -- [lock] ---------------------------------------------------------------------------------------


def test_lock_names_are_checked_like_every_field():
    with pytest.raises(ExperimentError) as caught:
        loads('[lock]\nfields = ["training.lrr"]\n')
    message = str(caught.value)
    assert message.startswith(
        "lock.fields: ['training.lrr'] is not allowed; 'training.lrr' is not one of them; "
        "must be a list of names from: task.name, task.samples,"
    )
    assert "training.lr, training.momentum" in message  # the allowed names
    with pytest.raises(ExperimentError, match=r"lock.hide: .* names from: task, model, training$"):
        loads('[lock]\nhide = ["goal"]\n')
    with pytest.raises(ExperimentError, match="lock.fields: 'training.lr' is not allowed; must be"):
        loads('[lock]\nfields = "training.lr"\n')
    with pytest.raises(ExperimentError, match="lock.field: unknown field; allowed: fields, hide"):
        loads("[lock]\nfield = []\n")


def test_locks_survive_a_save_and_an_exercise_without_them_writes_none():
    exp = loads('[lock]\nfields = ["training.lr"]\nhide = ["task"]\n')
    assert loads(dumps(exp)).lock == exp.lock
    assert "[lock]" not in dumps(loads(""))


def test_what_a_lock_covers():
    exp = loads('[lock]\nfields = ["training.lr", "model.hidden"]\nhide = ["task"]\n')
    assert is_locked(exp, "training.lr") and not is_locked(exp, "training.l2")
    assert is_locked(exp, "model.hidden[0].units") and not is_locked(exp, "model.init")
    assert is_locked(exp, "task.noise")  # its section is hidden
    assert is_locked(exp, "lock.fields")  # the locks themselves
    assert not is_locked(loads(""), "lock.fields")


# -- the command line -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, words",
    [
        (["train", CAPACITY, "--set", "training.lr=0.1"], ["--set training.lr: locked by"]),
        (["train", CAPACITY, "--epochs", "5"], ["--epochs training.epochs: locked by"]),
        (["train", CAPACITY, "--set", "task.noise=0.1"], ["--set task.noise: the exercise hides"]),
        (["train", CAPACITY, "--set", "lock.fields=[]"], ["--set lock.fields: locked by"]),
        (["compare", CAPACITY, "--vary", "training.lr=0.1,0.3"], ["--vary training.lr: locked"]),
        (["explain", CAPACITY, "--set", "training.lr=0.1"], ["--set training.lr: locked by"]),
        (["lrfind", CAPACITY, "--set", "training.optimizer=sgd"], ["training.optimizer: locked"]),
    ],
)
def test_a_locked_field_on_the_command_line_is_one_line(capsys, args, words):
    code, out, err = run_in_process(capsys, *args)
    assert_refused(code, err, *words, "cannot be changed")
    assert out == ""


def test_an_open_field_of_a_locked_exercise_can_be_set(capsys):
    code, out, err = run_in_process(
        capsys, "train", CAPACITY, "--set", "model.hidden=[8]", "--seed", "0", "--json"
    )
    assert code == 0, err
    assert '"met": true' in out.splitlines()[-1]


def test_serve_opens_the_pack_in_every_tab_by_its_absolute_folder(capsys, monkeypatch, tmp_path):
    from nnplay import web_server

    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "a.toml").write_text(QUICK)
    started = []
    monkeypatch.setattr(web_server.PlaygroundServer, "serve", lambda self: started.append(self))
    monkeypatch.chdir(tmp_path)
    code, out, err = run_in_process(capsys, "serve", "pack", "--port", "8124")
    assert code == 0, err
    assert started[0].argv[-1] == str(pack)  # the tab's `nnplay FOLDER`, wherever it starts
