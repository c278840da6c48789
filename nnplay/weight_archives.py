"""The zip archives weights come in (.pt, .npz), checked from their central directory before
anything is decompressed, unpickled or allocated, and before torch is imported.

An archive may hold only what its experiment's network allows, whatever its members declare:
each member no larger than the network's largest tensor (plus its format's small header), all of
them together about the network's size, every byte of them inside the file. A deflated member
(torch.save and np.savez store theirs, other tools may deflate) is bounded the same way: its
uncompressed size comes from the directory, checked against the experiment and against its
compressed size (at most 16 times it), and a reader stops there.
"""

from __future__ import annotations

import os
import pickletools
import zipfile
import zlib
from pathlib import Path

import numpy as np

from nnplay.i18n import N_, _
from nnplay.model import state_shapes
from nnplay.untrusted import MAX_TEXT_BYTES, shown

# 32 hidden layers with batch norm have 226 tensors; torch.save adds 6 records, nnplay 1
MAX_MEMBERS = 256
NPY_HEADER_BYTES = 10_000  # np.lib.format's own bound on an .npy header
PICKLE_BYTES_PER_TENSOR = 512
READ_CHUNK = 2**20  # what is inflated at a time
# Trained or freshly initialized float32 weights deflate to about 90% of their bytes; only
# small members (biases, batch norm statistics, headers) may be constant and shrink more. So a
# file can declare at most about 16 times what it holds: a megabyte never unpacks to a gigabyte.
MAX_INFLATION = 16
INFLATION_SLACK = 2**16

# What the pickle of a state_dict of dense float32/int64 CPU tensors (torch.save, protocol 2)
# names. Anything else (other storages, sparse layouts, meta tensors, objects) is not an nnplay
# export, and is refused before torch is imported.
PT_GLOBALS = {
    "collections OrderedDict",
    "torch._utils _rebuild_tensor_v2",
    "torch FloatStorage",
    "torch LongStorage",
}
NAME_OPCODES = {"STACK_GLOBAL", "INST", "OBJ"}  # name code without a GLOBAL line to check
# The names torch.save writes for what nnplay refuses, in the words a learner reads.
PT_REFUSED = {
    "torch._utils _rebuild_sparse_tensor": N_("a sparse tensor"),
    "torch._utils _rebuild_meta_tensor_no_storage": N_("a tensor on the meta device"),
    "torch._utils _rebuild_device_tensor_from_numpy": N_("a tensor on another device"),
    "torch._utils _rebuild_wrapper_subclass": N_("a tensor on another device"),
    "torch._utils _rebuild_qtensor": N_("a quantized tensor"),
    "torch._utils _rebuild_parameter": N_("a Parameter (nnplay writes plain tensors)"),
}
STORAGE_DTYPES = {
    "DoubleStorage": "float64",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
}


class NotOurs(ValueError):
    """The archive is not one nnplay writes; the message says what is wrong, in words."""


def tensor_bytes(exp) -> dict[str, int]:
    """The exact bytes of each tensor the experiment's network has."""
    return {
        name: int(np.prod(shape, dtype=np.int64)) * (8 if name.endswith("_tracked") else 4)
        for name, shape in state_shapes(exp).items()
    }


def archive_members(z: zipfile.ZipFile, path: Path) -> dict[str, zipfile.ZipInfo]:
    """The archive's members, refused unless each is stored or deflated (what torch and numpy
    read) and lies, with all the others, within the file's own size."""
    infos = z.infolist()
    if len(infos) > MAX_MEMBERS:
        message = _("it has {count} members; nnplay writes at most {most}")
        raise NotOurs(message.format(count=len(infos), most=MAX_MEMBERS))
    size = os.path.getsize(path)
    total = 0
    for info in infos:
        name = repr(shown(info.filename, 60))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            message = _("its member {name} is compressed in a way torch and numpy do not read")
            raise NotOurs(message.format(name=name))
        total += info.compress_size
        stored = info.compress_type == zipfile.ZIP_STORED
        if not stored and info.file_size > MAX_INFLATION * info.compress_size + INFLATION_SLACK:
            message = _(
                "its member {name} would inflate {packed} bytes to {size}; weights do not "
                "compress that much"
            )
            raise NotOurs(message.format(name=name, packed=info.compress_size, size=info.file_size))
        if (stored and info.file_size != info.compress_size) or (
            info.header_offset + info.compress_size > size
        ):
            message = _("its member {name} declares more bytes than the file holds")
            raise NotOurs(message.format(name=name))
    if total > size:
        message = _("its members declare {total} bytes; the file holds {size}")
        raise NotOurs(message.format(total=total, size=size))
    members = {info.filename: info for info in infos}
    if len(members) != len(infos):
        raise NotOurs(_("it has two members of the same name"))
    return members


def check_sizes(
    members: dict[str, zipfile.ZipInfo], exp, limits: dict[str, int], header_bytes: int
) -> None:
    """Each member within its limit (`limits` by name; the others hold a tensor each: at most
    the largest tensor's bytes and its `header_bytes`), all of those together at most twice
    the network's exact bytes and their headers (the memory `export._check_size` reserves;
    within it, a wrong shape or an extra tensor is named by the checks that follow)."""
    sizes = tensor_bytes(exp)
    largest, exact = max(sizes.values()), sum(sizes.values())
    weights = tensors = 0
    for name, info in members.items():
        if name not in limits:
            weights, tensors = weights + info.file_size, tensors + 1
        _check_member(name, info, limits.get(name, largest + header_bytes))
    if weights > 2 * exact + tensors * header_bytes:
        message = _("its weights have {size} bytes; its experiment's network has {exact}")
        raise NotOurs(message.format(size=weights, exact=exact))


def _check_member(name: str, info: zipfile.ZipInfo, most: int) -> None:
    if info.file_size > most:
        message = _("its member {name} has {size} bytes; its experiment allows at most {most}")
        raise NotOurs(message.format(name=repr(shown(name, 60)), size=info.file_size, most=most))


def check_streams(z: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> None:
    """Every deflated member inflates whole and to its checksum, a chunk at a time, before any
    tensor is allocated: a damaged stream at the end of a large archive is refused without
    first filling memory with the arrays before it."""
    for name, info in members.items():
        if info.compress_type != zipfile.ZIP_DEFLATED:
            continue
        try:
            with z.open(info) as stream:
                while stream.read(READ_CHUNK):
                    pass
        except (zipfile.BadZipFile, zlib.error, EOFError):
            message = _("its member {name} is damaged")
            raise NotOurs(message.format(name=repr(shown(name, 60)))) from None


def pickle_limit(exp) -> int:
    """The most a .pt's data.pkl may hold: a name and a small call per tensor."""
    return 4096 + PICKLE_BYTES_PER_TENSOR * len(state_shapes(exp))


def pt_limits(members: dict[str, zipfile.ZipInfo], exp, experiment_record: str) -> dict[str, int]:
    """The most each of a .pt archive's bookkeeping members may hold (the rest are tensors)."""
    folder = next(n for n in members if n.endswith("/data.pkl")).split("/")[0]
    limits = {
        f"{folder}/data.pkl": pickle_limit(exp),
        f"{folder}/{experiment_record}": MAX_TEXT_BYTES,
    }
    limits |= {n: 64 for n in members if not n.startswith(f"{folder}/data/") and n not in limits}
    return limits


def check_pt_pickle(z: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], exp) -> None:
    """The .pt's pickle (no larger than `exp`'s tensors need) names only what a table of dense
    float32/int64 tensors needs; its opcodes are decoded, never run."""
    pickles = [n for n in members if n.endswith("/data.pkl")]
    if len(pickles) != 1:
        raise NotOurs(_("it has no table of tensors (data.pkl)"))
    _check_member(pickles[0], members[pickles[0]], pickle_limit(exp))
    try:
        opcodes = [(op.name, arg) for op, arg, _pos in pickletools.genops(z.read(pickles[0]))]
    except (ValueError, EOFError):
        raise NotOurs(_("its table of tensors is damaged")) from None
    for opcode, arg in opcodes:
        if opcode in NAME_OPCODES or (opcode == "GLOBAL" and arg not in PT_GLOBALS):
            message = _("it holds {what}; nnplay reads dense float32 and int64 tensors on the CPU")
            raise NotOurs(message.format(what=_refused_words(opcode, str(arg))))


def _refused_words(opcode: str, name: str) -> str:
    """What a pickle's name stands for, in words where nnplay knows it."""
    if name in PT_REFUSED:
        return _(PT_REFUSED[name])
    module, _space, attribute = name.partition(" ")
    if module == "torch" and attribute in STORAGE_DTYPES:
        return _("a {dtype} tensor").format(dtype=STORAGE_DTYPES[attribute])
    what = f"{module}.{attribute}" if opcode == "GLOBAL" else opcode
    return repr(shown(what, 60))
