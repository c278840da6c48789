"""Your own data, a CSV file: what the reader takes, what it refuses (one line naming the row and
column, exit 2), the three ways in, the recorded hash, and predictions without the file."""

import json
import os
import re
import shutil
import string

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from nnplay import csv_data
from nnplay.errors import ExperimentError
from nnplay.experiment import csv_experiment, dumps, load_file, loads, with_overrides
from nnplay.export import FORMATS
from nnplay.presets import load_experiment, load_preset, presets_dir
from nnplay.tasks import make_datasets, raw_datasets, task_shape
from nnplay.training import Trainer
from tests.command_line import run_in_process
from tests.hostile import HOSTILE_SETTINGS, assert_json, assert_refused, measured

IRIS = presets_dir() / "data" / "iris.csv"


def write(tmp_path, text: str | bytes, name: str = "data.csv"):
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def table(tmp_path, text, target="y"):
    return csv_data.read_table(write(tmp_path, text), target)


# ---------------------------------------------------------------------------------------------
# What the reader takes


def test_a_windows_file_bom_crlf_quotes_and_blank_lines_at_the_end(tmp_path):
    text = (
        '\ufeffname,"x, in cm",y\r\n"Smith, J.",1.5,yes\r\n"Lee",2.5,no\r\n"Wu",3,yes\r\n\r\n\r\n'
    )
    t = table(tmp_path, text)
    assert t.columns == ["name", "x, in cm", "y"]
    assert t.rows == 3 and t.target_values == ["yes", "no", "yes"]
    assert list(t.numbers) == ["x, in cm"] and t.first_text == {"name": "Smith, J.", "y": "yes"}
    assert t.numbers["x, in cm"].tolist() == [1.5, 2.5, 3.0]
    schema = csv_data.describe(t, "raw", "auto", 0.2, 0)
    assert schema["columns"] == ["x, in cm"]  # the text column is not an input
    assert schema["classes"] == ["no", "yes"] and schema["kind"] == "classification"


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_the_separator_is_sniffed(tmp_path, separator):
    rows = ["a", "b", "y"], ["1", "2", "0"], ["3", "4,5" if separator != "," else "4", "1"]
    text = "\n".join(separator.join(r) for r in rows) + "\n"
    if separator != ",":  # a decimal comma in a semicolon or tab file is not a number
        with pytest.raises(ExperimentError, match="row 3, column 2 \\('b'\\): '4,5' is not"):
            table(tmp_path, text)
        text = text.replace("4,5", "4")
    t = table(tmp_path, text)
    assert t.columns == ["a", "b", "y"] and t.numbers["b"].tolist() == [2.0, 4.0]


def test_text_classes_get_sorted_indices_whatever_the_order_of_the_rows(tmp_path):
    rows = [f"{i},{name}" for i, name in enumerate(["versicolor", "setosa", "virginica"] * 4)]
    first = table(tmp_path, "x,species\n" + "\n".join(rows) + "\n", "species")
    reordered = table(tmp_path, "x,species\n" + "\n".join(rows[::-1]) + "\n", "species")
    for t in (first, reordered):
        schema = csv_data.describe(t, "raw", "auto", 0.25, 0)
        assert schema["classes"] == ["setosa", "versicolor", "virginica"]
    x, y, xv, yv, _xt, _yt = csv_data.arrays(first, _Schema(first), 0.25, 0)
    names = np.array(first.target_values)
    rows_of = {v: k for k, v in enumerate(first.numbers["x"])}
    for inputs, labels in ((x, y), (xv, yv)):
        for value, label in zip(inputs[:, 0], labels, strict=True):
            expected = ["setosa", "versicolor", "virginica"].index(names[rows_of[value]])
            assert label == expected


def _Schema(t, features="raw", kind="auto", val_fraction=0.25, seed=0):
    from nnplay.experiment import DataSchema

    return DataSchema(**csv_data.describe(t, features, kind, val_fraction, seed))


def test_whole_number_classes_sort_by_value_and_keep_their_names(tmp_path):
    text = "x,grade\n" + "".join(f"{i},{g}\n" for i, g in enumerate([10, 2, 1, 2, 10, 1]))
    t = table(tmp_path, text, "grade")
    schema = csv_data.describe(t, "raw", "auto", 0.2, 0)
    assert schema["kind"] == "classification" and schema["classes"] == ["1", "2", "10"]
    forced = csv_data.describe(t, "raw", "regression", 0.2, 0)
    assert forced["kind"] == "regression" and forced["classes"] == []


def test_a_number_target_with_many_values_is_a_regression(tmp_path):
    text = "x,price\n" + "".join(f"{i},{i * 1.5 + 0.25}\n" for i in range(30))
    t = table(tmp_path, text, "price")
    assert csv_data.describe(t, "raw", "auto", 0.2, 0)["kind"] == "regression"
    with pytest.raises(ExperimentError, match="row 2, column 2 \\('price'\\): 0.25 is not a class"):
        csv_data.describe(t, "raw", "classification", 0.2, 0)


def test_a_text_target_cannot_be_forced_to_regression(tmp_path):
    t = table(tmp_path, "x,y\n1,a\n2,b\n")
    with pytest.raises(ExperimentError, match="^task.kind: regression needs a number target"):
        csv_data.describe(t, "raw", "regression", 0.2, 0)


def test_features_name_columns_and_are_read_in_the_files_order(tmp_path):
    t = table(tmp_path, "c,y,a,b,note\n1,0,2,3,x\n4,1,5,6,y\n7,0,8,9,z\n", "y")
    assert csv_data.describe(t, "raw", "auto", 0.2, 0)["columns"] == ["c", "a", "b"]
    assert csv_data.describe(t, ["b", "c"], "auto", 0.2, 0)["columns"] == ["c", "b"]
    for features, words in [
        (["nope"], "task.features: 'nope' is not a column"),
        (["y"], "task.features: 'y' is the target"),
        (["note"], "task.features: 'note' is a text column ('x' in row 2)"),
    ]:
        with pytest.raises(ExperimentError, match="^" + re.escape(words)):
            csv_data.describe(t, features, "auto", 0.2, 0)


def test_inputs_are_standardized_with_the_training_rows_and_the_split_is_seeded(tmp_path):
    rng = np.random.default_rng(5)
    values = rng.normal(10, 3, (50, 2))
    text = "a,b,y\n" + "".join(f"{a:.17g},{b:.17g},{i % 2}\n" for i, (a, b) in enumerate(values))
    exp = csv_experiment(write(tmp_path, text), "y")
    x, y, xv, yv = make_datasets(exp.task)
    assert len(xv) == 10 and len(x) == 40  # task.val_fraction 0.2
    raw, _y, raw_val, _yv = raw_datasets(exp.task)
    assert np.allclose(raw.mean(axis=0), exp.task.schema.mean, atol=1e-12)
    assert np.allclose(raw.std(axis=0), exp.task.schema.std, atol=1e-12)
    assert np.allclose(x.mean(axis=0), 0, atol=1e-6) and np.allclose(x.std(axis=0), 1, atol=1e-5)
    assert np.array_equal(
        xv, ((raw_val - exp.task.schema.mean) / exp.task.schema.std).astype(np.float32)
    )
    again = make_datasets(exp.task)
    assert all(np.array_equal(a, b) for a, b in zip((x, y, xv, yv), again, strict=True))
    other = with_overrides(exp, {"task.seed": 1})
    assert not np.array_equal(make_datasets(other.task)[2], xv)
    assert other.task.schema.mean != exp.task.schema.mean  # another split, its own statistics
    half = with_overrides(exp, {"task.val_fraction": 0.5})
    assert len(make_datasets(half.task)[2]) == 25


def test_a_constant_column_is_kept_as_it_is(tmp_path):
    exp = csv_experiment(write(tmp_path, "a,b,y\n1,7,0\n2,7,1\n3,7,0\n4,7,1\n5,7,0\n"), "y")
    assert exp.task.schema.std[1] == 1.0
    assert np.isfinite(make_datasets(exp.task)[0]).all()


def test_a_csv_experiment_round_trips_through_its_toml(tmp_path):
    exp = csv_experiment(IRIS, "species")
    assert loads(dumps(exp)) == exp
    text = dumps(exp)
    assert "[task.schema]" in text and "samples" not in text  # a synthetic task's fields left out
    assert 'name = "first_gt_fifth"' not in text


def test_the_iris_file_is_fishers_data():
    t = csv_data.read_table(IRIS, "species")
    assert t.rows == 150
    assert {name: t.target_values.count(name) for name in set(t.target_values)} == {
        "setosa": 50,
        "versicolor": 50,
        "virginica": 50,
    }
    means = [t.numbers[c].mean() for c in t.columns[:4]]
    assert np.allclose(means, [5.843333, 3.057333, 3.758, 1.199333], atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Hostile files: one line naming the row and column, exit 2


def refused(tmp_path, capsys, text, *words, target="y"):
    path = write(tmp_path, text) if isinstance(text, (str, bytes)) else text
    code, out, err = run_in_process(capsys, "train", path, "--target", target, "--json")
    assert_refused(code, err, *words)
    assert out == ""
    return err


HOSTILE = {
    "ragged row": ("a,b,y\n1,2,0\n3,4,1\n5,6\n", ["row 4", "2 values; the header has 3 columns"]),
    "text in a number column": (
        "a,b,y\n1,2,0\n3,4,1\n5,oops,0\n",
        ["row 4, column 2 ('b')", "'oops' is not a number"],
    ),
    "NaN": ("a,b,y\n1,2,0\n3,nan,1\n", ["row 3, column 2 ('b')", "nan is not allowed", "finite"]),
    "inf": ("a,b,y\n1,2,0\n-inf,4,1\n", ["row 3, column 1 ('a')", "-inf is not allowed"]),
    "too large a number": ("a,y\n1,0\n1e39,1\n", ["row 3, column 1 ('a')", "1e+39"]),
    "an empty value": ("a,b,y\n1,2,0\n3,,1\n", ["row 3, column 2 ('b')", "'' is not a number"]),
    "text first in a number column": (
        "a,b,y\n1,n/a,0\n3,4,1\n5,6,0\n",
        ["row 2, column 2 ('b')", "'n/a' is not a number, as most of the column's values are"],
    ),
    "empty file": ("", ["empty; a CSV task needs a header row"]),
    "blank lines only": ("\n\n\r\n", ["empty"]),
    "header only": ("a,b,y\n", ["no data rows, only a header"]),
    "unknown target": ("a,b,c\n1,2,3\n", ["task.target: 'y' is not a column", "a, b, c"]),
    "one class": ("a,y\n1,yes\n2,yes\n3,yes\n", ["every row of 'y' holds 'yes'"]),
    "too many classes": (
        "a,y\n" + "".join(f"{i},c{i}\n" for i in range(11)),
        ["task.target: 'y' has 11 classes; at most 10"],
    ),
    "duplicate names": ("a,b,a,y\n1,2,3,0\n", ["row 1, column 3 ('a')", "column 1's too"]),
    "an empty name": ("a,,y\n1,2,0\n", ["row 1, column 2 ('')", "an empty column name"]),
    "one column": ("y\n1\n2\n", ["one column"]),
    "no input column": ("name,y\nx,0\nz,1\n", ["no number column besides the target 'y'"]),
    "a NUL byte": (b"a,y\n1,0\n2\x00,1\n", ["line 3", "NUL byte", "binary"]),
    "binary junk": (bytes(range(256)) * 4, ["NUL byte"]),
    "bad UTF-8": (b"a,y\n1,0\n2,\xff\xfe\n", ["line 3", "not UTF-8 text (byte 0xff)"]),
    "a long value": ("a,y\n1,0\n2," + "z" * 1001 + "\n", ["row 3, column 2 ('y')", "1000"]),
    "a huge line": ("a,y\n1,0\n2," + "9" * 70_000 + "\n", ["line 3", "longer than 65536"]),
    "a huge quoted field": (
        'a,y\n1,0\n2,"' + "9\n" * 70_000 + '"\n',
        ["not CSV as nnplay reads it", "field larger"],
    ),
    "a control character in a class": ("a,y\n1,ok\n2,\x1b[2J\n", ["row 3, column 2 ('y')"]),
    "too many columns": (
        ",".join(f"c{i}" for i in range(257)) + "\n",
        ["257 columns; at most 256"],
    ),
    "too many rows": ("a,y\n" + "1,0\n2,1\n" * 100_001, ["more than 200000 data rows"]),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_csv_is_refused_in_one_line(tmp_path, capsys, name):
    text, words = HOSTILE[name]
    refused(tmp_path, capsys, text, *words)


def test_a_file_too_large_is_refused_before_it_is_read(tmp_path, capsys):
    path = tmp_path / "big.csv"
    with open(path, "wb") as f:
        f.truncate(csv_data.MAX_CSV_BYTES + 1)  # sparse: nothing written
    refused(tmp_path, capsys, path, "too large for a CSV task (more than 10240 kB)")


def test_a_folder_or_a_device_is_not_a_csv_file(tmp_path, capsys):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    refused(tmp_path, capsys, folder, "it is a folder, not a file")
    refused(tmp_path, capsys, tmp_path / "nothing.csv", "no such file")
    device = tmp_path / "zero.csv"
    os.symlink("/dev/zero", device)
    refused(tmp_path, capsys, device, "it is a device, not a file")


def test_a_csv_without_target_and_a_target_without_csv_are_refused(tmp_path, capsys):
    path = write(tmp_path, "a,y\n1,0\n2,1\n")
    code, _out, err = run_in_process(capsys, "train", path)
    assert_refused(code, err, "a CSV file needs --target COLUMN")
    code, _out, err = run_in_process(capsys, "train", "xor", "--target", "y")
    assert_refused(code, err, "--target 'y'", "is not one")


CORRUPTIONS = {
    "ragged": lambda v: v + ",1",
    "text": lambda v: "abc",
    "nan": lambda v: "NaN",
    "inf": lambda v: "Infinity",
    "empty": lambda v: "",
    "long": lambda v: "1" * (csv_data.MAX_FIELD + 1),
}


@HOSTILE_SETTINGS
@given(
    rows=st.integers(2, 40),
    columns=st.integers(2, 6),
    separator=st.sampled_from(csv_data.SEPARATORS),
    seed=st.integers(0, 2**31 - 1),
    corruption=st.sampled_from(list(CORRUPTIONS)),
    data=st.data(),
)
def test_a_generated_file_with_one_bad_value_is_refused_naming_its_place(
    tmp_path, capsys, rows, columns, separator, seed, corruption, data
):
    rng = np.random.default_rng(seed)
    names = [f"x{i}" for i in range(columns - 1)] + ["y"]
    cells = [[f"{v:.3f}" for v in rng.normal(size=columns - 1)] + [str(i % 2)] for i in range(rows)]
    row = data.draw(st.integers(0, rows - 1))
    column = data.draw(st.integers(0, columns - 2))  # an input column
    cells[row][column] = CORRUPTIONS[corruption](cells[row][column])
    end = data.draw(st.sampled_from(["\n", "\r\n"]))
    text = end.join(separator.join(r) for r in [names, *cells]) + end
    if corruption == "ragged":
        words = [f"row {row + 2}: {columns + 1} values"]
    elif corruption in ("text", "empty") and row == 0:  # the first value: a text column
        words = [f"row 2, column {column + 1} ('x{column}')", "as most of the column's values"]
    else:
        words = [f"row {row + 2}, column {column + 1} ('x{column}')"]
    if corruption == "ragged" and separator != ",":  # ",1" is text in a ; or tab file
        words = [f"row {row + 2}, column {column + 1}"]
    refused(tmp_path, capsys, text, *words)


@HOSTILE_SETTINGS
@given(junk=st.binary(max_size=2000) | st.text(alphabet=string.printable + "é\x00", max_size=500))
def test_any_bytes_are_read_or_refused_in_one_line(tmp_path, junk):
    path = write(tmp_path, junk if isinstance(junk, bytes) else junk.encode())
    try:
        exp = csv_experiment(path, "a")
    except ExperimentError as e:
        assert "\n" not in str(e) and str(e).isprintable()
    else:
        assert task_shape(exp.task).raw_inputs >= 1 and exp.task.schema.rows >= 1


def test_the_worst_refusals_need_little_memory(tmp_path):
    """A file of the largest size with its problem on the last row, and other large ones."""
    last = tmp_path / "nan-last.csv"
    row = ",".join(["1.2345678901"] * 9) + ",0\n"
    rows = min(csv_data.MAX_ROWS - 1, (csv_data.MAX_CSV_BYTES - 200) // len(row))
    last.write_text("a,b,c,d,e,f,g,h,i,y\n" + row * rows + "nan" + row[12:])
    commas = write(tmp_path, "a,y\n" + "," * (csv_data.MAX_CSV_BYTES - 10), "commas.csv")
    quoted = write(tmp_path, 'a,y\n1,"' + "x\n" * (csv_data.MAX_CSV_BYTES // 3), "quoted.csv")
    runs = [["train", p, "--target", "y"] for p in (last, commas, quoted)]
    result, codes, peak = measured(tmp_path, runs)
    assert codes == [2, 2, 2], result.stderr
    assert result.stderr.count("\n") == 3 and "Traceback" not in result.stderr
    assert f"row {rows + 2}, column 1 ('a')" in result.stderr
    print(f"peak memory refusing the worst CSV files: {peak / 2**20:.0f} MB")
    assert peak < 300 * 10**6


# ---------------------------------------------------------------------------------------------
# The three ways in, the recorded hash


def test_train_a_csv_file_from_the_command_line(tmp_path, capsys):
    path = shutil.copy(IRIS, tmp_path / "iris.csv")
    code, out, err = run_in_process(capsys, "train", path, "--target", "species", "--json")
    assert code == 0, err
    summary = assert_json(out)
    assert summary["epochs"] == 100 and summary["val_accuracy"] >= 0.9


def test_an_experiment_file_names_its_csv_relative_to_itself(tmp_path, capsys, monkeypatch):
    (tmp_path / "data").mkdir()
    shutil.copy(IRIS, tmp_path / "data" / "flowers.csv")
    toml = tmp_path / "exp.toml"
    toml.write_text(
        '[task]\ndata = "data/flowers.csv"\ntarget = "species"\n'
        'features = ["petal_width", "petal_length"]\n'
        '[model]\nhidden = [8]\n[training]\nloss = "cross_entropy"\nlr = 0.03\nepochs = 30\n'
    )
    monkeypatch.chdir(tmp_path.parent)  # the file's folder, not the working one
    exp = load_experiment(str(toml))
    assert exp.task.data == str(tmp_path / "data" / "flowers.csv")
    assert exp.task.schema.columns == ["petal_length", "petal_width"]
    assert exp.task.schema.classes == ["setosa", "versicolor", "virginica"]
    code, out, err = run_in_process(capsys, "train", toml, "--json")
    assert code == 0, err
    assert assert_json(out)["val_accuracy"] >= 0.9


def test_the_app_takes_a_csv_file_and_its_target(capsys):
    # without a terminal the app stops after reading its arguments: they were understood
    code, _out, err = run_in_process(capsys, IRIS, "--target", "species")
    assert_refused(code, err, "the app needs a terminal")
    code, _out, err = run_in_process(capsys, IRIS, "--target", "species", "--colour")
    assert_refused(code, err, "unexpected '--colour'")


def test_a_changed_file_is_refused_unless_accepted(tmp_path, capsys):
    data = shutil.copy(IRIS, tmp_path / "iris.csv")
    code, _out, err = run_in_process(
        capsys, "train", data, "--target", "species", "--epochs", "2", "--export", tmp_path / "w.pt"
    )
    assert code == 0, err
    saved = tmp_path / "w.toml"  # the experiment beside the weights, its schema recorded
    assert load_file(saved).task.schema.sha256 == csv_data.read_table(data, "species").sha256
    code, out, err = run_in_process(capsys, "train", saved, "--json")
    assert code == 0, err  # the same file
    lines = data.read_text().splitlines(keepends=True)
    with open(data, "w") as f:
        f.writelines(lines[:-1])  # one flower less
    code, out, err = run_in_process(capsys, "train", saved, "--json")
    assert_refused(code, err, "task.data:", "changed since the experiment read it")
    assert "--accept-data-change" in err
    code, out, err = run_in_process(capsys, "train", saved, "--accept-data-change", "--json")
    assert code == 0, err
    # a run that was checked, then the file changed under it: refused when its data is read
    exp = load_experiment(str(saved), accept_data_change=True)
    with open(data, "a") as f:
        f.write("5.0,3.3,1.4,0.2,setosa\n")
    with pytest.raises(ExperimentError, match="changed since the experiment read it"):
        Trainer(exp)


# ---------------------------------------------------------------------------------------------
# Predictions without the file, from every export format


def test_every_export_predicts_without_the_csv_in_its_column_order(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(90):
        kind = ["small", "large", "medium"][i % 3]
        size = {"small": 1.0, "medium": 5.0, "large": 9.0}[kind] + rng.normal(0, 0.3)
        rows.append(f"{100 + size * 10:.3f},{kind},{rng.normal(0, 1):.3f}")
    data = write(tmp_path, "weight,kind,noise\n" + "\n".join(rows) + "\n")
    exports = [tmp_path / f"w{suffix}" for suffix in FORMATS]
    args = ["train", data, "--target", "kind", "--set", "training.epochs=60"]
    code, out, err = run_in_process(capsys, *args, *[f"--export={p}" for p in exports])
    assert code == 0, err
    data.unlink()
    exp = load_file(tmp_path / "w.toml")
    assert exp.task.schema.columns == ["weight", "noise"]
    assert exp.task.schema.classes == ["large", "medium", "small"]
    samples = [[110.0, 0.0], [190.0, 0.0], [150.0, 1.0]]
    # what the network computes of the standardized inputs, from the .pt's weights
    from nnplay.model import build_model

    model = build_model(exp)
    model.load_state_dict(torch.load(exports[0], weights_only=True))
    x = (np.array(samples) - exp.task.schema.mean) / exp.task.schema.std
    expected = torch.softmax(model(torch.tensor(x, dtype=torch.float32)), dim=1).detach().numpy()
    for path in exports:
        inputs = [f"--input={a},{b}" for a, b in samples]
        code, out, err = run_in_process(capsys, "predict", path, *inputs, "--json")
        assert code == 0, (path, err)
        predictions = json.loads(out)["predictions"]
        assert [p["name"] for p in predictions] == ["small", "large", "medium"], path
        assert np.allclose([p["probabilities"] for p in predictions], expected, atol=1e-5)
        code, out, err = run_in_process(capsys, "predict", path, "--input", "110,0")
        assert out.startswith("[110, 0] -> class 'small'"), out


def test_a_regression_export_predicts_numbers_without_the_csv(tmp_path, capsys):
    data = shutil.copy(presets_dir() / "data" / "forbes.csv", tmp_path / "forbes.csv")
    code, _out, err = run_in_process(
        capsys,
        "train",
        data,
        "--target",
        "pressure_inhg",
        "--set",
        "model.hidden=[]",
        "--set",
        "training.lr=0.3",
        "--set",
        "training.epochs=300",
        "--export",
        tmp_path / "w.onnx",
    )
    assert code == 0, err
    os.unlink(data)
    code, out, err = run_in_process(capsys, "predict", tmp_path / "w.onnx", "--input", "200")
    assert code == 0, err
    # Forbes' least-squares line: pressure = 0.5229 bp - 81.06, 23.52 at 200 °F
    assert abs(float(out.split("->")[1]) - 23.52) < 0.2


# ---------------------------------------------------------------------------------------------
# The exercises


def test_the_iris_exercise_misses_its_goal_as_shipped_and_meets_it_with_its_solution():
    from nnplay.experiment import with_solution

    exp = load_preset("iris")
    assert exp.task.schema.rows == 150 and exp.task.schema.columns == [
        "sepal_length",
        "sepal_width",
    ]
    shipped = Trainer(exp)
    shipped.run()
    assert not shipped.goal().met
    solved = Trainer(with_solution(exp))
    solved.run()
    assert solved.goal().met and solved.history.val_accuracy[-1] >= 0.93
