"""Hostile .onnx files built from a good nnplay export, shared by tests/test_hostile_onnx.py and
benchmarks/bench_hostile_onnx.py. The large ones are written at the wire level (an onnx proto
with millions of entries takes minutes to build)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from nnplay.experiment import dumps, with_overrides

SECRET = b"KEY=hunt"  # as float32: 0.0530446 and 7.557e31, what the probe got back
# a declared network of 32 x 4096 units: its size cap lets a 64 MB file through to the walk
HUGE = {
    "model.hidden": [4096] * 32,
    "task.name": "feature_sum",
    "task.dim": 5,
    "training.loss": "cross_entropy",
}


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def length_field(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def with_graph_tail(good: bytes, tail: bytes, metadata: str | None = None) -> bytes:
    """The good model with `tail` appended inside its graph (and other metadata)."""
    import onnx

    proto = onnx.load_from_string(good)
    graph = proto.graph.SerializeToString() + tail
    proto.ClearField("graph")
    if metadata is not None:
        proto.metadata_props[0].value = metadata
    return proto.SerializeToString() + length_field(7, graph)


def huge_metadata(exp) -> str:
    return dumps(with_overrides(exp, HUGE))


def empty_initializers(good: bytes, count: int, exp) -> bytes:
    """`count` empty initializers (2 bytes each) under a declared network large enough to
    allow the file's size."""
    return with_graph_tail(good, length_field(5, b"") * count, huge_metadata(exp))


def packed_dims(good: bytes, megabytes: int, exp) -> bytes:
    """An initializer whose dims are `megabytes` MB of packed int64 (each 1)."""
    tensor = length_field(1, b"\x01" * (megabytes * 2**20)) + length_field(8, b"output.bias")
    return with_graph_tail(good, length_field(5, tensor), huge_metadata(exp))


def sparse_initializer(good: bytes, dims: list[int], location: str | None = None) -> bytes:
    """A sparse initializer of dense shape `dims`, its values in another file if `location`."""
    import onnx
    from onnx import TensorProto, helper

    proto = onnx.load_from_string(good)
    values = TensorProto(name="output.weight", data_type=TensorProto.FLOAT, dims=[2])
    if location is None:
        values.float_data.extend([0.0, 0.0])
    else:
        values.data_location = TensorProto.EXTERNAL
        for key, value in (("location", location), ("offset", "0"), ("length", "8")):
            entry = values.external_data.add()
            entry.key, entry.value = key, value
    indices = helper.make_tensor("indices", TensorProto.INT64, [2], [0, 1])
    sparse = helper.make_sparse_tensor(values, indices, dims)
    if location is not None:  # the attack: the real weights make way for the secret's bytes
        weight = next(i for i in proto.graph.initializer if i.name == "output.weight")
        proto.graph.initializer.remove(weight)
    proto.graph.sparse_initializer.append(sparse)
    return proto.SerializeToString()


def shared_attack(folder: Path, good: bytes) -> Path:
    """The probe's attack: a secret in the folder, an .onnx whose weights are its bytes."""
    (folder / ".ssh").mkdir(exist_ok=True)
    (folder / ".ssh" / "secret").write_bytes(SECRET)
    path = folder / "shared.onnx"
    path.write_bytes(sparse_initializer(good, [1, 5], ".ssh/secret"))
    return path


# Peak memory is the child's VmHWM: ru_maxrss survives fork and exec, so a child of a large
# process (pytest with torch) would report its parent's peak.
RUNNER = """
import json, sys, time
from nnplay.cli import main
times = []
for argv in json.loads(sys.argv[2]):
    started = time.perf_counter()
    code = main(argv)
    times.append([code, time.perf_counter() - started])
with open("/proc/self/status") as f:
    peak = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
with open(sys.argv[1], "w") as f:
    json.dump([times, peak], f)
"""


def refusals(folder: Path, runs: list[list]) -> tuple[str, list[tuple[int, float]], int]:
    """CLI runs in one fresh process: (its stderr, (exit code, seconds) of each run, peak
    resident memory in bytes). The seconds leave out starting the interpreter."""
    out = folder / "refusals.json"
    argv = json.dumps([[str(a) for a in run] for run in runs])
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, str(out), argv], capture_output=True, text=True, timeout=300
    )
    times, peak = json.loads(out.read_text())
    return result.stderr, [tuple(t) for t in times], peak
