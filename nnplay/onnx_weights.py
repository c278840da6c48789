"""nnplay's .onnx files: the network for onnxruntime, with its Experiment (TOML) in metadata_props.

Reading one back, the file is untrusted: its wire format is walked first (nnplay/onnx_check.py),
its experiment is read from its metadata without onnx or onnxruntime, the file's size is capped
by that experiment's exact tensor bytes, and then the graph must be exactly the network the
experiment describes (operators, their settings, the weights' names, shapes and bytes). Only
then, and only to predict, does onnxruntime see the bytes that were checked.
"""

from __future__ import annotations

import io
import mmap
import os
import warnings
from pathlib import Path

import numpy as np

from nnplay.errors import ExperimentError
from nnplay.experiment import Experiment, dumps, loads
from nnplay.i18n import _
from nnplay.memory import check_fits, model_bytes
from nnplay.model import Predictor, output_head, state_shapes
from nnplay.onnx_check import Decoded, OnnxRefused, one, read_metadata, read_model
from nnplay.tasks import task_shape
from nnplay.untrusted import shown

METADATA_KEY = "nnplay.experiment"
IR_VERSIONS = range(7, 12)  # torch writes 9; onnxruntime runs these
OPSETS = range(20, 25)  # torch writes 20 (Gelu needs 20)
FLOAT32 = 1  # TensorProto.FLOAT
# names, nodes and types around the weights: a 32-layer network's graph has about 40 kB
GRAPH_BYTES = 256 * 1024

# The operator each activation exports as, and the settings torch writes for each operator.
ACTIVATION_OPERATORS = {
    "relu": "Relu",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "gelu": "Gelu",
    "leaky_relu": "LeakyRelu",
    "log_softmax": "LogSoftmax",
}
SETTINGS: dict[str, dict[str, object]] = {
    "Gemm": {"alpha": 1.0, "beta": 1.0, "transB": 1},
    "BatchNormalization": {
        "epsilon": float(np.float32(1e-5)),
        "momentum": float(np.float32(0.9)),
        "training_mode": 0,
    },
    "Gelu": {"approximate": "none"},
    "LeakyRelu": {"alpha": float(np.float32(0.01))},
    "LogSoftmax": {"axis": 1},
}


def onnx_bytes(model, exp: Experiment) -> bytes:
    import onnx
    import torch

    was_training = model.training
    model.eval()
    example = torch.zeros(2, task_shape(exp.task).inputs)
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            # The TorchScript exporter (deprecated, hence the warning): the dynamo one cannot
            # trace these Sequentials on torch 2.13.
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                model,
                (example,),
                buffer,  # type: ignore[arg-type]  # a file works
                dynamo=False,
                input_names=["input"],
                output_names=["output"],
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
            )
    finally:
        model.train(was_training)
    proto = onnx.load_from_string(buffer.getvalue())
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, dumps(exp)
    return proto.SerializeToString()


def weight_shapes(exp: Experiment) -> dict[str, tuple[int, ...]]:
    """The float tensors an export's graph holds (BatchNorm's step counter is not exported)."""
    return {k: v for k, v in state_shapes(exp).items() if not k.endswith("num_batches_tracked")}


def size_cap(exp: Experiment, metadata: str) -> int:
    """The most bytes an export of `exp` can take: its exact weights, its metadata, the graph."""
    weights = sum(4 * int(np.prod(s, dtype=np.int64)) for s in weight_shapes(exp).values())
    return weights + len(metadata.encode()) + GRAPH_BYTES


def read_onnx(path: Path, keep: bool = False) -> tuple[Experiment, bytes | None]:
    """The experiment of an nnplay .onnx file, the whole file checked; with keep, the checked
    bytes too (for onnxruntime). Raises OnnxRefused (the reason) or ExperimentError."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                raise OnnxRefused(_("the file is empty"))
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                return _read_mapped(path, mapped, keep)
    except OSError as e:
        message = _("{path}: cannot read ({reason})")
        reason = e.strerror or e.__class__.__name__
        raise ExperimentError(message.format(path=shown(path, 300), reason=reason)) from None


def _read_mapped(path: Path, mapped: mmap.mmap, keep: bool) -> tuple[Experiment, bytes | None]:
    text = read_metadata(mapped).get(METADATA_KEY)
    if text is None:
        raise OnnxRefused(_("no experiment in its metadata"))
    exp = loads(text, source=str(path))
    if len(mapped) > size_cap(exp, text):
        message = _("{size} bytes is far more than its experiment's network needs")
        raise OnnxRefused(message.format(size=len(mapped)))
    check_fits(2 * model_bytes(exp), _("{path}: its network").format(path=shown(path, 300)))
    model = read_model(mapped)  # a hostile file is refused before anything is copied
    data = None
    if keep:
        data = mapped[:]  # onnxruntime gets exactly the bytes checked here
        model = read_model(data)
    if [one(e, "value") for e in model["metadata_props"]] != [text]:
        raise OnnxRefused(_("it changed while nnplay read it"))
    check_graph(model, exp)
    return exp, data


def check_graph(model: Decoded, exp: Experiment) -> None:
    """The graph must be exactly the network `exp` describes, as torch exports it."""
    if one(model, "ir_version") not in IR_VERSIONS:
        raise _not_written("IR version", one(model, "ir_version"), IR_VERSIONS)
    opsets = model.get("opset_import", [])
    version = one(opsets[0], "version") if opsets else None
    if not opsets or one(opsets[0], "domain", "") != "" or version not in OPSETS:
        raise _not_written("opset", version, OPSETS)
    graph = one(model, "graph", {})
    inputs, units = task_shape(exp.task).inputs, output_head(exp).units
    if [one(v, "name") for v in graph.get("input", [])] != ["input"] or [
        one(v, "name") for v in graph.get("output", [])
    ] != ["output"]:
        raise OnnxRefused(_("its graph's inputs or outputs are not nnplay's"))
    if not _is_batch_of(graph["input"][0], inputs):
        message = _("its input is not {count} float numbers per sample")
        raise OnnxRefused(message.format(count=inputs))
    if not _is_batch_of(graph["output"][0], units):
        message = _("its output is not {count} float numbers per sample")
        raise OnnxRefused(message.format(count=units))
    expected = weight_shapes(exp)
    stored = _check_initializers(graph.get("initializer", []), expected)
    _check_nodes(graph.get("node", []), exp, expected, stored)


def _not_written(what: str, value, allowed: range) -> OnnxRefused:
    message = _("its {what} {value} is not one nnplay writes ({least} to {most})")
    return OnnxRefused(message.format(what=what, value=value, least=allowed[0], most=allowed[-1]))


def _is_batch_of(value: Decoded, count: int) -> bool:
    """A float tensor of shape (batch, count), the batch left open."""
    tensor = one(one(value, "type", {}), "tensor_type", {})
    dims = one(tensor, "shape", {}).get("dim", [])
    return (
        one(tensor, "elem_type") == FLOAT32
        and len(dims) == 2
        and "dim_value" not in dims[0]
        and dims[1] == {"dim_value": [count]}
    )


def _check_initializers(tensors: list[Decoded], expected: dict[str, tuple]) -> set[str]:
    """Each weight tensor is one of the network's, float32, of its shape and exact bytes."""
    stored: set[str] = set()
    for tensor in tensors:
        name = one(tensor, "name", "")
        if name not in expected:
            message = _("it holds a tensor {name} that its experiment's network does not have")
            raise OnnxRefused(message.format(name=repr(shown(name, 40))))
        if name in stored:
            raise OnnxRefused(_("it holds the tensor {name} twice").format(name=name))
        stored.add(name)
        shape = tuple(tensor.get("dims", []))
        if shape != expected[name]:
            message = _("{name} has shape {shape}; its experiment needs {expected}")
            raise OnnxRefused(message.format(name=name, shape=shape, expected=expected[name]))
        if one(tensor, "data_type") != FLOAT32:
            message = _("{name} is {dtype}; nnplay writes {expected}")
            dtype = _("ONNX type {number}").format(number=one(tensor, "data_type"))
            raise OnnxRefused(message.format(name=name, dtype=dtype, expected="float32"))
        size = one(tensor, "raw_data", (0, 0))[1]
        needed = 4 * int(np.prod(shape, dtype=np.int64))
        if size != needed:
            message = _("{name} holds {size} bytes; its shape needs {expected}")
            raise OnnxRefused(message.format(name=name, size=size, expected=needed))
    return stored


def _layer_operators(exp: Experiment) -> list[tuple[str, list[str]]]:
    """The operators torch exports for `exp`'s network, in order, each with its weights."""
    operators = []
    for i, layer in enumerate(exp.model.hidden, start=1):
        operators.append(("Gemm", [f"hidden{i}.weight", f"hidden{i}.bias"]))
        if layer.batch_norm:
            parts = ("weight", "bias", "running_mean", "running_var")
            operators.append(("BatchNormalization", [f"bn{i}.{p}" for p in parts]))
        if layer.activation != "linear":
            operators.append((ACTIVATION_OPERATORS[layer.activation], []))
    operators.append(("Gemm", ["output.weight", "output.bias"]))
    head = output_head(exp).activation
    if head:
        operators.append((ACTIVATION_OPERATORS[head], []))
    return operators


def _check_nodes(nodes: list[Decoded], exp, expected: dict[str, tuple], stored: set[str]) -> None:
    """Identity aliases first (torch shares equal weights: bn2.weight = bn1.weight), then the
    layers' operators, each reading the one before it, from `input` to `output`."""
    defined = set(stored)
    aliases = 0
    while aliases < len(nodes) and one(nodes[aliases], "op_type") == "Identity":
        node = nodes[aliases]
        source, target = node.get("input", []), one(node, "output")
        if len(source) != 1 or source[0] not in stored or target not in expected:
            raise OnnxRefused(_("its graph is not the network its experiment describes"))
        if target in defined or expected[source[0]] != expected[target]:
            raise OnnxRefused(_("its graph is not the network its experiment describes"))
        _check_settings(node)
        defined.add(target)
        aliases += 1
    for name in expected:
        if name not in defined:
            raise OnnxRefused(_("{name} is missing").format(name=name))
    operators = _layer_operators(exp)
    layers = nodes[aliases:]
    seen = {"input", *defined}
    previous = "input"
    for index, node in enumerate(layers):
        found = one(node, "op_type", "")
        if index >= len(operators) or found != operators[index][0]:
            wanted = operators[index][0] if index < len(operators) else _("nothing")
            message = _("its operator {index} is {found}; its experiment's network needs {wanted}")
            raise OnnxRefused(
                message.format(index=index + 1, found=repr(shown(found, 30)), wanted=wanted)
            )
        output = one(node, "output")
        if node.get("input") != [previous, *operators[index][1]] or output in seen:
            raise OnnxRefused(_("its graph is not the network its experiment describes"))
        _check_settings(node)
        seen.add(output)
        previous = output
    if len(layers) != len(operators) or previous != "output":
        raise OnnxRefused(_("its graph is not the network its experiment describes"))


def _check_settings(node: Decoded) -> None:
    """An operator's settings are exactly the ones torch writes for it."""
    operator = one(node, "op_type")
    found = {}
    for attribute in node.get("attribute", []):
        values = [attribute[k][0] for k in ("f", "i", "s") if k in attribute]
        found[one(attribute, "name")] = values[0] if len(values) == 1 else None
    if found != SETTINGS.get(operator, {}):
        message = _("its {operator} operator has settings nnplay does not write")
        raise OnnxRefused(message.format(operator=shown(operator, 30)))


def onnx_predictor(path: Path) -> tuple[Predictor, dict[str, np.ndarray]]:
    """A predictor for a checked .onnx file, and its weights (to check their values)."""
    exp, data = read_onnx(path, keep=True)
    assert data is not None  # keep=True returns the checked bytes
    import onnxruntime

    # onnxruntime's own log lines (coloured, before nnplay's) never reach the terminal: what
    # went wrong is nnplay's one line
    onnxruntime.set_default_logger_severity(4)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4
    try:
        session = onnxruntime.InferenceSession(data, options)
    except Exception:  # every graph was checked above; this is onnxruntime's own refusal
        raise OnnxRefused(_("onnxruntime cannot run its graph")) from None
    # the checked graph answers (batch, units) floats: its shapes are the experiment's
    predictor = Predictor(exp, lambda x: session.run(["output"], {"input": x})[0])
    return predictor, _weights(data)


def _weights(data: bytes) -> dict[str, np.ndarray]:
    """The checked file's weight tensors, as float32 views of its bytes (nothing copied)."""
    graph = one(read_model(data), "graph", {})
    weights = {}
    for tensor in graph.get("initializer", []):
        offset, size = one(tensor, "raw_data")
        weights[one(tensor, "name")] = np.frombuffer(data, np.float32, size // 4, offset)
    return weights
