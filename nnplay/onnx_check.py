"""Walk an ONNX file's protobuf wire format, bounded, allowing only the fields nnplay writes.

onnx.load and onnxruntime follow whatever a file asks for: external data (any file's bytes read
as weights), sparse initializers, functions, subgraphs. So the raw bytes are walked here first,
before either sees them, against a schema of exactly what nnplay's exporter writes: any other
field is refused by its number, before its contents are read. Each field's count is checked
before it is decoded, each length before it is read, nesting is bounded by the schema (which has
no cycles), and weights (raw_data) come back as (offset, length), never copied.

A decoded message is a dict: field name -> list of values (int, float, str, (offset, length)
or a decoded message).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from nnplay.i18n import N_, _
from nnplay.untrusted import MAX_TEXT_BYTES

INT, FLOAT, TEXT, BYTES, INTS = "int", "float", "text", "bytes", "ints"
MAX_NODES = 512  # 32 layers make at most ~260 (a Gemm, a norm, an activation, Identity aliases)
MAX_TENSORS = 256  # 32 layers with batch norm hold 162 weight tensors
MAX_NAME = 256  # bytes of a name nnplay writes ("/hidden12/Gemm_output_0")

Decoded = dict[str, list[Any]]


class OnnxRefused(Exception):
    """What is wrong, in words (shown after "not an nnplay export")."""


@dataclass(frozen=True)
class Field:
    name: str
    kind: Any  # INT, FLOAT, TEXT, BYTES, INTS (packed or not) or a Message
    most: int = 1  # occurrences allowed
    longest: int = MAX_NAME  # bytes of a TEXT


@dataclass(frozen=True)
class Message:
    name: str  # the ONNX message's name, shown in refusals
    fields: dict[int, Field]
    named: dict[int, str] = field(default_factory=dict)  # refused features, in words


def _fields(*items: tuple[int, Field]) -> dict[int, Field]:
    return dict(items)


# Refused features that the probe used or that could read another file, named in words.
EXTERNAL = N_("weights kept in another file (external data)")
SUBGRAPHS = N_("subgraphs")
OPERATOR_TENSORS = N_("tensors inside an operator")

DIMENSION = Message(
    "Dimension", _fields((1, Field("dim_value", INT)), (2, Field("dim_param", TEXT)))
)
SHAPE = Message("TensorShapeProto", _fields((1, Field("dim", DIMENSION, most=2))))
TENSOR_TYPE = Message(
    "TypeProto.Tensor", _fields((1, Field("elem_type", INT)), (2, Field("shape", SHAPE)))
)
TYPE = Message(
    "TypeProto",
    _fields((1, Field("tensor_type", TENSOR_TYPE))),
    {4: N_("sequences"), 5: N_("maps")},
)
VALUE_INFO = Message("ValueInfoProto", _fields((1, Field("name", TEXT)), (2, Field("type", TYPE))))
TENSOR = Message(
    "TensorProto",
    _fields(
        (1, Field("dims", INTS, most=2)),
        (2, Field("data_type", INT)),
        (8, Field("name", TEXT)),
        (9, Field("raw_data", BYTES)),
    ),
    {13: EXTERNAL, 14: EXTERNAL, 3: N_("tensor segments")},
)
ATTRIBUTE = Message(
    "AttributeProto",
    _fields(
        (1, Field("name", TEXT)),
        (2, Field("f", FLOAT)),
        (3, Field("i", INT)),
        (4, Field("s", TEXT, longest=64)),
        (20, Field("type", INT)),
    ),
    {
        5: OPERATOR_TENSORS,
        6: SUBGRAPHS,
        11: SUBGRAPHS,
        12: OPERATOR_TENSORS,
        22: OPERATOR_TENSORS,
        23: OPERATOR_TENSORS,
    },
)
NODE = Message(
    "NodeProto",
    _fields(
        (1, Field("input", TEXT, most=5)),
        (2, Field("output", TEXT)),
        (3, Field("name", TEXT)),
        (4, Field("op_type", TEXT, longest=64)),
        (5, Field("attribute", ATTRIBUTE, most=3)),
    ),
    {7: N_("operators of another domain")},
)
GRAPH = Message(
    "GraphProto",
    _fields(
        (1, Field("node", NODE, most=MAX_NODES)),
        (2, Field("name", TEXT)),
        (5, Field("initializer", TENSOR, most=MAX_TENSORS)),
        (11, Field("input", VALUE_INFO)),
        (12, Field("output", VALUE_INFO)),
    ),
    {15: N_("sparse initializers")},
)
OPSET = Message(
    "OperatorSetIdProto", _fields((1, Field("domain", TEXT)), (2, Field("version", INT)))
)
ENTRY = Message(
    "StringStringEntryProto",
    _fields((1, Field("key", TEXT)), (2, Field("value", TEXT, longest=4 * MAX_TEXT_BYTES))),
)
MODEL = Message(
    "ModelProto",
    _fields(
        (1, Field("ir_version", INT)),
        (2, Field("producer_name", TEXT)),
        (3, Field("producer_version", TEXT)),
        (7, Field("graph", GRAPH)),
        (8, Field("opset_import", OPSET)),
        (14, Field("metadata_props", ENTRY)),
    ),
    {25: N_("functions"), 20: N_("training information")},
)


def _damaged() -> OnnxRefused:
    return OnnxRefused(_("it is cut short or damaged"))


def _varint(data, pos: int, end: int) -> tuple[int, int]:
    """(value, position after it): at most 10 bytes, a value below 2**64."""
    value = shift = 0
    for i in range(pos, min(pos + 10, end)):
        byte = data[i]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            if value >= 2**64:
                break
            return value, i + 1
        shift += 7
    raise _damaged()


def _signed(value: int) -> int:
    return value - 2**64 if value >= 2**63 else value


def _text(data, pos: int, length: int, rule: Field, message: Message) -> str:
    if length > rule.longest:
        raise OnnxRefused(
            _("its {field} in an ONNX {message} is longer than {most} bytes").format(
                field=rule.name, message=message.name, most=rule.longest
            )
        )
    try:
        return bytes(data[pos : pos + length]).decode("utf-8")
    except UnicodeDecodeError:
        raise OnnxRefused(
            _("its {field} in an ONNX {message} is not UTF-8 text").format(
                field=rule.name, message=message.name
            )
        ) from None


def _too_many(rule: Field, message: Message) -> OnnxRefused:
    return OnnxRefused(
        _("an ONNX {message} in it has more than {most} {field} entries").format(
            message=message.name, most=rule.most, field=rule.name
        )
    )


def _refused_field(message: Message, number: int) -> OnnxRefused:
    feature = message.named.get(number)
    if feature is None:
        feature = _("field {number} of an ONNX {message}").format(
            number=number, message=message.name
        )
    else:
        feature = _(feature)
    return OnnxRefused(_("it holds {feature}, which nnplay does not write").format(feature=feature))


def _walk(data, start: int, end: int, message: Message, descend: bool = True) -> Decoded:
    """The fields of `message` in data[start:end]. With descend=False, sub-messages are left as
    (offset, length): a first look at the top level reads nothing inside the graph."""
    out: Decoded = {}
    pos = start
    while pos < end:
        tag, pos = _varint(data, pos, end)
        number, wire = tag >> 3, tag & 7
        rule = message.fields.get(number)
        if rule is None:
            raise _refused_field(message, number)
        values = out.setdefault(rule.name, [])
        if len(values) >= rule.most:
            raise _too_many(rule, message)
        if wire == 0 and rule.kind in (INT, INTS):
            value, pos = _varint(data, pos, end)
            values.append(_signed(value))
        elif wire == 5 and rule.kind == FLOAT:
            if pos + 4 > end:
                raise _damaged()
            values.append(struct.unpack_from("<f", data, pos)[0])
            pos += 4
        elif wire == 2 and rule.kind not in (INT, FLOAT):
            length, pos = _varint(data, pos, end)
            if length > end - pos:
                raise _damaged()
            stop = pos + length
            if rule.kind == TEXT:
                values.append(_text(data, pos, length, rule, message))
            elif rule.kind == INTS:  # packed: each value takes a byte at least
                if length > 10 * (rule.most - len(values)):
                    raise _too_many(rule, message)
                while pos < stop:
                    if len(values) >= rule.most:
                        raise _too_many(rule, message)
                    value, pos = _varint(data, pos, stop)
                    values.append(_signed(value))
            elif rule.kind == BYTES or not descend:
                values.append((pos, length))
            else:
                values.append(_walk(data, pos, stop, rule.kind))
            pos = stop
        else:  # a wire type this field is never written with
            raise _damaged()
    return out


def read_metadata(data) -> dict[str, str]:
    """The model's metadata, from a first look at its top level (the graph is not read)."""
    top = _walk(data, 0, len(data), MODEL, descend=False)
    metadata = {}
    for pos, length in top.get("metadata_props", []):
        entry = _walk(data, pos, pos + length, ENTRY)
        metadata[one(entry, "key", "")] = one(entry, "value", "")
    return metadata


def read_model(data) -> Decoded:
    """The whole model, every field checked."""
    return _walk(data, 0, len(data), MODEL)


def one(decoded: Decoded, name: str, default: Any = None) -> Any:
    """A field written at most once, or `default`."""
    values = decoded.get(name, [])
    return values[0] if values else default
