"""Hostile weights files of every format: wrong containers, shapes and dtypes, lying headers,
bombs, foreign graphs, NaN. Each is refused in one line (exit 2) before anything of the declared
size is allocated, or (NaN weights) answered in strict JSON."""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile

import numpy as np
import pytest
import torch

from nnplay.experiment import dumps, to_dict, with_overrides
from nnplay.export import METADATA_KEY, NPZ_KEY, PT_EXPERIMENT, export
from nnplay.presets import load_preset
from nnplay.training import Trainer
from tests.command_line import run_in_process
from tests.hostile import assert_json, assert_refused, measured

INPUT = ["--input", "0.1,0.2,0.3,0.4,0.5"]
HUGE = {
    "model.hidden": [4096] * 32,
    "task.name": "feature_sum",
    "task.dim": 5,
    "training.loss": "cross_entropy",
}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A small trained first-gt-fifth run, its experiment and state_dict."""
    exp = with_overrides(load_preset("first-gt-fifth"), {"task.samples": 60, "training.epochs": 1})
    trainer = Trainer(exp)
    trainer.run()
    folder = tmp_path_factory.mktemp("good")
    for suffix in (".pt", ".safetensors", ".onnx", ".npz"):
        export(trainer.model, exp, folder / f"w{suffix}")
    return exp, {k: v.clone() for k, v in trainer.model.state_dict().items()}, folder


def toml_text(exp, **overrides) -> str:
    return dumps(with_overrides(exp, overrides)) if overrides else dumps(exp)


HOSTILE_TOML = {
    "deep arrays": "[model]\nhidden = " + "[" * 5000 + "]" * 5000 + "\n",
    "deep tables": "[meta]\ntitle = " + "{a=" * 5000 + "1" + "}" * 5000 + "\n",
    "5000-digit int": "[task]\nsamples = " + "9" * 5000 + "\n",
    "400-digit int": "[training]\nlr = " + "9" * 400 + "\n",
    "escape key": '[task]\n"\\u001b[31mred\\nline" = 1\n',
    "not toml": "[[[",
}


# ---------------------------------------------------------------------------------------------
# .pt


def pt_file(folder, obj, sidecar: str, name="w.pt", embed: str | None = None):
    path = folder / name
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    if embed is not None:
        with zipfile.ZipFile(buffer, "a") as z:
            z.writestr(f"archive/{PT_EXPERIMENT}", embed)
    path.write_bytes(buffer.getvalue())
    path.with_suffix(".toml").write_text(sidecar)
    return path


def pt_cases(folder, exp, state):
    side = toml_text(exp)
    complex_state = {**state, "output.bias": state["output.bias"].to(torch.complex64)}
    yield "a list", pt_file(folder, [state["output.bias"]], side, "list.pt"), "not a table"
    yield "a bare tensor", pt_file(folder, state["output.bias"], side, "bare.pt"), "not a table"
    yield "None", pt_file(folder, None, side, "none.pt"), "NoneType"
    yield "int keys", pt_file(folder, {1: state["output.bias"]}, side, "intkey.pt"), "not a table"
    yield "complex", pt_file(folder, complex_state, side, "complex.pt"), "a complex64 tensor"
    yield (
        "wrong shape",
        pt_file(folder, {**state, "output.weight": torch.zeros(1, 3)}, side, "shape.pt"),
        "output.weight has shape (1, 3)",
    )
    yield (
        "a tensor larger than the network's largest",
        pt_file(folder, {**state, "output.weight": torch.zeros(1, 9)}, side, "large.pt"),
        "its experiment allows at most 20",
    )
    yield "extra tensor", pt_file(folder, {**state, "x": torch.zeros(1)}, side, "extra.pt"), "'x'"
    yield (
        "missing tensor",
        pt_file(folder, {"output.bias": state["output.bias"]}, side, "missing.pt"),
        "is missing",
    )
    yield "huge sidecar", pt_file(folder, state, toml_text(exp, **HUGE), "huge.pt"), ""
    yield "huge embedded", pt_file(folder, state, side, "emb.pt", embed=toml_text(exp, **HUGE)), ""
    for name, text in HOSTILE_TOML.items():
        yield f"sidecar {name}", pt_file(folder, state, text, f"side-{len(text)}.pt"), ""
        yield (
            f"embedded {name}",
            pt_file(folder, state, side, f"emb-{len(text)}.pt", embed=text),
            "",
        )
    plain = folder / "plain.pt"
    plain.write_bytes(pickle.dumps({k: v.tolist() for k, v in state.items()}))
    plain.with_suffix(".toml").write_text(side)
    yield "plain pickle", plain, "not an nnplay export"


class Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch EVIL_MARKER",))


def test_a_malicious_pickle_runs_nothing(tmp_path, capsys, good, monkeypatch):
    exp, _, _ = good
    monkeypatch.chdir(tmp_path)
    path = pt_file(tmp_path, {"output.bias": Evil()}, toml_text(exp))
    code, _, err = run_in_process(capsys, "predict", path, *INPUT)
    assert_refused(code, err, "not an nnplay export")
    assert not (tmp_path / "EVIL_MARKER").exists()


# ---------------------------------------------------------------------------------------------
# .safetensors


def safetensors_file(folder, name, state, meta: str | None):
    from safetensors.torch import save

    path = folder / name
    path.write_bytes(save(state, metadata=None if meta is None else {METADATA_KEY: meta}))
    return path


def safetensors_cases(folder, exp, state):
    side = toml_text(exp)
    yield "no metadata", safetensors_file(folder, "nometa.safetensors", state, None), "metadata"
    yield (
        "f64",
        safetensors_file(
            folder, "f64.safetensors", {**state, "output.bias": state["output.bias"].double()}, side
        ),
        "float64",
    )
    yield (
        "wrong shape",
        safetensors_file(
            folder, "shape.safetensors", {**state, "output.bias": torch.zeros(3)}, side
        ),
        "(3,)",
    )
    yield (
        "huge experiment",
        safetensors_file(folder, "huge.safetensors", state, toml_text(exp, **HUGE)),
        "",
    )
    yield (
        "other task",
        safetensors_file(
            folder,
            "other.safetensors",
            state,
            toml_text(exp, **{"task.name": "quadratic", "goal.metric": "val_loss"}),
        ),
        "shape",
    )
    for name, text in HOSTILE_TOML.items():
        yield (
            f"metadata {name}",
            safetensors_file(folder, f"m{len(text)}.safetensors", state, text),
            "",
        )
    lying = folder / "lying.safetensors"
    lying.write_bytes(struct.pack("<Q", 2**40) + b"{}")
    yield "lying header length", lying, "header"


# ---------------------------------------------------------------------------------------------
# .npz


def npy_bytes(header: dict, data: bytes = b"") -> bytes:
    text = repr(header).encode("latin1")
    text += b" " * (63 - (len(text) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data


def npz_file(folder, name, members: dict[str, bytes]):
    path = folder / name
    with zipfile.ZipFile(path, "w") as z:  # stored, as np.savez
        for member, data in members.items():
            z.writestr(member + ".npy", data)
    return path


def npz_good_members(exp, state, experiment_json: str | None = None):
    members = {}
    for k, v in state.items():
        buffer = io.BytesIO()
        np.save(buffer, v.numpy())
        members[k] = buffer.getvalue()
    buffer = io.BytesIO()
    np.save(buffer, np.array(experiment_json or json.dumps(to_dict(exp))))
    members[NPZ_KEY] = buffer.getvalue()
    return members


def npz_cases(folder, exp, state):
    good = npz_good_members(exp, state)
    bomb = npy_bytes({"descr": "<f4", "fortran_order": False, "shape": (1, 2**30)}, b"\0" * 4096)
    yield (
        "(1, 2^30) bomb",
        npz_file(folder, "bomb.npz", {**good, "output.weight": bomb}),
        "shape (1, 1073741824)",
    )
    yield "unknown bomb", npz_file(folder, "bomb2.npz", {**good, "zzz": bomb}), "'zzz'"
    text_bomb = npy_bytes({"descr": f"<U{2**28}", "fortran_order": False, "shape": ()})
    yield (
        "huge experiment string",
        npz_file(folder, "tb.npz", {**good, NPZ_KEY: text_bomb}),
        "not a text",
    )
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    yield (
        "pickled experiment",
        npz_file(folder, "obj.npz", {**good, NPZ_KEY: buffer.getvalue()}),
        "not a text",
    )
    truncated = {**good, "output.bias": good["output.bias"][:-2]}
    yield "truncated array", npz_file(folder, "trunc.npz", truncated), "not an nnplay export"
    yield (
        "many members",
        npz_file(
            folder, "many.npz", {**good, **{f"m{i}": good["output.bias"] for i in range(300)}}
        ),
        "",
    )
    yield (
        "huge experiment",
        npz_file(
            folder,
            "huge.npz",
            npz_good_members(exp, state, json.dumps(to_dict(with_overrides(exp, HUGE)))),
        ),
        "",
    )
    for name, text in {
        "deep json": "[" * 5000 + "]" * 5000,
        "5000-digit int": '{"task": {"samples": ' + "9" * 5000 + "}}",
        "400-digit int": '{"training": {"lr": ' + "9" * 400 + "}}",
    }.items():
        yield name, npz_file(folder, f"j{len(text)}.npz", npz_good_members(exp, state, text)), ""


# ---------------------------------------------------------------------------------------------
# .onnx


def onnx_cases(folder, exp, good_onnx):
    import onnx
    from onnx import TensorProto, helper

    meta = toml_text(exp)

    def save(proto, name):
        path = folder / name
        path.write_bytes(proto.SerializeToString())
        return path

    def with_meta(proto, text):
        del proto.metadata_props[:]
        entry = proto.metadata_props.add()
        entry.key, entry.value = METADATA_KEY, text
        return proto

    # a memory bomb with valid metadata: ConstantOfShape [2^31, 1] -> ReduceSum
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [2**31, 1])
    nodes = [
        helper.make_node("Constant", [], ["s"], value=shape),
        helper.make_node("ConstantOfShape", ["s"], ["big"]),
        helper.make_node("ReduceSum", ["big"], ["total"], keepdims=1),
        helper.make_node("Add", ["input", "total"], ["sum"]),
        helper.make_node("ReduceSum", ["sum"], ["output"], axes=None, keepdims=1),
    ]
    graph = helper.make_graph(
        nodes,
        "bomb",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 5])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 1])],
    )
    yield (
        "ConstantOfShape bomb",
        save(with_meta(helper.make_model(graph), meta), "bomb.onnx"),
        "not an nnplay export",
    )

    renamed = onnx.load_from_string(good_onnx)
    renamed.graph.input[0].name = "x"
    for node in renamed.graph.node:
        node.input[:] = ["x" if i == "input" else i for i in node.input]
    yield "renamed input", save(renamed, "renamed.onnx"), "inputs or outputs"

    text_out = onnx.load_from_string(good_onnx)
    text_out.graph.output[0].type.tensor_type.elem_type = TensorProto.STRING
    yield "string output", save(text_out, "string.onnx"), "output"

    three = with_overrides(
        exp, {"task.name": "feature_sum", "task.dim": 5, "training.loss": "cross_entropy"}
    )
    model = Trainer(with_overrides(three, {"task.samples": 20, "task.val_samples": 5})).model
    export(model, three, folder / "three.onnx")
    yield (
        "10 outputs under binary metadata",
        save(with_meta(onnx.load(str(folder / "three.onnx")), meta), "three-binary.onnx"),
        "output",
    )

    other = with_meta(
        onnx.load_from_string(good_onnx),
        toml_text(exp, **{"task.name": "quadratic", "goal.metric": "val_loss"}),
    )
    yield "another task's metadata", save(other, "other.onnx"), "input"

    external = onnx.load_from_string(good_onnx)
    init = external.graph.initializer[0]
    init.data_location = TensorProto.EXTERNAL
    entry = init.external_data.add()
    entry.key, entry.value = "location", "/etc/passwd"
    yield "external data", save(external, "external.onnx"), "another file"

    yield (
        "huge metadata",
        save(with_meta(onnx.load_from_string(good_onnx), toml_text(exp, **HUGE)), "huge.onnx"),
        "",
    )
    for name, text in HOSTILE_TOML.items():
        yield (
            f"metadata {name}",
            save(with_meta(onnx.load_from_string(good_onnx), text), f"m{len(text)}.onnx"),
            "",
        )


def all_cases(folder, good):
    exp, state, good_folder = good
    yield from (("pt", *c) for c in pt_cases(folder, exp, state))
    yield from (("safetensors", *c) for c in safetensors_cases(folder, exp, state))
    yield from (("npz", *c) for c in npz_cases(folder, exp, state))
    yield from (
        ("onnx", *c) for c in onnx_cases(folder, exp, (good_folder / "w.onnx").read_bytes())
    )


def test_every_hostile_weights_file_is_refused_in_one_line(tmp_path, capsys, good):
    cases = list(all_cases(tmp_path, good))
    assert len(cases) > 50
    print(f"{len(cases)} hostile weights files")
    for fmt, name, path, words in cases:
        code, out, err = run_in_process(capsys, "predict", path, *INPUT, "--json")
        assert_refused(code, err, words)
        assert out == "", (fmt, name)


def test_good_exports_still_predict(capsys, good):
    _, _, folder = good
    answers = []
    for suffix in (".pt", ".safetensors", ".onnx", ".npz"):
        code, out, err = run_in_process(capsys, "predict", folder / f"w{suffix}", *INPUT, "--json")
        assert code == 0 and err == "", err
        answers.append(assert_json(out)["predictions"][0]["probabilities"])
    assert np.allclose(answers, answers[0], atol=1e-5)


def test_an_older_pt_without_its_experiment_inside_reads_the_toml_beside_it(tmp_path, capsys, good):
    exp, state, _ = good
    path = pt_file(tmp_path, state, toml_text(exp))
    code, out, err = run_in_process(capsys, "predict", path, *INPUT, "--json")
    assert code == 0 and err == "", err


# the largest declared sizes, and the files torch itself would warn about on stderr
WORST = [
    "huge sidecar",
    "huge embedded",
    "(1, 2^30) bomb",
    "ConstantOfShape bomb",
    "huge experiment",
    "lying header length",
    "huge experiment string",
    "plain pickle",
    "complex",
]


def test_the_worst_files_are_refused_with_little_memory(tmp_path, good):
    """Peak memory of one process (Python, torch, numpy, onnx imported) refusing them all."""
    paths = {name: p for _, name, p, _ in all_cases(tmp_path, good) if name in WORST}
    assert set(paths) == set(WORST)
    result, codes, peak = measured(tmp_path, [["predict", p, *INPUT] for p in paths.values()])
    assert codes == [2] * len(WORST), result.stderr
    assert result.stderr.count("\n") == len(WORST) and "Traceback" not in result.stderr
    print(f"peak memory refusing the worst files: {peak / 2**20:.0f} MB")
    assert peak < 300 * 10**6  # issue 17's target for every refusal
